"""Robot scopes as pure rules: patterns, actions, expiry, and login names."""

from __future__ import annotations

import pytest

from registry.auth.robots import Robot, normalise_actions, pattern_problem
from registry.hub.names import robot_name, robot_name_problem, robot_owner


def robot(*patterns: str, actions: frozenset[str] = frozenset({"pull", "push"})) -> Robot:
    return Robot(1, "acme", "ci", "robot$acme+ci", patterns, actions, expires_at=100, stamp=1)


@pytest.mark.parametrize(
    ("pattern", "inside", "outside"),
    [
        ("app", ["acme/app"], ["acme/apps", "acme/app/x", "acme/xapp", "other/app"]),
        ("ci-*", ["acme/ci-", "acme/ci-web"], ["acme/ci", "acme/ci-web/x", "acme/web-ci-x"]),
        ("team/*", ["acme/team/api"], ["acme/team", "acme/team/a/b", "acme/teams/api"]),
        ("team/**", ["acme/team/a", "acme/team/a/b/c"], ["acme/team", "acme/teamx/a"]),
        ("**", ["acme/a", "acme/a/b"], ["other/a", "acme"]),
        ("a.b", ["acme/a.b"], ["acme/axb"]),  # a dot is a dot, not any character
    ],
)
def test_a_pattern_covers_exactly_its_repositories_of_the_organisation(pattern, inside, outside):
    scoped = robot(pattern)
    assert pattern_problem(pattern) is None
    for name in inside:
        assert scoped.covers(name), name
    for name in outside:
        assert not scoped.covers(name), name


@pytest.mark.parametrize(
    "pattern", ["", "/app", "app/", "../x", "a//b", "App", "a**", "**x/y", "a b", "a:b", "a" * 256]
)
def test_malformed_patterns_are_refused(pattern):
    assert pattern_problem(pattern) is not None


def test_actions_hold_only_on_covered_repositories_of_an_organisation():
    scoped = robot("app")
    assert scoped.actions_on("acme/app", is_public=False, namespace_kind="org") == {"pull", "push"}
    assert scoped.actions_on("acme/other", is_public=False, namespace_kind="org") == frozenset()
    assert scoped.actions_on("acme/other", is_public=True, namespace_kind="org") == {"pull"}
    # A namespace that is not (or no longer) an organisation grants nothing.
    assert scoped.actions_on("acme/app", is_public=False, namespace_kind="user") == frozenset()
    assert scoped.actions_on("acme/app", is_public=False, namespace_kind=None) == frozenset()


def test_push_and_delete_include_pull_and_nothing_else_is_an_action():
    assert normalise_actions(["push"]) == {"pull", "push"}
    assert normalise_actions(["delete"]) == {"pull", "delete"}
    for wrong in ([], ["*"], ["pull", "admin"]):
        with pytest.raises(ValueError):
            normalise_actions(wrong)


def test_a_robot_expires_at_its_time():
    assert not robot("app").is_expired(99.9)
    assert robot("app").is_expired(100)


def test_robot_login_names_are_never_user_names():
    assert robot_name("acme", "ci") == "robot$acme+ci"
    assert robot_owner("robot$acme+ci") == ("acme", "ci")
    for other in ("alice", "robot$acme", "robot$acme+", "robot$Acme+ci", "robot$acme+ci\n"):
        assert robot_owner(other) is None, other
    assert robot_name_problem("acme", "ci") is None
    assert robot_name_problem("acme", "c+i") is not None
    assert robot_name_problem("acme", "x" * 60) is not None
