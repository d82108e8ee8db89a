"""`--network container:NAME|ID` beside a real dockerd (the busybox test image on both):
`inspect`'s NetworkMode and NetworkSettings, what the dependent sees, and the words and exit
codes of every refusal, compared with container IDs replaced by placeholders.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from functools import partial
from typing import cast

import pytest

from tests.berth_containers.conftest import PARITY_NETWORK
from tests.support.berth_cli import BerthCli
from tests.support.dockerd import DockerDaemon
from tests.support.images import DOCKER_ARCHIVE_TAG
from tests.support.ports import wait_until

pytestmark = [pytest.mark.root, pytest.mark.docker, pytest.mark.slow]

Tool = Callable[..., subprocess.CompletedProcess[str]]
ETC_PATHS = ("HostsPath", "HostnamePath", "ResolvConfPath")
SUBNETS = {"docker": "172.29.204.0/24", "berth": "10.89.204.0/24"}


def _tools(docker: DockerDaemon, berth: BerthCli, image: str) -> dict[str, tuple[Tool, str]]:
    return {"docker": (docker.run, DOCKER_ARCHIVE_TAG), "berth": (berth, image)}


def _said(result: subprocess.CompletedProcess[str], ids: dict[str, str]) -> tuple[int, str]:
    """The exit code and the first line of stderr without the tool's own name, IDs named."""
    line = result.stderr.splitlines()[0] if result.stderr else ""
    for tool in ("docker: ", "berth: "):
        line = line.removeprefix(tool)
    for cid, name in ids.items():
        line = line.replace(cid, f"<{name}>")
    return result.returncode, line


def _setup(tool: Tool, image: str, subnet: str) -> dict[str, str]:
    """web (httpd on a user network) running, dep joined to it, and a stopped container;
    returns their IDs."""
    tool("network", "create", "--subnet", subnet, PARITY_NETWORK)
    tool("run", "-d", "--name", "cweb", "--net", PARITY_NETWORK, "--hostname", "webhost",
         image, "httpd", "-f", "-p", "80", "-h", "/data")
    tool("run", "--name", "cdone", "--net", "none", image, "true")
    tool("run", "-d", "--name", "cdep", "--net", "container:cweb", image, "sleep", "600")
    return {tool("inspect", "--format", "{{.Id}}", name).stdout.strip(): name
            for name in ("cweb", "cdone", "cdep")}


def _answers(tool: Tool, image: str) -> bool:
    return tool("run", "--rm", "--net", "container:cweb", image, "wget", "-q", "-O", "-",
                "http://127.0.0.1:80/hello.txt", check=False).returncode == 0


def _cleanup(tool: Tool) -> None:
    tool("rm", "-f", "cweb", "cdone", "cdep", "cself", "cwait", check=False)
    tool("network", "rm", PARITY_NETWORK, check=False)


def test_container_network_mode_as_docker_does(docker: DockerDaemon, clean: BerthCli,
                                              image: str) -> None:
    seen: dict[str, dict[str, object]] = {}
    for name, (tool, img) in _tools(docker, clean, image).items():
        try:
            ids = _setup(tool, img, SUBNETS[name])
            web_id = next(i for i, n in ids.items() if n == "cweb")
            dep = json.loads(tool("inspect", "cdep").stdout)[0]
            web = json.loads(tool("inspect", "cweb").stdout)[0]
            got: dict[str, object] = {
                "mode": dep["HostConfig"]["NetworkMode"].replace(web_id, "<cweb>"),
                "networks": dep["NetworkSettings"]["Networks"],
                "sandbox": dep["NetworkSettings"]["SandboxKey"],
                "ip": dep["NetworkSettings"]["IPAddress"],
                "ports": dep["NetworkSettings"]["Ports"],
                "hostname": dep["Config"]["Hostname"],
                "ps": tool("ps", "--filter", "name=cdep", "--format",
                           "{{.Ports}}|{{.Networks}}").stdout,
                "port": tool("port", "cdep").stdout,
                # the target's own files, shared
                "etc": [dep[key] == web[key] != "" for key in ETC_PATHS],
            }
            assert wait_until(partial(_answers, tool, img), 60)
            got["inside"] = tool("run", "--rm", "--net", "container:cdep", img, "sh", "-c",
                                 "hostname; cat /etc/hostname").stdout
            refusals = {
                "missing": tool("run", "--rm", "--net", "container:nosuch", img, "true",
                                check=False),
                "stopped": tool("run", "--rm", "--net", "container:cdone", img, "true",
                                check=False),
                "empty": tool("run", "--rm", "--net", "container:", img, "true", check=False),
                "connect": tool("network", "connect", PARITY_NETWORK, "cdep", check=False),
                "disconnect": tool("network", "disconnect", PARITY_NETWORK, "cdep",
                                   check=False),
            }
            for flags in (["-p", "8080:80"], ["-P"], ["--expose", "80"], ["--hostname", "h"],
                          ["--dns", "1.1.1.1"], ["--add-host", "a:1.2.3.4"]):
                refusals[flags[0]] = tool("run", "--rm", "--net", "container:cweb", *flags,
                                          img, "true", check=False)
            tool("create", "--name", "cself", "--net", "container:cself", img, "true")
            got["self-mode"] = tool("inspect", "--format", "{{.HostConfig.NetworkMode}}",
                                    "cself").stdout
            created = json.loads(tool("inspect", "cself").stdout)[0]
            got["etc-before-start"] = [created[key] for key in ETC_PATHS]
            refusals["self"] = tool("start", "cself", check=False)
            tool("create", "--name", "cwait", "--net", "container:cdone", img, "true")
            refusals["start-stopped"] = tool("start", "cwait", check=False)
            ids.update({tool("inspect", "--format", "{{.Id}}", "cwait").stdout.strip(): "cwait"})
            tool("stop", "-t", "0", "cweb")
            got["after-stop"] = tool("inspect", "--format", "{{.State.Running}}",
                                     "cdep").stdout
            tool("rm", "cweb")
            refusals["restart-gone"] = tool("restart", "-t", "0", "cdep", check=False)
            got["refusals"] = {k: _said(r, ids) for k, r in refusals.items()}
            seen[name] = got
        finally:
            _cleanup(tool)
    assert seen["berth"] == seen["docker"]
    # what both said, so the comparison above cannot pass on two empty answers
    said = cast("dict[str, tuple[int, str]]", seen["docker"]["refusals"])
    assert said["stopped"] == (125, "Error response from daemon: cannot join network of a "
                               "non running container: <cdone>")
    assert said["self"] == (1, "Error response from daemon: cannot join own network")
    assert said["restart-gone"] == (
        1, "Error response from daemon: Cannot restart container cdep: No such container: "
        "<cweb>")
    assert seen["docker"]["mode"] == "container:<cweb>"
    assert seen["docker"]["etc"] == [True] * 3
    assert seen["docker"]["etc-before-start"] == [""] * 3
    assert seen["docker"]["inside"] == "webhost\nwebhost\n"
