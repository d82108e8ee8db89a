"""The admission webhooks of a real `berth-hub serve` over https, as the API server calls them.

Kubernetes calls webhooks over TLS only, checking the certificate against the webhook's
`caBundle`: here the hub serves a development certificate and the client trusts only its CA.
Pods name the hub by its listen address, the default of `[admission] registry_hosts`.
"""

from __future__ import annotations

import json
import ssl

import aiohttp

from registry.oci import mediatypes as mt
from tests.api.kube import KINDS, apply_patch, images_at, patch_of, pod_spec, review
from tests.support.signatures import Artifact, cosign_signature, digest_of, new_key, public_pem

DEPLOYMENT = KINDS["Deployment"]


async def push(session, url: str, name: str, artifact: Artifact, reference: str) -> None:
    for digest, blob in artifact.blobs.items():
        async with session.post(f"{url}/v2/{name}/blobs/uploads/?digest={digest}",
                                data=blob) as resp:
            assert resp.status == 201, await resp.text()
    async with session.put(f"{url}/v2/{name}/manifests/{reference}", data=artifact.manifest,
                           headers={"Content-Type": mt.OCI_MANIFEST}) as resp:
        assert resp.status == 201, await resp.text()


def image(seed: str) -> Artifact:
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    layer = f"layer-{seed}".encode() * 64
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": digest_of(config), "size": len(config)},
        "layers": [{"mediaType": mt.OCI_LAYER_GZIP, "digest": digest_of(layer),
                    "size": len(layer)}],
    }).encode()
    return Artifact(manifest, {digest_of(config): config, digest_of(layer): layer})


async def test_a_hub_over_https_answers_admission_reviews(hub_factory, tls_files):
    hub = hub_factory.start(tls=tls_files, env={"BERTH_ADMISSION_ENABLED": "true"})
    context = ssl.create_default_context(cafile=str(tls_files.ca_cert))
    key = new_key()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        signed, unsigned = image("signed"), image("unsigned")
        await push(session, hub.url, "team/app", signed, "v1")
        await push(session, hub.url, "team/app", unsigned, "v2")
        signature = cosign_signature(key, signed.digest, f"{hub.host}/team/app")
        await push(session, hub.url, "team/app", signature,
                   signed.digest.replace(":", "-") + ".sig")
        policy = {"formats": ["cosign"], "cosign": {"keys": [public_pem(key).decode()]}}
        async with session.patch(f"{hub.url}/api/v1/repositories/team/app",
                                 json={"signature_policy": policy, "trust_required": True}) as r:
            assert r.status == 200, await r.text()

        async def answer(webhook: str, body: dict) -> dict:
            async with session.post(f"{hub.url}/admission/{webhook}", json=body) as resp:
                assert resp.status == 200, await resp.text()
                answered = await resp.json()
            assert answered["response"]["uid"] == body["request"]["uid"]
            return answered["response"]

        port = hub.host.split(":")[1]
        spec = pod_spec([("app", f"{hub.host}/team/app:v1")],
                        init=[("setup", f"localhost:{port}/team/app:v1")])
        body = review(DEPLOYMENT, DEPLOYMENT.object(spec))
        response = await answer("mutate", body)
        assert response["allowed"] is True
        patched = apply_patch(body["request"]["object"], patch_of(response))
        assert images_at(patched, DEPLOYMENT.spec_path) == {
            "app": f"{hub.host}/team/app@{signed.digest}",
            "setup": f"localhost:{port}/team/app@{signed.digest}",
        }
        spec = pod_spec([("app", f"{hub.host}/team/app:v2")])
        response = await answer("validate", review(DEPLOYMENT, DEPLOYMENT.object(spec)))
        assert response["allowed"] is False and response["status"]["code"] == 403
        assert "cosign: no signature found" in response["status"]["message"]
