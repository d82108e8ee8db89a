"""Pure parts of `history`, `network ls --filter` and the prune filters, checked against
what dockerd and the docker CLI answer."""

from __future__ import annotations

import io
import tarfile
from datetime import UTC, datetime, timedelta

import pytest

from runtime_client.container_errors import InvalidOptionError
from runtime_client.errors import RuntimeClientError, UsageError
from runtime_client.images.diffsize import layer_diff_size
from runtime_client.network.model import Network
from runtime_client.ops.history import history_entries, history_rows
from runtime_client.ops.network_filters import parse_network_filters
from runtime_client.ops.prune_filters import (
    CONTAINER_KEYS,
    IMAGE_KEYS,
    parse_prune_filters,
)

NOW = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC)
IMAGE_ID = "sha256:" + "ab" * 32

# -- history --------------------------------------------------------------------------------


def test_history_matches_layers_to_entries_and_names_only_the_top():
    config = {"history": [
        {"created": "2024-01-01T00:00:00Z", "created_by": "ADD a"},
        {"created": "2024-01-01T00:00:00Z", "created_by": "ENV x", "empty_layer": True},
        {"created": "2026-12-04T11:50:00Z", "created_by": "RUN b", "comment": "c"},
        {"created": "2026-12-04T11:59:30Z", "created_by": "CMD", "empty_layer": True},
    ]}
    entries = history_entries(config, IMAGE_ID, [100, 2500])
    assert [(e.id, e.created_by, e.size) for e in entries] == [
        (IMAGE_ID, "CMD", 0), ("<missing>", "RUN b", 2500), ("<missing>", "ENV x", 0),
        ("<missing>", "ADD a", 100)]
    rows = history_rows(entries, NOW)
    assert [(r["ID"], r["CreatedSince"], r["Size"]) for r in rows] == [
        ("abababababab", "30 seconds ago", "0B"), ("<missing>", "10 minutes ago", "2.5kB"),
        ("<missing>", "2 years ago", "0B"), ("<missing>", "2 years ago", "100B")]
    plain = history_rows(entries, NOW, human=False, no_trunc=True)
    assert plain[0]["ID"] == IMAGE_ID
    assert plain[1]["CreatedSince"] == plain[1]["CreatedAt"] == "2026-12-04T11:50:00Z"
    assert plain[1]["Size"] == "2500"


def test_history_without_entries_is_empty_and_too_many_layers_is_dockers_error():
    assert history_entries({}, IMAGE_ID, [1]) == []
    with pytest.raises(RuntimeClientError, match="too many non-empty layers"):
        history_entries({"history": [{}, {}]}, IMAGE_ID, [1])


def test_created_by_is_cut_to_45_columns_and_tabs_become_spaces():
    step = "/bin/sh -c\t" + "x" * 60
    [row] = history_rows(history_entries({"history": [{"created_by": step}]}, IMAGE_ID, [0]),
                         NOW)
    assert row["CreatedBy"] == ("/bin/sh -c " + "x" * 60)[:44] + "…"
    assert len(row["CreatedBy"]) == 45
    assert row["CreatedSince"] == ""  # no date, or one before 2000: no age


def test_layer_size_counts_files_and_symlinks_once():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, kind, data in (
            ("bin", tarfile.DIRTYPE, b""), ("bin/a", tarfile.REGTYPE, b"x" * 10),
            ("bin/b", tarfile.LNKTYPE, b""), ("bin/c", tarfile.SYMTYPE, b""),
            ("bin/.wh.d", tarfile.REGTYPE, b""),
        ):
            info = tarfile.TarInfo(name)
            info.type, info.size = kind, len(data)
            info.linkname = {"bin/b": "bin/a", "bin/c": "a-target"}.get(name, "")
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    assert layer_diff_size(buffer) == 10 + len("a-target")


# -- network ls --filter --------------------------------------------------------------------


NETWORKS = [
    Network("bridge", "1" * 64, "bridge"), Network("host", "2" * 64, "host"),
    Network("none", "3" * 64, "null"),
    Network("web", "a1" * 32, "bridge", labels={"team": "a", "tier": "front"}),
    Network("db", "b2" * 32, "bridge", labels={"team": "b"}),
    Network("web-2", "c3" * 32, "bridge"),
]


def _names(*raw: str, busy: tuple[str, ...] = ("db",)) -> list[str]:
    kept = parse_network_filters(raw).apply(NETWORKS, lambda n: n.name in busy)
    return [n.name for n in kept]


@pytest.mark.parametrize(("raw", "names"), [
    ((), ["bridge", "host", "none", "web", "db", "web-2"]),
    (("name=web",), ["web", "web-2"]), (("name=^web$",), ["web"]), (("name=(",), []),
    (("name=web", "name=db"), ["web", "db", "web-2"]),
    (("id=a1a1",), ["web"]), (("driver=null",), ["none"]), (("driver=bri",), []),
    (("label=team",), ["web", "db"]), (("label=team", "label=tier=front"), ["web"]),
    (("scope=local", "name=db"), ["db"]), (("scope=swarm",), []),
    (("type=builtin",), ["bridge", "host", "none"]), (("type=custom",), ["web", "db", "web-2"]),
    (("dangling=true",), ["web", "web-2"]), (("dangling=0",), ["bridge", "host", "none", "db"]),
    ((" Dangling = 1 ",), ["web", "web-2"]),
])
def test_network_filters_keep_what_dockerd_keeps(raw, names):
    assert _names(*raw) == names


@pytest.mark.parametrize(("raw", "error", "message"), [
    (("nonsense",), UsageError, "bad format of filter"),
    (("bogus=1",), InvalidOptionError, "Invalid filter 'bogus'"),
    (("dangling=maybe",), InvalidOptionError, "invalid value for filter 'dangling'"),
    (("dangling=1", "dangling=0"), InvalidOptionError, "more than one value"),
    (("type=other",), InvalidOptionError, "invalid filter: 'type'='other'"),
])
def test_network_filter_errors_are_dockers(raw, error, message):
    with pytest.raises(error, match=message):
        _names(*raw)


# -- prune --filter -------------------------------------------------------------------------


def _allows(raw, created=NOW - timedelta(days=2), labels=None, keys=IMAGE_KEYS):
    return parse_prune_filters(raw).validated(keys, NOW).allows(created, labels)


@pytest.mark.parametrize(("raw", "labels", "allowed"), [
    ((), {}, True), (("label=a",), {}, False), (("label=a",), {"a": "1"}, True),
    (("label=a=1", "label=b"), {"a": "1"}, False), (("label=a=2",), {"a": "1"}, False),
    (("label!=a",), {"a": "1"}, False), (("label!=a",), {}, True),
    (("label!=a=2",), {"a": "1"}, True),
    # label! spares only when all its values hold, as dockerd's MatchKVList decides.
    (("label!=a", "label!=b"), {"a": "1"}, True),
    (("label!=a", "label!=b"), {"a": "", "b": ""}, False),
])
def test_prune_labels(raw, labels, allowed):
    assert _allows(raw, labels=labels) is allowed


@pytest.mark.parametrize(("until", "allowed"), [
    ("24h", True), ("72h", False), ("2026-12-01T00:00:00Z", False), ("2026-12-03T00:00:00Z", True),
    (str(int((NOW - timedelta(days=1)).timestamp())), True),
])
def test_prune_until(until, allowed):
    assert _allows((f"until={until}",)) is allowed


def test_prune_filter_errors_follow_dockerd_order():
    with pytest.raises(UsageError, match="bad format"):
        parse_prune_filters(["label"])
    with pytest.raises(InvalidOptionError, match="Invalid filter 'dangling'"):
        _allows(("dangling=true", "until=x"), keys=CONTAINER_KEYS)
    with pytest.raises(InvalidOptionError, match='failed to parse value as time or duration: "x"'):
        _allows(("until=x",))
    with pytest.raises(InvalidOptionError, match="more than one until filter specified"):
        _allows(("until=1h", "until=2h"))


def test_dangling_false_prunes_tagged_images():
    assert parse_prune_filters(["dangling=false"]).prunes_tagged
    assert parse_prune_filters(["dangling=0", "dangling=true"]).prunes_tagged
    assert not parse_prune_filters(["dangling=true"]).prunes_tagged
