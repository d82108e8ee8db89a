"""Shared fixtures: a signer publishing to an in-memory trust server, and a fresh client."""

import datetime as dt
from collections.abc import Callable

import pytest

from tests.simulators.trust_remote import FakeTrustServer
from tests.unit.trust.values import GUN, NOW, passphrases
from trust.client.cache import MetadataCache
from trust.client.updater import Updater
from trust.keystore import KeyStore
from trust.signer import Repository


@pytest.fixture
def server() -> FakeTrustServer:
    return FakeTrustServer(NOW)


@pytest.fixture
def repo(server, tmp_path) -> Repository:
    repository = Repository(
        GUN, server, KeyStore(tmp_path / "author"), passphrases, clock=lambda: NOW
    )
    repository.initialize()
    return repository


@pytest.fixture
def client(server, tmp_path) -> Callable[..., Updater]:
    """Make an updater with its own cache; `at` moves its clock."""

    def make(at: dt.datetime = NOW, name: str = "client") -> Updater:
        return Updater(GUN, server, MetadataCache(tmp_path / name, GUN), clock=lambda: at)

    return make
