"""`/api/v1/namespaces/<ns>/webhooks`: create, list, delete, deliveries, redeliver.

The route rule (`namespace`) admits the namespace's user, its organisation's owners and admins.
The secret is in the creation's answer only.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from registry import keys
from registry.api.hub.common import acting_account, address, field, json_body, timestamp
from registry.db.webhook_queries import DeliveryRecord, WebhookRecord
from registry.errors import InvalidRequestError, NotFoundError


def _webhook_json(record: WebhookRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "namespace": record.namespace,
        "repository": record.repository,
        "url": record.url,
        "events": list(record.events),
        "format": record.payload_format,
        "created": timestamp(record.created_at),
        "created_by": record.created_by,
    }


def _delivery_json(record: DeliveryRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "webhook_id": record.webhook_id,
        "event_id": record.event_id,
        "event": record.event_type,
        "status": record.state,
        "attempts": record.attempts,
        "response_code": record.response_code,
        "latency_ms": record.latency_ms,
        "error": record.last_error,
        "created": timestamp(record.created_at),
        "delivered": timestamp(record.delivered_at),
        "next_attempt": timestamp(record.next_attempt_at) if record.state == "pending" else None,
    }


def _int_path(request: web.Request, name: str) -> int:
    value = request.match_info[name]
    if not value.isdigit():
        raise NotFoundError(f"no such {name.removesuffix('_id')} {value!r}")
    return int(value)


async def create_webhook(request: web.Request) -> web.Response:
    namespace = request.match_info["namespace"]
    principal = acting_account(request)
    body = await json_body(request)
    events = body.get("events")
    if events is not None and (
        not isinstance(events, list) or not all(isinstance(e, str) for e in events)
    ):
        raise InvalidRequestError("'events' must be a list of event names", field="events")
    record, secret = await request.app[keys.WEBHOOKS].create(
        namespace,
        field(body, "url", str),
        events=events,
        payload_format=field(body, "format", str, required=False) or "docker",
        repository=field(body, "repository", str, required=False),
        actor=principal.name,
        address=address(request),
    )
    return web.json_response({**_webhook_json(record), "secret": secret}, status=201)


async def list_webhooks(request: web.Request) -> web.Response:
    records = await request.app[keys.WEBHOOKS].list(request.match_info["namespace"])
    return web.json_response({"webhooks": [_webhook_json(record) for record in records]})


async def delete_webhook(request: web.Request) -> web.Response:
    await request.app[keys.WEBHOOKS].delete(
        request.match_info["namespace"],
        _int_path(request, "webhook_id"),
        actor=acting_account(request).name,
        address=address(request),
    )
    return web.Response(status=204)


async def list_deliveries(request: web.Request) -> web.Response:
    limit = request.query.get("n", "100")
    if not limit.isdigit():
        raise InvalidRequestError("'n' must be a number", field="n")
    records = await request.app[keys.WEBHOOKS].deliveries(
        request.match_info["namespace"], _int_path(request, "webhook_id"), int(limit)
    )
    return web.json_response({"deliveries": [_delivery_json(record) for record in records]})


async def redeliver(request: web.Request) -> web.Response:
    delivery_id = await request.app[keys.WEBHOOKS].redeliver(
        request.match_info["namespace"],
        _int_path(request, "webhook_id"),
        _int_path(request, "delivery_id"),
    )
    return web.json_response({"id": delivery_id}, status=202)
