"""Notary-format metadata: parsing, lossless round trips, hashing, signatures, expiry."""

import datetime as dt

import pytest

from trust.tuf.errors import (
    BadHashError,
    BadLengthError,
    MalformedMetadataError,
    SignatureError,
    ThresholdError,
)
from trust.tuf.keys import PrivateKey
from trust.tuf.model import (
    DelegatedRole,
    Delegations,
    FileMeta,
    Metadata,
    Root,
    RootRole,
    Targets,
    format_time,
    is_delegation_name,
    parse_time,
)

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def _root(keys):
    public = {role: key.public_key() for role, key in keys.items()}
    return Metadata(
        Root(
            1,
            "2036-11-24T21:09:16.382005125Z",
            {key.key_id: key for key in public.values()},
            {role: RootRole([key.key_id], 1) for role, key in public.items()},
        )
    )


def test_parse_time_accepts_go_nanoseconds_and_offsets():
    assert parse_time("2036-11-24T21:09:16.382005125Z") == dt.datetime(
        2036, 11, 24, 21, 9, 16, 382005, tzinfo=dt.UTC
    )
    assert parse_time("2030-01-01T01:00:00+01:00") == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert format_time(dt.datetime(2030, 1, 1, 0, 0, 0, 500000, tzinfo=dt.UTC)) == (
        "2030-01-01T00:00:00.5Z"
    )
    with pytest.raises(MalformedMetadataError):
        parse_time("2030-01-01 00:00:00")


def test_unknown_fields_survive_a_round_trip_and_keep_signatures_valid():
    key = PrivateKey.generate_ecdsa()
    document = (
        b'{"signed":{"_type":"Targets","delegations":{"keys":{},"roles":[{"keyids":[],'
        b'"name":"targets/a","path_hash_prefixes":["ab"],"threshold":1}]},'
        b'"expires":"2030-01-01T00:00:00Z","targets":{"t":{"custom":{"x":1},"hashes":'
        b'{"sha256":"AAAA"},"length":3}},"version":2,"x-extra":[1,"<&>"]},"signatures":[]}'
    )
    metadata = Metadata.from_bytes(document, Targets)
    assert metadata.signed.unrecognized == {"x-extra": [1, "<&>"]}
    assert metadata.to_bytes() == document
    metadata.sign(key)
    again = Metadata.from_bytes(metadata.to_bytes(), Targets)
    assert again.valid_signers({key.key_id: key.public_key()}) == {key.key_id}
    again.signed.unrecognized["x-extra"] = [2]
    assert again.valid_signers({key.key_id: key.public_key()}) == set()


def test_root_structure_is_validated():
    keys = {
        role: PrivateKey.generate_ecdsa() for role in ("root", "targets", "snapshot", "timestamp")
    }
    root = _root(keys)
    parsed = Metadata.from_bytes(root.to_bytes(), Root)
    assert parsed.signed.role_keys("targets")[1] == 1
    del root.signed.roles["timestamp"]
    with pytest.raises(MalformedMetadataError, match="missing timestamp"):
        Metadata.from_bytes(root.to_bytes(), Root)
    root = _root(keys)
    root.signed.roles["targets"].keyids.append("00" * 32)
    with pytest.raises(MalformedMetadataError, match="unknown key"):
        Metadata.from_bytes(root.to_bytes(), Root)


@pytest.mark.parametrize(
    "document",
    [
        b"not json",
        b"[]",
        b'{"signed":{"_type":"Root"},"signatures":[]}',
        b'{"signed":{"_type":"Nope","version":1,"expires":"2030-01-01T00:00:00Z"},"signatures":[]}',
        b'{"signed":{"_type":"Targets","version":0,"expires":"2030-01-01T00:00:00Z","targets":{}},'
        b'"signatures":[]}',
        b'{"signed":{"_type":"Targets","version":1,"expires":"2030-01-01T00:00:00Z","targets":{}},'
        b'"signatures":[{"keyid":"a","method":"ecdsa","sig":"!!"}]}',
    ],
)
def test_malformed_documents_are_refused(document):
    with pytest.raises(MalformedMetadataError):
        Metadata.from_bytes(document)


def test_expected_type_is_enforced():
    document = Metadata(Targets(1, "2030-01-01T00:00:00Z")).to_bytes()
    with pytest.raises(MalformedMetadataError, match="expected Root"):
        Metadata.from_bytes(document, Root)


def test_threshold_counts_distinct_valid_keys():
    one, two = PrivateKey.generate_ecdsa(), PrivateKey.generate_ecdsa()
    keys = {k.key_id: k.public_key() for k in (one, two)}
    metadata = Metadata(Targets(1, "2030-01-01T00:00:00Z"))
    with pytest.raises(ThresholdError, match="no signatures"):
        metadata.verify_threshold(keys, 1, "targets")
    metadata.sign(one)
    metadata.signatures.append(metadata.signatures[0])  # a duplicate counts once
    metadata.verify_threshold(keys, 1, "targets")
    with pytest.raises(ThresholdError):
        metadata.verify_threshold(keys, 2, "targets")
    metadata.sign(two)
    metadata.verify_threshold(keys, 2, "targets")
    with pytest.raises(ThresholdError):
        metadata.verify_threshold(keys, 0, "targets")
    with pytest.raises(SignatureError):  # a key filed under someone else's ID
        metadata.verify_threshold({one.key_id: two.public_key()}, 1, "targets")


def test_expiry_uses_the_given_time():
    targets = Targets(1, format_time(NOW))
    assert targets.is_expired(NOW)
    assert not targets.is_expired(NOW - dt.timedelta(seconds=1))


def test_file_meta_checks_length_and_every_hash():
    meta = FileMeta.for_bytes(b"abc")
    meta.verify(b"abc", "x")
    with pytest.raises(BadLengthError):
        meta.verify(b"abcd", "x")
    with pytest.raises(BadHashError):
        meta.verify(b"abd", "x")
    with pytest.raises(BadHashError, match="no sha256"):
        FileMeta(3, {"md5": "AAAA"}).verify(b"abc", "x")
    target = FileMeta.for_digest("ab" * 32, 10)
    assert target.digest().hex() == "ab" * 32


def test_delegations_and_names():
    assert is_delegation_name("targets/releases")
    assert is_delegation_name("targets/a/b-c_d")
    for bad in ("targets", "targets/", "targets/A", "targets/../x", "targets//x", "root/x"):
        assert not is_delegation_name(bad)
    role = DelegatedRole("targets/a", [], 1, ["app/", "lib"])
    assert role.covers("app/x") and role.covers("library") and not role.covers("other")
    assert not DelegatedRole("targets/a", [], 1).covers("x")
    assert Delegations().to_dict() == {"keys": {}, "roles": []}
