"""An HTTP client of one upstream registry, speaking Docker's token authentication.

A request that gets 401 with a `Bearer` challenge fetches a token from the challenge's realm
(with the namespace's credentials as basic auth, else anonymously) for the challenge's scope,
keeps it until shortly before it expires, and is sent again once; a `Basic` challenge is
answered with the credentials. Failures come out as the hub's domain errors, so the error
middleware renders them, naming the upstream:

- unreachable, a timeout or 5xx: `UpstreamUnavailableError` (UNAVAILABLE, 503);
- 429: `UpstreamThrottledError` (TOOMANYREQUESTS, with the upstream's `Retry-After`);
- 401/403 after authenticating: `DeniedError`; 404: the caller's "unknown" error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from registry.errors import DeniedError, TooManyRequestsError, UnavailableError
from registry.metrics import Metrics
from registry.oci import mediatypes as mt
from registry.oci.digest import Digest
from registry.proxy.challenge import Challenge, parse_challenge
from registry.proxy.config import ProxyNamespace

logger = logging.getLogger(__name__)

__all__ = [
    "MANIFEST_ACCEPT",
    "UpstreamClient",
    "UpstreamManifest",
    "UpstreamNotFoundError",
    "UpstreamThrottledError",
    "UpstreamUnavailableError",
]

# Every manifest type the hub stores, so the upstream never down-converts.
MANIFEST_ACCEPT = ", ".join(sorted(mt.MANIFEST_TYPES))
TOKEN_MARGIN = 10.0  # seconds before a token's expiry at which it is no longer used
DEFAULT_TOKEN_SECONDS = 60  # Docker's token spec: assume 60 s when `expires_in` is missing
CONNECT_TIMEOUT = 10.0  # seconds to reach the upstream
READ_TIMEOUT = 60.0  # seconds without a byte from the upstream


class UpstreamUnavailableError(UnavailableError):
    """The upstream is unreachable, timed out or answered 5xx."""


class UpstreamThrottledError(TooManyRequestsError):
    """The upstream answered 429."""

    def __init__(self, message: str, retry_after: str | None, **detail: object) -> None:
        super().__init__(message, **detail)
        self.headers = {"Retry-After": retry_after} if retry_after else {}


class UpstreamNotFoundError(Exception):
    """The upstream answered 404 (the caller raises its own spec error)."""


# The failures for which a cached copy is served instead (a stale tag beats no tag).
OUTAGES = (UpstreamUnavailableError, UpstreamThrottledError)


@dataclass(frozen=True, slots=True)
class UpstreamManifest:
    """A manifest as the upstream served it."""

    payload: bytes
    media_type: str | None


class UpstreamClient:
    """Requests to one upstream registry on behalf of one proxy namespace.

    Args:
        namespace: the proxy namespace (its URL and username).
        password: its opened password, or None for anonymous pulls.
        session: the hub's shared client session (it must not decompress bodies).
        metrics: counts every request sent upstream (`berth_proxy_upstream_requests_total`).
    """

    def __init__(
        self,
        namespace: ProxyNamespace,
        password: str | None,
        session: aiohttp.ClientSession,
        metrics: Metrics | None = None,
    ) -> None:
        self.namespace = namespace
        self.session = session
        self.metrics = metrics
        self._auth = (
            aiohttp.BasicAuth(namespace.username, password)
            if namespace.username is not None and password is not None
            else None
        )
        self._tokens: dict[str, tuple[str, float]] = {}  # scope -> (token, monotonic expiry)

    @property
    def url(self) -> str:
        return self.namespace.url

    async def head_manifest(self, repository: str, reference: str) -> Digest | None:
        """The digest the upstream gives `reference`, None when it does not say.

        Raises:
            UpstreamNotFoundError, UpstreamUnavailableError, UpstreamThrottledError,
            DeniedError.
        """
        response = await self.request(
            "HEAD", repository, f"manifests/{reference}", {"Accept": MANIFEST_ACCEPT}
        )
        response.release()
        header = response.headers.get("Docker-Content-Digest")
        try:
            return Digest.parse(header) if header else None
        except ValueError:
            return None

    async def get_manifest(self, repository: str, reference: str, limit: int) -> UpstreamManifest:
        """The manifest's bytes and media type, at most `limit` bytes.

        Raises:
            UpstreamNotFoundError, UpstreamUnavailableError, UpstreamThrottledError,
            DeniedError.
        """
        response = await self.request(
            "GET", repository, f"manifests/{reference}", {"Accept": MANIFEST_ACCEPT}
        )
        try:
            payload = await response.content.read(limit + 1)
            while len(payload) <= limit and not response.content.at_eof():
                payload += await response.content.read(limit + 1 - len(payload))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._unreachable(exc) from exc
        finally:
            response.release()
        if len(payload) > limit:
            raise UpstreamUnavailableError(
                f"upstream {self.url} served a manifest over {limit} bytes", upstream=self.url
            )
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip() or None
        return UpstreamManifest(payload, media_type)

    async def head_blob(self, repository: str, digest: Digest) -> int | None:
        """The blob's size, None when the upstream does not say.

        Raises:
            UpstreamNotFoundError, UpstreamUnavailableError, UpstreamThrottledError,
            DeniedError.
        """
        response = await self.request("HEAD", repository, f"blobs/{digest}")
        response.release()
        length = response.headers.get("Content-Length")
        return int(length) if length and length.isdigit() else None

    async def get_blob(self, repository: str, digest: Digest) -> aiohttp.ClientResponse:
        """The blob's response, its body not read yet (the caller releases it).

        Raises:
            UpstreamNotFoundError, UpstreamUnavailableError, UpstreamThrottledError,
            DeniedError.
        """
        return await self.request("GET", repository, f"blobs/{digest}")

    async def request(
        self,
        method: str,
        repository: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        *,
        scope: str | None = None,
        url: str | None = None,
        data: Any = None,
    ) -> aiohttp.ClientResponse:
        """`METHOD /v2/<repository>/<path>`, authenticated as the upstream asks.

        Returns a 2xx response whose body is not read yet.

        Args:
            scope: the token scope asked for (default: pull of `repository`).
            url: the whole URL instead of `/v2/<repository>/<path>` (an upload's `Location`).
            data: a body; a stream is sent once, so a 401 to it raises `DeniedError` (the
                caller asks for the scope beforehand with a body-less request).

        Raises:
            UpstreamNotFoundError, UpstreamUnavailableError, UpstreamThrottledError,
            DeniedError.
        """
        url = url or f"{self.url}/v2/{repository}/{path}"
        scope = scope or f"repository:{repository}:pull"
        response = await self._send(method, url, headers, self._authorization(scope), data)
        if response.status == 401:
            challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
            response.release()
            if data is not None and not isinstance(data, bytes):
                raise DeniedError(f"upstream {self.url} refused a streamed body's token")
            authorization = await self._answer(challenge, scope, repository)
            response = await self._send(method, url, headers, authorization, data)
        if response.status < 300:
            return response
        response.release()
        raise self._failure(response, repository)

    async def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        authorization: str | None,
        data: Any = None,
    ) -> aiohttp.ClientResponse:
        sent = dict(headers or {})
        if authorization is not None:
            sent["Authorization"] = authorization
        timeout = aiohttp.ClientTimeout(connect=CONNECT_TIMEOUT, sock_read=READ_TIMEOUT)
        try:
            response = await self.session.request(
                method, url, headers=sent, timeout=timeout, allow_redirects=True, data=data
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            self._count(method, "unreachable")
            raise self._unreachable(exc) from exc
        self._count(method, str(response.status))
        return response

    def _count(self, method: str, status: str) -> None:
        if self.metrics is not None:
            self.metrics.inc(
                "berth_proxy_upstream_requests_total",
                namespace=self.namespace.name,
                method=method,
                status=status,
            )

    def _authorization(self, scope: str) -> str | None:
        cached = self._tokens.get(scope)
        if cached is not None and cached[1] > time.monotonic():
            return f"Bearer {cached[0]}"
        return None

    async def _answer(self, challenge: Challenge | None, scope: str, repository: str) -> str:
        """The `Authorization` value answering a 401's challenge."""
        if challenge is None or challenge.scheme not in ("bearer", "basic"):
            raise DeniedError(
                f"upstream {self.url} wants authentication it does not describe",
                upstream=self.url,
            )
        params = challenge.params
        if challenge.scheme == "basic":
            if self._auth is None:
                raise DeniedError(
                    f"upstream {self.url} wants credentials and none are configured",
                    upstream=self.url,
                )
            return self._auth.encode()
        realm = params.get("realm")
        if not realm:
            raise DeniedError(f"upstream {self.url} sent a Bearer challenge without a realm")
        wanted = params.get("scope") or scope
        query = {"scope": wanted}
        if params.get("service"):
            query["service"] = params["service"]
        timeout = aiohttp.ClientTimeout(connect=CONNECT_TIMEOUT, sock_read=READ_TIMEOUT)
        try:
            async with self.session.get(
                realm, params=query, auth=self._auth, timeout=timeout
            ) as answer:
                if answer.status == 429 or answer.status >= 500:
                    raise self._failure(answer, repository)
                if answer.status != 200:
                    raise DeniedError(
                        f"upstream token service {realm} refused a token for {wanted} "
                        f"(HTTP {answer.status})",
                        upstream=self.url,
                    )
                document = await answer.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            raise self._unreachable(exc) from exc
        token = document.get("token") or document.get("access_token")
        if not isinstance(token, str) or not token:
            raise DeniedError(f"upstream token service {realm} answered no token")
        lifetime = document.get("expires_in")
        seconds = lifetime if isinstance(lifetime, int) and lifetime > 0 else DEFAULT_TOKEN_SECONDS
        self._tokens[scope] = (token, time.monotonic() + seconds - TOKEN_MARGIN)
        return f"Bearer {token}"

    def _unreachable(self, exc: BaseException) -> UpstreamUnavailableError:
        reason = str(exc) or type(exc).__name__
        return UpstreamUnavailableError(
            f"upstream {self.url} is unreachable: {reason}", upstream=self.url
        )

    def _failure(self, response: aiohttp.ClientResponse, repository: str) -> Exception:
        status = response.status
        detail = {"upstream": self.url, "status": status}
        if status == 429:
            return UpstreamThrottledError(
                f"upstream {self.url} answered 429 Too Many Requests",
                response.headers.get("Retry-After"),
                **detail,
            )
        if status >= 500:
            return UpstreamUnavailableError(
                f"upstream {self.url} answered {status} {response.reason or ''}".rstrip(),
                **detail,
            )
        if status == 404:
            return UpstreamNotFoundError(repository)
        if status in (401, 403):
            return DeniedError(
                f"upstream {self.url} refused access to {repository} (HTTP {status})", **detail
            )
        return UpstreamUnavailableError(
            f"upstream {self.url} answered {status} for {repository}", **detail
        )

