"""`berth-hub user|org|token|audit` on the data directory of a hub that is running.

The hub (auth on) sees each change on its next request: a user added by the command line logs
in at once, a token revoked by it is refused at once. Also: a hub whose key-encryption secret
does not open its stored keys refuses to start and says which setting to fix.
"""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.http import http_request
from tests.support.hub import REPO_ROOT, HubError, HubProcess, repo_env
from tests.support.ports import free_port

pytestmark = [pytest.mark.slow]

ADMIN_PASSWORD = "cli-admin-password"


@pytest.fixture
def auth_hub(tmp_path) -> Iterator[HubProcess]:
    hub = HubProcess(tmp_path / "data", tmp_path / "hub.log", no_auth=False,
                     env={"BERTH_ADMIN_PASSWORD": ADMIN_PASSWORD})
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


def cli(hub: HubProcess, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "registry", *args, "--data", str(hub.data_dir)],
        cwd=REPO_ROOT, env=repo_env(), input=stdin, capture_output=True, text=True, timeout=120,
    )


def token_status(hub: HubProcess, user: str, secret: str, scope: str = "") -> int:
    auth = base64.b64encode(f"{user}:{secret}".encode()).decode()
    query = urllib.parse.urlencode({"service": "berth", "scope": scope})
    return http_request("GET", f"{hub.url}/token?{query}",
                        headers={"Authorization": f"Basic {auth}"}).status


def test_accounts_and_tokens_from_the_command_line(auth_hub):
    assert token_status(auth_hub, "admin", ADMIN_PASSWORD) == 200
    added = cli(auth_hub, "user", "add", "carol", "--password-stdin", stdin="carol-password\n")
    assert added.returncode == 0, added.stderr
    assert token_status(auth_hub, "carol", "carol-password") == 200
    generated = cli(auth_hub, "user", "add", "dave")
    password = generated.stdout.strip().splitlines()[-1].removeprefix("password: ")
    assert token_status(auth_hub, "dave", password) == 200
    again = cli(auth_hub, "user", "add", "carol", "--password-stdin", stdin="x" * 12)
    assert again.returncode == 1 and "taken" in again.stderr
    listed = cli(auth_hub, "user", "ls").stdout
    assert "admin" in listed and "carol" in listed and "dave" in listed

    created = cli(auth_hub, "token", "add", "carol", "--name", "ci", "--scope", "read")
    token_id, secret = created.stdout.split()[1], created.stdout.strip().splitlines()[-1]
    assert token_status(auth_hub, "carol", secret) == 200
    assert "active" in cli(auth_hub, "token", "ls", "carol").stdout
    assert cli(auth_hub, "token", "rm", "carol", token_id).returncode == 0
    assert token_status(auth_hub, "carol", secret) == 401
    assert "revoked" in cli(auth_hub, "token", "ls", "carol").stdout

    expiring = cli(auth_hub, "token", "add", "carol", "--name", "week", "--scope", "read",
                   "--expires", "7d")
    assert expiring.returncode == 0, expiring.stderr
    week_secret = expiring.stdout.strip().splitlines()[-1]
    assert token_status(auth_hub, "carol", week_secret) == 200
    expiry = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%d")
    rows = {line.split()[1]: line for line in cli(auth_hub, "token", "ls", "carol").stdout
            .splitlines()[1:]}
    assert expiry in rows["week"] and rows["week"].endswith("active")
    assert " never " in rows["ci"] and rows["ci"].endswith("revoked")
    too_long = cli(auth_hub, "token", "add", "carol", "--name", "x", "--scope", "read",
                   "--expires", "400d")
    assert too_long.returncode != 0 and "366 days" in too_long.stderr

    passwd = cli(auth_hub, "user", "passwd", "carol", "--password-stdin", stdin="new-password\n")
    assert passwd.returncode == 0
    assert token_status(auth_hub, "carol", "carol-password") == 401
    assert cli(auth_hub, "user", "rm", "dave").returncode == 0
    assert token_status(auth_hub, "dave", password) == 401

    audit = cli(auth_hub, "audit", "ls").stdout
    for action in ("user-add", "token-add", "token-revoke", "user-passwd", "user-rm", "login"):
        assert action in audit
    # Secrets never reach the hub's log (BERTH_ADMIN_PASSWORD is never printed either).
    log = auth_hub.log_text()
    for secret_text in (ADMIN_PASSWORD, "carol-password", secret, password):
        assert secret_text not in log


def test_orgs_from_the_command_line(auth_hub):
    for name in ("erin", "frank"):
        assert cli(auth_hub, "user", "add", name, "--password-stdin",
                   stdin=f"{name}-password\n").returncode == 0
    assert cli(auth_hub, "org", "add", "acme", "--owner", "erin").returncode == 0
    assert cli(auth_hub, "org", "team-add", "acme", "devs").returncode == 0
    assert cli(auth_hub, "org", "member-add", "acme", "devs", "frank").returncode == 0
    assert token_status(auth_hub, "frank", "frank-password",
                        "repository:acme/app:pull,push") == 200
    granted = cli(auth_hub, "org", "grant", "acme", "devs", "write", "--repo", "app")
    assert granted.returncode == 0, granted.stderr
    shown = cli(auth_hub, "org", "show", "acme").stdout
    assert "devs: members frank; write on acme/app" in shown
    assert "owners: members erin; owner on *" in shown
    assert "acme" in cli(auth_hub, "org", "ls").stdout
    bad = cli(auth_hub, "org", "grant", "acme", "devs", "write", "--repo", "other/app")
    assert bad.returncode == 1 and "not in the namespace" in bad.stderr
    assert cli(auth_hub, "org", "default", "acme", "public").returncode == 0
    required = cli(auth_hub, "org", "trust-required", "acme", "on")
    assert required.returncode == 0 and "need content trust" in required.stdout
    missing = cli(auth_hub, "repo", "trust-required", "acme/none", "on")
    assert missing.returncode == 1 and "no repository" in missing.stderr
    assert "acme" in cli(auth_hub, "audit", "ls", "--action", "namespace-trust").stdout
    assert cli(auth_hub, "org", "revoke", "acme", "devs", "--repo", "app").returncode == 0
    assert cli(auth_hub, "org", "member-rm", "acme", "devs", "frank").returncode == 0
    assert cli(auth_hub, "org", "team-rm", "acme", "devs").returncode == 0
    assert cli(auth_hub, "org", "rm", "acme").returncode == 0
    assert "grant" in cli(auth_hub, "audit", "ls", "--action", "grant").stdout


def test_a_hub_with_another_key_secret_refuses_to_start_and_names_the_setting(tmp_path):
    def hub_with(secret: str) -> HubProcess:
        return HubProcess(tmp_path / "data", tmp_path / "hub.log", port=port, no_auth=False,
                          env={"BERTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
                               "BERTH_TRUST_KEY_SECRET": secret})

    port = free_port()
    with hub_with("the-secret-of-this-hub-0123") as hub:
        assert token_status(hub, "admin", ADMIN_PASSWORD) == 200
    wrong = hub_with("some-other-secret-456789")
    with pytest.raises(HubError) as refused:
        wrong.start()
    message = str(refused.value)
    assert "exited with status 2" in message
    assert "cannot be opened" in message and "BERTH_TRUST_KEY_SECRET" in message
    assert "Traceback" not in wrong.log_text()
    # A key added with the wrong secret would not open in the hubs: rotate-key refuses too.
    rotate = subprocess.run(
        [sys.executable, "-m", "registry", "token", "rotate-key", "--data", str(tmp_path / "data")],
        cwd=REPO_ROOT, env=repo_env({"BERTH_TRUST_KEY_SECRET": "some-other-secret-456789"}),
        capture_output=True, text=True, timeout=120,
    )
    assert rotate.returncode == 1 and "BERTH_TRUST_KEY_SECRET" in rotate.stderr
    with hub_with("the-secret-of-this-hub-0123") as hub:
        assert token_status(hub, "admin", ADMIN_PASSWORD) == 200


def test_a_key_secret_too_short_is_refused_at_start(tmp_path):
    hub = HubProcess(tmp_path / "data", tmp_path / "hub.log", port=free_port(), no_auth=False,
                     env={"BERTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
                          "BERTH_TRUST_KEY_SECRET": "short"})
    with pytest.raises(HubError) as refused:
        hub.start()
    assert "exited with status 2" in str(refused.value)
    assert "BERTH_TRUST_KEY_SECRET" in hub.log_text() and "at least 16 bytes" in hub.log_text()
    assert "Traceback" not in hub.log_text()


def test_a_port_in_use_is_refused_with_one_clear_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        serve = subprocess.run(
            [sys.executable, "-m", "registry", "serve", "--listen", f"127.0.0.1:{port}",
             "--data", str(tmp_path / "data")],
            cwd=REPO_ROOT, env=repo_env({}), capture_output=True, text=True, timeout=120,
        )
    assert serve.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in serve.stderr
    assert "Traceback" not in serve.stderr


def test_signature_policies_from_the_command_line(auth_hub, tmp_path):
    import json

    from tests.support.signatures import new_key, public_pem

    assert cli(auth_hub, "user", "add", "gina", "--password-stdin",
               stdin="gina-password\n").returncode == 0
    assert cli(auth_hub, "org", "add", "signed", "--owner", "gina").returncode == 0
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(
        {"formats": ["cosign"], "cosign": {"keys": [public_pem(new_key()).decode()]}}))
    assert "no signature policy" in cli(auth_hub, "org", "policy", "signed").stdout
    set_ = cli(auth_hub, "org", "policy", "signed", "--file", str(policy))
    assert set_.returncode == 0 and "signed: signature policy" in set_.stdout
    shown = cli(auth_hub, "org", "policy", "signed").stdout
    assert '"formats": [\n    "cosign"\n  ]' in shown
    policy.write_text(json.dumps({"formats": ["pgp"]}))
    bad = cli(auth_hub, "org", "policy", "signed", "--file", str(policy))
    assert bad.returncode == 1 and "invalid signature policy" in bad.stderr
    missing = cli(auth_hub, "repo", "policy", "signed/none")
    assert missing.returncode == 1 and "no repository" in missing.stderr
    assert cli(auth_hub, "org", "policy", "signed", "--clear").returncode == 0
    assert "no signature policy" in cli(auth_hub, "org", "policy", "signed").stdout
    assert "signed" in cli(auth_hub, "audit", "ls", "--action",
                           "namespace-signature-policy").stdout
