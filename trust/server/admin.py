"""Administration of a GUN's trust data on the server: what is stored, delete, rotate keys.

What `berth-hub trust show|delete|rotate-key` does. Rotating a server key only creates the
new key (as `POST <role>.key` does); it signs once the repository owner publishes a root that
lists it (`notary key rotate <gun> <role> -r` does both).

Scope: reads and writes through `TrustService`; no HTTP, no printing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from trust.server.service import TrustService
from trust.tuf.errors import TrustError
from trust.tuf.keys import PublicKey
from trust.tuf.model import Metadata, Root, Targets

__all__ = ["RoleReport", "ServerKeyReport", "TrustReport", "delete", "describe", "rotate_key"]


@dataclass(frozen=True, slots=True)
class RoleReport:
    """One stored role: its current version, expiry, signers and (targets roles) tag count."""

    role: str
    version: int
    expires: str
    signed_by: tuple[str, ...]
    targets: int | None


@dataclass(frozen=True, slots=True)
class ServerKeyReport:
    """A server-held key and whether the current root lists it (it signs only then)."""

    role: str
    key_id: str
    created_at: dt.datetime
    active: bool


@dataclass(frozen=True, slots=True)
class TrustReport:
    """Everything the server holds for one GUN."""

    gun: str
    roles: tuple[RoleReport, ...]
    server_keys: tuple[ServerKeyReport, ...]

    @property
    def exists(self) -> bool:
        """Whether the GUN has any trust metadata."""
        return bool(self.roles)


async def describe(service: TrustService, gun: str) -> TrustReport:
    """Report the stored roles and the server-held keys of `gun`."""
    stored = await service.store.get_all_current(gun)
    roles = []
    for name in sorted(stored, key=lambda role: (role.count("/"), role)):
        try:
            metadata = Metadata.from_bytes(stored[name].data)
        except TrustError:
            roles.append(RoleReport(name, stored[name].version, "?", (), None))
            continue
        signed = metadata.signed
        roles.append(
            RoleReport(
                name,
                signed.version,
                signed.expires,
                tuple(sorted(sig.keyid for sig in metadata.signatures)),
                len(signed.targets) if isinstance(signed, Targets) else None,
            )
        )
    listed: set[str] = set()
    if "root" in stored:
        root = Metadata.from_bytes(stored["root"].data, Root).signed
        listed = {kid for entry in root.roles.values() for kid in entry.keyids}
    keys = []
    for role in ("timestamp", "snapshot"):
        for key in await service.store.get_keys(gun, role):
            keys.append(ServerKeyReport(role, key.key_id, key.created_at, key.key_id in listed))
    return TrustReport(gun, tuple(roles), tuple(keys))


async def delete(service: TrustService, gun: str) -> None:
    """Delete every document of `gun` (server-held keys stay, as in notary)."""
    await service.delete(gun)


async def rotate_key(service: TrustService, gun: str, role: str) -> PublicKey:
    """Create a new server-held `role` key for `gun` (see the module note)."""
    return await service.rotate_key(gun, role)
