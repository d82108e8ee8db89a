"""Leaving and signalling attached containers as Docker does: the detach keys (`run -it`,
`attach`, `start -ai`, `--detach-keys`, config.json's `detachKeys`), `--sig-proxy`, and the
small listing outputs beside them (`logs --details`, filter errors). Each test drives the real
docker CLI (against dockerd) and berth the same way, through a pseudo-terminal where a user
would have one.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.berth_cli import BerthCli
from tests.support.dockerd import DockerDaemon, docker_cli
from tests.support.images import DOCKER_ARCHIVE_TAG

pytestmark = [pytest.mark.root, pytest.mark.docker, pytest.mark.slow]

DETACH = b"\x10\x11"  # Ctrl-P Ctrl-Q


class Terminal:
    """A command running on a pseudo-terminal, as typed at by a user."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child only ever becomes the command
            try:
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.output = b""

    def read_until(self, needle: bytes, timeout: float = 30) -> bool:
        """Read until `needle` appeared in the output since the start (or the end came)."""
        deadline = time.monotonic() + timeout
        while needle not in self.output and time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # EIO: the command closed the terminal
                    return needle in self.output
                if not chunk:
                    break
                self.output += chunk
        return needle in self.output

    def type(self, data: bytes) -> None:
        os.write(self.fd, data)

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


def _run_terminal(argv: list[str], env: dict[str, str],
                  steps: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    """Type each step's keys once its expected text showed; return (status, output)."""
    term = Terminal(argv, env)
    try:
        for expected, keys in steps:
            assert term.read_until(expected), term.output
            # ash asks the terminal for the cursor position after its prompt and drops what
            # arrives meanwhile: let the reply pass before typing (as a person would).
            time.sleep(0.3)
            term.type(keys)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            term.read_until(b"\0never", 0.1)
            pid, status = os.waitpid(term.pid, os.WNOHANG)
            if pid:
                term.read_until(b"\0never", 0.2)
                os.close(term.fd)
                return os.waitstatus_to_exitcode(status), term.output
        raise AssertionError(f"did not exit; output: {term.output!r}")
    except BaseException:
        term.close()
        raise


class Both:
    """The same commands for docker (against dockerd) and berth."""

    def __init__(self, docker: DockerDaemon, berth: BerthCli, image: str,
                 docker_config: Path) -> None:
        self.docker, self.berth, self.image = docker, berth, image
        cli = docker_cli()
        assert cli is not None
        self.tools: dict[str, tuple[Callable[..., list[str]], dict[str, str], str]] = {
            "docker": (lambda *a: [cli, *a],
                       {**docker.env(), "DOCKER_CONFIG": str(docker_config)}, DOCKER_ARCHIVE_TAG),
            "berth": (berth.command, berth.env, image),
        }

    def argv(self, tool: str, *args: str) -> list[str]:
        command, _, ref = self.tools[tool]
        return command(*(ref if a == "IMAGE" else a for a in args))

    def env(self, tool: str) -> dict[str, str]:
        return self.tools[tool][1]

    def config_dir(self, tool: str) -> Path:
        return Path(self.env(tool)["DOCKER_CONFIG"])

    def run(self, tool: str, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(tool, *args), env=self.env(tool), capture_output=True,
                              text=True, timeout=120, check=False, **kwargs)  # type: ignore

    def running(self, tool: str, name: str) -> bool:
        return self.run(tool, "inspect", "-f", "{{.State.Running}}", name).stdout == "true\n"


@pytest.fixture
def both(docker: DockerDaemon, clean: BerthCli, image: str, tmp_path: Path):  # type: ignore
    config = tmp_path / "docker-config"
    config.mkdir()
    pair = Both(docker, clean, image, config)
    names: list[str] = []
    pair.names = names  # type: ignore[attr-defined]
    try:
        yield pair
    finally:
        if names:
            docker.run("rm", "-f", *names, check=False)
        (clean.root / "docker-config" / "config.json").unlink(missing_ok=True)


TOOLS = ["docker", "berth"]


@pytest.mark.parametrize("tool", TOOLS)
def test_ctrl_p_ctrl_q_leaves_run_attach_and_start_running(both: Both, tool: str) -> None:
    name = f"detach-{tool}"
    both.names.append(name)  # type: ignore[attr-defined]
    status, out = _run_terminal(both.argv(tool, "run", "-it", "--name", name, "IMAGE", "sh"),
                                both.env(tool), [(b"# ", b"echo hi\r"), (b"hi\r\n", DETACH)])
    assert status == 0 and b"read escape sequence" not in out
    assert both.running(tool, name)
    status, out = _run_terminal(both.argv(tool, "attach", name), both.env(tool),
                                [(b"", b"echo again\r"), (b"again\r\n", DETACH)])
    # The docker CLI reports a detached `attach` as an error: the message and status 1.
    assert status == 1 and out.endswith(b"read escape sequence\r\n")
    assert both.running(tool, name)
    assert both.run(tool, "stop", "-t", "1", name).returncode == 0
    status, out = _run_terminal(both.argv(tool, "start", "-ai", name), both.env(tool),
                                [(b"# ", DETACH)])
    assert status == 0 and b"read escape sequence" not in out
    assert both.running(tool, name)
    assert both.run(tool, "stop", "-t", "1", name).returncode == 0


@pytest.mark.parametrize("tool", TOOLS)
def test_detach_keys_flag_config_and_partial_match(both: Both, tool: str) -> None:
    name = f"keys-{tool}"
    both.names.append(name)  # type: ignore[attr-defined]
    assert both.run(tool, "run", "-dit", "--name", name, "IMAGE", "sh").returncode == 0
    # ctrl-a alone is not the sequence: it reaches the shell (ash moves to the line's start),
    # so `b` lands before `echo x` and the shell runs `becho x`.
    status, out = _run_terminal(
        both.argv(tool, "attach", "--detach-keys", "ctrl-a,a", name), both.env(tool),
        [(b"", b"echo x\x01b\r"), (b"becho: not found", b"\x01a")])
    assert status == 1 and out.endswith(b"read escape sequence\r\n")
    assert both.running(tool, name)
    # config.json's detachKeys replaces the default: Ctrl-P Ctrl-Q now go to the shell.
    both.config_dir(tool).mkdir(parents=True, exist_ok=True)
    (both.config_dir(tool) / "config.json").write_text(json.dumps({"detachKeys": "ctrl-x,y"}))
    status, out = _run_terminal(both.argv(tool, "attach", name), both.env(tool),
                                [(b"", DETACH + b"echo zz\r"), (b"zz\r\n", b"\x18y")])
    assert status == 1 and out.endswith(b"read escape sequence\r\n")
    assert both.running(tool, name)


@pytest.mark.parametrize("spec", ["foo", "ctrl-P", "ctrl-p,", "ctrl-1", "ab"])
def test_invalid_detach_keys_are_refused(both: Both, spec: str) -> None:
    name = "badkeys"
    both.names.append(name)  # type: ignore[attr-defined]
    for tool in TOOLS:
        assert both.run(tool, "run", "-d", "--name", name, "IMAGE", "sleep", "60"
                        ).returncode == 0
    d, b = (both.run(tool, "attach", "--no-stdin", "--detach-keys", spec, name)
            for tool in TOOLS)
    # dockerd 20.10 refuses with 400 and CLI 28 words it "unable to upgrade to tcp"; berth
    # gives the daemon's reason.
    assert d.returncode == b.returncode == 1
    assert b.stderr == f"Error response from daemon: Invalid detach keys ({spec}) provided\n"
    d, b = (both.run(tool, "exec", "--detach-keys", spec, name, "true") for tool in TOOLS)
    assert (b.returncode, b.stderr) == (d.returncode, d.stderr)
    # dockerd 20.10 leaves a Created container behind here; berth checks first.
    b = both.run("berth", "run", "--detach-keys", spec, "IMAGE", "true")
    assert b.returncode == 1
    assert len(both.run("berth", "ps", "-aq").stdout.split()) == 1


@pytest.mark.parametrize("flags", [(), ("-t",), ("--sig-proxy=false",)],
                         ids=["proxy", "tty-proxy", "no-proxy"])
@pytest.mark.parametrize("tool", TOOLS)
def test_run_forwards_signals_as_docker(both: Both, tool: str, flags: tuple[str, ...]) -> None:
    name = f"sig-{tool}"
    both.names.append(name)  # type: ignore[attr-defined]
    script = ("trap 'echo got INT; exit 7' INT; trap 'echo got USR1; exit 9' USR1; "
              "echo ready; while true; do sleep 0.1; done")
    proc = subprocess.Popen(both.argv(tool, "run", "--rm", "--name", name, *flags, "IMAGE",
                                      "sh", "-c", script),
                            env=both.env(tool), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        proc.send_signal(signal.SIGINT)
        if "--sig-proxy=false" in flags:
            assert both.run(tool, "kill", "-s", "USR1", name).returncode == 0
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    expected = (b"got USR1", 9) if "--sig-proxy=false" in flags else (b"got INT", 7)
    assert (out.strip(), proc.returncode) == expected


@pytest.mark.parametrize("tool", TOOLS)
def test_attach_forwards_signals_without_tty(both: Both, tool: str) -> None:
    name = f"asig-{tool}"
    both.names.append(name)  # type: ignore[attr-defined]
    script = ("trap 'echo got TERM; exit 8' TERM; "
              "while true; do echo tick; sleep 0.1; done")
    assert both.run(tool, "run", "-d", "--name", name, "IMAGE", "sh", "-c", script
                    ).returncode == 0
    proc = subprocess.Popen(both.argv(tool, "attach", name), env=both.env(tool),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"tick\n"  # attached: output flows through it
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 8 and b"got TERM" in out


def test_logs_details_and_filter_errors_match(both: Both) -> None:
    name = "details"
    both.names.append(name)  # type: ignore[attr-defined]
    for tool in TOOLS:
        both.run(tool, "run", "--name", name, "IMAGE", "sh", "-c", "echo one; echo two >&2")
    d, b = (both.run(tool, "logs", "--details", name) for tool in TOOLS)
    assert (b.stdout, b.stderr) == (d.stdout, d.stderr) == (" one\n", " two\n")
    for command in (["ps"], ["images"], ["network", "ls"], ["container", "prune", "-f"],
                    ["image", "prune", "-f"], ["network", "prune", "-f"],
                    ["ps", "--filter", "status=bogus"], ["ps", "--filter", "exited=x"]):
        args = command if "--filter" in command else [*command, "--filter", "foo=bar"]
        d, b = (both.run(tool, *args) for tool in TOOLS)
        assert (b.returncode, b.stderr) == (d.returncode, d.stderr), args


def test_network_prune_keeps_networks_of_stopped_containers(clean: BerthCli, image: str) -> None:
    # dockerd 20.10 removes such a network and the container then cannot start; berth keeps it.
    clean("network", "create", "kept-net")
    clean("create", "--net", "kept-net", "--name", "idle", image, "true")
    assert clean("network", "prune", "-f").stdout == ""
    assert "kept-net" in clean("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert clean("start", "-a", "idle").returncode == 0
    clean("rm", "idle")
    assert clean("network", "prune", "-f").stdout == "Deleted Networks:\nkept-net\n"


def test_ps_size_matches(both: Both) -> None:
    name = "sized"
    both.names.append(name)  # type: ignore[attr-defined]
    for tool in TOOLS:
        assert both.run(tool, "run", "--name", name, "IMAGE", "sh", "-c",
                        "dd if=/dev/zero of=/f bs=1000 count=5").returncode == 0
    d, b = (both.run(tool, "ps", "-a", "-s", "--filter", f"name={name}",
                     "--format", "{{.Names}}: {{.Size}}") for tool in TOOLS)
    assert b.stdout == d.stdout
    assert b.stdout.startswith(f"{name}: 5kB (virtual ")
    table = both.run("berth", "ps", "-a", "--size").stdout.splitlines()
    assert table[0].split()[-1] == "SIZE" and table[1].endswith(b.stdout.split(": ")[1].strip())


@pytest.mark.parametrize("tool", TOOLS)
def test_detached_rm_container_is_removed_when_it_stops(both: Both, tool: str) -> None:
    name = f"rm-{tool}"
    both.names.append(name)  # type: ignore[attr-defined]
    status, _ = _run_terminal(both.argv(tool, "run", "-it", "--rm", "--name", name, "IMAGE",
                                        "sh"), both.env(tool), [(b"# ", DETACH)])
    assert status == 0 and both.running(tool, name)
    assert both.run(tool, "stop", "-t", "1", name).returncode == 0
    deadline = time.monotonic() + 30
    while name in both.run(tool, "ps", "-a", "--format", "{{.Names}}").stdout.split():
        assert time.monotonic() < deadline, "the --rm container was kept"
        time.sleep(0.1)
