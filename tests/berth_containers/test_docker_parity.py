"""Where Docker has the same command, berth answers the same: a real dockerd runs the same
image (the busybox test image, loaded from a `docker save` archive) beside berth.

Compared: `diff` output, `port` output (IPv4 lines: berth publishes on IPv4 only), exit
codes (125, 126, 127 and the process's own), and the `inspect` fields both have.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.support.berth_cli import BerthCli
from tests.support.dockerd import DockerDaemon
from tests.support.images import DOCKER_ARCHIVE_TAG
from tests.support.ports import free_port, free_udp_port

pytestmark = [pytest.mark.root, pytest.mark.docker, pytest.mark.slow]

DOCKER_NET = "berth-parity"  # the `docker` fixture removes it
DOCKER_SUBNET = "10.89.201.0/24"


def both(docker: DockerDaemon, berth: BerthCli, image: str, *args: str
         ) -> tuple[object, object]:
    """Run `run ARGS` with each tool (same image) and return both results."""
    d = docker.run("run", "--label", "berth-parity", *args[:-1], DOCKER_ARCHIVE_TAG,
                   *args[-1].split("\0"), check=False)
    b = berth("run", *args[:-1], image, *args[-1].split("\0"), check=False)
    return d, b


@pytest.mark.parametrize("command", [
    "no-such-command", "/etc", "sh\0-c\0exit 3", "true",
], ids=["127-not-found", "126-not-executable", "own-code", "zero"])
def test_exit_codes_match(docker: DockerDaemon, clean: BerthCli, image: str,
                          command: str) -> None:
    d, b = both(docker, clean, image, "--rm", "--net", "none", command)
    assert b.returncode == d.returncode  # type: ignore[attr-defined]


def test_unknown_image_exit_code_matches(docker: DockerDaemon, clean: BerthCli,
                                         image: str) -> None:
    missing = f"127.0.0.1:{free_port()}/no/such:image"
    d = docker.run("run", "--rm", missing, check=False)
    b = clean("run", "--rm", missing, check=False)
    assert d.returncode == b.returncode == 125


def test_unknown_container_errors_match(docker: DockerDaemon, clean: BerthCli) -> None:
    for verb in ("stop", "rm", "start"):
        d = docker.run(verb, "no-such-box-xyz", check=False)
        b = clean(verb, "no-such-box-xyz", check=False)
        assert b.returncode == d.returncode, verb
        assert "No such container: no-such-box-xyz" in d.stderr
        assert "No such container: no-such-box-xyz" in b.stderr


def test_diff_output_matches(docker: DockerDaemon, clean: BerthCli, image: str) -> None:
    script = ("echo new > /etc/new.txt; echo more >> /etc/berth-release; rm /data/hello.txt;"
              " mkdir -p /srv/a/b && touch /srv/a/b/c")
    docker.run("run", "--label", "berth-parity", "--name", "parity-diff", "--net", "none",
               DOCKER_ARCHIVE_TAG, "sh", "-c", script)
    clean("run", "--name", "parity-diff", "--net", "none", image, "sh", "-c", script)
    # The same lines; Docker's order depends on its storage driver, berth sorts by path.
    theirs = docker.run("diff", "parity-diff").stdout.splitlines()
    ours = clean("diff", "parity-diff").stdout.splitlines()
    assert ours == sorted(ours, key=lambda line: line[2:])
    assert ours == sorted(theirs, key=lambda line: line[2:])


def test_port_output_matches(docker: DockerDaemon, clean: BerthCli, image: str) -> None:
    docker.run("network", "create", "--subnet", DOCKER_SUBNET, DOCKER_NET)
    dport, bport = free_port(), free_port()
    dudp, budp = free_udp_port(), free_udp_port()
    docker.run("run", "-d", "--label", "berth-parity", "--name", "parity-web", "--net",
               DOCKER_NET, "-p", f"{dport}:80", "-p", f"{dudp}:53/udp",
               DOCKER_ARCHIVE_TAG, "sleep", "60")
    clean("run", "-d", "--name", "parity-web", "-p", f"{bport}:80", "-p", f"{budp}:53/udp",
          image, "sleep", "60")

    def ipv4(text: str, ports: tuple[int, int]) -> list[str]:
        """The IPv4 lines, host ports named TCP and UDP (each side picked its own)."""
        names = {str(ports[0]): "TCP", str(ports[1]): "UDP"}
        lines = [line.rpartition(":") for line in text.splitlines() if "0.0.0.0" in line]
        return [f"{head}:{names.get(port, port)}" for head, _, port in lines]

    assert ipv4(clean("port", "parity-web").stdout, (bport, budp)) == ipv4(
        docker.run("port", "parity-web").stdout, (dport, dudp))
    assert ipv4(clean("port", "parity-web", "80/tcp").stdout, (bport, budp)) == ipv4(
        docker.run("port", "parity-web", "80/tcp").stdout, (dport, dudp))


def test_inspect_shared_fields_match(docker: DockerDaemon, clean: BerthCli,
                                     image: str) -> None:
    args = ["--name", "parity-inspect", "--net", "none", "-e", "A=1", "-w", "/tmp", "-m", "64m",
            "--restart", "on-failure:3", "--hostname", "parity"]
    docker.run("create", "--label", "berth-parity", *args, DOCKER_ARCHIVE_TAG, "sleep", "5")
    clean("create", *args, image, "sleep", "5")
    d = json.loads(docker.run("inspect", "parity-inspect").stdout)[0]
    b = json.loads(clean("inspect", "parity-inspect").stdout)[0]
    assert set(b["State"]) == set(d["State"])
    for field in ("Path", "Args", "Name", "Image", "RestartCount", "Platform"):
        assert b[field] == d[field], field
    for field in ("Status", "Running", "Paused", "ExitCode", "OOMKilled", "Pid"):
        assert b["State"][field] == d["State"][field], field
    for field in ("Cmd", "Env", "WorkingDir", "Hostname", "User", "Entrypoint", "Tty",
                  "OpenStdin"):
        assert b["Config"][field] == d["Config"][field], field
    for field in ("Memory", "RestartPolicy", "NetworkMode", "AutoRemove", "PublishAllPorts"):
        assert b["HostConfig"][field] == d["HostConfig"][field], field
    assert set(b) <= set(d) | {"Driver"}


@pytest.mark.parametrize("options", [(), ("--security-opt", "seccomp=unconfined")],
                         ids=["default-seccomp", "unconfined"])
def test_seccomp_outcome_matches(docker: DockerDaemon, clean: BerthCli, image: str,
                                 options: tuple[str, ...]) -> None:
    # Creating a user namespace needs no capability: only a seccomp filter refuses it.
    d, b = both(docker, clean, image, "--rm", "--net", "none", *options,
                "busybox\0unshare\0-U\0true")
    assert b.returncode == d.returncode  # type: ignore[attr-defined]
    if not options:
        assert d.returncode == 1  # type: ignore[attr-defined]
        assert "Operation not permitted" in d.stderr  # type: ignore[attr-defined]
        assert "Operation not permitted" in b.stderr  # type: ignore[attr-defined]


def test_security_opt_in_inspect_matches(docker: DockerDaemon, clean: BerthCli, image: str,
                                         tmp_path: Path) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text('{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [\n'
                       '    {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}\n  ]\n}\n')
    for name, option in (("parity-unconfined", "seccomp=unconfined"),
                         ("parity-profile", f"seccomp={profile}"), ("parity-default", None)):
        args = ["--name", name, "--net", "none"]
        if option:
            args += ["--security-opt", option]
        docker.run("create", "--label", "berth-parity", *args, DOCKER_ARCHIVE_TAG, "true")
        clean("create", *args, image, "true")
        d = json.loads(docker.run("inspect", name).stdout)[0]["HostConfig"]["SecurityOpt"]
        b = json.loads(clean("inspect", name).stdout)[0]["HostConfig"]["SecurityOpt"]
        assert b == d, name


SECURITY_FIELDS = ("CapAdd", "CapDrop", "Privileged", "ReadonlyRootfs", "SecurityOpt",
                   "PidsLimit", "Ulimits")
PROCESS_REPORT = ("grep -E '^(CapEff|CapBnd|NoNewPrivs):' /proc/self/status;"
                  " ulimit -n; ulimit -Hn; ulimit -u")


@pytest.mark.parametrize("flags", [
    (),
    ("--cap-drop", "ALL", "--cap-add", "chown"),
    ("--cap-add", "NET_ADMIN", "--cap-add", "sys_time", "--cap-drop", "net_raw",
     "--cap-drop", "CAP_KILL"),
    ("--cap-add", "CHOWN", "--cap-drop", "chown"),
    ("--security-opt", "no-new-privileges", "--ulimit", "nofile=100:200",
     "--ulimit", "nproc=50:60"),
], ids=["default", "drop-all-add-one", "add-and-drop", "added-and-dropped", "nnp-ulimits"])
def test_process_privileges_match(docker: DockerDaemon, clean: BerthCli, image: str,
                                  flags: tuple[str, ...]) -> None:
    d, b = both(docker, clean, image, "--rm", "--net", "none", *flags,
                f"sh\0-c\0{PROCESS_REPORT}")
    assert d.returncode == 0, d.stderr  # type: ignore[attr-defined]
    assert b.stdout == d.stdout  # type: ignore[attr-defined]


@pytest.mark.parametrize(("flags", "script"), [
    (("--read-only",), "touch /x; touch /tmp/x; touch /dev/shm/x && echo shm-ok"),
    (("--read-only",), "for f in hosts resolv.conf hostname; do echo x >> /etc/$f; done"),
    (("--pids-limit", "5"), "for i in 1 2 3 4 5 6 7 8; do sleep 2 & done; echo all-started"),
    (("--cap-add", "NET_ADMIN"), "ip link set lo down && echo down"),
], ids=["read-only", "read-only-etc-files", "pids-limit", "net-admin"])
def test_restriction_outcomes_match(docker: DockerDaemon, clean: BerthCli, image: str,
                                    flags: tuple[str, ...], script: str) -> None:
    d, b = both(docker, clean, image, "--rm", "--net", "none", *flags, f"sh\0-c\0{script}")
    for attribute in ("returncode", "stdout", "stderr"):
        assert getattr(b, attribute) == getattr(d, attribute), attribute


def test_security_fields_in_inspect_match(docker: DockerDaemon, clean: BerthCli,
                                          image: str) -> None:
    # Created, never started: dockerd cannot start --privileged on a host whose bounding set
    # lacks a capability (this one may lack CAP_SYS_RESOURCE), but it records it.
    for name, flags in (
        ("parity-sec-default", ()),
        ("parity-sec-flags", ("--cap-add", "sys_time", "--cap-add", "CAP_NET_ADMIN",
                              "--cap-add", "net_admin", "--cap-drop", "chown", "--cap-drop",
                              "ALL", "--read-only", "--security-opt", "no-new-privileges",
                              "--pids-limit", "7", "--ulimit", "nproc=10",
                              "--ulimit", "nofile=100:200", "--ulimit", "core=-1")),
        ("parity-sec-privileged", ("--privileged", "--pids-limit", "-1")),
    ):
        args = ["--name", name, "--net", "none", *flags]
        docker.run("create", "--label", "berth-parity", *args, DOCKER_ARCHIVE_TAG, "true")
        clean("create", *args, image, "true")
        d = json.loads(docker.run("inspect", name).stdout)[0]["HostConfig"]
        b = json.loads(clean("inspect", name).stdout)[0]["HostConfig"]
        assert {f: b[f] for f in SECURITY_FIELDS} == {f: d[f] for f in SECURITY_FIELDS}, name


def test_unknown_capability_error_matches(docker: DockerDaemon, clean: BerthCli,
                                          image: str) -> None:
    d, b = both(docker, clean, image, "--rm", "--net", "none", "--cap-add", "foo", "true")
    assert b.returncode == d.returncode == 125  # type: ignore[attr-defined]
    message = 'Error response from daemon: invalid CapAdd: unknown capability: "CAP_FOO"'
    assert message in d.stderr  # type: ignore[attr-defined]
    assert message in b.stderr  # type: ignore[attr-defined]


RESOURCE_FIELDS = ("Tmpfs", "ShmSize", "NanoCpus", "CpuQuota", "CpuPeriod", "Devices")


def test_resource_fields_in_inspect_match(docker: DockerDaemon, clean: BerthCli,
                                          image: str) -> None:
    for name, flags in (
        ("parity-res-default", ()),
        ("parity-res-flags", ("--tmpfs", "/tmp", "--tmpfs", "/run:size=10m,exec",
                              "--tmpfs", "/x:rw,mode=700,uid=5", "--shm-size", "16m",
                              "--cpus", "1.5", "--device", "/dev/zero:/dev/foo",
                              "--device", "/dev/null", "--device", "/dev/zero:/dev/bar:r",
                              "--stop-signal", "usr1", "--stop-timeout", "3")),
        ("parity-res-quota", ("--cpu-quota", "50000", "--cpu-period", "200000",
                              "--stop-timeout", "-1")),
    ):
        args = ["--name", name, "--net", "none", *flags]
        docker.run("create", "--label", "berth-parity", *args, DOCKER_ARCHIVE_TAG, "true")
        clean("create", *args, image, "true")
        d = json.loads(docker.run("inspect", name).stdout)[0]
        b = json.loads(clean("inspect", name).stdout)[0]
        assert {f: b["HostConfig"].get(f) for f in RESOURCE_FIELDS} == {
            f: d["HostConfig"].get(f) for f in RESOURCE_FIELDS}, name
        assert ("Tmpfs" in b["HostConfig"]) == ("Tmpfs" in d["HostConfig"]), name
        for field in ("StopSignal", "StopTimeout"):
            assert b["Config"].get(field) == d["Config"].get(field), (name, field)


# dockerd mounts the --tmpfs entries in Go map order, which changes from run to run: the mount
# lines are compared sorted.
RESOURCE_REPORT = ("grep -E ' /(tmp|run|dev/shm) ' /proc/mounts | busybox sort;"
                   " busybox stat -c '%n %F %t:%T %a' /dev/foo /dev/null;"
                   " cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us;"
                   " echo data > /tmp/file && cat /tmp/file; touch /x")


def test_resource_outcomes_match(docker: DockerDaemon, clean: BerthCli, image: str) -> None:
    d, b = both(docker, clean, image, "--rm", "--net", "none", "--read-only", "--tmpfs",
                "/tmp", "--tmpfs", "/run:size=10m,exec", "--shm-size", "16m", "--cpus", "1.5",
                "--device", "/dev/zero:/dev/foo", "--device", "/dev/null",
                f"sh\0-c\0{RESOURCE_REPORT}")
    for attribute in ("returncode", "stdout", "stderr"):
        assert getattr(b, attribute) == getattr(d, attribute), attribute


def test_stop_signal_outcome_matches(docker: DockerDaemon, clean: BerthCli,
                                     image: str) -> None:
    script = ('trap "echo got-usr1; exit 3" USR1; echo ready;'
              " while true; do sleep 0.1; done")
    args = ["--name", "parity-stop", "--net", "none", "--stop-signal", "SIGUSR1"]
    docker.run("run", "-d", "--label", "berth-parity", *args, DOCKER_ARCHIVE_TAG,
               "sh", "-c", script)
    clean("run", "-d", *args, image, "sh", "-c", script)
    docker.run("stop", "parity-stop")
    clean("stop", "parity-stop")
    assert clean("logs", "parity-stop").stdout == docker.run("logs", "parity-stop").stdout
    exit_code = "{{.State.ExitCode}}"
    assert clean("inspect", "-f", exit_code, "parity-stop").stdout == docker.run(
        "inspect", "-f", exit_code, "parity-stop").stdout


@pytest.mark.parametrize("flags", [
    ("--tmpfs", "tmp"), ("--tmpfs", "/tmp:bogus"), ("--cpus", "99"),
    ("--cpus", "1", "--cpu-quota", "5000"), ("--cpu-quota", "500"),
    ("--device", "/dev/null:/dev/x:rwz"), ("--stop-signal", "SIGNOPE"),
], ids=["tmpfs-relative", "tmpfs-option", "cpus-range", "cpus-and-quota", "cpu-quota",
        "device-mode", "stop-signal"])
def test_resource_errors_match(docker: DockerDaemon, clean: BerthCli, image: str,
                               flags: tuple[str, ...]) -> None:
    d, b = both(docker, clean, image, "--rm", "--net", "none", *flags, "true")
    assert b.returncode == d.returncode == 125  # type: ignore[attr-defined]
    theirs = d.stderr.splitlines()[0].removeprefix("docker: ")  # type: ignore[attr-defined]
    theirs = theirs.removeprefix("Error response from daemon: ")
    assert theirs in b.stderr  # type: ignore[attr-defined]


PRUNES = [("container", "prune"), ("image", "prune"), ("image", "prune", "-a"),
          ("network", "prune"), ("system", "prune"), ("system", "prune", "-a", "--volumes")]


def test_prunes_ask_first_as_docker_does(docker: DockerDaemon, clean: BerthCli,
                                         image: str) -> None:
    made = {}
    for name, tool, img in (("docker", docker.run, DOCKER_ARCHIVE_TAG), ("berth", clean, image)):
        extra = ["--label", "berth-parity"] if name == "docker" else []
        tool("run", *extra, "--name", "parity-pruned", "--net", "none", img, "true")
        dangling = tool("commit", "parity-pruned").stdout.strip()
        tool("network", "create", "parity-prune-net")
        made[name] = (tool, dangling)
    for command in PRUNES:
        for answer in (b"n\n", b""):
            d = docker.run(*command, input=answer, check=False)
            b = clean(*command, input=answer, check=False)
            assert (b.returncode, b.stdout, b.stderr) == (d.returncode, d.stdout, d.stderr), \
                command
    for name, (tool, dangling) in made.items():
        assert tool("image", "inspect", dangling, check=False).returncode == 0, name
        assert tool("inspect", "parity-pruned", check=False).returncode == 0, name
        assert tool("network", "inspect", "parity-prune-net", check=False).returncode == 0
        for command in (("container", "prune"), ("image", "prune")):
            answered = tool(*command, input=b"y\n")
            assert answered.stdout.startswith("WARNING! This will remove all "), name
        assert tool("image", "inspect", dangling, check=False).returncode != 0, name
        assert tool("inspect", "parity-pruned", check=False).returncode != 0, name
        tool("network", "rm", "parity-prune-net")


@pytest.mark.parametrize("flags", [
    ("--restart", "bogus"), ("--restart", "on-failure:x"), ("--restart", "always:3"),
    ("--restart", "on-failure:-1"), ("--add-host", "bad"), ("--add-host", "h:notip"),
    ("--dns", "notanip"), ("--mac-address", "zz:zz"),
], ids=["restart-unknown", "restart-count-not-integer", "restart-count-with-always",
        "restart-count-negative", "add-host-format", "add-host-ip", "dns", "mac-address"])
def test_flag_errors_match(docker: DockerDaemon, clean: BerthCli, image: str,
                           flags: tuple[str, ...]) -> None:
    d, b = both(docker, clean, image, "-d", "--name", "parity-refused", "--net", "none",
                *flags, "true")
    assert b.returncode == d.returncode == 125  # type: ignore[attr-defined]
    theirs = d.stderr.splitlines()[0].removeprefix("docker: ")  # type: ignore[attr-defined]
    theirs = theirs.removeprefix("Error response from daemon: ")
    assert theirs in b.stderr  # type: ignore[attr-defined]
    # Refused before anything was created.
    assert docker.run("inspect", "parity-refused", check=False).returncode == 1
    assert clean("inspect", "parity-refused", check=False).returncode == 1


def test_killed_container_is_not_restarted(docker: DockerDaemon, clean: BerthCli,
                                           image: str) -> None:
    for tool, img in ((docker.run, DOCKER_ARCHIVE_TAG), (clean, image)):
        tool("run", "-d", "--name", "parity-killed", "--restart", "always", "--net", "none",
             img, "sleep", "100")
        tool("kill", "parity-killed")
    time.sleep(3)  # longer than the first restart back-off of either
    template = "{{.State.Status}} {{.RestartCount}}"
    theirs = docker.run("inspect", "-f", template, "parity-killed").stdout
    assert theirs == "exited 0\n"
    assert clean("inspect", "-f", template, "parity-killed").stdout == theirs


def test_rm_force_of_a_missing_container_matches(docker: DockerDaemon, clean: BerthCli,
                                                 image: str) -> None:
    results = []
    for tool, img in ((docker.run, DOCKER_ARCHIVE_TAG), (clean, image)):
        tool("run", "-d", "--name", "parity-rmf", "--net", "none", img, "sleep", "100")
        results.append(tool("rm", "-f", "parity-rmf", "parity-missing-box", check=False))
    d, b = results
    assert (b.returncode, b.stdout) == (d.returncode, d.stdout) == (0, "parity-rmf\n")
    assert "No such container: parity-missing-box" in d.stderr
    assert "No such container: parity-missing-box" in b.stderr


def test_log_timestamps_match(docker: DockerDaemon, clean: BerthCli, image: str) -> None:
    # dockerd's RFC3339NanoFixed: always nine digits, trailing zeros kept.
    stamped = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z hi$")
    for tool, img in ((docker.run, DOCKER_ARCHIVE_TAG), (clean, image)):
        tool("run", "--name", "parity-logs", "--net", "none", img, "echo", "hi")
        try:
            assert stamped.match(tool("logs", "-t", "parity-logs").stdout.strip())
        finally:
            tool("rm", "parity-logs", check=False)


def test_log_since_and_until_match(docker: DockerDaemon, clean: BerthCli, image: str) -> None:
    outcomes = []
    for tool, img in ((docker.run, DOCKER_ARCHIVE_TAG), (clean, image)):
        tool("run", "--name", "parity-window", "--net", "none", img, "sh", "-c",
             "echo one; sleep 1.2; echo two; sleep 1.2; echo three")
        stamps = [line.split()[0] for line in
                  tool("logs", "-t", "parity-window").stdout.splitlines()]
        seen = []
        for flags in (("--since", stamps[1]), ("--until", stamps[1]),
                      ("--since", stamps[1], "--until", stamps[1]), ("--since", "1h"),
                      ("--until", "1h"), ("--tail", "2", "--since", stamps[2]),
                      ("--since", "yesterday")):
            result = tool("logs", *flags, "parity-window", check=False)
            seen.append((result.returncode, result.stdout))
        tool("rm", "parity-window")
        outcomes.append(seen)
    docker_seen, berth_seen = outcomes
    assert docker_seen[:6] == [(0, "two\nthree\n"), (0, "one\ntwo\n"), (0, "two\n"),
                               (0, "one\ntwo\nthree\n"), (0, ""), (0, "three\n")]
    assert berth_seen[:6] == docker_seen[:6]
    assert docker_seen[6][0] != 0 and berth_seen[6][0] != 0


def test_ps_filters_and_last_match(docker: DockerDaemon, clean: BerthCli, image: str) -> None:
    queries = [
        ("--filter", "name=pf-"), ("--filter", "name=^/pf-a$"), ("-a", "--filter", "name=pf-"),
        ("--filter", "status=exited", "--filter", "name=pf-"),
        ("--filter", "exited=3", "--filter", "name=pf-"),
        ("-a", "--filter", "exited=0", "--filter", "exited=3", "--filter", "name=pf-"),
        ("-a", "--filter", "label=pf"), ("-a", "--filter", "label=pf=two"),
        ("-a", "--filter", "label=pf", "--filter", "label=other"),
        ("-a", "--filter", "before=pf-c", "--filter", "name=pf-"),
        ("-a", "--filter", "since=pf-a", "--filter", "name=pf-"),
        ("-a", "--filter", "status=created", "--filter", "name=pf-"),
        ("-n", "2", "--filter", "name=pf-"), ("-l", "--filter", "name=pf-"),
        ("--filter", "bogus=1"), ("--filter", "status=sleepy"), ("--filter", "nonsense"),
    ]
    outcomes = []
    for tool, img in ((docker.run, DOCKER_ARCHIVE_TAG), (clean, image)):
        tool("run", "--name", "pf-a", "--label", "pf=one", "--net", "none", img,
             "sh", "-c", "exit 3", check=False)
        tool("run", "-d", "--name", "pf-b", "--label", "pf=two", "--label", "other=x",
             "--net", "none", img, "sleep", "60")
        tool("create", "--name", "pf-c", "--net", "none", img, "true")
        seen = []
        for query in queries:
            result = tool("ps", *query, "--format", "{{.Names}}", check=False)
            seen.append((query, result.returncode, sorted(result.stdout.split())))
        tool("rm", "-f", "pf-a", "pf-b", "pf-c")
        outcomes.append(seen)
    docker_seen, berth_seen = outcomes
    assert docker_seen[0][2] == ["pf-b"] and docker_seen[2][2] == ["pf-a", "pf-b", "pf-c"]
    for theirs, ours in zip(docker_seen, berth_seen, strict=True):
        assert ours[2] == theirs[2], ours[0]
        assert (ours[1] == 0) == (theirs[1] == 0), ours[0]


def test_image_filters_match(docker: DockerDaemon, clean: BerthCli, image: str) -> None:
    names = ["pfimg/one:v1", "pfimg/one:v2", "pfimg/team/two:v1", "other/pfimg:v1"]
    queries = [
        ("--filter", "reference=pfimg/*"), ("--filter", "reference=pfimg/*:v1"),
        ("--filter", "reference=pfimg/**"), ("--filter", "reference=*/pfimg"),
        ("--filter", "reference=pfimg/one"), ("--filter", "reference=pfimg/[ot]*"),
        ("--filter", "reference=pfimg/one:v?", "--filter", "reference=other/*"),
        ("--filter", "reference=pfimg/*", "--filter", "dangling=false"),
        ("--filter", "reference=pfimg/*", "--filter", "dangling=true"),
        ("--filter", "reference=pfimg/*", "--filter", "label=no-such"),
        ("--filter", "reference=pfimg/*", "--filter", "before=pfimg/one:v1"),
        ("--filter", "bogus=1"), ("--filter", "dangling=maybe"),
    ]
    outcomes = []
    for tool, img in ((docker.run, DOCKER_ARCHIVE_TAG), (clean, image)):
        for name in names:
            tool("tag", img, name)
        seen = []
        for query in queries:
            result = tool("images", *query, "--format", "{{.Repository}}:{{.Tag}}", check=False)
            seen.append((query, result.returncode, sorted(result.stdout.split())))
        tool("rmi", *names)
        outcomes.append(seen)
    docker_seen, berth_seen = outcomes
    assert docker_seen[1][2] == ["pfimg/one:v1"]
    for theirs, ours in zip(docker_seen, berth_seen, strict=True):
        assert ours[2] == theirs[2], ours[0]
        assert (ours[1] == 0) == (theirs[1] == 0), ours[0]


def test_stop_of_several_containers_runs_in_parallel(docker: DockerDaemon, clean: BerthCli,
                                                     image: str) -> None:
    names = ["parity-stop-a", "parity-stop-b", "parity-stop-c"]
    for tool, img in ((docker.run, DOCKER_ARCHIVE_TAG), (clean, image)):
        for name in names:
            # PID 1 ignores SIGTERM without a handler: each stop waits out its timeout.
            tool("run", "-d", "--name", name, "--net", "none", img, "sleep", "100")
        started = time.monotonic()
        result = tool("stop", "-t", "2", *names)
        elapsed = time.monotonic() - started
        assert result.stdout == "".join(f"{n}\n" for n in names)
        assert elapsed < 5, elapsed  # one timeout, not three


FORMATS = [
    "{{.Config.Cmd}}", "{{.Config.Entrypoint}}", "{{json .Config.Cmd}}", "{{len .Config.Cmd}}",
    "{{index .Config.Cmd 0}}", '{{join .Config.Cmd ","}}',
    "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "{{json .Config.Labels}}",
    "{{if .State.Running}}up{{else}}down{{end}} {{.State.Running}} {{upper .Name}}",
    "{{range .NetworkSettings.Networks}}[{{.IPAddress}}]{{end}}", "{{.HostConfig.Dns}}",
    "{{.Nope}}", "{{index .Config.Cmd 5}}", "{{.Config.Cmd", "{{nofunc .Name}}",
]


@pytest.fixture
def formatted(docker: DockerDaemon, clean: BerthCli, image: str) -> None:
    """The same running container and committed one-tag image on both sides."""
    docker.run("rm", "-f", "parity-fmt", check=False)
    for tool, img in ((docker.run, DOCKER_ARCHIVE_TAG), (clean, image)):
        tool("run", "-d", "--name", "parity-fmt", "--net", "none", "--label", "b=2",
             "--label", "a=1", img, "sh", "-c", "sleep 60")
        tool("commit", "parity-fmt", "parity-fmt:1")


@pytest.mark.parametrize("template", FORMATS)
def test_inspect_formats_match(docker: DockerDaemon, clean: BerthCli, formatted: None,
                               template: str) -> None:
    d = docker.run("inspect", "-f", template, "parity-fmt", check=False)
    b = clean("inspect", "-f", template, "parity-fmt", check=False)
    assert (b.returncode, b.stdout.strip(), b.stderr) == (d.returncode, d.stdout.strip(),
                                                          d.stderr)


@pytest.mark.parametrize("template", [
    "{{index .RepoTags 0}}", "{{len .RepoTags}} {{.RepoTags}} {{json .RepoTags}}",
    "{{range .RepoTags}}<{{.}}>{{end}}", '{{join .RepoTags ","}}', "{{.Config.Entrypoint}}",
])
def test_image_inspect_formats_match(docker: DockerDaemon, clean: BerthCli, formatted: None,
                                     template: str) -> None:
    d = docker.run("image", "inspect", "-f", template, "parity-fmt:1", check=False)
    b = clean("image", "inspect", "-f", template, "parity-fmt:1", check=False)
    assert (b.returncode, b.stdout, b.stderr) == (d.returncode, d.stdout, d.stderr)


@pytest.mark.parametrize("args", [
    ("images", "--format", "table {{.Repository}}\t{{.Tag}}", "parity-fmt"),
    ("images", "--format", "{{json .Repository}} {{.Tag}}", "parity-fmt"),
    ("images", "--format", "{{.Nope}}", "parity-fmt"),
    ("images", "--format", "{{.Repository", "parity-fmt"),
])
def test_listing_formats_match(docker: DockerDaemon, clean: BerthCli, formatted: None,
                               args: tuple[str, ...]) -> None:
    d = docker.run(*args, check=False)
    b = clean(*args, check=False)
    assert (b.returncode, b.stdout, b.stderr) == (d.returncode, d.stdout, d.stderr)


def test_ps_table_format_matches(docker: DockerDaemon, clean: BerthCli,
                                 formatted: None) -> None:
    template = "table {{.Names}}\t{{.Command}}\t{{.State}}"
    # dockerd runs other tests' containers too: the column widths may differ, not the cells.
    d = [re.split(r"\s{2,}", line) for line in docker.run("ps", "--format", template).stdout
         .splitlines()]
    b = [re.split(r"\s{2,}", line) for line in clean("ps", "--format", template).stdout
         .splitlines()]
    assert b[0] == d[0] == ["NAMES", "COMMAND", "STATE"]
    assert [cells for cells in b if cells[0] == "parity-fmt"] == [
        cells for cells in d if cells[0] == "parity-fmt"]


def test_dns_search_and_options_match(docker: DockerDaemon, clean: BerthCli, image: str) -> None:
    # The search and options lines; the nameservers depend on each tool's network.
    def lines(result: object) -> list[str]:
        text = result.stdout  # type: ignore[attr-defined]
        return [line for line in text.splitlines() if line.startswith(("search", "options"))]

    for flags in (("--dns-search", "corp.test", "--dns-search", "lab.test.",
                   "--dns-option", "ndots:2", "--dns-opt", "timeout:3"),
                  ("--dns-search", ".")):
        d, b = both(docker, clean, image, "--rm", "--net", "none", *flags, "cat\0/etc/resolv.conf")
        assert d.returncode == b.returncode == 0  # type: ignore[attr-defined]
        assert lines(b) == lines(d), flags
    d, b = both(docker, clean, image, "--rm", "--dns-search", "bad_domain!", "true")
    assert d.returncode == b.returncode == 125  # type: ignore[attr-defined]
    assert "bad_domain! is not a valid domain" in b.stderr  # type: ignore[attr-defined]
    assert "bad_domain! is not a valid domain" in d.stderr  # type: ignore[attr-defined]


def test_missing_bind_source_is_created_as_docker_does(docker: DockerDaemon, clean: BerthCli,
                                                       image: str, tmp_path: Path) -> None:
    outcomes = []
    for side, tool, img in (("docker", docker.run, DOCKER_ARCHIVE_TAG), ("berth", clean, image)):
        top = tmp_path / side / "made"
        try:
            result = tool("run", "--rm", "--name", "parity-bind-made", "--net", "none", "-v",
                          f"{top}/deeper:/x", img, "sh", "-c", "echo hi > /x/file && ls -ld /x",
                          check=False)
            modes = [oct(path.stat().st_mode & 0o7777) if path.is_dir() else None
                     for path in (top, top / "deeper")]
            written = (top / "deeper" / "file").read_text() if modes[1] else None
            listed = result.stdout.split()[:1]  # the mode column
            outcomes.append((result.returncode, listed, modes, written))
        finally:
            tool("rm", "-f", "parity-bind-made", check=False)
    theirs, ours = outcomes
    assert theirs == (0, ["drwxr-xr-x"], ["0o755", "0o755"], "hi\n")
    assert ours == theirs
