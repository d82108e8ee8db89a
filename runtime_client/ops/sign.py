"""`berth sign`: sign an image in its registry in cosign's or Notation's format.

The reference is resolved in the registry to its manifest digest (the image must be pushed),
then (signatures made by `trust.sigs.signing`):

* cosign: the simple-signing payload is signed and pushed as a layer of the manifest tagged
  `sha256-<hex>.sig`, appended to the signatures already there (cosign's tag scheme, which
  every cosign version reads);
* Notation: a JWS envelope is pushed as an OCI 1.1 referrer of the digest (artifactType
  `application/vnd.cncf.notary.signature`), by digest, so the registry's referrers API lists it.

Docker Content Trust signing stays `berth trust sign` (and `berth sign --format dct`, which
is the same). Key generation (`generate_keys`) writes PEM PKCS#8 files: cosign's own encrypted
key format is not written or read.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
from pathlib import Path

from registry.oci.digest import Digest
from runtime_client.config import ClientConfig
from runtime_client.distribution.client import RegistryClient, open_session
from runtime_client.distribution.connect import client_for
from runtime_client.errors import NotFoundInRegistryError, UsageError
from runtime_client.images.naming import parse_reference
from runtime_client.ops.verify import manifest_media_type
from runtime_client.options import SignOptions
from trust.sigs.cosign import signature_tag
from trust.sigs.errors import SigningKeyError
from trust.sigs.signing import (
    SignedArtifact,
    cosign_signature,
    generate_key,
    load_certificates,
    load_signing_key,
    notation_signature,
    private_pem,
    public_pem,
    self_signed_certificate,
)

__all__ = ["SignResult", "generate_keys", "sign"]

logger = logging.getLogger(__name__)

SignResult = tuple[str, Digest, Digest]  # (reference signed, image digest, signature digest)


async def sign(config: ClientConfig, opts: SignOptions, now: dt.datetime) -> SignResult:
    """Sign `opts.name` in its registry.

    Returns:
        The reference, the image digest signed, and the signature manifest's digest.

    Raises:
        UsageError: a key or certificate that does not load or fit the format.
        RegistryRequestError: the image is not in the registry, or the push was refused.
    """
    try:
        key = load_signing_key(_read(opts.key), opts.password.encode() if opts.password else None)
        chain = (load_certificates(_read(opts.certificate)) if opts.certificate is not None
                 else None)
    except SigningKeyError as exc:
        raise UsageError(str(exc)) from exc
    if opts.format == "notation" and not chain:
        raise UsageError("notation signing needs --cert (the PEM certificate chain, leaf first)")
    ref = parse_reference(opts.name, config.default_registry, default_tag="latest")
    async with open_session() as session:
        client = client_for(config, ref.host or config.default_registry, session)
        data, header_type, digest = await client.get_manifest(ref.name, ref.reference)
        try:
            if opts.format == "cosign":
                tag = signature_tag(str(digest))
                try:
                    existing, _, _ = await client.get_manifest(ref.name, tag)
                except NotFoundInRegistryError:
                    existing = None
                artifact = cosign_signature(key, str(digest), f"{client.host}/{ref.name}",
                                            dict(opts.annotations), existing)
                where = tag
            else:
                assert chain is not None
                target = {"mediaType": manifest_media_type(data, header_type),
                          "digest": str(digest), "size": len(data)}
                artifact = notation_signature(key, chain, target, now)
                where = artifact.digest
        except SigningKeyError as exc:
            raise UsageError(str(exc)) from exc
        await _push(client, ref.name, artifact, where)
    return str(ref), digest, Digest.parse(artifact.digest)


async def _push(client: RegistryClient, repository: str, artifact: SignedArtifact,
                reference: str) -> None:
    for blob_digest, data in artifact.blobs.items():
        parsed = Digest.parse(blob_digest)
        if await client.blob_exists(repository, parsed):
            continue
        await client.upload_blob(repository, parsed, len(data), functools.partial(io.BytesIO, data),
                                 lambda _done: None)
    await client.put_manifest(repository, reference, artifact.manifest, artifact.media_type)


def generate_keys(prefix: Path, fmt: str, now: dt.datetime, password: str | None = None,
                  common_name: str | None = None) -> list[Path]:
    """Write a new ECDSA P-256 key pair: `PREFIX.key` and `PREFIX.pub` (cosign), or
    `PREFIX.key` and a self-signed code-signing certificate `PREFIX.crt` (Notation).

    Returns:
        The files written.

    Raises:
        UsageError: a file is already there (keys are never overwritten).
    """
    key = generate_key()
    files = {prefix.with_name(prefix.name + ".key"): private_pem(
        key, password.encode() if password else None)}
    if fmt == "notation":
        from cryptography.hazmat.primitives import serialization

        cert = self_signed_certificate(key, common_name or prefix.name, now)
        files[prefix.with_name(prefix.name + ".crt")] = cert.public_bytes(
            serialization.Encoding.PEM)
    else:
        files[prefix.with_name(prefix.name + ".pub")] = public_pem(key)
    for path in files:
        if path.exists():
            raise UsageError(f"{path} exists: not overwriting a key")
    for path, data in files.items():
        path.touch(mode=0o600 if path.suffix == ".key" else 0o644)  # private before written
        path.write_bytes(data)
    return list(files)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
