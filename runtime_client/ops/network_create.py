"""`berth network create [--driver bridge] [--subnet CIDR] [--gateway IP] [--internal] NAME`."""

from __future__ import annotations

from dataclasses import dataclass

from runtime_client.network.model import Network
from runtime_client.ops.context import Context


@dataclass(frozen=True)
class NetworkCreateOptions:
    """Options of `network create`."""

    name: str
    driver: str = "bridge"
    subnet: str | None = None
    gateway: str | None = None
    internal: bool = False
    labels: tuple[str, ...] = ()


def network_create(ctx: Context, opts: NetworkCreateOptions) -> Network:
    """Define a user bridge network (its bridge appears when the first container joins).

    Raises:
        NetworkError: duplicate name, overlapping subnet, or the `overlay` driver (not built).
    """
    labels = dict(label.partition("=")[::2] for label in opts.labels)
    return ctx.networks.create(opts.name, opts.driver, opts.subnet, opts.gateway,
                               opts.internal, labels)
