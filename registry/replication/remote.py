"""A remote registry as a replication endpoint, over the proxy's upstream client.

Token authentication (the 401 challenge, scopes, anonymous tokens, basic auth) is
`registry.proxy.upstream.UpstreamClient`'s; this adds what pushing needs: uploads (a POST
for the session, then one PUT streaming the blob), cross-repository mounts and manifest PUTs,
each asking for `pull,push` on the destination. Tags and the catalog are read page by page
(`Link` headers, distribution-spec "Listing Tags"); the referrers API answering 404 (a
registry without it, as Distribution 2.8) says so (None), and the copier keeps the referrers
tag schema's index there instead.
"""

from __future__ import annotations

import contextlib
import json
import logging
import ssl
from collections.abc import AsyncIterator
from urllib.parse import urljoin

import aiohttp

from registry.oci.digest import Digest
from registry.oci.manifest import Descriptor, ManifestError
from registry.proxy.config import ProxyNamespace
from registry.proxy.upstream import UpstreamClient, UpstreamNotFoundError
from registry.replication.endpoint import BlobStream, Fetched
from registry.replication.rules import repository_matches

logger = logging.getLogger(__name__)

__all__ = ["RemoteEndpoint", "client_session"]

CHUNK = 1 << 20  # bytes read from a blob response at a time
PAGE = 1000  # tags or repositories asked for per page
MAX_PAGES = 1000
_GLOB_CHARS = frozenset("*?[")


def client_session(tls_verify: bool, ca_pem: str | None) -> aiohttp.ClientSession:
    """A client session for one remote: its TLS settings, bodies left compressed as sent."""
    if not tls_verify:
        verify: ssl.SSLContext | bool = False
    elif ca_pem:
        verify = ssl.create_default_context(cadata=ca_pem)
    else:
        verify = True
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=verify), auto_decompress=False, trust_env=True
    )


class RemoteEndpoint:
    """Another registry, reached through `client`.

    Args:
        client: the authenticated client of the remote.
        max_manifest_bytes: larger manifests are refused.
    """

    def __init__(self, client: UpstreamClient, max_manifest_bytes: int) -> None:
        self.client = client
        self.name = client.url
        self.mounts_anywhere = False
        self.max_manifest_bytes = max_manifest_bytes

    @classmethod
    def connect(
        cls,
        url: str,
        username: str | None,
        password: str | None,
        session: aiohttp.ClientSession,
        max_manifest_bytes: int,
    ) -> RemoteEndpoint:
        remote = ProxyNamespace("replication", url, username)
        return cls(UpstreamClient(remote, password, session), max_manifest_bytes)

    async def repositories(self, pattern: str) -> list[str]:
        if not _GLOB_CHARS & set(pattern):
            return [pattern]  # a plain name: no need for the catalog (nor its scope)
        names = await self._pages("_catalog", "repositories", "registry:catalog:*")
        return [name for name in names if repository_matches(name, pattern)]

    async def tags(self, repository: str) -> list[str]:
        try:
            return await self._pages(f"{repository}/tags/list", "tags", None, repository)
        except UpstreamNotFoundError:
            return []

    async def _pages(
        self, path: str, key: str, scope: str | None, repository: str = ""
    ) -> list[str]:
        found: list[str] = []
        url: str | None = f"{self.client.url}/v2/{path}?n={PAGE}"
        for _ in range(MAX_PAGES):
            if url is None:
                break
            response = await self.client.request("GET", repository, "", url=url, scope=scope)
            try:
                document = await response.json(content_type=None)
            finally:
                response.release()
            found += document.get(key) or []
            link = response.headers.get("Link", "")
            url = urljoin(url, link.split(";")[0].strip(" <>")) if 'rel="next"' in link else None
        return found

    async def manifest(self, repository: str, reference: str) -> Fetched | None:
        try:
            got = await self.client.get_manifest(repository, reference, self.max_manifest_bytes)
        except UpstreamNotFoundError:
            return None
        return Fetched(got.payload, got.media_type)

    async def manifest_digest(self, repository: str, reference: str) -> Digest | None:
        try:
            return await self.client.head_manifest(repository, reference)
        except UpstreamNotFoundError:
            return None

    async def has_blob(self, repository: str, digest: Digest) -> bool:
        try:
            await self.client.head_blob(repository, digest)
        except UpstreamNotFoundError:
            return False
        return True

    async def mount_blob(self, repository: str, digest: Digest, source: str) -> bool:
        response = await self.client.request(
            "POST",
            repository,
            f"blobs/uploads/?mount={digest}&from={source}",
            {"Content-Length": "0"},
            scope=self._push_scope(repository),
        )
        response.release()
        if response.status == 201:
            return True
        # 202: the remote opened an upload instead; end it, the caller uploads.
        location = response.headers.get("Location")
        if location:
            with contextlib.suppress(Exception):
                (await self._at(location, "DELETE", repository)).release()
        return False

    @contextlib.asynccontextmanager
    async def read_blob(self, repository: str, digest: Digest) -> AsyncIterator[BlobStream]:
        response = await self.client.get_blob(repository, digest)
        try:
            length = response.headers.get("Content-Length")
            size = int(length) if length and length.isdigit() else None
            yield BlobStream(size, response.content.iter_chunked(CHUNK))
        finally:
            response.release()

    async def write_blob(self, repository: str, digest: Digest, blob: BlobStream) -> None:
        started = await self.client.request(
            "POST",
            repository,
            "blobs/uploads/",
            {"Content-Length": "0"},
            scope=self._push_scope(repository),
        )
        started.release()
        location = started.headers.get("Location")
        if not location:
            raise aiohttp.ClientPayloadError(f"{self.name} started an upload without a Location")
        separator = "&" if "?" in location else "?"
        headers = {"Content-Type": "application/octet-stream"}
        if blob.size is not None:
            headers["Content-Length"] = str(blob.size)
        response = await self._at(
            location + f"{separator}digest={digest}", "PUT", repository, headers, blob.chunks
        )
        response.release()

    async def put_manifest(
        self, repository: str, reference: str, payload: bytes, media_type: str | None
    ) -> None:
        headers = {"Content-Type": media_type} if media_type else {}
        response = await self.client.request(
            "PUT",
            repository,
            f"manifests/{reference}",
            headers,
            scope=self._push_scope(repository),
            data=payload,
        )
        response.release()

    async def referrers(self, repository: str, digest: Digest) -> list[Descriptor] | None:
        try:
            response = await self.client.request("GET", repository, f"referrers/{digest}")
        except UpstreamNotFoundError:
            return None  # no referrers API (a registry that has one never answers 404)
        try:
            document = json.loads(await response.read())
        except ValueError:
            return []
        finally:
            response.release()
        found: list[Descriptor] = []
        if not isinstance(document, dict):
            return found
        for i, raw in enumerate(document.get("manifests") or []):
            with contextlib.suppress(ManifestError):
                found.append(Descriptor.from_dict(raw, f"manifests[{i}]"))
        return found

    async def _at(
        self,
        location: str,
        method: str,
        repository: str,
        headers: dict[str, str] | None = None,
        data: object = None,
    ) -> aiohttp.ClientResponse:
        url = urljoin(self.client.url + "/", location)
        return await self.client.request(
            method, repository, "", headers, url=url, scope=self._push_scope(repository), data=data
        )

    @staticmethod
    def _push_scope(repository: str) -> str:
        return f"repository:{repository}:pull,push"
