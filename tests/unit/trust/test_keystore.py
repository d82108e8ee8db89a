"""The trust-directory key store: Docker/notary file layout, headers and encryption."""

import stat

import pytest
from cryptography.hazmat.primitives import serialization

from trust.keystore import KeyInfo, KeyStore
from trust.keystore.pkcs8 import decrypt_pkcs8, encrypt_pkcs8, normalize_pkcs8_version
from trust.tuf.errors import KeyNotFoundError, PassphraseError
from trust.tuf.keys import PrivateKey


def test_keys_round_trip_with_notary_headers(tmp_path):
    store = KeyStore(tmp_path)
    root, targets, delegate = (PrivateKey.generate_ecdsa() for _ in range(3))
    store.add(root, "root", "hub/app", "root-pass")
    store.add(targets, "targets", "hub/app", "repo-pass")
    store.add(delegate, "targets/releases", "hub/app", "repo-pass")

    text = (tmp_path / "private" / f"{targets.key_id}.key").read_text()
    assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----\ngun: hub/app\nrole: targets\n\n")
    root_text = (tmp_path / "private" / f"{root.key_id}.key").read_text()
    assert "gun:" not in root_text and "role: root" in root_text
    mode = (tmp_path / "private" / f"{root.key_id}.key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600

    assert store.list_keys() == {
        root.key_id: KeyInfo("root", ""),
        targets.key_id: KeyInfo("targets", "hub/app"),
        delegate.key_id: KeyInfo("targets/releases", ""),
    }
    assert store.find("root") == [root.key_id]
    assert store.find("targets", "hub/app") == [targets.key_id]
    assert store.find("targets", "hub/other") == []
    assert store.get(targets.key_id, "repo-pass").key_id == targets.key_id
    store.remove(targets.key_id)
    with pytest.raises(KeyNotFoundError):
        store.get(targets.key_id, "repo-pass")


def test_wrong_passphrase_is_a_passphrase_error(tmp_path):
    store = KeyStore(tmp_path)
    key = PrivateKey.generate_ecdsa()
    store.add(key, "root", "", "right")
    with pytest.raises(PassphraseError):
        store.get(key.key_id, "wrong")


def test_empty_passphrase_writes_an_unencrypted_key(tmp_path):
    store = KeyStore(tmp_path)
    key = PrivateKey.generate_ecdsa()
    store.add(key, "targets", "g", "")
    assert "BEGIN PRIVATE KEY" in (tmp_path / "private" / f"{key.key_id}.key").read_text()
    assert store.get(key.key_id, "").key_id == key.key_id


def test_invalid_key_ids_are_not_paths(tmp_path):
    with pytest.raises(KeyNotFoundError):
        KeyStore(tmp_path).get("../../etc/passwd", "")


def test_pbes2_shape_is_notarys_and_version_one_pkcs8_loads():
    key = PrivateKey.generate_ecdsa()
    plain = key.crypto_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    encrypted = encrypt_pkcs8(plain, b"pw")
    # PBES2 OID, PBKDF2 OID with no PRF field (SHA-1 default), 2048 rounds, AES-256-CBC OID.
    assert bytes.fromhex("2a864886f70d01050d") in encrypted
    assert bytes.fromhex("2a864886f70d01050c") in encrypted
    assert bytes.fromhex("02020800") in encrypted
    assert bytes.fromhex("60864801650304012a") in encrypted
    assert bytes.fromhex("2a864886f70d0209") not in encrypted
    assert decrypt_pkcs8(encrypted, b"pw") == plain
    # notary writes PKCS#8 with version 1 and no public key field
    version_one = plain.replace(b"\x02\x01\x00", b"\x02\x01\x01", 1)
    loaded = serialization.load_der_private_key(normalize_pkcs8_version(version_one), None)
    assert PrivateKey(loaded).key_id == key.key_id
    # a standard library writer (cryptography, PBKDF2-HMAC-SHA256) is readable too
    standard = key.crypto_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    assert decrypt_pkcs8(standard, b"pw") == plain
