"""berth-hub's tables: every column as wide as its widest cell, whatever the cell holds."""

from registry.cli.common import print_table


def test_a_long_cell_widens_its_column_and_the_next_ones_stay_aligned(capsys):
    print_table(
        ("LOGIN", "EXPIRES", "REPOSITORIES"),
        [
            ("robot$acme+ci", "2027-01-01 00:00:00", "app"),
            ("robot$acme+old", "2026-01-01 00:00:00 (expired)", "**"),
        ],
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "LOGIN            EXPIRES                         REPOSITORIES",
        "robot$acme+ci    2027-01-01 00:00:00             app",
        "robot$acme+old   2026-01-01 00:00:00 (expired)   **",
    ]


def test_headers_alone_when_there_are_no_rows(capsys):
    print_table(("ID", "NAME"), [])
    assert capsys.readouterr().out == "ID   NAME\n"
