"""A moto S3 server subprocess on a loopback port: a real HTTP S3 endpoint for tests.

The server runs as its own process (`python -m moto.server`) so that hub subprocesses and the
test process reach it the same way, over HTTP. Buckets are cheap: give each test its own.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
from botocore.config import Config

from tests.support.ports import free_port
from tests.support.processes import start_on_free_port, stop_process

__all__ = ["S3_CREDENTIALS", "S3Server", "S3ServerError"]

logger = logging.getLogger(__name__)

# moto accepts any credentials; the hub reads these through the standard AWS chain.
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "berth-test",
    "AWS_SECRET_ACCESS_KEY": "berth-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}
START_TIMEOUT = 60.0  # seconds


class S3ServerError(RuntimeError):
    """The moto server did not start."""


class S3Server:
    """One `moto.server` process.

    Args:
        log_path: where its output goes.
    """

    def __init__(self, log_path: Path) -> None:
        self.log_path = Path(log_path)
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._client = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        """Start the server and wait until it answers.

        A port picked free can be taken before the server binds it: when the server exits
        while starting, it is started again on a fresh port (a few times).

        Raises:
            S3ServerError: it exited or did not answer in time.
        """
        def launch(port: int) -> subprocess.Popen:
            with self.log_path.open("ab") as log:
                return subprocess.Popen(
                    [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                )

        started = start_on_free_port(launch, lambda port: f"http://127.0.0.1:{port}/moto-api/",
                                     self.port, START_TIMEOUT)
        if started is not None:
            self._process, self.port = started
            return self
        raise S3ServerError(f"moto server did not start: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            stop_process(process)

    def client(self):
        """A boto3 S3 client for this server (made once: building one takes ~0.1 s)."""
        if self._client is None:
            self._client = self._new_client()
        return self._client

    def _new_client(self):
        return boto3.session.Session(
            aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=S3_CREDENTIALS["AWS_DEFAULT_REGION"],
        ).client(
            "s3", endpoint_url=self.endpoint_url, config=Config(s3={"addressing_style": "path"})
        )

    def new_bucket(self, stem: str = "berth") -> str:
        """Create a bucket with a unique name and return the name."""
        name = f"{stem}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self) -> dict[str, str]:
        """Environment for a hub process using this server (credentials, endpoint, path style)."""
        return {
            **S3_CREDENTIALS,
            "BERTH_S3_ENDPOINT_URL": self.endpoint_url,
            "BERTH_S3_PATH_STYLE": "true",
        }
