"""Build an OCI runtime-spec `config.json` with Docker's defaults (pure: no I/O).

Defaults follow what dockerd 20.10 generates (`oci.DefaultSpec` in moby): the default
capability set, masked and read-only /proc and /sys paths, /dev as tmpfs with devpts, shm and
mqueue, read-only sysfs, a deny-all device cgroup (runc adds the standard allowed devices), and
the two network sysctls Docker sets for non-host networking. The seccomp filter
(`linux.seccomp`) comes from `runtime.seccomp`: berth's default profile, a user's profile or
none (`--security-opt seccomp=unconfined`); the caller resolves it and hands it in, as it
does the capability set (`runtime.capabilities`), rlimits (`runtime.ulimits`) and, for
`--privileged`, the host's devices (`runtime.host`).

`--privileged` follows Docker: no masked or read-only /proc paths, /sys and its cgroup mount
read-write, every device allowed in the devices cgroup and the host's device nodes created.
`--read-only` makes the root filesystem read-only; /dev, /dev/shm, /proc and the other
mounts stay as usual. `--tmpfs` mounts and the /dev/shm size come from `runtime.tmpfs`,
`--device` nodes and their device-cgroup rules from `runtime.devices`, and the CFS quota
from `runtime.cpu`.

Not in scope: AppArmor and SELinux (berth applies neither; see the README).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runtime_client.runtime.capabilities import DEFAULT_CAPABILITIES
from runtime_client.runtime.tmpfs import DEFAULT_SHM_SIZE, shm_mount, tmpfs_mounts

OCI_VERSION = "1.0.2"

MASKED_PATHS = (
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/devices/virtual/powercap",
)

READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

# Podman's default is 1048576 open files, above this host's hard limit; the caller passes the
# host's hard limit and the spec never asks for more.
DEFAULT_NOFILE = 1048576
DEFAULT_CPU_SHARES = 1024


@dataclass(frozen=True)
class BindMount:
    """A file or directory from the host (or a named volume's data dir) inside the container."""

    source: str
    destination: str
    readonly: bool = False


@dataclass(frozen=True)
class ProcessSpec:
    """The container's (or an exec's) process."""

    args: tuple[str, ...]
    env: tuple[str, ...]
    cwd: str = "/"
    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()
    terminal: bool = False
    nofile_hard_limit: int = DEFAULT_NOFILE
    capabilities: tuple[str, ...] = DEFAULT_CAPABILITIES
    no_new_privileges: bool = False
    rlimits: tuple[Mapping[str, Any], ...] = ()  # spec entries; they replace the defaults


@dataclass(frozen=True)
class ContainerSpec:
    """Everything the runtime spec depends on, resolved by the caller."""

    process: ProcessSpec
    hostname: str
    cgroups_path: str
    netns_path: str | None = None  # None: a new namespace (only loopback); see host_network
    host_network: bool = False
    memory_limit: int | None = None  # bytes
    cpu_shares: int = DEFAULT_CPU_SHARES
    binds: Sequence[BindMount] = field(default_factory=tuple)
    etc_files: Sequence[BindMount] = field(default_factory=tuple)  # hosts, hostname, resolv.conf
    rootfs: str = "rootfs"
    seccomp: Mapping[str, Any] | None = None  # the `linux.seccomp` object; None: unconfined
    readonly_rootfs: bool = False
    privileged: bool = False
    pids_limit: int | None = None  # None: no limit
    devices: Sequence[Mapping[str, Any]] = field(default_factory=tuple)  # `linux.devices`
    device_rules: Sequence[Mapping[str, Any]] = field(default_factory=tuple)  # cgroup allows
    tmpfs: Mapping[str, str] = field(default_factory=dict)  # path -> options as typed
    shm_size: int = DEFAULT_SHM_SIZE  # bytes
    cpu_cfs: tuple[int, int] | None = None  # (quota, period) in microseconds


def process_dict(proc: ProcessSpec) -> dict[str, Any]:
    """The `process` object of a runtime spec (also the `runc exec --process` file)."""
    caps = list(proc.capabilities)
    nofile = min(DEFAULT_NOFILE, proc.nofile_hard_limit)
    rlimits = [dict(r) for r in proc.rlimits]
    if not any(r["type"] == "RLIMIT_NOFILE" for r in rlimits):
        rlimits.insert(0, {"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile})
    user: dict[str, Any] = {"uid": proc.uid, "gid": proc.gid}
    if proc.additional_gids:
        user["additionalGids"] = list(proc.additional_gids)
    return {
        "terminal": proc.terminal,
        "user": user,
        "args": list(proc.args),
        "env": list(proc.env),
        "cwd": proc.cwd or "/",
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "rlimits": rlimits,
        "noNewPrivileges": proc.no_new_privileges,
        "oomScoreAdj": 0,
    }


def _default_mounts(privileged: bool, shm_size: int) -> list[dict[str, Any]]:
    sys_options = ["nosuid", "noexec", "nodev"] + ([] if privileged else ["ro"])
    cgroup_options = ["rw" if privileged else "ro", "nosuid", "noexec", "nodev"]
    return [
        {"destination": "/proc", "type": "proc", "source": "proc",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": sys_options},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": cgroup_options},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        shm_mount(shm_size),
    ]


def _bind(mount: BindMount) -> dict[str, Any]:
    options = ["rbind", "rprivate"] + (["ro"] if mount.readonly else [])
    return {"destination": mount.destination, "type": "bind", "source": mount.source,
            "options": options}


def build_spec(spec: ContainerSpec) -> dict[str, Any]:
    """The runtime-spec `config.json` object for one container.

    Args:
        spec: resolved container settings (user IDs, network namespace, limits, mounts).

    Returns:
        A JSON-serialisable dict following the OCI runtime-spec 1.0.
    """
    namespaces: list[dict[str, str]] = [
        {"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
    ]
    sysctl: dict[str, str] = {}
    if not spec.host_network:
        net: dict[str, str] = {"type": "network"}
        if spec.netns_path:
            net["path"] = spec.netns_path
        namespaces.append(net)
        # Docker 20.10 lets unprivileged users bind low ports and ping inside the container.
        sysctl = {"net.ipv4.ip_unprivileged_port_start": "0",
                  "net.ipv4.ping_group_range": "0 2147483647"}
    resources: dict[str, Any] = {
        "devices": [{"allow": spec.privileged, "access": "rwm"},
                    *(dict(rule) for rule in spec.device_rules)],
        "cpu": {"shares": spec.cpu_shares or DEFAULT_CPU_SHARES},
    }
    if spec.cpu_cfs is not None:
        resources["cpu"]["quota"], resources["cpu"]["period"] = spec.cpu_cfs
    if spec.pids_limit is not None:
        resources["pids"] = {"limit": spec.pids_limit}
    if spec.memory_limit:
        # Docker's default swap allowance is the memory limit again (--memory-swap = 2 * -m).
        resources["memory"] = {"limit": spec.memory_limit, "swap": spec.memory_limit * 2}
    mounts = _default_mounts(spec.privileged, spec.shm_size)
    mounts += [_bind(m) for m in spec.etc_files]
    mounts += [_bind(m) for m in spec.binds]
    mounts += tmpfs_mounts(spec.tmpfs)
    linux: dict[str, Any] = {
        "namespaces": namespaces,
        "resources": resources,
        "cgroupsPath": spec.cgroups_path,
        "sysctl": sysctl,
        "maskedPaths": [] if spec.privileged else list(MASKED_PATHS),
        "readonlyPaths": [] if spec.privileged else list(READONLY_PATHS),
    }
    if spec.devices:
        linux["devices"] = [dict(d) for d in spec.devices]
    if spec.seccomp is not None:
        linux["seccomp"] = dict(spec.seccomp)
    return {
        "ociVersion": OCI_VERSION,
        "process": process_dict(spec.process),
        "root": {"path": spec.rootfs, "readonly": spec.readonly_rootfs},
        "hostname": spec.hostname,
        "mounts": mounts,
        "linux": linux,
    }
