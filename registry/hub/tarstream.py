"""Reading tar headers from a stream of bytes, as a push parser (bytes in, members out).

Scope: ustar, PAX (`path`, `linkpath`, `size` records) and GNU long-name headers, enough to
list what an image layer holds. File contents are skipped as they stream past, never kept:
the parser holds at most one header block, a bounded extended header and the bytes of one fed
chunk. Not in scope: extracting, sparse files, GNU multi-volume archives.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TarFormatError", "TarMember", "TarReader"]

BLOCK = 512
MAX_EXTENDED_HEADER = 1024 * 1024  # bytes; PAX and GNU long-name headers are small

_KINDS = {
    b"0": "file",
    b"\0": "file",
    b"7": "file",
    b"1": "hardlink",
    b"2": "symlink",
    b"3": "char-device",
    b"4": "block-device",
    b"5": "dir",
    b"6": "fifo",
}


class TarFormatError(ValueError):
    """The stream is not a tar archive this parser understands."""


@dataclass(frozen=True, slots=True)
class TarMember:
    name: str  # as stored (may start with "./" or "/")
    kind: str  # "file", "dir", "symlink", "hardlink", a device or "fifo"
    size: int  # bytes of content (0 for everything but files)
    mode: int
    link: str  # the target of a link, "" otherwise


def _octal(field: bytes) -> int:
    if field[:1] and field[0] & 0x80:  # GNU base-256 for large values
        value = int.from_bytes(field, "big")
        return value & ~(0x80 << (8 * (len(field) - 1)))
    text = field.split(b"\0", 1)[0].strip()
    try:
        return int(text or b"0", 8)
    except ValueError as exc:
        raise TarFormatError(f"bad number field {field!r}") from exc


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _pax_records(payload: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    position = 0
    while position < len(payload):
        space = payload.find(b" ", position)
        if space < 0:
            break
        try:
            length = int(payload[position:space])
        except ValueError as exc:
            raise TarFormatError("bad PAX record") from exc
        if length <= 0:
            break
        record = payload[space + 1 : position + length - 1]  # without the newline
        key, _, value = record.partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        position += length
    return records


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


class TarReader:
    """Feed it chunks of a tar stream; it returns the members whose headers completed."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._skip = 0  # content bytes still to drop
        self._extended: tuple[bytes, int] | None = None  # (type flag, size) being collected
        self._overrides: dict[str, str] = {}  # from PAX / GNU headers, for the next member
        self.finished = False

    def feed(self, data: bytes) -> list[TarMember]:
        """Members whose header is complete in what was fed so far.

        Raises:
            TarFormatError: a malformed header.
        """
        if self.finished:
            return []
        self._buffer += data
        members: list[TarMember] = []
        while True:
            if self._skip:
                dropped = min(self._skip, len(self._buffer))
                del self._buffer[:dropped]
                self._skip -= dropped
                if self._skip:
                    return members
            if self._extended is not None:
                if not self._collect_extended():
                    return members
                continue
            if len(self._buffer) < BLOCK:
                return members
            header = bytes(self._buffer[:BLOCK])
            del self._buffer[:BLOCK]
            if header.count(0) == BLOCK:
                self.finished = True  # the end-of-archive marker
                self._buffer.clear()
                return members
            member = self._header(header)
            if member is not None:
                members.append(member)

    def _collect_extended(self) -> bool:
        assert self._extended is not None
        flag, size = self._extended
        padded = _padded(size)
        if len(self._buffer) < padded:
            return False
        payload = bytes(self._buffer[:size])
        del self._buffer[:padded]
        self._extended = None
        if flag == b"x":
            records = _pax_records(payload)
            for key in ("path", "linkpath", "size"):
                if key in records:
                    self._overrides[key] = records[key]
        elif flag == b"L":
            self._overrides["path"] = payload.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        elif flag == b"K":
            self._overrides["linkpath"] = payload.split(b"\0", 1)[0].decode(
                "utf-8", "surrogateescape"
            )
        return True  # a global header ("g") is read and ignored

    def _header(self, header: bytes) -> TarMember | None:
        stored = sum(header[:148]) + 8 * 32 + sum(header[156:])
        if _octal(header[148:156]) != stored:
            raise TarFormatError("tar header checksum mismatch")
        flag = header[156:157]
        size = _octal(header[124:136])
        if flag in (b"x", b"g", b"L", b"K"):
            if size > MAX_EXTENDED_HEADER:
                raise TarFormatError("extended tar header too large")
            self._extended = (flag, size)
            return None
        overrides, self._overrides = self._overrides, {}
        if "size" in overrides:
            try:
                size = int(overrides["size"])
            except ValueError as exc:
                raise TarFormatError("bad PAX size") from exc
        name = _text(header[0:100])
        if header[257:262] == b"ustar" and header[345:346] != b"\0":
            name = _text(header[345:500]) + "/" + name
        kind = _KINDS.get(flag, "other")
        self._skip = _padded(size) if kind in ("file", "other") else 0
        return TarMember(
            name=overrides.get("path", name),
            kind=kind,
            size=size if kind == "file" else 0,
            mode=_octal(header[100:108]) & 0o7777,
            link=overrides.get("linkpath", _text(header[157:257])),
        )
