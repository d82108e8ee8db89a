"""The local content store: verified commits, resumable ingests, atomic publication."""

from __future__ import annotations

import hashlib

import pytest

from registry.oci.digest import Digest
from runtime_client.content.store import ContentStore
from runtime_client.errors import ContentError, DigestMismatchError


@pytest.fixture
def store(tmp_path):
    return ContentStore(tmp_path)


def test_commit_verifies_and_publishes(store):
    data = b"hello layer"
    expected = Digest.of(data)
    with store.writer("ref-1") as w:
        w.write(data[:5])
        w.write(data[5:])
        assert w.commit(expected, len(data)) == expected
    assert store.exists(expected)
    assert store.read(expected) == data
    assert store.size(expected) == len(data)
    assert list(store.walk()) == [(expected, len(data))]


def test_mismatched_digest_is_refused_and_not_stored(store):
    wrong = Digest.of(b"something else")
    with store.writer("ref-bad") as w:
        w.write(b"actual bytes")
        with pytest.raises(DigestMismatchError):
            w.commit(wrong, 12)
    assert not store.exists(wrong)
    assert not store.exists(Digest.of(b"actual bytes"))
    assert list(store.walk()) == []
    # The bad bytes are gone from the ingest too: a new writer starts from zero.
    with store.writer("ref-bad") as w:
        assert w.offset == 0


def test_wrong_size_is_refused(store):
    data = b"abc"
    with store.writer("ref-size") as w:
        w.write(data)
        with pytest.raises(DigestMismatchError):
            w.commit(Digest.of(data), 4)
    assert not store.exists(Digest.of(data))


def test_ingest_resumes_where_it_stopped(store):
    data = bytes(range(256)) * 1000
    with store.writer("resume") as w:
        w.write(data[:1000])
    # A later writer (another process, after SIGINT) sees the bytes already there.
    with store.writer("resume") as w:
        assert w.offset == 1000
        w.write(data[1000:])
        digest = w.commit(Digest("sha256", hashlib.sha256(data).hexdigest()), len(data))
    assert store.read(digest) == data


def test_put_delete_and_missing(store):
    digest = store.put(b"{}")
    assert store.put(b"{}") == digest
    assert store.delete(digest)
    assert not store.delete(digest)
    with pytest.raises(ContentError):
        store.open(digest)
    with pytest.raises(DigestMismatchError):
        store.put(b"x", expected=Digest.of(b"y"))
