"""Per-layer progress for pull and push, as Docker shows it.

On a terminal, one line per layer (`a1b2c3d4e5f6: Downloading [=====>     ]  5.2MB/20MB`)
redrawn in place; otherwise one plain line per status change (`a1b2c3d4e5f6: Pull complete`),
so logs and pipes stay readable. The reporter only writes to the stream it is given.
"""

from __future__ import annotations

import logging
import time
from typing import TextIO

from runtime_client.humanize import human_size

__all__ = ["Progress"]

logger = logging.getLogger(__name__)

_BAR_WIDTH = 50
_REDRAW_SECONDS = 0.1


class Progress:
    """Status lines keyed by layer ID (Docker's 12-hex-digit short digest).

    Args:
        stream: where to write (stderr for pull and push).
        tty: redraw bars in place (True only when `stream` is a terminal).
        quiet: write nothing.
    """

    def __init__(self, stream: TextIO, *, tty: bool, quiet: bool = False) -> None:
        self._stream = stream
        self._tty = tty
        self._quiet = quiet
        self._order: list[str] = []
        self._lines: dict[str, str] = {}
        self._drawn = 0
        self._last_draw = 0.0

    def message(self, text: str) -> None:
        """A line that is not about one layer (`latest: Pulling from team/app`)."""
        if self._quiet:
            return
        self._redraw(force=True)
        self._stream.write(text + "\n")
        self._drawn = 0
        self._order.clear()
        self._stream.flush()

    def status(self, layer_id: str, status: str) -> None:
        """Set a layer's status (`Pulling fs layer`, `Download complete`...)."""
        if self._quiet:
            return
        self._set(layer_id, status)
        if self._tty:
            self._redraw(force=True)
        else:
            self._stream.write(f"{layer_id}: {status}\n")
            self._stream.flush()

    def bytes(self, layer_id: str, action: str, current: int, total: int) -> None:
        """Byte progress of a transfer (only drawn on a terminal)."""
        if self._quiet or not self._tty:
            return
        filled = int(_BAR_WIDTH * current / total) if total else _BAR_WIDTH
        bar = "=" * max(0, filled - 1) + (">" if filled else "") + " " * (_BAR_WIDTH - filled)
        self._set(layer_id, f"{action} [{bar}]  {human_size(current)}/{human_size(total)}")
        self._redraw(force=False)

    def _set(self, layer_id: str, text: str) -> None:
        if layer_id not in self._lines or layer_id not in self._order:
            self._order.append(layer_id)
        self._lines[layer_id] = text

    def _redraw(self, *, force: bool) -> None:
        if not self._tty:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < _REDRAW_SECONDS:
            return
        self._last_draw = now
        out = []
        if self._drawn:
            out.append(f"\x1b[{self._drawn}A")  # back to the first layer line
        for layer_id in self._order:
            out.append(f"\x1b[2K{layer_id}: {self._lines[layer_id]}\n")
        self._drawn = len(self._order)
        self._stream.write("".join(out))
        self._stream.flush()
