"""Notary public and private keys: key IDs, signing and signature verification.

Key objects follow Notary's `tuf/data/keys.go`:

* a public key is `{"keytype": T, "keyval": {"private": null, "public": <base64>}}`;
  `ecdsa` and `rsa` carry a DER SubjectPublicKeyInfo, `ed25519` the raw 32 bytes, and
  `ecdsa-x509` / `rsa-x509` the PEM bytes of an x509 certificate wrapping the key;
* the key ID is the hex SHA-256 of the canonical JSON of that object (private forced to null).

Signature methods follow `tuf/signed/verifiers.go`: `ecdsa` (SHA-256, raw r||s, each half the
curve's byte length), `rsapss` (SHA-256, salt length 32), `rsapkcs1v15` (SHA-256), `eddsa`
(ed25519 over the message itself) and the legacy `pycrypto-pkcs#1 pss` (PSS with a PEM public
key). Method names are compared lower-cased as Notary does.

Scope: pure crypto with `cryptography`; no file or network I/O. The time used for certificate
checks and creation is always a parameter.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from trust.tuf.canonicaljson import encode_canonical
from trust.tuf.errors import (
    CertificateError,
    CertificateExpiredError,
    MalformedMetadataError,
    UnsupportedKeyError,
)

__all__ = [
    "ECDSA",
    "ECDSA_X509",
    "ED25519",
    "KEY_TYPES",
    "RSA",
    "RSA_X509",
    "PrivateKey",
    "PublicKey",
    "check_root_certificate",
    "make_root_certificate",
]

logger = logging.getLogger(__name__)

ECDSA = "ecdsa"
ECDSA_X509 = "ecdsa-x509"
RSA = "rsa"
RSA_X509 = "rsa-x509"
ED25519 = "ed25519"
KEY_TYPES = frozenset({ECDSA, ECDSA_X509, RSA, RSA_X509, ED25519})

_MIN_RSA_BITS = 2048  # notary.MinRSABitSize
_CERT_YEARS = 10  # notary.NotaryRootExpiry for the root certificate
_YEAR = dt.timedelta(days=365)  # notary.Year


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A Notary public key object as it appears in root.json and delegations."""

    keytype: str
    public: bytes

    @classmethod
    def from_dict(cls, data: Any) -> PublicKey:
        """Parse `{"keytype", "keyval": {"public", "private"}}`; `private` is ignored.

        Raises:
            MalformedMetadataError: missing fields or bad base64.
        """
        try:
            keytype = data["keytype"]
            public_b64 = data["keyval"]["public"]
            if not isinstance(keytype, str) or not isinstance(public_b64, str):
                raise TypeError("keytype and public must be strings")
            public = base64.b64decode(public_b64, validate=True)
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedMetadataError(f"invalid key object: {exc}") from exc
        return cls(keytype=keytype, public=public)

    def to_dict(self) -> dict[str, Any]:
        """The key object with `private` null, as Notary serialises public keys."""
        return {
            "keytype": self.keytype,
            "keyval": {"private": None, "public": base64.b64encode(self.public).decode()},
        }

    @property
    def key_id(self) -> str:
        """Hex SHA-256 of the canonical JSON of the public key object."""
        return hashlib.sha256(encode_canonical(self.to_dict())).hexdigest()

    @property
    def is_certificate(self) -> bool:
        """Whether the key is wrapped in an x509 certificate."""
        return self.keytype in (ECDSA_X509, RSA_X509)

    def certificate(self) -> x509.Certificate:
        """The x509 certificate of an `*-x509` key.

        Raises:
            UnsupportedKeyError: the key is not a certificate key or the PEM does not parse.
        """
        if not self.is_certificate:
            raise UnsupportedKeyError(f"{self.keytype} key has no certificate")
        try:
            return x509.load_pem_x509_certificate(self.public)
        except ValueError as exc:
            raise UnsupportedKeyError(f"bad certificate in {self.keytype} key: {exc}") from exc

    def crypto_key(self) -> Any:
        """The `cryptography` public key object behind this Notary key.

        Raises:
            UnsupportedKeyError: unknown key type or undecodable key material.
        """
        try:
            if self.keytype in (ECDSA, RSA):
                return serialization.load_der_public_key(self.public)
            if self.is_certificate:
                return self.certificate().public_key()
            if self.keytype == ED25519:
                return ed25519.Ed25519PublicKey.from_public_bytes(self.public)
        except ValueError as exc:
            raise UnsupportedKeyError(f"bad {self.keytype} key material: {exc}") from exc
        raise UnsupportedKeyError(f"unsupported key type {self.keytype!r}")

    def canonical_id(self) -> str:
        """The key ID of the bare key (certificate unwrapped), as key stores name files.

        Notary's `utils.CanonicalKeyID`: for `ecdsa-x509` it is the ID of the `ecdsa` key
        holding the certificate's SubjectPublicKeyInfo; other keys are their own canonical ID.
        """
        if not self.is_certificate:
            return self.key_id
        spki = self.crypto_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        bare_type = ECDSA if self.keytype == ECDSA_X509 else RSA
        return PublicKey(bare_type, spki).key_id

    def verify(self, method: str, signature: bytes, message: bytes) -> bool:
        """Check one signature over `message`; never raises for a bad signature.

        Returns:
            True when the signature verifies under this key with this method.
        """
        method = method.lower()
        try:
            key = self.crypto_key()
        except UnsupportedKeyError as exc:
            logger.debug("cannot verify with key %s: %s", self.key_id, exc)
            return False
        try:
            if method == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
                return _verify_ecdsa(key, signature, message)
            if method == "eddsa" and isinstance(key, ed25519.Ed25519PublicKey):
                if len(signature) != 64:
                    return False
                key.verify(signature, message)
                return True
            if method in ("rsapss", "rsapkcs1v15", "pycrypto-pkcs#1 pss") and isinstance(
                key, rsa.RSAPublicKey
            ):
                return _verify_rsa(key, method, signature, message)
        except InvalidSignature:
            return False
        logger.debug("method %s does not apply to %s key %s", method, self.keytype, self.key_id)
        return False


def _verify_ecdsa(key: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> bool:
    half = (key.curve.key_size + 7) // 8
    if len(signature) != 2 * half:
        return False
    r = int.from_bytes(signature[:half], "big")
    s = int.from_bytes(signature[half:], "big")
    # Notary hashes with SHA-256 whatever the curve.
    key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    return True


def _verify_rsa(key: rsa.RSAPublicKey, method: str, signature: bytes, message: bytes) -> bool:
    if key.key_size < _MIN_RSA_BITS or len(signature) < _MIN_RSA_BITS // 8:
        return False
    if method == "rsapkcs1v15":
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    else:
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        key.verify(signature, message, pss, hashes.SHA256())
    return True


class PrivateKey:
    """A private signing key (ECDSA P-256, RSA or Ed25519) and its Notary public form."""

    def __init__(self, key: Any) -> None:
        """Wrap a `cryptography` private key.

        Raises:
            UnsupportedKeyError: not an EC, RSA or Ed25519 key.
        """
        if isinstance(key, ec.EllipticCurvePrivateKey):
            self.keytype, self.method = ECDSA, "ecdsa"
        elif isinstance(key, rsa.RSAPrivateKey):
            self.keytype, self.method = RSA, "rsapss"
        elif isinstance(key, ed25519.Ed25519PrivateKey):
            self.keytype, self.method = ED25519, "eddsa"
        else:
            raise UnsupportedKeyError(f"unsupported private key {type(key).__name__}")
        self.crypto_key = key

    @classmethod
    def generate_ecdsa(cls) -> PrivateKey:
        """A new ECDSA P-256 key, the only type Docker and notary create."""
        return cls(ec.generate_private_key(ec.SECP256R1()))

    def public_key(self) -> PublicKey:
        """The bare public key (`ecdsa`, `rsa` or `ed25519`)."""
        public = self.crypto_key.public_key()
        if self.keytype == ED25519:
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return PublicKey(ED25519, raw)
        spki = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return PublicKey(self.keytype, spki)

    @property
    def key_id(self) -> str:
        """The canonical key ID (of the bare public key)."""
        return self.public_key().key_id

    def sign(self, message: bytes) -> bytes:
        """Sign `message` with this key's Notary method (raw r||s for ECDSA)."""
        key = self.crypto_key
        if self.keytype == ECDSA:
            r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
            half = (key.curve.key_size + 7) // 8
            return r.to_bytes(half, "big") + s.to_bytes(half, "big")
        if self.keytype == RSA:
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            return key.sign(message, pss, hashes.SHA256())
        return key.sign(message)

    def matches(self, public: PublicKey) -> bool:
        """Whether `public` (bare or certificate) holds this key's public half."""
        return public.canonical_id() == self.key_id


def make_root_certificate(
    key: PrivateKey, gun: str, now: dt.datetime, years: int = _CERT_YEARS
) -> PublicKey:
    """Wrap an ECDSA root key in a self-signed certificate, as notary does for root.json.

    Mirrors notary's `utils.NewCertificate`: CN = GUN, valid from `now` for `years` notary
    years, key usage digitalSignature + keyEncipherment, extended key usage codeSigning,
    basic constraints present (not a CA).

    Args:
        key: the root private key (ECDSA).
        gun: the globally unique name the certificate binds the key to.
        now: timezone-aware start of validity.
        years: validity length in 365-day years.

    Returns:
        The `ecdsa-x509` public key to list in root.json.
    """
    if key.keytype != ECDSA:
        raise UnsupportedKeyError("root certificates are made for ECDSA keys only")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, gun)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.crypto_key.public_key())
        .serial_number(secrets.randbits(127) + 1)
        .not_valid_before(now)
        .not_valid_after(now + years * _YEAR)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key.crypto_key, hashes.SHA256())
    )
    return PublicKey(ECDSA_X509, certificate.public_bytes(serialization.Encoding.PEM))


def check_root_certificate(public: PublicKey, gun: str, now: dt.datetime) -> None:
    """Check a root certificate key as notary's trust pinning does.

    The certificate's CN must equal the GUN, its validity window must contain `now` (one day
    of leeway on the start, as notary allows), it must not be signed with SHA-1 and RSA keys
    must have at least 2048 bits. Bare (non-certificate) keys pass unchanged.

    Raises:
        CertificateExpiredError: `now` is outside the validity window.
        CertificateError: any other check fails.
    """
    if not public.is_certificate:
        return
    try:
        cert = public.certificate()
    except UnsupportedKeyError as exc:
        raise CertificateError(str(exc)) from exc
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = names[0].value if names else ""
    if common_name != gun:
        raise CertificateError(f"root certificate CN {common_name!r} does not match GUN {gun!r}")
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    if not_before > not_after:
        raise CertificateError(f"certificate for {gun} has an invalid validity window")
    if now + dt.timedelta(days=1) < not_before or now > not_after:
        raise CertificateExpiredError(f"certificate for {gun} is expired or not yet valid")
    algorithm = cert.signature_hash_algorithm
    if algorithm is not None and algorithm.name == "sha1":
        raise CertificateError(f"certificate for {gun} uses a SHA-1 signature")
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < _MIN_RSA_BITS:
        raise CertificateError(f"certificate for {gun} has a short RSA key")
