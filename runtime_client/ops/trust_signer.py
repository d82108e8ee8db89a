"""`trust signer add --key PUB NAME REPO...` / `trust signer remove NAME REPO...`.

Adding a signer delegates `targets/releases` and `targets/NAME` to the signer's keys, creating
the repository's trust data first when it has none (as Docker does).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from runtime_client.config import ClientConfig
from runtime_client.contenttrust import TrustContext, TrustVerificationError
from runtime_client.images.naming import parse_reference, repository_of
from runtime_client.options import TrustSignerOptions
from trust.remote import RemoteError
from trust.tuf.errors import RepositoryNotInitializedError, TrustError
from trust.tuf.keys import ECDSA, RSA, PublicKey

__all__ = ["trust_signer_add", "trust_signer_remove"]

logger = logging.getLogger(__name__)


def _public_key(path: str) -> PublicKey:
    try:
        loaded = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise TrustVerificationError(f"cannot read public key {path}: {exc}") from exc
    der = loaded.public_bytes(serialization.Encoding.DER,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    return PublicKey(RSA if isinstance(loaded, rsa.RSAPublicKey) else ECDSA, der)


def trust_signer_add(config: ClientConfig, opts: TrustSignerOptions, stdout: TextIO,
                     env: Mapping[str, str]) -> None:
    """Delegate signing of each repository to the signer's keys."""
    keys = [_public_key(path) for path in opts.key_files]
    for name in opts.repositories:
        ref = parse_reference(name, config.default_registry, default_tag=None)
        gun = repository_of(ref)
        repository = TrustContext(config, env, ref.host or config.default_registry) \
            .repository(gun)
        stdout.write(f'Adding signer "{opts.name}" to {name}...\n')
        try:
            try:
                repository.refresh()
            except RepositoryNotInitializedError:
                stdout.write(f"Initializing signed repository for {name}...\n")
                repository.initialize()
            repository.add_signer(opts.name, keys)
        except (TrustError, RemoteError) as exc:
            raise TrustVerificationError(f"could not add signer to {name}: {exc}") from exc
        stdout.write(f"Successfully added signer: {opts.name} to {name}\n")


def trust_signer_remove(config: ClientConfig, opts: TrustSignerOptions, stdout: TextIO,
                        env: Mapping[str, str]) -> None:
    """Remove the signer's delegation from each repository."""
    for name in opts.repositories:
        ref = parse_reference(name, config.default_registry, default_tag=None)
        repository = TrustContext(config, env, ref.host or config.default_registry) \
            .repository(repository_of(ref))
        stdout.write(f'Removing signer "{opts.name}" from {name}...\n')
        try:
            repository.remove_signer(opts.name)
        except (TrustError, RemoteError) as exc:
            raise TrustVerificationError(f"could not remove signer from {name}: {exc}") \
                from exc
        stdout.write(f"Successfully removed {opts.name} from {name}\n")
