"""PEM files as the Docker CLI and notary write them: key files with `role:`/`gun:` headers,
`<name>.pub` public keys (`docker trust key generate`), certificates (`notary delegation add`).

Scope: bytes <-> keys; no file I/O.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from trust.keystore.pkcs8 import decrypt_pkcs8, normalize_pkcs8_version
from trust.tuf.errors import PassphraseError, UnsupportedKeyError
from trust.tuf.keys import ECDSA, ECDSA_X509, ED25519, RSA, RSA_X509, PrivateKey, PublicKey

__all__ = [
    "PemBlock",
    "private_key_from_pem",
    "public_key_from_pem",
    "public_key_to_pem",
    "read_pem_block",
    "write_pem_block",
]

_PEM_RE = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----\r?\n(?P<body>.*?)-----END (?P=label)-----", re.S
)


@dataclass(frozen=True, slots=True)
class PemBlock:
    """One PEM block: its label, RFC 1421 headers and DER bytes."""

    label: str
    der: bytes
    headers: dict[str, str] = field(default_factory=dict)


def read_pem_block(text: str | bytes) -> PemBlock:
    """The first PEM block of `text`.

    Raises:
        UnsupportedKeyError: no PEM block, or bad base64.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    match = _PEM_RE.search(text)
    if match is None:
        raise UnsupportedKeyError("no PEM block found")
    lines = match["body"].splitlines()
    headers: dict[str, str] = {}
    # Headers ("role: root") come first and end at a blank line.
    if lines and ":" in lines[0]:
        while lines and lines[0].strip():
            name, _, value = lines.pop(0).partition(":")
            headers[name.strip()] = value.strip()
    try:
        der = base64.b64decode("".join("".join(lines).split()), validate=True)
    except ValueError as exc:
        raise UnsupportedKeyError(f"bad base64 in PEM: {exc}") from exc
    return PemBlock(match["label"], der, headers)


def write_pem_block(block: PemBlock) -> bytes:
    """Encode a block the way Go's `pem.Encode` does (headers, blank line, 64 columns)."""
    body = base64.b64encode(block.der).decode()
    lines = [f"-----BEGIN {block.label}-----"]
    if block.headers:
        lines += [f"{name}: {value}" for name, value in sorted(block.headers.items())] + [""]
    lines += [body[i : i + 64] for i in range(0, len(body), 64)]
    lines.append(f"-----END {block.label}-----")
    return ("\n".join(lines) + "\n").encode()


def public_key_to_pem(key: PublicKey, role: str) -> bytes:
    """A `<name>.pub` file as `docker trust key generate` writes it (`role:` header)."""
    if key.is_certificate:
        return key.public
    crypto_key = key.crypto_key()
    spki = crypto_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return write_pem_block(PemBlock("PUBLIC KEY", spki, {"role": role}))


def public_key_from_pem(data: bytes) -> PublicKey:
    """The Notary public key in a `PUBLIC KEY` or `CERTIFICATE` PEM file.

    Raises:
        UnsupportedKeyError: not a supported key or certificate.
    """
    block = read_pem_block(data)
    if block.label == "CERTIFICATE":
        try:
            certificate = x509.load_der_x509_certificate(block.der)
        except ValueError as exc:
            raise UnsupportedKeyError(f"bad certificate: {exc}") from exc
        pem = certificate.public_bytes(serialization.Encoding.PEM)
        key = certificate.public_key()
        if isinstance(key, ec.EllipticCurvePublicKey):
            return PublicKey(ECDSA_X509, pem)
        if isinstance(key, rsa.RSAPublicKey):
            return PublicKey(RSA_X509, pem)
        raise UnsupportedKeyError("certificate key is neither ECDSA nor RSA")
    if block.label != "PUBLIC KEY":
        raise UnsupportedKeyError(f"expected a public key, found {block.label}")
    try:
        public = serialization.load_der_public_key(block.der)
    except ValueError as exc:
        raise UnsupportedKeyError(f"bad public key: {exc}") from exc
    if isinstance(public, ec.EllipticCurvePublicKey):
        return PublicKey(ECDSA, block.der)
    if isinstance(public, rsa.RSAPublicKey):
        return PublicKey(RSA, block.der)
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return PublicKey(ED25519, raw)
    raise UnsupportedKeyError("unsupported public key type")


def private_key_from_pem(data: bytes, passphrase: str = "") -> PrivateKey:
    """A private key from PEM: encrypted or plain PKCS#8, or SEC1 `EC PRIVATE KEY`.

    Raises:
        PassphraseError: the passphrase does not decrypt it.
        UnsupportedKeyError: not a supported private key.
    """
    block = read_pem_block(data)
    der = block.der
    if block.label == "ENCRYPTED PRIVATE KEY":
        der = decrypt_pkcs8(der, passphrase.encode())
    elif block.label not in ("PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"):
        raise UnsupportedKeyError(f"expected a private key, found {block.label}")
    try:
        crypto_key = serialization.load_der_private_key(normalize_pkcs8_version(der), None)
    except ValueError as exc:
        if block.label == "ENCRYPTED PRIVATE KEY":
            raise PassphraseError("cannot decrypt the private key") from exc
        raise UnsupportedKeyError(f"bad private key: {exc}") from exc
    return PrivateKey(crypto_key)
