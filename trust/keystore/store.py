"""A private key store compatible with the Docker CLI's and notary's trust directory.

Layout (notary 0.6+, used by Docker CLI 18.03 and later)::

    <trust_dir>/
      private/
        <keyid>.key        # PEM "ENCRYPTED PRIVATE KEY" (PBES2 PKCS#8) with headers:
                           #   role: root                      (root: no gun header)
                           #   gun: <GUN> / role: targets      (targets and snapshot keys)
                           #   role: <delegation name>         (delegation keys: no gun)
      tuf/<GUN>/metadata/  # the verifying client's cache (see trust.client.cache)

The file name is the canonical key ID: for a root key that is the ID of the bare `ecdsa` key,
not of the `ecdsa-x509` certificate key that root.json lists (notary `CanonicalKeyID`).
Keys written here load in the Docker CLI and notary, and theirs load here.

Scope: file I/O for private keys. Passphrases are passed in by the caller.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from trust.keystore.pem import PemBlock, private_key_from_pem, read_pem_block, write_pem_block
from trust.keystore.pkcs8 import encrypt_pkcs8
from trust.tuf.errors import KeyNotFoundError, UnsupportedKeyError
from trust.tuf.keys import PrivateKey
from trust.tuf.model import BASE_ROLES, is_delegation_name

__all__ = ["KeyInfo", "KeyStore", "PassphraseRetriever"]

logger = logging.getLogger(__name__)

PassphraseRetriever = Callable[[str], str]
"""Called with a role name ("root", "targets", "targets/releases", ...); returns its passphrase."""

_KEY_ID_RE = re.compile(r"[0-9a-f]{64}")  # use fullmatch


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What a key file's headers say: its role and (for targets/snapshot keys) its GUN."""

    role: str
    gun: str


class KeyStore:
    """Encrypted private keys under `<trust_dir>/private`."""

    def __init__(self, trust_dir: str | os.PathLike[str]) -> None:
        """Use (and create on first write) the trust directory `trust_dir`."""
        self.trust_dir = Path(trust_dir)
        self.private_dir = self.trust_dir / "private"

    def add(self, key: PrivateKey, role: str, gun: str, passphrase: str) -> str:
        """Encrypt and store `key`, returning its key ID (the file name).

        As notary does, the `gun` header is dropped for root and delegation keys.
        An empty passphrase stores the key unencrypted (notary's behaviour too).
        """
        if role == "root" or is_delegation_name(role) or role not in BASE_ROLES:
            gun = ""
        plain = key.crypto_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        if passphrase:
            label, der = "ENCRYPTED PRIVATE KEY", encrypt_pkcs8(plain, passphrase.encode())
        else:
            label, der = "PRIVATE KEY", plain
        headers = {"role": role, **({"gun": gun} if gun else {})}
        pem = write_pem_block(PemBlock(label, der, headers))
        key_id = key.key_id
        self._write(self.private_dir / f"{key_id}.key", pem)
        logger.info("stored %s key %s", role, key_id)
        return key_id

    def get(self, key_id: str, passphrase: str) -> PrivateKey:
        """Load and decrypt the key `key_id`.

        Raises:
            KeyNotFoundError: no such key file.
            PassphraseError: wrong passphrase.
            UnsupportedKeyError: the file is not a key this store can read.
        """
        key = private_key_from_pem(self._path(key_id).read_bytes(), passphrase)
        if key.key_id != key_id:
            raise UnsupportedKeyError(f"key file {key_id} holds key {key.key_id}")
        return key

    def info(self, key_id: str) -> KeyInfo:
        """The role and GUN headers of `key_id` (no decryption).

        Raises:
            KeyNotFoundError: no such key file.
        """
        _, info, _ = self._read_pem(key_id)
        return info

    def list_keys(self) -> dict[str, KeyInfo]:
        """Every readable key in the store, by key ID."""
        found: dict[str, KeyInfo] = {}
        if not self.private_dir.is_dir():
            return found
        for path in sorted(self.private_dir.glob("*.key")):
            key_id = path.stem
            if not _KEY_ID_RE.fullmatch(key_id):
                continue
            try:
                found[key_id] = self.info(key_id)
            except (KeyNotFoundError, UnsupportedKeyError) as exc:
                logger.warning("skipping unreadable key file %s: %s", path, exc)
        return found

    def find(self, role: str, gun: str = "") -> list[str]:
        """Key IDs stored for `role` (and, for targets/snapshot keys, for `gun`)."""
        wanted_gun = gun if role in ("targets", "snapshot") else ""
        return [
            key_id
            for key_id, info in self.list_keys().items()
            if info.role == role and info.gun == wanted_gun
        ]

    def remove(self, key_id: str) -> None:
        """Delete the key file `key_id` (no error when absent)."""
        (self.private_dir / f"{key_id}.key").unlink(missing_ok=True)

    def _path(self, key_id: str) -> Path:
        if not _KEY_ID_RE.fullmatch(key_id):
            raise KeyNotFoundError(f"invalid key ID {key_id!r}")
        path = self.private_dir / f"{key_id}.key"
        if not path.is_file():
            raise KeyNotFoundError(f"no private key {key_id} in {self.private_dir}")
        return path

    def _read_pem(self, key_id: str) -> tuple[str, KeyInfo, bytes]:
        block = read_pem_block(self._path(key_id).read_bytes())
        info = KeyInfo(role=block.headers.get("role", ""), gun=block.headers.get("gun", ""))
        return block.label, info, block.der

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            handle.write(data)
            temporary = Path(handle.name)
        temporary.chmod(0o600)
        os.replace(temporary, path)
