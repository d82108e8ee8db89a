"""A robot account with the real skopeo: it pushes inside its scope and nowhere else.

One hub process with authentication on; the organisation `acme` and its robots are made with
the `berth-hub` command line on the data directory while the hub runs. skopeo sends the robot's
login name and secret (`--dest-creds`), runs Docker's token flow and pushes; a push outside
the robot's scope, after its expiry or after `berth-hub robot rm` is refused and leaves no tag.
"""

from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.integration.test_docker_auth import berth_hub
from tests.support.http import http_request
from tests.support.hub import HubProcess
from tests.support.images import OciLayout
from tests.support.skopeo import Skopeo

pytestmark = pytest.mark.skopeo

ADMIN_PASSWORD = "admin-password-1"


@pytest.fixture(scope="module")
def robot_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    workdir = tmp_path_factory.mktemp("robot-hub")
    hub = HubProcess(workdir / "data", workdir / "hub.log", no_auth=False,
                     env={"BERTH_ADMIN_PASSWORD": ADMIN_PASSWORD})
    hub.start()
    try:
        berth_hub(hub, "user", "add", "alice", "--password-stdin", stdin="alice-password-1\n")
        berth_hub(hub, "org", "add", "acme", "--owner", "alice")
        yield hub
    finally:
        hub.stop()


def add_robot(hub: HubProcess, name: str, *options: str) -> tuple[str, str]:
    """`berth-hub robot add acme NAME ...`: the robot's login name and its secret."""
    output = berth_hub(hub, "robot", "add", "acme", name, *options).splitlines()
    assert output[0].startswith(f"robot robot$acme+{name} "), output
    return f"robot$acme+{name}", output[1]


def push(skopeo: Skopeo, layout: OciLayout, hub: HubProcess, name: str,
         login: str, secret: str) -> subprocess.CompletedProcess[str]:
    return skopeo.run("copy", "--dest-tls-verify=false", "--dest-creds", f"{login}:{secret}",
                      layout.reference, f"docker://{hub.host}/{name}:v1", check=False)


def tags(hub: HubProcess, name: str) -> int:
    """The status of the tag list of `name`, read as the admin (404: nothing was pushed)."""
    auth = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    response = http_request("GET", f"{hub.url}/v2/{name}/tags/list",
                            headers={"Authorization": f"Basic {auth}"})
    return response.status


def test_a_robot_pushes_inside_its_scope_and_is_refused_outside_it(
    robot_hub: HubProcess, skopeo: Skopeo, oci_layout: OciLayout
) -> None:
    login, secret = add_robot(robot_hub, "ci", "--repo", "app", "--repo", "team/*",
                              "--action", "push", "--expires", "1h")
    pushed = push(skopeo, oci_layout, robot_hub, "acme/app", login, secret)
    assert pushed.returncode == 0, pushed.stderr
    pushed = push(skopeo, oci_layout, robot_hub, "acme/team/api", login, secret)
    assert pushed.returncode == 0, pushed.stderr
    assert tags(robot_hub, "acme/app") == 200
    for outside in ("acme/other", "alice/app"):
        refused = push(skopeo, oci_layout, robot_hub, outside, login, secret)
        assert refused.returncode != 0
        assert "denied" in refused.stderr.lower() or "unauthorized" in refused.stderr.lower()
        assert tags(robot_hub, outside) == 404, outside
    wrong = push(skopeo, oci_layout, robot_hub, "acme/app", login, secret[:-2] + "xx")
    assert wrong.returncode != 0
    listing = berth_hub(robot_hub, "robot", "ls", "acme")
    row = next(line for line in listing.splitlines() if line.startswith(login))
    assert "pull,push" in row and "team/*" in row and "never" not in row  # last use shown


def test_a_revoked_robot_is_refused_at_once(
    robot_hub: HubProcess, skopeo: Skopeo, oci_layout: OciLayout
) -> None:
    login, secret = add_robot(robot_hub, "revoked", "--repo", "**", "--action", "push")
    pushed = push(skopeo, oci_layout, robot_hub, "acme/before-revoke", login, secret)
    assert pushed.returncode == 0, pushed.stderr
    assert berth_hub(robot_hub, "robot", "rm", "acme", "revoked").strip() == f"revoked {login}"
    refused = push(skopeo, oci_layout, robot_hub, "acme/after-revoke", login, secret)
    assert refused.returncode != 0
    assert tags(robot_hub, "acme/after-revoke") == 404
    assert login not in berth_hub(robot_hub, "robot", "ls", "acme")


def test_an_expired_robot_is_refused(
    robot_hub: HubProcess, skopeo: Skopeo, oci_layout: OciLayout
) -> None:
    lifetime = 8
    started = time.time()
    login, secret = add_robot(robot_hub, "brief", "--repo", "**", "--action", "push",
                              "--expires", f"{lifetime}s")
    pushed = push(skopeo, oci_layout, robot_hub, "acme/before-expiry", login, secret)
    assert pushed.returncode == 0, pushed.stderr
    assert time.time() - started < lifetime, "the first push took longer than the robot lived"
    time.sleep(max(0.0, started + lifetime + 1 - time.time()))
    refused = push(skopeo, oci_layout, robot_hub, "acme/after-expiry", login, secret)
    assert refused.returncode != 0
    assert tags(robot_hub, "acme/after-expiry") == 404
    assert "(expired)" in berth_hub(robot_hub, "robot", "ls", "acme")
