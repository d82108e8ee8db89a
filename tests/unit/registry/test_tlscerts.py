"""The development CA: a hub served with its certificate is trusted by a client given the CA."""

from __future__ import annotations

import ssl

import pytest
from aiohttp import ClientConnectorCertificateError, ClientSession, TCPConnector, web

from registry.tlscerts import make_dev_certificates


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def test_dev_certificate_verifies_for_loopback(tmp_path, unused_tcp_port):
    files = make_dev_certificates(tmp_path, ["hub.test"])
    assert oct(files.key.stat().st_mode & 0o777) == "0o600"
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(files.cert, files.key)
    app = web.Application()
    app.router.add_get("/", _ok)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", unused_tcp_port, ssl_context=server_ctx)
    await site.start()
    try:
        client_ctx = ssl.create_default_context(cafile=str(files.ca_cert))
        async with ClientSession(connector=TCPConnector(ssl=client_ctx)) as session:
            for host in ("127.0.0.1", "localhost"):
                async with session.get(f"https://{host}:{unused_tcp_port}/") as resp:
                    assert await resp.text() == "ok"
        # Without the CA the certificate is not trusted.
        async with ClientSession() as session:
            with pytest.raises(ClientConnectorCertificateError):
                await session.get(f"https://127.0.0.1:{unused_tcp_port}/")
    finally:
        await runner.cleanup()
