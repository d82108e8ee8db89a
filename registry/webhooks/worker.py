"""The delivery worker: every hub process runs one; together they send each delivery once.

A loop claims due deliveries from the outbox under a lease (`registry.db.webhook_queries`),
posts each signed body to its receiver, and settles it: delivered on a 2xx answer, otherwise
tried again after an exponential backoff (`retry_seconds`, doubling, at most `max_backoff`)
until `max_attempts`, then failed. Settled deliveries older than `log_seconds` are pruned
hourly. A process killed mid-delivery leaves its lease to expire, and
any process sends the delivery again: receivers that remember `Berth-Delivery` ids see it once.
Redirects are not followed, and connections go only to addresses the allow-list permits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp

from registry.db import webhook_queries as q
from registry.db.writer import Writer
from registry.webhooks.addresses import AddressPolicy, CheckedResolver
from registry.webhooks.events import Event, PayloadFormat, render
from registry.webhooks.secretseal import WebhookSecretError, WebhookSecretSealer
from registry.webhooks.signing import SIGNATURE_HEADER, signature_header

logger = logging.getLogger(__name__)

__all__ = ["DeliveryOptions", "DeliveryWorker", "backoff"]

RESPONSE_READ_LIMIT = 64 * 1024  # bytes of a receiver's answer read before closing
COALESCE_SECONDS = 0.02  # a burst of events (or outcomes) gathered into one transaction


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    poll_seconds: float = 1.0  # how often the outbox is looked at without a local wake-up
    timeout_seconds: float = 10.0  # one attempt, connection to answer
    retry_seconds: float = 10.0  # wait after the first failed attempt; doubles each time
    max_backoff_seconds: float = 3600.0
    max_attempts: int = 10
    lease_seconds: float = 60.0  # a claim's lifetime; longer than an attempt can take
    batch: int = 64  # deliveries in flight at once in one process
    log_seconds: float = 30 * 86400.0  # delivered and failed deliveries are kept this long
    prune_interval_seconds: float = 3600.0  # how often each process prunes the log


def backoff(options: DeliveryOptions, attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt."""
    return float(min(options.retry_seconds * 2 ** (attempts - 1), options.max_backoff_seconds))


def _now() -> datetime:
    return datetime.now(UTC)


class DeliveryWorker:
    """Claims, sends and settles deliveries until cancelled."""

    def __init__(
        self,
        writer: Writer,
        policy: AddressPolicy,
        options: DeliveryOptions,
        sealer: WebhookSecretSealer,
    ) -> None:
        self._writer = writer
        self._policy = policy
        self._sealer = sealer
        self._options = options
        self._wake = asyncio.Event()
        self._outcomes: list[q.Outcome] = []
        self._outcome_ready = asyncio.Event()
        self._pruned_at = -options.prune_interval_seconds  # the first pass prunes

    def wake(self) -> None:
        """Look at the outbox now (this process just recorded an event)."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled; at most `batch` deliveries in flight, each on its own."""
        connector = aiohttp.TCPConnector(
            resolver=CheckedResolver(self._policy), use_dns_cache=False
        )
        timeout = aiohttp.ClientTimeout(total=self._options.timeout_seconds)
        in_flight: set[asyncio.Task[None]] = set()

        def finished(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            self._wake.set()  # a slot is free

        recorder = asyncio.create_task(self._record_outcomes())
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
                while True:
                    # Events come in bursts (one per webhook of each push): claim them together.
                    await asyncio.sleep(COALESCE_SECONDS)
                    self._wake.clear()
                    await self._prune_log()
                    free = self._options.batch - len(in_flight)
                    claimed = await self._claim(free) if free > 0 else []
                    for item in claimed:
                        task = asyncio.create_task(self._deliver(session, item))
                        in_flight.add(task)
                        task.add_done_callback(finished)
                    if claimed and len(claimed) == free:
                        continue  # more may be due
                    # asyncio.timeout, not wait_for: Python 3.11's wait_for can drop a
                    # cancellation that arrives as the event is set, and this loop then never
                    # ends (a hub shutting down waited for it forever).
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._options.poll_seconds):
                            await self._wake.wait()
        finally:
            # Deliveries cut short keep their leases; another pass sends them when those expire.
            for task in (*in_flight, recorder):
                task.cancel()
            await asyncio.gather(*in_flight, recorder, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._flush()

    async def _record_outcomes(self) -> None:
        """Write finished attempts' outcomes, all that gathered meanwhile in one statement."""
        while True:
            await self._outcome_ready.wait()
            await asyncio.sleep(COALESCE_SECONDS)
            self._outcome_ready.clear()
            try:
                await self._flush()
            except Exception:
                # Their leases expire and the deliveries are sent again: never lost.
                logger.exception("recording webhook delivery outcomes failed")

    async def _flush(self) -> None:
        outcomes, self._outcomes = self._outcomes, []
        if outcomes:
            await self._writer.run(lambda conn: q.settle(conn, outcomes))

    async def _prune_log(self) -> None:
        """Drop old settled deliveries, at most every `prune_interval_seconds`."""
        now = time.monotonic()
        if now - self._pruned_at < self._options.prune_interval_seconds:
            return
        self._pruned_at = now
        before = _now() - timedelta(seconds=self._options.log_seconds)
        try:
            pruned = await self._writer.run(lambda conn: q.prune_settled(conn, before))
        except Exception:
            logger.exception("pruning the webhook delivery log failed")
            return
        if pruned:
            logger.info("pruned %d webhook deliveries older than %s", pruned, before)

    async def _claim(self, limit: int) -> list[q.ClaimedDelivery]:
        now = _now()
        until = now + timedelta(seconds=self._options.lease_seconds)
        try:
            return await self._writer.run(lambda conn: q.claim_due(conn, now, until, limit))
        except Exception:
            logger.exception("claiming webhook deliveries failed")
            return []

    async def _deliver(self, session: aiohttp.ClientSession, item: q.ClaimedDelivery) -> None:
        event = Event.from_json(item.event)
        callback = (
            f"{event.origin}/api/v1/namespaces/{item.namespace}/webhooks/"
            f"{item.webhook_id}/deliveries/{item.id}"
        )
        body, content_type = render(
            event, item.event_id, PayloadFormat(item.payload_format), callback
        )
        started = time.perf_counter()
        code, error = await self._send(session, item, event, body, content_type)
        latency_ms = int((time.perf_counter() - started) * 1000)
        attempts = item.attempts + 1
        now = _now()
        if error is None:
            state, next_at = q.DELIVERED, now
        elif attempts >= self._options.max_attempts:
            state, next_at = q.FAILED, now
        else:
            state = q.PENDING
            next_at = now + timedelta(seconds=backoff(self._options, attempts))
        if error is not None:
            logger.info(
                "webhook %d delivery %d attempt %d failed: %s",
                item.webhook_id,
                item.id,
                attempts,
                error,
            )
        self._outcomes.append(
            q.Outcome(
                item.id,
                state,
                attempts,
                code,
                latency_ms,
                error,
                now if state == q.DELIVERED else None,
                next_at,
            )
        )
        self._outcome_ready.set()

    async def _send(
        self,
        session: aiohttp.ClientSession,
        item: q.ClaimedDelivery,
        event: Event,
        body: bytes,
        content_type: str,
    ) -> tuple[int | None, str | None]:
        """POST one signed delivery: the receiver's status code and the failure, if any."""
        try:
            secret = self._sealer.open(item.namespace, item.secret)
        except WebhookSecretError as exc:
            return None, str(exc)  # a hub with another key-encryption secret: never unsigned
        headers = {
            "Content-Type": content_type,
            "User-Agent": "berth-webhooks",
            "Berth-Event": event.type.value,
            "Berth-Event-Id": item.event_id,
            "Berth-Delivery": str(item.id),
            SIGNATURE_HEADER: signature_header(secret, int(time.time()), body),
        }
        code: int | None = None
        try:
            async with session.post(
                item.url, data=body, headers=headers, allow_redirects=False
            ) as response:
                code = response.status
                await response.content.read(RESPONSE_READ_LIMIT)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return code, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if not 200 <= code < 300:
            return code, f"receiver answered HTTP {code}"
        return code, None
