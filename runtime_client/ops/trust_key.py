"""`trust key generate NAME` and `trust key load KEYFILE --name NAME`: signer keys.

Generated keys are ECDSA P-256 (what Docker and notary create), stored encrypted in the trust
key store under role NAME; the public half is written as `NAME.pub` (PEM) for
`trust signer add --key`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from cryptography.hazmat.primitives import serialization

from runtime_client.config import ClientConfig
from runtime_client.contenttrust import TrustContext, TrustVerificationError
from runtime_client.errors import UsageError
from runtime_client.options import TrustKeyOptions
from trust.keystore.store import KeyStore
from trust.tuf.errors import TrustError
from trust.tuf.keys import PrivateKey

__all__ = ["trust_key_generate", "trust_key_load"]

logger = logging.getLogger(__name__)


def _store(config: ClientConfig, env: Mapping[str, str], key: PrivateKey, name: str) -> str:
    trust = TrustContext(config, env, config.default_registry)
    try:
        return KeyStore(trust.trust_dir).add(key, name, "", trust.passphrase(name))
    except TrustError as exc:
        raise TrustVerificationError(f"could not store the key: {exc}") from exc


def trust_key_generate(config: ClientConfig, opts: TrustKeyOptions, stdout: TextIO,
                       env: Mapping[str, str]) -> Path:
    """Create a signer key pair; returns the path of the public key file."""
    key = PrivateKey.generate_ecdsa()
    _store(config, env, key, opts.name)
    public = key.crypto_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    path = Path(opts.directory or ".") / f"{opts.name}.pub"
    path.write_bytes(public)
    stdout.write("Successfully generated and loaded private key. Corresponding public key "
                 f"available: {path.resolve()}\n")
    return path


def trust_key_load(config: ClientConfig, opts: TrustKeyOptions, stdout: TextIO,
                   env: Mapping[str, str]) -> str:
    """Import an unencrypted PEM private key as signer NAME; returns its key ID."""
    if not opts.key_file:
        raise UsageError("trust key load needs a key file")
    try:
        crypto_key = serialization.load_pem_private_key(Path(opts.key_file).read_bytes(), None)
        key = PrivateKey(crypto_key)
    except (OSError, ValueError, TypeError, TrustError) as exc:
        raise TrustVerificationError(f"cannot load {opts.key_file}: {exc}") from exc
    key_id = _store(config, env, key, opts.name)
    stdout.write(f"Loading key from \"{opts.key_file}\"...\nSuccessfully imported key from "
                 f"{opts.key_file}\n")
    return key_id
