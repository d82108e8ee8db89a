"""The container half's resolve cache (`image-cache.json`) never serves a moved tag stale."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from runtime_client.config import ClientConfig, open_stores
from runtime_client.images.generation import read_generation
from runtime_client.images.store import Image
from runtime_client.ops.image_source import CACHE_FILE, StoreImageResolver
from tests.support.berth_cli import BerthCli

REGISTRY = "registry.test:5000"
NAME = f"{REGISTRY}/team/app:v1"


def _config(cmd: str) -> bytes:
    return json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": [cmd]},
                       "rootfs": {"type": "layers", "diff_ids": []}}).encode()


@pytest.fixture
def root(tmp_path: Path) -> tuple[ClientConfig, Image, Image]:
    """A root holding two images, NAME pointing at the first."""
    config = ClientConfig(tmp_path / "root", default_registry=REGISTRY)
    stores = open_stores(config)
    try:
        first = stores.images.create(_config("first"), [], tags=[NAME])
        second = stores.images.create(_config("second"), [])
    finally:
        stores.close()
    return config, first, second


def _resolve_once(config: ClientConfig, reference: str) -> str:
    resolver = StoreImageResolver(config)
    try:
        return resolver.resolve(reference).id
    finally:
        resolver.close()


def test_unchanged_names_are_answered_from_the_cache(root: tuple[ClientConfig, Image, Image]
                                                     ) -> None:
    config, first, _ = root
    assert _resolve_once(config, NAME) == str(first.id)
    cache = json.loads((config.root / CACHE_FILE).read_text())
    assert cache["refs"][NAME]["id"] == str(first.id)
    assert _resolve_once(config, NAME) == str(first.id)


def test_tag_moved_by_another_berth_while_the_database_is_open_is_not_served_stale(
        root: tuple[ClientConfig, Image, Image]) -> None:
    config, first, second = root
    assert _resolve_once(config, NAME) == str(first.id)  # the name is in the cache now

    resolver = StoreImageResolver(config)
    try:
        # This resolver opens the database (an ID is not in the cache) ...
        assert resolver.resolve(str(second.id)).id == str(second.id)
        assert resolver.resolve(NAME).id == str(first.id)
        # ... and, while it has it open, another `berth` moves the tag.
        BerthCli(config.root)("tag", str(second.id), NAME)
    finally:
        resolver.close()

    assert _resolve_once(config, NAME) == str(second.id)


def test_database_from_before_the_generation_counter_is_upgraded(
        root: tuple[ClientConfig, Image, Image]) -> None:
    config, first, second = root
    database = config.root / "images.db"
    with sqlite3.connect(database) as conn:  # what a version 1 root holds
        for (trigger,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'"):
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute("DROP TABLE generation")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    assert read_generation(database) is None
    assert _resolve_once(config, NAME) == str(first.id)
    assert read_generation(database) is not None
    assert _resolve_once(config, NAME) == str(first.id)
    BerthCli(config.root)("tag", str(second.id), NAME)
    assert _resolve_once(config, NAME) == str(second.id)
