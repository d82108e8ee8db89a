"""The pull gate under a signature policy: cosign, Sigstore bundles and Notation signatures.

Signature artifacts are pushed to the hub over the registry API exactly as cosign and Notation
lay them out (made by tests.support.signatures); the policy is set through the JSON API.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from registry.oci import mediatypes as mt
from tests.api.conftest import error_code, push_blob, push_image, sha256
from tests.support.signatures import (
    Artifact,
    Pki,
    bundle_referrer,
    cosign_signature,
    dsse_bundle,
    new_key,
    notation_jws,
    notation_referrer,
    public_pem,
    trust_policy,
)

ACCEPT = {"Accept": f"{mt.OCI_MANIFEST},{mt.OCI_INDEX}"}


async def push_artifact(client, name: str, artifact: Artifact, tag: str | None = None) -> str:
    for blob in artifact.blobs.values():
        await push_blob(client, name, blob)
    resp = await client.put(
        f"/v2/{name}/manifests/{tag or artifact.digest}",
        data=artifact.manifest,
        headers={"Content-Type": artifact.media_type},
    )
    assert resp.status == 201, await resp.text()
    return artifact.digest


async def sign_cosign(client, name: str, key, digest: str) -> None:
    tag = digest.replace(":", "-") + ".sig"
    await push_artifact(client, name, cosign_signature(key, digest, f"hub.example/{name}"), tag)


async def set_policy(client, name: str, policy, require: bool = True) -> dict:
    body = {"signature_policy": policy, "trust_required": require}
    resp = await client.patch(f"/api/v1/repositories/{name}", json=body)
    assert resp.status == 200, await resp.text()
    return await resp.json()


def cosign_policy(*keys, **extra) -> dict:
    return {
        "formats": ["cosign"],
        "cosign": {"keys": [public_pem(k).decode() for k in keys]},
        **extra,
    }


async def status(client, name: str, reference: str, method: str = "GET") -> int:
    resp = await client.request(method, f"/v2/{name}/manifests/{reference}", headers=ACCEPT)
    return resp.status


async def refusal(client, name: str, reference: str) -> str:
    for method in ("GET", "HEAD"):
        assert await status(client, name, reference, method) == 403, (method, reference)
    resp = await client.get(f"/v2/{name}/manifests/{reference}", headers=ACCEPT)
    body = await resp.json()
    assert body["errors"][0]["code"] == "DENIED"
    return body["errors"][0]["message"]


async def test_cosign_signed_tag_is_served_and_unsigned_or_wrongly_signed_refused(client):
    key, stranger = new_key(), new_key("ed25519")
    signed = await push_image(client, "team/app", "v1", seed="a")
    unsigned = await push_image(client, "team/app", "v2", seed="b")
    wrong = await push_image(client, "team/app", "v3", seed="c")
    await sign_cosign(client, "team/app", key, signed.digest)
    await sign_cosign(client, "team/app", stranger, wrong.digest)

    shown = await set_policy(client, "team/app", cosign_policy(key))
    assert shown["signature_policy_setting"] == "own" and len(shown["signature_policy"]) == 64

    for method in ("GET", "HEAD"):
        assert await status(client, "team/app", "v1", method) == 200
    assert await status(client, "team/app", signed.digest) == 200
    message = await refusal(client, "team/app", "v2")
    assert message.startswith("signature required: tag 'v2' of team/app"), message
    assert "cosign: no signature found" in message
    assert "not verified by any trusted key" in await refusal(client, "team/app", "v3")
    assert unsigned.digest in await refusal(client, "team/app", unsigned.digest)


async def test_a_signature_of_another_digest_does_not_sign_this_one(client):
    key = new_key()
    image = await push_image(client, "team/app", "v1", seed="a")
    other = await push_image(client, "team/app", "v2", seed="b")
    # A `.sig` tag named after v1 whose payload signs v2.
    tag = image.digest.replace(":", "-") + ".sig"
    await push_artifact(client, "team/app", cosign_signature(key, other.digest), tag)
    await set_policy(client, "team/app", cosign_policy(key))
    assert f"is for {other.digest}" in await refusal(client, "team/app", "v1")


async def test_removing_the_key_takes_effect_on_the_next_pull(client):
    key = new_key()
    image = await push_image(client, "team/app", "v1")
    await sign_cosign(client, "team/app", key, image.digest)
    await set_policy(client, "team/app", cosign_policy(key))
    assert await status(client, "team/app", "v1") == 200
    await set_policy(client, "team/app", cosign_policy(new_key()))
    await refusal(client, "team/app", "v1")
    await set_policy(client, "team/app", cosign_policy(key))
    assert await status(client, "team/app", "v1") == 200


async def test_sigstore_bundle_referrer_counts(client):
    key = new_key()
    image = await push_image(client, "team/app", "v1")
    await set_policy(client, "team/app", cosign_policy(key))
    await refusal(client, "team/app", "v1")
    bundle = bundle_referrer(dsse_bundle(key, image.digest), image.digest, len(image.payload))
    await push_artifact(client, "team/app", bundle)
    assert await status(client, "team/app", "v1") == 200


async def test_a_referrer_pushed_to_another_repository_is_ignored(client):
    key = new_key()
    image = await push_image(client, "team/app", "v1")
    bundle = bundle_referrer(dsse_bundle(key, image.digest), image.digest, len(image.payload))
    await push_artifact(client, "team/other", bundle)
    resp = await client.get(f"/v2/team/other/referrers/{image.digest}")
    assert len((await resp.json())["manifests"]) == 1  # it is there, claiming the subject
    await set_policy(client, "team/app", cosign_policy(key))
    assert "cosign: no signature found" in await refusal(client, "team/app", "v1")


@pytest.fixture(scope="module")
def pki():
    return Pki.create()


def notation_policy(pki, level: str = "strict", revoked=()) -> dict:
    return {
        "formats": ["notation"],
        "notation": {
            "trustPolicy": trust_policy(level=level, scopes=["localhost:5000/team/app"]),
            "trustStores": {
                "ca:acme": {"certificates": pki.root_pem().decode(), "revoked": list(revoked)}
            },
        },
    }


async def push_notation(client, name, image, key, chain, **kwargs) -> None:
    descriptor = {"mediaType": mt.OCI_MANIFEST, "digest": image.digest, "size": len(image.payload)}
    envelope = notation_jws(key, chain, descriptor, **kwargs)
    await push_artifact(client, name, notation_referrer(envelope, image.digest, len(image.payload)))


async def test_notation_signatures_are_verified_against_the_trust_store(client, pki):
    from trust.sigs.x509store import certificate_fingerprint

    key = ec.generate_private_key(ec.SECP256R1())
    leaf = pki.leaf(key)
    signed = await push_image(client, "team/app", "v1", seed="a")
    untrusted = await push_image(client, "team/app", "v2", seed="b")
    await push_notation(client, "team/app", signed, key, [leaf, pki.root])
    stranger = Pki.create("other")
    other_key = ec.generate_private_key(ec.SECP256R1())
    await push_notation(
        client, "team/app", untrusted, other_key, [stranger.leaf(other_key), stranger.root]
    )
    await set_policy(client, "team/app", notation_policy(pki))
    assert await status(client, "team/app", "v1") == 200
    assert "not in trust store" in await refusal(client, "team/app", "v2")

    revoked = notation_policy(pki, revoked=[certificate_fingerprint(leaf)])
    await set_policy(client, "team/app", revoked)
    assert "revoked" in await refusal(client, "team/app", "v1")


async def test_notation_cose_signatures_count(client, pki):
    from tests.support.signatures import notation_cose, notation_cose_referrer

    key = ec.generate_private_key(ec.SECP256R1())
    image = await push_image(client, "team/app", "v1")
    descriptor = {"mediaType": mt.OCI_MANIFEST, "digest": image.digest, "size": len(image.payload)}
    envelope = notation_cose(key, [pki.leaf(key), pki.root], descriptor)
    await push_artifact(
        client, "team/app", notation_cose_referrer(envelope, image.digest, len(image.payload))
    )
    await set_policy(client, "team/app", notation_policy(pki))
    assert await status(client, "team/app", "v1") == 200


async def test_an_index_counts_when_every_platform_is_signed_if_the_policy_allows(client):
    key = new_key()
    images = [await push_image(client, "team/multi", None, seed=s) for s in ("x", "y")]
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [
                {
                    "mediaType": mt.OCI_MANIFEST,
                    "digest": i.digest,
                    "size": len(i.payload),
                    "platform": {"os": "linux", "architecture": arch},
                }
                for i, arch in zip(images, ("amd64", "arm64"), strict=True)
            ],
        }
    ).encode()
    resp = await client.put(
        "/v2/team/multi/manifests/v1", data=index, headers={"Content-Type": mt.OCI_INDEX}
    )
    assert resp.status == 201
    await sign_cosign(client, "team/multi", key, images[0].digest)
    await set_policy(client, "team/multi", cosign_policy(key, platforms=True))
    assert "not every platform manifest is signed" in await refusal(client, "team/multi", "v1")
    await sign_cosign(client, "team/multi", key, images[1].digest)
    assert await status(client, "team/multi", "v1") == 200
    await set_policy(client, "team/multi", cosign_policy(key))
    await refusal(client, "team/multi", "v1")

    # Signing the index itself signs it, and its platforms pulled by digest.
    await sign_cosign(client, "team/multi", key, sha256(index))
    assert await status(client, "team/multi", "v1") == 200
    unsigned_child = await push_image(client, "team/multi", None, seed="z")
    assert await status(client, "team/multi", images[0].digest) == 200
    await refusal(client, "team/multi", unsigned_child.digest)


async def test_a_policy_without_trust_required_stores_but_does_not_gate(client):
    image = await push_image(client, "team/app", "v1")
    shown = await set_policy(client, "team/app", cosign_policy(new_key()), require=False)
    assert shown["trust_required"] is False and shown["signature_policy_setting"] == "own"
    assert await status(client, "team/app", "v1") == 200
    assert image.digest


async def test_invalid_policies_are_refused_and_null_follows_the_namespace(client):
    await push_image(client, "team/app", "v1")
    resp = await client.patch(
        "/api/v1/repositories/team/app", json={"signature_policy": {"formats": ["cosign"]}}
    )
    assert resp.status == 400
    assert await error_code(resp) == "INVALID_REQUEST"
    assert "cosign.keys" in (await resp.json())["errors"][0]["message"]
    shown = await set_policy(client, "team/app", None, require=False)
    assert shown["signature_policy"] is None and shown["signature_policy_setting"] == "none"


async def test_a_namespace_policy_applies_to_repositories_without_their_own(client):
    from registry import keys

    key = new_key()
    image = await push_image(client, "library/app", "v1")
    await sign_cosign(client, "library/app", key, image.digest)
    policies = client.app[keys.SIGNATURE_POLICIES]
    await policies.set_namespace("library", cosign_policy(new_key()), actor="test")
    shown = await set_policy(client, "library/app", None)  # follow the namespace, trust on
    assert shown["signature_policy_setting"] == "namespace"
    await refusal(client, "library/app", "v1")
    await policies.set_namespace("library", cosign_policy(key), actor="test")
    assert await status(client, "library/app", "v1") == 200
    await set_policy(client, "library/app", cosign_policy(new_key()))  # its own wins
    await refusal(client, "library/app", "v1")


async def test_keyless_bundle_referrer_counts_for_the_trusted_identity(client):
    from tests.support.signatures import Sigstore, keyless_bundle

    sigstore = Sigstore.create()
    image = await push_image(client, "team/app", "v1")
    bundle = keyless_bundle(sigstore, image.digest, email="ci@acme.test")
    await push_artifact(
        client, "team/app", bundle_referrer(bundle, image.digest, len(image.payload))
    )
    keyless = {
        "fulcio": sigstore.trust_pems(),
        "rekor": [sigstore.log_pem()],
        "identities": [{"issuer": "https://issuer.acme.test", "subject": "ci@acme.test"}],
    }
    await set_policy(client, "team/app", {"formats": ["cosign"], "cosign": {"keyless": keyless}})
    assert await status(client, "team/app", "v1") == 200
    keyless["identities"] = [{"issuer": "https://issuer.acme.test", "subject": "dev@acme.test"}]
    await set_policy(client, "team/app", {"formats": ["cosign"], "cosign": {"keyless": keyless}})
    assert "not a trusted identity" in await refusal(client, "team/app", "v1")


async def test_signatures_themselves_are_served_from_a_gated_repository(client):
    key = new_key()
    image = await push_image(client, "team/app", "v1")
    await sign_cosign(client, "team/app", key, image.digest)
    bundle = bundle_referrer(dsse_bundle(key, image.digest), image.digest, len(image.payload))
    await push_artifact(client, "team/app", bundle)
    await set_policy(client, "team/app", cosign_policy(new_key()))
    await refusal(client, "team/app", "v1")
    sig_tag = image.digest.replace(":", "-") + ".sig"
    for reference in (sig_tag, bundle.digest):
        resp = await client.get(
            f"/v2/team/app/manifests/{reference}", headers={"Accept": mt.OCI_MANIFEST}
        )
        assert resp.status == 200, reference


async def test_a_deleted_signature_stops_counting_within_a_second(client):
    key = new_key()
    image = await push_image(client, "team/app", "v1")
    await sign_cosign(client, "team/app", key, image.digest)
    await set_policy(client, "team/app", cosign_policy(key))
    assert await status(client, "team/app", "v1") == 200
    sig_tag = image.digest.replace(":", "-") + ".sig"
    resp = await client.get(f"/v2/team/app/manifests/{sig_tag}", headers=ACCEPT)
    signature_digest = resp.headers["Docker-Content-Digest"]
    resp = await client.delete(f"/v2/team/app/manifests/{signature_digest}")
    assert resp.status == 202
    await asyncio.sleep(1.1)
    assert "cosign: no signature found" in await refusal(client, "team/app", "v1")


async def test_dct_and_cosign_together_either_suffices(client, tmp_path):
    from tests.api.test_trust_required import sign, signer

    key = new_key()
    dct_signed = await push_image(client, "team/app", "v1", seed="a")
    cosign_signed = await push_image(client, "team/app", "v2", seed="b")
    await push_image(client, "team/app", "v3", seed="c")
    author = signer(client, tmp_path / "keys", "127.0.0.1:5000/team/app")
    await asyncio.to_thread(author.initialize)
    await sign(author, "v1", dct_signed.digest, len(dct_signed.payload))
    await sign_cosign(client, "team/app", key, cosign_signed.digest)
    await set_policy(client, "team/app", cosign_policy(key) | {"formats": ["dct", "cosign"]})
    assert await status(client, "team/app", "v1") == 200
    assert await status(client, "team/app", dct_signed.digest) == 200
    assert await status(client, "team/app", "v2") == 200
    message = await refusal(client, "team/app", "v3")
    assert "dct: no signed tag names this digest" in message
    assert "cosign: no signature found" in message
