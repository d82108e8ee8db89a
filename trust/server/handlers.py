"""aiohttp handlers for the Notary v1 server routes (thin: parse, authorise, call, respond).

Every handler authorises through the access check the hub hands in, with notary's scopes:
`pull` to read, `push`+`pull` to publish and to fetch/create server keys, `*` to rotate keys
and delete. Trust errors become notary's `{"errors":[{code,message,detail}]}` in `respond`.

Scope: HTTP only.
"""

from __future__ import annotations

import datetime
import email.utils
import enum
import functools
import json
import logging
import re
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http import HttpProcessingError

from trust.server.errors import (
    ERROR_CODES,
    InvalidParametersError,
    MalformedUploadError,
    MetadataNotFoundError,
    TrustServerError,
)
from trust.server.service import TrustService
from trust.server.store.base import StoredMeta

__all__ = [
    "TRUST_ACCESS",
    "TRUST_EXPOSURE",
    "TRUST_SERVICE",
    "AccessCheck",
    "Exposure",
    "ExposureCheck",
    "TrustHandlers",
]

logger = logging.getLogger(__name__)

AccessCheck = Callable[[web.Request, str, frozenset[str]], Awaitable[None]]
"""(request, gun, actions) -> None, or raises the hub's own 401/403 error."""


class Exposure(enum.Enum):
    """Who may read a GUN's trust data, as the server hosting it knows."""

    PUBLIC = "public"  # anyone: shared caches may keep the metadata
    PRIVATE = "private"  # readers need credentials: only their own caches may keep it


ExposureCheck = Callable[[web.Request, str], Awaitable[Exposure]]
"""(request, gun) -> Exposure, asked after the access check."""

TRUST_SERVICE = web.AppKey("trust_service", TrustService)
TRUST_ACCESS: web.AppKey[AccessCheck] = web.AppKey("trust_access")
TRUST_EXPOSURE: web.AppKey[ExposureCheck] = web.AppKey("trust_exposure")

PULL = frozenset({"pull"})
PUSH = frozenset({"push", "pull"})
ADMIN = frozenset({"*"})

_PART_READ = 1024 * 1024  # bytes per read of an uploaded document

_ROLE = r"(?P<role>root|targets(?:/[^/\s]+)*|snapshot|timestamp)"
_BY_VERSION = re.compile(rf"^(?P<version>[1-9]*[0-9]+)\.{_ROLE}\.json$")
_BY_CHECKSUM = re.compile(
    rf"^{_ROLE}\.(?P<checksum>[a-fA-F0-9]{{64}}|[a-fA-F0-9]{{96}}|[a-fA-F0-9]{{128}})\.json$"
)
_CURRENT = re.compile(rf"^{_ROLE}\.json$")
_KEY = re.compile(r"^(?P<role>snapshot|timestamp)\.key$")
_INT64_MAX = 2**63 - 1  # versions and change ids are 64-bit integers, as in notary
_INTEGER = re.compile(r"-?[0-9]+")


def error_response(error: TrustServerError) -> web.Response:
    """Render a trust-server error as notary does."""
    row = ERROR_CODES[error.code]
    body = {"errors": [{"code": row.code, "message": row.message, "detail": error.detail}]}
    return web.json_response(body, status=row.status)


class TrustHandlers:
    """The route handlers; `app[TRUST_SERVICE]` and `app[TRUST_ACCESS]` must be set."""

    def __init__(self, settings_max_upload: int) -> None:
        """Bound publish bodies to `settings_max_upload` bytes."""
        self.max_upload = settings_max_upload

    async def get_file(self, request: web.Request) -> web.StreamResponse:
        """GET `<role>.json`, `<role>.<hash>.json`, `<N>.<role>.json` or `<role>.key`."""
        gun, name = request.match_info["gun"], request.match_info["file"]
        key = _KEY.match(name)
        await request.app[TRUST_ACCESS](request, gun, PUSH if key else PULL)
        service = request.app[TRUST_SERVICE]
        try:
            if key:
                public = await service.get_key(gun, key["role"])
                return _json(public.to_dict())
            exposure = await request.app[TRUST_EXPOSURE](request, gun)
            if match := _BY_VERSION.match(name):
                version = int(match["version"])
                if version > _INT64_MAX:  # no stored version is that large
                    raise MetadataNotFoundError(detail=f"{gun} has no such version")
                stored = await service.get_version(gun, match["role"], version)
                return self._metadata(stored, request, exposure, consistent=True)
            if match := _BY_CHECKSUM.match(name):
                stored = await service.get_checksum(gun, match["role"], match["checksum"])
                return self._metadata(stored, request, exposure, consistent=True)
            if match := _CURRENT.match(name):
                stored = await service.get_current(gun, match["role"])
                return self._metadata(stored, request, exposure, consistent=False)
            raise MetadataNotFoundError()
        except TrustServerError as error:
            return error_response(error)

    async def rotate_key(self, request: web.Request) -> web.StreamResponse:
        """POST `<role>.key`: a new server-held key."""
        gun, role = request.match_info["gun"], request.match_info["role"]
        await request.app[TRUST_ACCESS](request, gun, ADMIN)
        try:
            public = await request.app[TRUST_SERVICE].rotate_key(gun, role)
        except TrustServerError as error:
            return error_response(error)
        return _json(public.to_dict())

    async def publish(self, request: web.Request) -> web.StreamResponse:
        """POST the multipart update."""
        gun = request.match_info["gun"]
        await request.app[TRUST_ACCESS](request, gun, PUSH)
        try:
            parts = await self._read_parts(request)
            await request.app[TRUST_SERVICE].publish(gun, parts)
        except TrustServerError as error:
            return error_response(error)
        return web.Response(status=200)

    async def delete(self, request: web.Request) -> web.StreamResponse:
        """DELETE all trust data of the GUN."""
        gun = request.match_info["gun"]
        await request.app[TRUST_ACCESS](request, gun, ADMIN)
        await request.app[TRUST_SERVICE].delete(gun)
        return web.Response(status=200)

    async def changefeed(self, request: web.Request) -> web.StreamResponse:
        """GET the change feed of one GUN, or of all (`/v2/_trust/changefeed`, needs `*`)."""
        gun = request.match_info.get("gun")
        await request.app[TRUST_ACCESS](request, gun or "", PULL if gun else ADMIN)
        try:
            change_id = _int_param(request, "change_id", 0)
            records = _int_param(request, "records", 100)
        except TrustServerError as error:
            return error_response(error)
        changes = await request.app[TRUST_SERVICE].changes(gun, change_id, records)
        return _json(
            {
                "count": len(changes),
                "records": [
                    {
                        "ID": str(change.id),
                        "CreatedAt": change.created_at.isoformat().replace("+00:00", "Z"),
                        "GUN": change.gun,
                        "Version": change.version,
                        "SHA256": change.sha256,
                        "Category": change.category,
                    }
                    for change in changes
                ],
            }
        )

    async def health(self, request: web.Request) -> web.StreamResponse:
        """GET /_notary_server/health."""
        return _json({})

    async def _read_parts(self, request: web.Request) -> list[tuple[str, bytes]]:
        try:
            return await self._collect_parts(await request.multipart())
        except (AssertionError, ValueError, KeyError, HttpProcessingError) as exc:
            # aiohttp's words for a body that is not the multipart its headers announce.
            raise MalformedUploadError() from exc

    async def _collect_parts(self, reader: MultipartReader) -> list[tuple[str, bytes]]:
        parts: list[tuple[str, bytes]] = []
        budget = self.max_upload
        while True:
            part = await reader.next()
            if part is None:
                return parts
            if not isinstance(part, BodyPartReader):
                raise MalformedUploadError(detail="nested multipart is not supported")
            chunks = []
            # Large reads: the default (8 KiB) makes a publish's one document several reads.
            while chunk := await part.read_chunk(_PART_READ):
                budget -= len(chunk)
                if budget < 0:
                    raise MalformedUploadError(detail="upload too large")
                chunks.append(chunk)
            # Some multipart writers (aiohttp's FormData) percent-encode the file name; role
            # names never contain "%", so decoding is unambiguous.
            parts.append((urllib.parse.unquote(part.filename or ""), b"".join(chunks)))

    def _metadata(
        self, stored: StoredMeta, request: web.Request, exposure: Exposure, *, consistent: bool
    ) -> web.Response:
        settings = request.app[TRUST_SERVICE].settings
        age = settings.consistent_max_age if consistent else settings.current_max_age
        return web.Response(
            body=stored.data,
            headers=_metadata_headers(stored.created_at, exposure, age, consistent),
        )


@functools.lru_cache(maxsize=1024)  # the same few documents are asked for again and again
def _metadata_headers(
    created_at: datetime.datetime, exposure: Exposure, age: int, consistent: bool
) -> dict[str, str]:
    if exposure is Exposure.PUBLIC:
        cache_control = f"public, max-age={age}, s-maxage={age}"
    else:
        # A private repository's metadata names its tags: no shared cache may keep it.
        cache_control = f"private, max-age={age}"
    if not consistent:
        cache_control += ", must-revalidate"
    return {
        "Content-Type": "text/plain; charset=utf-8",
        "Cache-Control": cache_control,
        "Last-Modified": email.utils.format_datetime(created_at, usegmt=True),
    }


def _json(body: Any) -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(), content_type="application/json"
    )


def _int_param(request: web.Request, name: str, default: int) -> int:
    value = request.query.get(name, "")
    if not value:
        return default
    if not _INTEGER.fullmatch(value) or abs(int(value)) > _INT64_MAX:
        raise InvalidParametersError(detail=f"invalid {name} parameter: {value}")
    return int(value)
