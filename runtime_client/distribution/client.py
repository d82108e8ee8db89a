"""An HTTP client for one OCI distribution-spec registry (any of them: Berth, Distribution...).

Scope: the wire protocol only (distribution-spec 1.1 §pull, §push, §content discovery, plus
Docker's v1 search): authenticated requests, manifests, blobs streamed into a content-store
writer with resume, chunked uploads with retry, cross-repository mount, tag listing. What to
pull or push, and the local stores, belong to `runtime_client.ops.pull` / `ops.push`.

Authentication: a request is sent with the best `Authorization` we hold for its scopes; on a
401 the challenge is answered (`runtime_client.distribution.auth`) and the request retried once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, BinaryIO
from urllib.parse import quote

import aiohttp
from yarl import URL

from registry.oci import mediatypes as mt
from registry.oci.digest import Digest
from runtime_client.content.store import ContentWriter
from runtime_client.distribution.auth import basic_header, fetch_token, parse_challenge
from runtime_client.distribution.credentials import Credentials
from runtime_client.errors import (
    AuthenticationError,
    NotFoundInRegistryError,
    RegistryRequestError,
)

__all__ = ["MANIFEST_ACCEPT", "RegistryClient", "open_session"]

logger = logging.getLogger(__name__)

MANIFEST_ACCEPT = ", ".join(
    [mt.OCI_INDEX, mt.DOCKER_MANIFEST_LIST, mt.OCI_MANIFEST, mt.DOCKER_MANIFEST]
)
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # distribution-spec: registries SHOULD accept >= 4 MiB
UPLOAD_CHUNK = 16 * 1024 * 1024  # bytes per PATCH of a chunked upload
WRITE_BATCH = 1024 * 1024  # bytes handed to the writer thread at once
RETRIES = 4  # per blob transfer, after the first attempt
_TRANSIENT = (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)
SEARCH_SCOPE = "registry:catalog:search"  # what a token must claim to search as its account


def worth_retrying(error: BaseException) -> bool:
    """Whether sending a blob or manifest again may succeed: the connection failed or was cut,
    the registry answered with a server error, or it no longer knows an upload session (it
    expired, or a request whose answer was lost closed it). Not a refusal such as 401 or 403."""
    if isinstance(error, RegistryRequestError):
        return (error.status is None or error.status >= 500
                or error.code == "BLOB_UPLOAD_UNKNOWN")
    return isinstance(error, _TRANSIENT)

ProgressCallback = Callable[[int], None]


def open_session(concurrency: int = 16) -> aiohttp.ClientSession:
    """A session suited to registries: no transparent decompression, no total timeout."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=300),
        connector=aiohttp.TCPConnector(limit=concurrency),
        auto_decompress=False,
    )


def pull_scope(repository: str) -> str:
    """The token scope for reading `repository`."""
    return f"repository:{repository}:pull"


def push_scope(repository: str) -> str:
    """The token scope for writing `repository`."""
    return f"repository:{repository}:pull,push"


class RegistryClient:
    """Requests to one registry host, with auth handled.

    Args:
        host: `host[:port]` as written in image names (`docker.io` maps to Docker Hub's API).
        session: the aiohttp session to use (owned by the caller).
        credentials: saved credentials for this host, if any.
        insecure: speak plain HTTP.
    """

    def __init__(self, host: str, session: aiohttp.ClientSession, *,
                 credentials: Credentials | None = None, insecure: bool = False) -> None:
        self.host = host
        api_host = "registry-1.docker.io" if host == "docker.io" else host
        self.base = URL(f"{'http' if insecure else 'https'}://{api_host}")
        self._session = session
        self._credentials = credentials
        self._auth: dict[tuple[str, ...], str] = {}
        self._token_lock = asyncio.Lock()

    # -- requests --------------------------------------------------------------------------

    def url(self, path: str) -> URL:
        """An absolute URL on this registry for `path` (or a Location header value)."""
        return self.base.join(URL(path))

    async def request(self, method: str, url: URL | str, scopes: list[str],
                      **kwargs: Any) -> aiohttp.ClientResponse:
        """Send a request, answering one auth challenge; the caller releases the response.

        Raises:
            RegistryRequestError: the registry could not be reached.
            AuthenticationError: the registry still refuses after the challenge was answered.
        """
        target = url if isinstance(url, URL) else self.url(url)
        key = tuple(scopes)
        headers = dict(kwargs.pop("headers", None) or {})
        for attempt in range(2):
            if key in self._auth:
                headers["Authorization"] = self._auth[key]
            try:
                response = await self._session.request(method, target, headers=headers,
                                                       **kwargs)
            except aiohttp.ClientConnectorError as exc:
                raise RegistryRequestError(f'{method} "{target}": {exc}') from exc
            if response.status != 401 or attempt == 1:
                return response
            challenge_header = response.headers.get("WWW-Authenticate", "")
            response.release()
            await self._answer(challenge_header, key)
        raise AssertionError("unreachable")

    async def _answer(self, header: str, scopes: tuple[str, ...]) -> None:
        challenge = parse_challenge(header)
        if challenge.scheme == "bearer":
            async with self._token_lock:
                token = await fetch_token(self._session, challenge, list(scopes),
                                          self._credentials)
            self._auth[scopes] = f"Bearer {token}"
        elif challenge.scheme == "basic" and self._credentials is not None:
            self._auth[scopes] = basic_header(self._credentials)
        else:
            raise AuthenticationError(
                "unauthorized: authentication required", status=401
            )

    async def _fail(self, response: aiohttp.ClientResponse, what: str) -> RegistryRequestError:
        """A typed error for an unexpected response (its body parsed for OCI error codes)."""
        code = message = None
        try:
            body = await response.json(content_type=None)
            first = (body.get("errors") or [{}])[0]
            code, message = first.get("code"), first.get("message")
        except (ValueError, AttributeError, aiohttp.ClientError):
            pass
        finally:
            response.release()
        if code is None and response.status == 401:  # e.g. a HEAD: no body to explain it
            code, message = "UNAUTHORIZED", "authentication required"
        text = f"{what}: {(code or '').lower().replace('_', ' ') or response.reason}"
        if message and message.lower() != (code or "").lower().replace("_", " "):
            text += f": {message}"
        if response.status == 404:
            return NotFoundInRegistryError(text, response.status, code)
        if response.status in (401, 403):
            return AuthenticationError(text, response.status, code)
        return RegistryRequestError(text, response.status, code)

    async def ping(self) -> None:
        """`GET /v2/`, answering any challenge (what `login` uses to check credentials).

        Raises:
            AuthenticationError: the credentials are refused.
        """
        response = await self.request("GET", "/v2/", [])
        if response.status != 200:
            raise await self._fail(response, f"login to {self.host}")
        response.release()

    async def ensure_reachable(self) -> None:
        """`GET /v2/` without credentials, as Docker's first request: fail at once when the
        registry is down, so that later failures are retried as connections that were cut.

        Raises:
            RegistryRequestError: the registry could not be reached.
        """
        target = self.url("/v2/")
        try:
            async with self._session.get(target) as response:
                await response.read()
        except _TRANSIENT as exc:
            raise RegistryRequestError(f'GET "{target}": {exc}') from exc

    # -- manifests and tags ----------------------------------------------------------------

    async def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str, Digest]:
        """Fetch a manifest by tag or digest, accepting every manifest type.

        Returns:
            The exact bytes, their media type, and their digest (verified against a digest
            reference).

        Raises:
            NotFoundInRegistryError: unknown repository or manifest.
            RegistryRequestError: a digest reference whose content does not match.
        """
        response = await self.request(
            "GET", f"/v2/{repository}/manifests/{reference}", [pull_scope(repository)],
            headers={"Accept": MANIFEST_ACCEPT},
        )
        if response.status != 200:
            raise await self._fail(response, f"manifest for {repository}:{reference}")
        async with response:
            data = await response.content.read(MAX_MANIFEST_BYTES + 1)
            media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if len(data) > MAX_MANIFEST_BYTES:
            raise RegistryRequestError(f"manifest for {repository}:{reference} is too large")
        if reference.startswith("sha256:") or reference.startswith("sha512:"):
            expected = Digest.parse(reference)
            if not expected.verify(data):
                raise RegistryRequestError(
                    f"manifest verification failed for digest {reference}"
                )
            digest = expected
        else:
            digest = Digest.of(data)
        return data, media_type, digest

    async def put_manifest(self, repository: str, reference: str, data: bytes,
                           media_type: str) -> Digest:
        """Push manifest bytes under a tag (or digest); returns their digest."""
        response = await self.request(
            "PUT", f"/v2/{repository}/manifests/{reference}", [push_scope(repository)],
            data=data, headers={"Content-Type": media_type},
        )
        if response.status not in (200, 201, 202):
            raise await self._fail(response, f"push manifest {repository}:{reference}")
        response.release()
        return Digest.of(data)

    async def referrers(self, repository: str, digest: Digest) -> list[dict[str, Any]]:
        """The descriptors of the manifests whose `subject` is `digest`.

        The referrers API (OCI distribution-spec 1.1 "Listing Referrers"), else, when the
        registry does not offer it (404), the referrers tag schema: an index tagged
        `<alg>-<hex>`. Neither: no referrers.
        """
        response = await self.request("GET", f"/v2/{repository}/referrers/{digest}",
                                      [pull_scope(repository)])
        if response.status == 200:
            async with response:
                body = await response.content.read(MAX_MANIFEST_BYTES + 1)
        elif response.status == 404:
            response.release()
            try:
                body, _, _ = await self.get_manifest(repository, str(digest).replace(":", "-"))
            except NotFoundInRegistryError:
                return []
        else:
            raise await self._fail(response, f"referrers of {repository}@{digest}")
        try:
            manifests = json.loads(body).get("manifests") or []
        except (ValueError, AttributeError) as exc:
            raise RegistryRequestError(f"referrers of {digest}: not an image index") from exc
        return [m for m in manifests if isinstance(m, dict)]

    async def list_tags(self, repository: str) -> list[str]:
        """Every tag of a repository, following `Link` pagination."""
        tags: list[str] = []
        url: URL | str = f"/v2/{repository}/tags/list"
        while url:
            response = await self.request("GET", url, [pull_scope(repository)])
            if response.status != 200:
                raise await self._fail(response, f"tags of {repository}")
            async with response:
                body = await response.json(content_type=None)
                link = response.headers.get("Link", "")
            tags.extend(body.get("tags") or [])
            url = self.url(link.split(";")[0].strip().strip("<>")) if link else ""
        return tags

    # -- blobs -----------------------------------------------------------------------------

    async def get_blob(self, repository: str, digest: Digest) -> bytes:
        """A small blob (a config), verified against its digest."""
        response = await self.request("GET", f"/v2/{repository}/blobs/{digest}",
                                      [pull_scope(repository)])
        if response.status != 200:
            raise await self._fail(response, f"blob {digest}")
        async with response:
            data = await response.read()
        if not digest.verify(data):
            raise RegistryRequestError(f"blob {digest}: content does not match its digest")
        return data

    async def fetch_blob(self, repository: str, digest: Digest, writer: ContentWriter,
                         size: int, progress: ProgressCallback) -> None:
        """Stream a blob into `writer`, resuming from `writer.offset` with a Range request,
        and retrying transient failures from wherever the bytes stopped. The caller commits.

        Raises:
            RegistryRequestError: the registry refused, or kept failing.
        """
        path = f"/v2/{repository}/blobs/{digest}"
        failures = 0
        while True:
            if writer.offset > size:
                writer.truncate()
            if writer.offset == size:
                return
            headers = {"Range": f"bytes={writer.offset}-"} if writer.offset else {}
            try:
                response = await self.request("GET", path, [pull_scope(repository)],
                                              headers=headers)
                if response.status == 416:
                    response.release()
                    writer.truncate()
                    continue
                if response.status not in (200, 206):
                    raise await self._fail(response, f"blob {digest}")
                async with response:
                    if response.status == 200 and writer.offset:
                        await asyncio.to_thread(writer.truncate)  # Range was ignored
                    await self._drain(response, writer, progress)
                return
            except _TRANSIENT as exc:
                failures += 1
                if failures > RETRIES:
                    raise RegistryRequestError(f"download of {digest} failed: {exc}") from exc
                logger.info("retrying %s from byte %d after: %s", digest, writer.offset, exc)
                await asyncio.sleep(0.5 * 2**failures)

    @staticmethod
    async def _drain(response: aiohttp.ClientResponse, writer: ContentWriter,
                     progress: ProgressCallback) -> None:
        # Hash and write in a worker thread (hashlib releases the GIL), so that several
        # layers downloading at once use more than one core.
        batch = bytearray()
        async for chunk in response.content.iter_any():
            batch += chunk
            if len(batch) >= WRITE_BATCH:
                full, batch = batch, bytearray()  # hand over the buffer, no copy
                await asyncio.to_thread(writer.write, full)
                progress(writer.offset)
        if batch:
            await asyncio.to_thread(writer.write, batch)
            progress(writer.offset)

    async def blob_exists(self, repository: str, digest: Digest) -> bool:
        """`HEAD` a blob in a repository."""
        response = await self.request("HEAD", f"/v2/{repository}/blobs/{digest}",
                                      [push_scope(repository)])
        response.release()
        if response.status == 200:
            return True
        if response.status == 404:
            return False
        raise await self._fail(response, f"check blob {digest}")

    async def mount_blob(self, repository: str, digest: Digest, source: str) -> URL | None:
        """Try a cross-repository mount; None when it worked, else an upload URL to use.

        (distribution-spec §"Mounting a blob from another repository": 201 = mounted,
        202 = the registry opened an ordinary upload session instead.)
        """
        response = await self.request(
            "POST", f"/v2/{repository}/blobs/uploads/?mount={digest}&from={quote(source)}",
            [push_scope(repository), pull_scope(source)],
        )
        if response.status == 201:
            response.release()
            return None
        if response.status == 202:
            response.release()
            return self.url(response.headers["Location"])
        raise await self._fail(response, f"mount {digest} from {source}")

    async def start_upload(self, repository: str) -> URL:
        """Open an upload session; returns its URL."""
        response = await self.request("POST", f"/v2/{repository}/blobs/uploads/",
                                      [push_scope(repository)])
        if response.status != 202:
            raise await self._fail(response, f"start upload to {repository}")
        response.release()
        return self.url(response.headers["Location"])

    async def upload_blob(
        self,
        repository: str,
        digest: Digest,
        size: int,
        open_blob: Callable[[], AbstractContextManager[BinaryIO]],
        progress: ProgressCallback,
        location: URL | None = None,
    ) -> None:
        """Upload a blob in chunks (PATCH with Content-Range), then close it with its digest.

        A failed chunk is retried after asking the registry how much it holds (GET on the
        upload URL, `Range: 0-N`), so no byte is sent twice and none is skipped. A registry
        that cannot say (Distribution refuses a session URL whose state token predates the
        lost answer) gets the blob again in a fresh session.

        Raises:
            RegistryRequestError: the registry refused the upload, or it kept failing.
        """
        scopes = [push_scope(repository)]
        location = location or await self.start_upload(repository)
        offset, failures = 0, 0
        with open_blob() as blob:
            while offset < size:
                blob.seek(offset)
                chunk = await asyncio.to_thread(blob.read, UPLOAD_CHUNK)
                end = offset + len(chunk) - 1
                try:
                    response = await self.request(
                        "PATCH", location, scopes, data=chunk,
                        headers={"Content-Type": "application/octet-stream",
                                 "Content-Range": f"{offset}-{end}"},
                    )
                    if response.status != 202:
                        raise await self._fail(response, f"upload {digest}")
                    response.release()
                    location = self.url(response.headers.get("Location", str(location)))
                    offset = end + 1
                    progress(offset)
                except _TRANSIENT as exc:
                    failures += 1
                    if failures > RETRIES:
                        raise RegistryRequestError(f"upload of {digest} failed: {exc}") from exc
                    await asyncio.sleep(0.5 * 2**failures)
                    try:
                        location, offset = await self._upload_status(location, scopes)
                        logger.info("resuming upload of %s at byte %d", digest, offset)
                    except RegistryRequestError as status_error:
                        logger.info("restarting upload of %s: %s", digest, status_error)
                        location, offset = await self.start_upload(repository), 0
        response = await self.request(
            "PUT", location.update_query({"digest": str(digest)}), scopes,
            data=b"", headers={"Content-Type": "application/octet-stream"},
        )
        if response.status not in (201, 204):
            raise await self._fail(response, f"upload {digest}")
        response.release()

    async def _upload_status(self, location: URL, scopes: list[str]) -> tuple[URL, int]:
        response = await self.request("GET", location, scopes)
        if response.status not in (200, 204):
            raise await self._fail(response, "upload status")
        response.release()
        byte_range = response.headers.get("Range", "")
        new_location = self.url(response.headers.get("Location", str(location)))
        if "-" not in byte_range or byte_range.strip() == "0-0":
            # Registries (Distribution, Berth) answer "0-0" for an empty upload too; an
            # upload that really holds one byte is vanishingly rare and then fails with 416.
            return new_location, 0
        return new_location, int(byte_range.rsplit("-", 1)[1]) + 1

    # -- search ----------------------------------------------------------------------------

    async def search(self, term: str, limit: int) -> dict[str, Any]:
        """Docker's v1 search: `GET /v1/search?q=&n=&page=1`.

        Search answers anyone, so no challenge would ever ask for the saved login: with one,
        the token for `registry:catalog:search` (or basic auth) is fetched up front, as the
        Docker daemon does, so that the user's private repositories are found too.
        """
        scopes = [SEARCH_SCOPE]
        if self._credentials is not None and tuple(scopes) not in self._auth:
            target = self.url("/v2/")
            try:
                async with self._session.get(target) as ping:
                    challenge = ping.headers.get("WWW-Authenticate", "")
            except _TRANSIENT as exc:
                raise RegistryRequestError(f'GET "{target}": {exc}') from exc
            if ping.status == 401 and challenge:
                await self._answer(challenge, tuple(scopes))
        response = await self.request("GET", "/v1/search", scopes,
                                      params={"q": term, "n": str(limit), "page": "1"})
        if response.status != 200:
            raise await self._fail(response, f"search {self.host}")
        async with response:
            result = await response.json(content_type=None)
        return result if isinstance(result, dict) else {}
