"""Tables as the Docker CLI prints them (Go's tabwriter with three spaces of padding)."""

from __future__ import annotations

from typing import Any, TextIO

__all__ = ["write_table"]


def write_table(stdout: TextIO, columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> None:
    """Docker's tabwriter layout: columns padded to the widest cell plus three spaces."""
    widths = [
        max([len(title)] + [len(str(row[key])) for row in rows]) for title, key in columns
    ]
    lines = [[title for title, _ in columns]] + [[str(row[k]) for _, k in columns] for row in rows]
    for cells in lines:
        padded = [cell.ljust(width + 3) for cell, width in zip(cells[:-1], widths, strict=False)]
        stdout.write(("".join(padded) + cells[-1]).rstrip() + "\n")
