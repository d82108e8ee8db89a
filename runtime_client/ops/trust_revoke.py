"""`trust revoke NAME[:TAG]`: remove a tag's signature (or every signature of a repo)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TextIO

from runtime_client.config import ClientConfig
from runtime_client.contenttrust import TrustContext, TrustVerificationError
from runtime_client.images.naming import familiar, parse_reference, repository_of
from runtime_client.options import TrustRevokeOptions
from trust.remote import RemoteError
from trust.tuf.errors import TrustError

__all__ = ["trust_revoke"]

logger = logging.getLogger(__name__)


def trust_revoke(config: ClientConfig, opts: TrustRevokeOptions, stdout: TextIO,
                 env: Mapping[str, str]) -> None:
    """Revoke signatures we hold keys for.

    Raises:
        TrustVerificationError: no trust data, nothing signed, or no key to sign the change.
    """
    ref = parse_reference(opts.name, config.default_registry, default_tag=None)
    gun = repository_of(ref)
    trust = TrustContext(config, env, ref.host or config.default_registry)
    tags = [ref.tag] if ref.tag else trust.signed_tags(gun)
    repository = trust.repository(gun)
    try:
        for tag in tags:
            repository.remove_target(tag)
    except (TrustError, RemoteError) as exc:
        raise TrustVerificationError(f"could not remove signature for {opts.name}: {exc}") \
            from exc
    shown = familiar(gun, config.default_registry) + (f":{ref.tag}" if ref.tag else "")
    stdout.write(f"Successfully deleted signature for {shown}\n")
