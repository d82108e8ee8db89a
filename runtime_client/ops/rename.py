"""`berth rename OLD NEW`."""

from __future__ import annotations

from runtime_client.network import dns
from runtime_client.ops.context import Context


def rename(ctx: Context, ref: str, new_name: str) -> None:
    """Give a container a new, unused name.

    A running container's DNS records (aardvark-dns) follow at once: other containers on its
    networks resolve the new name and no longer the old one.

    Raises:
        NoSuchContainerError, NameInUseError, InvalidOptionError.
    """
    found = ctx.containers.find(ref)
    with ctx.containers.names_lock(), ctx.containers.locked(found.id):
        container = ctx.containers.load(found.id)
        ctx.containers.check_name(new_name, exclude_id=container.id)
        container.name = new_name.lstrip("/")
        ctx.containers.save(container)
        dns.refresh_names(ctx, container)
