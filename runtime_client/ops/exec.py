"""`berth exec [-i] [-t] [-e] [-w] [-u] [-d] [--privileged] CONTAINER CMD...`: a new process
in a running container, run in the foreground by the OCI runtime (which copies a pty itself
with -t). It gets the container's capabilities, no_new_privs and ulimits, as in Docker;
`--privileged` gives it every capability (the container's seccomp filter still applies)."""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import subprocess
import sys
from dataclasses import dataclass
from typing import BinaryIO

from runtime_client.container_errors import CommandNotExecutableError, InvalidStateError
from runtime_client.ops.context import Context
from runtime_client.ops.create import merge_env
from runtime_client.runtime import lifecycle
from runtime_client.runtime.conmon import classify_start_error, runtime_log_message
from runtime_client.runtime.container import Status
from runtime_client.runtime.spec import process_dict

logger = logging.getLogger(__name__)

RUNTIME_START_FAILED = 255  # runc's status when the process could not be started


@dataclass(frozen=True)
class ExecOptions:
    """Options of `exec`."""

    container: str
    command: tuple[str, ...]
    interactive: bool = False
    tty: bool = False
    detach: bool = False
    env: tuple[str, ...] = ()
    workdir: str = ""
    user: str = ""
    privileged: bool = False


def exec_(ctx: Context, opts: ExecOptions, stdin: BinaryIO | None = None,
          stdout: BinaryIO | None = None, stderr: BinaryIO | None = None) -> int:
    """Run a command in a running container; returns its exit code.

    Raises:
        NoSuchContainerError, InvalidStateError: not running or paused.
        CommandNotExecutableError: the command cannot be started (Docker's exit 126).
    """
    container = ctx.containers.find(opts.container)
    if container.status is Status.PAUSED:
        raise InvalidStateError(
            f"Container {container.id} is paused, unpause the container before exec")
    if container.status is not Status.RUNNING:
        raise InvalidStateError(f"Container {container.id} is not running")
    rootfs = ctx.layout.rootfs(container.id)
    process = lifecycle.build_process(
        ctx, container, rootfs, list(opts.command), merge_env(container.env, list(opts.env)),
        opts.workdir or container.workdir, opts.user or container.user, opts.tty,
        opts.privileged)
    exec_dir = ctx.layout.container_dir(container.id) / "exec"
    exec_dir.mkdir(exist_ok=True)
    token = secrets.token_hex(16)
    process_file = exec_dir / f"{token}.json"
    log_file = exec_dir / f"{token}.log"
    process_file.write_text(json.dumps(process_dict(process)))
    runtime = ctx.runtime(container.runtime)
    argv = runtime.exec_argv(container.id, process_file, opts.tty)
    argv[1:1] = ["--log", str(log_file), "--log-format", "json"]
    if opts.detach:
        argv.insert(argv.index("exec") + 1, "--detach")
    try:
        proc = subprocess.run(
            argv, check=False,
            stdin=(stdin or sys.stdin.buffer) if opts.interactive else subprocess.DEVNULL,
            stdout=stdout or sys.stdout.buffer, stderr=stderr or sys.stderr.buffer)
        if proc.returncode == RUNTIME_START_FAILED:
            message = runtime_log_message(log_file)
            if message:
                error = classify_start_error(message)
                raise CommandNotExecutableError(
                    str(error).replace("OCI runtime create failed", "OCI runtime exec failed"))
        return proc.returncode
    finally:
        for f in (process_file, log_file):
            with contextlib.suppress(FileNotFoundError):
                f.unlink()
