"""Go templates for `--format`, as the docker CLI runs them.

`compile_template(text)` parses once (a `TemplateParseError` is the docker CLI's "template
parsing error"); `Template.render(data, schema)` runs it over one JSON-shaped value (a
`TemplateExecError` is its "failed to execute template" / inspect error). `format_rows`
adds the CLI's `table` directive: a header row from the same template, then Go's tabwriter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from runtime_client.gotemplate.execute import Schema, TemplateExecError, execute
from runtime_client.gotemplate.parse import Item, TemplateParseError, parse
from runtime_client.gotemplate.values import FUNCTIONS

__all__ = ["Schema", "Template", "TemplateExecError", "TemplateParseError", "compile_template",
           "format_rows", "tabwrite"]

# The docker CLI's tabwriter: minimum cell width 10, padding 3, spaces.
_MIN_WIDTH = 10
_PADDING = 3


@dataclass(frozen=True)
class Template:
    """A parsed template."""

    source: str
    items: list[Item]

    def render(self, data: Any, schema: Schema | None = None) -> str:
        """The template's output for `data`.

        Raises:
            TemplateExecError: Go's execution error.
        """
        return execute(self.source, self.items, data, schema or Schema())


def compile_template(source: str) -> Template:
    """Parse `source` (the docker CLI turns `\\t` and `\\n` typed literally into tabs and
    newlines before parsing, and so does this).

    Raises:
        TemplateParseError: Go's parse error.
    """
    text = source.replace("\\t", "\t").replace("\\n", "\n")
    return Template(text, parse(text, FUNCTIONS.__contains__))


def tabwrite(lines: Iterable[str]) -> str:
    """Go's tabwriter as the docker CLI configures it: each tab-terminated cell is padded to
    its column's widest cell plus 3, at least 10; the last cell of a line is not padded."""
    rows = [line.split("\t") for line in lines]
    widths: dict[int, int] = {}
    for cells in rows:
        for index, cell in enumerate(cells[:-1]):
            widths[index] = max(widths.get(index, 0), len(cell))
    out = []
    for cells in rows:
        padded = [cell.ljust(max(widths[i] + _PADDING, _MIN_WIDTH))
                  for i, cell in enumerate(cells[:-1])]
        out.append("".join(padded) + cells[-1] + "\n")
    return "".join(out)


def format_rows(source: str, rows: Iterable[Mapping[str, Any]], headers: Mapping[str, str],
                schema: Schema | None = None) -> str:
    """Rows through a `--format` template; `table TEMPLATE` adds the header row (each field
    printed as its column title) and aligns the columns.

    Raises:
        TemplateParseError, TemplateExecError.
    """
    is_table = source.startswith("table")
    template = compile_template(source.removeprefix("table").lstrip() if is_table else source)
    lines = [template.render(row, schema) for row in rows]
    if not is_table:
        return "".join(line + "\n" for line in lines)
    titles = {key: headers.get(key, key.upper()) for key in headers}
    header = template.render(_Titles(titles), schema)
    return tabwrite([header, *lines])


class _Titles(dict):  # type: ignore[type-arg]
    """A header row: every field is its column title (unknown ones in capitals)."""

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(key, str(key).upper())

    def __contains__(self, key: object) -> bool:
        return True
