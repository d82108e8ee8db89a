"""cosign signatures in the tag scheme: `sha256-<hex>.sig` manifests of simple-signing layers.

cosign stores the signatures of image `sha256:<hex>` in the same repository under the tag
`sha256-<hex>.sig`: an OCI image manifest whose every layer is one signature, with media type
`application/vnd.dev.cosign.simplesigning.v1+json`, the signed payload as the blob and the
base64 signature in the layer annotation `dev.cosignproject.cosign/signature`. The payload is
the simple-signing document (containers/image "atomic container signature" shape)::

    {"critical": {"identity": {"docker-reference": "hub.example/acme/app"},
                  "image": {"docker-manifest-digest": "sha256:..."},
                  "type": "cosign container image signature"},
     "optional": {"key": "value"}}

A signature counts when a trusted key verifies it over the payload bytes, the payload names
the image's digest, and (when asked) the claimed identity and `optional` annotations match.
A keyless signature (cosign v1 and v2: the Fulcio certificate in `dev.sigstore.cosign/
certificate`, the Rekor entry in `dev.sigstore.cosign/bundle`) counts when the policy gives a
keyless trust root and `trust.sigs.keyless` accepts certificate, identity and log entry; the
certificate's key then verifies the signature.

Scope: verification of bytes the caller fetched; no registry access.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trust.sigs.errors import (
    DigestMismatchError,
    IdentityMismatchError,
    MalformedSignatureError,
    SignatureVerificationError,
    UnsupportedAlgorithmError,
    UntrustedSignerError,
)
from trust.sigs.keyless import KeylessTrust, LogEntryClaim, verify_cosign_keyless
from trust.sigs.keys import VerifyingKey
from trust.sigs.verdict import (
    COSIGN,
    Verdict,
    b64decode,
    check_blob,
    check_digest,
    closest,
    load_json_object,
)

__all__ = [
    "COSIGN_SIGNATURE_TYPE",
    "SIGNATURE_ANNOTATION",
    "SIMPLE_SIGNING_MEDIA_TYPE",
    "SignatureLayer",
    "SimpleSigningClaim",
    "identity_matches",
    "signature_layers",
    "signature_tag",
    "verify_signature_manifest",
    "verify_simple_signing",
]

logger = logging.getLogger(__name__)

SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate"
BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle"
COSIGN_SIGNATURE_TYPE = "cosign container image signature"


def signature_tag(digest: str) -> str:
    """The tag cosign stores the signatures of `digest` under (`sha256-<hex>.sig`)."""
    return check_digest(digest).replace(":", "-", 1) + ".sig"


@dataclass(frozen=True)
class SimpleSigningClaim:
    """The parsed simple-signing payload.

    Attributes:
        digest: `critical.image.docker-manifest-digest`.
        docker_reference: `critical.identity.docker-reference`.
        optional: the `optional` annotations (empty when null).
    """

    digest: str
    docker_reference: str
    optional: Mapping[str, Any]

    @classmethod
    def from_bytes(cls, payload: bytes) -> SimpleSigningClaim:
        """Parse a payload.

        Raises:
            MalformedSignatureError: not a cosign container image signature payload.
        """
        document = load_json_object(payload, "simple-signing payload")
        critical = document.get("critical")
        if not isinstance(critical, dict):
            raise MalformedSignatureError("simple-signing payload has no critical section")
        if critical.get("type") != COSIGN_SIGNATURE_TYPE:
            raise MalformedSignatureError(
                f"simple-signing type is {critical.get('type')!r}, not {COSIGN_SIGNATURE_TYPE!r}"
            )
        image = critical.get("image")
        identity = critical.get("identity")
        if not isinstance(image, dict) or not isinstance(identity, dict):
            raise MalformedSignatureError("simple-signing payload lacks image or identity")
        reference = identity.get("docker-reference")
        if not isinstance(reference, str):
            raise MalformedSignatureError("simple-signing identity has no docker-reference")
        optional = document.get("optional") or {}
        if not isinstance(optional, dict):
            raise MalformedSignatureError("simple-signing optional section is not an object")
        digest = check_digest(image.get("docker-manifest-digest"))
        return cls(digest, reference, optional)


def identity_matches(claimed: str, expected: str) -> bool:
    """Whether a claimed docker-reference names the expected repository.

    The claim may carry a tag or digest (`hub.example/acme/app:1`); cosign compares the
    repository part, as does this.
    """
    return _repository_part(claimed) == _repository_part(expected)


def _repository_part(reference: str) -> str:
    name = reference.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def verify_simple_signing(
    payload: bytes,
    signature: str,
    image_digest: str,
    keys: Sequence[VerifyingKey],
    *,
    identities: Sequence[str] = (),
    annotations: Mapping[str, str] | None = None,
    certificate: str | None = None,
    rekor_bundle: str | None = None,
    keyless: KeylessTrust | None = None,
    now: dt.datetime | None = None,
) -> Verdict:
    """Verify one simple-signing signature of `image_digest`.

    Args:
        payload: the layer blob (the signed bytes).
        signature: the base64 signature from the layer annotation.
        image_digest: the digest of the image being checked.
        keys: the trusted keys; any of them may have signed.
        identities: when not empty, the claimed docker-reference must name one of these.
        annotations: when given, each must appear with this value under `optional`.
        certificate: the layer's certificate annotation (a keyless signature).
        rekor_bundle: the layer's bundle annotation (its log entry).
        keyless: the keyless trust root (None: keyless signatures are refused).
        now: the verification time (a log entry integrated after it is refused).

    Returns:
        The verdict, naming the key that verified.

    Raises:
        UntrustedSignerError: no trusted key verifies the signature over the payload.
        MalformedSignatureError: the payload or signature is not cosign's.
        DigestMismatchError: the signed payload names another image.
        IdentityMismatchError: the identity or annotations do not match.
    """
    check_digest(image_digest)
    raw_signature = b64decode(signature, "cosign signature annotation")
    signed_at = None
    if certificate is not None:
        if keyless is None or rekor_bundle is None:
            raise UnsupportedAlgorithmError(
                "keyless cosign signatures are not trusted by this policy"
                if keyless is None
                else "keyless cosign signature has no transparency log bundle"
            )
        claim = LogEntryClaim(raw_signature, message_digest=hashlib.sha256(payload).digest())
        key, signed_at = verify_cosign_keyless(certificate, rekor_bundle, claim, keyless, now)
        keys = [key]
    signer = next((key for key in keys if key.verify(raw_signature, payload)), None)
    if signer is None:
        raise UntrustedSignerError("cosign signature is not verified by any trusted key")
    claim = SimpleSigningClaim.from_bytes(payload)
    if claim.digest != image_digest:
        raise DigestMismatchError(f"cosign signature is for {claim.digest}, not {image_digest}")
    if identities and not any(identity_matches(claim.docker_reference, i) for i in identities):
        raise IdentityMismatchError(
            f"cosign signature claims identity {claim.docker_reference!r},"
            f" not one of {sorted(identities)}"
        )
    for key, value in (annotations or {}).items():
        if claim.optional.get(key) != value:
            raise IdentityMismatchError(f"cosign signature lacks annotation {key}={value}")
    return Verdict(COSIGN, image_digest, signer.name, "sig-tag", signed_at=signed_at)


@dataclass(frozen=True)
class SignatureLayer:
    """One signature layer of a `.sig` manifest: the blob to fetch, its signature and, for a
    keyless signature, its certificate and log entry annotations."""

    digest: str
    signature: str
    certificate: str | None = None
    rekor_bundle: str | None = None


def signature_layers(manifest: bytes) -> list[SignatureLayer]:
    """The simple-signing layers of a `.sig` manifest (blobs the caller must fetch).

    Raises:
        MalformedSignatureError: not an image manifest with a layer list.
    """
    document = load_json_object(manifest, "cosign signature manifest")
    layers = document.get("layers")
    if not isinstance(layers, list):
        raise MalformedSignatureError("cosign signature manifest has no layers")
    found = []
    for layer in layers:
        if not isinstance(layer, dict) or layer.get("mediaType") != SIMPLE_SIGNING_MEDIA_TYPE:
            continue
        annotations = layer.get("annotations") or {}
        signature = annotations.get(SIGNATURE_ANNOTATION) if isinstance(annotations, dict) else None
        if isinstance(signature, str):
            certificate = annotations.get(CERTIFICATE_ANNOTATION)
            rekor_bundle = annotations.get(BUNDLE_ANNOTATION)
            found.append(
                SignatureLayer(
                    check_digest(layer.get("digest")),
                    signature,
                    certificate if isinstance(certificate, str) else None,
                    rekor_bundle if isinstance(rekor_bundle, str) else None,
                )
            )
    return found


def verify_signature_manifest(
    manifest: bytes,
    blobs: Mapping[str, bytes],
    image_digest: str,
    keys: Sequence[VerifyingKey],
    *,
    identities: Sequence[str] = (),
    annotations: Mapping[str, str] | None = None,
    keyless: KeylessTrust | None = None,
    now: dt.datetime | None = None,
) -> Verdict:
    """Verify a `.sig` manifest: the image counts as signed when any layer verifies.

    Args:
        manifest: the bytes of the manifest tagged `sha256-<hex>.sig`.
        blobs: the layer blobs by digest (a missing blob makes its layer not count).
        image_digest, keys, identities, annotations, keyless, now: as for
            `verify_simple_signing`.

    Raises:
        SignatureVerificationError: no layer verifies; the error of the layer that came
            closest (a valid signature with the wrong claim before an untrusted one).
    """
    errors: list[SignatureVerificationError] = []
    for layer in signature_layers(manifest):
        try:
            payload = check_blob(blobs[layer.digest], layer.digest)
            return verify_simple_signing(
                payload,
                layer.signature,
                image_digest,
                keys,
                identities=identities,
                annotations=annotations,
                certificate=layer.certificate,
                rekor_bundle=layer.rekor_bundle,
                keyless=keyless,
                now=now,
            )
        except KeyError:
            errors.append(MalformedSignatureError(f"signature blob {layer.digest} is missing"))
        except SignatureVerificationError as exc:
            errors.append(exc)
    if not errors:
        raise MalformedSignatureError("cosign signature manifest has no signature layers")
    raise closest(errors)
