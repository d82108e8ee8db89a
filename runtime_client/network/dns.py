"""Keeping aardvark-dns's records of a live container in step with its names.

Scope: rewriting the names of a container that is already attached (after `rename`); adding
and removing records stays with netavark `setup` and `teardown`.

The layout is netavark 1.4's. Under `<netavark config>/aardvark-dns/` there is one file per
DNS-enabled network, named after it: a first line with the addresses aardvark-dns listens on,
then one line per attached container,
`ID IPV4,... IPV6,... NAME,ALIAS,...[ DNS_SERVER,...]` (an empty list is an empty field).
netavark serialises its commits with an exclusive flock on `<netavark config>/aardvark.lock`
and then sends SIGHUP to the aardvark-dns process whose pid is in `aardvark-dns/aardvark.pid`,
which re-reads every file. This module takes the same lock, replaces the names field of the
container's lines (atomically: the server may read at any moment) and sends the same signal.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import tempfile
from collections.abc import Sequence
from pathlib import Path

from runtime_client.ops.context import Context
from runtime_client.runtime.container import Container
from runtime_client.runtime.store import file_lock

__all__ = ["AARDVARK_DIR", "refresh_names", "set_names"]

logger = logging.getLogger(__name__)

AARDVARK_DIR = "aardvark-dns"
_COMMIT_LOCK = "aardvark.lock"
_PID_FILE = "aardvark.pid"
_NAMES_FIELD = 3


def refresh_names(ctx: Context, container: Container) -> None:
    """Give the container's live records its current name and aliases (after `rename`).

    The names are the ones a fresh attach would give netavark: name, short ID, aliases.
    A failure is logged, not raised: the records catch up when the container restarts.
    """
    attached = {name: att for name, att in container.networks.items() if att.ip_address}
    if not attached:
        return
    try:
        with file_lock(ctx.layout.locks / "network.lock"):
            for network, att in attached.items():
                names = [container.name, container.id[:12], *att.aliases]
                set_names(ctx.layout.netavark_config, network, container.id, names)
    except OSError as exc:
        logger.warning("updating the DNS names of %s: %s", container.id[:12], exc)


def set_names(config_dir: Path, network: str, container_id: str,
              names: Sequence[str]) -> bool:
    """Make the container's records on `network` answer exactly `names`.

    Args:
        config_dir: netavark's `--config` directory.
        network: a network the container is attached to (one without DNS has no records).
        container_id: the full container ID (the first field of its records).
        names: the container's DNS names, its name first.

    Returns:
        True when a record changed and aardvark-dns was told to reload.

    Raises:
        OSError: a record file could not be rewritten.
    """
    directory = config_dir / AARDVARK_DIR
    with file_lock(config_dir / _COMMIT_LOCK):
        path = directory / network
        try:
            text = path.read_text()
        except FileNotFoundError:
            return False
        updated = _with_names(text, container_id, names)
        if updated == text:
            return False
        _replace(path, updated)
        _reload(directory)
    return True


def _with_names(text: str, container_id: str, names: Sequence[str]) -> str:
    """The record file `text` with the names field of the container's lines replaced."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines[1:], start=1):
        fields = line.rstrip("\n").split(" ")
        if fields[0] == container_id and len(fields) > _NAMES_FIELD:
            fields[_NAMES_FIELD] = ",".join(dict.fromkeys(names))
            lines[index] = " ".join(fields) + "\n"
    return "".join(lines)


def _replace(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _serves(pid: int, directory: Path) -> bool:
    """True when process `pid` is an aardvark-dns whose `--config` is `directory`."""
    proc = Path(f"/proc/{pid}")
    argv = [os.fsdecode(arg) for arg in (proc / "cmdline").read_bytes().split(b"\0")]
    if not argv or not argv[0].endswith("aardvark-dns"):
        return False
    for flag, value in itertools.pairwise(argv):
        if flag in ("--config", "-c"):
            configured = Path(os.readlink(proc / "cwd")) / value
            return configured.resolve() == directory.resolve()
    return False


def _reload(directory: Path) -> None:
    """SIGHUP the aardvark-dns serving `directory`; none running means none to tell."""
    try:
        pid = int((directory / _PID_FILE).read_text().strip())
        ours = _serves(pid, directory)
    except (OSError, ValueError):
        ours = False
    # A stale pid file may name an unrelated process: only our own server is signalled.
    if not ours:
        logger.debug("no aardvark-dns running for %s", directory)
        return
    os.kill(pid, signal.SIGHUP)
