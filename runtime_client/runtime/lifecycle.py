"""Starting a container and cleaning up after it: the steps every verb shares.

start:   mount the snapshot -> network namespace + networks -> /etc files -> config.json ->
         conmon (runtime create) -> [caller attaches] -> runtime start -> state running.
cleanup: exit code (conmon's exit file) and OOM flag -> runtime delete -> networks ->
         unmount -> state exited; then `--rm` removes the container, or `--restart` starts
         it again. conmon runs cleanup as its exit command (`berth container cleanup ID`),
         so no daemon is needed; stop/kill/rm call it too (it is idempotent).
Every step of `start` is undone when a later step fails.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import resource
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runtime_client.container_errors import InvalidStateError, MountError, OciRuntimeError
from runtime_client.network import attach, shared
from runtime_client.network.model import DEFAULT_BRIDGE_GATEWAY, HOST
from runtime_client.ops.context import Context
from runtime_client.ops.volumes import copy_up
from runtime_client.rootfs import lookup_user
from runtime_client.runtime import conmon, etcfiles, host, seccomp
from runtime_client.runtime.capabilities import effective_capabilities
from runtime_client.runtime.container import Container, Event, Status, transition
from runtime_client.runtime.cpu import CpuLimits
from runtime_client.runtime.devices import resolve_devices
from runtime_client.runtime.spec import (
    BindMount,
    ContainerSpec,
    ProcessSpec,
    build_spec,
)
from runtime_client.runtime.ulimits import spec_rlimits
from runtime_client.snapshots import mount

logger = logging.getLogger(__name__)

CGROUP_PARENT = "/berth"
MEMORY_CGROUP = Path("/sys/fs/cgroup/memory")


def now() -> str:
    """The current time as Docker prints it in inspect (RFC 3339, UTC, nanoseconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def cgroups_path(container: Container) -> str:
    return f"{CGROUP_PARENT}/{container.id}"


def mount_rootfs(ctx: Context, container: Container) -> Path:
    """Mount the container's snapshot at bundle/rootfs (no-op when mounted)."""
    rootfs = ctx.layout.rootfs(container.id)
    rootfs.mkdir(parents=True, exist_ok=True)
    if not mount.is_mounted(rootfs):
        mount.mount_all(ctx.snapshots.mounts(container.id), rootfs)
    return rootfs


def unmount_rootfs(ctx: Context, container: Container) -> None:
    rootfs = ctx.layout.rootfs(container.id)
    try:
        mount.unmount(rootfs)
    except MountError:
        mount.unmount(rootfs, lazy=True)


def make_bind_source(source: str) -> None:
    """Create a missing `-v` host directory and its missing parents, each mode 0755 whatever
    the umask, as dockerd does when it starts a container (a missing `--mount` source is
    refused at create instead). A path through a file is left for the mount to refuse,
    as dockerd leaves it (it ignores ENOTDIR here).
    """
    missing = []
    path = Path(source)
    while not path.exists() and not path.is_symlink() and path != path.parent:
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        try:
            directory.mkdir()
        except FileExistsError:
            continue  # made meanwhile (another container starting)
        except NotADirectoryError:
            return
        os.chmod(directory, 0o755)


def host_mounts(ctx: Context, container: Container, rootfs: Path) -> list[BindMount]:
    """The container's binds and volumes as host paths: a missing `-v` host directory is
    made, and an empty volume first gets the image's files at its mount point (copy-up)."""
    binds = []
    for m in container.mounts:
        if m.type == "bind":
            if m.from_flag == "-v":
                make_bind_source(m.source)
            binds.append(BindMount(m.source, m.destination, m.readonly))
            continue
        data = ctx.volumes.mount_data(ctx.volumes.get(m.source))
        image_dir = Path(os.path.realpath(rootfs / m.destination.lstrip("/")))
        # A symlink in the image may point anywhere on the host: copy only from inside rootfs.
        if m.copy_up and image_dir.is_relative_to(os.path.realpath(rootfs)):
            copy_up(data, image_dir)
        binds.append(BindMount(str(data), m.destination, m.readonly))
    return binds


def _host_gateway(container: Container) -> str:
    """The host's address `--add-host NAME:host-gateway` names: like Docker's (its default
    bridge's gateway) on the default bridge; on a user network the host's address on that
    bridge, which is up whenever the container is; `host` and `none` get the default bridge's."""
    for att in container.networks.values():
        if att.gateway:
            return att.gateway
    return DEFAULT_BRIDGE_GATEWAY


def _write_etc_files(ctx: Context, container: Container) -> list[BindMount]:
    cdir = ctx.layout.container_dir(container.id)
    host_resolv = ""
    with contextlib.suppress(OSError):
        host_resolv = Path("/etc/resolv.conf").read_text()
    network_dns: list[str] = []
    search: list[str] = []
    aliases: list[str] = []
    for name, att in container.networks.items():
        with contextlib.suppress(Exception):
            if att.ip_address and ctx.networks.get(name).dns_enabled:
                network_dns.append(att.gateway)
                search = ["dns.podman"]
        aliases += att.aliases
    hosts = cdir / "hosts"
    extra_hosts = etcfiles.with_host_gateway(container.extra_hosts, _host_gateway(container))
    if container.network_mode == HOST:
        with contextlib.suppress(OSError):
            shutil.copyfile("/etc/hosts", hosts)
        extra = "".join(f"{e.partition(':')[2]}\t{e.partition(':')[0]}\n" for e in extra_hosts)
        hosts.write_text((hosts.read_text() if hosts.exists() else "") + extra)
    else:
        hosts.write_text(etcfiles.hosts_file(container.hostname, attach.all_addresses(container),
                                             extra_hosts, []))
    (cdir / "hostname").write_text(container.hostname + "\n")
    (cdir / "resolv.conf").write_text(
        etcfiles.resolv_conf(host_resolv, container.dns, network_dns, search,
                             container.dns_search, container.dns_options))
    # As dockerd: with --read-only these three are read-only too.
    return [BindMount(str(cdir / f), f"/etc/{f}", readonly=container.readonly_rootfs)
            for f in ("hosts", "hostname", "resolv.conf")]


def build_process(ctx: Context, container: Container, rootfs: Path, args: list[str],
                  env: list[str], cwd: str, user: str, tty: bool,
                  privileged: bool = False) -> ProcessSpec:
    """The process spec for the container's command or an exec, with -u resolved.

    The process gets the container's capabilities, no_new_privs and ulimits (as Docker's
    exec does); `privileged` (`exec --privileged`) gives it every capability instead.
    """
    resolved = lookup_user(rootfs, user)
    full_env = list(env)
    if not any(e.startswith("PATH=") for e in full_env):
        full_env.insert(0, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    if not any(e.startswith("HOSTNAME=") for e in full_env):
        full_env.append(f"HOSTNAME={container.hostname}")
    if not any(e.startswith("HOME=") for e in full_env):
        full_env.append(f"HOME={resolved.home}")
    if tty and not any(e.startswith("TERM=") for e in full_env):
        full_env.append("TERM=xterm")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    capabilities = effective_capabilities(container.cap_add, container.cap_drop,
                                          container.privileged or privileged,
                                          host.bounding_capabilities())
    return ProcessSpec(tuple(args), tuple(full_env), cwd or "/", resolved.uid, resolved.gid,
                       resolved.additional_gids, tty,
                       hard if hard != resource.RLIM_INFINITY else 1 << 20,
                       capabilities=tuple(capabilities),
                       no_new_privileges=seccomp.no_new_privileges(container.security_opt),
                       rlimits=tuple(spec_rlimits(container.ulimits)))


def command_of(container: Container) -> list[str]:
    return [*container.entrypoint, *container.cmd]


def exit_command(ctx: Context, container: Container) -> list[str]:
    """What conmon runs when the container exits: `berth --root R container cleanup ID`."""
    return [sys.executable, "-m", "runtime_client", "--root", str(ctx.layout.root),
            "container", "cleanup", container.id]


class _Background:
    """Run a callable in a thread; `result()` waits and re-raises its exception."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def join(self) -> None:
        """Wait for the thread, ignoring its outcome."""
        self._thread.join()

    def result(self) -> None:
        """Wait for the thread and re-raise what it raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error


def needs_exit_command(container: Container) -> bool:
    """Whether conmon must run `container cleanup` when the process exits.

    A foreground `run`/`start -a` without a restart policy records the exit itself, so no
    second Python process competes for the container's lock; if that client dies first, the
    next command that looks at the container reaps it (`refresh`).
    A foreground one with a tty and stdin can be left with the detach keys, after which
    nobody waits for it: it keeps the exit command too.
    """
    return (not container.foreground or container.restart_policy not in ("", "no")
            or (container.tty and container.open_stdin))


def start(ctx: Context, container: Container,
          before_start: Callable[[], None] | None = None) -> None:
    """Start a created or exited container; the caller holds the container's lock.

    Args:
        ctx: the berth root.
        container: the record; updated and saved.
        before_start: called after the runtime created the container and before its process
            runs (attach here so no output is lost).

    Raises:
        InvalidStateError, OciRuntimeError (126/127 subclasses), NetworkError, MountError;
        NoSuchContainerError: the container whose network it joins is gone.
    """
    if container.status is Status.PAUSED:
        raise InvalidStateError(
            "cannot start a paused container, try unpause instead")
    if container.status is Status.RUNNING:
        return
    runtime = ctx.runtime(container.runtime)
    cdir = ctx.layout.container_dir(container.id)
    exit_file = ctx.layout.exit_dir(container.id) / container.id
    with contextlib.suppress(FileNotFoundError):
        exit_file.unlink()
    with contextlib.suppress(FileNotFoundError):
        (cdir / "persist" / "oom").unlink()
    joined = None
    if shared.is_container_mode(container.network_mode):
        joined = shared.join(ctx, container)
        # as dockerd: the target's hostname and /etc files from now on
        container.hostname, container.shared_etc_dir = joined.target.hostname, str(joined.etc_dir)
    try:
        with contextlib.ExitStack() as undo:
            rootfs = mount_rootfs(ctx, container)
            undo.callback(unmount_rootfs, ctx, container)
            plan = attach.plan_networks(ctx, container)
            undo.callback(attach.disconnect_all, ctx, container)
            netns = plan.path if plan else joined.netns_path if joined else None
            # netavark wires the namespace while conmon and the runtime create the container.
            wiring = _Background(plan.apply) if plan else None
            if wiring is not None:
                undo.callback(wiring.join)  # runs before the teardown registered above
            etc = _write_etc_files(ctx, container) if joined is None else \
                joined.etc_files(container.readonly_rootfs)
            binds = host_mounts(ctx, container, rootfs)
            process = build_process(ctx, container, rootfs, command_of(container), container.env,
                                    container.workdir, container.user, container.tty)
            devices, device_rules = resolve_devices(container.devices)
            if container.privileged:
                devices = _merge_devices(host.host_devices(), devices)
            spec = build_spec(ContainerSpec(
                process=process, hostname=container.hostname,
                cgroups_path=cgroups_path(container),
                netns_path=str(netns) if netns else None,
                host_network=container.network_mode == HOST or bool(
                    joined and joined.host_network),
                memory_limit=container.memory or None,
                cpu_shares=container.cpu_shares or 1024, binds=binds, etc_files=etc,
                seccomp=None if container.privileged else seccomp.seccomp_for(
                    container.security_opt, process.capabilities, os.uname().machine),
                readonly_rootfs=container.readonly_rootfs, privileged=container.privileged,
                pids_limit=container.pids_limit,
                devices=devices, device_rules=device_rules, tmpfs=container.tmpfs,
                shm_size=container.shm_size, cpu_cfs=CpuLimits(
                    container.nano_cpus, container.cpu_quota, container.cpu_period).cfs()))
            bundle = ctx.layout.bundle(container.id)
            (bundle / "config.json").write_text(json.dumps(spec, indent=1))
            runtime.delete(container.id)  # a stale runtime entry from a crash would block create
            try:
                pid = conmon.start_conmon(conmon.ConmonOptions(
                    container_id=container.id, name=container.name, bundle=bundle,
                    runtime_binary=runtime.binary, runtime_root=runtime.state_root,
                    log_path=ctx.layout.container_log(container.id),
                    exit_dir=ctx.layout.exit_dir(container.id), socket_dir=ctx.layout.socket_dir(),
                    persist_dir=cdir / "persist",
                    conmon_pidfile=cdir / "conmon.pid",
                    exit_command=exit_command(ctx, container) if needs_exit_command(
                        container) else (),
                    tty=container.tty, stdin=container.open_stdin))
            except OciRuntimeError as exc:
                container.state.error = str(exc)
                container.state.exit_code = exc.exit_code
                raise
            undo.callback(runtime.delete, container.id)
            if wiring is not None:
                wiring.result()
            if before_start is not None:
                before_start()
            runtime.start(container.id)
            undo.pop_all()
    except BaseException:
        ctx.containers.save(container)  # after the undo: its addresses are released
        raise
    transition(container, Event.START)
    container.state.pid = pid
    container.state.started_at = now()
    container.state.exit_code = 0
    container.state.oom_killed = False
    container.state.error = ""
    container.stopped_by_user = False
    ctx.containers.save(container)
    logger.info("started %s (pid %d)", container.id[:12], pid)


def _merge_devices(host_nodes: list[dict[str, Any]], mapped: list[dict[str, Any]]
                   ) -> list[dict[str, Any]]:
    """The host's nodes (for --privileged) plus --device nodes, which win on the same path."""
    paths = {node["path"] for node in mapped}
    return [node for node in host_nodes if node["path"] not in paths] + mapped


def _oom_killed(ctx: Context, container: Container) -> bool:
    if (ctx.layout.container_dir(container.id) / "persist" / "oom").exists():
        return True
    with contextlib.suppress(OSError):
        text = (MEMORY_CGROUP / cgroups_path(container).lstrip("/") /
                "memory.oom_control").read_text()
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and int(value) > 0:
                return True
    return False


def reap(ctx: Context, container: Container) -> bool:
    """Record the exit of a stopped container's process and release its resources.

    The caller holds the container's lock. Returns False (and does nothing) while the
    process still runs.
    """
    if container.status not in (Status.RUNNING, Status.PAUSED):
        return True
    runtime = ctx.runtime(container.runtime)
    code = conmon.read_exit_code(ctx.layout.exit_dir(container.id), container.id)
    if code is None:
        state = runtime.state(container.id)
        if state is not None and state.get("status") in ("running", "paused", "created"):
            return False
        code = 255  # the monitor is gone without recording a status
    container.state.oom_killed = _oom_killed(ctx, container)
    # The namespace is torn down and the root file system unmounted beside the runtime's
    # delete: the process is gone, and none of the three needs the others.
    unwiring = _Background(lambda: attach.disconnect_all(ctx, container))
    unmounting = _Background(lambda: unmount_rootfs(ctx, container))
    try:
        runtime.delete(container.id)
    finally:
        unwiring.join()
        unmounting.result()
    transition(container, Event.EXIT)
    container.state.exit_code = code
    container.state.pid = 0
    container.state.finished_at = now()
    ctx.containers.save(container)
    logger.info("container %s exited with %d", container.id[:12], code)
    return True


def should_restart(container: Container) -> bool:
    """Docker's restart policies, applied when the process exits on its own."""
    policy, _, limit = container.restart_policy.partition(":")
    if container.stopped_by_user or policy in ("", "no"):
        return False
    if policy in ("always", "unless-stopped"):
        return True
    if policy == "on-failure":
        if container.state.exit_code == 0:
            return False
        return not limit or container.restart_count < int(limit)
    return False


def wait_for_exit(ctx: Context, container: Container, timeout: float | None) -> bool:
    """Wait until conmon recorded the exit status; False on timeout.

    The exit file is checked every 5 ms (a stat call) so a short-lived container is noticed
    at once; the runtime is asked about a vanished monitor only every half second.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    runtime = ctx.runtime(container.runtime)
    exit_dir = ctx.layout.exit_dir(container.id)
    next_check = time.monotonic() + 0.5
    while True:
        if conmon.read_exit_code(exit_dir, container.id) is not None:
            return True
        now_ = time.monotonic()
        if now_ >= next_check:
            next_check = now_ + 0.5
            state = runtime.state(container.id)
            if state is None or state.get("status") == "stopped":
                # conmon writes the exit file right after the process is reaped.
                time.sleep(0.05)
                return True
        if deadline is not None and now_ >= deadline:
            return False
        time.sleep(0.005)


def refresh(ctx: Context, container: Container) -> Container:
    """Reap a container whose process exited but was not recorded yet (its exit command
    may still be on its way); returns the current record."""
    if container.status not in (Status.RUNNING, Status.PAUSED):
        return container
    if conmon.read_exit_code(ctx.layout.exit_dir(container.id), container.id) is None and \
            ctx.runtime(container.runtime).state(container.id) is not None:
        return container
    with ctx.containers.locked(container.id):
        current = ctx.containers.load(container.id)
        reap(ctx, current)
    return current


@contextlib.contextmanager
def mounted_rootfs(ctx: Context, container: Container) -> Iterator[Path]:
    """The container's merged root: the live mount when running, else mounted for the block."""
    if container.status in (Status.RUNNING, Status.PAUSED):
        yield ctx.layout.rootfs(container.id)
        return
    with ctx.containers.locked(container.id):
        rootfs = mount_rootfs(ctx, container)
        try:
            yield rootfs
        finally:
            unmount_rootfs(ctx, container)
