"""The `trust` command group: signatures and signing keys (Docker Content Trust)."""

from __future__ import annotations

from runtime_client.cli.base import CommandGroup, Verb

__all__ = ["GROUP"]

GROUP = CommandGroup(
    name="trust",
    help="Manage trust on images",
    verbs=(
        Verb("sign", "trust_sign", "Sign an image"),
        Verb("inspect", "trust_inspect", "Return low-level information about keys and signatures"),
        Verb("revoke", "trust_revoke", "Remove trust for an image"),
        Verb("key", "trust_key", "Manage keys for signing images"),
        Verb("signer", "trust_signer", "Manage entities who can sign images"),
    ),
)
