"""Shared fixtures: a signer publishing to an in-memory trust server, and a fresh client."""

import datetime as dt
from collections.abc import Callable

import pytest

from tests.simulators.trust_remote import FakeTrustServer
from trust.client.cache import MetadataCache
from trust.client.updater import Updater
from trust.keystore import KeyStore
from trust.signer import Repository

GUN = "hub.example:5000/team/app"
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
DIGEST_A = "a" * 64
DIGEST_B = "b" * 64


def passphrases(role: str) -> str:
    return "root-pass" if role == "root" else "repo-pass"


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
