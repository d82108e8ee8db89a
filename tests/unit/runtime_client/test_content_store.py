"""The local content store: verified commits, resumable ingests, atomic publication."""

from __future__ import annotations

import hashlib
import threading

import pytest

from registry.oci.digest import Digest, Digester
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


class _HeldDigester(Digester):
    """Hashes as a Digester does, but the first update waits until the test releases it."""

    __slots__ = ("entered", "release")

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def update(self, chunk: bytes) -> None:
        self.entered.set()
        assert self.release.wait(10)
        super().update(chunk)


def test_closing_during_a_write_keeps_the_bytes_for_a_resume(store):
    # A cancelled download closes its writer while the worker thread's write may still be
    # running: between the bytes reaching the file and being counted, close took the ingest
    # for empty and removed it, and the next pull started from zero.
    writer = store.writer("cancelled")
    held = _HeldDigester()
    writer._digester = held
    write = threading.Thread(target=writer.write, args=(b"x" * 4096,))
    write.start()
    assert held.entered.wait(10)  # the bytes are in the file, not yet counted
    close = threading.Thread(target=writer.close)
    close.start()
    close.join(0.2)
    assert close.is_alive()  # close waits for the write
    held.release.set()
    write.join(10)
    close.join(10)
    with store.writer("cancelled") as resumed:
        assert resumed.offset == 4096


def test_a_write_after_close_is_refused(store):
    writer = store.writer("closed")
    writer.write(b"abc")
    writer.close()
    with pytest.raises(ContentError):
        writer.write(b"def")
    with store.writer("closed") as resumed:
        assert resumed.offset == 3
