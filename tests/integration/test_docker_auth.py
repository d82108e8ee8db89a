"""The real Docker CLI and dockerd against a hub with authentication on (issue 3 "Must show").

One hub per module, started without `--no-auth`; its accounts are made with the `berth-hub`
command line on the data directory while it runs. Each docker client identity keeps its
credentials in a `--config` directory of its own.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.dockerd import DockerDaemon
from tests.support.http import http_request
from tests.support.hub import HubProcess, run_hub_cli
from tests.support.images import DOCKER_ARCHIVE_TAG

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ADMIN_PASSWORD = "admin-password-1"
PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-1"}


def berth_hub(hub: HubProcess, *args: str, stdin: str | None = None) -> str:
    """Run `berth-hub ARGS --data DIR`, expect success and return its output."""
    result = run_hub_cli(hub, *args, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


class DockerUser:
    """The docker CLI with a private config directory (its own `docker login`)."""

    def __init__(self, dockerd: DockerDaemon, config: Path) -> None:
        self.dockerd = dockerd
        self.config = config
        config.mkdir(parents=True, exist_ok=True)

    def run(self, *args: str, check: bool = True, stdin: str | None = None):
        return self.dockerd.run("--config", str(self.config), *args, check=check,
                                input=stdin.encode() if stdin is not None else None)

    def login(self, host: str, user: str, secret: str, check: bool = True):
        return self.run("login", host, "-u", user, "--password-stdin", stdin=secret, check=check)


@pytest.fixture(scope="module")
def auth_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    workdir = tmp_path_factory.mktemp("auth-hub")
    hub = HubProcess(workdir / "data", workdir / "hub.log", no_auth=False,
                     env={"BERTH_ADMIN_PASSWORD": ADMIN_PASSWORD})
    hub.start()
    try:
        for name, password in PASSWORDS.items():
            berth_hub(hub, "user", "add", name, "--password-stdin", stdin=password + "\n")
        berth_hub(hub, "org", "add", "acme", "--owner", "alice")
        berth_hub(hub, "org", "team-add", "acme", "devs")
        berth_hub(hub, "org", "member-add", "acme", "devs", "bob")
        berth_hub(hub, "org", "grant", "acme", "devs", "write")
        yield hub
    finally:
        hub.stop()


@pytest.fixture(scope="module")
def loaded_image(dockerd: DockerDaemon, docker_archive: Path) -> Iterator[str]:
    dockerd.run("load", "--input", str(docker_archive))
    try:
        yield DOCKER_ARCHIVE_TAG
    finally:
        dockerd.run("rmi", "--force", DOCKER_ARCHIVE_TAG, check=False)


@pytest.fixture
def users(dockerd: DockerDaemon, tmp_path: Path, auth_hub: HubProcess) -> Iterator[dict]:
    """Docker users alice, bob and anonymous; the images they tag are removed afterwards."""
    made = {name: DockerUser(dockerd, tmp_path / f"docker-{name}")
            for name in ("alice", "bob", "anonymous", "admin")}
    try:
        yield made
    finally:
        listed = dockerd.run("image", "ls", "--format", "{{.Repository}}:{{.Tag}}").stdout
        for ref in listed.split():
            if ref.startswith(auth_hub.host):
                dockerd.run("rmi", "--force", ref, check=False)


def _push(user: DockerUser, loaded: str, ref: str, check: bool = True):
    user.run("tag", loaded, ref)
    return user.run("push", ref, check=check)


def _api(hub: HubProcess, method: str, path: str, user: str, password: str, body=None):
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    data = json.dumps(body).encode() if body is not None else None
    return http_request(method, f"{hub.url}{path}", body=data,
                        headers={"Authorization": f"Basic {auth}",
                                 "Content-Type": "application/json"})


def test_login_push_logout_and_private_pull_refused(auth_hub, users, loaded_image):
    alice, anonymous = users["alice"], users["anonymous"]
    host = auth_hub.host
    login = alice.login(host, "alice", PASSWORDS["alice"])
    assert "Login Succeeded" in login.stdout
    # Docker keeps the refresh (identity) token, not the password.
    stored = json.loads((alice.config / "config.json").read_text())["auths"][host]
    assert "identitytoken" in stored
    assert PASSWORDS["alice"] not in (alice.config / "config.json").read_text()
    _push(alice, loaded_image, f"{host}/alice/app:v1")
    alice.run("logout", host)
    assert host not in json.loads((alice.config / "config.json").read_text()).get("auths", {})
    alice.run("rmi", f"{host}/alice/app:v1")
    refused = anonymous.run("pull", f"{host}/alice/app:v1", check=False)
    assert refused.returncode != 0
    assert "denied" in refused.stderr or "unauthorized" in refused.stderr, refused.stderr
    # Logged in again, alice pulls it.
    alice.login(host, "alice", PASSWORDS["alice"])
    alice.run("pull", f"{host}/alice/app:v1")


def test_other_user_is_denied_and_team_member_pushes(auth_hub, users, loaded_image):
    alice, bob = users["alice"], users["bob"]
    host = auth_hub.host
    alice.login(host, "alice", PASSWORDS["alice"])
    _push(alice, loaded_image, f"{host}/alice/app:v1")
    bob.login(host, "bob", PASSWORDS["bob"])
    denied = _push(bob, loaded_image, f"{host}/alice/app:bob", check=False)
    assert denied.returncode != 0
    assert "denied" in denied.stderr, denied.stderr
    # bob is in acme's devs team, which has write on the acme namespace.
    pushed = _push(bob, loaded_image, f"{host}/acme/app:v1")
    assert "digest: sha256:" in pushed.stdout


def test_read_only_token_pulls_not_pushes_and_revoked_token_is_refused(
    auth_hub, users, loaded_image
):
    alice = users["alice"]
    host = auth_hub.host
    alice.login(host, "alice", PASSWORDS["alice"])
    _push(alice, loaded_image, f"{host}/alice/tokens:v1")
    alice.run("logout", host)
    alice.run("rmi", f"{host}/alice/tokens:v1")
    created = berth_hub(auth_hub, "token", "add", "alice", "--name", "ci", "--scope", "read")
    token_id = created.split()[1]
    secret = created.strip().splitlines()[-1]
    assert secret.startswith("bth_")

    ci = users["bob"]  # a fresh docker config: the CI machine
    assert "Login Succeeded" in ci.login(host, "alice", secret).stdout
    ci.run("pull", f"{host}/alice/tokens:v1")
    refused = _push(ci, loaded_image, f"{host}/alice/tokens:ci", check=False)
    assert refused.returncode != 0 and "denied" in refused.stderr, refused.stderr

    berth_hub(auth_hub, "token", "rm", "alice", token_id)
    ci.run("rmi", f"{host}/alice/tokens:v1")
    revoked = ci.run("pull", f"{host}/alice/tokens:v1", check=False)
    assert revoked.returncode != 0
    assert "unauthorized" in revoked.stderr.lower() or "denied" in revoked.stderr, revoked.stderr
    relogin = ci.login(host, "alice", secret, check=False)
    assert relogin.returncode != 0


def test_a_robot_logs_in_pushes_in_its_scope_and_is_refused_outside_it_and_once_revoked(
    auth_hub, users, loaded_image
):
    host = auth_hub.host
    created = berth_hub(auth_hub, "robot", "add", "acme", "docker", "--repo", "robot-*",
                        "--action", "push", "--expires", "1h")
    login, secret = "robot$acme+docker", created.strip().splitlines()[-1]
    ci = users["admin"]  # a fresh docker config: the CI machine
    assert "Login Succeeded" in ci.login(host, login, secret).stdout
    # A robot gets no refresh (identity) token: Docker keeps its secret.
    assert "identitytoken" not in json.loads((ci.config / "config.json").read_text())["auths"][host]
    pushed = _push(ci, loaded_image, f"{host}/acme/robot-app:v1")
    assert "digest: sha256:" in pushed.stdout
    outside = _push(ci, loaded_image, f"{host}/acme/app:robot", check=False)
    assert outside.returncode != 0 and "denied" in outside.stderr, outside.stderr
    berth_hub(auth_hub, "robot", "rm", "acme", "docker")
    # The first try with the revoked secret is refused as unauthorized. Docker's retries then
    # add failures, so the throttle may answer them (TOOMANYREQUESTS): a refusal all the same.
    token = _api(auth_hub, "GET", "/token?scope=repository:acme/robot-app:push",
                 login, secret)
    assert token.status == 401, token.body
    revoked = _push(ci, loaded_image, f"{host}/acme/robot-app:v2", check=False)
    assert revoked.returncode != 0
    refusals = ("unauthorized", "denied", "toomanyrequests")
    assert any(word in revoked.stderr.lower() for word in refusals), revoked.stderr
    assert ci.login(host, login, secret, check=False).returncode != 0


def test_wrong_password_fails_cleanly(auth_hub, users):
    failed = users["alice"].login(auth_hub.host, "alice", "not-the-password", check=False)
    assert failed.returncode != 0
    assert "unauthorized" in failed.stderr.lower(), failed.stderr
    assert "Login Succeeded" not in failed.stdout
    config = users["alice"].config / "config.json"
    assert not config.exists() or auth_hub.host not in config.read_text()


def test_docker_search_lists_stars_and_official(auth_hub, users, loaded_image):
    admin, alice = users["admin"], users["alice"]
    host = auth_hub.host
    admin.login(host, "admin", ADMIN_PASSWORD)
    _push(admin, loaded_image, f"{host}/searchbox:latest")  # library/searchbox: official
    alice.login(host, "alice", PASSWORDS["alice"])
    for name in ("searchbox-tools", "searchbox-extras"):
        _push(alice, loaded_image, f"{host}/alice/{name}:v1")
        response = _api(auth_hub, "PATCH", f"/api/v1/repositories/alice/{name}", "alice",
                        PASSWORDS["alice"], {"is_public": True, "description": f"{name} for all"})
        assert response.status == 200
    for user in ("alice", "bob"):
        password = PASSWORDS[user]
        assert _api(auth_hub, "PUT", "/api/v1/repositories/alice/searchbox-tools/star", user,
                    password).status == 204
    assert _api(auth_hub, "PUT", "/api/v1/repositories/alice/searchbox-extras/star", "bob",
                PASSWORDS["bob"]).status == 204

    def search(*args: str) -> list[list[str]]:
        out = users["anonymous"].run("search", "--no-trunc", "--format",
                                     "{{.Name}}|{{.StarCount}}|{{.IsOfficial}}", *args).stdout
        return [line.split("|") for line in out.splitlines()]

    assert search(f"{host}/searchbox") == [
        ["searchbox", "0", "[OK]"],
        ["alice/searchbox-tools", "2", ""],
        ["alice/searchbox-extras", "1", ""],
    ]
    assert search("--filter", "is-official=true", f"{host}/searchbox") == [
        ["searchbox", "0", "[OK]"]
    ]
    assert search("--filter", "stars=2", f"{host}/searchbox") == [
        ["alice/searchbox-tools", "2", ""]
    ]
    assert search("--limit", "1", f"{host}/searchbox") == [["searchbox", "0", "[OK]"]]
    table = users["anonymous"].run("search", f"{host}/searchbox").stdout
    assert "STARS" in table and "OFFICIAL" in table and "[OK]" in table
    # Logged in (docker holds an identity token), alice also finds her private repository.
    _push(alice, loaded_image, f"{host}/alice/searchbox-private:v1")
    mine = alice.run("search", "--format", "{{.Name}}", f"{host}/searchbox").stdout.split()
    assert "alice/searchbox-private" in mine, mine
    assert "alice/searchbox-private" not in [row[0] for row in search(f"{host}/searchbox")]
