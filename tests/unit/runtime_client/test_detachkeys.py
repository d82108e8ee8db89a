"""Detach-key specifications and the filter that watches typed bytes for them."""

from __future__ import annotations

import pytest

from runtime_client.runtime.detachkeys import (
    DEFAULT_DETACH_KEYS,
    DetachKeyFilter,
    InvalidDetachKeysError,
    parse_detach_keys,
)


@pytest.mark.parametrize(("spec", "expected"), [
    (DEFAULT_DETACH_KEYS, b"\x10\x11"), ("ctrl-a,a", b"\x01a"), ("x", b"x"),
    ("ctrl-@", b"\x00"), ("ctrl-[", b"\x1b"), ("ctrl-\\", b"\x1c"), ("ctrl-]", b"\x1d"),
    ("ctrl-^", b"\x1e"), ("ctrl-_", b"\x1f"),
])
def test_docker_syntax(spec: str, expected: bytes) -> None:
    assert parse_detach_keys(spec) == expected


@pytest.mark.parametrize("spec", ["", ",", "foo", "ctrl-P", "ctrl-p,", "ctrl-1", "ab", "ctrl-\\\\"])
def test_invalid_specs_are_refused_with_the_daemons_words(spec: str) -> None:
    with pytest.raises(InvalidDetachKeysError) as caught:
        parse_detach_keys(spec)
    assert str(caught.value) == f"Invalid detach keys ({spec}) provided"
    assert caught.value.exit_code == 1
    with pytest.raises(InvalidDetachKeysError, match=r"^Invalid escape keys"):
        parse_detach_keys(spec, "escape")


def test_filter_holds_a_partial_match_and_passes_it_on() -> None:
    keys = DetachKeyFilter(b"\x10\x11")
    assert keys.feed(b"ab\x10") == b"ab"
    assert keys.feed(b"c\x10\x10") == b"\x10c\x10"  # one ctrl-p still held
    assert not keys.detached
    assert keys.feed(b"\x11more") == b""
    assert keys.detached


def test_single_key_sequence() -> None:
    keys = DetachKeyFilter(b"x")
    assert keys.feed(b"abxcd") == b"ab"
    assert keys.detached
