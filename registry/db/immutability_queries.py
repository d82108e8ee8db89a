"""Immutable tag rules: reading the rules that hold a repository, adding and removing them.

The manifest writes call `matching_rule` (and `registry.db.queries.claim_tag`) inside their
own transaction, so a tag is checked and changed in one unit of work.

Scope: queries only; returns plain values, never ORM rows.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from registry.auth.scopes import namespace_of
from registry.db.tables import immutable_tag_rules, namespaces, repositories, tags
from registry.hub.tag_patterns import matches

__all__ = [
    "ImmutableRule",
    "add_rule",
    "held_tag",
    "matching_rule",
    "remove_rule",
    "rules_in_scope",
    "rules_over",
    "scope_exists",
]


@dataclass(frozen=True, slots=True)
class ImmutableRule:
    """One rule: tags matching `pattern` in `scope` (a namespace or a repository) stay fixed."""

    id: int
    scope: str
    pattern: str
    created_by: str
    created_at: datetime


def _rule(row: tuple) -> ImmutableRule:  # type: ignore[type-arg]
    return ImmutableRule(*row)


_COLUMNS = (
    immutable_tag_rules.c.id,
    immutable_tag_rules.c.scope,
    immutable_tag_rules.c.pattern,
    immutable_tag_rules.c.created_by,
    immutable_tag_rules.c.created_at,
)


# Built once with bind parameters: every push by tag asks it.
_RULES_OVER = (
    select(*_COLUMNS)
    .where(immutable_tag_rules.c.scope.in_(bindparam("scopes", expanding=True)))
    .order_by(immutable_tag_rules.c.id)
)


async def rules_over(conn: AsyncConnection, repository: str) -> list[ImmutableRule]:
    """The rules holding `repository`: its own and its namespace's, namespace's first."""
    rows = await conn.execute(_RULES_OVER, {"scopes": [namespace_of(repository), repository]})
    found = [_rule(tuple(row)) for row in rows]
    return sorted(found, key=lambda rule: (rule.scope == repository, rule.id))


async def rules_in_scope(conn: AsyncConnection, scope: str) -> list[ImmutableRule]:
    """The rules set on exactly `scope` (a namespace or a repository), oldest first."""
    rows = await conn.execute(
        select(*_COLUMNS)
        .where(immutable_tag_rules.c.scope == scope)
        .order_by(immutable_tag_rules.c.id)
    )
    return [_rule(tuple(row)) for row in rows]


async def matching_rule(
    conn: AsyncConnection, repository: str, tag_names: list[str]
) -> tuple[str, ImmutableRule] | None:
    """The first of `tag_names` that a rule over `repository` holds, with that rule."""
    if not tag_names:
        return None
    rules = await rules_over(conn, repository)
    for tag in tag_names:
        for rule in rules:
            if matches(tag, rule.pattern):
                return tag, rule
    return None


async def held_tag(conn: AsyncConnection, repository: str) -> tuple[str, ImmutableRule] | None:
    """A tag of `repository` that a rule holds, with that rule (None: none is held)."""
    names = await conn.execute(
        select(tags.c.name)
        .select_from(tags.join(repositories, repositories.c.id == tags.c.repository_id))
        .where(repositories.c.name == repository)
        .order_by(tags.c.name)
    )
    return await matching_rule(conn, repository, [row[0] for row in names])


async def scope_exists(conn: AsyncConnection, scope: str) -> bool:
    """Whether the repository `scope` exists, or the namespace `scope` (an account's or one
    holding repositories: an open registry has no accounts)."""
    if "/" in scope:
        found = await conn.scalar(select(repositories.c.id).where(repositories.c.name == scope))
        return found is not None
    if await conn.scalar(select(namespaces.c.id).where(namespaces.c.name == scope)) is not None:
        return True
    inside = await conn.scalar(
        select(repositories.c.id).where(repositories.c.name.startswith(scope + "/")).limit(1)
    )
    return inside is not None


async def add_rule(
    conn: AsyncConnection, scope: str, pattern: str, created_by: str
) -> ImmutableRule:
    """Add a rule, or return the same pattern's existing rule in that scope."""
    with contextlib.suppress(IntegrityError):
        async with conn.begin_nested():
            await conn.execute(
                immutable_tag_rules.insert().values(
                    scope=scope,
                    pattern=pattern,
                    created_by=created_by,
                    created_at=datetime.now(UTC),
                )
            )
    row = (
        await conn.execute(
            select(*_COLUMNS).where(
                immutable_tag_rules.c.scope == scope, immutable_tag_rules.c.pattern == pattern
            )
        )
    ).one()
    return _rule(tuple(row))


async def remove_rule(conn: AsyncConnection, scope: str, rule_id: int) -> ImmutableRule | None:
    """Remove rule `rule_id` of `scope`; the removed rule, or None when there was none."""
    row = (
        await conn.execute(
            select(*_COLUMNS).where(
                immutable_tag_rules.c.scope == scope, immutable_tag_rules.c.id == rule_id
            )
        )
    ).first()
    if row is None:
        return None
    await conn.execute(delete(immutable_tag_rules).where(immutable_tag_rules.c.id == rule_id))
    return _rule(tuple(row))
