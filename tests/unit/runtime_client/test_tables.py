"""Tables laid out as the Docker CLI lays them out (Go's tabwriter: padding 3, min width 10)."""

from __future__ import annotations

import io

from runtime_client.tables import write_table


def table(columns: list[tuple[str, str]], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    write_table(out, columns, rows)
    return out.getvalue()


def test_narrow_columns_take_ten_characters_as_in_docker() -> None:
    # `docker images` with a short repository and tag.
    columns = [("REPOSITORY", "r"), ("TAG", "t"), ("IMAGE ID", "i"), ("SIZE", "s")]
    assert table(columns, [{"r": "app", "t": "1", "i": "0123456789ab", "s": "1.2MB"}]) == (
        "REPOSITORY   TAG       IMAGE ID       SIZE\n"
        "app          1         0123456789ab   1.2MB\n"
    )


def test_wide_cells_get_three_spaces_and_the_last_column_no_padding() -> None:
    columns = [("NAME", "n"), ("STATUS", "s")]
    rows = [{"n": "a-rather-long-name", "s": "Up"}, {"n": "x", "s": ""}]
    assert table(columns, rows) == "NAME                 STATUS\na-rather-long-name   Up\nx\n"
