"""`search [--limit N] [--filter is-official=true|stars=N] TERM`: the hub's v1 search.

TERM may start with a registry host (`hub.example:5000/app`); otherwise the default registry
is searched. Results come from `GET /v1/search?q=&n=&page=1` (Docker's v1 JSON:
`num_results`, `query`, `results[name, description, star_count, is_official,
is_automated]`) and are filtered here, as the Docker CLI filters them.
"""

from __future__ import annotations

import json
import logging
from typing import Any, TextIO

from runtime_client.config import ClientConfig
from runtime_client.distribution.client import open_session
from runtime_client.distribution.connect import client_for
from runtime_client.errors import UsageError
from runtime_client.options import SearchOptions
from runtime_client.tables import write_table
from runtime_client.templating import render

__all__ = ["search"]

logger = logging.getLogger(__name__)

_DESCRIPTION_WIDTH = 45  # the Docker CLI truncates descriptions to this many characters


def _split_term(term: str, default: str) -> tuple[str, str]:
    first, sep, rest = term.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return default, term


def _filters(raw: tuple[str, ...]) -> tuple[bool | None, bool | None, int]:
    official = automated = None
    stars = 0
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"bad format of filter (expected name=value): {item}")
        if key == "is-official":
            official = value.lower() in ("true", "1")
        elif key == "is-automated":
            automated = value.lower() in ("true", "1")
        elif key == "stars":
            try:
                stars = int(value)
            except ValueError as exc:
                raise UsageError(f"invalid filter 'stars={value}'") from exc
        else:
            raise UsageError(f"invalid filter '{key}'")
    return official, automated, stars


async def search(config: ClientConfig, opts: SearchOptions, stdout: TextIO) -> list[dict[str, Any]]:
    """Search and write a NAME DESCRIPTION STARS OFFICIAL table (or JSON / a template).

    Returns:
        The results shown.
    """
    if not 1 <= opts.limit <= 100:
        raise UsageError(f"limit {opts.limit} is outside the range of [1, 100]")
    host, term = _split_term(opts.term, config.default_registry)
    official, automated, stars = _filters(opts.filters)
    async with open_session() as session:
        response = await client_for(config, host, session).search(term, opts.limit)
    results = []
    for item in response.get("results") or []:
        if official is not None and bool(item.get("is_official")) != official:
            continue
        if automated is not None and bool(item.get("is_automated")) != automated:
            continue
        if int(item.get("star_count") or 0) < stars:
            continue
        results.append(item)
    results = results[: opts.limit]
    rows = []
    for item in results:
        description = " ".join(str(item.get("description") or "").split())
        if not opts.no_trunc and len(description) > _DESCRIPTION_WIDTH:
            description = description[: _DESCRIPTION_WIDTH - 1] + "…"
        rows.append({
            "Name": item.get("name", ""),
            "Description": description,
            "StarCount": str(item.get("star_count") or 0),
            "IsOfficial": "[OK]" if item.get("is_official") else "",
            "IsAutomated": "[OK]" if item.get("is_automated") else "",
        })
    if opts.format == "json":
        for row in rows:
            stdout.write(json.dumps(row, separators=(",", ":"), ensure_ascii=False) + "\n")
    elif opts.format and opts.format != "table":
        for row in rows:
            stdout.write(render(opts.format, row) + "\n")
    else:
        write_table(stdout, [("NAME", "Name"), ("DESCRIPTION", "Description"),
                             ("STARS", "StarCount"), ("OFFICIAL", "IsOfficial")], rows)
    return results
