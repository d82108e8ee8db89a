"""Retention: setting policies, running them (dry or real), their history, scheduled runs.

A repository follows its own policy, else its namespace's. A run reads the repository's tags,
decides with `registry.hub.retention_policy.tags_to_remove` (never a tag an immutability rule
holds), and a real run deletes exactly those tags, each only if it still names the digest it
named when chosen (a push in between wins). Manifests left untagged are the garbage
collector's to reclaim. Every run, dry or real, is recorded with who or what started it.

Scheduled runs: every hub process checks every `interval` seconds; the one that takes the
database lease `retention-schedule` runs the due policies, and real runs of one repository
(scheduled or asked for) take the lease `retention:<repository>`, so no two ever overlap,
whichever replicas they start on.

Scope: the service and the scheduler loop; who may do what is the API's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from registry.db import immutability_queries, retention_queries
from registry.db.retention_queries import PolicyRow, RunRow
from registry.db.writer import Writer
from registry.errors import InvalidRequestError, NotFoundError, RetentionBusyError
from registry.hub.audit import AuditLog
from registry.hub.pulls import PullCounter
from registry.hub.retention_policy import RetentionPolicy, RetentionPolicyError, tags_to_remove
from registry.hub.tag_patterns import matches

__all__ = ["SCHEDULE_ACTOR", "PolicyView", "RetentionRunResult", "RetentionService", "run_schedule"]

logger = logging.getLogger(__name__)

SCHEDULE_ACTOR = "schedule"  # who the history names for scheduled runs
SCHEDULE_LEASE = "retention-schedule"
LEASE_TTL = timedelta(minutes=10)  # longer than any run; a crashed holder frees it after this
HISTORY_LIMIT = 50  # runs shown per repository


@dataclass(frozen=True, slots=True)
class PolicyView:
    """A scope's policy: the scope it is set on, the policy, and the next scheduled run."""

    scope: str
    policy: RetentionPolicy
    next_run_at: datetime | None
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RetentionRunResult:
    """What a run removed (or, dry, would remove) and how many tags it kept."""

    run_id: int
    repository: str
    policy_scope: str
    dry_run: bool
    removed: tuple[str, ...]
    kept: int


def _view(row: PolicyRow) -> PolicyView:
    policy = RetentionPolicy.from_dict(json.loads(row.document))
    return PolicyView(row.scope, policy, row.next_run_at, row.updated_by, row.updated_at)


class RetentionService:
    """Retention policies and runs on the hub database.

    Args:
        engine: the hub database.
        writer: runs the tag deletions (the registry's write path).
        audit: where policy changes and real runs are recorded.
        pulls: this process's pull counter, flushed before a run so its latest pulls count
            (other replicas' buffers reach the database within their flush interval).
        clock: the current time (tests pass their own).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        writer: Writer,
        audit: AuditLog,
        pulls: PullCounter | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.pulls = pulls
        self.writer = writer
        self.audit = audit
        self.clock = clock
        self.holder = uuid.uuid4().hex  # this process, as lease holder

    async def show(self, scope: str) -> PolicyView | None:
        """The policy set on exactly `scope` (None: none).

        Raises:
            NotFoundError: no such namespace or repository.
        """
        async with self.engine.connect() as conn:
            await _require(conn, scope)
            row = await retention_queries.policy_row(conn, scope)
        return None if row is None else _view(row)

    async def effective(self, repository: str) -> PolicyView | None:
        """The policy `repository` follows: its own, else its namespace's (None: none)."""
        async with self.engine.connect() as conn:
            await _require(conn, repository)
            row = await retention_queries.effective_policy(conn, repository)
        return None if row is None else _view(row)

    async def set_policy(
        self, scope: str, document: Any, *, actor: str, address: str = ""
    ) -> PolicyView | None:
        """Set the policy of `scope` from its JSON document; None removes it.

        Raises:
            InvalidRequestError: the document is not a valid retention policy.
            NotFoundError: no such namespace or repository.
        """
        policy = None
        if document is not None:
            try:
                policy = RetentionPolicy.from_dict(document)
            except RetentionPolicyError as exc:
                raise InvalidRequestError(f"invalid retention policy: {exc}") from exc
        now = self.clock()
        async with self.engine.begin() as conn:
            await _require(conn, scope)
            if policy is None:
                await retention_queries.delete_policy(conn, scope)
            else:
                hours = policy.schedule_hours
                await retention_queries.set_policy(
                    conn,
                    scope,
                    json.dumps(policy.to_dict(), sort_keys=True),
                    hours,
                    None if hours is None else now + timedelta(hours=hours),
                    actor,
                    now,
                )
        shown = None if policy is None else policy.to_dict()
        await self.audit.record(actor, "retention-policy", scope, address, policy=shown)
        return await self.show(scope)

    async def run(
        self, repository: str, *, dry_run: bool, started_by: str, address: str = ""
    ) -> RetentionRunResult:
        """Apply the repository's policy: list (dry) or delete the tags it does not keep.

        Raises:
            NotFoundError: no such repository, or it follows no policy.
            RetentionBusyError: a real run of the repository is in progress elsewhere.
        """
        view = await self.effective(repository)
        if view is None:
            raise NotFoundError(f"{repository} has no retention policy", name=repository)
        if self.pulls is not None:
            await self.pulls.flush()
        if dry_run:
            return await self._run(repository, view, dry_run=True, started_by=started_by)
        async with self._lease(f"retention:{repository}") as held:
            if not held:
                raise RetentionBusyError(
                    f"a retention run of {repository} is in progress", name=repository
                )
            result = await self._run(repository, view, dry_run=False, started_by=started_by)
        await self.audit.record(
            started_by, "retention-run", repository, address, removed=len(result.removed)
        )
        return result

    async def history(self, repository: str) -> list[RunRow]:
        """The repository's latest runs, newest first.

        Raises:
            NotFoundError: no such repository.
        """
        async with self.engine.connect() as conn:
            await _require(conn, repository)
            return await retention_queries.runs(conn, repository, HISTORY_LIMIT)

    async def run_due(self) -> list[RetentionRunResult]:
        """Run every policy whose schedule is due, if this process takes the schedule lease."""
        async with self._lease(SCHEDULE_LEASE) as held:
            if not held:
                return []
            async with self.engine.connect() as conn:
                scopes = await retention_queries.due_scopes(conn, self.clock())
            results = []
            for scope in scopes:
                results += await self._run_scheduled(scope)
            return results

    async def _run_scheduled(self, scope: str) -> list[RetentionRunResult]:
        async with self.engine.begin() as conn:
            row = await retention_queries.policy_row(conn, scope)
            if row is None or row.schedule_hours is None:
                return []
            next_run = self.clock() + timedelta(hours=row.schedule_hours)
            await retention_queries.set_next_run(conn, scope, next_run)
            if "/" in scope:
                targets = [scope]
            else:
                targets = await retention_queries.repositories_following(conn, scope)
        results = []
        for repository in targets:
            try:
                results.append(await self.run(repository, dry_run=False, started_by=SCHEDULE_ACTOR))
            except (NotFoundError, RetentionBusyError) as exc:
                logger.warning("scheduled retention run of %s skipped: %s", repository, exc)
        return results

    async def _run(
        self, repository: str, view: PolicyView, *, dry_run: bool, started_by: str
    ) -> RetentionRunResult:
        started = self.clock()

        async def apply(conn: AsyncConnection) -> tuple[list[str], int, int]:
            states = await retention_queries.tag_states(conn, repository)
            rules = await immutability_queries.rules_over(conn, repository)
            going = tags_to_remove(
                view.policy,
                states,
                started,
                lambda tag: any(matches(tag, rule.pattern) for rule in rules),
            )
            if dry_run:
                removed = [tag.name for tag in going]
            else:
                removed = await retention_queries.remove_tags(conn, repository, going)
            kept = len(states) - len(removed)
            run_id = await retention_queries.add_run(
                conn,
                repository,
                started_by,
                dry_run,
                started,
                self.clock(),
                json.dumps(removed),
                kept,
            )
            return removed, kept, run_id

        removed, kept, run_id = await self.writer.run(apply)
        if not dry_run:
            logger.info("retention run of %s removed %d tags", repository, len(removed))
        return RetentionRunResult(run_id, repository, view.scope, dry_run, tuple(removed), kept)

    @contextlib.asynccontextmanager
    async def _lease(self, name: str) -> AsyncIterator[bool]:
        async with self.engine.begin() as conn:
            held = await retention_queries.acquire_lease(
                conn, name, self.holder, self.clock(), LEASE_TTL
            )
        try:
            yield held
        finally:
            if held:
                async with self.engine.begin() as conn:
                    await retention_queries.release_lease(conn, name, self.holder, self.clock())


async def _require(conn: AsyncConnection, scope: str) -> None:
    if not await immutability_queries.scope_exists(conn, scope):
        kind = "repository" if "/" in scope else "namespace"
        raise NotFoundError(f"no {kind} {scope!r}", name=scope)


async def run_schedule(service: RetentionService, interval: float) -> None:
    """Check for due policies every `interval` seconds, forever (cancel to stop)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await service.run_due()
        except Exception:
            logger.exception("scheduled retention runs failed")
