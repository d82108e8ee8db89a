"""`--network container:NAME|ID`: a container that joins another's network namespace.

As with dockerd 20.10, the mode is resolved to `container:<full id>` at create when the target
exists (else kept as typed and refused at start), the flags that would configure a network of
its own are refused with dockerd's messages, and at start the target must run. The dependent
gets no addresses, ports or networks: it uses the target's namespace (its named netns, or
/proc/PID/ns/net when it has none; the host's for a `host` target), hostname, /etc/hosts and
/etc/resolv.conf. Stopping or removing the dependent never touches the target's namespace;
stopping the target leaves the dependent running with whatever is left of it (loopback).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runtime_client.container_errors import InvalidFlagError, InvalidOptionError, NetworkError
from runtime_client.errors import NoSuchContainerError
from runtime_client.network import netns
from runtime_client.network.model import HOST, NONE
from runtime_client.ops.context import Context
from runtime_client.runtime.container import Container, Status
from runtime_client.runtime.spec import BindMount

PREFIX = "container:"


def is_container_mode(mode: str) -> bool:
    """Whether a network mode (as typed or as stored) shares another container's namespace."""
    return mode.partition(":")[0] == "container"


def target_ref(mode: str) -> str:
    """NAME|ID of `container:NAME|ID`.

    Raises:
        InvalidOptionError: no target (`container` or `container:`), with dockerd's message.
    """
    ref = mode.partition(":")[2]
    if not ref:
        raise InvalidOptionError(
            "Invalid network mode: invalid container format container:<name|id>")
    return ref


def check_options(*, hostname: str, dns: Sequence[str], add_host: Sequence[str],
                  mac_address: str, publish: Sequence[str], publish_all: bool,
                  expose: Sequence[str], aliases: Sequence[str]) -> None:
    """Refuse flags that configure a network of the container's own, in the order and
    words of the docker CLI (aliases) and then dockerd (`validateNetMode` in runconfig).

    Raises:
        InvalidFlagError, InvalidOptionError: the first conflicting flag.
    """
    if aliases:
        raise InvalidFlagError(
            "network-scoped aliases are only supported for user-defined networks")
    conflicts = (
        (hostname, "conflicting options: hostname and the network mode"),
        (dns, "conflicting options: dns and the network mode"),
        (add_host, "conflicting options: custom host-to-IP mapping and the network mode"),
        (mac_address, "conflicting options: mac-address and the network mode"),
        (publish or publish_all,
         "conflicting options: port publishing and the container type network mode"),
        (expose, "conflicting options: port exposing and the container type network mode"),
    )
    for given, message in conflicts:
        if given:
            raise InvalidOptionError(message)


def resolve_mode(ctx: Context, mode: str) -> str:
    """`container:<full id>` when the target exists, else the mode as typed (dockerd keeps
    it and refuses it at start)."""
    try:
        return PREFIX + ctx.containers.find(target_ref(mode)).id
    except NoSuchContainerError:
        return mode


@dataclass(frozen=True)
class SharedNamespace:
    """The running target whose namespace a dependent joins at start."""

    target: Container
    netns_path: str | None  # None with host_network
    host_network: bool
    etc_dir: Path  # holds the hosts, hostname and resolv.conf the target's process sees

    def etc_files(self, readonly: bool) -> list[BindMount]:
        """The target's /etc/hosts, /etc/hostname and /etc/resolv.conf, bound as they are."""
        return [BindMount(str(self.etc_dir / f), f"/etc/{f}", readonly=readonly)
                for f in ("hosts", "hostname", "resolv.conf")]


def join(ctx: Context, container: Container) -> SharedNamespace:
    """The namespace `container` (in container mode) joins now.

    Raises:
        NoSuchContainerError: the target is gone.
        NetworkError: the target is the container itself or is not running.
    """
    target = ctx.containers.find(target_ref(container.network_mode))
    if target.id == container.id:
        raise NetworkError("cannot join own network")
    if target.status not in (Status.RUNNING, Status.PAUSED) or not target.state.pid:
        raise NetworkError(f"cannot join network of a non running container: {target.id}")
    etc_dir = _etc_owner(ctx, target)
    if is_container_mode(target.network_mode) or target.network_mode == NONE:
        # No named namespace: the one its process is in (for a dependent, its target's).
        return SharedNamespace(target, f"/proc/{target.state.pid}/ns/net", False, etc_dir)
    if target.network_mode == HOST:
        return SharedNamespace(target, None, True, etc_dir)
    return SharedNamespace(target, str(netns.netns_path(ctx.layout.netns_name(target.id))),
                           False, etc_dir)


def _etc_owner(ctx: Context, target: Container) -> Path:
    """The directory of the /etc files of the container at the end of a chain of
    dependents (dockerd hands a dependent the files of the container it joins)."""
    seen = {target.id}
    while is_container_mode(target.network_mode):
        try:
            target = ctx.containers.find(target_ref(target.network_mode))
        except NoSuchContainerError:
            break
        if target.id in seen:
            break
        seen.add(target.id)
    return ctx.layout.container_dir(target.id)
