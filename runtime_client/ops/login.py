"""`login [-u USER] [-p PASS | --password-stdin] [SERVER]`: check and save credentials.

The credentials are checked against the registry first (`GET /v2/`, answering its Basic or
Bearer challenge with them), then saved in Docker's config file (0600), where `docker` finds
them too.
"""

from __future__ import annotations

import logging
from typing import TextIO

from runtime_client.config import ClientConfig
from runtime_client.distribution.client import RegistryClient, open_session
from runtime_client.distribution.credentials import Credentials, CredentialStore
from runtime_client.errors import UsageError
from runtime_client.options import LoginOptions

__all__ = ["login", "server_host"]

logger = logging.getLogger(__name__)


def server_host(server: str | None, config: ClientConfig) -> str:
    """The registry host a `login`/`logout` SERVER argument names (default: the default)."""
    if not server:
        return config.default_registry
    host = server.removeprefix("https://").removeprefix("http://").split("/", 1)[0]
    if host in ("index.docker.io", "registry-1.docker.io"):
        return "docker.io"
    return host


async def login(config: ClientConfig, opts: LoginOptions, stdout: TextIO) -> None:
    """Verify `opts`' credentials against the registry and save them.

    Raises:
        UsageError: username or password missing.
        AuthenticationError: the registry refused them.
    """
    if not opts.username or opts.password is None:
        raise UsageError("Cannot perform an interactive login from a non TTY device")
    host = server_host(opts.server, config)
    credentials = Credentials(opts.username, opts.password)
    async with open_session() as session:
        client = RegistryClient(host, session, credentials=credentials,
                                insecure=config.is_insecure(host))
        await client.ping()
    CredentialStore(config.docker_config).save(host, credentials)
    stdout.write("Login Succeeded\n")
