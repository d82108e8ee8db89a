"""Driver fixtures for the storage contract suite: every driver runs the same tests."""

from __future__ import annotations

import pytest

from registry.storage.driver.filesystem import FilesystemDriver
from registry.storage.driver.inmemory import InMemoryDriver
from registry.storage.driver.s3 import S3Config, S3Driver


def _inmemory(request, tmp_path):
    return InMemoryDriver()


def _filesystem(request, tmp_path):
    return FilesystemDriver(tmp_path / "storage")


def _s3(request, tmp_path):
    server = request.getfixturevalue("s3_server")
    # The smallest part S3 allows, so the large-content test crosses part boundaries.
    config = S3Config(endpoint_url=server.endpoint_url, path_style=True, part_size=5 << 20)
    return S3Driver(server.new_bucket(), "some/prefix", config)


DRIVER_FACTORIES = {"inmemory": _inmemory, "filesystem": _filesystem, "s3": _s3}


@pytest.fixture(params=sorted(DRIVER_FACTORIES))
def driver(request, tmp_path):
    return DRIVER_FACTORIES[request.param](request, tmp_path)
