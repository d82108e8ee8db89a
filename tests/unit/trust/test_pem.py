"""PEM helpers: Docker's `<name>.pub` files, certificates, private keys in every PEM shape."""

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from trust.keystore.pem import (
    PemBlock,
    private_key_from_pem,
    public_key_from_pem,
    public_key_to_pem,
    read_pem_block,
    write_pem_block,
)
from trust.keystore.pkcs8 import encrypt_pkcs8
from trust.tuf.errors import PassphraseError, UnsupportedKeyError
from trust.tuf.keys import PrivateKey, make_root_certificate


def test_public_key_files_round_trip_with_a_role_header():
    key = PrivateKey.generate_ecdsa().public_key()
    pem = public_key_to_pem(key, "alice")
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----\nrole: alice\n\n")
    assert public_key_from_pem(pem) == key
    ed = PrivateKey(ed25519.Ed25519PrivateKey.generate()).public_key()
    assert public_key_from_pem(public_key_to_pem(ed, "x")) == ed


def test_certificates_become_x509_keys():
    private = PrivateKey.generate_ecdsa()
    certificate = make_root_certificate(private, "alice", dt.datetime.now(dt.UTC))
    assert public_key_from_pem(certificate.public) == certificate
    assert public_key_to_pem(certificate, "ignored") == certificate.public


def test_private_keys_in_every_shape():
    key = PrivateKey.generate_ecdsa()
    plain = key.crypto_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    encrypted = write_pem_block(
        PemBlock("ENCRYPTED PRIVATE KEY", encrypt_pkcs8(plain, b"pw"), {"role": "alice"})
    )
    assert private_key_from_pem(encrypted, "pw").key_id == key.key_id
    with pytest.raises(PassphraseError):
        private_key_from_pem(encrypted, "nope")
    sec1 = key.crypto_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert private_key_from_pem(sec1).key_id == key.key_id
    assert read_pem_block(encrypted).headers == {"role": "alice"}
    with pytest.raises(UnsupportedKeyError):
        private_key_from_pem(public_key_to_pem(key.public_key(), "x"))
    with pytest.raises(UnsupportedKeyError):
        read_pem_block(b"no pem here")
