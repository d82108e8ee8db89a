"""The one I/O seam to a trust server: the `RemoteStore` Protocol and its HTTP implementation.

`HttpRemoteStore` speaks the Notary v1 server protocol (see the project's notary-protocol
notes): metadata under `/v2/<gun>/_trust/tuf/`, server keys as `<role>.key`, publish as one
`multipart/form-data` POST whose parts are all named `files` with the role as file name.
Status handling follows the notary client: 200 ok, 404 not found, 400 carries
`{"errors":[{code,message,detail}]}`, anything else means the server is unavailable.

Scope: transport only; nothing here verifies metadata (that is `trust.client`).
"""

from __future__ import annotations

import json
import logging
import ssl
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from trust.tuf.errors import TrustError
from trust.tuf.keys import PublicKey

__all__ = [
    "DEFAULT_MAX_METADATA_BYTES",
    "Authenticator",
    "HttpRemoteStore",
    "RemoteError",
    "RemoteNotFoundError",
    "RemoteRejectedError",
    "RemoteStore",
    "RemoteUnavailableError",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_METADATA_BYTES = 10 * 1024 * 1024  # bytes; bound on any metadata download

Authenticator = Callable[[str], "str | None"]
"""Given a 401's `WWW-Authenticate` header, return an `Authorization` header value (or None)."""


class RemoteError(TrustError):
    """The trust server could not be used."""


class RemoteNotFoundError(RemoteError):
    """The server has no such metadata or key (HTTP 404)."""


class RemoteRejectedError(RemoteError):
    """The server refused a request with Notary error codes (HTTP 400, 401, 403)."""

    def __init__(self, message: str, status: int, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors

    @property
    def codes(self) -> list[str]:
        """The Notary error codes of the response, e.g. ["INVALID_UPDATE"]."""
        return [str(error.get("code")) for error in self.errors]


class RemoteUnavailableError(RemoteError):
    """The server is unreachable or answered with an unexpected status."""


class RemoteStore(Protocol):
    """Trust-server operations for one GUN."""

    def get_meta(
        self,
        role: str,
        *,
        checksum: str | None = None,
        version: int | None = None,
        max_bytes: int = DEFAULT_MAX_METADATA_BYTES,
    ) -> bytes:
        """Fetch `<role>.json`, `<role>.<sha256hex>.json` or `<version>.<role>.json`."""
        ...

    def get_key(self, role: str) -> PublicKey:
        """Fetch (creating on first use) the server-held public key of `role`."""
        ...

    def rotate_key(self, role: str) -> PublicKey:
        """Ask the server for a new key for `role` (timestamp or snapshot)."""
        ...

    def publish(self, files: Mapping[str, bytes]) -> None:
        """Upload role -> signed JSON documents atomically."""
        ...

    def delete(self) -> None:
        """Delete every piece of trust data the server has for the GUN."""
        ...


class HttpRemoteStore:
    """`RemoteStore` over HTTPS with urllib (synchronous; callers may use a thread)."""

    def __init__(
        self,
        server_url: str,
        gun: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        authenticator: Authenticator | None = None,
        timeout: float = 30.0,  # seconds per request
    ) -> None:
        """Talk to the trust server at `server_url` (e.g. https://hub:5000) about `gun`."""
        self.base = f"{server_url.rstrip('/')}/v2/{urllib.parse.quote(gun, safe='/:')}/_trust/tuf/"
        self.gun = gun
        self._ssl_context = ssl_context
        self._authenticator = authenticator
        self._authorization: str | None = None
        self._timeout = timeout

    def get_meta(
        self,
        role: str,
        *,
        checksum: str | None = None,
        version: int | None = None,
        max_bytes: int = DEFAULT_MAX_METADATA_BYTES,
    ) -> bytes:
        """Fetch a metadata document (see `RemoteStore.get_meta`).

        Raises:
            RemoteNotFoundError: 404.
            RemoteRejectedError: 400/401/403 with Notary errors.
            RemoteUnavailableError: anything else, or a body above `max_bytes`.
        """
        if checksum is not None:
            name = f"{role}.{checksum}.json"
        elif version is not None:
            name = f"{version}.{role}.json"
        else:
            name = f"{role}.json"
        return self._request("GET", name, max_bytes=max_bytes)

    def get_key(self, role: str) -> PublicKey:
        """Fetch the server's public key for `role` (GET `<role>.key`)."""
        return PublicKey.from_dict(json.loads(self._request("GET", f"{role}.key")))

    def rotate_key(self, role: str) -> PublicKey:
        """Rotate the server's key for `role` (POST `<role>.key`)."""
        return PublicKey.from_dict(json.loads(self._request("POST", f"{role}.key", body=b"")))

    def publish(self, files: Mapping[str, bytes]) -> None:
        """POST every document as a `files` part named after its role."""
        boundary = uuid.uuid4().hex
        parts = []
        for role, document in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                f'filename="{role}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
                + document
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        content_type = f"multipart/form-data; boundary={boundary}"
        self._request("POST", "", body=body, content_type=content_type)
        logger.info("published %s for %s", ", ".join(files), self.gun)

    def delete(self) -> None:
        """DELETE the GUN's trust data."""
        self._request("DELETE", "")

    def _request(
        self,
        method: str,
        name: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        max_bytes: int = DEFAULT_MAX_METADATA_BYTES,
    ) -> bytes:
        url = self.base + name
        for attempt in (1, 2):
            request = urllib.request.Request(url, data=body, method=method)
            if content_type:
                request.add_header("Content-Type", content_type)
            if self._authorization:
                request.add_header("Authorization", self._authorization)
            try:
                with urllib.request.urlopen(
                    request, timeout=self._timeout, context=self._ssl_context
                ) as response:
                    data = response.read(max_bytes + 1)
            except urllib.error.HTTPError as exc:
                challenge = exc.headers.get("WWW-Authenticate")
                if exc.code == 401 and attempt == 1 and challenge and self._authenticator:
                    self._authorization = self._authenticator(challenge)
                    if self._authorization:
                        continue
                raise _status_error(method, url, exc) from None
            except OSError as exc:
                raise RemoteUnavailableError(f"{method} {url}: {exc}") from exc
            if len(data) > max_bytes:
                raise RemoteUnavailableError(f"{method} {url}: response above {max_bytes} bytes")
            return data
        raise AssertionError("unreachable")


def _status_error(method: str, url: str, error: urllib.error.HTTPError) -> RemoteError:
    body = error.read(64 * 1024)
    if error.code == 404:
        return RemoteNotFoundError(f"{method} {url}: not found")
    if error.code in (400, 401, 403):
        try:
            errors = json.loads(body).get("errors") or []
        except (ValueError, AttributeError):
            errors = []
        summary = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
        summary = summary or body[:200].decode(errors="replace")
        return RemoteRejectedError(f"{method} {url}: {error.code} {summary}", error.code, errors)
    return RemoteUnavailableError(f"{method} {url}: server answered {error.code}")
