"""Top-level commands outside any group: `login`, `logout`, `search`."""

from __future__ import annotations

from runtime_client.cli.base import CommandGroup

__all__ = ["GROUP"]

GROUP = CommandGroup(name=None, help="", verbs=())
