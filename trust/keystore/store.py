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

import base64
import logging
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from trust.keystore.pkcs8 import decrypt_pkcs8, encrypt_pkcs8, normalize_pkcs8_version
from trust.tuf.errors import KeyNotFoundError, PassphraseError, UnsupportedKeyError
from trust.tuf.keys import PrivateKey
from trust.tuf.model import BASE_ROLES, is_delegation_name

__all__ = ["KeyInfo", "KeyStore", "PassphraseRetriever"]

logger = logging.getLogger(__name__)

PassphraseRetriever = Callable[[str], str]
"""Called with a role name ("root", "targets", "targets/releases", ...); returns its passphrase."""

_PEM_RE = re.compile(
    r"-----BEGIN (?P<label>[A-Z ]+)-----\r?\n(?P<body>.*?)-----END (?P=label)-----", re.S
)
_KEY_ID_RE = re.compile(r"^[0-9a-f]{64}$")


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
        headers = ([f"gun: {gun}"] if gun else []) + [f"role: {role}"]
        body = base64.b64encode(der).decode()
        lines = [f"-----BEGIN {label}-----", *headers, ""]
        lines += [body[i : i + 64] for i in range(0, len(body), 64)]
        lines.append(f"-----END {label}-----")
        key_id = key.key_id
        self._write(self.private_dir / f"{key_id}.key", ("\n".join(lines) + "\n").encode())
        logger.info("stored %s key %s", role, key_id)
        return key_id

    def get(self, key_id: str, passphrase: str) -> PrivateKey:
        """Load and decrypt the key `key_id`.

        Raises:
            KeyNotFoundError: no such key file.
            PassphraseError: wrong passphrase.
            UnsupportedKeyError: the file is not a key this store can read.
        """
        label, _, der = self._read_pem(key_id)
        if label == "ENCRYPTED PRIVATE KEY":
            der = decrypt_pkcs8(der, passphrase.encode())
        try:
            crypto_key = serialization.load_der_private_key(normalize_pkcs8_version(der), None)
        except ValueError as exc:
            if label == "ENCRYPTED PRIVATE KEY":
                raise PassphraseError(f"cannot decrypt key {key_id}") from exc
            raise UnsupportedKeyError(f"key {key_id}: {exc}") from exc
        key = PrivateKey(crypto_key)
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
            if not _KEY_ID_RE.match(key_id):
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

    def _read_pem(self, key_id: str) -> tuple[str, KeyInfo, bytes]:
        if not _KEY_ID_RE.match(key_id):
            raise KeyNotFoundError(f"invalid key ID {key_id!r}")
        path = self.private_dir / f"{key_id}.key"
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise KeyNotFoundError(f"no private key {key_id} in {self.private_dir}") from None
        match = _PEM_RE.search(text)
        if match is None:
            raise UnsupportedKeyError(f"{path} is not a PEM private key")
        lines = match["body"].splitlines()
        headers: dict[str, str] = {}
        # RFC 1421 headers ("role: root") come first and end at a blank line.
        if lines and ":" in lines[0]:
            while lines and lines[0].strip():
                name, _, value = lines.pop(0).partition(":")
                headers[name.strip()] = value.strip()
        body = "".join(lines)
        try:
            der = base64.b64decode("".join(body.split()), validate=True)
        except ValueError as exc:
            raise UnsupportedKeyError(f"{path}: bad base64: {exc}") from exc
        role = headers.get("role", "")
        return match["label"], KeyInfo(role=role, gun=headers.get("gun", "")), der

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            handle.write(data)
            temporary = Path(handle.name)
        temporary.chmod(0o600)
        os.replace(temporary, path)
