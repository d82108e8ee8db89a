"""Helpers for the trust interop tests: a TLS certificate, the notary CLI, a Berth trust server."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import create_async_engine

from registry.tlscerts import DevCertificates, make_dev_certificates
from tests.support.hub import HubProcess, repo_env
from tests.support.ports import bound_socket
from trust.server.app import create_trust_app
from trust.server.settings import TrustServerSettings
from trust.server.store.sql import SqlMetaStore, create_tables

PASSPHRASES = {"root": "root-secret", "targets": "repo-secret", "snapshot": "snap-secret"}


def passphrases(role: str) -> str:
    return PASSPHRASES.get(role, "repo-secret")


def notary(
    server: dict, trust_dir: Path, *args: str, answer: str | None = None, auth: str | None = None
) -> str:
    """Run the notary CLI against `server` with `trust_dir`; fail the test on error.

    `auth` is "user:password" for NOTARY_AUTH (basic credentials for the token handshake).
    """
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(trust_dir),
        "NOTARY_ROOT_PASSPHRASE": PASSPHRASES["root"],
        "NOTARY_TARGETS_PASSPHRASE": PASSPHRASES["targets"],
        "NOTARY_SNAPSHOT_PASSPHRASE": PASSPHRASES["snapshot"],
        "NOTARY_DELEGATION_PASSPHRASE": "repo-secret",
    }
    if auth is not None:
        env["NOTARY_AUTH"] = base64.b64encode(auth.encode()).decode()
    command = ["notary", "-s", server["url"], "-d", str(trust_dir), "--tlscacert", server["ca"]]
    result = subprocess.run(
        [*command, *args], env=env, capture_output=True, text=True, timeout=60, input=answer
    )
    if result.returncode != 0:
        pytest.fail(f"notary {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class BerthTrustServer:
    """Berth's stand-alone trust server (SQLite store) over TLS, in a background thread."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        certificates = make_dev_certificates(directory)
        self.cert, self.key, self.ca = certificates.cert, certificates.key, certificates.ca_cert
        self._socket = bound_socket()
        self.port = self._socket.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._engine = None

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)

    async def _start(self) -> None:
        import ssl

        self._engine = create_async_engine(f"sqlite+aiosqlite:///{self.directory / 'trust.db'}")
        await create_tables(self._engine)
        settings = TrustServerSettings(key_encryption_secret=b"interop-secret-0123456789")
        self._runner = web.AppRunner(create_trust_app(SqlMetaStore(self._engine), settings))
        await self._runner.setup()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        await web.SockSite(self._runner, self._socket, ssl_context=context).start()

    def stop(self) -> None:
        async def _stop() -> None:
            if self._runner is not None:
                await self._runner.cleanup()
            if self._engine is not None:
                await self._engine.dispose()

        try:
            asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(timeout=30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
            self._loop.close()


def start_auth_hub(workdir: Path, users: dict[str, str]) -> tuple[HubProcess, DevCertificates]:
    """A hub over TLS with login required and the given users (name -> password)."""
    certificates = make_dev_certificates(workdir / "tls")
    hub = HubProcess(
        workdir / "data",
        workdir / "hub.log",
        no_auth=False,
        tls=certificates,
        env={"BERTH_ADMIN_PASSWORD": "admin-password-1"},
    )
    hub.start()
    try:
        for name, password in users.items():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "registry",
                    "user",
                    "add",
                    name,
                    "--password-stdin",
                    "--data",
                    str(hub.data_dir),
                ],
                env=repo_env(),
                input=password + "\n",
                text=True,
                check=True,
                capture_output=True,
                timeout=120,
            )
    except BaseException:
        hub.stop()
        raise
    return hub, certificates
