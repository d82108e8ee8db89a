"""The security and resource flags of `berth run` as a user sees them inside the container
(root only): capabilities, --privileged, --read-only, no-new-privileges, --pids-limit,
--ulimit, what `exec` inherits, and the 125 errors for values of any `run` flag berth refuses."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.berth_cli import BerthCli

pytestmark = [pytest.mark.root, pytest.mark.slow]


def status_field(text: str, field: str) -> str:
    """A field of /proc/self/status output (`CapEff`, `NoNewPrivs`, ...)."""
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return line.split()[1]
    raise AssertionError(f"no {field} in {text!r}")


def run(berth: BerthCli, image: str, *args: str, check: bool = False
        ) -> subprocess.CompletedProcess[str]:
    """`berth run --rm --net none FLAGS IMAGE COMMAND`, given as `FLAGS -- COMMAND`."""
    split = args.index("--")
    return berth("run", "--rm", "--net", "none", *args[:split], image, *args[split + 1:],
                 check=check)


def test_cap_drop_and_cap_add_change_what_root_can_do(clean: BerthCli, image: str) -> None:
    status = run(clean, image, "--cap-drop", "ALL", "--", "cat", "/proc/self/status",
                 check=True)
    assert status_field(status.stdout, "CapEff") == "0000000000000000"

    denied = run(clean, image, "--", "ip", "link", "set", "lo", "down")
    assert denied.returncode != 0
    assert "Operation not permitted" in denied.stderr
    allowed = run(clean, image, "--cap-add", "net_admin", "--", "ip", "link", "set", "lo",
                  "down")
    assert allowed.returncode == 0, allowed.stderr

    chown = run(clean, image, "--cap-drop", "CAP_CHOWN", "--", "busybox", "chown", "1", "/tmp")
    assert chown.returncode == 1
    assert "Operation not permitted" in chown.stderr


def test_privileged_gets_every_capability_devices_and_mount(clean: BerthCli,
                                                            image: str) -> None:
    host_bounding = status_field(Path("/proc/self/status").read_text(), "CapBnd")
    script = ("grep -E '^(CapEff|Seccomp):' /proc/self/status; ls /dev | wc -l;"
              " mkdir /mnt && busybox mount -t tmpfs none /mnt && echo mounted;"
              " grep ' /sys ' /proc/self/mounts")
    privileged = run(clean, image, "--privileged", "--", "sh", "-c", script)
    assert privileged.returncode == 0, privileged.stderr
    lines = privileged.stdout.splitlines()
    assert status_field(privileged.stdout, "CapEff") == host_bounding
    assert status_field(privileged.stdout, "Seccomp") == "0"
    assert "mounted" in lines
    assert " rw," in lines[-1]  # /sys is writable

    default = run(clean, image, "--", "sh", "-c", script)
    assert "mounted" not in default.stdout
    assert "permission denied" in default.stderr
    assert " ro," in default.stdout.splitlines()[-1]
    assert int(lines[2]) > int(default.stdout.splitlines()[2])  # host devices in /dev


def test_read_only_root_keeps_dev_shm_writable(clean: BerthCli, image: str) -> None:
    script = ("touch /x; touch /tmp/x; touch /dev/shm/x && echo shm-ok;"
              " echo data > /dev/null && echo dev-ok")
    result = run(clean, image, "--read-only", "--", "sh", "-c", script)
    assert result.stdout.splitlines() == ["shm-ok", "dev-ok"]
    assert "touch: /x: Read-only file system" in result.stderr
    assert "touch: /tmp/x: Read-only file system" in result.stderr


def test_exec_inherits_capabilities_no_new_privs_and_ulimits(clean: BerthCli,
                                                             image: str) -> None:
    clean("run", "-d", "--name", "locked", "--net", "none", "--cap-drop", "ALL",
          "--security-opt", "no-new-privileges", "--ulimit", "nofile=100:200",
          "--ulimit", "nproc=50", image, "sleep", "60")
    script = "grep -E '^(CapEff|NoNewPrivs):' /proc/self/status; ulimit -n; ulimit -Hn; ulimit -u"
    own = clean("exec", "locked", "sh", "-c", script).stdout
    assert status_field(own, "CapEff") == "0000000000000000"
    assert status_field(own, "NoNewPrivs") == "1"
    assert own.splitlines()[2:] == ["100", "200", "50"]
    raised = clean("exec", "--privileged", "locked", "grep", "CapEff", "/proc/self/status")
    assert status_field(raised.stdout, "CapEff") == status_field(
        Path("/proc/self/status").read_text(), "CapBnd")

    plain = run(clean, image, "--security-opt", "no-new-privileges:false", "--", "grep",
                "NoNewPrivs", "/proc/self/status", check=True)
    assert status_field(plain.stdout, "NoNewPrivs") == "0"


def test_pids_limit_stops_forks(clean: BerthCli, image: str) -> None:
    script = "for i in 1 2 3 4 5 6 7 8; do sleep 2 & done; echo all-started"
    limited = run(clean, image, "--pids-limit", "5", "--", "sh", "-c", script)
    assert "all-started" not in limited.stdout
    assert "can't fork" in limited.stderr
    unlimited = run(clean, image, "--", "sh", "-c", script)
    assert unlimited.stdout == "all-started\n", unlimited.stderr


def test_flags_show_in_inspect(clean: BerthCli, image: str) -> None:
    clean("create", "--name", "flagged", "--net", "none", "--cap-add", "sys_time",
          "--cap-add", "CAP_NET_ADMIN", "--cap-drop", "chown", "--read-only",
          "--security-opt", "no-new-privileges", "--pids-limit", "7",
          "--ulimit", "nproc=10", "--ulimit", "nofile=100:200", image, "true")
    host_config = json.loads(clean("inspect", "flagged").stdout)[0]["HostConfig"]
    assert {k: host_config[k] for k in ("CapAdd", "CapDrop", "Privileged", "ReadonlyRootfs",
                                        "SecurityOpt", "PidsLimit", "Ulimits")} == {
        "CapAdd": ["CAP_NET_ADMIN", "CAP_SYS_TIME"], "CapDrop": ["CAP_CHOWN"],
        "Privileged": False, "ReadonlyRootfs": True, "SecurityOpt": ["no-new-privileges"],
        "PidsLimit": 7, "Ulimits": [{"Name": "nofile", "Soft": 100, "Hard": 200},
                                    {"Name": "nproc", "Soft": 10, "Hard": 10}]}


@pytest.mark.parametrize(("flags", "message"), [
    (("--cap-add", "FOO"), 'invalid CapAdd: unknown capability: "CAP_FOO"'),
    (("--cap-drop", "cap_nope"), 'invalid CapDrop: unknown capability: "CAP_NOPE"'),
    (("--ulimit", "nofile=300:200"), 'invalid argument "nofile=300:200" for "--ulimit" flag'),
    (("--ulimit", "bogus=1"), "invalid ulimit type: bogus"),
    (("--ulimit", "nofile=99999999"), "above this host's limit"),
    (("--security-opt", "no-new-privileges:maybe"), "invalid --security-opt"),
    (("--tmpfs", "tmp"), "invalid mount path: 'tmp' mount path must be absolute"),
    (("--tmpfs", "/tmp:bogus"), 'invalid tmpfs option ["bogus"]'),
    (("--tmpfs", "/tmp:size=lots"), "invalid tmpfs option 'size=lots' for /tmp"),
    (("--shm-size", "big"), 'invalid argument "big" for "--shm-size" flag'),
    (("--cpus", "99"), "Range of CPUs is from 0.01 to"),
    (("--cpus", "1", "--cpu-quota", "5000"), "Nano CPUs and CPU Quota cannot both be set"),
    (("--cpu-period", "10"), "CPU cfs period can not be less than 1ms"),
    (("--device", "/dev/no-such-device"), 'adding custom device "/dev/no-such-device": '
                                          "no such file or directory"),
    (("--device", "/dev/null:/dev/x:rwz"), "bad mode specified: rwz"),
    (("--stop-signal", "SIGNOPE"), "Invalid signal: SIGNOPE"),
], ids=["cap-add", "cap-drop", "soft-above-hard", "type", "above-host", "no-new-privileges",
        "tmpfs-relative", "tmpfs-option", "tmpfs-size", "shm-size", "cpus-range",
        "cpus-and-quota", "cpu-period", "device-missing", "device-mode", "stop-signal"])
def test_refused_values_exit_125_and_create_nothing(clean: BerthCli, image: str,
                                                    flags: tuple[str, ...],
                                                    message: str) -> None:
    result = clean("run", "--rm", "--net", "none", *flags, image, "true", check=False)
    assert result.returncode == 125
    assert message in result.stderr
    assert clean("ps", "-aq").stdout == ""
