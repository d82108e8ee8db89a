"""The security and resource flags of `create`/`run`, checked and turned into record values.

Covers `--cap-add`, `--cap-drop`, `--privileged`, `--read-only`, `--security-opt`,
`--pids-limit` and `--ulimit`. Everything is checked at create time, so a value the host
cannot honour fails with exit status 125 and a clear message instead of a runtime error at
start: an unknown capability (Docker's wording), a capability outside the host's bounding
set, a ulimit above the host's ceiling, a pids limit without a pids cgroup controller, a
seccomp profile that does not parse.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime_client.container_errors import InvalidOptionError
from runtime_client.runtime import host
from runtime_client.runtime.capabilities import (
    ALL,
    effective_capabilities,
    normalize_capabilities,
)
from runtime_client.runtime.seccomp import UNCONFINED, parse_security_opt, profile_from_json
from runtime_client.runtime.ulimits import parse_ulimits

if TYPE_CHECKING:
    from runtime_client.ops.create import CreateOptions

logger = logging.getLogger(__name__)

__all__ = ["SecuritySettings", "resolve_security", "resolve_security_opts"]

LABEL_DISABLE = "label=disable"  # dockerd records it for privileged containers


@dataclass(frozen=True)
class SecuritySettings:
    """What the container record keeps of the security and resource flags."""

    security_opt: list[str]
    cap_add: list[str]
    cap_drop: list[str]
    privileged: bool
    readonly_rootfs: bool
    pids_limit: int | None
    ulimits: list[dict[str, Any]]


def resolve_security_opts(options: tuple[str, ...], capabilities: list[str]) -> list[str]:
    """--security-opt values as the record keeps them: a profile file is read now (as Docker's
    CLI does) and kept as `seccomp=<compact JSON>`, so restarts do not need the file.

    Args:
        options: the values as typed.
        capabilities: the container's capabilities (a profile's rules may depend on them).

    Raises:
        InvalidOptionError: an unknown option, a missing file or a malformed profile.
    """
    resolved = []
    for option in options:
        key, value = parse_security_opt(option)
        if key == "seccomp" and value != UNCONFINED:
            try:
                text = Path(value).read_text()
            except OSError as exc:
                reason = (exc.strerror or str(exc)).lower()
                raise InvalidOptionError(
                    f"opening seccomp profile ({value}) failed: open {value}: {reason}"
                ) from exc
            profile_from_json(text, capabilities, os.uname().machine)  # validate now
            compact = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
            option = f"seccomp={compact}"
        resolved.append(option)
    return resolved


def resolve_security(opts: CreateOptions) -> SecuritySettings:
    """Check the security and resource flags of `opts` against Docker's rules and this host.

    Raises:
        InvalidOptionError: a value Docker refuses, or one this host cannot honour.
    """
    cap_add = normalize_capabilities(opts.cap_add, "CapAdd")
    cap_drop = normalize_capabilities(opts.cap_drop, "CapDrop")
    available = host.bounding_capabilities()
    missing = [c for c in cap_add if c != ALL and c not in available]
    if missing:
        raise InvalidOptionError(
            f'invalid CapAdd: capability "{missing[0]}" is not in this host\'s bounding set')
    capabilities = effective_capabilities(cap_add, cap_drop, opts.privileged, available)
    security_opt = resolve_security_opts(opts.security_opt, capabilities)
    if opts.privileged and LABEL_DISABLE not in security_opt:
        security_opt.append(LABEL_DISABLE)
    pids_limit = opts.pids_limit if opts.pids_limit and opts.pids_limit > 0 else None
    if pids_limit is not None and not host.pids_controller_available():
        raise InvalidOptionError("--pids-limit needs the cgroup pids controller, which this "
                                 "host does not have")
    ulimits = parse_ulimits(opts.ulimits)
    host.check_ulimits_fit(ulimits)
    return SecuritySettings(
        security_opt=security_opt, cap_add=cap_add, cap_drop=cap_drop,
        privileged=opts.privileged, readonly_rootfs=opts.read_only, pids_limit=pids_limit,
        ulimits=ulimits)
