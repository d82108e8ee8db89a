"""Replication rules and runs on the hub database: create, list, pause, run, history.

A run takes the database lease `replication:<rule id>` for as long as it lasts (renewed
while it works), so no rule runs twice at once, whichever replicas or `berth-hub` processes
start it; a run asked for while another holds the lease is refused (`ReplicationBusyError`).
A run started through the API (`start`) is recorded and leased before the caller is
answered, then carried on in a task of this process; it is inspected in the run history.
Scheduled runs are claimed per period by one replica (`replication_queries.claim_due`);
pushes queued by the manifest transaction are claimed with a lease and replicated by the push
rules that copy on push, at least once (a copy of what is there already skips everything).

Scope: the service; the loop that calls `run_due` and `run_pushes` is `registry.replication.
worker`, who may do what is the API's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.db import replication_queries as q
from registry.db import retention_queries
from registry.errors import (
    AlreadyExistsError,
    InvalidRequestError,
    NotFoundError,
    ReplicationBusyError,
)
from registry.hub.audit import AuditLog
from registry.hub.tag_patterns import matches
from registry.replication.copier import Copier, ItemError, RetryPolicy, Tally
from registry.replication.local import HubEndpoint
from registry.replication.remote import RemoteEndpoint, client_session
from registry.replication.rules import (
    PUSH,
    RuleError,
    RuleSpec,
    destination_name,
    repository_matches,
)
from registry.replication.sealing import RemotePasswordSealer

logger = logging.getLogger(__name__)

__all__ = ["MANUAL", "PUSHED", "SCHEDULED", "ReplicationService", "RuleView", "RunView"]

MANUAL, SCHEDULED, PUSHED = "manual", "schedule", "push"  # what triggered a run
LEASE_TTL = timedelta(minutes=5)  # renewed every third of it while a run works
PUSH_LEASE = timedelta(minutes=10)  # a claimed push's lease; a crashed replica's expire
PUSH_RETRY = timedelta(seconds=5)  # a push whose rule was busy is tried again after this
PUSH_BATCH = 100
HISTORY_LIMIT = 100


@dataclass(frozen=True, slots=True)
class RuleView:
    """A rule as shown (never its password)."""

    id: int
    name: str
    direction: str
    url: str
    username: str | None
    has_password: bool
    tls_verify: bool
    has_ca: bool
    repositories: str
    tags: str
    destination: str
    on_push: bool
    schedule_minutes: int | None
    next_run_at: datetime | None
    enabled: bool
    created_by: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "direction": self.direction,
            "url": self.url,
            "username": self.username,
            "has_password": self.has_password,
            "tls_verify": self.tls_verify,
            "has_ca": self.has_ca,
            "repositories": self.repositories,
            "tags": self.tags,
            "destination": self.destination,
            "on_push": self.on_push,
            "schedule_minutes": self.schedule_minutes,
            "next_run_at": _time(self.next_run_at),
            "enabled": self.enabled,
            "created_by": self.created_by,
            "created_at": _time(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class RunView:
    """A run: its trigger, times, outcome, counts and the errors per item."""

    id: int
    rule: str
    trigger: str
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    status: str  # running, succeeded, failed, interrupted (its process died)
    copied: int
    skipped: int
    failed: int
    retries: int
    errors: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule,
            "trigger": self.trigger,
            "started_by": self.started_by,
            "started_at": _time(self.started_at),
            "finished_at": _time(self.finished_at),
            "status": self.status,
            "copied": self.copied,
            "skipped": self.skipped,
            "failed": self.failed,
            "retries": self.retries,
            "errors": list(self.errors),
        }


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _view(row: q.RuleRow) -> RuleView:
    return RuleView(
        row.id, row.name, row.direction, row.remote_url, row.username, row.password is not None,
        row.tls_verify, row.ca_pem is not None, row.repositories, row.tags, row.destination,
        row.on_push, row.schedule_minutes, row.next_run_at, row.enabled, row.created_by,
        row.created_at,
    )  # fmt: skip


class ReplicationService:
    """Replication rules and their runs.

    Args:
        engine: the hub database.
        hub: this hub as an endpoint.
        sealer: seals and opens remote passwords.
        audit: where rule changes and runs asked for are recorded.
        retry: retries per item.
        max_manifest_bytes: larger remote manifests are refused.
        clock: the current time (tests pass their own).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        hub: HubEndpoint,
        sealer: RemotePasswordSealer,
        audit: AuditLog,
        retry: RetryPolicy,
        max_manifest_bytes: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.hub = hub
        self.sealer = sealer
        self.audit = audit
        self.retry = retry
        self.max_manifest_bytes = max_manifest_bytes
        self.clock = clock
        self.holder = uuid.uuid4().hex  # this process, as the holder of claimed pushes
        self._background: set[asyncio.Task[RunView]] = set()  # runs started by `start`

    async def add(self, document: Any, *, actor: str, address: str = "") -> RuleView:
        """Create a rule from its JSON document.

        Raises:
            InvalidRequestError: the document is not a valid rule.
            AlreadyExistsError: a rule has that name.
        """
        try:
            spec = RuleSpec.from_dict(document)
        except RuleError as exc:
            raise InvalidRequestError(f"invalid replication rule: {exc}") from exc
        now = self.clock()
        password = None if spec.password is None else self.sealer.seal(spec.name, spec.password)
        next_run = None if spec.schedule_minutes is None else now
        try:
            async with self.engine.begin() as conn:
                await q.insert_rule(
                    conn,
                    name=spec.name,
                    direction=spec.direction,
                    remote_url=spec.url,
                    username=spec.username,
                    password=password,
                    tls_verify=spec.tls_verify,
                    ca_pem=spec.ca_pem,
                    repositories=spec.repositories,
                    tags=spec.tags,
                    destination=spec.destination,
                    on_push=spec.on_push,
                    schedule_minutes=spec.schedule_minutes,
                    next_run_at=next_run,
                    enabled=spec.enabled,
                    created_by=actor,
                    created_at=now,
                )
        except IntegrityError as exc:
            raise AlreadyExistsError(
                f"a replication rule {spec.name!r} exists", name=spec.name
            ) from exc
        await self.audit.record(actor, "replication-rule-add", spec.name, address)
        return await self.rule(spec.name)

    async def rules(self) -> list[RuleView]:
        async with self.engine.connect() as conn:
            return [_view(row) for row in await q.rules(conn)]

    async def rule(self, name: str) -> RuleView:
        """Raises NotFoundError: no such rule."""
        return _view(await self._row(name))

    async def _row(self, name: str) -> q.RuleRow:
        async with self.engine.connect() as conn:
            row = await q.rule_by_name(conn, name)
        if row is None:
            raise NotFoundError(f"no replication rule {name!r}", name=name)
        return row

    async def set_enabled(
        self, name: str, enabled: bool, *, actor: str, address: str = ""
    ) -> RuleView:
        """Pause (False) or resume (True) a rule: a paused rule runs on no trigger at all.

        Raises:
            NotFoundError: no such rule.
        """
        row = await self._row(name)
        async with self.engine.begin() as conn:
            await q.set_enabled(conn, row.id, enabled)
        action = "replication-rule-resume" if enabled else "replication-rule-pause"
        await self.audit.record(actor, action, name, address)
        return await self.rule(name)

    async def remove(self, name: str, *, actor: str, address: str = "") -> None:
        """Delete a rule and its history. Raises NotFoundError: no such rule."""
        row = await self._row(name)
        async with self.engine.begin() as conn:
            await q.delete_rule(conn, row.id)
        await self.audit.record(actor, "replication-rule-rm", name, address)

    async def history(self, name: str | None, limit: int = HISTORY_LIMIT) -> list[RunView]:
        """The latest runs of one rule (or of all), newest first.

        Raises:
            NotFoundError: no such rule.
        """
        rule_id = None if name is None else (await self._row(name)).id
        async with self.engine.connect() as conn:
            names = {row.id: row.name for row in await q.rules(conn)}
            rows = await q.runs(conn, rule_id, limit)
        return [_run_view(row, names) for row in rows]

    async def run_by_id(self, run_id: int) -> RunView:
        """One run. Raises NotFoundError: no such run."""
        async with self.engine.connect() as conn:
            row = await q.run_by_id(conn, run_id)
            names = {rule.id: rule.name for rule in await q.rules(conn)}
        if row is None:
            raise NotFoundError(f"no replication run {run_id}", run=run_id)
        return _run_view(row, names)

    async def run(
        self,
        name: str,
        *,
        trigger: str = MANUAL,
        started_by: str,
        address: str = "",
        only: Sequence[tuple[str, str]] | None = None,
    ) -> RunView:
        """Run a rule now (paused or not) and wait for it to finish.

        Args:
            only: (repository, tag) pairs of the hub to copy instead of all the rule matches.

        Raises:
            NotFoundError: no such rule.
            ReplicationBusyError: the rule is running (on this or another replica).
        """
        row = await self._row(name)
        if trigger == MANUAL:
            await self.audit.record(started_by, "replication-run", name, address)
        return await self._run(row, trigger, started_by, only)

    async def start(self, name: str, *, started_by: str, address: str = "") -> RunView:
        """Start a manual run of a rule and return it at once, `running`; it goes on in a task
        of this process (inspect it with `run_by_id` or `history`).

        Raises:
            NotFoundError: no such rule.
            ReplicationBusyError: the rule is running (on this or another replica).
        """
        row = await self._row(name)
        await self.audit.record(started_by, "replication-run", name, address)  # as `run`
        lease, run_id = await self._begin(row, MANUAL, started_by)
        task = asyncio.create_task(self._carry(row, lease, run_id, MANUAL, None))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return await self.run_by_id(run_id)

    async def close(self) -> None:
        """Stop the runs started by `start` (the hub is stopping): they end `interrupted`."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def _run(
        self,
        row: q.RuleRow,
        trigger: str,
        started_by: str,
        only: Sequence[tuple[str, str]] | None,
    ) -> RunView:
        lease, run_id = await self._begin(row, trigger, started_by)
        return await self._carry(row, lease, run_id, trigger, only)

    async def _begin(self, row: q.RuleRow, trigger: str, started_by: str) -> tuple[_Lease, int]:
        """Take the rule's lease and record a new run (`running`).

        Raises:
            ReplicationBusyError: another run holds the lease.
        """
        lease = _Lease(self.engine, f"replication:{row.id}", self.clock)
        if not await lease.acquire():
            raise ReplicationBusyError(f"replication rule {row.name!r} is running", name=row.name)
        try:
            async with self.engine.begin() as conn:
                await q.interrupt_runs(conn, row.id, self.clock())
                run_id = await q.start_run(conn, row.id, trigger, started_by, self.clock())
        except BaseException:
            await lease.release()
            raise
        return lease, run_id

    async def _carry(
        self,
        row: q.RuleRow,
        lease: _Lease,
        run_id: int,
        trigger: str,
        only: Sequence[tuple[str, str]] | None,
    ) -> RunView:
        """Copy, record the outcome of run `run_id` and give the lease back."""
        try:
            try:
                tally = await self._copy(row, only)
            except asyncio.CancelledError:  # the process is stopping: say so, then stop
                async with self.engine.begin() as conn:
                    await q.finish_run(conn, run_id, self.clock(), status="interrupted")
                raise
            except Exception as exc:  # never leave a run "running" behind
                logger.exception("replication run %d of %s failed", run_id, row.name)
                tally = Tally(failed=1, errors=[ItemError(row.name, str(exc), 1)])
            status = "succeeded" if tally.failed == 0 else "failed"
            async with self.engine.begin() as conn:
                await q.finish_run(
                    conn,
                    run_id,
                    self.clock(),
                    status=status,
                    copied=tally.copied,
                    skipped=tally.skipped,
                    failed=tally.failed,
                    retries=tally.retries,
                    errors=json.dumps([error.to_dict() for error in tally.errors]),
                )
        finally:
            await lease.release()
        logger.info(
            "replication run %d of %s (%s): %s, %d copied, %d skipped, %d failed",
            run_id, row.name, trigger, status, tally.copied, tally.skipped, tally.failed,
        )  # fmt: skip
        return await self.run_by_id(run_id)

    async def _copy(self, row: q.RuleRow, only: Sequence[tuple[str, str]] | None) -> Tally:
        password = None if row.password is None else self.sealer.open(row.name, row.password)
        async with client_session(row.tls_verify, row.ca_pem) as session:
            remote = RemoteEndpoint.connect(
                row.remote_url, row.username, password, session, self.max_manifest_bytes
            )
            pushing = row.direction == PUSH
            source, destination = (self.hub, remote) if pushing else (remote, self.hub)
            copier = Copier(source, destination, self.retry)
            if only is not None:
                pairs = [
                    (repo, tag)
                    for repo, tag in only
                    if repository_matches(repo, row.repositories) and matches(tag, row.tags)
                ]
                for repository, tag in pairs:
                    target = destination_name(repository, row.destination)
                    await copier.copy_repository(repository, target, row.tags, only=tag)
                return copier.tally
            for repository in await copier.repositories(row.repositories):
                target = destination_name(repository, row.destination)
                await copier.copy_repository(repository, target, row.tags)
            return copier.tally

    async def run_due(self) -> list[RunView]:
        """Run the enabled scheduled rules that are due and that this process claims."""
        async with self.engine.begin() as conn:
            claimed = await q.claim_due(conn, self.clock())
        runs = []
        for row in claimed:
            try:
                runs.append(await self._run(row, SCHEDULED, SCHEDULED, None))
            except ReplicationBusyError as exc:
                logger.info("scheduled replication of %s skipped: %s", row.name, exc.message)
        return runs

    async def run_pushes(self) -> list[RunView]:
        """Replicate the queued pushes this process claims with the push rules copying on push."""
        now = self.clock()
        async with self.engine.begin() as conn:
            pushes = await q.claim_pushes(conn, self.holder, now, PUSH_LEASE, PUSH_BATCH)
            rows = [
                row
                for row in await q.rules(conn)
                if row.direction == PUSH and row.on_push and row.enabled
            ]
        if not pushes:
            return []
        runs, busy = [], set()
        for row in rows:
            mine = [
                (push_id, repo, tag)
                for push_id, repo, tag in pushes
                if repository_matches(repo, row.repositories) and matches(tag, row.tags)
            ]
            if not mine:
                continue
            try:
                only = [(repo, tag) for _, repo, tag in mine]
                runs.append(await self._run(row, PUSHED, PUSHED, only))
            except ReplicationBusyError:
                busy |= {push_id for push_id, _, _ in mine}
        done = [push_id for push_id, _, _ in pushes if push_id not in busy]
        async with self.engine.begin() as conn:
            await q.delete_pushes(conn, done)
            await q.release_pushes(conn, sorted(busy), self.clock() + PUSH_RETRY)
        return runs


def _run_view(row: q.RunRow, names: dict[int, str]) -> RunView:
    return RunView(
        row.id, names.get(row.rule_id, "?"), row.trigger, row.started_by, row.started_at,
        row.finished_at, row.status, row.copied, row.skipped, row.failed, row.retries,
        tuple(json.loads(row.errors)),
    )  # fmt: skip


class _Lease:
    """A database lease held by one run, renewed every third of its time while held."""

    def __init__(self, engine: AsyncEngine, name: str, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.name = name
        self.clock = clock
        self.holder = uuid.uuid4().hex  # per run: two runs in one process exclude each other
        self._renewing: asyncio.Task[None] | None = None

    async def acquire(self) -> bool:
        async with self.engine.begin() as conn:
            held = await retention_queries.acquire_lease(
                conn, self.name, self.holder, self.clock(), LEASE_TTL
            )
        if held:
            self._renewing = asyncio.create_task(self._renew())
        return held

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(LEASE_TTL.total_seconds() / 3)
            try:
                async with self.engine.begin() as conn:
                    await retention_queries.acquire_lease(
                        conn, self.name, self.holder, self.clock(), LEASE_TTL
                    )
            except Exception:  # a database hiccup: the next renewal may go through
                logger.exception("renewing the lease %s failed", self.name)

    async def release(self) -> None:
        if self._renewing is not None:
            self._renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._renewing
        async with self.engine.begin() as conn:
            await retention_queries.release_lease(conn, self.name, self.holder, self.clock())
