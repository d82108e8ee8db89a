"""Registry credentials in Docker's `config.json` format, so existing Docker logins work.

Scope: reading, saving and erasing `auths` entries (`{"auths": {"HOST": {"auth":
base64("user:password")}}}`) in `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. Other
keys in the file are kept as they are. The file is written atomically with mode 0600.
Credential helpers (`credsStore`, `credHelpers`) are not supported: entries that only name a
helper are treated as absent.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime_client.errors import RuntimeClientError

__all__ = ["DOCKER_HUB_AUTH_KEY", "CredentialStore", "Credentials", "auth_key"]

logger = logging.getLogger(__name__)

# Docker keys Docker Hub credentials by its v1 index URL, not by a host name.
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"


@dataclass(frozen=True, slots=True)
class Credentials:
    """A username and password (or identity token) for one registry."""

    username: str
    password: str


def auth_key(host: str) -> str:
    """The `auths` key Docker uses for a registry host."""
    if host in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        return DOCKER_HUB_AUTH_KEY
    return host


def _normalise(key: str) -> str:
    """Strip scheme and path so `https://host:5000/v2/` and `host:5000` compare equal."""
    text = key.removeprefix("https://").removeprefix("http://")
    return text.split("/", 1)[0]


class CredentialStore:
    """The `auths` section of one Docker client config file.

    Args:
        path: the `config.json` path.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise RuntimeClientError(f"{self.path}: not valid JSON: {exc}") from exc
        return data if isinstance(data, dict) else {}

    def get(self, host: str) -> Credentials | None:
        """The saved credentials for `host`, or None."""
        auths = self._load().get("auths") or {}
        wanted = _normalise(auth_key(host))
        for key, entry in auths.items():
            if _normalise(key) != wanted or not isinstance(entry, dict):
                continue
            if entry.get("identitytoken"):
                return Credentials("<token>", str(entry["identitytoken"]))
            if entry.get("auth"):
                try:
                    decoded = base64.b64decode(entry["auth"]).decode()
                except (binascii.Error, UnicodeDecodeError):
                    logger.warning("ignoring malformed auth entry for %s", key)
                    continue
                username, _, password = decoded.partition(":")
                return Credentials(username, password)
            if entry.get("username"):
                return Credentials(str(entry["username"]), str(entry.get("password", "")))
        return None

    def save(self, host: str, credentials: Credentials) -> None:
        """Store credentials for `host` (replacing any), keeping the rest of the file."""
        data = self._load()
        auths = {k: v for k, v in (data.get("auths") or {}).items()
                 if _normalise(k) != _normalise(auth_key(host))}
        token = f"{credentials.username}:{credentials.password}".encode()
        auths[auth_key(host)] = {"auth": base64.b64encode(token).decode()}
        data["auths"] = auths
        self._write(data)

    def erase(self, host: str) -> bool:
        """Forget `host`'s credentials; returns False when there were none."""
        data = self._load()
        auths = data.get("auths") or {}
        kept = {k: v for k, v in auths.items() if _normalise(k) != _normalise(auth_key(host))}
        if len(kept) == len(auths):
            return False
        data["auths"] = kept
        self._write(data)
        return True

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".config.json.")
        try:
            with os.fdopen(fd, "w") as f:
                os.fchmod(f.fileno(), 0o600)
                json.dump(data, f, indent="\t")
                f.write("\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
