"""The statements every push runs, straight on SQLite's driver in the writer thread.

A manifest push runs a dozen small statements. Through SQLAlchemy's execution path each costs
more than SQLite's own work (the compiled-cache lookup, an execution context, a result object),
and on the writer thread that time is held under the GIL the event loop needs too. Statements
marked `hot` (built once, at import) are compiled once per writer instead and run on the raw
`sqlite3` connection. Values are bound through SQLAlchemy's own bind processors, so a row is
stored exactly as the engine would store it.

Only statements whose results need no processing may be marked (integers and strings come back
as the driver gives them; a datetime would come back as SQLite's text), and none with an
expanding `IN` parameter. A statement is compiled for the parameter names it is given (as
SQLAlchemy does for an INSERT of some columns); one that would then need a Python-side column
default computed takes SQLAlchemy's path, as does every statement not marked, and on PostgreSQL
every statement.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

__all__ = ["HotStatements", "Rows", "hot"]

S = TypeVar("S")

_HOT: dict[int, Any] = {}  # id -> statement: the statement is kept, so its id is never reused


def hot(statement: S) -> S:
    """Mark a statement built once as one the SQLite writer runs on the raw driver."""
    _HOT[id(statement)] = statement
    return statement


class Rows:
    """The part of SQLAlchemy's result that query functions use, over fetched driver rows."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Any:
        return iter(self._rows)

    def first(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def all(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None


# SQL, each positional parameter's name and bind processor, the parameters' default values, and
# the names a caller must give.
_Bound = tuple[str, list[tuple[str, Callable[[Any], Any] | None]], dict[str, Any], frozenset[str]]
_Key = tuple[int, frozenset[str]]


class HotStatements:
    """Runs `hot` statements on one `sqlite3` connection (the writer's)."""

    def __init__(self, connection: sqlite3.Connection, dialect: Dialect) -> None:
        self._connection = connection
        self._dialect = dialect
        self._compiled: dict[_Key, _Bound | None] = {}

    def run(self, statement: Any, parameters: Any) -> Rows | None:
        """The statement's rows, or None when SQLAlchemy must run it (not `hot`, or needing
        what only SQLAlchemy's execution does)."""
        if _HOT.get(id(statement)) is not statement:
            return None
        many = isinstance(parameters, Sequence) and not isinstance(parameters, dict)
        if many and not parameters:
            return None
        first = parameters[0] if many else (parameters or {})
        names = frozenset(first)
        if many and any(frozenset(each) != names for each in parameters):
            return None
        bound = self._compile(statement, names)
        if bound is None or not bound[3] <= names:
            return None  # SQLAlchemy says what is missing
        sql, order, defaults, _required = bound
        values: Any = None
        try:
            if many:
                values = [_values(order, defaults, each) for each in parameters]
                cursor = self._connection.executemany(sql, values)
                return Rows([], cursor.rowcount)
            values = _values(order, defaults, first)
            cursor = self._connection.execute(sql, values)
            rows = cursor.fetchall() if cursor.description else []
            return Rows(rows, cursor.rowcount)
        except sqlite3.Error as exc:  # raised as SQLAlchemy would (IntegrityError, ...)
            raise DBAPIError.instance(
                sql, values, exc, sqlite3.Error, dialect=self._dialect, ismulti=many
            ) from exc

    def _compile(self, statement: Any, names: frozenset[str]) -> _Bound | None:
        key = (id(statement), names)
        if key not in self._compiled:
            compiled = statement.compile(dialect=self._dialect, column_keys=sorted(names))
            if compiled.insert_prefetch or compiled.update_prefetch or compiled.has_out_parameters:
                self._compiled[key] = None  # a column default to compute: SQLAlchemy's path
            elif any(bind.expanding for bind in compiled.binds.values()):
                self._compiled[key] = None
            else:
                processors = compiled._bind_processors
                order = [(name, processors.get(name)) for name in compiled.positiontup or []]
                required = frozenset(name for name, bind in compiled.binds.items() if bind.required)
                self._compiled[key] = (str(compiled), order, dict(compiled.params), required)
        return self._compiled[key]


def _values(
    order: list[tuple[str, Callable[[Any], Any] | None]],
    defaults: dict[str, Any],
    parameters: dict[str, Any],
) -> list[Any]:
    values = []
    for name, process in order:
        value = parameters[name] if name in parameters else defaults[name]
        values.append(value if process is None or value is None else process(value))
    return values
