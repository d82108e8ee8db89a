"""`berth-hub trust show|rotate-key|delete` on a hub's trust data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.trust.support import passphrases
from tests.support.hub import HubProcess
from tests.support.ports import wait_until
from trust.client.cache import MetadataCache
from trust.client.updater import Updater
from trust.keystore import KeyStore
from trust.remote import HttpRemoteStore
from trust.signer import Repository
from trust.tuf.errors import RepositoryNotInitializedError

REPO_ROOT = Path(__file__).resolve().parents[3]


def berth_hub(data_dir: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "registry", *args, "--data", str(data_dir)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_show_rotate_and_delete(tmp_path):
    hub = HubProcess(tmp_path / "data", tmp_path / "hub.log")
    hub.start()
    try:
        gun = f"{hub.host}/team/app"
        remote = HttpRemoteStore(hub.url, gun)
        owner = Repository(gun, remote, KeyStore(tmp_path / "keys"), passphrases)
        owner.initialize()
        owner.sign_target("v1", "ab" * 32, 3)
        shown = berth_hub(hub.data_dir, "trust", "show", gun)
        assert "targets: version 2" in shown and "1 targets" in shown
        assert shown.count("(active,") == 2  # server timestamp and snapshot keys

        rotated = berth_hub(hub.data_dir, "trust", "rotate-key", "timestamp", gun)
        assert "new timestamp key" in rotated
        assert "(not in root," in berth_hub(hub.data_dir, "trust", "show", gun)
        owner.rotate_remote_key("timestamp")  # the owner signs the new key into root
        owner.sign_target("v2", "cd" * 32, 4)  # timestamps now come from the new key

        berth_hub(hub.data_dir, "trust", "delete", gun)
        # The running hub keeps current documents it read for a second, and documents fetched
        # by version or hash for a minute (trust.server.readcache): another process's delete
        # shows within that bound. Each try is a new client, with nothing trusted yet.
        attempts = iter(range(1000))

        def gone() -> bool:
            cache = MetadataCache(tmp_path / f"fresh-{next(attempts)}", gun)
            try:
                Updater(gun, remote, cache).refresh()
            except RepositoryNotInitializedError:
                return True
            return False

        assert wait_until(gone, 70, interval=0.5)
    finally:
        hub.stop()
