"""Linux capabilities of a container: names, Docker's `--cap-add`/`--cap-drop` rules (pure).

Names are the kernel's (`CAP_` + the `capability.h` name). The flags take them the way
Docker's CLI does: any case, with or without the `CAP_` prefix, `ALL` for every capability;
the record keeps them normalised, deduplicated and sorted, as Docker's inspect shows them.
The set a container gets follows dockerd 20.10: the default set minus `--cap-drop` plus
`--cap-add`; `--cap-add ALL` is every capability but the dropped ones; `--cap-drop ALL`
leaves only the added ones; `--privileged` gets everything. "Everything" is bounded by what
the host can grant (the caller's bounding set, passed in): asking the kernel for more makes
the runtime fail, which is what dockerd does on such a host.

Not in scope: ambient and inheritable sets (empty, as in Docker), user-namespaced containers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from runtime_client.container_errors import InvalidOptionError

__all__ = [
    "ALL",
    "CAPABILITY_NAMES",
    "DEFAULT_CAPABILITIES",
    "effective_capabilities",
    "names_from_mask",
    "normalize_capabilities",
]

ALL = "ALL"

# Index = capability number (linux/capability.h, up to CAP_LAST_CAP of Linux 5.9+).
CAPABILITY_NAMES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
    "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON",
    "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)

# dockerd 20.10's default set (`caps.DefaultCapabilities` in moby), in its order.
DEFAULT_CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
)


def normalize_capabilities(values: Iterable[str], field: str) -> list[str]:
    """`--cap-add`/`--cap-drop` values as the record keeps them (Docker's CLI and daemon rules).

    Args:
        values: the flag's values as typed (`net_admin`, `CAP_CHOWN`, `all`).
        field: `CapAdd` or `CapDrop`, for the error message.

    Returns:
        `CAP_` names (or `ALL`) in upper case, deduplicated and sorted.

    Raises:
        InvalidOptionError: a name the kernel does not define (Docker's wording).
    """
    names = set()
    for value in values:
        name = value.upper()
        if name != ALL and not name.startswith("CAP_"):
            name = "CAP_" + name
        if name != ALL and name not in CAPABILITY_NAMES:
            raise InvalidOptionError(f'invalid {field}: unknown capability: "{name}"')
        names.add(name)
    return sorted(names)


def effective_capabilities(cap_add: Collection[str], cap_drop: Collection[str],
                           privileged: bool, available: Collection[str]) -> list[str]:
    """The capability set of a container's processes (bounding = effective = permitted).

    Args:
        cap_add: normalised `--cap-add` names (see `normalize_capabilities`).
        cap_drop: normalised `--cap-drop` names.
        privileged: `--privileged` (every capability; add and drop are ignored, as in Docker).
        available: what the host can grant (its bounding set); bounds ALL and privileged.

    Returns:
        Capability names, default set order first, then added ones in capability order.
    """
    everything = [c for c in CAPABILITY_NAMES if c in available]
    if privileged:
        return everything
    if ALL in cap_add:
        return [c for c in everything if c not in cap_drop]
    if ALL in cap_drop:
        return [c for c in CAPABILITY_NAMES if c in cap_add]
    kept = [c for c in DEFAULT_CAPABILITIES if c not in cap_drop]
    return kept + [c for c in CAPABILITY_NAMES if c in cap_add and c not in kept]


def names_from_mask(mask: int) -> list[str]:
    """Capability names of a bit mask such as /proc's `CapBnd` (unknown high bits ignored)."""
    return [name for bit, name in enumerate(CAPABILITY_NAMES) if mask >> bit & 1]
