"""The hub's key-encryption secret: seals the private keys the hub keeps in its database.

It seals the server-held content-trust keys (`trust.server.keyring`) and the token-signing
keys (`registry.auth.keyseal`), each under its own derived key. It comes from the setting
`trust_key_secret` (env `BERTH_TRUST_KEY_SECRET`; the name is older than its second use);
without it, from a random secret file in the data directory, made on first start. Hubs that
share one database must share one secret; `berth-hub keys reseal` (`registry.keyreseal`)
moves the stored keys to a new one.
"""

from __future__ import annotations

import logging
import os
import secrets

from registry.config import ConfigError, Problem
from registry.settings import Settings

logger = logging.getLogger(__name__)

__all__ = [
    "MIN_SECRET_BYTES",
    "SECRET_FILE",
    "SECRET_SETTING",
    "configured_secret",
    "key_encryption_secret",
]

SECRET_FILE = "trust-key-secret"
SECRET_SETTING = "trust_key_secret (env BERTH_TRUST_KEY_SECRET)"
MIN_SECRET_BYTES = 16  # the trust service refuses shorter secrets


def configured_secret(settings: Settings) -> bytes | None:
    """The secret `key_encryption_secret` would use, without making one (None: none yet)."""
    if settings.trust_key_secret:
        return settings.trust_key_secret.encode()
    path = settings.data_dir / SECRET_FILE
    return path.read_text().strip().encode() if path.exists() else None


def key_encryption_secret(settings: Settings) -> bytes:
    """The secret sealing the hub's private keys.

    From the settings when given (several replicas must share one); else a random secret kept
    in the data directory, made on first start.

    Raises:
        ConfigError: the configured secret is too short to seal with.
    """
    if settings.trust_key_secret:
        if len(settings.trust_key_secret.encode()) < MIN_SECRET_BYTES:
            raise ConfigError([Problem(SECRET_SETTING, f"must be at least {MIN_SECRET_BYTES} "
                                                       "bytes")])
        return settings.trust_key_secret.encode()
    path = settings.data_dir / SECRET_FILE
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked in: processes starting together all read one whole secret.
        draft = path.with_name(f".{SECRET_FILE}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
            logger.info("created the key-encryption secret in %s", path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip().encode()
