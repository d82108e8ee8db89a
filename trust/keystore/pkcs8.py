"""Encrypted PKCS#8 (PBES2) as Notary and the Docker CLI write private keys.

Notary (`tuf/utils/pkcs8.go`) encrypts with PBES2: PBKDF2 with the default PRF
(HMAC-SHA1, no `prf` field), an 8-byte salt, 2048 iterations, AES-256-CBC with a 16-byte IV,
and PKCS#7 padding. It can only read that exact shape back, so Berth writes it too.
`cryptography` refuses some of these files, so decryption is done here as well; it accepts
an explicit `prf` of HMAC-SHA1/SHA-256 and AES-128/192/256-CBC for keys from other tools.

Scope: DER bytes <-> unencrypted PKCS#8 DER bytes. No file I/O.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from trust.tuf.errors import PassphraseError, UnsupportedKeyError

__all__ = ["decrypt_pkcs8", "encrypt_pkcs8", "normalize_pkcs8_version"]

_OID_PBES2 = "1.2.840.113549.1.5.13"
_OID_PBKDF2 = "1.2.840.113549.1.5.12"
_OID_HMAC_SHA1 = "1.2.840.113549.2.7"
_OID_HMAC_SHA256 = "1.2.840.113549.2.9"
_AES_CBC = {
    "2.16.840.1.101.3.4.1.2": 16,
    "2.16.840.1.101.3.4.1.22": 24,
    "2.16.840.1.101.3.4.1.42": 32,
}
_OID_AES256_CBC = "2.16.840.1.101.3.4.1.42"
_ITERATIONS = 2048  # what notary writes; raising it would not be read back slower by notary
_SEQUENCE, _INTEGER, _OCTET_STRING, _OID = 0x30, 0x02, 0x04, 0x06


def encrypt_pkcs8(plain_der: bytes, passphrase: bytes) -> bytes:
    """Encrypt an unencrypted PKCS#8 DER key into notary's EncryptedPrivateKeyInfo shape."""
    salt, iv = os.urandom(8), os.urandom(16)
    key = _pbkdf2(passphrase, salt, _ITERATIONS, 32, hashes.SHA1())
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain_der) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    kdf = _seq(_oid(_OID_PBKDF2), _seq(_tlv(_OCTET_STRING, salt), _int(_ITERATIONS)))
    cipher = _seq(_oid(_OID_AES256_CBC), _tlv(_OCTET_STRING, iv))
    algorithm = _seq(_oid(_OID_PBES2), _seq(kdf, cipher))
    return _seq(algorithm, _tlv(_OCTET_STRING, ciphertext))


def decrypt_pkcs8(encrypted_der: bytes, passphrase: bytes) -> bytes:
    """Decrypt a PBES2 EncryptedPrivateKeyInfo to unencrypted PKCS#8 DER.

    Raises:
        UnsupportedKeyError: not PBES2/PBKDF2/AES-CBC, or malformed DER.
        PassphraseError: the passphrase does not decrypt the key.
    """
    try:
        (algorithm, ciphertext) = _items(_expect(encrypted_der, _SEQUENCE))
        algorithm_oid, params = _items(_expect(algorithm, _SEQUENCE))
        if _decode_oid(_expect(algorithm_oid, _OID)) != _OID_PBES2:
            raise UnsupportedKeyError("private key is not PBES2-encrypted")
        kdf, cipher = _items(_expect(params, _SEQUENCE))
        kdf_oid, kdf_params = _items(_expect(kdf, _SEQUENCE))
        if _decode_oid(_expect(kdf_oid, _OID)) != _OID_PBKDF2:
            raise UnsupportedKeyError("PBES2 key derivation is not PBKDF2")
        kdf_fields = _items(_expect(kdf_params, _SEQUENCE))
        salt = _expect(kdf_fields[0], _OCTET_STRING)
        iterations = int.from_bytes(_expect(kdf_fields[1], _INTEGER), "big")
        prf: hashes.HashAlgorithm = hashes.SHA1()
        for extra in kdf_fields[2:]:
            if extra[0] == _SEQUENCE:
                prf_oid = _decode_oid(_expect(_items(_expect(extra, _SEQUENCE))[0], _OID))
                if prf_oid == _OID_HMAC_SHA256:
                    prf = hashes.SHA256()
                elif prf_oid != _OID_HMAC_SHA1:
                    raise UnsupportedKeyError(f"unsupported PBKDF2 PRF {prf_oid}")
        cipher_oid, iv = _items(_expect(cipher, _SEQUENCE))
        key_length = _AES_CBC.get(_decode_oid(_expect(cipher_oid, _OID)))
        if key_length is None:
            raise UnsupportedKeyError("PBES2 cipher is not AES-CBC")
        iv = _expect(iv, _OCTET_STRING)
        ciphertext = _expect(ciphertext, _OCTET_STRING)
    except (IndexError, ValueError) as exc:
        raise UnsupportedKeyError(f"malformed encrypted private key: {exc}") from exc
    key = _pbkdf2(passphrase, salt, iterations, key_length, prf)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    try:
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        plain = unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise PassphraseError("wrong passphrase for private key") from exc
    if not plain or plain[0] != _SEQUENCE:
        raise PassphraseError("wrong passphrase for private key")
    return plain


def normalize_pkcs8_version(plain_der: bytes) -> bytes:
    """Rewrite notary's PKCS#8 `version 1` to 0 when no public key field follows.

    Notary writes version 1 (the OneAsymmetricKey number) without the optional public key;
    `cryptography` only accepts that shape as version 0. The value has the same length, so
    only one byte changes.
    """
    try:
        _, body, _ = _read(plain_der, 0)
        fields = _items(body)
    except (IndexError, ValueError):
        return plain_der
    has_public_key = any(item[0] == 0x81 or item[0] == 0xA1 for item in fields[3:])
    if fields and fields[0] == b"\x02\x01\x01" and not has_public_key:
        offset = len(plain_der) - len(body)
        return plain_der[: offset + 2] + b"\x00" + plain_der[offset + 3 :]
    return plain_der


def _pbkdf2(
    passphrase: bytes, salt: bytes, iterations: int, length: int, prf: hashes.HashAlgorithm
) -> bytes:
    return PBKDF2HMAC(prf, length, salt, iterations).derive(passphrase)


# A minimal DER reader/writer: enough for the fixed PBES2 structures above.


def _tlv(tag: int, value: bytes) -> bytes:
    length = len(value)
    if length < 0x80:
        header = bytes([length])
    else:
        encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
        header = bytes([0x80 | len(encoded)]) + encoded
    return bytes([tag]) + header + value


def _seq(*items: bytes) -> bytes:
    return _tlv(_SEQUENCE, b"".join(items))


def _int(value: int) -> bytes:
    return _tlv(_INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _oid(dotted: str) -> bytes:
    numbers = [int(part) for part in dotted.split(".")]
    body = bytearray([40 * numbers[0] + numbers[1]])
    for number in numbers[2:]:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(0x80 | (number & 0x7F))
            number >>= 7
        body.extend(reversed(chunk))
    return _tlv(_OID, bytes(body))


def _read(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """One TLV at `offset`: (tag, value, offset after it)."""
    tag = data[offset]
    length = data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    end = offset + length
    if end > len(data):
        raise ValueError("truncated DER")
    return tag, data[offset:end], end


def _items(data: bytes) -> list[bytes]:
    """Split the content of a constructed value into its encoded child TLVs."""
    items, offset = [], 0
    while offset < len(data):
        _, _, end = _read(data, offset)
        items.append(data[offset:end])
        offset = end
    return items


def _expect(encoded: bytes, tag: int) -> bytes:
    found, value, end = _read(encoded, 0)
    if found != tag or end != len(encoded):
        raise ValueError(f"expected DER tag {tag:#x}, found {found:#x}")
    return value


def _decode_oid(body: bytes) -> str:
    first = body[0]
    numbers = [first // 40, first % 40]
    value = 0
    for byte in body[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            numbers.append(value)
            value = 0
    return ".".join(str(n) for n in numbers)
