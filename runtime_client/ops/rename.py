"""`berth rename OLD NEW`."""

from __future__ import annotations

from runtime_client.ops.context import Context


def rename(ctx: Context, ref: str, new_name: str) -> None:
    """Give a container a new, unused name.

    Name resolution by other containers (aardvark-dns) keeps the old name until the
    container restarts.

    Raises:
        NoSuchContainerError, NameInUseError, InvalidOptionError.
    """
    found = ctx.containers.find(ref)
    with ctx.containers.names_lock(), ctx.containers.locked(found.id):
        container = ctx.containers.load(found.id)
        ctx.containers.check_name(new_name, exclude_id=container.id)
        container.name = new_name.lstrip("/")
        ctx.containers.save(container)
