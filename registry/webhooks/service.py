"""Managing webhooks: create (the secret shown once), list, delete, deliveries, redeliver.

Called by the JSON API and by `berth-hub webhook`; the namespace is always part of the lookup,
so a namespace's managers see and change only its webhooks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.db import webhook_queries as q
from registry.db.writer import Writer
from registry.errors import InvalidRequestError, NotFoundError
from registry.hub.audit import AuditLog
from registry.oci.reference import is_valid_name
from registry.webhooks.addresses import AddressPolicy
from registry.webhooks.events import DEFAULT_EVENTS, Event, EventType, PayloadFormat
from registry.webhooks.secretseal import WebhookSecretSealer, new_secret

logger = logging.getLogger(__name__)

__all__ = ["WebhookService"]

MAX_DELIVERIES_LISTED = 1000
# Seconds a process trusts its list of namespaces that want pull events: a new pull webhook
# starts receiving within this, and pulls elsewhere cost no query.
PULL_SUBSCRIPTIONS_TTL = 5.0


def _event_types(events: Iterable[str] | None) -> frozenset[str]:
    if events is None:
        return frozenset(e.value for e in DEFAULT_EVENTS)
    chosen = frozenset(events)
    unknown = chosen - {e.value for e in EventType}
    if unknown or not chosen:
        raise InvalidRequestError(
            f"events must be some of {', '.join(e.value for e in EventType)}", field="events"
        )
    return chosen


class WebhookService:
    """Webhooks of namespaces and their delivery logs."""

    def __init__(
        self,
        engine: AsyncEngine,
        writer: Writer,
        policy: AddressPolicy,
        audit: AuditLog,
        sealer: WebhookSecretSealer,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.engine = engine
        self.writer = writer
        self.policy = policy
        self.audit = audit
        self.sealer = sealer
        self.wake = wake
        self._pull_namespaces: frozenset[str] = frozenset()
        self._pull_namespaces_read = -PULL_SUBSCRIPTIONS_TTL

    async def record(self, event: Event) -> None:
        """Write `event`'s deliveries in a transaction of their own (events that change
        nothing: pulls, refusals); a failure is logged, never raised to the request."""
        try:
            deliveries = await self.writer.run(
                lambda conn: q.record_event(conn, event, datetime.now(UTC))
            )
        except Exception:
            logger.exception("could not record %s event of %s", event.type, event.repository)
            return
        if deliveries:
            self.wake()

    async def wants_pulls(self, namespace: str) -> bool:
        """Whether a webhook of the namespace subscribes to pulls (cached briefly)."""
        now = time.monotonic()
        if now - self._pull_namespaces_read > PULL_SUBSCRIPTIONS_TTL:
            async with self.engine.connect() as conn:
                self._pull_namespaces = await q.namespaces_subscribed(conn, EventType.PULL.value)
            self._pull_namespaces_read = now
        return namespace in self._pull_namespaces

    async def create(
        self,
        namespace: str,
        url: str,
        *,
        events: Iterable[str] | None = None,
        payload_format: str = PayloadFormat.DOCKER.value,
        repository: str | None = None,
        actor: str,
        address: str = "",
    ) -> tuple[q.WebhookRecord, str]:
        """Add a webhook; the record and its signing secret (shown this once).

        Args:
            namespace: the namespace whose events it receives.
            url: the receiver (checked against the allow-list, its name resolved).
            events: event types; default every type but `pull`.
            payload_format: `docker` or `cloudevents`.
            repository: one repository of the namespace (its name without the namespace),
                or None for all of them.
            actor: who creates it (the audit log).
            address: the caller's address (the audit log).

        Raises:
            InvalidRequestError: unknown events or format; the URL is refused.
        """
        types = _event_types(events)
        try:
            fmt = PayloadFormat(payload_format)
        except ValueError as exc:
            raise InvalidRequestError(
                "format must be docker or cloudevents", field="format"
            ) from exc
        full_name = None
        if repository is not None:
            full_name = f"{namespace}/{repository.removeprefix(namespace + '/')}"
            if not is_valid_name(full_name):
                raise InvalidRequestError(f"no repository name: {repository!r}", field="repository")
        await self.policy.check_url(url)
        secret = new_secret()
        sealed = self.sealer.seal(namespace, secret)
        now = datetime.now(UTC)
        webhook_id = await self.writer.run(
            lambda conn: q.insert_webhook(
                conn,
                namespace=namespace,
                repository=full_name,
                url=url,
                events=types,
                payload_format=fmt.value,
                secret=sealed,
                now=now,
                actor=actor,
            )
        )
        await self.audit.record(
            actor,
            "webhook-create",
            full_name or namespace,
            address,
            webhook=webhook_id,
            events=sorted(types),
        )
        record = q.WebhookRecord(
            webhook_id, namespace, full_name, url, tuple(sorted(types)), fmt.value, now, actor
        )
        return record, secret

    async def list(self, namespace: str) -> list[q.WebhookRecord]:
        async with self.engine.connect() as conn:
            return await q.webhooks_of(conn, namespace)

    async def delete(
        self, namespace: str, webhook_id: int, *, actor: str, address: str = ""
    ) -> None:
        """Remove a webhook and its deliveries.

        Raises:
            NotFoundError: the namespace has no such webhook.
        """
        if not await self.writer.run(lambda conn: q.delete_webhook(conn, namespace, webhook_id)):
            raise NotFoundError(f"no webhook {webhook_id} in {namespace!r}", webhook=webhook_id)
        await self.audit.record(actor, "webhook-delete", namespace, address, webhook=webhook_id)

    async def deliveries(
        self, namespace: str, webhook_id: int, limit: int = 100
    ) -> list[q.DeliveryRecord]:
        """The webhook's newest deliveries first.

        Raises:
            NotFoundError: the namespace has no such webhook.
        """
        async with self.engine.connect() as conn:
            found = await q.deliveries(
                conn, namespace, webhook_id, min(max(limit, 1), MAX_DELIVERIES_LISTED)
            )
        if found is None:
            raise NotFoundError(f"no webhook {webhook_id} in {namespace!r}", webhook=webhook_id)
        return found

    async def redeliver(self, namespace: str, webhook_id: int, delivery_id: int) -> int:
        """Send a delivery's event again, as a new delivery with the same event id.

        Raises:
            NotFoundError: no such delivery of that webhook in the namespace.
        """
        now = datetime.now(UTC)
        new_id = await self.writer.run(
            lambda conn: q.redeliver(conn, namespace, webhook_id, delivery_id, now)
        )
        if new_id is None:
            raise NotFoundError(
                f"no delivery {delivery_id} of webhook {webhook_id}", delivery=delivery_id
            )
        self.wake()
        return new_id
