"""`berth container create`: resolve the image, unpack it once, and record a new container.

A container's writable snapshot sits on a per-container init layer (like Docker's `-init`
layer) that holds the mount points berth needs (/etc/hosts, /etc/hostname, /etc/resolv.conf,
/proc, /sys, /dev), so they never show up in `diff`, `commit` or `export`.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from runtime_client.container_errors import InvalidOptionError
from runtime_client.network import shared
from runtime_client.network.model import HOST, NONE
from runtime_client.ops.context import Context, ResolvedImage
from runtime_client.ops.flag_checks import (
    check_dns,
    check_dns_search,
    check_extra_host,
    check_mac,
    check_restart,
)
from runtime_client.ops.resources import parse_memory, resolve_resources
from runtime_client.ops.security import resolve_security
from runtime_client.ops.volumes import remove_anonymous_volumes, requested_mounts, resolve_mounts
from runtime_client.runtime.container import Container, NetworkAttachment, PortBinding
from runtime_client.runtime.lifecycle import now
from runtime_client.runtime.runc import DEFAULT_RUNTIME
from runtime_client.unpack import unpack_layers

logger = logging.getLogger(__name__)

INIT_PATHS_DIRS = ("proc", "sys", "dev", "dev/pts", "dev/shm", "etc")
INIT_PATHS_FILES = ("etc/hosts", "etc/hostname", "etc/resolv.conf")


@dataclass(frozen=True)
class CreateOptions:
    """Options of `create` and `run` (Docker's flags, raw values as typed)."""

    image: str
    command: tuple[str, ...] = ()
    name: str | None = None
    tty: bool = False
    interactive: bool = False
    detach: bool = False
    auto_remove: bool = False
    restart: str = "no"
    publish: tuple[str, ...] = ()
    publish_all: bool = False
    expose: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    mac_address: str = ""
    add_host: tuple[str, ...] = ()
    network: str = ""
    network_aliases: tuple[str, ...] = ()
    ip: str = ""
    cpu_shares: int = 0
    memory: str = ""
    volumes: tuple[str, ...] = ()
    mounts: tuple[str, ...] = ()  # --mount values
    env: tuple[str, ...] = ()
    env_files: tuple[str, ...] = ()
    workdir: str = ""
    entrypoint: str | None = None
    user: str = ""
    hostname: str = ""
    labels: tuple[str, ...] = ()
    runtime: str = DEFAULT_RUNTIME
    security_opt: tuple[str, ...] = ()
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    privileged: bool = False
    read_only: bool = False
    pids_limit: int | None = None  # <= 0: unlimited
    ulimits: tuple[str, ...] = ()
    tmpfs: tuple[str, ...] = ()
    shm_size: str = ""
    cpus: str = ""
    cpu_quota: int = 0
    cpu_period: int = 0
    devices: tuple[str, ...] = ()
    stop_signal: str = ""
    stop_timeout: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


def parse_publish(value: str) -> list[PortBinding]:
    """`-p [[IP:]HOST:]CONTAINER[/PROTO]` (host and container may be equal-length ranges).

    Raises:
        InvalidOptionError: malformed.
    """
    spec, _, given_proto = value.partition("/")
    proto = given_proto or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise InvalidOptionError(f"invalid proto: {proto}")
    parts = spec.rsplit(":", 2)
    host_ip, host, ctr = "", "", parts[-1]
    if len(parts) == 2:
        host = parts[0]
    elif len(parts) == 3:
        host_ip, host = parts[0].strip("[]"), parts[1]
        try:
            ipaddress.ip_address(host_ip)
        except ValueError:
            raise InvalidOptionError(f"invalid IP address: {host_ip}") from None

    def port_range(text: str) -> list[int]:
        lo, _, hi = text.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise InvalidOptionError(f"invalid port format for --publish: {value}")
        ports = list(range(int(lo), int(hi or lo) + 1))
        if not ports or any(p < 0 or p > 65535 for p in ports):
            raise InvalidOptionError(f"invalid port format for --publish: {value}")
        return ports

    ctr_ports = port_range(ctr)
    host_ports = port_range(host) if host else [0] * len(ctr_ports)
    if len(host_ports) != len(ctr_ports):
        raise InvalidOptionError(f"invalid ranges specified for container and host Ports: {value}")
    return [PortBinding(c, proto, host_ip, h) for c, h in zip(ctr_ports, host_ports, strict=True)]


def read_env_file(path: str) -> list[str]:
    """Docker's --env-file: KEY=VALUE lines; a bare KEY takes the caller's value."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise InvalidOptionError(f"open {path}: {(exc.strerror or str(exc)).lower()}") from exc
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=" in line:
            out.append(line)
        elif line in os.environ:
            out.append(f"{line}={os.environ[line]}")
    return out


def merge_env(base: list[str], overrides: list[str]) -> list[str]:
    """The user's -e/--env-file values first, then the image's for keys the user did not set
    (dockerd's merge order). A bare `KEY` takes the caller's value, or is dropped."""
    user: dict[str, str] = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if sep:
            user[key] = f"{key}={value}"
        elif key in os.environ:
            user[key] = f"{key}={os.environ[key]}"
    merged = list(user.values())
    merged += [item for item in base if item.partition("=")[0] not in user]
    return merged


def _exposed(image: ResolvedImage, opts: CreateOptions) -> list[str]:
    ports = list((image.run_config.get("ExposedPorts") or {}).keys())
    for value in opts.expose:
        port, _, proto = value.partition("/")
        lo, _, hi = port.partition("-")
        for p in range(int(lo), int(hi or lo) + 1):
            ports.append(f"{p}/{proto or 'tcp'}")
    return list(dict.fromkeys(ports))


def create(ctx: Context, opts: CreateOptions) -> Container:
    """Create a container (not started) from `opts`.

    Raises:
        NoSuchImageError: the image is not in the local store.
        InvalidOptionError, NameInUseError, NoSuchNetworkError: bad options (the flags of
            `flag_checks` and `--network container:` conflicts before anything else, so a
            refused one leaves no container).
        UnsafeLayerError, BadLayerError: the image's layers cannot be unpacked.
    """
    restart = check_restart(opts.restart)
    extra_hosts = [check_extra_host(h) for h in opts.add_host]
    dns = [check_dns(d) for d in opts.dns]
    dns_search = [check_dns_search(d) for d in opts.dns_search]
    mac = check_mac(opts.mac_address)
    if shared.is_container_mode(opts.network):
        shared.target_ref(opts.network)
        shared.check_options(
            hostname=opts.hostname, dns=opts.dns, add_host=opts.add_host,
            mac_address=opts.mac_address, publish=opts.publish, publish_all=opts.publish_all,
            expose=opts.expose, aliases=opts.network_aliases)
    image = ctx.images.resolve(opts.image)
    rc = image.run_config
    env = merge_env(list(rc.get("Env") or []),
                    [e for f in opts.env_files for e in read_env_file(f)] + list(opts.env))
    if opts.entrypoint is not None:
        entrypoint = [opts.entrypoint] if opts.entrypoint else []
        cmd = list(opts.command)
    else:
        entrypoint = list(rc.get("Entrypoint") or [])
        cmd = list(opts.command) or list(rc.get("Cmd") or [])
    if not entrypoint and not cmd:
        raise InvalidOptionError("No command specified")
    ports = [b for p in opts.publish for b in parse_publish(p)]
    mode = opts.network or "bridge"
    if shared.is_container_mode(mode):
        network_mode, networks = shared.resolve_mode(ctx, mode), {}
    else:
        network = ctx.networks.get(mode)
        network_mode = network.name
        networks = {network.name: NetworkAttachment(
            aliases=list(opts.network_aliases), requested_ip=opts.ip,
            requested_mac=mac)}
        if network.name in (HOST, NONE) and (opts.ip or opts.mac_address or ports):
            ports = []  # Docker ignores published ports without a network namespace of its own
    labels = dict(rc.get("Labels") or {})
    for label in opts.labels:
        key, _, value = label.partition("=")
        labels[key] = value
    security = resolve_security(opts)
    resources = resolve_resources(opts, rc)
    memory = parse_memory(opts.memory)
    if memory and memory < 6 * (1 << 20):
        raise InvalidOptionError("Minimum memory limit allowed is 6MB")
    mount_requests = requested_mounts(opts.volumes, opts.mounts, rc.get("Volumes") or {})
    top = unpack_layers(ctx.snapshots, image.layers)
    # The volume lock first (see ops.volumes): a volume made here cannot be removed before
    # the container that uses it is recorded.
    with ctx.volumes.locked(), ctx.containers.names_lock():
        name = (opts.name or "").lstrip("/") or ctx.containers.generate_name()
        ctx.containers.check_name(name)
        container_id = ctx.containers.new_id()
        mounts = resolve_mounts(ctx, mount_requests)
        container = Container(
            id=container_id, name=name, created=now(), image=opts.image, image_id=image.id,
            snapshot_parent=top, cmd=cmd, entrypoint=entrypoint, env=env,
            workdir=opts.workdir or rc.get("WorkingDir") or "",
            user=opts.user or rc.get("User") or "",
            hostname=opts.hostname or container_id[:12], tty=opts.tty,
            open_stdin=opts.interactive, labels=labels, exposed_ports=_exposed(image, opts),
            binds=[v for v in opts.volumes if ":" in v], mounts=mounts,
            mount_flags=list(opts.mounts), ports=ports, publish_all=opts.publish_all,
            network_mode=network_mode, networks=networks, dns=dns,
            dns_search=dns_search, dns_options=list(opts.dns_options),
            extra_hosts=extra_hosts, mac_address=mac, memory=memory,
            cpu_shares=opts.cpu_shares, restart_policy=restart,
            auto_remove=opts.auto_remove, runtime=opts.runtime,
            security_opt=security.security_opt, cap_add=security.cap_add,
            cap_drop=security.cap_drop, privileged=security.privileged,
            readonly_rootfs=security.readonly_rootfs, pids_limit=security.pids_limit,
            ulimits=security.ulimits, tmpfs=resources.tmpfs, shm_size=resources.shm_size,
            nano_cpus=resources.cpu.nano_cpus, cpu_quota=resources.cpu.cpu_quota,
            cpu_period=resources.cpu.cpu_period, devices=resources.devices,
            stop_signal=resources.stop_signal, stop_timeout=resources.stop_timeout,
            foreground=not opts.detach, image_config=image.config)
        ctx.containers.save(container)
    try:
        init_key = f"{container_id}-init"
        ctx.snapshots.prepare(init_key + "-tmp", top)
        upper = ctx.snapshots.upper_dir(init_key + "-tmp")
        for d in INIT_PATHS_DIRS:
            (upper / d).mkdir(mode=0o755, exist_ok=True)
        for f in INIT_PATHS_FILES:
            (upper / f).touch(mode=0o644)
        ctx.snapshots.commit(init_key, init_key + "-tmp")
        ctx.snapshots.prepare(container_id, init_key)
        ctx.layout.bundle(container_id).mkdir(parents=True, exist_ok=True)
    except BaseException:
        ctx.containers.delete(container_id)
        remove_anonymous_volumes(ctx, container)
        raise
    logger.info("created container %s (%s) from %s", container_id[:12], name, image.id)
    return container
