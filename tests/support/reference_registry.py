"""Debian's reference registry (`docker-registry`, Distribution 2.8) as a test process.

Listens on a free loopback port with filesystem storage in a directory of its own, deletes
enabled and no auth. Stopped by its pid.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path

from tests.support.ports import free_port
from tests.support.processes import start_on_free_port, stop_process

__all__ = ["ReferenceRegistry", "ReferenceRegistryUnavailableError"]

logger = logging.getLogger(__name__)

START_TIMEOUT = 60.0  # seconds


class ReferenceRegistryUnavailableError(RuntimeError):
    """`docker-registry` is not installed or did not start."""


class ReferenceRegistry:
    """One `docker-registry serve` process.

    Args:
        workdir: holds the generated config, the storage directory and the log.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> ReferenceRegistry:
        """Start and wait until `GET /v2/` answers.

        Raises:
            ReferenceRegistryUnavailableError: not installed, or did not come up.
        """
        executable = shutil.which("docker-registry")
        if executable is None:
            raise ReferenceRegistryUnavailableError("docker-registry is not installed")
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "config.yml"

        def launch(port: int) -> subprocess.Popen:
            self.port = port
            self._write_config(config)
            with (self.workdir / "registry.log").open("ab") as log:
                return subprocess.Popen([executable, "serve", str(config)],
                                        stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT)

        started = start_on_free_port(launch, lambda port: f"http://127.0.0.1:{port}/v2/",
                                     self.port, START_TIMEOUT)
        if started is not None:
            self._process, self.port = started
            return self
        raise ReferenceRegistryUnavailableError("docker-registry did not start")

    def _write_config(self, config: Path) -> None:
        # JSON is YAML, and the registry reads it as its configuration.
        config.write_text(json.dumps({
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(self.workdir / "data")},
                        "delete": {"enabled": True}},
            "http": {"addr": self.host, "secret": "test-only-secret"},
        }))

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL)."""
        process, self._process = self._process, None
        if process is not None:
            stop_process(process)
