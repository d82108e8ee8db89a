"""dockerd with `registry-mirrors` naming a hub whose mirror namespace proxies Distribution.

dockerd asks the mirror for `library/<name>`, as it would Docker Hub; the hub serves it from
its `[proxy] mirror` namespace. dockerd's own fallback to Docker Hub goes to a dead proxy on
loopback (`HTTPS_PROXY`), so nothing leaves the machine whatever happens.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_proxy import start_hub, upstream, wait_stored  # noqa: F401
from tests.support.dockerd import DockerDaemon, DockerUnavailableError
from tests.support.images import BuiltImage, OciLayout
from tests.support.reference_registry import ReferenceRegistry
from tests.support.skopeo import Skopeo

pytestmark = [pytest.mark.skopeo, pytest.mark.slow]

DEAD_PROXY = "http://127.0.0.1:9"  # discard port: nothing listens, connections are refused


def test_dockerd_pulls_through_the_hub_as_its_registry_mirror(
    tmp_path: Path, upstream: ReferenceRegistry, skopeo: Skopeo,  # noqa: F811
    oci_layout: OciLayout, built_image: BuiltImage,
) -> None:
    skopeo.copy(oci_layout.reference, f"docker://{upstream.host}/library/berth-mirror:v1")
    hub = start_hub(tmp_path, {"hub": {"url": f"http://{upstream.host}"}}, mirror="hub")
    try:
        try:
            daemon = DockerDaemon.start(
                config={"registry-mirrors": [hub.url]},
                env={"HTTPS_PROXY": DEAD_PROXY, "HTTP_PROXY": DEAD_PROXY,
                     "NO_PROXY": "127.0.0.1,localhost"},
            )
        except DockerUnavailableError as exc:
            pytest.skip(str(exc))
        try:
            daemon.run("pull", "berth-mirror:v1")
            image_id = daemon.run("image", "inspect", "--format", "{{.Id}}", "berth-mirror:v1")
            assert image_id.stdout.strip() == built_image.config_digest
        finally:
            daemon.stop()
        # The layers are in the hub's storage, cached under the mirror namespace.
        for layer in built_image.layers:
            assert wait_stored(hub, layer.digest) == layer.gzipped
        assert "hub/library/berth-mirror" in hub.log_text()
    finally:
        hub.stop()
