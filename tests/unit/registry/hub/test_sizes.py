"""Sizes as `berth-hub quota set` reads them and as messages and tables write them."""

from __future__ import annotations

import pytest

from registry.hub.sizes import SizeError, format_size, parse_size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1073741824", 1073741824),
        ("0", 0),
        ("500MiB", 500 * 1024**2),
        ("2GB", 2 * 1000**3),
        ("2gb", 2 * 1000**3),
        ("10kB", 10_000),
        ("10KiB", 10_240),
        ("1.5GiB", 3 * 1024**3 // 2),
        ("1TiB", 1024**4),
        ("3 TB", 3 * 1000**4),
        ("  7B ", 7),
        ("0.5KiB", 512),
        ("none", None),
        ("NONE", None),
    ],
)
def test_sizes_that_parse(text: str, size: int | None) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2G", "unknown unit 'G'"),
        ("10 m", "unknown unit 'm'"),
        ("5 bytes", "unknown unit 'bytes'"),
        ("-1", "not a size"),
        ("", "not a size"),
        ("MiB", "not a size"),
        ("1.5", "whole"),
        ("1,5GiB", "not a size"),
        ("1e9", "not a size"),
    ],
)
def test_sizes_that_do_not(text: str, says: str) -> None:
    with pytest.raises(SizeError, match=says):
        parse_size(text)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1 KiB"),
        (1536, "1.5 KiB"),
        (30 * 1024**2, "30 MiB"),
        (int(31.5 * 1024**2), "31.5 MiB"),
        (1024**2 - 1, "1 MiB"),  # rounds up into the next unit, not "1024 KiB"
        (5 * 1024**4, "5 TiB"),
        (2048 * 1024**5, "2048 PiB"),
    ],
)
def test_formatting(size: int, text: str) -> None:
    assert format_size(size) == text
