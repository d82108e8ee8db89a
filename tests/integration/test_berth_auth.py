"""`berth login / logout / search` and authenticated pull and push (issue 5).

Against the real hub (token auth, private and official repositories, v1 search), and against
the reference registry behind a proxy (`tests.support.registry_proxy`) that adds Docker's token
protocol or Basic auth and serves chosen v1 search results, to cover both auth schemes and
every search filter. Docker's own CLI logs in through the proxy to show that the credentials
file is shared.
"""

from __future__ import annotations

import base64
import json
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.berth_cli import BerthCli
from tests.support.commands import run_command
from tests.support.dockerd import docker_cli
from tests.support.images import OciLayout
from tests.support.reference_registry import ReferenceRegistry
from tests.support.registry_proxy import RegistryProxy
from tests.support.skopeo import Skopeo

pytestmark = pytest.mark.slow

USER, PASSWORD = "alice", "s3cret-pass"


@pytest.fixture
def berth(tmp_path: Path) -> BerthCli:
    """The berth CLI with an empty root (its Docker config lives inside it)."""
    return BerthCli(tmp_path / "berth-root")


def start_private(reference_registry: ReferenceRegistry, skopeo: Skopeo,
                  oci_layout: OciLayout, scheme: str) -> RegistryProxy:
    """The reference registry behind token (or Basic) auth, holding `private/busybox:v1`."""
    skopeo.run("copy", "--dest-tls-verify=false", oci_layout.reference,
               f"docker://{reference_registry.host}/private/busybox:v1")
    return RegistryProxy(reference_registry.host, credentials=(USER, PASSWORD),
                         auth_scheme=scheme).start()


@pytest.fixture(params=["bearer", "basic"])
def private_registry(request: pytest.FixtureRequest, reference_registry: ReferenceRegistry,
                     skopeo: Skopeo, oci_layout: OciLayout) -> Iterator[RegistryProxy]:
    """`start_private` with each auth scheme."""
    proxy = start_private(reference_registry, skopeo, oci_layout, request.param)
    try:
        yield proxy
    finally:
        proxy.stop()


def test_login_pull_push_logout(berth: BerthCli, private_registry: RegistryProxy) -> None:
    host = private_registry.host
    result = berth("pull", f"{host}/private/busybox:v1", check=False)
    assert result.returncode == 1 and "unauthorized" in result.stderr
    result = berth("login", "-u", USER, "-p", "wrong", host, check=False)
    assert result.returncode == 1 and "unauthorized" in result.stderr
    result = berth("login", "-u", USER, "--password-stdin", host, input=PASSWORD.encode())
    assert result.stdout == "Login Succeeded\n"
    config_path = berth.root / "docker-config" / "config.json"
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
    saved = json.loads(config_path.read_text())["auths"][host]["auth"]
    assert base64.b64decode(saved).decode() == f"{USER}:{PASSWORD}"
    berth("pull", f"{host}/private/busybox:v1")
    berth("tag", f"{host}/private/busybox:v1", f"{host}/private/copy:v2")
    berth("push", f"{host}/private/copy:v2")
    if private_registry.auth_scheme == "bearer":
        assert "repository:private/busybox:pull" in private_registry.token_scopes
        assert "repository:private/copy:pull,push" in private_registry.token_scopes
    assert berth("logout", host).stdout == f"Removing login credentials for {host}\n"
    assert host not in json.loads(config_path.read_text())["auths"]
    assert berth("logout", host).stdout == f"Not logged in to {host}\n"
    berth("rmi", f"{host}/private/copy:v2", f"{host}/private/busybox:v1")
    assert berth("pull", f"{host}/private/busybox:v1", check=False).returncode == 1


def test_docker_login_is_shared_with_berth(berth: BerthCli, dockerd,
                                           reference_registry: ReferenceRegistry,
                                           skopeo: Skopeo, oci_layout: OciLayout) -> None:
    proxy = start_private(reference_registry, skopeo, oci_layout, "bearer")
    try:
        env = {**dockerd.env(), "DOCKER_CONFIG": str(berth.root / "docker-config")}
        run_command([str(docker_cli()), "login", "-u", USER, "--password-stdin", proxy.host],
                    env=env, input=PASSWORD.encode())
        berth("pull", f"{proxy.host}/private/busybox:v1")
    finally:
        proxy.stop()


def test_search_table_filters_and_limit(berth: BerthCli,
                                        reference_registry: ReferenceRegistry) -> None:
    results = [
        {"name": "library/busybox", "description": "Busybox base image, " * 4,
         "star_count": 120, "is_official": True, "is_automated": False},
        {"name": "alice/busybox-tools", "description": "Tools", "star_count": 3,
         "is_official": False, "is_automated": False},
        {"name": "bob/nginx", "description": "web", "star_count": 50,
         "is_official": False, "is_automated": False},
    ]
    proxy = RegistryProxy(reference_registry.host, search_results=results).start()
    try:
        out = berth("search", f"{proxy.host}/busybox").stdout.splitlines()
        assert out[0].split() == ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"]
        assert [line.split()[0] for line in out[1:]] == ["library/busybox",
                                                         "alice/busybox-tools"]
        assert "…" in out[1] and "[OK]" in out[1] and "120" in out[1]
        out = berth("search", "--filter", "is-official=true", f"{proxy.host}/busybox").stdout
        assert [line.split()[0] for line in out.splitlines()[1:]] == ["library/busybox"]
        out = berth("search", "--filter", "stars=10", "--format", "{{.Name}}",
                    f"{proxy.host}/b").stdout
        assert out.split() == ["library/busybox", "bob/nginx"]
        out = berth("search", "--limit", "1", "--format", "json", f"{proxy.host}/busybox")
        assert [json.loads(line)["Name"] for line in out.stdout.splitlines()] == \
            ["library/busybox"]
        assert any("/v1/search?" in r.path and "n=1" in r.path for r in proxy.requests)
    finally:
        proxy.stop()


def test_login_push_pull_search_against_the_hub(berth: BerthCli, hub_factory, tmp_path: Path,
                                                oci_layout: OciLayout) -> None:
    """The real hub: token auth, private repositories, cross-repository mount, v1 search."""
    hub = hub_factory.start(no_auth=False, env={"BERTH_ADMIN_PASSWORD": "admin-secret-1"})
    archive = tmp_path / "layout.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(oci_layout.path, arcname=".")
    image_id = berth("load", "-i", str(archive)).stdout.split()[-1]
    private = f"{hub.host}/admin/app:1"
    berth("tag", image_id, private)
    result = berth("push", private, check=False)
    assert result.returncode == 1 and "unauthorized: authentication required" in result.stderr
    result = berth("login", "-u", "admin", "-p", "wrong-password", hub.host, check=False)
    assert result.returncode == 1 and "unauthorized" in result.stderr
    assert berth("login", "-u", "admin", "--password-stdin", hub.host,
                 input=b"admin-secret-1").stdout == "Login Succeeded\n"
    berth("push", private)
    official = f"{hub.host}/library/busybox:1"
    berth("tag", image_id, official)
    assert berth("push", official).stderr.count("Mounted from admin/app") == 3
    search = berth("search", "--format", "{{.Name}} {{.IsOfficial}}", f"{hub.host}/busybox")
    assert search.stdout.splitlines() == ["busybox [OK]"]
    # The saved login finds the user's own private repository, as `docker search` does.
    mine = berth("search", "--format", "{{.Name}}", f"{hub.host}/app").stdout
    assert mine.split() == ["admin/app"]
    berth("logout", hub.host)
    assert berth("search", "--format", "{{.Name}}", f"{hub.host}/app").stdout == ""
    other = BerthCli(tmp_path / "anonymous")
    other("pull", official)  # official images are public
    result = other("pull", private, check=False)
    assert result.returncode == 1 and "unauthorized" in result.stderr
