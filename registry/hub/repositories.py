"""Hub data of repositories: profiles, visibility, stars, pull counts, tags, search.

Listings and search show only what the caller may see (`Visibility` from `registry.auth`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from registry.auth.scopes import namespace_of
from registry.db import account_queries, hub_queries, immutability_queries, webhook_queries
from registry.db.hub_queries import RepositoryInfo, TrustSetting, Visibility
from registry.db.writer import EngineWriter, Writer
from registry.errors import InvalidRequestError, NotFoundError, TagImmutableError
from registry.hub.audit import AuditLog
from registry.hub.pulls import PullCounter
from registry.oci.digest import Digest
from registry.oci.manifest import ManifestError, parse_manifest
from registry.storage.driver.base import StorageDriver, StorageDriverError
from registry.storage.paths import blob_path
from registry.webhooks.events import Cause, EventType

logger = logging.getLogger(__name__)

__all__ = ["RepositoryService", "TagDetail"]

# Docker Hub's limits: a one-line summary, and the README.
MAX_DESCRIPTION = 100  # characters
MAX_FULL_DESCRIPTION = 25_000  # characters


_NEVER = datetime.min.replace(tzinfo=UTC)  # sorts tags never pulled before every pull


@dataclass(frozen=True, slots=True)
class TagDetail:
    name: str
    digest: str
    media_type: str
    size: int  # bytes: config + layers, or the sum of an index's children
    architectures: tuple[str, ...]  # "os/arch[/variant]"
    pushed_at: datetime
    pulled_at: datetime | None  # None: never pulled


class RepositoryService:
    """Repository data for the Hub API and the registry's push and pull hooks.

    Args:
        engine: the hub database.
        driver: blob storage (image configs tell architectures).
        pulls: the pull counter (flushed before counts are read).
        audit: the audit log.
        open_registry: no auth: every repository is public.
        writer: runs the push hook's writes (default: a transaction each on `engine`).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        driver: StorageDriver,
        pulls: PullCounter,
        audit: AuditLog,
        *,
        open_registry: bool = False,
        writer: Writer | None = None,
        events_recorded: Callable[[], None] = lambda: None,
    ) -> None:
        self.engine = engine
        self.events_recorded = events_recorded  # wakes the webhook delivery worker
        self.writer = writer or EngineWriter(engine)
        self.driver = driver
        self.pulls = pulls
        self.audit = audit
        self.open_registry = open_registry

    async def pushed(self, name: str) -> None:
        """Note a manifest push in a transaction of its own (see `note_push`)."""
        await self.writer.run(lambda conn: self.note_push(conn, name))

    async def note_push(self, conn: AsyncConnection, name: str) -> None:
        """Note a manifest push in the caller's transaction: the first one creates the
        repository's profile with its namespace's default visibility."""
        if await hub_queries.touch_pushed(conn, name):
            return
        namespace = await account_queries.namespace_by_name(conn, namespace_of(name))
        public = self.open_registry or (namespace.default_public if namespace else False)
        if await hub_queries.mark_pushed(conn, name, public):
            logger.info("repository %s created (public=%s)", name, public)

    async def get(self, name: str) -> RepositoryInfo:
        """Raises NotFoundError when the repository has no manifest pushed."""
        await self.pulls.flush()
        async with self.engine.connect() as conn:
            info = await hub_queries.repository_info(conn, name)
        if info is None:
            raise NotFoundError(f"no repository {name!r}", name=name)
        return info

    async def search(
        self,
        visibility: Visibility,
        *,
        query: str = "",
        namespace: str | None = None,
        official_only: bool = False,
        min_stars: int = 0,
        limit: int = 25,
        offset: int = 0,
    ) -> tuple[int, list[RepositoryInfo]]:
        """Visible repositories matching, best first, and the total count."""
        await self.pulls.flush()
        if self.open_registry:
            visibility = Visibility(everything=True)
        async with self.engine.connect() as conn:
            return await hub_queries.search(
                conn,
                visibility,
                query=query,
                namespace=namespace,
                official_only=official_only,
                min_stars=min_stars,
                limit=limit,
                offset=offset,
            )

    async def update(
        self,
        name: str,
        *,
        description: str | None,
        is_public: bool | None,
        actor: str,
        address: str = "",
        full_description: str | None = None,
    ) -> RepositoryInfo:
        """Change the short description, the README (`full_description`) or the visibility;
        None leaves a field as it is.

        Raises:
            InvalidRequestError: a description over 100 characters, a README over 25,000.
            NotFoundError: no such repository.
        """
        for field_name, value, limit in (
            ("description", description, MAX_DESCRIPTION),
            ("full_description", full_description, MAX_FULL_DESCRIPTION),
        ):
            if value is not None and len(value) > limit:
                raise InvalidRequestError(
                    f"{field_name} has at most {limit:,} characters ({len(value):,} given)",
                    field=field_name,
                )
        async with self.engine.begin() as conn:
            if not await hub_queries.update_profile(
                conn, name, description, is_public, full_description
            ):
                raise NotFoundError(f"no repository {name!r}", name=name)
        if is_public is not None:
            await self.audit.record(actor, "visibility", name, address, public=is_public)
        return await self.get(name)

    async def trust_setting(self, name: str) -> TrustSetting:
        """Whether pulls need content trust (see `registry.services.contenttrust`).

        Raises:
            NotFoundError: no such repository.
        """
        async with self.engine.connect() as conn:
            setting = await hub_queries.trust_setting(conn, name)
        if setting is None:
            raise NotFoundError(f"no repository {name!r}", name=name)
        return setting

    async def set_trust_required(
        self, name: str, required: bool | None, *, actor: str, address: str = ""
    ) -> TrustSetting:
        """Require content trust (True), not (False), or follow the namespace (None).

        Raises:
            NotFoundError: no such repository.
        """
        async with self.engine.begin() as conn:
            if not await hub_queries.set_trust_required(conn, name, required):
                raise NotFoundError(f"no repository {name!r}", name=name)
        await self.audit.record(actor, "trust-required", name, address, required=required)
        return await self.trust_setting(name)

    async def delete(self, name: str, *, actor: str, address: str = "", origin: str = "") -> None:
        """Delete the repository and everything it holds (blob bytes wait for GC).

        Writes a `repository_delete` webhook event in the same transaction.

        Raises:
            NotFoundError: no such repository.
            TagImmutableError: an immutability rule holds one of its tags.
        """
        async with self.engine.begin() as conn:
            held = await immutability_queries.held_tag(conn, name)
            if held is not None:
                tag, rule = held
                raise TagImmutableError.held(
                    name, tag, rule.id, rule.pattern, rule.scope, "delete the repository"
                )
            if not await hub_queries.delete_repository(conn, name):
                raise NotFoundError(f"no repository {name!r}", name=name)
            event = Cause(actor, origin).event(EventType.REPOSITORY_DELETE, name)
            deliveries = await webhook_queries.record_event(conn, event, datetime.now(UTC))
        if deliveries:
            self.events_recorded()
        await self.audit.record(actor, "repository-delete", name, address)

    async def star(self, user_id: int, name: str, starred: bool) -> None:
        async with self.engine.begin() as conn:
            if not await hub_queries.set_star(conn, user_id, name, starred):
                raise NotFoundError(f"no repository {name!r}", name=name)

    async def tags(self, name: str) -> list[TagDetail]:
        """Tags with digest, size, architectures, push and last pull time."""
        await self.pulls.flush()  # the last pulls are part of the answer
        async with self.engine.connect() as conn:
            infos = await hub_queries.tag_infos(conn, name)
        return [
            TagDetail(
                info.name,
                info.digest,
                info.media_type,
                *await self._describe(info.payload, info.media_type),
                info.pushed_at,
                info.pulled_at,
            )
            for info in infos
        ]

    async def tag_page(
        self, name: str, *, sort: str = "pushed", descending: bool = True, offset: int, limit: int
    ) -> tuple[int, list[TagDetail]]:
        """One page of tags, sorted by `name`, `pushed`, `pulled` or `size`, and how many there
        are (tags never pulled sort as the least recently pulled).

        Sizes come from the manifests alone, so only the page's image configs are read.
        """
        await self.pulls.flush()  # the last pulls are part of the answer
        async with self.engine.connect() as conn:
            infos = await hub_queries.tag_infos(conn, name)
        keys = {
            "name": lambda info: info.name,
            "pushed": lambda info: (info.pushed_at, info.name),
            "size": lambda info: (_payload_size(info.payload, info.media_type), info.name),
            "pulled": lambda info: (info.pulled_at or _NEVER, info.name),
        }
        infos.sort(key=keys.get(sort, keys["pushed"]), reverse=descending)
        page = infos[offset : offset + limit]
        return len(infos), [
            TagDetail(
                info.name,
                info.digest,
                info.media_type,
                *await self._describe(info.payload, info.media_type),
                info.pushed_at,
                info.pulled_at,
            )
            for info in page
        ]

    async def starred(self, user_id: int) -> list[RepositoryInfo]:
        """The repositories a user starred, by name (callers filter what the user may see)."""
        await self.pulls.flush()
        async with self.engine.connect() as conn:
            return await hub_queries.starred_by(conn, user_id)

    async def _describe(self, payload: bytes, media_type: str) -> tuple[int, tuple[str, ...]]:
        try:
            manifest = parse_manifest(payload, media_type)
        except ManifestError:
            return len(payload), ()
        if manifest.is_index:
            platforms = tuple(_platform(d.platform or {}) for d in manifest.manifests)
            return sum(d.size for d in manifest.manifests), tuple(p for p in platforms if p)
        size = sum(d.size for d in manifest.blobs)
        if manifest.config is None:
            return size, ()
        config = await self._config(manifest.config.digest)
        platform = _platform(config)
        return size, (platform,) if platform else ()

    async def _config(self, digest: Digest) -> dict[str, Any]:
        try:
            data = await self.driver.get_content(blob_path(digest))
            config = json.loads(data)
        except (StorageDriverError, ValueError):
            return {}
        return config if isinstance(config, dict) else {}


def _payload_size(payload: bytes, media_type: str) -> int:
    try:
        manifest = parse_manifest(payload, media_type)
    except ManifestError:
        return len(payload)
    return sum(d.size for d in (manifest.manifests if manifest.is_index else manifest.blobs))


def _platform(raw: dict[str, Any]) -> str:
    os_name, arch = raw.get("os"), raw.get("architecture")
    if not isinstance(os_name, str) or not isinstance(arch, str):
        return ""
    variant = raw.get("variant")
    return f"{os_name}/{arch}/{variant}" if isinstance(variant, str) else f"{os_name}/{arch}"
