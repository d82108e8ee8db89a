"""Listings and prunes as Docker answers them: `history`, `network ls --filter`, and
`image prune`/`system prune` with filters, each run against dockerd (the `docker` fixture) and
berth with the same arguments, comparing exit codes and output.

Every test removes what it made in a `finally`, and scopes its queries to names or labels of
its own, so what other tests of the module leave behind cannot change the answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.berth_cli import BerthCli
from tests.support.dockerd import DockerDaemon
from tests.support.images import (
    CREATED,
    DOCKER_ARCHIVE_TAG,
    PLATFORMS,
    BuiltImage,
    build_image,
    canonical_json,
    write_docker_archive,
)

pytestmark = [pytest.mark.root, pytest.mark.docker, pytest.mark.slow]

HISTORY_TAG = "berth-hist/img:v1"
LONG_STEP = ("/bin/sh -c #(nop) ADD file:4f3f7a9d2c1b0e8a6d5c4b3a29180f7e6d5c4b3a2918 in / ")


def _history_image() -> BuiltImage:
    """The test image's layers under a config whose history has empty-layer steps, comments,
    a tab and a CREATED BY longer than the table shows."""
    base = build_image()
    _, etc, data = base.layers
    history = [
        {"created": CREATED, "created_by": LONG_STEP},
        {"created": CREATED, "created_by": "/bin/sh -c #(nop)\tENV A=1", "empty_layer": True,
         "comment": "set A"},
        {"created": CREATED, "created_by": etc.created_by, "comment": "buildkit.dockerfile.v0"},
        {"created": "2025-06-01T12:00:00Z", "created_by": data.created_by},
        {"created": "2025-06-01T12:00:01.5Z", "created_by": '/bin/sh -c #(nop)  CMD ["sh"]',
         "empty_layer": True},
    ]
    config = canonical_json({
        **PLATFORMS["amd64"],
        "created": "2025-06-01T12:00:01.5Z",
        "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in base.layers]},
        "history": history,
    })
    return BuiltImage("amd64", base.layers, config, b"")


@pytest.fixture
def history_image(docker: DockerDaemon, clean: BerthCli, tmp_path: Path) -> Iterator[str]:
    """`HISTORY_TAG` loaded into dockerd and berth (the same image ID on both), removed after."""
    archive = write_docker_archive(tmp_path / "history.tar", _history_image(), HISTORY_TAG)
    try:
        docker.run("load", "-i", str(archive))
        clean("load", "-i", str(archive))
        yield HISTORY_TAG
    finally:
        docker.run("rmi", HISTORY_TAG, check=False)
        clean("rmi", HISTORY_TAG, check=False)


@pytest.mark.parametrize("args", [
    ("history",), ("image", "history"), ("history", "-q"), ("history", "--no-trunc"),
    ("history", "-q", "--no-trunc"), ("history", "-H=false"),
    ("history", "--human=false", "--no-trunc"), ("history", "--format", "json"),
    ("history", "--format", "{{.ID}}: {{.CreatedBy}} {{.Size}} {{.Comment}}"),
    ("history", "--format", "table {{.ID}}\t{{.CreatedAt}}\t{{.Comment}}"),
    ("history", "--format", "table"), ("history", "-q", "--format", "{{.Size}}"),
    ("history", "--format", "{{.Nope}}"), ("history", "--format", "{{.ID"),
], ids=lambda args: " ".join(args))
def test_history_matches(docker: DockerDaemon, clean: BerthCli, history_image: str,
                         args: tuple[str, ...]) -> None:
    d = docker.run(*args, history_image, check=False)
    b = clean(*args, history_image, check=False)
    assert d.returncode == 0 or "Nope" in args[-1] or args[-1].endswith("ID")
    assert (b.returncode, b.stdout, b.stderr) == (d.returncode, d.stdout, d.stderr)


@pytest.mark.parametrize("args", [
    ("images", "--format", "{{.Repository}} {{.Size}} {{.VirtualSize}}"),
    ("image", "inspect", "--format", "{{.Size}}"),
], ids=lambda args: " ".join(args))
def test_image_sizes_are_unpacked_sizes_as_in_docker(docker: DockerDaemon, clean: BerthCli,
                                                     history_image: str,
                                                     args: tuple[str, ...]) -> None:
    d = docker.run(*args, history_image)
    b = clean(*args, history_image)
    assert b.stdout == d.stdout


def test_history_of_an_unknown_image_matches(docker: DockerDaemon, clean: BerthCli) -> None:
    for name in ("berth-hist/nosuch", "berth-hist/nosuch:v2"):
        d = docker.run("history", name, check=False)
        b = clean("history", name, check=False)
        assert d.returncode == 1
        assert (b.returncode, b.stdout, b.stderr) == (d.returncode, d.stdout, d.stderr)


NETWORK_QUERIES = [
    ("name=nlf-",), ("name=nlf-a",), ("name=^nlf-[ab]$",), ("name=nlf-(",),
    ("name=nlf-", "label=nlf"), ("name=nlf-", "label=nlf=two"),
    ("name=nlf-", "label=nlf", "label=other"), ("name=nlf-", "label=other=y"),
    ("name=nlf-", "driver=bridge"), ("name=nlf-", "driver=null"), ("driver=null",),
    ("name=nlf-", "scope=local"), ("name=nlf-", "scope=swarm"),
    ("name=nlf-", "type=custom"), ("name=^(host|none)$", "type=builtin"),
    ("name=^(host|none|nlf-a)$", "type=custom", "type=builtin"),
    ("name=nlf-", "dangling=true"), ("name=nlf-", "dangling=1"),
    ("name=^(none|nlf-.*)$", "dangling=false"), ("name=nlf-", "DANGLING= true "),
    ("name=nlf-", "dangling=maybe"), ("name=nlf-", "dangling=true", "dangling=false"),
    ("name=nlf-", "type=bogus"), ("bogus=1",), ("nonsense",),
]


def test_network_ls_filters_match(docker: DockerDaemon, clean: BerthCli, image: str) -> None:
    nets = {"nlf-a": ("--label", "nlf=one"), "nlf-b": ("--label", "nlf=two", "--label",
                                                       "other=x"), "nlf-c": ()}
    outcomes = []
    for tool, img in ((docker.run, DOCKER_ARCHIVE_TAG), (clean, image)):
        try:
            for name, labels in nets.items():
                tool("network", "create", *labels, name)
            # A running container on nlf-b and a created one on nlf-c (dockerd 20.10 counts
            # neither for `dangling`).
            tool("run", "-d", "--name", "nlf-box", "--net", "nlf-b", img, "sleep", "60")
            tool("create", "--name", "nlf-gone", "--net", "nlf-c", img, "true")
            ids = {name: tool("network", "inspect", "-f", "{{.Id}}", name).stdout.strip()
                   for name in nets}
            seen = []
            # Each side's own IDs, shown as placeholders in what is compared.
            id_queries = {("id=<nlf-a prefix>",): (f"id={ids['nlf-a'][:10]}",),
                          ("name=nlf-", "id=<nlf-b>"): ("name=nlf-", f"id={ids['nlf-b']}")}
            for shown in [*NETWORK_QUERIES, *id_queries]:
                query = id_queries.get(shown, shown)
                flags = [arg for value in query for arg in ("--filter", value)]
                result = tool("network", "ls", *flags, "--format", "{{.Name}} {{.Driver}} "
                              "{{.Scope}}", check=False)
                error = result.stderr if result.returncode == 1 else ""
                seen.append((shown, result.returncode, result.stdout, error))
            quiet = tool("network", "ls", "-q", "--filter", "name=nlf-a").stdout
            whole = tool("network", "ls", "-q", "--no-trunc", "--filter", "name=nlf-a").stdout
            table = tool("network", "ls", "--no-trunc", "--filter", "name=nlf-a").stdout
            seen.append(("ids", quiet == ids["nlf-a"][:12] + "\n", whole == ids["nlf-a"] + "\n",
                         table.replace(ids["nlf-a"], "<id>")))
        finally:
            tool("rm", "-f", "nlf-box", "nlf-gone", check=False)
            tool("network", "rm", *nets, check=False)
        outcomes.append(seen)
    docker_seen, berth_seen = outcomes
    assert docker_seen[0][2] == "nlf-a bridge local\nnlf-b bridge local\nnlf-c bridge local\n"
    for theirs, ours in zip(docker_seen, berth_seen, strict=True):
        assert ours == theirs, ours[0]


# Five images on the test image's layers, all labelled `berth-prunef` (every prune below asks
# for that label, so nothing of other tests can go): (tag or None for dangling, labels,
# created).
PRUNE_IMAGES = {
    "d-old-one": (None, {"pf": "one"}, "2024-01-01T00:00:00Z"),
    "d-new-two": (None, {"pf": "two", "other": "x"}, "2025-06-01T00:00:00Z"),
    "d-new-bare": (None, {}, "2025-06-01T00:00:00Z"),
    "t-old-one": ("berth-prunef/t-old-one:v1", {"pf": "one"}, "2024-01-01T00:00:00Z"),
    "t-new-two": ("berth-prunef/t-new-two:v1", {"pf": "two"}, "2025-06-01T00:00:00Z"),
}
SCOPE = ("--filter", "label=berth-prunef")
PRUNE_QUERIES = [
    ("image", "prune", "-f", *SCOPE),
    ("image", "prune", "-f", *SCOPE, "--filter", "label=pf=two"),
    ("image", "prune", "-f", *SCOPE, "--filter", "label!=pf=two"),
    ("image", "prune", "-f", *SCOPE, "--filter", "label!=pf"),
    ("image", "prune", "-f", "-a", *SCOPE, "--filter", "until=2025-01-01T00:00:00Z"),
    ("image", "prune", "-f", "-a", *SCOPE, "--filter", "until=1735689600"),
    ("image", "prune", "-f", *SCOPE, "--filter", "until=24h"),
    ("image", "prune", "-f", *SCOPE, "--filter", "dangling=false", "--filter", "label=pf=one"),
    ("image", "prune", "-f", *SCOPE, "--filter", "until=bogus"),
    ("image", "prune", "-f", *SCOPE, "--filter", "until=1h", "--filter", "until=2h"),
    ("image", "prune", "-f", *SCOPE, "--filter", "bogus=1"),
    ("system", "prune", "-f", *SCOPE),
    ("system", "prune", "-f", "-a", *SCOPE, "--filter", "label!=pf=one"),
    ("system", "prune", "-f", "-a", *SCOPE, "--filter", "until=2025-01-01"),
    ("system", "prune", "-f", *SCOPE, "--filter", "dangling=true"),
    ("system", "prune", "-f", "--volumes", *SCOPE, "--filter", "until=1h"),
]


def _labelled_image(labels: dict[str, str], created: str) -> BuiltImage:
    base = build_image()
    config = canonical_json({
        **PLATFORMS["amd64"],
        "created": created,
        "config": {"Cmd": ["sh"], "Labels": {"berth-prunef": "1", **labels}},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in base.layers]},
        "history": [{"created": created, "created_by": layer.created_by}
                    for layer in base.layers],
    })
    return BuiltImage("amd64", base.layers, config, b"")


@pytest.fixture(scope="module")
def prune_archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, Path]]:
    """Each of `PRUNE_IMAGES` as a `docker load` archive, with its image ID."""
    folder = tmp_path_factory.mktemp("prune-images")
    archives = {}
    for name, (tag, labels, created) in PRUNE_IMAGES.items():
        built = _labelled_image(labels, created)
        path = write_docker_archive(folder / f"{name}.tar", built, tag)
        archives[name] = (built.config_digest, path)
    return archives


@pytest.mark.parametrize("query", PRUNE_QUERIES, ids=lambda q: " ".join(q[3:] if q[0] ==
                                                                         "system" else q[2:]))
def test_prune_filters_match(docker: DockerDaemon, clean: BerthCli, image: str,
                             prune_archives: dict[str, tuple[str, Path]],
                             query: tuple[str, ...]) -> None:
    ids = {image_id: name for name, (image_id, _) in prune_archives.items()}
    outcomes = []
    for tool in (docker.run, clean):
        try:
            for _, archive in prune_archives.values():
                tool("load", "-i", str(archive))
            result = tool(*query, check=False)
            left = sorted(name for image_id, name in ids.items()
                          if tool("image", "inspect", image_id, check=False).returncode == 0)
            error = result.stderr if result.returncode else ""
            outcomes.append((result.returncode, error, left))
        finally:
            tool("rmi", "-f", *ids, check=False)
    theirs, ours = outcomes
    assert ours == theirs


def test_system_prune_filters_reach_containers_and_networks(docker: DockerDaemon,
                                                            clean: BerthCli, image: str) -> None:
    outcomes = []
    for tool, img in ((docker.run, DOCKER_ARCHIVE_TAG), (clean, image)):
        names = ("spf-labelled", "spf-other", "spf-bare")
        try:
            tool("create", "--name", "spf-labelled", "--label", "berth-prunef=1", "--net",
                 "none", img, "true")
            tool("create", "--name", "spf-other", "--label", "berth-prunef=2", "--net",
                 "none", img, "true")
            tool("create", "--name", "spf-bare", "--net", "none", img, "true")
            tool("network", "create", "--label", "berth-prunef=1", "spf-net-labelled")
            tool("network", "create", "--label", "berth-prunef=2", "spf-net-other")
            prompt = tool("system", "prune", "--filter", "label=berth-prunef",
                          "--filter", "label!=berth-prunef=2", "--filter", "until=1h",
                          input=b"n\n").stdout
            tool("system", "prune", "-f", "--filter", "label=berth-prunef", "--filter",
                 "label!=berth-prunef=2")
            left = [name for name in names
                    if tool("container", "inspect", name, check=False).returncode == 0]
            nets = tool("network", "ls", "--format", "{{.Name}}", "--filter", "name=spf-").stdout
            outcomes.append((prompt, left, nets))
        finally:
            tool("rm", "-f", *names, check=False)
            tool("network", "rm", "spf-net-labelled", "spf-net-other", check=False)
    theirs, ours = outcomes
    assert theirs[1] == ["spf-other", "spf-bare"]
    assert ours == theirs
