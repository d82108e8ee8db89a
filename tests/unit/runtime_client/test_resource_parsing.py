"""Parsing of the resource and stop flags with Docker's rules: --tmpfs option merging,
--device forms, --cpus to CFS values, signal names."""

from __future__ import annotations

import re

import pytest

from runtime_client.container_errors import InvalidOptionError
from runtime_client.runtime.cpu import CpuLimits, check_cpu_limits, parse_cpus
from runtime_client.runtime.devices import parse_device
from runtime_client.runtime.signals import parse_signal
from runtime_client.runtime.tmpfs import parse_tmpfs, tmpfs_mount


@pytest.mark.parametrize(("options", "expected"), [
    ("", ["noexec", "nosuid", "nodev", "rprivate"]),
    ("size=10m,exec", ["nosuid", "nodev", "rprivate", "size=10m", "exec"]),
    ("suid,dev", ["noexec", "rprivate", "suid", "dev"]),
    ("rw,mode=700,uid=5", ["noexec", "nosuid", "nodev", "rprivate", "rw", "mode=700", "uid=5"]),
])
def test_tmpfs_options_merge_like_docker(options: str, expected: list[str]) -> None:
    assert tmpfs_mount("/tmp", options)["options"] == expected


def test_tmpfs_keeps_options_as_typed_and_refuses_unknown_ones() -> None:
    assert parse_tmpfs("/run:size=10m,exec") == ("/run", "size=10m,exec")
    assert parse_tmpfs("/tmp") == ("/tmp", "")
    with pytest.raises(InvalidOptionError, match=r'invalid tmpfs option \["foo" "bar"\]'):
        parse_tmpfs("/tmp:foo=bar")


@pytest.mark.parametrize(("value", "expected"), [
    ("/dev/null", ("/dev/null", "/dev/null", "rwm")),
    ("/dev/zero:/dev/foo", ("/dev/zero", "/dev/foo", "rwm")),
    ("/dev/zero:r", ("/dev/zero", "/dev/zero", "r")),
    ("/dev/zero:/dev/foo:rw", ("/dev/zero", "/dev/foo", "rw")),
])
def test_device_forms(value: str, expected: tuple[str, str, str]) -> None:
    parsed = parse_device(value)
    assert (parsed["PathOnHost"], parsed["PathInContainer"],
            parsed["CgroupPermissions"]) == expected


def test_cpus_become_a_quota_over_docker_period() -> None:
    assert parse_cpus("1.5") == 1_500_000_000
    assert CpuLimits(nano_cpus=parse_cpus("0.25")).cfs() == (25_000, 100_000)
    assert CpuLimits(cpu_quota=50_000, cpu_period=200_000).cfs() == (50_000, 200_000)
    assert CpuLimits(cpu_period=50_000).cfs() == (-1, 50_000)
    assert CpuLimits().cfs() is None
    with pytest.raises(InvalidOptionError, match="too precise"):
        parse_cpus("0.0000000001")
    with pytest.raises(InvalidOptionError, match=re.escape("Range of CPUs is from 0.01 to 2.00")):
        check_cpu_limits(CpuLimits(nano_cpus=parse_cpus("3")), host_cpus=2)


@pytest.mark.parametrize(("text", "number"), [
    ("SIGUSR1", 10), ("usr1", 10), ("10", 10), ("TERM", 15), ("RTMIN+3", 37),
])
def test_signal_names_like_docker(text: str, number: int) -> None:
    assert parse_signal(text) == number


@pytest.mark.parametrize("text", ["FOO", "0", "99", "RTMIN+99"])
def test_unknown_signals_are_refused(text: str) -> None:
    with pytest.raises(InvalidOptionError, match=re.escape(f"Invalid signal: {text}")):
        parse_signal(text)
