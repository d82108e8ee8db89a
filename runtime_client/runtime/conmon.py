"""conmon: the per-container monitor that keeps logs, exit codes and attach sockets.

conmon (2.1) runs `<runtime> create`, holds the container's stdio (a pty with -t), writes every
output line to a k8s-file log (`<timestamp> stdout|stderr F|P <text>`), serves an attach socket
(SOCK_SEQPACKET; each message from conmon starts with a byte 2 = stdout or 3 = stderr, bytes
sent to it are the container's stdin), writes the exit status to `<exit-dir>/<id>`, and then
runs the exit command: berth's `container cleanup`, which is how `--rm` and `--restart` work
without a daemon. Its start-up result (the container PID or an error) arrives on the sync pipe
(`_OCI_SYNCPIPE`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runtime_client.container_errors import (
    CommandNotExecutableError,
    CommandNotFoundError,
    OciRuntimeError,
)

logger = logging.getLogger(__name__)

STDOUT_BYTE = 2
STDERR_BYTE = 3
_ATTACH_BUF = 8192 + 1


@dataclass(frozen=True)
class ConmonOptions:
    """Everything one conmon invocation needs."""

    container_id: str
    name: str
    bundle: Path
    runtime_binary: str
    runtime_root: Path
    log_path: Path
    exit_dir: Path
    socket_dir: Path
    persist_dir: Path
    conmon_pidfile: Path
    exit_command: Sequence[str]
    tty: bool = False
    stdin: bool = False


def conmon_path() -> str:
    """The conmon binary (Debian ships it in /usr/bin; Podman's copy as a fallback)."""
    for candidate in (shutil.which("conmon"), "/usr/libexec/podman/conmon"):
        if candidate and os.path.exists(candidate):
            return candidate
    raise OciRuntimeError("conmon is not installed")


def classify_start_error(message: str) -> OciRuntimeError:
    """Map a runtime's create error to Docker's exit codes (127 not found, 126 cannot run)."""
    text = f"OCI runtime create failed: {message}"
    lowered = message.lower()
    if "executable file not found" in lowered or "no such file or directory" in lowered:
        return CommandNotFoundError(text)
    if "permission denied" in lowered or "is a directory" in lowered or "exec format" in lowered:
        return CommandNotExecutableError(text)
    return OciRuntimeError(text)


def runtime_log_message(log_file: Path) -> str:
    """The last error a runtime (runc, crun) wrote to its JSON log (`--log-format json`).

    An error entry without a `msg` leaves the one before it standing, so the user still
    sees the runtime's explanation rather than nothing.
    """
    message = ""
    with contextlib.suppress(FileNotFoundError):
        for line in log_file.read_text().splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                entry = json.loads(line)
                if entry.get("level") in ("error", "fatal"):
                    message = entry.get("msg", message)
    return message


def start_conmon(opts: ConmonOptions) -> int:
    """Run conmon, which creates (not starts) the container; return the container's PID.

    Raises:
        CommandNotFoundError, CommandNotExecutableError, OciRuntimeError: create failed.
    """
    runtime_log = opts.bundle / "runtime.log"
    with contextlib.suppress(FileNotFoundError):
        runtime_log.unlink()
    argv = [
        conmon_path(), "--api-version", "1",
        "-c", opts.container_id, "-u", opts.container_id, "-n", opts.name,
        "-r", opts.runtime_binary, "-b", str(opts.bundle), "-p", str(opts.bundle / "pidfile"),
        "--exit-dir", str(opts.exit_dir), "--persist-dir", str(opts.persist_dir),
        "--socket-dir-path", str(opts.socket_dir), "--full-attach",
        "-l", f"k8s-file:{opts.log_path}", "--log-level", "warning",
        "--conmon-pidfile", str(opts.conmon_pidfile),
        "--runtime-arg", "--log-format=json", "--runtime-arg", f"--log={runtime_log}",
        "--runtime-arg", f"--root={opts.runtime_root}",
    ]
    if opts.exit_command:
        argv += ["--exit-command", opts.exit_command[0]]
        for arg in opts.exit_command[1:]:
            argv += ["--exit-command-arg", arg]
    if opts.tty:
        # As dockerd: a client leaving a tty container (detach keys, a closed `attach`)
        # does not close its stdin; without a tty, end of input does.
        argv += ["-t", "--leave-stdin-open"]
    if opts.stdin:
        argv.append("-i")
    for d in (opts.exit_dir, opts.socket_dir, opts.persist_dir):
        d.mkdir(parents=True, exist_ok=True)
    stderr_path = opts.bundle / "conmon.stderr"
    read_fd, write_fd = os.pipe()
    try:
        # The exit command is `python -m runtime_client`: make it import this very package.
        package_root = str(Path(__file__).resolve().parents[2])
        python_path = os.pathsep.join(
            p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
        env = dict(os.environ, _OCI_SYNCPIPE=str(write_fd), PYTHONPATH=python_path)
        with open(stderr_path, "wb") as err:
            # conmon also writes an `oom` marker into its working directory after an OOM kill:
            # keep it beside the container's state, not wherever berth was started.
            proc = subprocess.Popen(argv, env=env, pass_fds=(write_fd,), cwd=opts.persist_dir,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err, start_new_session=True)
        os.close(write_fd)
        write_fd = -1
        # conmon forks a monitor and its first process exits; the monitor reports one JSON
        # line {"data": pid or -1, "message": ...} once the runtime's create finished.
        with os.fdopen(read_fd, "rb") as sync:
            read_fd = -1
            payload = sync.readline()
        proc.wait(timeout=60)
    finally:
        for fd in (read_fd, write_fd):
            if fd >= 0:
                os.close(fd)
    result: dict[str, object] = {}
    for line in payload.decode(errors="replace").splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            result = json.loads(line)
            break
    pid = result.get("data", -1)
    if not isinstance(pid, int) or pid <= 0:
        message = str(result.get("message") or runtime_log_message(runtime_log)
                      or stderr_path.read_text(errors="replace").strip() or "conmon failed")
        raise classify_start_error(message)
    return pid


def read_exit_code(exit_dir: Path, container_id: str) -> int | None:
    """The exit status conmon recorded, or None while the container still runs."""
    try:
        text = (exit_dir / container_id).read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.lstrip("-").isdigit() else None


def connect_attach(socket_path: Path, timeout: float = 10.0) -> socket.socket:
    """Connect to a container's attach socket (via /proc to dodge the 108-byte path limit).

    conmon creates the socket shortly after reporting the container's PID, so a missing socket
    is retried until `timeout` seconds passed.

    Raises:
        OciRuntimeError: the socket never appeared.
    """
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            dir_fd = os.open(socket_path.parent, os.O_PATH)
            try:
                sock.connect(f"/proc/self/fd/{dir_fd}/{socket_path.name}")
            finally:
                os.close(dir_fd)
            return sock
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            sock.close()
            if time.monotonic() > deadline:
                raise OciRuntimeError(f"cannot attach: {exc}") from exc
            time.sleep(0.005)


def recv_frame(sock: socket.socket) -> tuple[int, bytes] | None:
    """One message from the attach socket: (stream byte, data), or None at end."""
    data = sock.recv(_ATTACH_BUF)
    if not data:
        return None
    return data[0], data[1:]


def resize_terminal(bundle: Path, rows: int, cols: int) -> None:
    """Ask conmon to resize the container's pty (through its `ctl` FIFO)."""
    ctl = bundle / "ctl"
    with contextlib.suppress(OSError):
        fd = os.open(ctl, os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, f"1 {rows} {cols}\n".encode())
        finally:
            os.close(fd)
