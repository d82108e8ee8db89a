"""A Docker daemon for tests: the one already running, or a private Debian dockerd.

When `docker info` succeeds the running daemon is used as it is. Otherwise `/usr/sbin/dockerd`
is started with its own data root, exec root, pidfile and unix socket under a temporary
directory, and with `--bridge=none --iptables=false --ip-masq=false`, so it creates no bridge,
no iptables chains and no rules: stopping it (by its pid) and removing the directory leaves the
host as it was. Containers then run without a network, which pushing, pulling and
`docker run IMAGE echo` do not need. `start(networking=True)` keeps dockerd's iptables rules
(port publishing, the DOCKER-ISOLATION chains between user networks) for network comparisons,
without its default bridge and without touching the FORWARD policy (`--ip-forward=false`); its
chains and rules are removed when it stops. dockerd treats 127.0.0.0/8 registries as insecure by
default, so `docker push 127.0.0.1:PORT/...` talks plain http to a test hub.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from tests.support.commands import run_command
from tests.support.ports import wait_until

__all__ = ["DOCKERD", "DockerDaemon", "DockerUnavailableError", "docker_cli"]

logger = logging.getLogger(__name__)

DOCKERD = Path("/usr/sbin/dockerd")
# Seconds dockerd may take to answer, and to exit after SIGTERM.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


class DockerUnavailableError(RuntimeError):
    """No Docker daemon is running and none could be started."""


def docker_cli() -> str | None:
    """The first `docker` in PATH, the CLI the tests use."""
    return shutil.which("docker")


class DockerDaemon:
    """A Docker daemon and the environment that points the docker CLI at it.

    Args:
        docker_host: the `DOCKER_HOST` value (None for the CLI's default).
        process: the dockerd process when this object started it.
        root: the temporary directory holding its state when this object started it.
    """

    def __init__(
        self,
        docker_host: str | None,
        process: subprocess.Popen[bytes] | None = None,
        root: Path | None = None,
        networking: bool = False,
    ) -> None:
        self.docker_host = docker_host
        self._process = process
        self.root = root
        self.networking = networking

    @property
    def started_here(self) -> bool:
        """Whether this object started the daemon (and so must stop it)."""
        return self._process is not None

    def env(self) -> dict[str, str]:
        """The environment for docker CLI calls."""
        env = dict(os.environ)
        if self.docker_host:
            env["DOCKER_HOST"] = self.docker_host
        # Keep the tests' CLI from reading or writing the user's credentials and contexts.
        if self.root is not None:
            env["DOCKER_CONFIG"] = str(self.root / "cli-config")
        return env

    def run(self, *args: str, check: bool = True, timeout: float = 300,
            input: bytes | None = None) -> subprocess.CompletedProcess[str]:
        """Run `docker ARGS...` against this daemon and capture its output.

        Raises:
            CommandError: when `check` and the command fails.
        """
        cli = docker_cli()
        if cli is None:
            raise DockerUnavailableError("no docker CLI in PATH")
        return run_command([cli, *args], env=self.env(), check=check, timeout=timeout,
                           input=input)

    @classmethod
    def existing(cls) -> DockerDaemon | None:
        """The daemon the CLI reaches as configured, if `docker info` succeeds."""
        cli = docker_cli()
        if cli is None:
            return None
        result = subprocess.run([cli, "info"], capture_output=True, timeout=30, check=False)
        if result.returncode != 0:
            return None
        return cls(os.environ.get("DOCKER_HOST"))

    @classmethod
    def start(cls, networking: bool = False, config: dict[str, object] | None = None,
              env: dict[str, str] | None = None) -> DockerDaemon:
        """Start a private dockerd and wait until it answers.

        Args:
            networking: let dockerd manage iptables (published ports, network isolation).
            config: its `daemon.json` (e.g. `registry-mirrors`); empty by default.
            env: environment variables to set for it (e.g. `HTTPS_PROXY`).

        Raises:
            DockerUnavailableError: dockerd or the CLI is missing, or dockerd did not come up.
        """
        if docker_cli() is None or not DOCKERD.exists():
            raise DockerUnavailableError("docker CLI or /usr/sbin/dockerd not installed")
        if os.geteuid() != 0:
            raise DockerUnavailableError("starting dockerd needs root")
        # A short path: dockerd and containerd put unix sockets under it.
        root = Path(tempfile.mkdtemp(prefix="berth-dockerd-", dir="/tmp"))
        (root / "daemon.json").write_text(json.dumps(config or {}) + "\n")
        command = [
            str(DOCKERD), "--config-file", str(root / "daemon.json"),
            "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
            "--pidfile", str(root / "dockerd.pid"), "--host", f"unix://{root}/docker.sock",
            "--bridge=none", "--ip-masq=false", "--log-level=warn",
            *(("--iptables=true", "--ip-forward=false") if networking else ("--iptables=false",)),
        ]
        log = (root / "dockerd.log").open("ab")
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   env={**os.environ, **(env or {})})
        log.close()
        daemon = cls(f"unix://{root}/docker.sock", process, root, networking)
        ready = wait_until(lambda: process.poll() is not None or daemon._answers(),
                           START_TIMEOUT, interval=0.3)
        if process.poll() is not None or not ready:
            log_text = daemon.log_tail()
            daemon.stop()
            raise DockerUnavailableError(f"dockerd did not start:\n{log_text}")
        logger.info("started dockerd pid %s at %s", process.pid, daemon.docker_host)
        return daemon

    def _answers(self) -> bool:
        return self.run("version", "--format", "{{.Server.Version}}", check=False,
                        timeout=10).returncode == 0

    def log_tail(self, lines: int = 40) -> str:
        """The end of the private dockerd's log ('' for a daemon started elsewhere)."""
        if self.root is None:
            return ""
        text = (self.root / "dockerd.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop a daemon started here (by pid) and remove its state; no-op otherwise."""
        process, self._process = self._process, None
        if process is None:
            return
        children = _children_of(process.pid)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                logger.warning("dockerd pid %s did not stop; killing it", process.pid)
                process.kill()
                process.wait()
        # dockerd stops its containerd on a clean exit; after a SIGKILL it may not have.
        for pid in children:
            _kill_if_ours(pid, self.root)
        if self.root is not None:
            _unmount_under(self.root)
            shutil.rmtree(self.root, ignore_errors=True)
        if self.networking:
            _remove_docker_chains()


def _children_of(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 (after the parenthesised command name) is the parent pid.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children.append(int(entry.name))
    return children


def _kill_if_ours(pid: int, root: Path | None) -> None:
    """Stop `pid` if its command line still names `root` (so a reused pid is left alone)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return
    if root is None or str(root) not in cmdline:
        return
    os.kill(pid, signal.SIGTERM)
    if not wait_until(lambda: not Path(f"/proc/{pid}").exists(), 10.0, interval=0.1):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _unmount_under(root: Path) -> None:
    prefix = str(root) + "/"
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for mount_point in sorted((m for m in mounts if m.startswith(prefix)), reverse=True):
        subprocess.run(["umount", "-l", mount_point], check=False, capture_output=True)


def _remove_docker_chains() -> None:
    """Remove the DOCKER* chains a networking dockerd made and the rules that jump to them
    (dockerd leaves them behind when it stops)."""
    for table in ("filter", "nat"):
        rules = subprocess.run(["iptables", "-t", table, "-S"], capture_output=True, text=True,
                               check=False).stdout.splitlines()
        chains = [rule.split()[1] for rule in rules if rule.startswith("-N DOCKER")]
        for rule in rules:
            words = shlex.split(rule)
            if words[0] == "-A" and not words[1].startswith("DOCKER") and any(
                    chain in words for chain in chains):
                subprocess.run(["iptables", "-t", table, "-D", *words[1:]],
                               capture_output=True, check=False)
        for flag in ("-F", "-X"):
            for chain in chains:
                subprocess.run(["iptables", "-t", table, flag, chain], capture_output=True,
                               check=False)
