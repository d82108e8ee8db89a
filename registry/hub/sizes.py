"""Byte sizes as people write them: parsing `500MiB`, `2GB`, `1073741824` or `none`, and
formatting byte counts for messages and tables (`31.5 MiB`).

Units: `B`; decimal `kB`/`KB`, `MB`, `GB`, `TB`, `PB` (powers of 1000); binary `KiB`, `MiB`,
`GiB`, `TiB`, `PiB` (powers of 1024). Unit letters are case-insensitive. A bare `G` or `M`
is refused: Docker reads it as binary, others as decimal, so it says too little.

Scope: pure functions, no I/O.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = ["SizeError", "format_size", "parse_size"]

_PREFIXES = "kmgtp"
_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)\s*", re.IGNORECASE)
_BINARY = ("KiB", "MiB", "GiB", "TiB", "PiB")


class SizeError(ValueError):
    """A size that does not parse."""


def _multiplier(unit: str) -> int:
    folded = unit.lower()
    if folded in ("", "b"):
        return 1
    if len(folded) == 2 and folded[1] == "b" and folded[0] in _PREFIXES:
        return 1000 ** (_PREFIXES.index(folded[0]) + 1)
    if len(folded) == 3 and folded[1:] == "ib" and folded[0] in _PREFIXES:
        return 1024 ** (_PREFIXES.index(folded[0]) + 1)
    raise SizeError(
        f"unknown unit {unit!r}: use B, kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB"
        " (powers of 1024)"
    )


def parse_size(text: str) -> int | None:
    """Bytes from `text`: a whole number of bytes, a number with a unit, or `none` (None).

    Fractions are allowed with a unit (`1.5GiB`) and rounded down to whole bytes.

    Raises:
        SizeError: not a size.
    """
    if text.strip().lower() == "none":
        return None
    found = _SIZE.fullmatch(text)
    if found is None:
        raise SizeError(f"{text!r} is not a size (e.g. 500MiB, 2GB, 1073741824 or none)")
    number, unit = found.groups()
    multiplier = _multiplier(unit)
    if multiplier == 1 and "." in number:
        raise SizeError(f"{text!r}: a number of bytes is whole")
    try:
        return int(Decimal(number) * multiplier)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
        raise SizeError(f"{text!r} is not a size") from exc


def format_size(size: int) -> str:
    """`size` bytes in the largest binary unit it reaches, to one decimal (`30 MiB`,
    `31.5 MiB`, `512 B`)."""
    if size < 1024:
        return f"{size} B"
    value = Decimal(size) / 1024
    step = 0
    # round(): 1048575 bytes read 1 MiB, not 1024 KiB.
    while round(value, 1) >= 1024 and step < len(_BINARY) - 1:
        value /= 1024
        step += 1
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} {_BINARY[step]}"
