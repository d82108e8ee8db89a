"""The web interface in a real headless Chromium against a real `berth-hub serve` process.

One hub with authentication for the module, users `alice` and `bob`, and images pushed by
skopeo: `alice/webapp:1.0` (signed with Docker Content Trust by the trust signer library) and
`:2.0` (public), `alice/secret:1` (public until a test makes it private). Screenshots of every
audited page go to `$BERTH_TEST_ARTIFACTS/web-screenshots`, or to the session's pytest
temporary directory.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.browser import Browser, axe_source, new_chromium
from tests.support.hub import HubProcess
from tests.support.images import OciLayout
from tests.support.skopeo import Skopeo
from trust.keystore import KeyStore
from trust.remote import HttpRemoteStore
from trust.remote_auth import TokenAuthenticator
from trust.signer import Repository

ADMIN_PASSWORD = "admin-browser-1"
PASSWORD = "correct-horse-9"


def api(hub: HubProcess, method: str, path: str, body: dict, user: str, password: str) -> int:
    """Call the Hub JSON API with basic credentials; the status."""
    request = urllib.request.Request(
        hub.url + path, data=json.dumps(body).encode(), method=method,
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def push(skopeo: Skopeo, layout: OciLayout, hub: HubProcess, name: str) -> None:
    skopeo.run("copy", "--dest-tls-verify=false", "--dest-creds", f"alice:{PASSWORD}",
               layout.reference, f"docker://{hub.host}/{name}")


def sign(hub: HubProcess, layout: OciLayout, name: str, tag: str, keys: Path) -> None:
    """Sign `name:tag` (the layout's root manifest) as alice, through the hub's trust routes."""
    gun = f"{hub.host}/{name}"
    remote = HttpRemoteStore(hub.url, gun, authenticator=TokenAuthenticator("alice", PASSWORD))
    author = Repository(gun, remote, KeyStore(keys), lambda role: "signing-pass-1")
    author.initialize()
    payload = layout.blobs[layout.root_digest]
    author.sign_target(tag, layout.root_digest.removeprefix("sha256:"), len(payload))


@pytest.fixture(scope="module")
def web_hub(tmp_path_factory, skopeo: Skopeo, oci_layout: OciLayout) -> Iterator[HubProcess]:
    workdir = tmp_path_factory.mktemp("web-hub")
    hub = HubProcess(workdir / "data", workdir / "hub.log", no_auth=False,
                     env={"BERTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
                          # the webhook page's receiver is on loopback
                          "BERTH_WEBHOOK_ALLOWED_TARGETS": "127.0.0.1"})
    hub.start()
    try:
        for user in ("alice", "bob"):
            api(hub, "POST", "/api/v1/users", {"name": user, "password": PASSWORD},
                "admin", ADMIN_PASSWORD)
        for name in ("alice/webapp:1.0", "alice/webapp:2.0", "alice/secret:1"):
            push(skopeo, oci_layout, hub, name)
        for repository in ("alice/webapp", "alice/secret"):
            api(hub, "PATCH", f"/api/v1/repositories/{repository}",
                {"is_public": True, "description": f"# {repository}\n\nA test image."},
                "alice", PASSWORD)
        sign(hub, oci_layout, "alice/webapp", "1.0", workdir / "trust-keys")
        yield hub
    finally:
        hub.stop()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    root = os.environ.get("BERTH_TEST_ARTIFACTS")
    path = Path(root) / "web-screenshots" if root else tmp_path_factory.mktemp("web-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def axe() -> str:
    return axe_source()


@pytest.fixture
def browsers(web_hub, screenshots, axe, tmp_path) -> Iterator[Callable[[], Browser]]:
    """`browsers()` opens one more Chromium with a fresh profile; all quit at the end."""
    drivers = []

    def make() -> Browser:
        driver = new_chromium(tmp_path / f"profile-{len(drivers)}")
        drivers.append(driver)
        return Browser(driver, web_hub.url, screenshots, axe)

    yield make
    for driver in drivers:
        driver.quit()
