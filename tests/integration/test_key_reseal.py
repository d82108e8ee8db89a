"""`berth-hub keys reseal` and the key check of `berth-hub config check`, on real hubs.

A hub with auth issues a token and holds the trust keys of a repository; the keys are then
re-sealed under a new key-encryption secret while that hub still runs. Hubs with the new secret
start and keep serving (the old token verifies, trust data is signed), hubs with the old one
refuse to start; a replica left on the old secret goes on with the keys it holds in memory,
and a second run re-seals what it wrote meanwhile. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from tests.integration.trust.support import passphrases
from tests.support.http import http_request
from tests.support.hub import REPO_ROOT, HubError, HubProcess, repo_env
from trust.client.cache import MetadataCache
from trust.client.updater import Updater
from trust.keystore import KeyStore
from trust.remote import HttpRemoteStore, RemoteError
from trust.remote_auth import TokenAuthenticator
from trust.signer import Repository

pytestmark = [pytest.mark.slow]

ADMIN_PASSWORD = "reseal-admin-password"
OLD_SECRET = "the-old-secret-0123456789"
NEW_SECRET = "the-new-secret-9876543210"


class Site:
    """One hub installation: a data directory and a database, hubs and commands on them."""

    def __init__(self, workdir: Path, database: str | None) -> None:
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.database = database
        self.hubs: list[HubProcess] = []

    def cli(self, *args: str, secret: str | None, env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        extra = dict(env or {})
        if secret is not None:
            extra["BERTH_TRUST_KEY_SECRET"] = secret
        command = [sys.executable, "-m", "registry", *args, "--data", str(self.data_dir)]
        if self.database:
            command += ["--database", self.database]
        return subprocess.run(command, cwd=REPO_ROOT, env=repo_env(extra), input=stdin,
                              capture_output=True, text=True, timeout=120)

    def hub(self, secret: str) -> HubProcess:
        hub = HubProcess(self.data_dir, self.workdir / f"hub{len(self.hubs)}.log",
                         no_auth=False, database=self.database,
                         env={"BERTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
                              "BERTH_TRUST_KEY_SECRET": secret})
        self.hubs.append(hub)
        return hub

    def stop_all(self) -> None:
        for hub in self.hubs:
            hub.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request, tmp_path):
    database = None
    if request.param == "postgresql":
        database = request.getfixturevalue("postgres").create_database("reseal")
    site = Site(tmp_path, database)
    if database:
        upgraded = site.cli("db", "upgrade", secret=None)
        assert upgraded.returncode == 0, upgraded.stderr
    try:
        yield site
    finally:
        site.stop_all()


def bearer_token(hub: HubProcess) -> str:
    basic = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    query = urllib.parse.urlencode({"service": "berth", "scope": "repository:library/app:pull"})
    answer = http_request("GET", f"{hub.url}/token?{query}",
                          headers={"Authorization": f"Basic {basic}"})
    assert answer.status == 200
    return answer.json()["token"]


def v2_status(hub: HubProcess, token: str) -> int:
    return http_request("GET", f"{hub.url}/v2/",
                        headers={"Authorization": f"Bearer {token}"}).status


def owner(hub: HubProcess, gun: str, keys: Path) -> Repository:
    remote = HttpRemoteStore(hub.url, gun,
                             authenticator=TokenAuthenticator("admin", ADMIN_PASSWORD))
    return Repository(gun, remote, KeyStore(keys), passphrases)


def trusted_targets(hub: HubProcess, gun: str, cache: Path) -> set[str]:
    remote = HttpRemoteStore(hub.url, gun,
                             authenticator=TokenAuthenticator("admin", ADMIN_PASSWORD))
    trusted = Updater(gun, remote, MetadataCache(cache, gun)).refresh()
    return set(trusted.targets["targets"].signed.targets)


def counts(output: str, kind: str) -> list[int]:
    """(stored, resealed, unchanged) from the table `keys reseal` prints."""
    line = next(line for line in output.splitlines() if line.startswith(kind))
    return [int(number) for number in line.split()[-3:]]


def test_reseal_under_a_new_secret_while_a_replica_runs(site, tmp_path):
    old_hub = site.hub(OLD_SECRET).start()
    token = bearer_token(old_hub)
    gun = "127.0.0.1:5000/library/app"  # the GUN names the hub as clients write it
    first = owner(old_hub, gun, tmp_path / "keys")
    first.initialize()
    first.sign_target("v1", "ab" * 32, 3)

    old_file = tmp_path / "old-secret"
    old_file.write_text(OLD_SECRET + "\n")
    check = site.cli("config", "check", secret=NEW_SECRET)
    assert check.returncode == 1
    assert "trust_key_secret" in check.stdout and "keys reseal" in check.stdout

    # A wrong old secret changes nothing (the next run finds every key still to re-seal).
    wrong = site.cli("keys", "reseal", "--old-secret-env", "OLD", secret=NEW_SECRET,
                     env={"OLD": "not-the-old-secret-at-all"})
    assert wrong.returncode == 1
    assert "opens with neither" in wrong.stderr and "nothing was changed" in wrong.stderr

    resealed = site.cli("keys", "reseal", "--old-secret-file", str(old_file), secret=NEW_SECRET)
    assert resealed.returncode == 0, resealed.stderr
    assert counts(resealed.stdout, "token signing") == [1, 1, 0]
    assert counts(resealed.stdout, "trust server") == [2, 2, 0]  # timestamp and snapshot
    again = site.cli("keys", "reseal", "--old-secret-file", "-", secret=NEW_SECRET,
                     stdin=OLD_SECRET)
    assert again.returncode == 0, again.stderr
    assert counts(again.stdout, "token signing") == [1, 0, 1]
    assert counts(again.stdout, "trust server") == [2, 0, 2]
    assert site.cli("config", "check", secret=NEW_SECRET).returncode == 0

    # A hub with the old secret no longer starts, one with the new secret does.
    with pytest.raises(HubError, match="exited with status 2"):
        site.hub(OLD_SECRET).start()
    new_hub = site.hub(NEW_SECRET).start()
    assert v2_status(new_hub, token) == 200  # issued before, by the old hub
    first.remote = HttpRemoteStore(new_hub.url, gun,
                                   authenticator=TokenAuthenticator("admin", ADMIN_PASSWORD))
    first.sign_target("v2", "cd" * 32, 4)  # the new hub signs with the re-sealed keys
    assert trusted_targets(new_hub, gun, tmp_path / "cache1") == {"v1", "v2"}

    # The replica still on the old secret goes on with the keys it holds in memory...
    assert v2_status(old_hub, bearer_token(new_hub)) == 200
    assert v2_status(new_hub, bearer_token(old_hub)) == 200
    # ...but seals the keys it makes with the old secret, which the new hubs cannot open.
    other_gun = "127.0.0.1:5000/library/other"
    second = owner(old_hub, other_gun, tmp_path / "keys")
    second.initialize()
    second.remote = HttpRemoteStore(new_hub.url, other_gun,
                                    authenticator=TokenAuthenticator("admin", ADMIN_PASSWORD))
    with pytest.raises(RemoteError):
        second.sign_target("v1", "ef" * 32, 5)
    old_hub.stop()
    # Run again once every replica has the new secret: it re-seals just those keys.
    last = site.cli("keys", "reseal", "--old-secret-file", str(old_file), secret=NEW_SECRET)
    assert last.returncode == 0, last.stderr
    assert counts(last.stdout, "trust server") == [4, 2, 2]
    second.sign_target("v1", "ef" * 32, 5)
    assert trusted_targets(new_hub, other_gun, tmp_path / "cache2") == {"v1"}


def test_config_check_passes_on_an_empty_database(site):
    # This also makes the SQLite database (migrated, no keys) before the check reads it.
    same = site.cli("keys", "reseal", "--old-secret-env", "OLD", secret=NEW_SECRET,
                    env={"OLD": NEW_SECRET})
    assert same.returncode == 1 and "nothing to re-seal" in same.stderr
    check = site.cli("config", "check", secret=NEW_SECRET)
    assert check.returncode == 0, check.stdout + check.stderr
