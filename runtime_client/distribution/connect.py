"""Building a `RegistryClient` for a host from the client configuration (credentials, HTTP)."""

from __future__ import annotations

import aiohttp

from runtime_client.config import ClientConfig
from runtime_client.distribution.client import RegistryClient
from runtime_client.distribution.credentials import CredentialStore

__all__ = ["client_for"]


def client_for(config: ClientConfig, host: str, session: aiohttp.ClientSession) -> RegistryClient:
    """A client for `host` with its saved credentials and the configured scheme."""
    credentials = CredentialStore(config.docker_config).get(host)
    return RegistryClient(host, session, credentials=credentials,
                          insecure=config.is_insecure(host))
