"""Setting and showing signature policies of repositories and namespaces.

A policy document is checked (`trust.sigs.policy.SignaturePolicy.from_dict`) before it is
stored; it is stored canonically under its version and the repository or namespace names that
version. A repository without its own follows its namespace; with neither, requiring content
trust means Docker Content Trust.

Scope: the hub's policy settings; the pull gate reads them through the manifest reads.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.db import policy_queries
from registry.errors import InvalidRequestError, NotFoundError
from registry.hub.audit import AuditLog
from trust.sigs.errors import TrustPolicyError
from trust.sigs.policy import SignaturePolicy

__all__ = ["PolicyView", "SignaturePolicyService", "canonical_document"]

logger = logging.getLogger(__name__)


def canonical_document(document: Any) -> str:
    """The stored text of a policy document (sorted keys, no spaces: its version's input)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class PolicyView:
    """A repository's signature policy: whose it is and what it says.

    Attributes:
        own: the repository's own policy version (None: it follows its namespace).
        namespace: its namespace's policy version (None: none).
        document: the effective policy document, or None when there is none (DCT only).
    """

    own: str | None
    namespace: str | None
    document: dict[str, Any] | None

    @property
    def version(self) -> str | None:
        return self.own if self.own is not None else self.namespace

    @property
    def label(self) -> str:
        """`own`, `namespace` (inherited) or `none`."""
        if self.own is not None:
            return "own"
        return "namespace" if self.namespace is not None else "none"


class SignaturePolicyService:
    """Signature policy settings on the hub database."""

    def __init__(self, engine: AsyncEngine, audit: AuditLog) -> None:
        self.engine = engine
        self.audit = audit

    async def show(self, repository: str) -> PolicyView:
        """The repository's policy setting and effective document.

        Raises:
            NotFoundError: no such repository.
        """
        async with self.engine.connect() as conn:
            setting = await policy_queries.policy_setting(conn, repository)
            if setting is None:
                raise NotFoundError(f"no repository {repository!r}", name=repository)
            text = None
            if setting.effective is not None:
                text = await policy_queries.policy_document(conn, setting.effective)
        return PolicyView(
            setting.own, setting.namespace, None if text is None else json.loads(text)
        )

    async def show_namespace(self, namespace: str) -> tuple[str | None, dict[str, Any] | None]:
        """The namespace's policy version and document (None, None: it has none).

        Raises:
            NotFoundError: no such namespace.
        """
        async with self.engine.connect() as conn:
            exists, version = await policy_queries.namespace_policy(conn, namespace)
            if not exists:
                raise NotFoundError(f"no namespace {namespace!r}", name=namespace)
            text = None if version is None else await policy_queries.policy_document(conn, version)
        return version, None if text is None else json.loads(text)

    async def set_repository(
        self, repository: str, document: Any, *, actor: str, address: str = ""
    ) -> PolicyView:
        """Give the repository its own policy, or (None) make it follow its namespace.

        Raises:
            InvalidRequestError: the document is not a valid signature policy.
            NotFoundError: no such repository.
        """
        version = await self._store(document)
        async with self.engine.begin() as conn:
            if not await policy_queries.set_repository_policy(conn, repository, version):
                raise NotFoundError(f"no repository {repository!r}", name=repository)
        await self.audit.record(actor, "signature-policy", repository, address, version=version)
        return await self.show(repository)

    async def set_namespace(
        self, namespace: str, document: Any, *, actor: str, address: str = ""
    ) -> str | None:
        """Set the policy of a namespace's repositories without their own (None: none).

        Returns:
            The version now in force for the namespace.

        Raises:
            InvalidRequestError: the document is not a valid signature policy.
            NotFoundError: no such namespace.
        """
        version = await self._store(document)
        async with self.engine.begin() as conn:
            if not await policy_queries.set_namespace_policy(conn, namespace, version):
                raise NotFoundError(f"no namespace {namespace!r}", name=namespace)
        await self.audit.record(
            actor, "namespace-signature-policy", namespace, address, version=version
        )
        return version

    async def _store(self, document: Any) -> str | None:
        if document is None:
            return None
        try:
            policy = SignaturePolicy.from_dict(document)
        except TrustPolicyError as exc:
            raise InvalidRequestError(f"invalid signature policy: {exc}") from exc
        async with self.engine.begin() as conn:
            await policy_queries.store_policy(conn, policy.version, canonical_document(document))
        return policy.version
