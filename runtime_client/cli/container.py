"""The `container` command group and its top-level short forms (`run`, `ps`, `rm`, ...)."""

from __future__ import annotations

from runtime_client.cli.base import CommandGroup, Verb

__all__ = ["GROUP"]

GROUP = CommandGroup(
    name="container",
    help="Manage containers",
    verbs=(
        Verb("create", "create", "Create a new container", shortcuts=("create",)),
        Verb("run", "run", "Create and run a new container from an image", shortcuts=("run",)),
        Verb("start", "start", "Start one or more stopped containers", shortcuts=("start",)),
        Verb("stop", "stop", "Stop one or more running containers", shortcuts=("stop",)),
        Verb("restart", "restart", "Restart one or more containers", shortcuts=("restart",)),
        Verb("kill", "kill", "Kill one or more running containers", shortcuts=("kill",)),
        Verb("pause", "pause", "Pause all processes within containers", shortcuts=("pause",)),
        Verb("unpause", "unpause", "Unpause all processes within containers",
             shortcuts=("unpause",)),
        Verb("rm", "rm", "Remove one or more containers", aliases=("remove",),
             shortcuts=("rm",)),
        Verb("prune", "container_prune", "Remove all stopped containers"),
        Verb("ls", "ps", "List containers", aliases=("list", "ps"), shortcuts=("ps",)),
        Verb("logs", "logs", "Fetch the logs of a container", shortcuts=("logs",)),
        Verb("stats", "stats", "Display container resource usage statistics",
             shortcuts=("stats",)),
        Verb("top", "top", "Display the running processes of a container", shortcuts=("top",)),
        Verb("inspect", "container_inspect", "Display detailed information on containers",
             shortcuts=("inspect",)),
        Verb("attach", "attach", "Attach to a running container", shortcuts=("attach",)),
        Verb("exec", "exec", "Execute a command in a running container", shortcuts=("exec",)),
        Verb("rename", "rename", "Rename a container", shortcuts=("rename",)),
        Verb("port", "port", "List port mappings of a container", shortcuts=("port",)),
        Verb("cp", "cp", "Copy files between a container and the local file system",
             shortcuts=("cp",)),
        Verb("diff", "diff", "Inspect changes to files on a container's file system",
             shortcuts=("diff",)),
        Verb("commit", "commit", "Create a new image from a container's changes",
             shortcuts=("commit",)),
        Verb("export", "export", "Export a container's file system as a tar archive",
             shortcuts=("export",)),
        Verb("cleanup", "cleanup", "Record a container's exit (run by conmon)"),
    ),
)
