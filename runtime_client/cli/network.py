"""The `network` command group."""

from __future__ import annotations

from runtime_client.cli.base import CommandGroup, Verb

__all__ = ["GROUP"]

GROUP = CommandGroup(
    name="network",
    help="Manage networks",
    verbs=(
        Verb("create", "network_create", "Create a network"),
        Verb("ls", "network_ls", "List networks", aliases=("list",)),
        Verb("inspect", "network_inspect", "Display detailed information on networks"),
        Verb("rm", "network_rm", "Remove one or more networks", aliases=("remove",)),
        Verb("prune", "network_prune", "Remove all unused networks"),
        Verb("connect", "network_connect", "Connect a container to a network"),
        Verb("disconnect", "network_disconnect", "Disconnect a container from a network"),
    ),
)
