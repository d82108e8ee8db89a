"""An in-process hub served from a thread of its own, for synchronous (Hypothesis) tests.

The hub's event loop runs in a daemon thread on a loopback port; tests talk to it over real
HTTP with `http.client`, one kept-alive connection per hub, so thousands of requests cost
milliseconds each and no subprocess.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import threading
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from registry.app import create_app
from registry.settings import Settings

__all__ = ["Answer", "ThreadHub", "basic_auth"]


def basic_auth(user: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ThreadHub:
    """`create_app(settings)` served on 127.0.0.1 from a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._connection: http.client.HTTPConnection | None = None

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=60)

    async def _start(self) -> None:
        self._runner = web.AppRunner(create_app(self.settings), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One request on the kept-alive connection (reopened when the hub closed it)."""
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self._connection.request(method, path, body=body, headers=headers or {})
                response = self._connection.getresponse()
                answer = Answer(response.status, response.headers, response.read())
                if response.will_close:
                    self._connection.close()
                    self._connection = None
                return answer
            except (ConnectionError, http.client.HTTPException):
                self._connection.close()
                self._connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")
