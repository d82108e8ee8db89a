"""Pure parts of `history`, checked against what dockerd and the docker CLI answer."""

from __future__ import annotations

import io
import tarfile
from datetime import UTC, datetime

import pytest

from runtime_client.errors import RuntimeClientError
from runtime_client.ops.history import history_entries, history_rows, layer_diff_size

NOW = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC)
IMAGE_ID = "sha256:" + "ab" * 32

# -- history --------------------------------------------------------------------------------


def test_history_matches_layers_to_entries_and_names_only_the_top():
    config = {"history": [
        {"created": "2024-01-01T00:00:00Z", "created_by": "ADD a"},
        {"created": "2024-01-01T00:00:00Z", "created_by": "ENV x", "empty_layer": True},
        {"created": "2026-12-04T11:50:00Z", "created_by": "RUN b", "comment": "c"},
        {"created": "2026-12-04T11:59:30Z", "created_by": "CMD", "empty_layer": True},
    ]}
    entries = history_entries(config, IMAGE_ID, [100, 2500])
    assert [(e.id, e.created_by, e.size) for e in entries] == [
        (IMAGE_ID, "CMD", 0), ("<missing>", "RUN b", 2500), ("<missing>", "ENV x", 0),
        ("<missing>", "ADD a", 100)]
    rows = history_rows(entries, NOW)
    assert [(r["ID"], r["CreatedSince"], r["Size"]) for r in rows] == [
        ("abababababab", "30 seconds ago", "0B"), ("<missing>", "10 minutes ago", "2.5kB"),
        ("<missing>", "2 years ago", "0B"), ("<missing>", "2 years ago", "100B")]
    plain = history_rows(entries, NOW, human=False, no_trunc=True)
    assert plain[0]["ID"] == IMAGE_ID
    assert plain[1]["CreatedSince"] == plain[1]["CreatedAt"] == "2026-12-04T11:50:00Z"
    assert plain[1]["Size"] == "2500"


def test_history_without_entries_is_empty_and_too_many_layers_is_dockers_error():
    assert history_entries({}, IMAGE_ID, [1]) == []
    with pytest.raises(RuntimeClientError, match="too many non-empty layers"):
        history_entries({"history": [{}, {}]}, IMAGE_ID, [1])


def test_created_by_is_cut_to_45_columns_and_tabs_become_spaces():
    step = "/bin/sh -c\t" + "x" * 60
    [row] = history_rows(history_entries({"history": [{"created_by": step}]}, IMAGE_ID, [0]),
                         NOW)
    assert row["CreatedBy"] == ("/bin/sh -c " + "x" * 60)[:44] + "…"
    assert len(row["CreatedBy"]) == 45
    assert row["CreatedSince"] == "N/A"


def test_layer_size_counts_files_and_symlinks_once():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, kind, data in (
            ("bin", tarfile.DIRTYPE, b""), ("bin/a", tarfile.REGTYPE, b"x" * 10),
            ("bin/b", tarfile.LNKTYPE, b""), ("bin/c", tarfile.SYMTYPE, b""),
            ("bin/.wh.d", tarfile.REGTYPE, b""),
        ):
            info = tarfile.TarInfo(name)
            info.type, info.size = kind, len(data)
            info.linkname = {"bin/b": "bin/a", "bin/c": "a-target"}.get(name, "")
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    assert layer_diff_size(buffer) == 10 + len("a-target")
