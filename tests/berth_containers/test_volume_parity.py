"""`volume` commands and volume mounts, run the same way against dockerd and berth (root only):
exit codes, output, errors, inspect documents and the effect (a file that stays, a volume
that goes). Both sides use the same busybox test image.

Not compared: `volume prune` and `system prune --volumes`, where the dockerd here (20.10, API
1.41) removes named volumes too and the docker CLI warns accordingly; berth follows Docker
23+ (anonymous volumes unless `-a`), which `test_volumes` checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.berth_cli import BerthCli
from tests.support.dockerd import DockerDaemon
from tests.support.images import DOCKER_ARCHIVE_TAG

pytestmark = [pytest.mark.root, pytest.mark.docker, pytest.mark.slow]

Tool = Callable[..., Any]


@pytest.fixture
def docker_volumes(docker: DockerDaemon) -> Iterator[DockerDaemon]:
    """dockerd; the containers and volumes a test made there are removed after it."""
    containers = set(docker.run("ps", "-aq").stdout.split())
    volumes = set(docker.run("volume", "ls", "-q").stdout.split())
    try:
        yield docker
    finally:
        made = set(docker.run("ps", "-aq", check=False).stdout.split()) - containers
        if made:
            docker.run("rm", "-f", *sorted(made), check=False)
        left = set(docker.run("volume", "ls", "-q", check=False).stdout.split()) - volumes
        if left:
            docker.run("volume", "rm", "-f", *sorted(left), check=False)


def _first_error(text: str) -> str:
    """The first stderr line without the tool's name (`docker: `/`berth: `)."""
    line = text.splitlines()[0] if text else ""
    return line.removeprefix("docker: ").removeprefix("berth: ")


def _mounts(tool: Tool, container: str) -> list[dict[str, Any]]:
    """inspect's Mounts by destination (dockerd's order is its map's), with each side's own
    paths and generated names replaced by what they stand for."""
    mounts = json.loads(tool("inspect", "-f", "{{json .Mounts}}", container).stdout)
    for m in mounts:
        if m["Type"] == "volume":
            assert m["Source"].endswith(f"/volumes/{m['Name']}/_data"), m
            m["Source"] = "<volume data>"
            if len(m["Name"]) == 64:
                m["Name"] = "<anonymous>"
    return sorted(mounts, key=lambda m: m["Destination"])


def _session(tool: Tool, img: str) -> list[Any]:
    seen: list[Any] = []

    def record(*args: str, **kwargs: Any) -> Any:
        result = tool(*args, check=False, **kwargs)
        shown = tuple("<image>" if arg == img else arg for arg in args)
        seen.append((shown, result.returncode, result.stdout, _first_error(result.stderr)))
        return result

    record("volume", "create", "--label", "team=a", "pv-named")
    record("volume", "create", "pv-named")
    record("volume", "create", "--name", "pv-other")
    record("volume", "create", "-d", "nfs", "pv-elsewhere")
    record("volume", "create", "bad!name")
    record("volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Scope}} {{json .Labels}} "
           "{{json .Options}}", "pv-named", "pv-other")
    doc = json.loads(tool("volume", "inspect", "pv-named").stdout)
    seen.append(("inspect keys", list(doc[0])))
    record("volume", "inspect", "pv-nosuch")
    record("run", "--name", "pv-writer", "--net", "none", "-v", "pv-named:/store", img,
           "sh", "-c", "echo kept > /store/f")
    writer = tool("inspect", "-f", "{{.Id}}", "pv-writer").stdout.strip()
    refused = tool("volume", "rm", "pv-named", check=False)
    seen.append(("rm in use", refused.returncode, refused.stderr.replace(writer, "<id>")))
    record("run", "--rm", "--net", "none", "-v", "pv-named:/r:ro", img, "sh", "-c",
           "cat /r/f; touch /r/g 2>/dev/null || echo read-only")
    seen.append(("writer mounts", _mounts(tool, "pv-writer")))
    # An empty new volume gets the image's /data (copy-up).
    record("run", "--rm", "--net", "none", "-v", "pv-seed:/data", img, "ls", "/data")
    record("run", "--rm", "--net", "none", "--mount", "source=pv-seed,target=/x", img,
           "cat", "/x/hello.txt")
    # Anonymous volumes: kept by rm, removed by rm -v and run --rm.
    before = set(tool("volume", "ls", "-q").stdout.split())
    record("run", "--rm", "--net", "none", "-v", "/gone", img, "touch", "/gone/x")
    seen.append(("run --rm leaves no volume",
                 set(tool("volume", "ls", "-q").stdout.split()) == before))
    record("run", "--rm", "--net", "none", "--mount", "type=volume,target=/m,readonly", img,
           "true")
    record("run", "--name", "pv-anon", "--net", "none", "-v", "/scratch", "--mount",
           "type=volume,target=/m", "-v", "pv-named:/n:ro", img, "true")
    seen.append(("anon mounts", _mounts(tool, "pv-anon")))
    record("inspect", "-f", "{{json .Config.Volumes}} {{json .HostConfig.Binds}} "
           "{{json .HostConfig.Mounts}}", "pv-anon")
    anonymous = set(tool("volume", "ls", "-q").stdout.split()) - before
    seen.append(("anonymous made", len(anonymous), {len(n) for n in anonymous}))
    record("rm", "-v", "pv-anon")
    seen.append(("rm -v removed them",
                 set(tool("volume", "ls", "-q").stdout.split()) == before))
    # Listing.
    record("volume", "ls", "--filter", "name=pv-")
    record("volume", "ls", "-q", "--filter", "name=pv-", "--filter", "dangling=true")
    record("volume", "ls", "-q", "--filter", "name=pv-", "--filter", "dangling=false")
    record("volume", "ls", "--filter", "label=team=a", "--format",
           "{{.Name}}|{{.Driver}}|{{.Scope}}|{{.Labels}}")
    record("volume", "ls", "--filter", "colour=red")
    # Flags refused before anything runs.
    record("run", "--rm", "--net", "none", "--mount",
           "type=bind,source=/nonexistent/pv,target=/x", img, "true")
    record("run", "--rm", "--net", "none", "-v", "pv-dup1:/x", "-v", "pv-dup2:/x", img, "true")
    # Removal.
    record("rm", "pv-writer")
    record("volume", "rm", "pv-named", "pv-other", "pv-seed")
    record("volume", "rm", "pv-named")
    record("volume", "rm", "-f", "pv-named")
    return seen


def test_volume_commands_match(docker_volumes: DockerDaemon, clean: BerthCli,
                               image: str) -> None:
    theirs = _session(docker_volumes.run, DOCKER_ARCHIVE_TAG)
    ours = _session(clean, image)
    assert theirs[0][1:] == (0, "pv-named\n", "")
    differing = [(docker, mine) for mine, docker in zip(ours, theirs, strict=True)
                 if mine != docker]
    assert differing == [], "\n".join(f"docker: {d}\nberth:  {b}" for d, b in differing)
