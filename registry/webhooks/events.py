"""Webhook events and the bodies sent for them: Docker Hub's shape or CloudEvents 1.0.

An `Event` is what the outbox stores (as JSON) in the transaction of the change; the body is
rendered from it at delivery, in the webhook's format. Pure: no I/O, times are given.

Docker Hub's shape (`callback_url`, `push_data`, `repository`) is what Hub receivers parse; it
has no field for anything but pushes, so every body also says `event`, and `push_data` carries
the tag and digest the event concerns (for a pull, who pulled and when; for a refusal, the
`reason`). CloudEvents use structured mode (the whole event is the JSON body, type
`application/cloudevents+json`), `type` `io.berth.<event>`, `subject` the tag or digest.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "ANONYMOUS_CAUSE",
    "CLOUDEVENTS_TYPE",
    "DEFAULT_EVENTS",
    "Cause",
    "Event",
    "EventType",
    "PayloadFormat",
    "render",
]

CLOUDEVENTS_TYPE = "application/cloudevents+json"


class EventType(StrEnum):
    """What a webhook may subscribe to."""

    PUSH = "push"
    TAG_DELETE = "tag_delete"
    REPOSITORY_DELETE = "repository_delete"
    PULL = "pull"  # opt-in: never part of the default subscription
    TRUST_PUBLISH = "trust_publish"
    SIGNATURE_DENIED = "signature_denied"


DEFAULT_EVENTS = frozenset(EventType) - {EventType.PULL}


class PayloadFormat(StrEnum):
    """The body a webhook receives."""

    DOCKER = "docker"
    CLOUDEVENTS = "cloudevents"


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to a repository.

    Attributes:
        type: the event type.
        repository: the repository's full name (`acme/app`).
        occurred_at: unix seconds.
        actor: who did it (`-` for anonymous).
        origin: the hub's URL as the request that caused it named it (`http://hub:5000`).
        tag: the tag concerned, if any.
        digest: the manifest digest concerned, if any.
        reason: why (a refusal's message).
    """

    type: EventType
    repository: str
    occurred_at: int
    actor: str
    origin: str
    tag: str | None = None
    digest: str | None = None
    reason: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Event:
        data = json.loads(text)
        data["type"] = EventType(data["type"])
        return cls(**data)


@dataclass(frozen=True, slots=True)
class Cause:
    """Who causes a change, and the hub's URL as their request named it."""

    actor: str = "-"
    origin: str = ""

    def event(self, kind: EventType, repository: str, **fields: str | None) -> Event:
        """The event of this cause, happening now."""
        return Event(kind, repository, int(time.time()), self.actor, self.origin, **fields)


ANONYMOUS_CAUSE = Cause()


def _docker(event: Event, event_id: str, callback_url: str) -> dict[str, Any]:
    namespace, _, name = event.repository.partition("/")
    push_data: dict[str, Any] = {
        "pushed_at": event.occurred_at,
        "pusher": event.actor,
        "tag": event.tag,
        "digest": event.digest,
        "images": [],
    }
    if event.reason is not None:
        push_data["reason"] = event.reason
    return {
        "callback_url": callback_url,
        "event": event.type.value,
        "event_id": event_id,
        "push_data": push_data,
        "repository": {
            "name": name,
            "namespace": namespace,
            "owner": namespace,
            "repo_name": event.repository,
            "repo_url": f"{event.origin}/r/{event.repository}",
            "is_official": namespace == "library",
            "is_trusted": False,
            "status": "Deleted" if event.type is EventType.REPOSITORY_DELETE else "Active",
        },
    }


def _cloudevent(event: Event, event_id: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "repository": event.repository,
        "tag": event.tag,
        "digest": event.digest,
        "actor": event.actor,
    }
    if event.reason is not None:
        data["reason"] = event.reason
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": f"{event.origin}/r/{event.repository}",
        "type": f"io.berth.{event.type.value}",
        "subject": event.tag or event.digest or event.repository,
        "time": datetime.fromtimestamp(event.occurred_at, UTC).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": data,
    }


def render(
    event: Event, event_id: str, payload_format: PayloadFormat, callback_url: str
) -> tuple[bytes, str]:
    """The body and its content type for one delivery of `event`.

    Args:
        event: what happened.
        event_id: the event's id (the same for every webhook and every redelivery).
        payload_format: the webhook's format.
        callback_url: where the delivery can be looked at on the hub (Docker's shape only).
    """
    if payload_format is PayloadFormat.CLOUDEVENTS:
        return json.dumps(_cloudevent(event, event_id)).encode(), CLOUDEVENTS_TYPE
    return json.dumps(_docker(event, event_id, callback_url)).encode(), "application/json"
