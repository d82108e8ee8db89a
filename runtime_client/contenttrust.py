"""Docker Content Trust for `pull` and `push`, on top of the `trust` library.

When trust is on (`DOCKER_CONTENT_TRUST=1`, or `--disable-content-trust=false`):
- `pull NAME:TAG` refreshes the repository's TUF data from the trust server, verifies it
  (`trust.client.updater`), and pulls the digest the tag is signed as (role priority:
  `targets/releases`, then `targets`, as Docker). A tag with no valid signature is refused.
- `push NAME:TAG` pushes, then signs the tag's manifest digest and size into the trust data,
  creating the repository's trust data on first use: the offline root key (reused when one
  exists) and the repository's tagging (targets) key, encrypted with passphrases from
  `DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE` / `DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE` or a
  terminal prompt.

Where things are, as Docker keeps them: keys and metadata cache under `<docker config>/trust`,
the trust server at `$DOCKER_CONTENT_TRUST_SERVER` (default: the registry's own origin), its CA
certificate at `<docker config>/tls/<host:port>/ca.crt` when present. The GUN is the canonical
repository name (`host/name`).

Scope: glue only. The `trust` library is synchronous (urllib); callers run these functions
in a worker thread.
"""

from __future__ import annotations

import getpass
import logging
import ssl
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from registry.oci.digest import Digest
from runtime_client.config import ClientConfig
from runtime_client.distribution.credentials import CredentialStore
from runtime_client.errors import RuntimeClientError
from trust.client.cache import MetadataCache
from trust.client.trusted_set import TrustedSet
from trust.client.updater import Updater, list_targets, resolve
from trust.keystore.store import KeyStore, PassphraseRetriever
from trust.remote import HttpRemoteStore, RemoteError
from trust.remote_auth import TokenAuthenticator
from trust.signer import Repository
from trust.tuf.errors import (
    PassphraseError,
    RepositoryNotInitializedError,
    TargetNotFoundError,
    TrustError,
)

__all__ = ["TrustContext", "TrustVerificationError"]

logger = logging.getLogger(__name__)


class TrustVerificationError(RuntimeClientError):
    """Content trust refused a tag: unsigned, tampered with, or trust data unavailable."""

    daemon_style = False


@dataclass(frozen=True)
class TrustContext:
    """Everything needed to talk to one registry's trust server."""

    config: ClientConfig
    env: Mapping[str, str]
    registry_host: str

    @property
    def trust_dir(self) -> Path:
        """`<docker config dir>/trust`: keys (`private/`) and the metadata cache (`tuf/`)."""
        return self.config.docker_config.parent / "trust"

    @property
    def server_url(self) -> str:
        """The trust server's base URL."""
        configured = self.env.get("DOCKER_CONTENT_TRUST_SERVER")
        if configured:
            return configured.rstrip("/")
        scheme = "http" if self.config.is_insecure(self.registry_host) else "https"
        return f"{scheme}://{self.registry_host}"

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self.server_url.startswith("https://"):
            return None
        hostport = self.server_url.removeprefix("https://").split("/", 1)[0]
        ca = self.config.docker_config.parent / "tls" / hostport / "ca.crt"
        return ssl.create_default_context(cafile=str(ca)) if ca.is_file() else None

    def _remote(self, gun: str) -> HttpRemoteStore:
        context = self._ssl_context()
        credentials = CredentialStore(self.config.docker_config).get(self.registry_host)
        authenticator = TokenAuthenticator(
            credentials.username if credentials else None,
            credentials.password if credentials else None,
            ssl_context=context,
        )
        return HttpRemoteStore(self.server_url, gun, ssl_context=context,
                               authenticator=authenticator)

    def signed_digest(self, gun: str, tag: str) -> Digest:
        """The verified digest `tag` is signed as.

        Raises:
            TrustVerificationError: no trust data, no valid signature, or verification failed.
        """
        trusted = self._refresh(gun)
        try:
            return Digest.parse(resolve(trusted, tag).digest)
        except TargetNotFoundError as exc:
            raise TrustVerificationError(f"No valid trust data for {tag}") from exc

    def signed_tags(self, gun: str) -> list[str]:
        """Every tag with a valid signature (for `pull -a`)."""
        return sorted(list_targets(self._refresh(gun)))

    def _refresh(self, gun: str) -> TrustedSet:
        updater = Updater(gun, self._remote(gun), MetadataCache(self.trust_dir, gun))
        try:
            return updater.refresh()
        except RepositoryNotInitializedError as exc:
            raise TrustVerificationError(
                f"remote trust data does not exist for {gun}: {self.server_url} does not have "
                f"trust data for {gun}"
            ) from exc
        except (TrustError, RemoteError, OSError) as exc:
            raise TrustVerificationError(f"trust data for {gun} did not verify: {exc}") from exc

    def repository(self, gun: str) -> Repository:
        """The signing handle for `gun` (keys from `trust_dir`, passphrases from the env)."""
        return Repository(gun, self._remote(gun), KeyStore(self.trust_dir), self._passphrases())

    def refresh(self, gun: str) -> TrustedSet:
        """Verified trust data of `gun` (for `trust inspect`).

        Raises:
            TrustVerificationError: no trust data, or it did not verify.
        """
        return self._refresh(gun)

    def passphrase(self, role: str) -> str:
        """The passphrase for a key of `role` (environment, else a terminal prompt)."""
        return self._passphrases()(role)

    def sign(self, gun: str, tag: str, digest: Digest, size: int) -> bool:
        """Sign `tag` as `digest`/`size`, initialising the repository's trust data if needed.

        Returns:
            True when the trust data was created by this call.

        Raises:
            TrustVerificationError: signing or publishing failed.
        """
        repository = self.repository(gun)
        created = False
        try:
            try:
                repository.refresh()
            except RepositoryNotInitializedError:
                repository.initialize()
                created = True
            repository.sign_target(tag, digest.hex, size)
        except PassphraseError as exc:
            raise TrustVerificationError(f"wrong passphrase: {exc}") from exc
        except (TrustError, RemoteError, OSError) as exc:
            raise TrustVerificationError(f"could not sign {gun}:{tag}: {exc}") from exc
        return created

    def _passphrases(self) -> PassphraseRetriever:
        env = self.env

        def retrieve(role: str) -> str:
            name = ("DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE" if role == "root"
                    else "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE")
            if env.get(name):
                return env[name]
            if sys.stdin.isatty():
                label = "root" if role == "root" else f"{role} key for the repository"
                return getpass.getpass(f"Enter passphrase for {label}: ")
            raise TrustVerificationError(f"no passphrase for the {role} key: set {name}")

        return retrieve

