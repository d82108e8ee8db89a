"""Pure parts of the container half: runtime spec defaults, the lifecycle state machine,
/etc files, option parsing and the Docker views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from runtime_client.container_errors import InvalidOptionError, InvalidStateError
from runtime_client.ops.create import merge_env, parse_memory, parse_publish
from runtime_client.ops.kill import parse_signal
from runtime_client.ops.views import port_text, status_text
from runtime_client.runtime.container import Container, Event, PortBinding, Status, transition
from runtime_client.runtime.etcfiles import hosts_file, resolv_conf
from runtime_client.runtime.spec import (
    DEFAULT_CAPABILITIES,
    BindMount,
    ContainerSpec,
    ProcessSpec,
    build_spec,
)


def container(status: Status = Status.CREATED) -> Container:
    c = Container(id="c" * 64, name="box", created="2026-01-01T00:00:00Z", image="img",
                  image_id="sha256:" + "a" * 64, snapshot_parent=None)
    c.state.status = status.value
    return c


def test_spec_has_dockers_defaults_and_host_limits() -> None:
    spec = build_spec(ContainerSpec(
        process=ProcessSpec(("sh",), ("PATH=/bin",), nofile_hard_limit=20000),
        hostname="h", cgroups_path="/berth/x", netns_path="/run/netns/n", memory_limit=32 << 20,
        binds=(BindMount("/src", "/dst", readonly=True),)))
    assert spec["process"]["capabilities"]["bounding"] == list(DEFAULT_CAPABILITIES)
    assert "CAP_SYS_ADMIN" not in spec["process"]["capabilities"]["effective"]
    assert spec["process"]["rlimits"] == [{"type": "RLIMIT_NOFILE", "hard": 20000,
                                           "soft": 20000}]
    linux = spec["linux"]
    assert "/proc/kcore" in linux["maskedPaths"] and "/proc/sys" in linux["readonlyPaths"]
    assert {"type": "network", "path": "/run/netns/n"} in linux["namespaces"]
    assert linux["resources"]["cpu"]["shares"] == 1024
    assert linux["resources"]["memory"] == {"limit": 32 << 20, "swap": 64 << 20}
    destinations = [m["destination"] for m in spec["mounts"]]
    assert destinations[:4] == ["/proc", "/dev", "/dev/pts", "/sys"]
    assert {"destination": "/dst", "type": "bind", "source": "/src",
            "options": ["rbind", "rprivate", "ro"]} in spec["mounts"]


def test_host_network_spec_has_no_network_namespace() -> None:
    spec = build_spec(ContainerSpec(process=ProcessSpec(("true",), ()), hostname="h",
                                    cgroups_path="/x", host_network=True))
    assert all(ns["type"] != "network" for ns in spec["linux"]["namespaces"])
    assert spec["linux"]["sysctl"] == {}


def test_state_machine_allows_and_rejects_transitions() -> None:
    c = container()
    assert transition(c, Event.START) is Status.RUNNING
    assert transition(c, Event.PAUSE) is Status.PAUSED
    with pytest.raises(InvalidStateError, match="already paused"):
        transition(c, Event.PAUSE)
    with pytest.raises(InvalidStateError, match="cannot remove a paused container"):
        transition(c, Event.REMOVE)
    assert transition(c, Event.UNPAUSE) is Status.RUNNING
    with pytest.raises(InvalidStateError, match="is not paused"):
        transition(c, Event.UNPAUSE)
    assert transition(c, Event.EXIT) is Status.EXITED
    assert transition(c, Event.RESTART) is Status.RESTARTING
    assert transition(c, Event.START) is Status.RUNNING
    assert transition(c, Event.EXIT) is Status.EXITED
    assert transition(c, Event.REMOVE) is Status.REMOVING
    with pytest.raises(InvalidStateError):
        transition(c, Event.START)


def test_parsers() -> None:
    assert parse_memory("32m") == 32 << 20 and parse_memory("1g") == 1 << 30
    assert parse_memory("1024") == 1024
    with pytest.raises(InvalidOptionError):
        parse_memory("lots")
    assert parse_publish("8080:80") == [PortBinding(80, "tcp", "", 8080)]
    assert parse_publish("127.0.0.1:53:53/udp") == [PortBinding(53, "udp", "127.0.0.1", 53)]
    assert parse_publish("80") == [PortBinding(80, "tcp", "", 0)]
    assert [p.host_port for p in parse_publish("9000-9001:80-81")] == [9000, 9001]
    with pytest.raises(InvalidOptionError):
        parse_publish("1:2:3:4/tcp")
    assert parse_signal("SIGTERM") == "TERM" and parse_signal("9") == "KILL"
    with pytest.raises(InvalidOptionError):
        parse_signal("NOPE")
    assert merge_env(["PATH=/bin", "A=0"], ["A=1", "B=2"]) == ["A=1", "B=2", "PATH=/bin"]


def test_etc_files() -> None:
    hosts = hosts_file("web", ["10.89.0.2"], ["db:10.1.1.1"])
    assert "127.0.0.1\tlocalhost" in hosts and "10.1.1.1\tdb" in hosts
    assert hosts.endswith("10.89.0.2\tweb\n")
    host_resolv = "nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch example\n"
    assert resolv_conf(host_resolv, [], []) == "search example\nnameserver 10.0.0.2\n"
    assert "nameserver 10.89.1.1" in resolv_conf(host_resolv, [], ["10.89.1.1"])
    assert "10.0.0.2" not in resolv_conf(host_resolv, ["9.9.9.9"], [])
    # --dns on a network with DNS: the network's server stays first, so peers resolve.
    assert resolv_conf(host_resolv, ["9.9.9.9"], ["10.89.1.1"], ["dns.podman"]) == (
        "search dns.podman example\nnameserver 10.89.1.1\nnameserver 9.9.9.9\n")
    # --dns-search replaces every search domain ("." leaves none); --dns-option the options.
    with_options = host_resolv + "options edns0\n"
    assert resolv_conf(with_options, [], ["10.89.1.1"], ["dns.podman"], ["corp.test"],
                       ["ndots:2"]) == (
        "search corp.test\nnameserver 10.89.1.1\noptions ndots:2\n")
    assert resolv_conf(with_options, [], [], [], ["."]) == (
        "nameserver 10.0.0.2\noptions edns0\n")


def test_views() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    c = container(Status.EXITED)
    c.state.exit_code = 3
    c.state.finished_at = (now - timedelta(seconds=5)).isoformat().replace("+00:00", "Z")
    assert status_text(c, now) == "Exited (3) 5 seconds ago"
    assert port_text([PortBinding(80, "tcp", "", 8080)], ["80/tcp", "443/tcp"]) == \
        "0.0.0.0:8080->80/tcp, 443/tcp"
