"""`berth run/create --network container:NAME|ID` (root only): the dependent joins the running
target's network namespace and sees its addresses, hostname, /etc/hosts and /etc/resolv.conf;
it gets no networks, ports or namespace of its own; the target must run when it starts; and
its stop or removal leaves the target's namespace alone. Docker's words and inspect fields
are compared with a real dockerd in `test_docker_parity`.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.berth_cli import BerthCli
from tests.support.ports import wait_until

pytestmark = [pytest.mark.root, pytest.mark.slow]

HELLO = "http://127.0.0.1:80/hello.txt"


def _inspect(berth: BerthCli, ref: str) -> dict:
    return json.loads(berth("inspect", ref).stdout)[0]


def _web(berth: BerthCli, image: str, *flags: str) -> dict:
    """A running httpd named `web` on a user network, answering on its port 80."""
    berth("network", "create", "--subnet", "10.89.83.0/24", "sharenet")
    berth("run", "-d", "--name", "web", "--net", "sharenet", *flags, image, "httpd", "-f",
          "-p", "80", "-h", "/data")
    assert wait_until(lambda: berth("exec", "web", "wget", "-q", "-O", "-", HELLO,
                                    check=False).returncode == 0, 60)
    return _inspect(berth, "web")


def test_dependent_shares_the_targets_network_hostname_and_etc_files(clean: BerthCli,
                                                                       image: str) -> None:
    web = _web(clean, image, "--hostname", "webhost", "--add-host", "foo:1.2.3.4",
               "--dns", "10.89.83.53")
    ip = web["NetworkSettings"]["Networks"]["sharenet"]["IPAddress"]
    script = ("wget -q -O - http://127.0.0.1:80/hello.txt; hostname; hostname -i; "
              "ip -o -4 addr | grep -v ' lo '; echo \"$HOSTNAME\"")
    for flag in ("--network", "--net"):
        out = clean("run", "--rm", flag, "container:web", image, "sh", "-c",
                    script).stdout.splitlines()
        assert out[0] == "hello from berth"
        assert out[1:3] == ["webhost", ip]
        assert f"inet {ip}/24" in out[3]
        assert out[4] == "webhost"
    for path in ("/etc/hosts", "/etc/resolv.conf", "/etc/hostname"):
        theirs = clean("exec", "web", "cat", path).stdout
        mine = clean("run", "--rm", "--net", f"container:{web['Id'][:10]}", image, "cat",
                     path).stdout
        assert mine == theirs, path
        if path == "/etc/hosts":
            assert "1.2.3.4\tfoo\n" in mine


def test_dependent_has_no_networks_ports_or_namespace_of_its_own(clean: BerthCli,
                                                                  image: str) -> None:
    web = _web(clean, image, "--hostname", "webhost")
    clean("create", "--name", "dep", "--net", "container:web", image, "sleep", "600")
    created = _inspect(clean, "dep")
    assert created["HostConfig"]["NetworkMode"] == f"container:{web['Id']}"
    clean("start", "dep")
    dep = _inspect(clean, "dep")
    assert dep["State"]["Running"]
    assert dep["HostConfig"]["NetworkMode"] == f"container:{web['Id']}"
    settings = dep["NetworkSettings"]
    assert settings["Networks"] == {}
    assert (settings["SandboxKey"], settings["IPAddress"], settings["Ports"]) == ("", "", {})
    assert dep["Config"]["Hostname"] == "webhost"
    rows = clean("ps", "--format", "{{.Names}}|{{.Ports}}|{{.Networks}}").stdout.splitlines()
    assert "dep||" in rows
    assert clean("port", "dep").stdout == ""
    refused = clean("network", "connect", "sharenet", "dep", check=False)
    assert refused.returncode == 1
    assert refused.stderr == ("Error response from daemon: container sharing network namespace "
                              "with another container or host cannot be connected to any "
                              "other network\n")
    net = json.loads(clean("network", "inspect", "sharenet").stdout)[0]
    assert [m["Name"] for m in net["Containers"].values()] == ["web"]
    # The dependent's stop and removal leave the target's namespace and address alone.
    clean("stop", "-t", "0", "dep")
    clean("rm", "dep")
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                           check=True).stdout
    assert f"berth-{web['Id'][:12]}" in netns
    assert clean("exec", "web", "wget", "-q", "-O", "-", HELLO).stdout == "hello from berth\n"
    out = clean("run", "--rm", "--net", "container:web", image, "wget", "-q", "-O", "-",
                HELLO).stdout
    assert out == "hello from berth\n"


def test_a_dependent_of_a_dependent_joins_the_same_namespace(clean: BerthCli,
                                                             image: str) -> None:
    _web(clean, image, "--hostname", "webhost")
    clean("run", "-d", "--name", "dep", "--net", "container:web", image, "sleep", "600")
    out = clean("run", "--rm", "--net", "container:dep", image, "sh", "-c",
                "hostname; wget -q -O - http://127.0.0.1:80/hello.txt").stdout
    assert out == "webhost\nhello from berth\n"


def test_host_and_none_targets(clean: BerthCli, image: str) -> None:
    clean("run", "-d", "--name", "onhost", "--net", "host", image, "sleep", "600")
    host_links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True,
                                check=True).stdout
    links = clean("run", "--rm", "--net", "container:onhost", image, "ip", "-o",
                  "link").stdout
    names = sorted(line.split(":")[1].strip().split("@")[0] for line in links.splitlines())
    assert names == sorted(line.split(":")[1].strip().split("@")[0]
                           for line in host_links.splitlines())
    clean("run", "-d", "--name", "alone", "--net", "none", image, "sleep", "600")
    links = clean("run", "--rm", "--net", "container:alone", image, "ip", "-o", "link").stdout
    assert [line.split(":")[1].strip() for line in links.splitlines()] == ["lo"]


def test_the_target_must_run_and_stays_its_own(clean: BerthCli, image: str) -> None:
    web = _web(clean, image)
    missing = clean("run", "--rm", "--net", "container:nosuch", image, "true", check=False)
    assert missing.returncode == 125
    assert "Error response from daemon: No such container: nosuch" in missing.stderr
    # --rm removed what the failed start left
    assert clean("ps", "-aq", "--no-trunc").stdout == f"{web['Id']}\n"
    clean("run", "--name", "done", image, "true")
    done = _inspect(clean, "done")["Id"]
    stopped = clean("run", "--rm", "--net", "container:done", image, "true", check=False)
    assert stopped.returncode == 125
    assert (f"Error response from daemon: cannot join network of a non running container: "
            f"{done}") in stopped.stderr
    clean("create", "--name", "self", "--net", "container:self", image, "true")
    assert _inspect(clean, "self")["HostConfig"]["NetworkMode"] == "container:self"
    own = clean("start", "self", check=False)
    assert own.returncode == 1
    assert "Error response from daemon: cannot join own network" in own.stderr

    clean("run", "-d", "--name", "dep", "--net", "container:web", image, "sleep", "600")
    clean("stop", "-t", "0", "web")
    # As with dockerd, the dependent keeps running in what is left of the namespace.
    assert _inspect(clean, "dep")["State"]["Running"]
    left = clean("exec", "dep", "ip", "-o", "-4", "addr").stdout
    assert [line.split()[1] for line in left.splitlines()] == ["lo"]
    again = clean("restart", "-t", "0", "dep", check=False)
    assert again.returncode == 1
    assert f"cannot join network of a non running container: {web['Id']}" in again.stderr
    clean("rm", "web")
    gone = clean("start", "dep", check=False)
    assert gone.returncode == 1
    assert f"Error response from daemon: No such container: {web['Id']}" in gone.stderr
