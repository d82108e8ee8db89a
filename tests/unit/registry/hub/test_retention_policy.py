"""The retention decision: a tag goes only when no keep-rule keeps it and no rule holds it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from registry.config_check import check_settings
from registry.hub.retention_policy import (
    RetentionPolicy,
    RetentionPolicyError,
    TagState,
    tags_to_remove,
)
from registry.settings import Settings

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def tag(name: str, pushed_hours_ago: float, pulled_days_ago: float | None = None) -> TagState:
    pulled = None if pulled_days_ago is None else NOW - timedelta(days=pulled_days_ago)
    return TagState(name, f"sha256:{name}", NOW - timedelta(hours=pushed_hours_ago), pulled)


TAGS = [
    tag("old", 50, pulled_days_ago=8),
    tag("seen", 40, pulled_days_ago=2),
    tag("v1", 30),
    tag("mid", 20),
    tag("new", 10),
]


def going(document: dict, held: set[str] = frozenset()) -> list[str]:
    policy = RetentionPolicy.from_dict(document)
    return [t.name for t in tags_to_remove(policy, TAGS, NOW, held.__contains__)]


def test_each_rule_alone() -> None:
    assert going({"keep_newest": 2}) == ["old", "seen", "v1"]
    assert going({"keep_newest": 0}) == ["mid", "new", "old", "seen", "v1"]
    assert going({"keep_pulled_days": 7}) == ["mid", "new", "old", "v1"]
    assert going({"keep_matching": ["v*", "n?w"]}) == ["mid", "old", "seen"]
    assert going({"keep_not_matching": ["[mo]*"]}) == ["mid", "old"]


def test_a_tag_is_kept_when_any_rule_keeps_it_and_held_tags_never_go() -> None:
    document = {"keep_newest": 1, "keep_pulled_days": 7, "keep_matching": ["v*"]}
    assert going(document) == ["mid", "old"]
    assert going(document, held={"old"}) == ["mid"]


def test_equal_push_times_order_by_name() -> None:
    same = [tag("b", 1), tag("a", 1), tag("c", 1)]
    policy = RetentionPolicy.from_dict({"keep_newest": 1})
    assert [t.name for t in tags_to_remove(policy, same, NOW, lambda _: False)] == ["a", "b"]


@pytest.mark.parametrize(
    "document",
    [
        {},
        [],
        {"keep_newest": -1},
        {"keep_pulled_days": 0},
        {"keep_matching": "v*"},
        {"keep_matching": [1]},
        {"keep_not_matching": ["a b"]},
        {"schedule_hours": 1},
        {"keep_newest": 1, "extra": 2},
    ],
)
def test_malformed_policies_are_refused(document) -> None:
    with pytest.raises(RetentionPolicyError):
        RetentionPolicy.from_dict(document)


def test_round_trip_keeps_only_given_rules() -> None:
    document = {"keep_newest": 3, "keep_matching": ["r-*"], "schedule_hours": 12}
    assert RetentionPolicy.from_dict(document).to_dict() == document


async def test_a_negative_check_interval_is_a_configuration_problem(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, retention_check_interval=-1).resolve()
    problems = await check_settings(settings)
    assert [p.where for p in problems if "retention" in p.where] == ["retention_check_interval"]
