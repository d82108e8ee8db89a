"""`image history`: an image's build steps, newest first, as dockerd and the docker CLI show them.

Each entry of the image config's `history` becomes a row. Entries that made a layer are matched
to the config's layers in order and carry that layer's size; `empty_layer` entries carry 0.
The top row names the image; the others are `<missing>`, as dockerd answers for any image whose
parent chain it does not hold (berth keeps no parent links).

A layer's size is dockerd's (`runtime_client.images.diffsize`).

Not in scope: `--platform` (berth keeps one platform per image).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from runtime_client.config import Stores
from runtime_client.errors import RuntimeClientError
from runtime_client.humanize import human_duration, human_size, parse_time
from runtime_client.options import HistoryOptions
from runtime_client.templating import render_rows

__all__ = ["HistoryEntry", "history", "history_entries", "history_rows"]

logger = logging.getLogger(__name__)

MISSING = "<missing>"
CREATED_BY_WIDTH = 45  # the docker CLI's truncation of CREATED BY, ellipsis included
HUMAN_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

TABLE_FORMAT = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
PLAIN_TABLE_FORMAT = "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
QUIET_FORMAT = "{{.ID}}"
HEADERS = {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
           "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"}


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One row of dockerd's history answer (`image.HistoryResponseItem`)."""

    id: str  # the image ID on the top row, else "<missing>"
    created: datetime | None
    created_by: str
    size: int  # bytes
    comment: str


def history_entries(config: dict[str, Any], image_id: str,
                    layer_sizes: Sequence[int]) -> list[HistoryEntry]:
    """The image's history, newest first, with each entry's layer size.

    Args:
        config: the image config (OCI image-spec `history`, `rootfs.diff_ids`).
        image_id: the image's full ID, shown on the newest entry.
        layer_sizes: the size of each layer, in `rootfs` order.

    Raises:
        RuntimeClientError: more entries claim a layer than the image has (dockerd's error).
    """
    entries = []
    layer = 0
    for item in config.get("history") or []:
        item = item if isinstance(item, dict) else {}
        size = 0
        if not item.get("empty_layer"):
            if layer >= len(layer_sizes):
                raise RuntimeClientError("too many non-empty layers in History section")
            size = layer_sizes[layer]
            layer += 1
        entries.append(HistoryEntry(MISSING, parse_time(str(item.get("created") or "")),
                                    str(item.get("created_by") or ""), size,
                                    str(item.get("comment") or "")))
    entries.reverse()
    if entries:
        top = entries[0]
        entries[0] = HistoryEntry(image_id, top.created, top.created_by, top.size, top.comment)
    return entries


def _ellipsis(text: str, width: int) -> str:
    """The docker CLI's `Ellipsis` for text of one-column characters."""
    return text if len(text) <= width else text[:width - 1] + "…"


def _created_at(created: datetime | None) -> str:
    """Go's `time.Unix(s, 0).Format(time.RFC3339)`: local time, `Z` for a zero offset."""
    if created is None or created.year <= 1:
        return "0001-01-01T00:00:00Z"
    text = created.replace(microsecond=0).astimezone().isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def history_rows(entries: Sequence[HistoryEntry], now: datetime, *, human: bool = True,
                 no_trunc: bool = False) -> list[dict[str, str]]:
    """The docker CLI's `historyContext` fields for each entry (the `--format` names)."""
    rows = []
    for entry in entries:
        created_at = _created_at(entry.created)
        if not human:
            since = created_at
        elif entry.created is None or entry.created <= HUMAN_EPOCH:
            since = ""  # the docker CLI gives no age to dates before 2000
        else:
            since = human_duration(max(0.0, (now - entry.created).total_seconds())) + " ago"
        created_by = entry.created_by.replace("\t", " ")
        rows.append({
            "Comment": entry.comment,
            "CreatedAt": created_at,
            "CreatedBy": created_by if no_trunc else _ellipsis(created_by, CREATED_BY_WIDTH),
            "CreatedSince": since,
            "ID": entry.id if no_trunc or entry.id == MISSING
            else entry.id.removeprefix("sha256:")[:12],
            "Size": human_size(entry.size) if human else str(entry.size),
        })
    return rows


def _go_json(row: dict[str, str]) -> str:
    """A row as the CLI's `{{json .}}` writes a listing context: Go's `json.Marshal`, which
    escapes <, > and & (so `<missing>` is written `\\u003cmissing\\u003e`)."""
    text = json.dumps(row, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def history(stores: Stores, opts: HistoryOptions, stdout: TextIO) -> None:
    """Write the history of `opts.name` to `stdout` in the format `opts` asks for.

    Raises:
        NoSuchImageError: no local image has that name.
        TemplateFormatError: the template cannot be parsed or fails on a row.
    """
    image = stores.images.resolve(opts.name)
    entries = history_entries(image.config, str(image.id), stores.images.layer_sizes(image))
    rows = history_rows(entries, datetime.now(UTC), human=opts.human, no_trunc=opts.no_trunc)
    fmt = opts.format or "table"
    if fmt == "json":
        stdout.write("".join(_go_json(row) + "\n" for row in rows))
        return
    if fmt == "table":
        # The docker CLI's own formats for `history` (quiet wins over --human).
        fmt = QUIET_FORMAT if opts.quiet else TABLE_FORMAT if opts.human else PLAIN_TABLE_FORMAT
    stdout.write(render_rows(fmt, rows, HEADERS, "*image.historyContext",
                             exec_prefix="template parsing error"))
