"""Where `berth` keeps things and which registry it talks to by default.

Scope: resolving the client's configuration from flags, environment and the root's settings
file into one frozen value, and opening the stores under the root. Nothing here does I/O at
import time.

Settings, first match wins:
- root: `--root`, `$BERTH_ROOT`, `/var/lib/berth`.
- default registry: `$BERTH_DEFAULT_REGISTRY`, `"default-registry"` in `<root>/settings.json`,
  `docker.io`.
- Docker credentials file: `$DOCKER_CONFIG/config.json`, `~/.docker/config.json`; its
  `"detachKeys"` is the default of `--detach-keys`, as for the docker CLI.
- registries spoken to over plain HTTP: loopback hosts always (as Docker does), plus
  `$BERTH_INSECURE_REGISTRIES` (comma separated) and `"insecure-registries"` in settings.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from runtime_client.images.naming import DOCKER_HUB

if TYPE_CHECKING:
    from runtime_client.content.store import ContentStore
    from runtime_client.images.store import ImageStore

__all__ = ["DEFAULT_ROOT", "ClientConfig", "Stores", "configured_detach_keys",
           "content_trust_enabled", "open_stores"]

logger = logging.getLogger(__name__)

DEFAULT_ROOT = Path("/var/lib/berth")


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """The resolved configuration of one `berth` invocation."""

    root: Path
    default_registry: str = DOCKER_HUB
    docker_config: Path = field(default_factory=lambda: Path.home() / ".docker" / "config.json")
    insecure_registries: frozenset[str] = frozenset()

    @classmethod
    def resolve(cls, root: str | None, env: Mapping[str, str]) -> ClientConfig:
        """Build the configuration from a `--root` value (or None) and an environment."""
        root_path = Path(root or env.get("BERTH_ROOT") or DEFAULT_ROOT)
        settings = _read_settings(root_path / "settings.json")
        default_registry = (
            env.get("BERTH_DEFAULT_REGISTRY") or settings.get("default-registry") or DOCKER_HUB
        )
        docker_dir = env.get("DOCKER_CONFIG")
        docker_config = (
            Path(docker_dir) / "config.json"
            if docker_dir
            else Path(env.get("HOME") or Path.home()) / ".docker" / "config.json"
        )
        insecure = {h.strip() for h in env.get("BERTH_INSECURE_REGISTRIES", "").split(",")}
        configured = settings.get("insecure-registries")
        if isinstance(configured, list):
            insecure.update(str(host) for host in configured)
        insecure.discard("")
        return cls(root_path, str(default_registry), docker_config, frozenset(insecure))

    def is_insecure(self, host: str) -> bool:
        """True when `host` is spoken to over plain HTTP."""
        if host in self.insecure_registries:
            return True
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in ("localhost", "[::1]") or name.startswith("127.")


@dataclass(frozen=True, slots=True)
class Stores:
    """The content and image stores under one root."""

    content: ContentStore
    images: ImageStore

    def close(self) -> None:
        """Release the image store's database connections."""
        self.images.close()


def open_stores(config: ClientConfig) -> Stores:
    """Open (creating when needed) the stores under `config.root`."""
    # Imported here: the image database (SQLAlchemy) is not needed by every command.
    from runtime_client.content.store import ContentStore
    from runtime_client.images.store import ImageStore

    content = ContentStore(config.root)
    return Stores(content, ImageStore(config.root, content, config.default_registry))


def content_trust_enabled(env: Mapping[str, str], disable_flag: bool | None) -> bool:
    """Whether Docker Content Trust applies: an explicit `--disable-content-trust[=false]`
    wins over `DOCKER_CONTENT_TRUST`."""
    if disable_flag is not None:
        return not disable_flag
    return env.get("DOCKER_CONTENT_TRUST", "").lower() in ("1", "true", "yes")


def configured_detach_keys(config: ClientConfig) -> str:
    """`"detachKeys"` from the client's config.json, or "" when it names none."""
    keys = _read_settings(config.docker_config).get("detachKeys")
    return keys if isinstance(keys, str) else ""


def _read_settings(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        logger.warning("ignoring unreadable settings file %s", path)
        return {}
    return data if isinstance(data, dict) else {}
