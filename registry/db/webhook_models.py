"""SQLAlchemy models of webhooks and their outbox of deliveries.

A `Webhook` belongs to a namespace (optionally narrowed to one repository of it). Every change
that makes an event writes one `WebhookDelivery` row per matching webhook in the same
transaction as the change (the outbox), so an event is never lost with a hub process and a push
never waits for a receiver. Delivery workers in every hub process claim rows with a lease
(`lease_owner`, `lease_until`), so each row is sent by one process at a time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db.models import Base

__all__ = ["Webhook", "WebhookDelivery"]


class Webhook(Base):
    """A receiver URL for some events of a namespace or of one of its repositories.

    `secret` signs deliveries (HMAC-SHA256). It must be opened to sign, so it is stored sealed
    with the hub's key-encryption secret (`registry.webhooks.secretseal`), shown to its creator
    once and never listed.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    namespace: Mapped[str] = mapped_column(String(64), index=True)
    repository: Mapped[str | None] = mapped_column(String(255), nullable=True)  # full name
    url: Mapped[str] = mapped_column(Text)
    # Event types between commas, ",push,tag_delete,", so one LIKE picks the subscribers.
    events: Mapped[str] = mapped_column(String(255))
    payload_format: Mapped[str] = mapped_column(String(16))  # "docker" or "cloudevents"
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))


class WebhookDelivery(Base):
    """One event for one webhook: the outbox row and, once tried, its delivery log."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(36))  # the same for every webhook of an event
    event_type: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(Text)  # JSON: what happened, rendered at delivery
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16))  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lease_owner: Mapped[str | None] = mapped_column(String(36), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    response_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        Index(None, "state", "next_attempt_at"),
        Index(None, "webhook_id", "id"),
    )
