"""`/v2/<name>/manifests/<reference>`: GET, HEAD, PUT, DELETE by tag or digest."""

from __future__ import annotations

from aiohttp import web

from registry import keys
from registry.api import urls
from registry.api.conditional import none_match
from registry.api.handlers.common import PUSH_RECORD, cause, repository_name
from registry.db.queries import ManifestRecord
from registry.errors import (
    ManifestInvalidError,
    ManifestTooLargeError,
    ManifestUnknownError,
    UnsupportedError,
)
from registry.oci import mediatypes as mt
from registry.oci.digest import Digest, DigestError
from registry.oci.manifest import ManifestError, parse_manifest
from registry.services.manifests import parse_reference


def _reference(request: web.Request, *, pushing: bool = False) -> Digest | str:
    raw = request.match_info["reference"]
    try:
        return parse_reference(raw)
    except (ValueError, DigestError) as exc:
        error = ManifestInvalidError if pushing else ManifestUnknownError
        raise error(str(exc), reference=raw) from exc


def _accepts(request: web.Request) -> set[str]:
    accepted: set[str] = set()
    for header in request.headers.getall("Accept", []):
        accepted.update(part.split(";")[0].strip() for part in header.split(","))
    return accepted


async def _negotiate(request: web.Request, name: str, record: ManifestRecord) -> ManifestRecord:
    """Serve an index's linux/amd64 image to clients that cannot read indexes.

    A client that lists manifest types in Accept but no index type (old Docker clients pulling
    by tag) gets the default platform's manifest, as Distribution does.
    """
    accepted = _accepts(request)
    if (
        record.media_type not in mt.INDEX_TYPES
        or not accepted
        or accepted & (mt.INDEX_TYPES | {"*/*"})
        or not accepted & mt.IMAGE_TYPES
    ):
        return record
    try:
        index = parse_manifest(record.payload, record.media_type)
    except ManifestError:
        # Stored before pushes were fully validated: serve it as it is rather than fail.
        return record
    for child in index.manifests:
        platform = child.platform or {}
        if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
            return await request.app[keys.MANIFESTS].get(name, child.digest)
    return record


# Distribution serves OCI types only to clients that name them; Docker types go to anyone.
_OCI_REFUSALS = {
    mt.OCI_MANIFEST: "OCI manifest found, but accept header does not support OCI manifests",
    mt.OCI_INDEX: "OCI index found, but accept header does not support OCI indexes",
}
_ANY_TYPE = frozenset({"*/*", "application/*"})


def _check_acceptable(request: web.Request, record: ManifestRecord) -> None:
    """Refuse an OCI manifest or index to a client whose Accept lists other manifest types.

    Like Distribution (by tag and by digest), so a client that reads only Docker schema 2
    learns why instead of failing on a document it cannot read. A client that sends no
    Accept, or a wildcard, or no manifest type at all accepts anything (RFC 9110 12.5.1).

    Raises:
        ManifestUnknownError: with Distribution's message.
    """
    refusal = _OCI_REFUSALS.get(record.media_type)
    accepted = _accepts(request)
    if (
        refusal is not None
        and accepted & mt.MANIFEST_TYPES
        and not accepted & (_ANY_TYPE | {record.media_type})
    ):
        raise ManifestUnknownError(refusal, media_type=record.media_type)


def _headers(record: ManifestRecord) -> dict[str, str]:
    return {
        "Content-Type": record.media_type,
        "Docker-Content-Digest": record.digest,
        "ETag": f'"{record.digest}"',
    }


async def _requested_manifest(request: web.Request) -> ManifestRecord:
    name = repository_name(request)
    reference = _reference(request)
    record = await request.app[keys.MANIFESTS].get(name, reference)
    if record.trust_required:
        await request.app[keys.CONTENT_TRUST].check(name, reference, record)
    if isinstance(reference, str):
        record = await _negotiate(request, name, record)
    _check_acceptable(request, record)
    return record


def _not_modified(request: web.Request, record: ManifestRecord) -> web.Response | None:
    """304 when `If-None-Match` names the manifest served (RFC 9110 13.1.2), else None."""
    headers = _headers(record)
    if not none_match(request.headers.get("If-None-Match"), headers["ETag"]):
        return None
    del headers["Content-Type"]
    return web.Response(status=304, headers=headers)


async def get_manifest(request: web.Request) -> web.Response:
    record = await _requested_manifest(request)
    not_modified = _not_modified(request, record)
    if not_modified is not None:
        return not_modified
    return web.Response(body=record.payload, headers=_headers(record))


async def head_manifest(request: web.Request) -> web.Response:
    record = await _requested_manifest(request)
    not_modified = _not_modified(request, record)
    if not_modified is not None:
        return not_modified
    headers = _headers(record)
    headers["Content-Length"] = str(len(record.payload))
    return web.Response(headers=headers)


async def _read_bounded(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise ManifestTooLargeError(f"manifest exceeds {limit} bytes", limit=limit)
    # StreamReader.read(n) returns whatever has arrived (one TLS record, say), not n bytes:
    # read to the end of the body.
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise ManifestTooLargeError(f"manifest exceeds {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def put_manifest(request: web.Request) -> web.Response:
    name = repository_name(request)
    reference = _reference(request, pushing=True)
    payload = await _read_bounded(request, request.app[keys.SETTINGS].max_manifest_bytes)
    pushed = await request.app[keys.MANIFESTS].put(
        name,
        reference,
        payload,
        request.headers.get("Content-Type"),
        cause(request),
        record=request.get(PUSH_RECORD),
    )
    headers = {
        "Location": urls.manifest(name, str(pushed.digest)),
        "Docker-Content-Digest": str(pushed.digest),
    }
    if pushed.subject is not None:
        headers["OCI-Subject"] = str(pushed.subject)
    return web.Response(status=201, headers=headers)


async def delete_manifest(request: web.Request) -> web.Response:
    name = repository_name(request)
    reference = _reference(request)
    if not request.app[keys.SETTINGS].delete_enabled:
        raise UnsupportedError("deletes are disabled")
    await request.app[keys.MANIFESTS].delete(name, reference, cause(request))
    return web.Response(status=202)
