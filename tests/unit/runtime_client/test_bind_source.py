"""`-v /missing/dir:/x`: the host directory is made as dockerd makes it."""

from __future__ import annotations

import os
import stat

from runtime_client.runtime.lifecycle import make_bind_source


def test_missing_directories_are_made_0755_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        make_bind_source(str(tmp_path / "a" / "b"))
    finally:
        os.umask(old)
    for path in (tmp_path / "a", tmp_path / "a" / "b"):
        assert path.is_dir()
        assert stat.S_IMODE(path.stat().st_mode) == 0o755


def test_existing_paths_are_left_as_they_are(tmp_path):
    (tmp_path / "d").mkdir(mode=0o700)
    (tmp_path / "f").write_text("x")
    make_bind_source(str(tmp_path / "d"))
    make_bind_source(str(tmp_path / "f"))
    make_bind_source(str(tmp_path / "f" / "below"))  # through a file: the mount refuses it
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o700
    assert (tmp_path / "f").read_text() == "x"
