"""Query functions over the Hub's repository data: profiles, stars, pull counts, search.

A repository gets its profile row on its first manifest push, so only repositories holding
at least one manifest are listed or searched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from registry.db.account_queries import insert_ignore, now
from registry.db.hotwrites import hot
from registry.db.queries import as_utc, repository_id
from registry.db.tables import manifests, namespaces, profiles, repositories, stars, tags
from registry.hub.names import LIBRARY

__all__ = ["RepositoryInfo", "TagInfo", "TrustSetting", "Visibility"]


@dataclass(frozen=True, slots=True)
class RepositoryInfo:
    name: str
    description: str
    full_description: str  # the README
    is_public: bool
    star_count: int
    pull_count: int
    last_pushed_at: datetime | None
    created_at: datetime

    @property
    def namespace(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def is_official(self) -> bool:
        return self.namespace == "library"


@dataclass(frozen=True, slots=True)
class TrustSetting:
    """A repository's content-trust setting: its own (None: inherit) and its namespace's."""

    own: bool | None
    namespace: bool

    @property
    def required(self) -> bool:
        return self.namespace if self.own is None else self.own

    @property
    def label(self) -> str:
        return "inherit" if self.own is None else ("on" if self.own else "off")


@dataclass(frozen=True, slots=True)
class TagInfo:
    name: str
    digest: str
    media_type: str
    payload: bytes
    pushed_at: datetime
    pulled_at: datetime | None  # the last pull by its name or digest; None: never pulled


@dataclass(frozen=True, slots=True)
class Visibility:
    """Which private repositories a caller may see besides the public ones."""

    everything: bool = False
    namespaces: frozenset[str] = frozenset()
    repositories: frozenset[str] = frozenset()

    def shows(self, name: str, is_public: bool) -> bool:
        """Whether a repository is visible (the rule `_visible` applies in SQL)."""
        return (
            self.everything
            or is_public
            or name.split("/", 1)[0] in self.namespaces
            or name in self.repositories
        )


def _visible(visibility: Visibility) -> ColumnElement[bool]:
    if visibility.everything:
        return true()
    clauses: list[ColumnElement[bool]] = [profiles.c.is_public == true()]
    # autoescape: `_` and `%` in a namespace name are characters, not LIKE wildcards.
    clauses += [
        repositories.c.name.startswith(f"{ns}/", autoescape=True)
        for ns in sorted(visibility.namespaces)
    ]
    if visibility.repositories:
        clauses.append(repositories.c.name.in_(sorted(visibility.repositories)))
    return or_(*clauses)


class _namespace_of(FunctionElement[str]):
    """A repository name's first component, in SQL (`registry.auth.scopes.namespace_of`)."""

    type = String()
    inherit_cache = True


@compiles(_namespace_of)
def _namespace_of_default(element: _namespace_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"split_part({compiler.process(element.clauses, **kw)}, '/', 1)"  # PostgreSQL


@compiles(_namespace_of, "sqlite")
def _namespace_of_sqlite(element: _namespace_of, compiler: SQLCompiler, **kw: Any) -> str:
    name = compiler.process(element.clauses, **kw)
    slash = f"instr({name}, '/')"
    return f"(CASE WHEN {slash} > 0 THEN substr({name}, 1, {slash} - 1) ELSE {name} END)"


async def catalog_page(
    conn: AsyncConnection, visibility: Visibility, last: str, limit: int
) -> list[str]:
    """Names after `last`, in order, of at most `limit` repositories the caller may see.

    One query per page, however many repositories are hidden. A repository is visible when it
    is public (its profile says so; before its first manifest, its namespace's default, and
    `library` without a namespace row), in a namespace the caller sees whole, or granted to
    the caller. Every repository is listed, with or without a manifest, as the catalog does.
    """
    namespace = _namespace_of(repositories.c.name)
    clauses: list[ColumnElement[bool]] = [
        func.coalesce(profiles.c.is_public, namespaces.c.default_public, namespace == LIBRARY)
    ]
    if visibility.everything:
        clauses.append(true())
    if visibility.namespaces:
        clauses.append(namespace.in_(sorted(visibility.namespaces)))
    if visibility.repositories:
        clauses.append(repositories.c.name.in_(sorted(visibility.repositories)))
    stmt = (
        select(repositories.c.name)
        .select_from(
            repositories.outerjoin(
                profiles, profiles.c.repository_id == repositories.c.id
            ).outerjoin(namespaces, namespaces.c.name == namespace)
        )
        .where(repositories.c.name > last, or_(*clauses))
        .order_by(repositories.c.name)
        .limit(limit)
    )
    return list(await conn.scalars(stmt))


_STAR_COUNT = (
    select(func.count())
    .where(stars.c.repository_id == repositories.c.id)
    .correlate(repositories)
    .scalar_subquery()
)

_INFO_COLUMNS = (
    repositories.c.name,
    profiles.c.description,
    profiles.c.full_description,
    profiles.c.is_public,
    _STAR_COUNT.label("star_count"),
    profiles.c.pull_count,
    profiles.c.last_pushed_at,
    repositories.c.created_at,
)


def _info(row: Any) -> RepositoryInfo:
    return RepositoryInfo(
        row.name,
        row.description,
        row.full_description,
        bool(row.is_public),
        int(row.star_count),
        int(row.pull_count),
        row.last_pushed_at,
        row.created_at,
    )


def _joined() -> Any:
    return repositories.join(profiles, profiles.c.repository_id == repositories.c.id)


async def repository_info(conn: AsyncConnection, name: str) -> RepositoryInfo | None:
    row = (
        await conn.execute(
            select(*_INFO_COLUMNS).select_from(_joined()).where(repositories.c.name == name)
        )
    ).first()
    return _info(row) if row else None


async def repository_names(conn: AsyncConnection) -> list[str]:
    """Every repository's name, in order (for checks over the whole hub)."""
    return list(await conn.scalars(select(repositories.c.name).order_by(repositories.c.name)))


async def visibility_of(conn: AsyncConnection, names: Sequence[str]) -> dict[str, bool]:
    """`is_public` of each named repository that has a profile."""
    if not names:
        return {}
    rows = await conn.execute(
        select(repositories.c.name, profiles.c.is_public)
        .select_from(_joined())
        .where(repositories.c.name.in_(set(names)))
    )
    return {row.name: bool(row.is_public) for row in rows}


# Every manifest push after the first of a repository only moves this timestamp.
_TOUCH_PUSHED = hot(
    update(profiles)
    .where(
        profiles.c.repository_id
        == select(repositories.c.id)
        .where(repositories.c.name == bindparam("repo"))
        .scalar_subquery()
    )
    .values(last_pushed_at=bindparam("now"))
)


async def touch_pushed(conn: AsyncConnection, name: str) -> bool:
    """Record a push of a repository that has a profile; False when it has none yet."""
    result = await conn.execute(_TOUCH_PUSHED, {"repo": name, "now": now()})
    return result.rowcount > 0


async def mark_pushed(conn: AsyncConnection, name: str, default_public: bool) -> bool:
    """Record a push; True when this push created the repository's profile."""
    repo_id = await repository_id(conn, name)
    if repo_id is None:
        return False
    created = await insert_ignore(
        conn,
        profiles,
        {
            "repository_id": repo_id,
            "description": "",
            "is_public": default_public,
            "pull_count": 0,
            "last_pushed_at": now(),
        },
        ["repository_id"],
    )
    if not created:
        await conn.execute(_MARK_PUSHED, {"repo_id": repo_id, "now": now()})
    return created


_MARK_PUSHED = hot(
    update(profiles)
    .where(profiles.c.repository_id == bindparam("repo_id"))
    .values(last_pushed_at=bindparam("now"))
)


_ADD_PULLS = (
    update(profiles)
    .where(
        profiles.c.repository_id
        == select(repositories.c.id)
        .where(repositories.c.name == bindparam("repo"))
        .scalar_subquery()
    )
    .values(pull_count=profiles.c.pull_count + bindparam("n"))
)


async def add_pulls(conn: AsyncConnection, counts: Mapping[str, int]) -> None:
    """Add buffered pull counts (one UPDATE per repository, executed as a batch)."""
    if counts:
        await conn.execute(_ADD_PULLS, [{"repo": k, "n": v} for k, v in counts.items()])


async def update_profile(
    conn: AsyncConnection,
    name: str,
    description: str | None,
    is_public: bool | None,
    full_description: str | None = None,
) -> bool:
    values: dict[str, Any] = {}
    if description is not None:
        values["description"] = description
    if full_description is not None:
        values["full_description"] = full_description
    if is_public is not None:
        values["is_public"] = is_public
    repo_id = await repository_id(conn, name)
    if repo_id is None:
        return False
    if values:
        await conn.execute(
            update(profiles).where(profiles.c.repository_id == repo_id).values(values)
        )
    return True


async def delete_repository(conn: AsyncConnection, name: str) -> bool:
    """Delete a repository with its manifests, tags, links, profile and stars (cascades)."""
    result = await conn.execute(delete(repositories).where(repositories.c.name == name))
    return bool(result.rowcount)


async def set_star(conn: AsyncConnection, user_id: int, name: str, starred: bool) -> bool:
    repo_id = await repository_id(conn, name)
    if repo_id is None:
        return False
    if starred:
        await insert_ignore(
            conn,
            stars,
            {"user_id": user_id, "repository_id": repo_id},
            ["user_id", "repository_id"],
        )
    else:
        await conn.execute(
            delete(stars).where(stars.c.user_id == user_id, stars.c.repository_id == repo_id)
        )
    return True


async def starred_by(conn: AsyncConnection, user_id: int) -> list[RepositoryInfo]:
    """The repositories a user starred, by name."""
    stmt = (
        select(*_INFO_COLUMNS)
        .select_from(_joined().join(stars, stars.c.repository_id == repositories.c.id))
        .where(stars.c.user_id == user_id)
        .order_by(repositories.c.name)
    )
    return [_info(row) for row in await conn.execute(stmt)]


async def search(
    conn: AsyncConnection,
    visibility: Visibility,
    *,
    query: str = "",
    namespace: str | None = None,
    official_only: bool = False,
    min_stars: int = 0,
    limit: int,
    offset: int,
) -> tuple[int, list[RepositoryInfo]]:
    """Visible repositories matching `query`, best first, and how many match in all.

    Ranking: exact name (`q`, `library/q` or `*/q`), then official, stars, pulls, name.
    """
    conditions: list[ColumnElement[bool]] = [_visible(visibility)]
    term = query.strip().lower()
    if term:
        pattern = f"%{_escape_like(term)}%"
        conditions.append(
            or_(
                repositories.c.name.like(pattern, escape="\\"),
                func.lower(profiles.c.description).like(pattern, escape="\\"),
            )
        )
    if namespace:
        conditions.append(repositories.c.name.like(f"{_escape_like(namespace)}/%", escape="\\"))
    if official_only:
        conditions.append(repositories.c.name.like("library/%"))
    if min_stars:
        conditions.append(_STAR_COUNT >= min_stars)  # noqa: SIM300 (a SQL expression)
    where = and_(*conditions)
    total = await conn.scalar(select(func.count()).select_from(_joined()).where(where))
    exact = (
        or_(
            repositories.c.name == term,
            repositories.c.name == f"library/{term}",
            repositories.c.name.like(f"%/{_escape_like(term)}", escape="\\"),
        )
        if term
        else false()
    )
    stmt = (
        select(*_INFO_COLUMNS)
        .select_from(_joined())
        .where(where)
        .order_by(
            case((exact, 0), else_=1),
            case((repositories.c.name.like("library/%"), 0), else_=1),
            _STAR_COUNT.desc(),
            profiles.c.pull_count.desc(),
            repositories.c.name,
        )
        .limit(limit)
        .offset(offset)
    )
    return int(total or 0), [_info(row) for row in await conn.execute(stmt)]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def tag_infos(conn: AsyncConnection, name: str) -> list[TagInfo]:
    stmt = (
        select(
            tags.c.name,
            tags.c.manifest_digest,
            manifests.c.media_type,
            manifests.c.payload,
            tags.c.updated_at,
            tags.c.pulled_at,
        )
        .select_from(
            repositories.join(tags, tags.c.repository_id == repositories.c.id).join(
                manifests,
                and_(
                    manifests.c.repository_id == repositories.c.id,
                    manifests.c.digest == tags.c.manifest_digest,
                ),
            )
        )
        .where(repositories.c.name == name)
        .order_by(tags.c.name)
    )
    return [
        TagInfo(
            name, digest, media_type, payload, pushed, None if pulled is None else as_utc(pulled)
        )
        for name, digest, media_type, payload, pushed, pulled in await conn.execute(stmt)
    ]


async def set_trust_required(conn: AsyncConnection, repo_name: str, required: bool | None) -> bool:
    """Set a repository's content-trust setting (None: follow the namespace); False if absent."""
    result = await conn.execute(
        update(repositories).where(repositories.c.name == repo_name).values(trust_required=required)
    )
    return bool(result.rowcount)


async def trust_setting(conn: AsyncConnection, repo_name: str) -> TrustSetting | None:
    """The repository's content-trust setting, or None when there is no such repository."""
    namespace = repo_name.split("/", 1)[0]
    row = (
        await conn.execute(
            select(repositories.c.trust_required, namespaces.c.trust_required)
            .select_from(repositories.outerjoin(namespaces, namespaces.c.name == namespace))
            .where(repositories.c.name == repo_name)
        )
    ).first()
    if row is None:
        return None
    return TrustSetting(None if row[0] is None else bool(row[0]), bool(row[1]))


async def set_namespace_trust(conn: AsyncConnection, namespace_id: int, required: bool) -> None:
    await conn.execute(
        update(namespaces).where(namespaces.c.id == namespace_id).values(trust_required=required)
    )
