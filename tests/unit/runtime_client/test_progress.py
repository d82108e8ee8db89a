"""Per-layer progress: redrawn bars on a terminal, one plain line per status otherwise."""

from __future__ import annotations

import io

from runtime_client.distribution.progress import Progress


def test_plain_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=False)
    progress.message("v1: Pulling from team/app")
    progress.status("aaaaaaaaaaaa", "Pulling fs layer")
    progress.bytes("aaaaaaaaaaaa", "Downloading", 5, 10)  # no byte progress in logs
    progress.status("aaaaaaaaaaaa", "Pull complete")
    assert out.getvalue() == ("v1: Pulling from team/app\naaaaaaaaaaaa: Pulling fs layer\n"
                              "aaaaaaaaaaaa: Pull complete\n")
    assert "\x1b" not in out.getvalue()


def test_bars_redrawn_in_place_on_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=True)
    progress.status("aaaaaaaaaaaa", "Pulling fs layer")
    progress.status("bbbbbbbbbbbb", "Pulling fs layer")
    progress.bytes("aaaaaaaaaaaa", "Downloading", 10_000_000, 20_000_000)
    progress.status("bbbbbbbbbbbb", "Pull complete")
    text = out.getvalue()
    assert "\x1b[2A" in text  # cursor back up over the two layer lines
    assert "aaaaaaaaaaaa: Downloading [" in text and "10MB/20MB" in text
    assert text.rstrip().endswith("bbbbbbbbbbbb: Pull complete")


def test_quiet_writes_nothing() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=True, quiet=True)
    progress.message("x")
    progress.status("a", "b")
    assert out.getvalue() == ""
