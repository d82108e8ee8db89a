"""Key IDs, signing and verification for every Notary key type and method."""

import base64
import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from trust.tuf.canonicaljson import encode_canonical
from trust.tuf.errors import CertificateError, CertificateExpiredError
from trust.tuf.keys import PrivateKey, PublicKey, check_root_certificate, make_root_certificate

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
MESSAGE = b'{"_type":"Targets"}'


def test_key_id_is_sha256_of_canonical_public_key_object():
    key = PrivateKey.generate_ecdsa().public_key()
    expected = encode_canonical(
        {
            "keytype": "ecdsa",
            "keyval": {"private": None, "public": base64.b64encode(key.public).decode()},
        }
    )
    assert key.key_id == hashlib.sha256(expected).hexdigest()
    assert PublicKey.from_dict(key.to_dict()) == key


def test_ecdsa_signature_is_raw_r_s_and_verifies():
    key = PrivateKey.generate_ecdsa()
    signature = key.sign(MESSAGE)
    assert len(signature) == 64 and key.method == "ecdsa"
    public = key.public_key()
    assert public.verify("ecdsa", signature, MESSAGE)
    assert public.verify("ECDSA", signature, MESSAGE)  # methods compare lower-cased
    assert not public.verify("ecdsa", signature, MESSAGE + b" ")
    assert not public.verify("ecdsa", signature[:-1], MESSAGE)
    assert not public.verify("rsapss", signature, MESSAGE)
    assert not PrivateKey.generate_ecdsa().public_key().verify("ecdsa", signature, MESSAGE)


def test_ed25519_eddsa_round_trip():
    key = PrivateKey(ed25519.Ed25519PrivateKey.generate())
    public = key.public_key()
    assert public.keytype == "ed25519" and len(public.public) == 32
    assert public.verify("eddsa", key.sign(MESSAGE), MESSAGE)
    assert not public.verify("eddsa", key.sign(b"other"), MESSAGE)


def test_rsa_pss_and_pkcs1v15_verify_including_x509():
    crypto_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = PrivateKey(crypto_key)
    public = key.public_key()
    assert public.verify("rsapss", key.sign(MESSAGE), MESSAGE)
    pkcs1 = crypto_key.sign(MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    assert public.verify("rsapkcs1v15", pkcs1, MESSAGE)
    assert not public.verify("rsapss", pkcs1, MESSAGE)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gun")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(crypto_key.public_key())
        .serial_number(7)
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=1))
        .sign(crypto_key, hashes.SHA256())
    )
    cert_key = PublicKey("rsa-x509", cert.public_bytes(serialization.Encoding.PEM))
    assert cert_key.verify("rsapss", key.sign(MESSAGE), MESSAGE)
    assert cert_key.canonical_id() == public.key_id


def test_short_rsa_keys_are_refused():
    key = PrivateKey(rsa.generate_private_key(public_exponent=65537, key_size=1024))
    assert not key.public_key().verify("rsapss", key.sign(MESSAGE), MESSAGE)


def test_root_certificate_like_notary():
    key = PrivateKey.generate_ecdsa()
    public = make_root_certificate(key, "hub.example:5000/team/app", NOW)
    assert public.keytype == "ecdsa-x509"
    assert public.public.startswith(b"-----BEGIN CERTIFICATE-----")
    cert = public.certificate()
    assert (
        cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        == "hub.example:5000/team/app"
    )
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(days=3650)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CODE_SIGNING]
    # root.json lists the certificate key; the key file is named after the bare key.
    assert public.key_id != key.key_id and public.canonical_id() == key.key_id
    assert key.matches(public)
    signature = key.sign(MESSAGE)
    assert public.verify("ecdsa", signature, MESSAGE)
    check_root_certificate(public, "hub.example:5000/team/app", NOW)


def test_root_certificate_checks_gun_and_validity():
    public = make_root_certificate(PrivateKey.generate_ecdsa(), "a/b", NOW)
    with pytest.raises(CertificateError, match="does not match GUN"):
        check_root_certificate(public, "a/c", NOW)
    with pytest.raises(CertificateExpiredError):
        check_root_certificate(public, "a/b", NOW + dt.timedelta(days=3651))
    with pytest.raises(CertificateExpiredError):
        check_root_certificate(public, "a/b", NOW - dt.timedelta(days=2))
    check_root_certificate(public, "a/b", NOW - dt.timedelta(hours=23))  # one day leeway
