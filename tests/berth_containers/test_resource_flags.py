"""The resource and stop flags of `berth run` as a user sees them (root only): --tmpfs (with
--read-only), --shm-size, --cpus/--cpu-quota/--cpu-period in the container's cgroup,
--device nodes and their cgroup permissions, --stop-signal/--stop-timeout (and an image's
STOPSIGNAL) used by `stop` and `restart`, and inspect's fields. Their 125 errors are tested
with the security flags' in test_security_flags.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.berth_cli import BerthCli

pytestmark = [pytest.mark.root, pytest.mark.slow]

CPU_CGROUP = Path("/sys/fs/cgroup/cpu/berth")
# A busybox sh that reports the stop signal it gets, then exits 3 (a trap runs between sleeps).
TRAP_SCRIPT = ('trap "echo got-usr1; exit 3" USR1; trap "echo got-term; exit 4" TERM;'
               " echo ready; while true; do sleep 0.1; done")


def run(berth: BerthCli, image: str, *args: str, check: bool = True
        ) -> subprocess.CompletedProcess[str]:
    """`berth run --rm --net none FLAGS IMAGE COMMAND`, given as `FLAGS -- COMMAND`."""
    split = args.index("--")
    return berth("run", "--rm", "--net", "none", *args[:split], image, *args[split + 1:],
                 check=check)


def mount_line(mounts: str, path: str) -> list[str]:
    """The fields of the /proc/mounts line for `path`."""
    for line in mounts.splitlines():
        if line.split()[1] == path:
            return line.split()
    raise AssertionError(f"{path} not mounted in {mounts!r}")


def test_read_only_root_with_tmpfs_mounts(clean: BerthCli, image: str) -> None:
    script = ("cat /proc/mounts; touch /x; echo data > /tmp/file && cat /tmp/file;"
              " touch /run/file && echo run-ok")
    result = run(clean, image, "--read-only", "--tmpfs", "/tmp", "--tmpfs",
                 "/run:size=10m,exec", "--", "sh", "-c", script, check=False)
    assert "touch: /x: Read-only file system" in result.stderr
    assert result.stdout.splitlines()[-2:] == ["data", "run-ok"]
    tmp = mount_line(result.stdout, "/tmp")
    assert tmp[2] == "tmpfs"
    assert set(tmp[3].split(",")) >= {"rw", "nosuid", "nodev", "noexec"}
    run_mount = mount_line(result.stdout, "/run")
    assert "size=10240k" in run_mount[3].split(",")
    assert "noexec" not in run_mount[3].split(",")  # `exec` replaced Docker's default


def test_shm_size_sets_dev_shm(clean: BerthCli, image: str) -> None:
    sized = run(clean, image, "--shm-size", "16m", "--", "busybox", "df", "-k", "/dev/shm")
    assert sized.stdout.splitlines()[1].split()[1] == "16384"
    default = run(clean, image, "--", "busybox", "df", "-k", "/dev/shm")
    assert default.stdout.splitlines()[1].split()[1] == "65536"


def test_cpu_limits_reach_the_cfs_cgroup(clean: BerthCli, image: str) -> None:
    inside = run(clean, image, "--cpus", "1.5", "--", "cat",
                 "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us")
    assert inside.stdout.split() == ["150000", "100000"]
    container_id = clean("run", "-d", "--net", "none", "--cpu-quota", "50000",
                         "--cpu-period", "200000", image, "sleep", "60").stdout.strip()
    cgroup = CPU_CGROUP / container_id
    assert (cgroup / "cpu.cfs_quota_us").read_text().strip() == "50000"
    assert (cgroup / "cpu.cfs_period_us").read_text().strip() == "200000"
    unlimited = run(clean, image, "--", "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
    assert unlimited.stdout.strip() == "-1"


def _a_loop_device() -> Path:
    devices = sorted(Path("/dev").glob("loop[0-9]*"))
    if not devices:
        pytest.skip("no /dev/loopN block device on this host")
    return devices[-1]


def test_device_nodes_and_cgroup_permissions(clean: BerthCli, image: str) -> None:
    script = ("busybox stat -c '%F %t:%T %a' /dev/foo /dev/null; head -c 4 /dev/foo | wc -c;"
              " busybox stat -c '%F %t:%T' /dev/disk; head -c 1 /dev/disk | wc -c;"
              " echo > /dev/disk || echo write-refused")
    loop = _a_loop_device()
    result = run(clean, image, "--device", "/dev/zero:/dev/foo", "--device", "/dev/null",
                 "--device", f"{loop}:/dev/disk:r", "--", "sh", "-c", script, check=False)
    assert result.stdout.splitlines() == [
        "character special file 1:5 666", "character special file 1:3 666", "4",
        "block special file 7:" + format(loop.stat().st_rdev & 0xff, "x"), "0",
        "write-refused"]
    assert "can't create /dev/disk: Operation not permitted" in result.stderr
    absent = run(clean, image, "--", "ls", "/dev/foo", "/dev/disk", check=False)
    assert absent.returncode != 0


def test_stop_signal_and_timeout_are_used_by_stop_and_restart(clean: BerthCli,
                                                              image: str) -> None:
    clean("run", "-d", "--name", "trapped", "--net", "none", "--stop-signal", "SIGUSR1",
          image, "sh", "-c", TRAP_SCRIPT)
    clean("restart", "trapped")
    clean("stop", "trapped")
    assert clean("logs", "trapped").stdout.split() == ["ready", "got-usr1"] * 2
    assert clean("inspect", "-f", "{{.State.ExitCode}}", "trapped").stdout.strip() == "3"

    # A process that ignores its stop signal is killed once --stop-timeout has passed.
    clean("run", "-d", "--name", "deaf", "--net", "none", "--stop-timeout", "1", image,
          "sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.1; done")
    clean("stop", "deaf")
    assert clean("inspect", "-f", "{{.State.ExitCode}}", "deaf").stdout.strip() == "137"


def test_image_stop_signal_is_honoured_and_overridable(clean: BerthCli, image: str) -> None:
    clean("create", "--name", "base", "--net", "none", image, "true")
    clean("commit", "--change", "STOPSIGNAL SIGUSR1", "base", "berth-test/stopsignal:v1")
    clean("run", "-d", "--name", "from-image", "--net", "none", "berth-test/stopsignal:v1",
          "sh", "-c", TRAP_SCRIPT)
    clean("stop", "from-image")
    assert clean("logs", "from-image").stdout.split() == ["ready", "got-usr1"]
    clean("run", "-d", "--name", "overridden", "--net", "none", "--stop-signal", "TERM",
          "berth-test/stopsignal:v1", "sh", "-c", TRAP_SCRIPT)
    clean("stop", "overridden")
    assert clean("logs", "overridden").stdout.split() == ["ready", "got-term"]
    signals = [json.loads(clean("inspect", name).stdout)[0]["Config"].get("StopSignal")
               for name in ("base", "from-image", "overridden")]
    assert signals == [None, "SIGUSR1", "TERM"]
    clean("commit", "overridden", "berth-test/stopsignal:v2")  # commit keeps it, as dockerd
    assert clean("image", "inspect", "-f", "{{.Config.StopSignal}}",
                 "berth-test/stopsignal:v2").stdout == "TERM\n"
    clean("rmi", "-f", "berth-test/stopsignal:v1", "berth-test/stopsignal:v2")


def test_flags_show_in_inspect(clean: BerthCli, image: str) -> None:
    clean("create", "--name", "limited", "--net", "none", "--tmpfs", "/tmp",
          "--tmpfs", "/run:size=10m,exec", "--shm-size", "16m", "--cpus", "0.5",
          "--device", "/dev/zero:/dev/foo:r", "--stop-signal", "USR1", "--stop-timeout", "3",
          image, "true")
    found = json.loads(clean("inspect", "limited").stdout)[0]
    host_config, config = found["HostConfig"], found["Config"]
    assert {k: host_config[k] for k in ("Tmpfs", "ShmSize", "NanoCpus", "CpuQuota",
                                        "CpuPeriod", "Devices")} == {
        "Tmpfs": {"/tmp": "", "/run": "size=10m,exec"}, "ShmSize": 16 << 20,
        "NanoCpus": 500_000_000, "CpuQuota": 0, "CpuPeriod": 0,
        "Devices": [{"PathOnHost": "/dev/zero", "PathInContainer": "/dev/foo",
                     "CgroupPermissions": "r"}]}
    assert (config["StopSignal"], config["StopTimeout"]) == ("USR1", 3)
