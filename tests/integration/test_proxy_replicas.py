"""The pull-through cache on two hub processes over one PostgreSQL database and one S3 bucket
(replicas behind a load balancer), Debian's Distribution as the upstream behind the
fault-injecting proxy: concurrent pulls of a missing blob through both make one upstream
fetch, and every client gets the same, whole blob.
"""

from __future__ import annotations

import hashlib
import http.client
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.test_proxy import (  # noqa: F401 - `upstream` is a fixture
    _big_layout,
    manifest,
    upstream,
    write_config,
)
from tests.support.ports import wait_until
from tests.support.reference_registry import ReferenceRegistry
from tests.support.registry_proxy import RegistryProxy
from tests.support.replicas import start_replica
from tests.support.skopeo import Skopeo

pytestmark = [pytest.mark.slow, pytest.mark.skopeo]

MIB = 1024 * 1024


def pull_blob(url: str, sent: list[str]) -> tuple[int, str]:
    """Bytes and sha256 of a whole blob GET; `sent` gets an entry once the request is out."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=300)
    try:
        connection.request("GET", parts.path)
        sent.append(url)
        response = connection.getresponse()
        assert response.status == 200, response.read()
        digest, size = hashlib.sha256(), 0
        while chunk := response.read(MIB):
            digest.update(chunk)
            size += len(chunk)
        assert size == int(response.headers["Content-Length"])
        return size, "sha256:" + digest.hexdigest()
    finally:
        connection.close()


def test_concurrent_pulls_through_two_replicas_make_one_upstream_fetch(
    tmp_path: Path,
    hub_factory,
    backend,
    upstream: ReferenceRegistry,  # noqa: F811
    skopeo: Skopeo,
) -> None:
    layout, image = _big_layout(tmp_path, 16 * MIB)
    skopeo.copy(layout.reference, f"docker://{upstream.host}/team/big:v1")
    layer = image.layers[0]
    front = RegistryProxy(upstream.host, throttle=8 * MIB).start()

    def upstream_gets() -> int:
        return len([r for r in front.requests
                    if r.method == "GET" and r.path.endswith(layer.digest)])  # fmt: skip

    try:
        config = write_config(tmp_path / "berth.toml", {"up": {"url": f"http://{front.host}"}})
        replicas = [
            start_replica(hub_factory, backend, extra_args=["--config", str(config)])
            for _ in range(2)
        ]
        assert manifest(replicas[0], "up/team/big", "v1").status == 200
        urls = [f"{hub.url}/v2/up/team/big/blobs/{layer.digest}" for hub in replicas]
        front.hold()  # the fetch the first pull starts waits at the upstream's door
        sent: list[str] = []
        with ThreadPoolExecutor(20) as pool:
            first = pool.submit(pull_blob, urls[0], sent)
            assert wait_until(lambda: upstream_gets() == 1, timeout=60)
            rest = [pool.submit(pull_blob, urls[i % 2], sent) for i in range(19)]
            # Every request reached a replica while that one fetch has not begun to answer.
            assert wait_until(lambda: len(sent) == 20, timeout=60)
            front.release()
            results = [future.result(timeout=300) for future in (first, *rest)]
        assert results == [(len(layer.gzipped), layer.digest)] * 20
        assert upstream_gets() == 1
    finally:
        front.stop()
