"""The `volume` command group."""

from __future__ import annotations

from runtime_client.cli.base import CommandGroup, Verb

__all__ = ["GROUP"]

GROUP = CommandGroup(
    name="volume",
    help="Manage volumes",
    verbs=(
        Verb("create", "volume_create", "Create a volume"),
        Verb("ls", "volume_ls", "List volumes", aliases=("list",)),
        Verb("inspect", "volume_inspect", "Display detailed information on one or more volumes"),
        Verb("rm", "volume_rm", "Remove one or more volumes", aliases=("remove",)),
        Verb("prune", "volume_prune", "Remove unused local volumes"),
    ),
)
