"""The Hub's naming rules: no namespace reads as a registry host; only GUNs lose their host."""

from __future__ import annotations

import pytest

from registry.hub.names import (
    account_name_problem,
    gun_path,
    is_namespace_name,
    repository_of_path,
    repository_of_scope,
    team_name_problem,
)


@pytest.mark.parametrize("name", ["alice", "al_ce", "carol-dev", "a", "x1", "library", "a" * 64])
def test_namespace_names(name):
    assert is_namespace_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "carol.dev",
        "localhost",
        "hub:5000",
        "Alice",
        "a--b",
        "a__b",
        "-a",
        "a_",
        "alice\n",
        "",
        "a" * 65,
        "v2",
        "_catalog",
    ],
)
def test_names_that_are_no_namespace(name):
    assert not is_namespace_name(name)
    assert account_name_problem(name) is not None


def test_library_and_reserved_words_are_no_new_account():
    assert account_name_problem("alice") is None
    assert account_name_problem("library") == "'library' is reserved"
    assert account_name_problem("localhost") == "'localhost' is reserved"


def test_team_names_may_hold_dots():
    assert team_name_problem("release.managers") is None
    assert team_name_problem("devs\n") is not None


def test_a_path_is_never_host_stripped():
    assert repository_of_path("busybox") == "library/busybox"
    assert repository_of_path("alice/app") == "alice/app"
    assert repository_of_path("alice/team/my.app") == "alice/team/my.app"
    assert repository_of_path("carol.dev/secret") is None
    assert repository_of_path("localhost/app") is None
    assert repository_of_path("alice/app\n") is None


def test_a_gun_loses_its_host_and_nothing_else():
    assert gun_path("127.0.0.1:5000/team/app") == "team/app"
    assert gun_path("team/app") == "team/app"
    assert repository_of_scope("hub.example:5000/alice/app") == "alice/app"
    assert repository_of_scope("localhost/busybox") == "library/busybox"
    assert repository_of_scope("busybox") == "library/busybox"
    assert repository_of_scope("carol.dev/secret") == "library/secret"
    assert repository_of_scope("hub.example/carol.dev/secret") is None
    assert repository_of_scope("hub.example") == "library/hub.example"
