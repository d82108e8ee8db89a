"""Tables as the Docker CLI prints them (Go's tabwriter, as the CLI configures it)."""

from __future__ import annotations

from typing import Any, TextIO

from runtime_client.gotemplate import tabwrite

__all__ = ["write_table"]


def write_table(stdout: TextIO, columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> None:
    """A header of column titles, then one line per row: each cell but the last padded to its
    column's widest cell plus three spaces, at least ten (Docker's tabwriter settings)."""
    lines = [[title for title, _ in columns]] + [[str(row[k]) for _, k in columns] for row in rows]
    table = tabwrite("\t".join(cells) for cells in lines)
    stdout.write("".join(line.rstrip() + "\n" for line in table.splitlines()))
