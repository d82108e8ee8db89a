"""Rendering pages: the Jinja2 environment and the one function views answer with.

Templates are loaded from the installed package and autoescaped; they hold loops and
conditions only, so what a page shows is decided by its view.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import jinja2
from aiohttp import web

from registry import keys
from registry.auth.policy import Principal

logger = logging.getLogger(__name__)

__all__ = ["CSRF", "REPOSITORY", "USER", "create_environment", "render"]

USER = web.RequestKey("berth_web_user", Principal)  # set by the security middleware
CSRF = web.RequestKey("berth_web_csrf", str)  # this browser's CSRF token
REPOSITORY = web.RequestKey("berth_web_repository", str)  # canonical name, once authorised


def _size(value: int | None) -> str:
    """Bytes as people read them (1.5 MB), in SI units as Docker Hub shows them."""
    if value is None:
        return ""
    amount = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if amount < 1000 or unit == "TB":
            return f"{int(amount)} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return str(value)  # unreachable: TB ends the loop


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _short_digest(value: str) -> str:
    algorithm, _, hexpart = value.partition(":")
    return f"{algorithm}:{hexpart[:12]}" if hexpart else value


def _mode(value: int) -> str:
    """Permission bits as `ls -l` shows them (`rwxr-xr-x`, with setuid, setgid and sticky)."""
    out = ""
    for shift, special, letter in ((6, 0o4000, "s"), (3, 0o2000, "s"), (0, 0o1000, "t")):
        bits = (value >> shift) & 7
        execute = "x" if bits & 1 else "-"
        if value & special:
            execute = letter if bits & 1 else letter.upper()
        out += ("r" if bits & 4 else "-") + ("w" if bits & 2 else "-") + execute
    return out


def create_environment() -> jinja2.Environment:
    """The template environment of the web interface (autoescaping every template)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("registry.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["size"] = _size
    env.filters["when"] = _when
    env.filters["short_digest"] = _short_digest
    env.filters["mode"] = _mode
    return env


def render(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    """The page `template` renders with `context`, the signed-in user and the CSRF token.

    Args:
        request: the request being answered.
        template: path under `templates/`, e.g. `explore/index.html`.
        context: what the template shows.
        status: the HTTP status.
    """
    env = request.app[keys.WEB_TEMPLATES]
    html = env.get_template(template).render(
        user=request.get(USER),
        csrf_token=request.get(CSRF, ""),
        path=request.path,
        **context,
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
