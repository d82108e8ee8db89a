"""The storage-driver contract, run unchanged against every driver."""

from __future__ import annotations

import pytest

from registry.storage.driver.base import InvalidPathError, PathNotFoundError


async def read_all(driver, path, offset=0):
    return b"".join([chunk async for chunk in driver.reader(path, offset)])


async def test_put_get_round_trip(driver):
    await driver.put_content("a/b/c", b"hello")
    assert await driver.get_content("a/b/c") == b"hello"
    await driver.put_content("a/b/c", b"replaced")
    assert await driver.get_content("a/b/c") == b"replaced"


async def test_missing_paths(driver):
    with pytest.raises(PathNotFoundError):
        await driver.get_content("nope")
    with pytest.raises(PathNotFoundError):
        await driver.stat("nope")
    with pytest.raises(PathNotFoundError):
        await driver.delete("nope")
    with pytest.raises(PathNotFoundError):
        await read_all(driver, "nope")


@pytest.mark.parametrize("path", ["", "/abs", "a/../b", "a//b", "sp ace"])
async def test_invalid_paths(driver, path):
    with pytest.raises(InvalidPathError):
        await driver.put_content(path, b"x")


async def test_reader_with_offset(driver):
    await driver.put_content("r", b"0123456789")
    assert await read_all(driver, "r", 4) == b"456789"
    assert await read_all(driver, "r", 10) == b""


async def test_writer_resumes_after_close(driver):
    writer = await driver.writer("up/data")
    await writer.write(b"abc")
    await writer.close()
    writer = await driver.writer("up/data", append=True)
    assert writer.size == 3
    await writer.write(b"def")
    await writer.commit()
    assert await driver.get_content("up/data") == b"abcdef"
    assert (await driver.stat("up/data")).size == 6


async def test_writer_cancel_removes(driver):
    writer = await driver.writer("gone")
    await writer.write(b"abc")
    await writer.cancel()
    with pytest.raises(PathNotFoundError):
        await driver.stat("gone")


async def test_move_replaces_destination(driver):
    await driver.put_content("src", b"new")
    await driver.put_content("dst/file", b"old")
    await driver.move("src", "dst/file")
    assert await driver.get_content("dst/file") == b"new"
    with pytest.raises(PathNotFoundError):
        await driver.get_content("src")
    with pytest.raises(PathNotFoundError):
        await driver.move("src", "elsewhere")


async def test_list_and_recursive_delete(driver):
    for path in ("d/a", "d/b/c", "d/b/d", "other"):
        await driver.put_content(path, b"x")
    assert await driver.list("d") == ["d/a", "d/b"]
    assert (await driver.stat("d/b")).is_dir
    await driver.delete("d")
    with pytest.raises(PathNotFoundError):
        await driver.list("d")
    assert await driver.get_content("other") == b"x"


async def test_large_content(driver):
    data = bytes(range(256)) * (5 * 4096 + 7)
    writer = await driver.writer("big")
    for i in range(0, len(data), 65536):
        await writer.write(data[i : i + 65536])
    await writer.commit()
    assert await read_all(driver, "big") == data


async def test_large_appends_across_sessions(driver):
    first = bytes(range(256)) * (24 * 1024 + 3)  # just over 6 MiB
    second = b"tail" * (300 * 1024)
    writer = await driver.writer("grow/data")
    await writer.write(first)
    await writer.commit()
    writer = await driver.writer("grow/data", append=True)
    assert writer.size == len(first)
    await writer.write(second[:1000])
    await writer.write(second[1000:])
    await writer.commit()
    writer = await driver.writer("grow/data", append=True)
    await writer.write(b"!")
    await writer.close()  # closed, not committed: counted and resumable, not yet readable
    assert (await driver.stat("grow/data")).size == len(first) + len(second) + 1
    writer = await driver.writer("grow/data", append=True)
    assert writer.size == len(first) + len(second) + 1
    await writer.commit()
    assert await read_all(driver, "grow/data") == first + second + b"!"
    assert await read_all(driver, "grow/data", len(first)) == second + b"!"


async def test_writer_truncates_without_append(driver):
    await driver.put_content("t", b"old content")
    writer = await driver.writer("t")
    assert writer.size == 0
    await writer.write(b"new")
    await writer.commit()
    assert await driver.get_content("t") == b"new"


async def test_move_large_file(driver):
    data = b"m" * (9 * 1024 * 1024 + 5)
    await driver.put_content("uploads/x/data", data)
    await driver.move("uploads/x/data", "blobs/y/data")
    assert (await driver.stat("blobs/y/data")).size == len(data)
    assert await read_all(driver, "blobs/y/data") == data


async def test_session_closed_mid_part_resumes_exactly(driver):
    """A session closed with a partial part buffered resumes, then commits, byte-exact."""
    data = bytes(range(256)) * (28 * 1024)  # 7 MiB: one full 5 MiB part and a tail
    writer = await driver.writer("up/x/data")
    await writer.write(data[:3_000_000])
    await writer.close()
    for start, end in ((3_000_000, 5_500_000), (5_500_000, len(data))):
        writer = await driver.writer("up/x/data", append=True)
        assert writer.size == start
        await writer.write(data[start:end])
        await writer.close()
    assert (await driver.stat("up/x/data")).size == len(data)
    assert await driver.list("up/x") == ["up/x/data"]
    writer = await driver.writer("up/x/data", append=True)
    await writer.commit()
    assert await read_all(driver, "up/x/data") == data
    await driver.delete("up/x")
    with pytest.raises(PathNotFoundError):
        await driver.stat("up/x/data")


async def test_commit_to_lands_at_dest_and_removes_the_source(driver):
    await driver.put_content("blobs/b/data", b"old")
    writer = await driver.writer("up/y/data")
    await writer.write(b"abc")
    await writer.commit_to("blobs/b/data")
    assert await driver.get_content("blobs/b/data") == b"abc"
    with pytest.raises(PathNotFoundError):
        await driver.stat("up/y/data")


async def test_commit_to_after_resumed_sessions_across_parts(driver):
    data = bytes(range(256)) * (44 * 1024)  # 11 MiB: two 5 MiB parts and a tail
    writer = await driver.writer("up/z/data")
    await writer.write(data[:3_000_000])
    await writer.close()
    writer = await driver.writer("up/z/data", append=True)
    await writer.write(data[3_000_000:])
    await writer.close()
    writer = await driver.writer("up/z/data", append=True)
    assert writer.size == len(data)
    await writer.commit_to("blobs/z/data")
    assert await read_all(driver, "blobs/z/data") == data
    with pytest.raises(PathNotFoundError):
        await driver.stat("up/z/data")
    with pytest.raises(PathNotFoundError):
        await driver.get_content("up/z/data")


async def test_commit_to_from_a_committed_file_appended_to(driver):
    first = b"c" * (6 * 1024 * 1024)  # over a part: an object store copies it into parts
    await driver.put_content("up/c/data", first)
    writer = await driver.writer("up/c/data", append=True)
    await writer.write(b"more")
    await writer.commit_to("blobs/c/data")
    assert await read_all(driver, "blobs/c/data") == first + b"more"
    with pytest.raises(PathNotFoundError):
        await driver.stat("up/c/data")


@pytest.mark.parametrize("expected", [0, 3, 6 * 1024 * 1024, 1 << 40])
async def test_expected_size_is_only_a_hint(driver, expected):
    data = bytes(range(256)) * (24 * 1024 + 3)  # just over 6 MiB
    writer = await driver.writer("h/data", expected_size=expected)
    await writer.write(data[:4_000_000])
    await writer.close()  # resumable whatever the hint
    assert (await driver.stat("h/data")).size == 4_000_000
    writer = await driver.writer("h/data", append=True, expected_size=expected)
    await writer.write(data[4_000_000:])
    await writer.commit()
    assert await read_all(driver, "h/data") == data
    writer = await driver.writer("h2/data", expected_size=expected)
    for i in range(0, len(data), 1 << 20):
        await writer.write(data[i : i + (1 << 20)])
    await writer.commit_to("h3/data")
    assert await read_all(driver, "h3/data") == data


async def test_cancel_of_a_resumed_session_leaves_nothing(driver):
    writer = await driver.writer("up/k/data")
    await writer.write(b"k" * (6 * 1024 * 1024))
    await writer.close()
    writer = await driver.writer("up/k/data", append=True)
    await writer.cancel()
    with pytest.raises(PathNotFoundError):
        await driver.stat("up/k/data")


@pytest.mark.parametrize("tail", [100, 5 * 1024 * 1024 + 100], ids=["buffered", "parts"])
async def test_size_and_version_tell_racing_writers_apart(driver, tail):
    """Two writers resume the same file at once: the stored bytes match at most one of them."""
    await driver.put_content("race/data", b"")
    first = await driver.writer("race/data", append=True)
    second = await driver.writer("race/data", append=True)
    await first.write(b"a" * tail)
    await second.write(b"b" * tail)
    await first.close()
    await second.close()
    seen = await driver.writer("race/data", append=True)
    stored = (seen.size, seen.version)
    await seen.commit()
    matches = [w for w, byte in ((first, b"a"), (second, b"b")) if (w.size, w.version) == stored]
    assert len(matches) <= 1
    if matches:
        byte = b"a" if matches[0] is first else b"b"
        assert await driver.get_content("race/data") == byte * tail
