"""What `docker trust inspect` reports, computed from a verified `TrustedSet`.

Follows docker/cli's `trust inspect`: a tag counts as signed when `targets` or
`targets/releases` lists it; its signers are the other delegations listing the same digest
(or "Repo Admin" when only targets/releases list it); signers are the delegations other than
releases, with their key IDs; administrative keys are the root keys (the certificate key IDs
root.json lists) and the targets ("Repository") keys.

Scope: pure; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trust.client.trusted_set import TrustedSet
from trust.client.updater import RELEASES_ROLE, list_targets

__all__ = ["REPO_ADMIN", "RepositoryTrust", "SignedTag", "Signer", "inspect_repository"]

REPO_ADMIN = "Repo Admin"
_RELEASED = ("targets", RELEASES_ROLE)


@dataclass(frozen=True, slots=True)
class SignedTag:
    """A released tag, its manifest digest (hex) and who signed it."""

    tag: str
    digest: str
    signers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Signer:
    """A delegation (signer) and its key IDs."""

    name: str
    key_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RepositoryTrust:
    """The inspect report of one repository (optionally one tag)."""

    name: str
    signed_tags: tuple[SignedTag, ...]
    signers: tuple[Signer, ...]
    root_key_ids: tuple[str, ...]
    repository_key_ids: tuple[str, ...]

    def to_docker_json(self) -> dict[str, Any]:
        """The object `docker trust inspect` prints for this repository."""
        return {
            "Name": self.name,
            "SignedTags": [
                {"SignedTag": t.tag, "Digest": t.digest, "Signers": list(t.signers)}
                for t in self.signed_tags
            ],
            "Signers": [
                {"Name": s.name, "Keys": [{"ID": key_id} for key_id in s.key_ids]}
                for s in self.signers
            ],
            "AdministrativeKeys": [
                {"Name": "Root", "Keys": [{"ID": key_id} for key_id in self.root_key_ids]},
                {
                    "Name": "Repository",
                    "Keys": [{"ID": key_id} for key_id in self.repository_key_ids],
                },
            ],
        }


def inspect_repository(trusted: TrustedSet, name: str, tag: str | None = None) -> RepositoryTrust:
    """Build the inspect report.

    Args:
        trusted: a refreshed, verified set.
        name: the repository name to report (as the user typed it).
        tag: only this tag, when given.
    """
    rows: dict[tuple[str, str], list[str]] = {}
    listing = list_targets(trusted)
    for target_name, targets in listing.items():
        if tag is not None and target_name != tag:
            continue
        for target in targets:
            if target.role in _RELEASED:
                rows.setdefault((target_name, target.sha256), [])
        for target in targets:
            key = (target_name, target.sha256)
            if key in rows and target.role not in _RELEASED:
                rows[key].append(target.role.removeprefix("targets/"))
    signed_tags = tuple(
        SignedTag(tag_name, digest, tuple(sorted(signers)) or (REPO_ADMIN,))
        for (tag_name, digest), signers in sorted(rows.items())
    )
    signers = []
    delegations = trusted.targets["targets"].signed.delegations
    for entry in delegations.roles if delegations is not None else []:
        if entry.name != RELEASES_ROLE:
            signers.append(Signer(entry.name.removeprefix("targets/"), tuple(sorted(entry.keyids))))
    root = trusted.root.signed
    root_keys = root.role_keys("root")[0]
    return RepositoryTrust(
        name=name,
        signed_tags=signed_tags,
        signers=tuple(sorted(signers, key=lambda s: s.name)),
        root_key_ids=tuple(sorted(root_keys)),
        repository_key_ids=tuple(sorted(root.role_keys("targets")[0])),
    )
