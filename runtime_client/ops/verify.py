"""Verify an image's signatures in its registry before it is pulled (client-side gate).

The same policy the hub's pull gate asks (`trust.sigs.policy.SignaturePolicy`), fed from the
registry over HTTP: the reference is resolved to a manifest digest, the signature artifacts of
that digest are fetched (cosign's `sha256-<hex>.sig` tag, and the referrers whose artifact
type is a Sigstore bundle or a Notation signature), and the policy decides with "now" from the
clock. An index counts when it is signed or, where the policy allows (`platforms`), when every
platform manifest is. The caller then pulls the verified digest, never the tag again, so what
was verified is what is pulled.

For a policy that counts `dct`, the Docker Content Trust verdict is whether a signed tag of
the repository names the digest (`runtime_client.contenttrust`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable

from registry.oci import mediatypes as mt
from registry.oci.digest import Digest
from registry.oci.reference import Reference
from runtime_client.distribution.client import RegistryClient
from runtime_client.errors import (
    NotFoundInRegistryError,
    RegistryRequestError,
    RuntimeClientError,
)
from trust.sigs.cosign import signature_tag
from trust.sigs.policy import (
    COSIGN_SIG_TAG,
    Decision,
    SignatureArtifact,
    SignaturePolicy,
    Subject,
    artifact_kind,
)
from trust.sigs.verdict import DCT, Verdict

__all__ = [
    "SignatureRequiredError",
    "manifest_media_type",
    "signature_artifacts",
    "verified_digest",
]

logger = logging.getLogger(__name__)

# A signature layer is a few kilobytes; a larger one is not read (as the hub's gate).
MAX_SIGNATURE_BLOB = 1024 * 1024  # bytes

DctCheck = Callable[[str], Awaitable[Verdict | None]]


class SignatureRequiredError(RuntimeClientError):
    """The signature policy does not count the image as signed."""

    daemon_style = False

    def __init__(self, reference: str, digest: str, why: str) -> None:
        super().__init__(
            f"{reference}: image {digest} is not signed as the signature policy requires: {why}"
        )
        self.reference = reference
        self.digest = digest


async def verified_digest(client: RegistryClient, ref: Reference, policy: SignaturePolicy,
                          now: dt.datetime, dct: DctCheck | None = None) -> Digest:
    """The digest `ref` names in the registry, once the policy counts it as signed.

    Args:
        client: the registry's client.
        ref: a tag or digest reference.
        policy: the signature policy.
        now: the verification time.
        dct: the Docker Content Trust verdict of a digest (needed when the policy counts dct).

    Raises:
        SignatureRequiredError: not signed as the policy requires (the message says what is
            missing, per format).
        RegistryRequestError: the registry could not be read.
    """
    data, header_type, digest = await client.get_manifest(ref.name, ref.reference)
    media_type = manifest_media_type(data, header_type)
    decision = await _decide(client, ref, policy, digest, data, media_type, now, dct)
    if not decision.signed and media_type in mt.INDEX_TYPES and policy.platforms:
        children = []
        for child in json.loads(data).get("manifests") or []:
            try:
                child_digest = Digest.parse(child["digest"])
            except (KeyError, TypeError, ValueError) as exc:
                raise RegistryRequestError(f"{ref}: index entry without a digest") from exc
            child_data, child_type, _ = await client.get_manifest(ref.name, str(child_digest))
            children.append(await _decide(client, ref, policy, child_digest, child_data,
                                          manifest_media_type(child_data, child_type), now, dct))
        decision = policy.decide_index(decision, children)
    if not decision.signed:
        raise SignatureRequiredError(str(ref), str(digest), decision.explain())
    logger.info("%s@%s: %s", ref, digest, decision.explain())
    return digest


async def _decide(client: RegistryClient, ref: Reference, policy: SignaturePolicy,
                  digest: Digest, data: bytes, media_type: str, now: dt.datetime,
                  dct: DctCheck | None) -> Decision:
    artifacts = await signature_artifacts(client, ref.name, digest)
    verdict = await dct(str(digest)) if dct is not None and DCT in policy.formats else None
    subject = Subject(ref.name, str(digest), media_type, len(data), data, host=client.host)
    # Verification is CPU work (RSA, X.509 chains): off the event loop.
    return await asyncio.to_thread(policy.decide, subject, artifacts, now, dct=verdict)


async def signature_artifacts(client: RegistryClient, repository: str,
                              digest: Digest) -> list[SignatureArtifact]:
    """Every signature artifact of `digest` in `repository`, with its layer blobs."""
    artifacts = []
    try:
        manifest, _, _ = await client.get_manifest(repository, signature_tag(str(digest)))
        artifacts.append(await _with_blobs(client, repository, COSIGN_SIG_TAG, manifest))
    except NotFoundInRegistryError:
        pass  # no tag-scheme signature
    for descriptor in await client.referrers(repository, digest):
        kind = artifact_kind(descriptor.get("artifactType"))
        if kind is None:
            continue
        try:
            data, _, _ = await client.get_manifest(repository, str(descriptor.get("digest")))
        except NotFoundInRegistryError:
            continue
        artifacts.append(await _with_blobs(client, repository, kind, data))
    return artifacts


async def _with_blobs(client: RegistryClient, repository: str, kind: str,
                      manifest: bytes) -> SignatureArtifact:
    blobs: dict[str, bytes] = {}
    try:
        layers = json.loads(manifest).get("layers") or []
    except (ValueError, AttributeError):
        layers = []
    for layer in layers:
        try:
            layer_digest = Digest.parse(layer["digest"])
            if int(layer.get("size", 0)) > MAX_SIGNATURE_BLOB:
                continue
            blobs[str(layer_digest)] = await client.get_blob(repository, layer_digest)
        except (KeyError, TypeError, ValueError, NotFoundInRegistryError) as exc:
            logger.info("signature layer not read: %s", exc)
    return SignatureArtifact(kind, manifest, blobs)


def manifest_media_type(data: bytes, header_type: str) -> str:
    """The manifest's own `mediaType` wins over a generic Content-Type header."""
    try:
        declared = json.loads(data).get("mediaType")
    except (ValueError, AttributeError):
        declared = None
    if declared in mt.MANIFEST_TYPES:
        return str(declared)
    return header_type if header_type in mt.MANIFEST_TYPES else mt.OCI_MANIFEST
