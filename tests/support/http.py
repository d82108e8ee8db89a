"""A small blocking HTTP client for talking to hub processes the way registry clients do.

No retries, no redirects followed, no connection reuse: each call is one request on its own
connection, so a test sees exactly the status and headers the hub sent.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.parse
from dataclasses import dataclass
from typing import Any

__all__ = ["HttpResponse", "http_request", "open_partial_request", "path_of", "with_query"]


@dataclass(frozen=True)
class HttpResponse:
    """Status, headers and the whole body of one response."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    def error_codes(self) -> list[str]:
        """The `code`s of an OCI error body (`{"errors": [{"code": ...}]}`)."""
        return [error["code"] for error in self.json().get("errors", [])]


def http_request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 60,
) -> HttpResponse:
    """Send one request and read the whole response.

    Args:
        method: the HTTP method.
        url: an absolute http URL.
        headers: request headers (Content-Length is added for a body).
        body: the request body.
        timeout: socket timeout in seconds.
    """
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return HttpResponse(response.status, response.headers, response.read())
    finally:
        connection.close()


def with_query(base_url: str, location: str, **params: str) -> str:
    """Resolve a `Location` header against `base_url` and add query parameters to it.

    Upload locations may be relative and may already carry a query (state tokens).
    """
    absolute = urllib.parse.urljoin(base_url + "/", location)
    parts = urllib.parse.urlsplit(absolute)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def path_of(location: str) -> str:
    """The path and query of a (possibly absolute) `Location`, to send to another host."""
    parts = urllib.parse.urlsplit(location)
    return urllib.parse.urlunsplit(("", "", parts.path, parts.query, ""))


def open_partial_request(
    method: str, url: str, headers: dict[str, str], body_prefix: bytes, content_length: int
) -> socket.socket:
    """Send a request's headers and only the first part of its body, and leave it open.

    Used to kill a server in the middle of receiving an upload. The caller closes the socket.
    """
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}",
             f"Content-Length: {content_length}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sock = socket.create_connection((host, port), timeout=30)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body_prefix)
    return sock
