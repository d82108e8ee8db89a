"""Answering a trust server's 401 challenge: Docker token auth and basic auth.

`TokenAuthenticator` is an `Authenticator` for `HttpRemoteStore`. For
`WWW-Authenticate: Bearer realm=...,service=...,scope=...` it asks the realm for a token
(`GET realm?service=&scope=`, with basic credentials when it has them, as the Docker CLI does)
and returns `Bearer <token>`; for a `Basic` challenge it returns the basic credentials.

Scope: the token handshake over urllib; no caching beyond what `HttpRemoteStore` keeps.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request

from trust.remote import RemoteRejectedError, RemoteUnavailableError

__all__ = ["TokenAuthenticator", "parse_challenge"]

logger = logging.getLogger(__name__)

_PARAM = re.compile(r'(\w+)="([^"]*)"')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """Split `Bearer realm="r",service="s"` into ("bearer", {"realm": "r", "service": "s"})."""
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(_PARAM.findall(rest))


class TokenAuthenticator:
    """Turns 401 challenges into `Authorization` header values."""

    def __init__(
        self,
        username: str | None = None,
        password: str | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 30.0,  # seconds per token request
    ) -> None:
        """Authenticate as `username` (anonymous when None)."""
        self._basic = None
        if username is not None:
            pair = f"{username}:{password or ''}".encode()
            self._basic = "Basic " + base64.b64encode(pair).decode()
        self._ssl_context = ssl_context
        self._timeout = timeout

    def __call__(self, challenge: str) -> str | None:
        """The `Authorization` value answering `challenge`, or None when it cannot.

        Raises:
            RemoteRejectedError: the token endpoint refused the credentials.
            RemoteUnavailableError: the token endpoint could not be used.
        """
        scheme, params = parse_challenge(challenge)
        if scheme == "basic":
            return self._basic
        if scheme != "bearer" or "realm" not in params:
            return None
        query: dict[str, str] = {k: params[k] for k in ("service", "scope") if k in params}
        url = params["realm"] + ("?" + urllib.parse.urlencode(query) if query else "")
        request = urllib.request.Request(url)
        if self._basic:
            request.add_header("Authorization", self._basic)
        try:
            with urllib.request.urlopen(
                request, timeout=self._timeout, context=self._ssl_context
            ) as response:
                body = json.loads(response.read(1024 * 1024))
        except urllib.error.HTTPError as exc:
            raise RemoteRejectedError(f"token request refused: {exc.code}", exc.code, []) from None
        except (OSError, ValueError) as exc:
            raise RemoteUnavailableError(f"token request failed: {exc}") from exc
        token = body.get("token") or body.get("access_token")
        if not token:
            raise RemoteUnavailableError("token endpoint returned no token")
        logger.debug("obtained a token for scope %s", params.get("scope"))
        return f"Bearer {token}"
