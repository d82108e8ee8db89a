"""A throwaway PostgreSQL cluster (Debian's postgresql 15) for tests.

`initdb` runs as the `postgres` user when the tests run as root (PostgreSQL refuses to run as
root); the server listens on a free loopback port and a private socket directory, with trust
authentication. `stop()` shuts it down and removes the cluster directory.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from tests.support.ports import free_port

__all__ = ["PG_BIN", "PostgresCluster", "PostgresUnavailableError"]

logger = logging.getLogger(__name__)

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PORT_ATTEMPTS = 5


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL binaries are missing or the cluster did not start."""


class PostgresCluster:
    """One cluster in a temporary directory; databases are created per test.

    Args:
        durable: keep fsync on (benchmarks); tests run without it (`-F`) for speed.
    """

    def __init__(self, *, durable: bool = False) -> None:
        if not (PG_BIN / "initdb").exists():
            raise PostgresUnavailableError(f"no PostgreSQL binaries in {PG_BIN}")
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="berth-pg-"))
        self.data_dir = self.workdir / "data"
        self.socket_dir = self.workdir / "sock"
        self.log_path = self.workdir / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        self._started = False
        self._fsync_option = "" if durable else " -F"

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        user_prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        return subprocess.run(
            [*user_prefix, *command], capture_output=True, text=True, check=False,
            cwd=self.workdir,
        )

    def start(self) -> PostgresCluster:
        """initdb and start the server.

        Raises:
            PostgresUnavailableError: either step failed.
        """
        self.socket_dir.mkdir(parents=True)
        if self._as_postgres:
            account = pwd.getpwnam("postgres")
            for path in (self.workdir, self.socket_dir):
                os.chown(path, account.pw_uid, account.pw_gid)
        done = self._run(str(PG_BIN / "initdb"), "-D", str(self.data_dir), "--auth", "trust",
                         "-U", "postgres", "--no-sync", "-E", "UTF8")
        if done.returncode != 0:
            self.stop()
            raise PostgresUnavailableError(f"initdb failed: {done.stderr}")
        # A port picked free can be taken before the server binds it: try a few fresh ones.
        for _ in range(PORT_ATTEMPTS):
            options = (f"-p {self.port} -k {self.socket_dir} -h 127.0.0.1{self._fsync_option} "
                       "-c max_connections=300 -c shared_buffers=64MB")
            done = self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-l",
                             str(self.log_path), "-o", options, "-w", "start")
            log = self.log_path.read_text() if self.log_path.exists() else ""
            if done.returncode == 0 or "could not bind" not in log:
                break
            self.port = free_port()
        if done.returncode != 0:
            log = self.log_path.read_text() if self.log_path.exists() else ""
            self.stop()
            raise PostgresUnavailableError(f"pg_ctl start failed: {done.stderr}\n{log}")
        self._started = True
        return self

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of a database in this cluster."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, stem: str = "berth") -> str:
        """Create an empty database with a unique name; return its URL."""
        name = f"{stem}_{uuid.uuid4().hex[:12]}"
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run(
            [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
            capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            raise PostgresUnavailableError(f"psql {sql!r} failed: {done.stderr}")
        return done.stdout

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove the cluster."""
        if self._started:
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w",
                      "stop")
            self._started = False
        shutil.rmtree(self.workdir, ignore_errors=True)
