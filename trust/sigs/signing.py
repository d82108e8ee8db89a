"""Making cosign and Notation signatures: the artifacts `berth sign` pushes.

The counterpart of the verifiers in this package, in the formats the projects publish:

* cosign's tag scheme (cosign `specs/SIGNATURE_SPEC.md`): a simple-signing payload naming the
  image digest and its docker-reference, signed by the key, stored as a layer of the manifest
  tagged `sha256-<hex>.sig` with the base64 signature in the `dev.cosignproject.cosign/signature`
  annotation. A new signature is appended to the layers already there, as cosign does.
* Notation (Notary Project `specs/signature-specification.md` and
  `signature-envelope-jws.md`): a flattened JWS JSON envelope (`application/jose+json`) over the
  target artifact's descriptor, `notary.x509` signing scheme, the certificate chain in `x5c`,
  stored as an OCI 1.1 referrer with artifactType `application/vnd.cncf.notary.signature`, the
  empty config, and the chain's thumbprints in `io.cncf.notary.x509chain.thumbprint#S256`.

Keys are PEM PKCS#8 private keys (optionally encrypted with a password) holding ECDSA P-256,
P-384 or P-521, RSA (2048 bits or more) or, for cosign, Ed25519. cosign's own encrypted key
format (scrypt and secretbox under `ENCRYPTED SIGSTORE PRIVATE KEY`) is not read: convert it,
or sign with a key made by `generate_key`.

Scope: pure. Keys, certificates, digests and "now" come in; manifest and blob bytes go out.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from trust.sigs.cosign import (
    COSIGN_SIGNATURE_TYPE,
    SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING_MEDIA_TYPE,
)
from trust.sigs.errors import SigningKeyError
from trust.sigs.keys import curve_hash
from trust.sigs.notation_envelope import (
    JWS_MEDIA_TYPE,
    NOTATION_ARTIFACT_TYPE,
    PAYLOAD_MEDIA_TYPE,
    SIGNING_SCHEME,
    SIGNING_TIME,
    X509,
)

__all__ = [
    "OCI_MANIFEST",
    "SignedArtifact",
    "SigningKey",
    "cosign_signature",
    "generate_key",
    "load_certificates",
    "load_signing_key",
    "notation_signature",
    "private_pem",
    "public_pem",
    "self_signed_certificate",
]

logger = logging.getLogger(__name__)

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_EMPTY = b"{}"
_EMPTY_DIGEST = "sha256:" + hashlib.sha256(_EMPTY).hexdigest()
_EMPTY_CONFIG = {
    "mediaType": "application/vnd.oci.empty.v1+json",
    "digest": _EMPTY_DIGEST,
    "size": len(_EMPTY),
}
_THUMBPRINTS = "io.cncf.notary.x509chain.thumbprint#S256"
_SIGNING_AGENT = "berth/1"

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True)
class SignedArtifact:
    """A signature manifest and the blobs it names, ready to push.

    Attributes:
        manifest: the manifest bytes.
        blobs: every blob it names (config and layers), by digest.
        media_type: the manifest's media type.
    """

    manifest: bytes
    blobs: Mapping[str, bytes] = field(default_factory=dict)
    media_type: str = OCI_MANIFEST

    @property
    def digest(self) -> str:
        return _digest(self.manifest)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# ---- keys -------------------------------------------------------------------------------


def load_signing_key(pem: bytes, password: bytes | None = None) -> SigningKey:
    """Load a PEM private key (PKCS#8, or the traditional EC/RSA forms).

    Raises:
        SigningKeyError: not a PEM private key, a wrong or missing password, or a key type
            neither format signs with.
    """
    if b"ENCRYPTED SIGSTORE PRIVATE KEY" in pem or b"ENCRYPTED COSIGN PRIVATE KEY" in pem:
        raise SigningKeyError(
            "cosign's encrypted key format is not supported: use a PEM PKCS#8 key"
        )
    try:
        key = serialization.load_pem_private_key(pem, password or None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"cannot load the private key: {exc}") from exc
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < 2048:
        raise SigningKeyError(f"RSA key of {key.key_size} bits is too small")
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
                      | ed25519.Ed25519PrivateKey):
        raise SigningKeyError(f"unsupported key type {type(key).__name__}")
    return key


def generate_key() -> ec.EllipticCurvePrivateKey:
    """A new ECDSA P-256 key (what `cosign generate-key-pair` makes; Notation signs with it)."""
    return ec.generate_private_key(ec.SECP256R1())


def private_pem(key: SigningKey, password: bytes | None = None) -> bytes:
    """The key as PEM PKCS#8, encrypted with `password` when one is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             encryption)


def public_pem(key: SigningKey) -> bytes:
    """The public half as PEM SubjectPublicKeyInfo (a cosign public key file)."""
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def self_signed_certificate(key: SigningKey, common_name: str, now: dt.datetime,
                            days: int = 365) -> x509.Certificate:
    """A self-signed code-signing certificate, as `notation cert generate-test` makes.

    Its subject is `C=US, ST=WA, O=berth, CN=<common_name>` (a Notation trusted identity must
    name C, ST and O, so they are set as notation's test certificates set them); a trust store
    holding it and a trust policy naming `x509.subject: C=US, ST=WA, O=berth,
    CN=<common_name>` accept what the key signs.
    """
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                      x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "berth"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          key_cert_sign=False, crl_sign=False, encipher_only=False,
                          decipher_only=False)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .sign(key, algorithm)
    )


def load_certificates(pem: bytes) -> list[x509.Certificate]:
    """A PEM certificate chain, leaf first.

    Raises:
        SigningKeyError: no certificate in it.
    """
    try:
        chain = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise SigningKeyError(f"cannot load the certificate chain: {exc}") from exc
    return chain


# ---- cosign ------------------------------------------------------------------------------


def _cosign_sign(key: SigningKey, message: bytes) -> bytes:
    """As cosign signs per key type: DER ECDSA (curve's hash), pure Ed25519, RSA PKCS#1 v1.5."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(message, ec.ECDSA(curve_hash(key.public_key())))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    return key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def cosign_signature(
    key: SigningKey,
    image_digest: str,
    reference: str,
    annotations: Mapping[str, str] | None = None,
    existing: bytes | None = None,
) -> SignedArtifact:
    """The `.sig` manifest with a new signature of `image_digest` by `key`.

    Args:
        key: the signing key.
        image_digest: the manifest digest signed.
        reference: the docker-reference the payload claims (`host/repository`).
        annotations: the payload's optional annotations (`cosign sign -a k=v`).
        existing: the `.sig` manifest already in the registry, whose layers are kept.

    Returns:
        The manifest to push under `signature_tag(image_digest)` and the blobs it adds.
    """
    payload = json.dumps({
        "critical": {
            "identity": {"docker-reference": reference},
            "image": {"docker-manifest-digest": image_digest},
            "type": COSIGN_SIGNATURE_TYPE,
        },
        "optional": dict(annotations) if annotations else None,
    }).encode()
    signature = base64.b64encode(_cosign_sign(key, payload)).decode()
    layers: list[dict[str, Any]] = []
    if existing is not None:
        try:
            layers = [layer for layer in json.loads(existing).get("layers") or []
                      if isinstance(layer, dict)]
        except (ValueError, AttributeError):
            logger.warning("the existing signature manifest is not JSON; replacing it")
    layers.append({
        "mediaType": SIMPLE_SIGNING_MEDIA_TYPE,
        "size": len(payload),
        "digest": _digest(payload),
        "annotations": {SIGNATURE_ANNOTATION: signature},
    })
    config = json.dumps({
        "architecture": "", "os": "", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]},
    }).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "size": len(config), "digest": _digest(config)},
        "layers": layers,
    }).encode()
    return SignedArtifact(manifest, {_digest(config): config, _digest(payload): payload})


# ---- Notation ----------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jws_algorithm(key: SigningKey) -> tuple[str, hashes.HashAlgorithm]:
    """Notation's algorithm for the key: its size picks the SHA-2 variant (spec §Algorithm)."""
    if isinstance(key, rsa.RSAPrivateKey):
        bits = {2048: 256, 3072: 384, 4096: 512}.get(key.key_size)
        if bits is None:
            raise SigningKeyError(f"Notation signs with RSA 2048, 3072 or 4096, not {key.key_size}")
        return f"PS{bits}", {256: hashes.SHA256(), 384: hashes.SHA384(), 512: hashes.SHA512()}[bits]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        bits = {256: 256, 384: 384, 521: 512}.get(key.curve.key_size)
        if bits is None:
            raise SigningKeyError(f"Notation does not sign with curve {key.curve.name}")
        return f"ES{bits}", {256: hashes.SHA256(), 384: hashes.SHA384(), 512: hashes.SHA512()}[bits]
    raise SigningKeyError("Notation signs with RSA or ECDSA keys only")


def _jws_sign(key: SigningKey, algorithm: hashes.HashAlgorithm, message: bytes) -> bytes:
    """RFC 7518: RSASSA-PSS with a salt of the hash's length; ECDSA as raw r || s."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(message, padding.PSS(padding.MGF1(algorithm), algorithm.digest_size),
                        algorithm)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(algorithm)))
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def notation_signature(
    key: SigningKey,
    chain: Sequence[x509.Certificate],
    target: Mapping[str, Any],
    now: dt.datetime,
    expiry: dt.datetime | None = None,
) -> SignedArtifact:
    """A Notation JWS signature of `target` as an OCI 1.1 referrer of it.

    Args:
        key: the signing key; `chain[0]` must be its certificate.
        chain: the certificate chain, leaf first, ending at the root the verifier trusts.
        target: the signed manifest's descriptor (`mediaType`, `digest`, `size`).
        now: the signing time.
        expiry: when the signature stops being valid (None: never).

    Raises:
        SigningKeyError: the key does not match the leaf certificate, or is not one Notation
            signs with.
    """
    if not chain:
        raise SigningKeyError("Notation signs with a certificate chain: none given")
    if public_pem(key) != chain[0].public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo):
        raise SigningKeyError("the key is not the key of the signing certificate")
    alg, algorithm = _jws_algorithm(key)
    protected: dict[str, Any] = {
        "alg": alg,
        "cty": PAYLOAD_MEDIA_TYPE,
        SIGNING_SCHEME: X509,
        SIGNING_TIME: now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "crit": [SIGNING_SCHEME],
    }
    if expiry is not None:
        protected["io.cncf.notary.expiry"] = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
        protected["crit"].append("io.cncf.notary.expiry")
    descriptor = {k: target[k] for k in ("mediaType", "digest", "size")}
    protected_b64 = _b64url(json.dumps(protected).encode())
    payload_b64 = _b64url(json.dumps({"targetArtifact": descriptor}).encode())
    signature = _jws_sign(key, algorithm, f"{protected_b64}.{payload_b64}".encode())
    ders = [c.public_bytes(serialization.Encoding.DER) for c in chain]
    envelope = json.dumps({
        "payload": payload_b64,
        "protected": protected_b64,
        "header": {"x5c": [base64.b64encode(d).decode() for d in ders],
                   "io.cncf.notary.signingAgent": _SIGNING_AGENT},
        "signature": _b64url(signature),
    }).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": NOTATION_ARTIFACT_TYPE,
        "config": _EMPTY_CONFIG,
        "layers": [{"mediaType": JWS_MEDIA_TYPE, "digest": _digest(envelope),
                    "size": len(envelope)}],
        "subject": descriptor,
        "annotations": {
            _THUMBPRINTS: json.dumps([hashlib.sha256(d).hexdigest() for d in ders]),
            "org.opencontainers.image.created": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }).encode()
    return SignedArtifact(manifest, {_EMPTY_DIGEST: _EMPTY, _digest(envelope): envelope})
