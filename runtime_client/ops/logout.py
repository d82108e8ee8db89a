"""`logout [SERVER]`: forget saved credentials."""

from __future__ import annotations

import logging
from typing import TextIO

from runtime_client.config import ClientConfig
from runtime_client.distribution.credentials import CredentialStore
from runtime_client.ops.login import server_host
from runtime_client.options import LogoutOptions

__all__ = ["logout"]

logger = logging.getLogger(__name__)


def logout(config: ClientConfig, opts: LogoutOptions, stdout: TextIO) -> None:
    """Remove the credentials saved for the server (Docker's wording when there were none)."""
    host = server_host(opts.server, config)
    if CredentialStore(config.docker_config).erase(host):
        stdout.write(f"Removing login credentials for {host}\n")
    else:
        stdout.write(f"Not logged in to {host}\n")
