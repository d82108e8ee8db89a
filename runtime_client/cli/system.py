"""The `system` command group."""

from __future__ import annotations

from runtime_client.cli.base import CommandGroup, Verb

__all__ = ["GROUP"]

GROUP = CommandGroup(
    name="system",
    help="Manage berth",
    verbs=(
        Verb("df", "system_df", "Show disk usage"),
        Verb("prune", "system_prune", "Remove unused data"),
    ),
)
