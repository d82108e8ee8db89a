"""Driver fixtures for the storage contract suite: every driver runs the same tests."""

from __future__ import annotations

import pytest

from registry.storage.driver.filesystem import FilesystemDriver
from registry.storage.driver.inmemory import InMemoryDriver


def _inmemory(tmp_path):
    return InMemoryDriver()


def _filesystem(tmp_path):
    return FilesystemDriver(tmp_path / "storage")


DRIVER_FACTORIES = {"inmemory": _inmemory, "filesystem": _filesystem}


@pytest.fixture(params=sorted(DRIVER_FACTORIES))
def driver(request, tmp_path):
    return DRIVER_FACTORIES[request.param](tmp_path)
