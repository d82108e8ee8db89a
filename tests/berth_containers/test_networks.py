"""berth networking through netavark + aardvark-dns (root only).

Subnets are in 10.89.0.0/16 (away from Docker's 172.17.0.0/16); nothing is sent beyond the
loopback interface and the bridges the tests create.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.berth_containers.conftest import clean_root
from tests.support.berth_cli import BerthCli
from tests.support.ports import free_port, wait_until

pytestmark = [pytest.mark.root, pytest.mark.slow]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def answers(url: str) -> bool:
    try:
        fetch(url)
    except OSError:
        return False
    return True


def test_published_port_answers_on_loopback(clean: BerthCli, image: str) -> None:
    port = free_port()
    clean("run", "-d", "--name", "web", "-p", f"{port}:80", image, "httpd", "-f", "-p", "80",
          "-h", "/data")
    url = f"http://127.0.0.1:{port}/hello.txt"
    assert wait_until(lambda: answers(url), 60)
    assert "hello" in fetch(url)
    assert clean("port", "web").stdout == f"80/tcp -> 0.0.0.0:{port}\n"
    assert clean("port", "web", "80").stdout == f"0.0.0.0:{port}\n"
    assert f"0.0.0.0:{port}->80/tcp" in clean("ps", "--format", "{{.Ports}}").stdout
    info = json.loads(clean("inspect", "web").stdout)[0]
    assert info["NetworkSettings"]["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0",
                                                            "HostPort": str(port)}]}
    assert info["NetworkSettings"]["IPAddress"].startswith("10.89.0.")
    clean("rm", "-f", "web")
    assert not answers(url)


def test_publish_all_with_expose(clean: BerthCli, image: str) -> None:
    clean("run", "-d", "--name", "exposed", "--expose", "80", "-P", image, "httpd", "-f",
          "-p", "80", "-h", "/data")
    line = clean("port", "exposed", "80/tcp").stdout.strip()
    host_port = int(line.rsplit(":", 1)[1])
    assert host_port > 0
    assert wait_until(lambda: answers(f"http://127.0.0.1:{host_port}/hello.txt"), 60)


def test_user_network_names_aliases_and_inspect(clean: BerthCli, image: str) -> None:
    clean("network", "create", "--subnet", "10.89.77.0/24", "--gateway", "10.89.77.1", "tnet")
    clean("run", "-d", "--name", "server", "--net", "tnet", "--alias", "alpha", image,
          "httpd", "-f", "-p", "80", "-h", "/data")
    for name in ("server", "alpha"):
        out = clean("run", "--rm", "--net", "tnet", image, "wget", "-q", "-O", "-",
                    f"http://{name}/hello.txt").stdout
        assert "hello" in out, name
    net = json.loads(clean("network", "inspect", "tnet").stdout)[0]
    assert net["IPAM"]["Config"] == [{"Subnet": "10.89.77.0/24", "Gateway": "10.89.77.1"}]
    members = list(net["Containers"].values())
    assert [m["Name"] for m in members] == ["server"]
    assert members[0]["IPv4Address"].startswith("10.89.77.")
    assert len(members[0]["MacAddress"].split(":")) == 6
    refused = clean("network", "rm", "tnet", check=False)
    assert refused.returncode == 1 and "active endpoints" in refused.stderr
    clean("rm", "-f", "server")
    assert clean("network", "rm", "tnet").stdout == "tnet\n"
    assert "tnet" not in clean("network", "ls", "--format", "{{.Name}}").stdout.split()


def _bridge_holding(gateway: str) -> str:
    """The host interface that has `gateway` as its address, or ''."""
    out = subprocess.run(["ip", "-o", "-4", "addr", "show", "to", gateway], capture_output=True,
                         text=True, check=True).stdout
    return out.split()[1] if out.strip() else ""


def test_bridge_stays_up_between_containers_until_network_rm(clean: BerthCli,
                                                             image: str) -> None:
    clean("network", "create", "--subnet", "10.89.81.0/24", "keepnet")
    clean("run", "--rm", "--net", "keepnet", image, "true")
    bridge = _bridge_holding("10.89.81.1")
    assert bridge, "the bridge went down with its last container"
    anchors = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                             check=True).stdout
    assert f"berth-anchor-{bridge}" in anchors
    net = json.loads(clean("network", "inspect", "keepnet").stdout)[0]
    assert net["Containers"] == {}
    taken = clean("run", "--rm", "--net", "keepnet", "--ip", "10.89.81.254", image, "true",
                  check=False)
    assert taken.returncode != 0 and "Address already in use" in taken.stderr
    out = clean("run", "--rm", "--net", "keepnet", image, "ping", "-c", "1", "-W", "2",
                "10.89.81.1").stdout
    assert "1 packets received" in out
    assert clean("network", "rm", "keepnet").returncode == 0
    assert _bridge_holding("10.89.81.1") == ""
    anchors = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                             check=True).stdout
    assert f"berth-anchor-{bridge}" not in anchors


def test_default_networks_and_prune(clean: BerthCli, image: str) -> None:
    names = clean("network", "ls", "--format", "{{.Name}} {{.Driver}}").stdout.splitlines()
    assert names[:3] == ["bridge bridge", "host host", "none null"]
    clean("network", "create", "unused")
    assert "unused" in clean("network", "prune", "-f").stdout
    assert clean("network", "rm", "bridge", check=False).returncode == 1
    overlay = clean("network", "create", "--driver", "overlay", "multi", check=False)
    assert overlay.returncode == 1


def test_net_none_has_only_loopback(clean: BerthCli, image: str) -> None:
    links = clean("run", "--rm", "--net", "none", image, "ip", "-o", "link").stdout
    assert [line.split(":")[1].strip() for line in links.splitlines()] == ["lo"]


def test_net_host_shares_the_host_namespace(clean: BerthCli, image: str) -> None:
    inside = clean("run", "--rm", "--net", "host", image, "ip", "-o", "link").stdout
    host = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True,
                          check=True).stdout
    assert len(inside.splitlines()) == len(host.splitlines())


def test_dns_add_host_mac_and_static_ip(clean: BerthCli, image: str) -> None:
    clean("network", "create", "--subnet", "10.89.78.0/24", "statnet")
    out = clean("run", "--rm", "--net", "statnet", "--ip", "10.89.78.50", "--mac-address",
                "02:42:0a:59:4e:32", "--dns", "10.89.78.253", "--add-host", "db.test:10.1.2.3",
                image, "sh", "-c",
                "cat /etc/resolv.conf /etc/hosts; ip -o -4 addr show eth0; ip -o link show eth0"
                ).stdout
    assert "nameserver 10.89.78.253" in out
    assert "10.1.2.3\tdb.test" in out
    assert "10.89.78.50/24" in out
    assert "02:42:0a:59:4e:32" in out


def test_live_connect_and_disconnect(clean: BerthCli, image: str) -> None:
    clean("network", "create", "--subnet", "10.89.79.0/24", "extra")
    clean("run", "-d", "--name", "roamer", image, "sleep", "1000")
    clean("network", "connect", "--alias", "wanderer", "extra", "roamer")
    addrs = clean("exec", "roamer", "ip", "-o", "-4", "addr").stdout
    assert "10.89.79." in addrs
    net = json.loads(clean("network", "inspect", "extra").stdout)[0]
    assert [m["Name"] for m in net["Containers"].values()] == ["roamer"]
    clean("run", "-d", "--name", "peer", "--net", "extra", image, "sleep", "1000")
    assert clean("exec", "peer", "ping", "-c", "1", "-W", "2", "wanderer").returncode == 0
    clean("network", "disconnect", "extra", "roamer")
    assert "10.89.79." not in clean("exec", "roamer", "ip", "-o", "-4", "addr").stdout


def test_networks_work_under_forward_policy_drop(clean: BerthCli, image: str) -> None:
    """dockerd sets the FORWARD policy to DROP; netavark's own chain must keep berth working."""
    policy = subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True, text=True,
                            check=True).stdout.splitlines()[0]
    subprocess.run(["iptables", "-P", "FORWARD", "DROP"], check=True)
    try:
        clean("network", "create", "--subnet", "10.89.80.0/24", "dropnet")
        clean("run", "-d", "--name", "srv", "--net", "dropnet", image, "httpd", "-f", "-p",
              "80", "-h", "/data")
        out = clean("run", "--rm", "--net", "dropnet", image, "wget", "-q", "-O", "-",
                    "http://srv/hello.txt").stdout
        assert "hello" in out
    finally:
        subprocess.run(["iptables", "-P", "FORWARD", policy.split()[-1]], check=True)


def test_rename_of_a_running_container_updates_name_resolution(clean: BerthCli,
                                                                image: str) -> None:
    clean("network", "create", "--subnet", "10.89.81.0/24", "renamenet")
    clean("run", "-d", "--name", "before", "--net", "renamenet", "--alias", "kept", image,
          "sleep", "1000")
    clean("run", "-d", "--name", "asker", "--net", "renamenet", image, "sleep", "1000")
    info = json.loads(clean("inspect", "before").stdout)[0]
    ip = info["NetworkSettings"]["Networks"]["renamenet"]["IPAddress"]

    def lookup(name: str) -> subprocess.CompletedProcess[str]:
        return clean("exec", "asker", "busybox", "nslookup", name, check=False)

    assert ip in lookup("before").stdout
    clean("rename", "before", "after")
    renamed = lookup("after")
    assert renamed.returncode == 0 and ip in renamed.stdout
    old = lookup("before")
    assert old.returncode != 0 and ip not in old.stdout
    assert ip in lookup("kept").stdout
    assert clean("exec", "asker", "ping", "-c", "1", "-W", "2", "after").returncode == 0


def test_two_roots_never_share_an_address_or_a_port(clean: BerthCli, image: str,
                                                    tmp_path: Path) -> None:
    other = BerthCli(tmp_path / "second-root", env={})
    try:
        other("pull", image)
        port = free_port()
        clean("run", "-d", "--name", "first", "-p", f"{port}:80", image, "sleep", "300")
        other("run", "-d", "--name", "second", image, "sleep", "300")
        refused = other("run", "-d", "--name", "third", "-p", f"{port}:80", image, "sleep",
                        "300", check=False)
        assert refused.returncode == 125
        assert f"Bind for 0.0.0.0:{port} failed: port is already allocated" in refused.stderr
        template = "{{.NetworkSettings.IPAddress}}"
        first = clean("inspect", "-f", template, "first").stdout.strip()
        second = other("inspect", "-f", template, "second").stdout.strip()
        assert first.startswith("10.89.0.") and second.startswith("10.89.0.")
        assert first != second
        # Each answers on its own address across the shared bridge.
        assert clean("exec", "first", "ping", "-c", "1", "-W", "2", second).returncode == 0
        # A container stopped in one root frees its address for the other.
        clean("rm", "-f", "first")
        other("run", "-d", "--name", "fourth", image, "sleep", "300")
        assert other("inspect", "-f", template, "fourth").stdout.strip() == first
    finally:
        clean_root(other)


def test_add_host_host_gateway_names_the_hosts_address(clean: BerthCli, image: str) -> None:
    # dockerd writes its default bridge's gateway; berth's default bridge has 10.89.0.1.
    hosts = clean("run", "--rm", "--add-host", "h:host-gateway", image, "cat",
                  "/etc/hosts").stdout
    assert "10.89.0.1\th\n" in hosts
    assert clean("run", "--rm", "--add-host", "h:host-gateway", image, "ping", "-c", "1",
                 "-W", "2", "h").returncode == 0
    clean("network", "create", "--subnet", "10.89.82.0/24", "gwnet")
    hosts = clean("run", "--rm", "--net", "gwnet", "--add-host", "h:host-gateway", image,
                  "cat", "/etc/hosts").stdout
    assert "10.89.82.1\th\n" in hosts
