"""The Kubernetes admission webhook: reviews of every pod-bearing kind, decided by the pull gate.

Reviews are Kubernetes' own JSON (tests.api.kube); images are pushed over the registry API and
signed as cosign lays signatures out (tests.support.signatures); policies go through the JSON
API, as in the pull gate's tests. The hub is the open registry here; who may read what is in
tests/api/hub/test_admission_access.py.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace

import pytest

from registry import keys
from registry.app import create_app
from registry.oci import mediatypes as mt
from tests.api.conftest import error_code, push_image, sha256
from tests.api.kube import KINDS, POD, apply_patch, images_at, patch_of, pod_spec, review
from tests.api.test_signature_policy import cosign_policy, set_policy, sign_cosign
from tests.api.test_trust_required import require_trust, sign, signer
from tests.support.signatures import new_key

HUB = "hub.example:5000"  # the host name pods use for this hub's images


@pytest.fixture
def start(aiohttp_client, settings):
    async def start(**overrides):
        values = {"admission_enabled": True, "admission_registry_hosts": HUB, **overrides}
        return await aiohttp_client(create_app(replace(settings, **values)))

    return start


@pytest.fixture
async def client(start):
    return await start()


@pytest.fixture
def key():
    return new_key()


async def signed_repository(client, key, name: str = "team/app") -> dict[str, str]:
    """`name` gated by a cosign policy trusting `key`: tags signed, unsigned and wrongly signed;
    their digests by tag."""
    images = {
        "signed": await push_image(client, name, "signed", seed=f"{name}-a"),
        "unsigned": await push_image(client, name, "unsigned", seed=f"{name}-b"),
        "stranger": await push_image(client, name, "stranger", seed=f"{name}-c"),
    }
    await sign_cosign(client, name, key, images["signed"].digest)
    await sign_cosign(client, name, new_key("ed25519"), images["stranger"].digest)
    await set_policy(client, name, cosign_policy(key))
    return {tag: image.digest for tag, image in images.items()}


async def ask(client, body, webhook: str = "validate", status: int = 200) -> dict:
    resp = await client.post(f"/admission/{webhook}", json=body)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def decide(client, body, webhook: str = "validate") -> dict:
    """The answer's `response`, after checking the AdmissionReview around it."""
    answer = await ask(client, body, webhook)
    assert answer["apiVersion"] == "admission.k8s.io/v1"
    assert answer["kind"] == "AdmissionReview"
    assert answer["response"]["uid"] == body["request"]["uid"]
    return answer["response"]


def refusal(response: dict) -> str:
    assert response["allowed"] is False, response
    assert response["status"]["code"] == 403
    return response["status"]["message"]


@pytest.mark.parametrize("kind", list(KINDS))
async def test_every_pod_bearing_kind_is_checked_and_pinned(client, key, kind):
    kind = KINDS[kind]
    digests = await signed_repository(client, key)
    signed, unsigned = f"{HUB}/team/app:signed", f"{HUB}/team/app:unsigned"

    obj = kind.object(pod_spec([("app", signed)], init=[("setup", unsigned)]))
    message = refusal(await decide(client, review(kind, obj)))
    assert message.startswith("1 of 2 container images refused by berth: "), message
    assert f"container 'setup' image '{unsigned}': signature required" in message
    assert "cosign: no signature found" in message
    assert "'app'" not in message
    # A mutating webhook refuses the same and pins nothing.
    response = await decide(client, review(kind, obj), "mutate")
    assert refusal(response) == message and "patch" not in response

    obj = kind.object(pod_spec([("app", signed), ("side", "busybox:1.36")],
                               init=[("setup", signed)]))
    response = await decide(client, review(kind, obj))
    assert response == {"uid": response["uid"], "allowed": True}
    response = await decide(client, review(kind, obj), "mutate")
    assert response["allowed"] is True
    pinned = f"{HUB}/team/app@{digests['signed']}"
    patched = apply_patch(obj, patch_of(response))
    assert images_at(patched, kind.spec_path) == {
        "app": pinned, "side": "busybox:1.36", "setup": pinned,
    }


async def test_each_failing_image_is_named_with_its_reason(client, key):
    digests = await signed_repository(client, key)
    await push_image(client, "team/open", "v1", seed="open")  # no trust required
    images = [
        ("signed", f"{HUB}/team/app:signed"),
        ("by-digest", f"{HUB}/team/app@{digests['signed']}"),
        ("unsigned", f"{HUB}/team/app:unsigned"),
        ("stranger", f"{HUB}/team/app:stranger"),
        ("unsigned-digest", f"{HUB}/team/app@{digests['unsigned']}"),
        ("no-tag", f"{HUB}/team/app:v9"),
        ("no-repo", f"{HUB}/team/nothing:1"),
        ("open", f"{HUB}/team/open:v1"),
        ("elsewhere", "nginx:1.27"),
        ("other-host", "ghcr.io/acme/tool:2"),
    ]
    message = refusal(await decide(client, review(POD, POD.object(pod_spec(images)))))
    assert message.startswith("5 of 10 container images refused by berth: ")
    by_name = dict(re.findall(r"container '([^']+)' image '[^']+': (.*?)(?=; container '|$)",
                              message))
    assert set(by_name) == {"unsigned", "stranger", "unsigned-digest", "no-tag", "no-repo"}
    assert "cosign: no signature found" in by_name["unsigned"]
    assert "not verified by any trusted key" in by_name["stranger"]
    assert digests["unsigned"] in by_name["unsigned-digest"]
    assert by_name["no-tag"] == "no tag 'v9' in team/app on this hub"
    assert by_name["no-repo"] == "no tag '1' in team/nothing on this hub"


async def test_a_tag_with_a_digest_is_checked_by_its_digest(client, key):
    digests = await signed_repository(client, key)
    # The kubelet pulls `repo:tag@digest` by the digest: the tag is not what runs.
    image = f"{HUB}/team/app:unsigned@{digests['signed']}"
    response = await decide(client, review(POD, POD.object(pod_spec([("app", image)]))), "mutate")
    assert response["allowed"] is True and patch_of(response) == []  # already pinned
    image = f"{HUB}/team/app:signed@{digests['unsigned']}"
    refusal(await decide(client, review(POD, POD.object(pod_spec([("app", image)])))))


async def test_images_on_other_registries_follow_the_configured_rule(start, key):
    client = await start(admission_other_registries="deny")
    await signed_repository(client, key)
    ours = f"{HUB}/team/app:signed"
    spec = pod_spec([("app", ours), ("proxy", "docker.io/library/nginx:1.27"),
                     ("local", "localhost:5000/team/app:signed")])
    message = refusal(await decide(client, review(POD, POD.object(spec))))
    assert message.startswith("2 of 3 ")
    assert "image 'docker.io/library/nginx:1.27': registry docker.io is not this hub" in message
    assert "registry localhost:5000 is not this hub" in message
    response = await decide(client, review(POD, POD.object(pod_spec([("app", ours)]))))
    assert response["allowed"] is True


async def test_an_ephemeral_container_added_to_a_pod_is_checked(client, key):
    digests = await signed_repository(client, key)
    signed = f"{HUB}/team/app:signed"
    old = POD.object(pod_spec([("app", signed)]))
    new = POD.object(pod_spec([("app", signed)], ephemeral=[("debug", f"{HUB}/team/app:v9")]))
    body = review(POD, new, operation="UPDATE", sub_resource="ephemeralcontainers", old=old)
    assert "container 'debug' image" in refusal(await decide(client, body))
    new = POD.object(pod_spec([("app", signed)], ephemeral=[("debug", signed)]))
    body = review(POD, new, operation="UPDATE", sub_resource="ephemeralcontainers", old=old)
    response = await decide(client, body, "mutate")
    assert images_at(apply_patch(new, patch_of(response)), "/spec")["debug"] == (
        f"{HUB}/team/app@{digests['signed']}"
    )


async def test_docker_content_trust_applies_without_a_signature_policy(client, tmp_path):
    signed = await push_image(client, "team/dct", "v1", seed="a")
    await push_image(client, "team/dct", "v2", seed="b")
    author = signer(client, tmp_path / "keys", f"{HUB}/team/dct")
    await asyncio.to_thread(author.initialize)
    await sign(author, "v1", signed.digest, len(signed.payload))
    await require_trust(client, "team/dct")
    spec = pod_spec([("app", f"{HUB}/team/dct:v1")])
    assert (await decide(client, review(POD, POD.object(spec))))["allowed"] is True
    spec = pod_spec([("app", f"{HUB}/team/dct:v2")])
    message = refusal(await decide(client, review(POD, POD.object(spec))))
    assert "content trust required: tag 'v2' of team/dct is not signed" in message


async def test_a_removed_key_refuses_from_the_next_review(client, key):
    await signed_repository(client, key)
    body = review(POD, POD.object(pod_spec([("app", f"{HUB}/team/app:signed")])))
    assert (await decide(client, body))["allowed"] is True
    await set_policy(client, "team/app", cosign_policy(new_key()))
    assert "not verified by any trusted key" in refusal(await decide(client, body))


async def test_other_operations_and_kinds_are_allowed_unchecked(client):
    unknown = f"{HUB}/team/nothing:1"
    pod = POD.object(pod_spec([("app", unknown)]))
    deleting = review(POD, None, operation="DELETE", old=pod)
    assert (await decide(client, deleting))["allowed"] is True
    connect = review(POD, None, operation="CONNECT", sub_resource="exec")
    assert (await decide(client, connect))["allowed"] is True
    config_map = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c"},
                  "data": {"image": unknown}}
    body = review(KINDS["Pod"], config_map)
    body["request"]["kind"] = {"group": "", "version": "v1", "kind": "ConfigMap"}
    assert (await decide(client, body))["allowed"] is True
    # Scaling a Deployment reviews an autoscaling/v1 Scale, which holds no images.
    scale = review(KINDS["Deployment"], {"kind": "Scale", "apiVersion": "autoscaling/v1",
                                         "spec": {"replicas": 3}}, operation="UPDATE",
                   sub_resource="scale")
    scale["request"]["kind"] = {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert (await decide(client, scale))["allowed"] is True
    assert await client.app[keys.AUDIT].events(action="admission-allowed") == []


def _without(body: dict, *path: str) -> dict:
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


def _malformed() -> list[tuple[str, object, str]]:
    pod = POD.object(pod_spec([("app", f"{HUB}/team/app:signed")]))
    good = review(POD, pod)
    beta = {**review(POD, pod), "apiVersion": "admission.k8s.io/v1beta1"}
    containers = review(POD, POD.object(pod_spec([("app", "x")])))
    containers["request"]["object"]["spec"]["containers"] = {"name": "app"}
    image = review(POD, POD.object(pod_spec([("app", "x")])))
    image["request"]["object"]["spec"]["containers"][0]["image"] = 7
    deployment = review(KINDS["Deployment"], KINDS["Deployment"].object(pod_spec([("a", "x")])))
    del deployment["request"]["object"]["spec"]["template"]["spec"]
    return [
        ("not-json", b"{not json", "the body is not JSON"),
        ("a-list", b"[]", "the body is not a JSON object"),
        ("wrong-kind", {**good, "kind": "TokenReview"}, "kind is 'TokenReview'"),
        ("v1beta1", beta, "apiVersion is 'admission.k8s.io/v1beta1': only"),
        ("no-request", _without(review(POD, pod), "request"), "review.request is missing"),
        ("no-uid", _without(review(POD, pod), "request", "uid"), "request.uid is missing"),
        ("no-kind", _without(review(POD, pod), "request", "kind"), "request.kind is missing"),
        ("no-object", review(POD, None), "request.object is missing"),
        ("containers", containers, "request.object.spec.containers is not a list"),
        ("image", image, "request.object.spec.containers[0].image is not a string"),
        ("template", deployment, "request.object.spec.template.spec is missing"),
    ]


@pytest.mark.parametrize("settings", ["sqlite-fs"], indirect=True)
@pytest.mark.parametrize("case", _malformed(), ids=lambda case: case[0])
async def test_a_malformed_review_is_a_400_that_says_why(client, case):
    _, body, expected = case
    for webhook in ("validate", "mutate"):
        if isinstance(body, bytes):
            resp = await client.post(f"/admission/{webhook}", data=body,
                                     headers={"Content-Type": "application/json"})
        else:
            resp = await client.post(f"/admission/{webhook}", json=body)
        assert resp.status == 400
        assert await error_code(resp) == "INVALID_REQUEST"
        message = (await resp.json())["errors"][0]["message"]
        assert message.startswith("not an admission.k8s.io/v1 AdmissionReview: "), message
        assert expected in message, message


async def test_decisions_are_audited_with_their_reasons(client, key):
    digests = await signed_repository(client, key)
    allowed = POD.object(pod_spec([("app", f"{HUB}/team/app:signed")]), name="ok")
    denied = POD.object(pod_spec([("app", f"{HUB}/team/app:signed"),
                                  ("bad", f"{HUB}/team/app:unsigned")]), name="bad")
    denied_review = review(POD, denied, dry_run=True)
    await decide(client, review(POD, allowed), "mutate")
    await decide(client, denied_review)
    audit = client.app[keys.AUDIT]
    [row] = await audit.events(action="admission-denied")
    assert (row.actor, row.target) == ("(admission)", "default/Pod/bad")
    detail = row.detail
    assert detail["uid"] == denied_review["request"]["uid"]
    assert (detail["operation"], detail["user"], detail["webhook"]) == (
        "CREATE", "kubernetes-admin", "validate"
    )
    assert detail["dry_run"] is True and detail["authorised"] is False
    good, bad = detail["images"]
    assert good == {"container": "app", "image": f"{HUB}/team/app:signed", "allowed": True,
                    "digest": digests["signed"]}
    assert bad["allowed"] is False and "cosign: no signature found" in bad["reason"]
    [row] = await audit.events(action="admission-allowed")
    assert row.target == "default/Pod/ok" and row.detail["webhook"] == "mutate"
    assert row.detail["images"][0]["pinned"] == f"{HUB}/team/app@{digests['signed']}"


@pytest.mark.parametrize("settings", ["sqlite-fs"], indirect=True)
async def test_the_webhook_is_off_unless_enabled(start):
    client = await start(admission_enabled=False)
    body = review(POD, POD.object(pod_spec([("app", "busybox")])))
    for webhook in ("validate", "mutate"):
        resp = await client.post(f"/admission/{webhook}", json=body)
        assert resp.status == 404 and await error_code(resp) == "NOT_FOUND"


async def test_a_multi_platform_index_is_checked_as_a_pull_would(client, key):
    images = [await push_image(client, "team/multi", None, seed=s) for s in ("x", "y")]
    index = json.dumps({
        "schemaVersion": 2,
        "mediaType": mt.OCI_INDEX,
        "manifests": [
            {"mediaType": mt.OCI_MANIFEST, "digest": i.digest, "size": len(i.payload),
             "platform": {"os": "linux", "architecture": arch}}
            for i, arch in zip(images, ("amd64", "arm64"), strict=True)
        ],
    }).encode()
    resp = await client.put("/v2/team/multi/manifests/v1", data=index,
                            headers={"Content-Type": mt.OCI_INDEX})
    assert resp.status == 201
    await sign_cosign(client, "team/multi", key, images[0].digest)
    await set_policy(client, "team/multi", cosign_policy(key, platforms=True))
    body = review(POD, POD.object(pod_spec([("app", f"{HUB}/team/multi:v1")])))
    assert "not every platform manifest is signed" in refusal(await decide(client, body))
    await sign_cosign(client, "team/multi", key, images[1].digest)
    response = await decide(client, body, "mutate")
    # The tag pins to the index, so every node still pulls its own platform.
    assert patch_of(response) == [{"op": "replace", "path": "/spec/containers/0/image",
                                   "value": f"{HUB}/team/multi@{sha256(index)}"}]
    # A platform named by digest counts when the index holding it does, as for a pull.
    await set_policy(client, "team/multi", cosign_policy(key))
    await sign_cosign(client, "team/multi", key, sha256(index))
    unsigned = await push_image(client, "team/multi", None, seed="z")
    spec = pod_spec([("amd64", f"{HUB}/team/multi@{images[0].digest}"),
                     ("other", f"{HUB}/team/multi@{unsigned.digest}")])
    message = refusal(await decide(client, review(POD, POD.object(spec))))
    assert message.startswith("1 of 2 ") and "container 'other'" in message
