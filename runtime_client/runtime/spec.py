"""Build an OCI runtime-spec `config.json` with Docker's defaults (pure: no I/O).

Defaults follow what dockerd 20.10 generates (`oci.DefaultSpec` in moby): the default
capability set, masked and read-only /proc and /sys paths, /dev as tmpfs with devpts, shm and
mqueue, read-only sysfs, a deny-all device cgroup (runc adds the standard allowed devices), and
the two network sysctls Docker sets for non-host networking. The seccomp filter
(`linux.seccomp`) comes from `runtime.seccomp`: berth's default profile, a user's profile or
none (`--security-opt seccomp=unconfined`); the caller resolves it and hands it in.

Not in scope: AppArmor and SELinux (berth applies neither; see the README).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

OCI_VERSION = "1.0.2"

DEFAULT_CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
)

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


def process_dict(proc: ProcessSpec) -> dict[str, Any]:
    """The `process` object of a runtime spec (also the `runc exec --process` file)."""
    caps = list(DEFAULT_CAPABILITIES)
    nofile = min(DEFAULT_NOFILE, proc.nofile_hard_limit)
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
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile}],
        "noNewPrivileges": False,
        "oomScoreAdj": 0,
    }


def _default_mounts() -> list[dict[str, Any]]:
    return [
        {"destination": "/proc", "type": "proc", "source": "proc",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["ro", "nosuid", "noexec", "nodev"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
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
        "devices": [{"allow": False, "access": "rwm"}],
        "cpu": {"shares": spec.cpu_shares or DEFAULT_CPU_SHARES},
    }
    if spec.memory_limit:
        # Docker's default swap allowance is the memory limit again (--memory-swap = 2 * -m).
        resources["memory"] = {"limit": spec.memory_limit, "swap": spec.memory_limit * 2}
    mounts = _default_mounts()
    mounts += [_bind(m) for m in spec.etc_files]
    mounts += [_bind(m) for m in spec.binds]
    linux: dict[str, Any] = {
        "namespaces": namespaces,
        "resources": resources,
        "cgroupsPath": spec.cgroups_path,
        "sysctl": sysctl,
        "maskedPaths": list(MASKED_PATHS),
        "readonlyPaths": list(READONLY_PATHS),
    }
    if spec.seccomp is not None:
        linux["seccomp"] = dict(spec.seccomp)
    return {
        "ociVersion": OCI_VERSION,
        "process": process_dict(spec.process),
        "root": {"path": spec.rootfs, "readonly": False},
        "hostname": spec.hostname,
        "mounts": mounts,
        "linux": linux,
    }
