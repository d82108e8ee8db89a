"""Helpers for the web interface's in-process tests: browsers with their own cookies, pushes.

A `WebClient` is one browser: its own cookie jar against the in-process hub, a way to read the
CSRF token the pages carry, and sign-in. `push_image` pushes a small image over the registry
API with a config that has history, run configuration and labels.
"""

from __future__ import annotations

import json
import re

import aiohttp
from aiohttp.test_utils import TestClient

from registry.oci import mediatypes as mt
from tests.api.conftest import image_manifest, sha256

PASSWORD = "correct-horse-9"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebClient:
    """One browser against the hub: its own cookies, no redirects followed unless asked."""

    def __init__(self, client: TestClient) -> None:
        self.base = str(client.make_url("")).rstrip("/")
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def close(self) -> None:
        await self.session.close()

    async def get(self, path: str, **kwargs) -> tuple[int, str, aiohttp.ClientResponse]:
        kwargs.setdefault("allow_redirects", False)
        async with self.session.get(self.base + path, **kwargs) as resp:
            return resp.status, await resp.text(), resp

    async def post(self, path: str, data: dict | list, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        async with self.session.post(self.base + path, data=data, **kwargs) as resp:
            return resp.status, await resp.text(), resp

    async def csrf(self, page: str = "/login") -> str:
        _, text, _ = await self.get(page)
        match = _CSRF.search(text)
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    async def submit(self, path: str, fields: dict | None = None, *, page: str = "/login"):
        """Post a form the way the page would: with this browser's CSRF token."""
        token = await self.csrf(page)
        return await self.post(path, {"csrf_token": token, **(fields or {})})

    async def sign_in(self, user: str, password: str = PASSWORD) -> None:
        status, text, resp = await self.submit(
            "/login", {"username": user, "password": password, "next": "/"}
        )
        assert status == 303, text
        assert resp.headers["Location"] == "/"


async def push_blob(client: TestClient, name: str, data: bytes, headers: dict) -> None:
    resp = await client.post(
        f"/v2/{name}/blobs/uploads/?digest={sha256(data)}", data=data, headers=headers
    )
    assert resp.status == 201, await resp.text()


def image_config(seed: str) -> bytes:
    return json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": "2026-01-02T03:04:05Z",
            "config": {
                "Entrypoint": ["/bin/app"],
                "Cmd": ["--serve", seed],
                "Env": ["PATH=/usr/bin", f"SEED={seed}"],
                "ExposedPorts": {"8080/tcp": {}},
                "User": "app",
                "Labels": {"org.example.seed": seed},
            },
            "history": [
                {"created_by": f"ADD rootfs-{seed}.tar /"},
                {"created_by": "ENV SEED", "empty_layer": True},
                {"created_by": f"RUN make install-{seed}"},
            ],
        }
    ).encode()


async def push_image(
    client: TestClient, name: str, tag: str, headers: dict, *, seed: str = "a", public: bool = True
) -> str:
    """Push a two-layer image (public unless told); returns its manifest digest."""
    config = image_config(seed)
    layers = [f"layer-{seed}-{i}".encode() * (50 + i) for i in range(2)]
    for blob in [config, *layers]:
        await push_blob(client, name, blob, headers)
    payload = image_manifest(config, layers)
    resp = await client.put(
        f"/v2/{name}/manifests/{tag}",
        data=payload,
        headers={**headers, "Content-Type": mt.OCI_MANIFEST},
    )
    assert resp.status == 201, await resp.text()
    if public:
        resp = await client.patch(
            f"/api/v1/repositories/{name}", json={"is_public": True}, headers=headers
        )
        assert resp.status == 200, await resp.text()
    return sha256(payload)
