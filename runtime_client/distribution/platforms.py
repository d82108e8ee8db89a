"""Platforms (`os/arch[/variant]`): parsing, the host's own, and matching index entries."""

from __future__ import annotations

import platform as _platform
from dataclasses import dataclass
from typing import Any

from runtime_client.errors import UsageError

__all__ = ["Platform", "host_platform"]

_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm",
                 "armel": "arm", "i386": "386", "i686": "386"}
# Variants assumed when an index entry leaves them out (containerd's platform normaliser).
_DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7"}


@dataclass(frozen=True, slots=True)
class Platform:
    """An OS/architecture pair, with an optional CPU variant."""

    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse `linux/arm64/v8`, `linux/amd64` or just `arm64`.

        Raises:
            UsageError: more than three parts or an empty part.
        """
        parts = text.strip().lower().split("/")
        if len(parts) == 1:
            parts = ["linux", *parts]
        if len(parts) > 3 or not all(parts):
            raise UsageError(f'invalid platform "{text}": expected os/arch[/variant]')
        arch = _ARCH_ALIASES.get(parts[1], parts[1])
        if arch.startswith("armv"):
            arch, parts = "arm", [parts[0], "arm", arch[3:5]]
        return cls(parts[0], arch, parts[2] if len(parts) == 3 else None)

    def matches(self, descriptor_platform: dict[str, Any] | None) -> bool:
        """True when an index entry's `platform` object is this platform."""
        if not descriptor_platform:
            return False
        if descriptor_platform.get("os") != self.os:
            return False
        arch = _ARCH_ALIASES.get(str(descriptor_platform.get("architecture")),
                                 descriptor_platform.get("architecture"))
        if arch != self.architecture:
            return False
        if self.variant is None:
            return True
        theirs = descriptor_platform.get("variant") or _DEFAULT_VARIANT.get(arch)
        return theirs == self.variant

    def __str__(self) -> str:
        return "/".join(filter(None, (self.os, self.architecture, self.variant)))


def host_platform() -> Platform:
    """The platform this machine runs (what pull selects by default)."""
    machine = _platform.machine().lower()
    arch = _ARCH_ALIASES.get(machine, machine)
    if machine.startswith("armv"):
        return Platform("linux", "arm", machine[3:5])
    return Platform("linux", arch)
