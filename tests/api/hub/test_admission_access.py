"""Who may call the admission webhook, and what its answers say about private repositories.

Without an admission token the webhook is open: an image of a private repository, or of none,
is refused with one reason whatever the cause, and never pinned. With a token, only callers
that send it are answered, and they read every reason. The audit log keeps the full reasons.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from registry import keys
from registry.admission.service import PRIVATE_REASON
from registry.app import create_app
from registry.oci import mediatypes as mt
from tests.api.conftest import error_code, image_manifest, sha256
from tests.api.hub.conftest import ADMIN, Hub, bearer
from tests.api.kube import POD, apply_patch, images_at, patch_of, pod_spec, review
from tests.api.test_signature_policy import cosign_policy
from tests.support.signatures import Artifact, cosign_signature, new_key

HUB = "hub.example:5000"
TOKEN = "admission-token-0123456789abcdef"
PUBLIC_IMAGES = ("pub:v1", "pub:v2", "pub:v9")
SECRET_IMAGES = ("secret:v1", "secret:v9")


async def push_as(client, name: str, headers: dict, tag: str, seed: str) -> str:
    config = f'{{"architecture":"amd64","os":"linux","seed":"{seed}"}}'.encode()
    layer = f"layer-{seed}".encode() * 50
    return await push_artifact(
        client, name, headers, Artifact(image_manifest(config, [layer]),
                                        {sha256(config): config, sha256(layer): layer}), tag
    )


async def push_artifact(client, name: str, headers: dict, artifact: Artifact, tag: str) -> str:
    for digest, blob in artifact.blobs.items():
        resp = await client.post(f"/v2/{name}/blobs/uploads/?digest={digest}", data=blob,
                                 headers=headers)
        assert resp.status == 201, await resp.text()
    resp = await client.put(f"/v2/{name}/manifests/{tag}", data=artifact.manifest,
                            headers={**headers, "Content-Type": mt.OCI_MANIFEST})
    assert resp.status == 201, await resp.text()
    return artifact.digest


async def gate(client, name: str, headers: dict, key, *, public: bool) -> None:
    body = {"signature_policy": cosign_policy(key), "trust_required": True, "is_public": public}
    resp = await client.patch(f"/api/v1/repositories/{name}", json=body, headers=headers)
    assert resp.status == 200, await resp.text()


@pytest.fixture
def start(aiohttp_client, auth_settings):
    async def start(**overrides) -> tuple[Hub, dict[str, str]]:
        values = {"admission_enabled": True, "admission_registry_hosts": HUB, **overrides}
        settings = replace(auth_settings, **values)
        hub = Hub(await aiohttp_client(create_app(settings)), settings)
        return hub, await populate(hub)

    return start


async def populate(hub: Hub) -> dict[str, str]:
    """alice/secret (private, gated: v1 unsigned), alice/plain (private, ungated: v1) and
    bob/pub (public, gated: v1 signed, v2 unsigned); the digests of plain:v1 and pub:v1."""
    key = new_key()
    alice, bob = await hub.add_user("alice"), await hub.add_user("bob")
    client = hub.client
    await push_as(client, "alice/secret", alice, "v1", "s1")
    await gate(client, "alice/secret", alice, key, public=False)
    plain = await push_as(client, "alice/plain", alice, "v1", "p1")
    signed = await push_as(client, "bob/pub", bob, "v1", "b1")
    await push_as(client, "bob/pub", bob, "v2", "b2")
    signature = cosign_signature(key, signed, f"{HUB}/bob/pub")
    await push_artifact(client, "bob/pub", bob, signature, signed.replace(":", "-") + ".sig")
    await gate(client, "bob/pub", bob, key, public=True)
    return {"plain:v1": plain, "pub:v1": signed}


def pod(*images: str) -> dict:
    return POD.object(pod_spec([(image.replace(":", "-"), f"{HUB}/{owner(image)}/{image}")
                                for image in images]))


def owner(image: str) -> str:
    return "bob" if image.startswith("pub") else "alice"


def reasons(response: dict) -> dict[str, str]:
    """Container name -> the reason given, from a refusal's message."""
    assert response["allowed"] is False
    body = response["status"]["message"].split(": ", 1)[1]
    found = {}
    for part in body.split("; "):
        head, reason = part.split("': ", 1)
        found[head.split("'")[1]] = reason
    return found


async def post(hub: Hub, webhook: str, body: dict, headers: dict | None = None) -> dict:
    resp = await hub.client.post(f"/admission/{webhook}", json=body, headers=headers or {})
    assert resp.status == 200, await resp.text()
    return (await resp.json())["response"]


@pytest.mark.parametrize("auth_settings", ["sqlite"], indirect=True)
async def test_an_open_webhook_says_nothing_more_of_private_repositories(start):
    hub, digests = await start()
    body = review(POD, pod(*PUBLIC_IMAGES, *SECRET_IMAGES, "ghost:1", "plain:v1"))
    given = reasons(await post(hub, "validate", body))
    # A private repository's unsigned tag, its missing tag and a repository that does not
    # exist read alike; public ones say why.
    assert given == {
        "secret-v1": PRIVATE_REASON,
        "secret-v9": PRIVATE_REASON,
        "ghost-1": PRIVATE_REASON,
        "pub-v2": given["pub-v2"],
        "pub-v9": "no tag 'v9' in bob/pub on this hub",
    }
    assert "cosign: no signature found" in given["pub-v2"]
    # Allowed private images are not pinned: their digests are not the caller's to read.
    body = review(POD, pod("pub:v1", "plain:v1"))
    response = await post(hub, "mutate", body)
    assert response["allowed"] is True
    assert images_at(apply_patch(body["request"]["object"], patch_of(response)), "/spec") == {
        "pub-v1": f"{HUB}/bob/pub@{digests['pub:v1']}",
        "plain-v1": f"{HUB}/alice/plain:v1",
    }
    # The audit log, for the hub's admins, keeps the real reasons.
    [row] = await hub.client.app[keys.AUDIT].events(action="admission-denied")
    logged = {image["container"]: image.get("reason") for image in row.detail["images"]}
    assert logged["secret-v9"] == "no tag 'v9' in alice/secret on this hub"
    assert "cosign: no signature found" in logged["secret-v1"]
    assert logged["ghost-1"] == "no tag '1' in alice/ghost on this hub"
    assert row.detail["authorised"] is False
    resp = await hub.client.get("/api/v1/audit?action=admission-denied", headers=ADMIN)
    assert (await resp.json())["events"][0]["detail"]["images"] == row.detail["images"]


@pytest.mark.parametrize("auth_settings", ["sqlite"], indirect=True)
async def test_with_a_token_only_its_holders_are_answered_and_read_every_reason(start):
    hub, digests = await start(admission_token=TOKEN)
    body = review(POD, pod("secret:v9", "plain:v1"))
    for headers in ({}, bearer("wrong-token"), ADMIN, {"Authorization": f"Basic {TOKEN}"}):
        for webhook in ("validate", "mutate"):
            resp = await hub.client.post(f"/admission/{webhook}", json=body, headers=headers)
            assert resp.status == 401, headers
            assert await error_code(resp) == "UNAUTHORIZED"
            assert resp.headers["WWW-Authenticate"].startswith("Bearer ")
    given = reasons(await post(hub, "validate", body, bearer(TOKEN)))
    assert given == {"secret-v9": "no tag 'v9' in alice/secret on this hub"}
    body = review(POD, pod("plain:v1"))
    response = await post(hub, "mutate", body, bearer(TOKEN))
    assert images_at(apply_patch(body["request"]["object"], patch_of(response)), "/spec") == {
        "plain-v1": f"{HUB}/alice/plain@{digests['plain:v1']}",
    }
    [row] = await hub.client.app[keys.AUDIT].events(action="admission-allowed")
    assert row.detail["authorised"] is True
