"""`berth image ls / inspect / tag / rm / prune` through the real CLI entry point."""

from __future__ import annotations

import io
import json

import pytest

from runtime_client.cli.main import run
from runtime_client.content.store import ContentStore
from runtime_client.images.store import ImageStore
from tests.unit.runtime_client.test_image_store import make_image

REGISTRY = "registry.test:5000"


class Berth:
    def __init__(self, root):
        self.root = root
        self.env = {"BERTH_DEFAULT_REGISTRY": REGISTRY, "HOME": str(root)}

    def __call__(self, *argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = run(["--root", str(self.root), *argv], stdin=io.BytesIO(stdin), stdout=out,
                   stderr=err, env=self.env)
        return code, out.getvalue(), err.getvalue()


@pytest.fixture
def berth(tmp_path):
    content = ContentStore(tmp_path)
    images = ImageStore(tmp_path, content, REGISTRY)
    shared = (b"shared-base",)
    images.create(*make_image(content, *shared, b"app"), tags=[f"{REGISTRY}/team/app:1"])
    images.create(*make_image(content, *shared, b"tool"), tags=[f"{REGISTRY}/tool:latest"])
    images.close()
    return Berth(tmp_path)


def test_images_table_and_quiet(berth):
    code, out, _ = berth("images")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert {line.split()[0] for line in lines[1:]} == {"team/app", "tool"}
    code, out, _ = berth("image", "ls", "-q")
    assert len(out.split()) == 2 and all(len(i) == 12 for i in out.split())
    code, out, _ = berth("image", "ls", "--format", "json", "tool")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["Repository"], r["Tag"]) for r in rows] == [("tool", "latest")]
    code, out, _ = berth("images", "--format", "{{.Repository}}:{{.Tag}}")
    assert sorted(out.split()) == ["team/app:1", "tool:latest"]


def test_inspect_uses_docker_field_names(berth):
    code, out, _ = berth("image", "inspect", "tool")
    assert code == 0
    [doc] = json.loads(out)
    assert doc["RepoTags"] == ["tool:latest"]
    assert doc["Architecture"] == "amd64" and doc["Os"] == "linux"
    assert doc["Config"]["Cmd"] == ["sh"]
    assert len(doc["RootFS"]["Layers"]) == 2 and doc["Id"].startswith("sha256:")


def test_tag_then_rmi_untags_before_deleting(berth):
    assert berth("tag", "tool", "tool:v2")[0] == 0
    code, out, _ = berth("rmi", "tool:v2")
    assert code == 0 and out == "Untagged: tool:v2\n"
    code, out, _ = berth("image", "rm", "tool")
    assert code == 0
    assert out.startswith("Untagged: tool:latest\nDeleted: sha256:")
    # The shared base layer is still used by team/app, the tool's own layer is gone.
    assert out.count("Deleted:") == 2
    assert berth("image", "inspect", "team/app:1")[0] == 0


def test_errors_and_exit_codes(berth):
    code, _, err = berth("rmi", "nosuch")
    assert code == 1 and err == "Error response from daemon: No such image: nosuch:latest\n"
    code, _, err = berth("images", "--bogus")
    assert code == 125 and "unknown flag: --bogus" in err
    code, _, err = berth("rmi", "Bad:Name")
    assert code == 1


def test_prune_removes_dangling_only_unless_all(berth):
    assert berth("tag", "tool", "tool:old")[0] == 0
    code, out, _ = berth("image", "prune", "-f")
    assert code == 0 and "Total reclaimed space: 0B" in out
    code, out, _ = berth("image", "prune", "-a", "-f")
    assert code == 0 and out.startswith("Deleted Images:\n")
    assert berth("images", "-q")[1] == ""


PRUNE_ALL_QUESTION = ("WARNING! This will remove all images without at least one container "
                      "associated to them.\nAre you sure you want to continue? [y/N] ")


@pytest.mark.parametrize("answer", [b"n\n", b"\n", b"", b"yes\n"],
                         ids=["n", "empty", "closed", "yes-is-not-y"])
def test_prune_asks_and_keeps_everything_unless_y(berth, answer):
    before = berth("images", "-q")[1]
    code, out, _ = berth("image", "prune", "-a", stdin=answer)
    assert (code, out) == (0, PRUNE_ALL_QUESTION)
    assert berth("images", "-q")[1] == before


def test_prune_goes_ahead_on_y(berth):
    code, out, _ = berth("image", "prune", "-a", stdin=b"Y\n")
    assert code == 0 and out.startswith(PRUNE_ALL_QUESTION + "Deleted Images:\n")
    assert berth("images", "-q")[1] == ""
