"""The trust service on the hub's own origin, beside the registry routes."""

from __future__ import annotations

import stat

from registry.hub.names import gun_path
from registry.keysecret import SECRET_FILE
from tests.api.conftest import push_image


def test_gun_host_is_stripped():
    assert gun_path("127.0.0.1:5000/team/app") == "team/app"
    assert gun_path("hub.example/team/app") == "team/app"
    assert gun_path("localhost/app") == "app"
    assert gun_path("team/app") == "team/app"


async def test_trust_routes_share_the_origin_with_the_registry(client, settings):
    pushed = await push_image(client, "team/app", "v1")
    gun = "127.0.0.1:5000/team/app"
    missing = await client.get(f"/v2/{gun}/_trust/tuf/root.json")
    assert missing.status == 404
    assert (await missing.json())["errors"][0]["code"] == "METADATA_NOT_FOUND"
    key = await client.get(f"/v2/{gun}/_trust/tuf/timestamp.key")
    assert key.status == 200
    assert (await key.json())["keytype"] == "ecdsa"
    # The same key comes back: it is kept, sealed with the hub's secret.
    again = await client.get(f"/v2/{gun}/_trust/tuf/timestamp.key")
    assert await again.json() == await key.json()
    secret = settings.data_dir / SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    # Registry routes are untouched.
    manifest = await client.get("/v2/team/app/manifests/v1")
    assert await manifest.read() == pushed.payload
