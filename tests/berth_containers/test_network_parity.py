"""Networking as Docker does it: a private dockerd that manages iptables (its DOCKER-ISOLATION
chains and port publishing; no default bridge) runs the same commands as berth.

Each side gets its own subnets (Docker 172.29.N.0/24, berth 10.89.N.0/24, the same N) and
its own host ports; outputs are compared with those replaced by placeholders. Compared: MAC
addresses derived from IPs, reachability right after a restart or re-creation on the same
address, isolation between networks with name resolution inside one (also with --dns), and
refused port conflicts.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.berth_cli import BerthCli
from tests.support.dockerd import DockerDaemon, DockerUnavailableError
from tests.support.images import DOCKER_ARCHIVE_TAG
from tests.support.ports import free_port, wait_until

pytestmark = [pytest.mark.root, pytest.mark.docker, pytest.mark.slow]

FETCH = "printf 'GET /hello.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 1 {ip} 80"


@pytest.fixture(scope="module")
def netdocker(docker_archive: Path) -> Iterator[DockerDaemon]:
    """A private dockerd with iptables on and the test image loaded (stopped at the end,
    which removes its containers, networks and iptables chains)."""
    if DockerDaemon.existing() is not None:
        # A second dockerd managing iptables would fight the running one over its chains.
        pytest.skip("a dockerd is running: the network comparisons need their own")
    try:
        daemon = DockerDaemon.start(networking=True)
    except DockerUnavailableError as error:
        pytest.skip(f"no Docker daemon: {error}")
    try:
        daemon.run("load", "-i", str(docker_archive))
        yield daemon
    finally:
        ids = daemon.run("ps", "-aq", check=False).stdout.split()
        if ids:
            daemon.run("rm", "-f", *ids, check=False)
        daemon.run("network", "prune", "-f", check=False)
        daemon.stop()


@dataclass(frozen=True)
class Side:
    """One tool: its command runner, its name for the test image and its address space."""

    name: str
    run: Callable[..., subprocess.CompletedProcess[str]]
    image: str
    prefix: str  # the first two octets of its subnets

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(*(self.image if a == "IMAGE" else a for a in args), check=check)

    def subnet(self, n: int) -> str:
        return f"{self.prefix}.{n}.0/24"

    def ip(self, n: int, host: int) -> str:
        return f"{self.prefix}.{n}.{host}"


@pytest.fixture
def sides(netdocker: DockerDaemon, clean: BerthCli, image: str) -> list[Side]:
    return [Side("docker", netdocker.run, DOCKER_ARCHIVE_TAG, "172.29"),
            Side("berth", clean, image, "10.89")]


def mac_of(ip: str) -> str:
    """02:42 and the address's four bytes, as Docker derives an endpoint's MAC."""
    return "02:42:" + ":".join(f"{int(part):02x}" for part in ip.split("."))


def _create_with_mac_through_the_api(side: Side, name: str, mac: str) -> None:
    """`docker create --mac-address MAC IMAGE true` as a 20.10 CLI sends it: the docker 28 CLI
    refuses --mac-address against a daemon older than API 1.44."""
    socket_path = side.run.__self__.docker_host.removeprefix("unix://")  # type: ignore[attr-defined]
    body = {"Image": side.image, "Cmd": ["true"], "MacAddress": mac}
    subprocess.run(["curl", "-sf", "--unix-socket", socket_path, "-H",
                    "Content-Type: application/json", "-d", json.dumps(body),
                    f"http://docker/v1.41/containers/create?name={name}"], check=True,
                   capture_output=True)


def test_mac_is_derived_from_the_ip_as_docker_does(sides: list[Side]) -> None:
    shown = {}
    for side in sides:
        side("network", "create", "--subnet", side.subnet(221), "paritymacnet")
        side("run", "-d", "--name", "parity-mac", "--net", "paritymacnet", "--ip",
             side.ip(221, 7), "IMAGE", "sleep", "60")
        if side.name == "docker":
            _create_with_mac_through_the_api(side, "parity-mac-given", "02:42:aa:bb:cc:dd")
        else:
            side("create", "--name", "parity-mac-given", "--mac-address", "02:42:aa:bb:cc:dd",
                 "IMAGE", "true")
        mac = side("inspect", "-f", "{{.NetworkSettings.Networks.paritymacnet.MacAddress}}",
                   "parity-mac").stdout.strip()
        inside = side("exec", "parity-mac", "cat", "/sys/class/net/eth0/address").stdout.strip()
        assert mac == inside == mac_of(side.ip(221, 7)), side.name
        configs = [json.loads(side("inspect", name).stdout)[0]["Config"]
                   for name in ("parity-mac", "parity-mac-given")]
        shown[side.name] = [config.get("MacAddress") for config in configs]
    assert shown["docker"][1] == "02:42:aa:bb:cc:dd"
    assert shown["berth"] == shown["docker"]


def _host_answers_at_once(port: int) -> bool:
    """The published port answers, or refuses while the server starts; never a timeout."""
    for _ in range(20):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"GET /hello.txt HTTP/1.0\r\n\r\n")
                reply = b""
                while chunk := conn.recv(4096):
                    reply += chunk
                if b"hello" in reply:
                    return True
        except TimeoutError:
            return False
        except ConnectionError:
            pass
        time.sleep(0.1)
    return False


def _peer_answers_at_once(side: Side, ip: str) -> subprocess.CompletedProcess[str]:
    """The peer fetches from `ip`; a refusal (server starting) is retried, a timeout is not."""
    script = (f"for i in 1 2 3 4 5 6 7 8 9 10; do out=$({FETCH.format(ip=ip)} 2>&1);"
              " case $out in *hello*) echo answered; exit 0;; *'timed out'*) echo stale;"
              " exit 1;; esac; sleep 0.1; done; echo refused; exit 1")
    return side("exec", "parity-peer", "sh", "-c", script, check=False)


def test_restarted_or_recreated_container_answers_at_once(sides: list[Side]) -> None:
    outcomes = {}
    for side in sides:
        port = free_port()
        ip = side.ip(222, 10)
        server = ["run", "-d", "--name", "parity-srv", "--net", "parity-restart", "--ip", ip,
                  "-p", f"{port}:80", "IMAGE", "httpd", "-f", "-p", "80", "-h", "/data"]
        side("network", "create", "--subnet", side.subnet(222), "parity-restart")
        side(*server)
        side("run", "-d", "--name", "parity-peer", "--net", "parity-restart", "IMAGE",
             "sleep", "300")
        assert wait_until(lambda port=port: _host_answers_at_once(port), 30), side.name
        assert _peer_answers_at_once(side, ip).stdout == "answered\n", side.name
        seen = []
        side("restart", "-t", "1", "parity-srv")
        seen += [_host_answers_at_once(port), _peer_answers_at_once(side, ip).stdout]
        side("rm", "-f", "parity-srv")
        side(*server)
        seen += [_host_answers_at_once(port), _peer_answers_at_once(side, ip).stdout]
        outcomes[side.name] = seen
    assert outcomes["docker"] == [True, "answered\n", True, "answered\n"]
    assert outcomes["berth"] == outcomes["docker"]


def _normalised(side: Side, result: subprocess.CompletedProcess[str]) -> tuple[int, str]:
    text = (result.stdout + result.stderr).replace(side.prefix + ".", "NET.")
    return result.returncode, text


def test_user_networks_are_isolated_and_resolve_inside(sides: list[Side]) -> None:
    outcomes = {}
    for side in sides:
        side("network", "create", "--subnet", side.subnet(223), "parity-iso1")
        side("network", "create", "--subnet", side.subnet(224), "parity-iso2")
        side("run", "-d", "--name", "parity-iso-srv", "--net", "parity-iso1", "--ip",
             side.ip(223, 9), "IMAGE", "httpd", "-f", "-p", "80", "-h", "/data")
        target = side.ip(223, 9)
        fetch = FETCH.format(ip=target) + " | tail -n 1"
        # busybox-static cannot resolve through glibc's NSS: nslookup asks the DNS server.
        by_name = f"busybox nslookup parity-iso-srv | grep -q '{target}' && {fetch}"
        probes = [
            ("parity-iso2", (), f"nc -w 2 {target} 80 </dev/null"),
            ("parity-iso1", (), fetch),
            ("parity-iso1", (), by_name),
            ("parity-iso1", ("--dns", "192.0.2.53"), by_name),
        ]
        outcomes[side.name] = [
            _normalised(side, side("run", "--rm", "--net", net, *flags, "IMAGE", "sh", "-c",
                                   script, check=False))
            for net, flags, script in probes]
    assert outcomes["docker"][0][0] != 0
    assert all(code == 0 and "hello" in text for code, text in outcomes["docker"][1:])
    assert outcomes["berth"] == outcomes["docker"]


def test_default_bridge_is_isolated_from_user_networks(clean: BerthCli, image: str) -> None:
    # The private dockerd has no default bridge; Docker's isolates it from user networks too.
    clean("network", "create", "--subnet", "10.89.225.0/24", "isolated")
    clean("run", "-d", "--name", "inside", "--net", "isolated", "--ip", "10.89.225.9", image,
          "httpd", "-f", "-p", "80", "-h", "/data")
    clean("run", "-d", "--name", "outside", image, "httpd", "-f", "-p", "80", "-h", "/data")
    outside_ip = clean("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "outside").stdout
    from_bridge = clean("run", "--rm", image, "nc", "-w", "2", "10.89.225.9", "80", check=False)
    to_bridge = clean("run", "--rm", "--net", "isolated", image, "nc", "-w", "2",
                      outside_ip.strip(), "80", check=False)
    for result in (from_bridge, to_bridge):
        assert result.returncode == 1 and "timed out" in result.stderr
    same = clean("run", "--rm", image, "sh", "-c", FETCH.format(ip=outside_ip.strip()))
    assert "hello" in same.stdout


def _conflict_message(side: Side, result: subprocess.CompletedProcess[str], port: int
                      ) -> tuple[int, str]:
    """Exit code and the daemon's reason (endpoint ID and host port replaced)."""
    line = result.stderr.splitlines()[0] if result.stderr else ""
    head, _, reason = line.partition("): ")
    endpoint = head.rpartition(" (")[0].partition("Error response from daemon: ")[2]
    return result.returncode, f"{endpoint}: {reason}".replace(str(port), "PORT")


def test_port_conflicts_are_refused_as_docker_does(sides: list[Side]) -> None:
    outcomes = {}
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        held = holder.getsockname()[1]
        for side in sides:
            port = free_port()
            side("network", "create", "--subnet", side.subnet(226), "parity-ports")
            side("run", "-d", "--name", "parity-port-a", "--net", "parity-ports", "-p",
                 f"{port}:80", "IMAGE", "sleep", "60")
            second = side("run", "-d", "--name", "parity-port-b", "--net", "parity-ports",
                          "-p", f"{port}:80", "IMAGE", "sleep", "60", check=False)
            other = side("run", "-d", "--name", "parity-port-c", "--net", "parity-ports",
                         "-p", f"{held}:80", "IMAGE", "sleep", "60", check=False)
            running = [name for name in side("ps", "--format", "{{.Names}}").stdout.split()
                       if name.startswith("parity-port")]
            outcomes[side.name] = (_conflict_message(side, second, port),
                                   _conflict_message(side, other, held), sorted(running))
    docker = outcomes["docker"]
    assert docker[0] == (125, "driver failed programming external connectivity on endpoint "
                              "parity-port-b: Bind for 0.0.0.0:PORT failed: "
                              "port is already allocated")
    assert docker[1][0] == 125 and "address already in use" in docker[1][1]
    assert docker[2] == ["parity-port-a"]
    assert outcomes["berth"] == docker
