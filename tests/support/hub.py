"""Start and stop hub processes (`python3 -m registry serve`) for tests.

A `HubProcess` owns one server subprocess on a loopback port with its own data directory. It
can be stopped cleanly (SIGTERM), killed (SIGKILL, to test crash recovery) and started again on
the same port and data directory. Its output goes to a log file that the test report shows when
a test fails (see `tests/conftest.py`).

A port picked free can be taken (by any process's outgoing connection) before the hub binds it;
a first start on a port picked here therefore retries on a fresh port when the bind fails.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from registry.tlscerts import DevCertificates
from tests.support.ports import free_port, http_status, listening_in_tree, wait_until

__all__ = ["REPO_ROOT", "HubError", "HubProcess", "HubSet", "repo_env", "run_hub_cli"]

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]

# Seconds a hub may take to answer its first request, and to exit after SIGTERM.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
# Fresh ports a first start tries when the picked one was taken before the hub bound it.
PORT_ATTEMPTS = 5
_PORT_TAKEN = "address already in use"


class HubError(RuntimeError):
    """A hub process did not start, or exited when it should be running."""


class _PortTakenError(HubError):
    """The hub could not bind its port: another socket took it first."""


def repo_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a subprocess that must run this worktree's code.

    Berth settings inherited from the caller's environment are dropped so that only the
    command line configures the process.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("BERTH_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def run_hub_cli(
    hub: HubProcess, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `berth-hub ARGS --data DIR` on the hub's data directory."""
    return subprocess.run(
        [sys.executable, "-m", "registry", *args, "--data", str(hub.data_dir)],
        cwd=REPO_ROOT, env=repo_env(), input=stdin, capture_output=True, text=True, timeout=120,
    )


class HubProcess:
    """One hub server subprocess listening on 127.0.0.1.

    Args:
        data_dir: the hub's `--data` directory (created when missing).
        log_path: file that collects the process's stdout and stderr (appended across restarts).
        port: port to listen on; a free one when None.
        no_auth: pass `--no-auth` (an open registry).
        tls: certificate and key files to serve https with.
        extra_args: more `serve` arguments.
        env: more environment variables.
        database: a `--database` URL (default: SQLite in the data directory).
        storage: a `--storage` URL (default: the data directory's filesystem storage).
    """

    def __init__(
        self,
        data_dir: Path,
        log_path: Path,
        *,
        port: int | None = None,
        no_auth: bool = True,
        tls: DevCertificates | None = None,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        database: str | None = None,
        storage: str | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.port = port if port is not None else free_port()
        # Only a port nobody has seen yet may change: after a first start, clients know it.
        self._may_change_port = port is None
        self.no_auth = no_auth
        self.tls = tls
        self.extra_args = tuple(extra_args)
        self.env = dict(env or {})
        self.database = database
        self.storage = storage
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, the registry host as clients write it in image names."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The hub's base URL, `http://127.0.0.1:PORT` (https with TLS)."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self._process is not None else None

    def command(self) -> list[str]:
        """The command line that starts this hub."""
        command = [sys.executable, "-m", "registry", "serve", "--listen", self.host,
                   "--data", str(self.data_dir)]
        if self.no_auth:
            command.append("--no-auth")
        if self.tls:
            command += ["--tls-cert", str(self.tls.cert), "--tls-key", str(self.tls.key)]
        if self.database:
            command += ["--database", self.database]
        if self.storage:
            command += ["--storage", self.storage]
        return command + list(self.extra_args)

    def is_running(self) -> bool:
        """Whether the server process exists and has not exited."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> HubProcess:
        """Start the server (again, on the same port and data dir) and wait until it answers.

        Raises:
            HubError: the process exited or did not answer `GET /v2/` in time.
        """
        if self.is_running():
            raise HubError(f"hub on {self.host} is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        retries = PORT_ATTEMPTS - 1 if self._may_change_port else 0
        for _ in range(retries):
            try:
                return self._start_once()
            except _PortTakenError:
                logger.warning("port %s was taken before the hub bound it; trying another",
                               self.port)
                self.port = free_port()
        return self._start_once()

    def _start_once(self) -> HubProcess:
        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            log.write(f"--- starting: {' '.join(self.command())}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                self.command(), cwd=REPO_ROOT, env=repo_env(self.env),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        # Any HTTP answer means the server is up (a hub with auth answers 401).
        ready = wait_until(lambda: not self.is_running() or self._answers(), START_TIMEOUT)
        if not self.is_running():
            code = self._process.returncode
            self._process = None
            message = f"hub exited with status {code} while starting:\n{self.log_tail()}"
            with self.log_path.open("rb") as log:
                log.seek(log_start)
                if _PORT_TAKEN in log.read().decode(errors="replace"):
                    raise _PortTakenError(message)
            raise HubError(message)
        if not ready:
            self.kill()
            raise HubError(f"hub did not answer on {self.url} within {START_TIMEOUT:.0f}s:\n"
                           f"{self.log_tail()}")
        self._may_change_port = False
        logger.info("hub %s running as pid %s", self.url, self.pid)
        return self

    def _answers(self) -> bool:
        # The answer must come from this hub, not from a stranger that took the port.
        return (http_status(f"{self.url}/v2/", timeout=5.0) is not None
                and self.pid is not None and listening_in_tree(self.pid, self.port))

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """Stop with SIGTERM (SIGKILL after `timeout` seconds); return the exit status."""
        return self._end(signal.SIGTERM, timeout)

    def kill(self) -> int | None:
        """Kill with SIGKILL, as a crash would; return the exit status."""
        return self._end(signal.SIGKILL, STOP_TIMEOUT)

    def _end(self, signum: signal.Signals, timeout: float) -> int | None:
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signum)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning("hub pid %s ignored %s; killing it", process.pid, signum.name)
                process.kill()
                process.wait()
        with self.log_path.open("ab") as log:
            log.write(f"--- exited with status {process.returncode}\n".encode())
        return process.returncode

    def log_text(self) -> str:
        """Everything the process (and its restarts) wrote so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        """The last `lines` lines of the log."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def __enter__(self) -> HubProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class HubSet:
    """The hubs one test starts, each with its own log, all stopped together at the end.

    Args:
        workdir: where data directories (unless given) and logs go.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.hubs: list[HubProcess] = []

    def start(self, data_dir: Path | None = None, **options: object) -> HubProcess:
        """Start one more hub; `options` are `HubProcess` keyword arguments.

        Args:
            data_dir: its `--data` directory; pass another hub's to share storage.
            **options: `port`, `no_auth`, `tls`, `extra_args`, `env`, `database`, `storage`.
        """
        number = len(self.hubs)
        hub = HubProcess(data_dir or self.workdir / f"hub{number}-data",
                         self.workdir / f"hub{number}.log", **options)  # type: ignore[arg-type]
        self.hubs.append(hub)
        return hub.start()

    def stop_all(self) -> None:
        """Stop every hub still running."""
        for hub in self.hubs:
            hub.stop()
