"""Fast conversion of large store result sets into report rows: instants, ids and repeated text.

A report can read a million touches; per value, the store's `UTCDateTime` type costs more than the
rest of the row (it parses, then rebuilds every datetime to attach UTC). The loaders read instants
through `InstantReader` instead, which gives the same UTC datetimes in a fraction of the time, and
share the strings that repeat across rows (ids of people, channels, kinds) instead of keeping one
copy per row.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, DateTime, String, text, type_coerce
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement

T = TypeVar("T")

# Rows are converted this many at a time, so the driver's rows and the report rows built from them
# never both exist for the whole result.
CHUNK_ROWS = 20_000

_fromisoformat = datetime.fromisoformat


def _from_sqlite_text(value: str) -> datetime:
    # The store keeps SQLite instants as naive UTC text ("2026-03-01 09:30:00.000000").
    try:
        return _fromisoformat(value + "+00:00")
    except ValueError:  # text with an offset of its own (not written through the store's types)
        parsed = _fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _to_utc(value: datetime) -> datetime:
    # psycopg gives datetime.UTC itself when the session time zone is UTC (see InstantReader.prepare).
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class InstantReader:
    """Selects instant columns raw and converts them to timezone-aware UTC datetimes (`datetime.UTC`).

    `column(c)` is what to select for the instant column `c`; `read(value)` converts a non-null
    selected value; `prepare(connection)` must run once in the connection's transaction first.
    """

    def __init__(self, dialect_name: str) -> None:
        self._sqlite = dialect_name == "sqlite"
        self.read: Callable[[Any], datetime] = _from_sqlite_text if self._sqlite else _to_utc

    def prepare(self, connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # Instants then arrive in UTC already: nothing to convert. LOCAL: this transaction only.
            connection.execute(text("SET LOCAL TIME ZONE 'UTC'"))

    def column(self, column: ColumnElement[Any] | QueryableAttribute[Any]) -> ColumnElement[Any]:
        if self._sqlite:
            return type_coerce(column, String())
        return type_coerce(column, DateTime(timezone=True))

    def optional(self, value: Any) -> datetime | None:
        return None if value is None else self.read(value)


def instant_reader(connection: Connection) -> InstantReader:
    """The reader for this connection's backend, prepared."""
    reader = InstantReader(connection.dialect.name)
    reader.prepare(connection)
    return reader


class Ids(dict[int, str]):
    """Store id → its string, made once per id: `ids[42]` is "42", the same object every time
    (a hit is a plain dict lookup)."""

    def __missing__(self, key: int) -> str:
        value = self[key] = str(key)
        return value


# Repeated text (channels, kinds, stages, owners) is interned with sys.intern: one copy per value.
intern = sys.intern


def chunks(connection: Connection, stmt: Executable) -> Iterator[Sequence[Any]]:
    """The statement's rows, `CHUNK_ROWS` at a time. PostgreSQL streams them from a server-side
    cursor, so the driver never holds the whole result either."""
    result = connection.execute(stmt, execution_options={"yield_per": CHUNK_ROWS})
    try:
        yield from result.partitions()
    finally:
        result.close()


def convert(
    connection: Connection, stmt: Executable, build: Callable[[Sequence[Any]], Iterable[T]]
) -> list[T]:
    """`build` applied to every chunk of the statement's rows, concatenated."""
    out: list[T] = []
    for rows in chunks(connection, stmt):
        out.extend(build(rows))
    return out
