"""A webhook receiver on loopback that checks every delivery as the README tells receivers to.

The check is written here from the README, not imported from the hub: HMAC-SHA256 with the
webhook's secret over `<t>.<raw body>`, compared in constant time with each `v1=` of
`Berth-Signature: t=<unix>,v1=<hex>`; a `t` further than `TOLERANCE` seconds from now is
refused (an old delivery replayed), and so is a `Berth-Delivery` id already accepted (a replay
within the tolerance). Accepted deliveries answer 204 and are kept; refusals answer 401 or 409.
The receiver can be stopped and started again on the same port ("down for a while").
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.ports import free_port

TOLERANCE = 300  # seconds


class DeliveryRefusedError(Exception):
    """The receiver's check refused a delivery."""


def check_delivery(
    secret: str, headers: dict[str, str], body: bytes, seen: set[str], now: float
) -> None:
    """The README's receiver check; raises DeliveryRefusedError."""
    parts = dict(
        item.split("=", 1) for item in headers.get("Berth-Signature", "").split(",") if "=" in item
    )
    if "t" not in parts or not parts["t"].isdigit():
        raise DeliveryRefusedError("no timestamp")
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        raise DeliveryRefusedError("bad signature")
    if abs(now - int(parts["t"])) > TOLERANCE:
        raise DeliveryRefusedError("too old")
    if headers.get("Berth-Delivery", "") in seen:
        raise DeliveryRefusedError("replayed")


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.headers["Berth-Event-Id"]


@dataclass
class Receiver:
    """Receives at `url`; `secret` must be set once the webhook exists."""

    port: int = field(default_factory=free_port)
    secret: str = ""
    accepted: list[Received] = field(default_factory=list)
    refused: list[tuple[str, Received]] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, request: web.Request) -> web.Response:
        got = Received(dict(request.headers), await request.read())
        seen = {r.headers["Berth-Delivery"] for r in self.accepted}
        try:
            check_delivery(self.secret, got.headers, got.body, seen, time.time())
        except DeliveryRefusedError as exc:
            self.refused.append((str(exc), got))
            return web.Response(status=409 if str(exc) == "replayed" else 401)
        self.accepted.append(got)
        return web.Response(status=204)

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """The accepted deliveries once there are at least `count`."""
        deadline = time.monotonic() + timeout
        while len(self.accepted) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(self.accepted)} of {count} deliveries arrived; refused: "
                    f"{[reason for reason, _ in self.refused]}"
                )
            await asyncio.sleep(0.05)
        return self.accepted
