"""berth container lifecycle end to end on the busybox image pulled from a hub (root only)."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.berth_cli import BerthCli
from tests.support.ports import wait_until

pytestmark = [pytest.mark.root, pytest.mark.slow]


def inspect(berth: BerthCli, name: str) -> dict:
    return json.loads(berth("inspect", name).stdout)[0]


def test_foreground_run_output_exit_code_and_rm(clean: BerthCli, image: str) -> None:
    result = clean("run", "--rm", "--name", "fg", image, "sh", "-c",
                   "echo out; echo err >&2; exit 3", check=False)
    assert result.returncode == 3
    assert result.stdout == "out\n"
    assert "err\n" in result.stderr
    assert "fg" not in clean("ps", "-a", "--format", "{{.Names}}").stdout.split()


def test_run_options_env_workdir_user_entrypoint_hostname(clean: BerthCli, image: str,
                                                           tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nFROM_FILE=yes\n")
    out = clean("run", "--rm", "-e", "A=1", "--env-file", str(env_file), "-w", "/tmp",
                "-u", "nobody", "--hostname", "boxy", "--entrypoint", "sh", image, "-c",
                'echo "$A $FROM_FILE $(pwd) $(id -u):$(id -g) $(hostname)"').stdout
    assert out == "1 yes /tmp 65534:65534 boxy\n"


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    output = b""
    deadline = time.monotonic() + timeout
    while needle not in output and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the other side of the pty closed
                break
            if not chunk:
                break
            output += chunk
    return output


def test_interactive_tty(clean: BerthCli, image: str) -> None:
    argv = clean.command("run", "-it", "--rm", image, "sh")
    pid, fd = pty.fork()
    if pid == 0:  # the child only ever becomes berth
        try:
            os.execvpe(argv[0], argv, clean.env)
        finally:
            os._exit(127)
    try:
        # Type only once the shell prompts: ash swallows input while it queries the cursor.
        assert b"# " in _read_until(fd, b"# ", 30)
        time.sleep(0.3)
        os.write(fd, b"echo $((6*7)); tty; exit 5\r")
        output = _read_until(fd, b"\x00never", 15)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert b"42" in output
    assert b"/dev/pts/" in output
    assert os.waitstatus_to_exitcode(status) == 5


def test_stdin_without_tty(clean: BerthCli, image: str) -> None:
    result = clean("run", "-i", "--rm", image, "sh", "-c", "wc -l", input=b"a\nb\nc\n")
    assert result.stdout.strip() == "3"


def test_detached_lifecycle_logs_exec_top_rename(clean: BerthCli, image: str) -> None:
    cid = clean("run", "-d", "--name", "box", image, "sh", "-c",
                "for i in 1 2 3 4 5; do echo line$i; done; exec sleep 1000").stdout.strip()
    assert len(cid) == 64
    assert wait_until(lambda: "line5" in clean("logs", "box").stdout, 60)
    assert clean("logs", "--tail", "2", "box").stdout == "line4\nline5\n"
    ps = clean("ps", "--format", "{{.Names}} {{.Status}}").stdout
    assert "box Up" in ps
    assert clean("ps", "-q").stdout.split() == [cid[:12]]
    out = clean("exec", "-e", "X=7", "-w", "/etc", "box", "sh", "-c", 'echo "$X $(pwd)"').stdout
    assert out == "7 /etc\n"
    assert clean("exec", "-u", "nobody", "box", "id", "-u").stdout.strip() == "65534"
    assert clean("exec", "box", "sh", "-c", "exit 4", check=False).returncode == 4
    missing = clean("exec", "box", "no-such-command", check=False)
    assert missing.returncode == 126 and "OCI runtime exec failed" in missing.stderr
    assert "executable file not found" in missing.stderr
    top = clean("top", "box").stdout
    assert "sleep 1000" in top and "PID" in top.splitlines()[0]
    clean("rename", "box", "box2")
    assert inspect(clean, "box2")["Name"] == "/box2"
    started = time.monotonic()
    assert clean("stop", "-t", "1", "box2").stdout == "box2\n"
    assert time.monotonic() - started < 9  # SIGKILL after -t, not Docker's default 10 s
    state = inspect(clean, "box2")["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 137
    assert "Exited (137)" in clean("ps", "-a", "--format", "{{.Status}}").stdout
    clean("start", "box2")
    assert inspect(clean, "box2")["State"]["Running"] is True
    assert clean("restart", "-t", "0", "box2").returncode == 0
    assert inspect(clean, "box2")["State"]["Running"] is True
    clean("kill", "-s", "TERM", "box2")  # pid 1 ignores TERM: still running
    time.sleep(0.3)
    assert inspect(clean, "box2")["State"]["Running"] is True
    removal = clean("rm", "box2", check=False)
    assert removal.returncode == 1
    assert "You cannot remove a running container" in removal.stderr
    assert clean("rm", "-f", "box2").stdout == "box2\n"
    assert clean("ps", "-aq").stdout == ""


def test_logs_follow_ends_when_container_exits(clean: BerthCli, image: str) -> None:
    clean("run", "-d", "--name", "talker", image, "sh", "-c",
          "echo one; sleep 1; echo two >&2; sleep 1; echo three")
    result = clean("logs", "-f", "talker", timeout=30)
    assert result.stdout == "one\nthree\n"
    assert result.stderr == "two\n"


def test_pause_freezes_cpu_and_unpause_resumes(clean: BerthCli, image: str) -> None:
    clean("run", "-d", "--name", "spin", image, "sh", "-c", "while :; do :; done")

    def cpu() -> float:
        return float(clean("stats", "--no-stream", "--format", "{{.CPUPerc}}",
                           "spin").stdout.strip().rstrip("%"))

    # A spinning container shows much CPU, but one 0.5 s sample on a loaded 2-core machine
    # may catch it starved by other processes: it must show it within a minute of sampling.
    assert wait_until(lambda: cpu() > 20.0, 60, interval=0)
    clean("pause", "spin")
    assert inspect(clean, "spin")["State"]["Paused"] is True
    assert "(Paused)" in clean("ps", "--format", "{{.Status}}").stdout
    assert cpu() == 0.0
    assert "is already paused" in clean("pause", "spin", check=False).stderr
    clean("unpause", "spin")
    assert wait_until(lambda: cpu() > 20.0, 60, interval=0)
    table = clean("stats", "--no-stream", "spin").stdout.splitlines()
    assert table[0].split()[:4] == ["CONTAINER", "ID", "NAME", "CPU"]
    assert " / " in table[1]


def test_memory_limit_oom_kill(clean: BerthCli, image: str) -> None:
    result = clean("run", "--name", "hog", "-m", "32m", image, "tail", "/dev/zero",
                   check=False, timeout=120)
    assert result.returncode == 137
    state = inspect(clean, "hog")
    assert state["State"]["OOMKilled"] is True
    assert state["HostConfig"]["Memory"] == 32 * 1024 * 1024


def test_cpu_shares_default_and_set(clean: BerthCli, image: str) -> None:
    clean("run", "-d", "--name", "shares", "-c", "512", image, "sleep", "100")
    cid = inspect(clean, "shares")["Id"]
    assert Path(f"/sys/fs/cgroup/cpu/berth/{cid}/cpu.shares").read_text().strip() == "512"
    clean("run", "-d", "--name", "default", image, "sleep", "100")
    cid = inspect(clean, "default")["Id"]
    assert Path(f"/sys/fs/cgroup/cpu/berth/{cid}/cpu.shares").read_text().strip() == "1024"


def test_volumes_bind_and_named(clean: BerthCli, image: str, host_dir: Path) -> None:
    (host_dir / "in.txt").write_text("from host\n")
    out = clean("run", "--rm", "-v", f"{host_dir}:/mnt", "-v", "vol1:/vol", image, "sh", "-c",
                "cat /mnt/in.txt; echo written > /mnt/out.txt; echo kept > /vol/f").stdout
    assert out == "from host\n"
    assert (host_dir / "out.txt").read_text() == "written\n"
    assert clean("run", "--rm", "-v", "vol1:/data2", image, "cat", "/data2/f").stdout == "kept\n"
    ro = clean("run", "--rm", "-v", f"{host_dir}:/mnt:ro", image, "touch", "/mnt/x",
               check=False)
    assert ro.returncode != 0 and not (host_dir / "x").exists()


def test_cp_both_ways_running_and_stopped(clean: BerthCli, image: str, host_dir: Path) -> None:
    (host_dir / "up.txt").write_text("upload\n")
    clean("run", "-d", "--name", "cpbox", image, "sleep", "1000")
    clean("cp", str(host_dir / "up.txt"), "cpbox:/tmp/")
    assert clean("exec", "cpbox", "cat", "/tmp/up.txt").stdout == "upload\n"
    clean("cp", "cpbox:/etc/berth-release", str(host_dir / "release"))
    assert (host_dir / "release").read_text()
    clean("stop", "-t", "0", "cpbox")
    clean("cp", "cpbox:/tmp/up.txt", str(host_dir / "back.txt"))
    assert (host_dir / "back.txt").read_text() == "upload\n"
    clean("cp", str(host_dir / "back.txt"), "cpbox:/back.txt")
    clean("start", "cpbox")
    assert clean("exec", "cpbox", "cat", "/back.txt").stdout == "upload\n"


def test_restart_policy_without_daemon(clean: BerthCli, image: str) -> None:
    clean("run", "-d", "--name", "flaky", "--restart", "on-failure:2", image, "sh", "-c",
          "exit 1")
    assert wait_until(lambda: inspect(clean, "flaky")["RestartCount"] == 2
                      and inspect(clean, "flaky")["State"]["Status"] == "exited", 60, 0.2)
    assert inspect(clean, "flaky")["State"]["ExitCode"] == 1
    clean("run", "-d", "--rm", "--name", "gone", image, "true")
    assert wait_until(lambda: "gone" not in clean("ps", "-a", "--format",
                                                  "{{.Names}}").stdout.split(), 60, 0.2)


def test_create_start_attach_and_prune(clean: BerthCli, image: str) -> None:
    cid = clean("create", "--name", "later", image, "echo", "hi").stdout.strip()
    assert inspect(clean, "later")["State"]["Status"] == "created"
    result = clean("start", "-a", "later")
    assert result.stdout == "hi\n"
    clean("create", image, "true")
    pruned = clean("container", "prune", "-f").stdout
    assert cid in pruned
    assert clean("ps", "-aq").stdout == ""


def test_unknown_container_and_image(clean: BerthCli, image: str) -> None:
    for verb in ("start", "stop", "rm", "logs", "kill", "pause", "diff", "port", "top"):
        result = clean(verb, "no-such-box", check=False)
        assert result.returncode == 1, verb
        assert "No such container: no-such-box" in result.stderr, verb
    missing = clean("inspect", "no-such-box", check=False)
    assert missing.returncode == 1 and "No such object: no-such-box" in missing.stderr
    result = clean("run", "--rm", "sha256:" + "0" * 64, check=False)
    assert result.returncode == 125
    assert "No such image" in result.stderr or "Unable to find image" in result.stderr


def test_exit_codes_126_127(clean: BerthCli, image: str) -> None:
    assert clean("run", "--rm", image, "no-such-command", check=False).returncode == 127
    assert clean("run", "--rm", image, "/etc", check=False).returncode == 126
    assert clean("run", "--rm", image, "sh", "-c", "exit 42", check=False).returncode == 42


def test_diff_lists_added_changed_deleted(clean: BerthCli, image: str) -> None:
    clean("run", "--name", "changer", image, "sh", "-c",
          "echo new > /etc/new.txt; echo more >> /etc/berth-release; rm /data/hello.txt")
    assert clean("diff", "changer").stdout.splitlines() == [
        "C /data", "D /data/hello.txt", "C /etc", "C /etc/berth-release", "A /etc/new.txt"]



def _socket_count(pid: int) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            count += os.readlink(fd).startswith("socket:")
    return count


def test_attach_to_running_container(clean: BerthCli, image: str, host_dir: Path) -> None:
    # conmon forwards output only to the clients attached when it is written, so the container
    # writes once conmon accepted `berth attach` (it then holds one more socket), not after a
    # sleep that a slow start of `berth attach` could outlast.
    cid = clean("run", "-d", "--name", "att", "-v", f"{host_dir}:/gate", image, "sh", "-c",
                "while [ ! -e /gate/go ]; do sleep 0.1; done; echo attached; exit 7"
                ).stdout.strip()
    conmon = int((clean.root / "containers" / cid / "conmon.pid").read_text())
    sockets = _socket_count(conmon)
    attach = clean.popen("attach", "att", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        assert wait_until(lambda: _socket_count(conmon) > sockets or attach.poll() is not None,
                          60)
        (host_dir / "go").touch()
        out, err = attach.communicate(timeout=60)
    finally:
        if attach.poll() is None:
            attach.kill()
            attach.wait()
    assert out == b"attached\n", err
    assert attach.returncode == 7
