"""Insert-if-absent on a natural key: the idempotent write of every event store (a replay writes nothing)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session

# Rows per statement: a replayed page of any size stays within every backend's parameter limit.
CHUNK = 500


def absent_insert(
    dialect: str, table: Table | type[DeclarativeBase], keys: Sequence[str]
) -> postgresql.Insert | sqlite.Insert:
    """INSERT ... ON CONFLICT (keys) DO NOTHING for SQLite or PostgreSQL."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    raise NotImplementedError(f"the store does not support the {dialect} database")


def insert_absent(
    executor: Connection | Session,
    table: Table | type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
) -> None:
    """Insert the rows whose key is not stored yet (another run or replica may have written it)."""
    if not rows:
        return
    bind = executor if isinstance(executor, Connection) else executor.get_bind()
    statement = absent_insert(bind.dialect.name, table, keys)
    remaining = iter(rows)
    while chunk := list(islice(remaining, CHUNK)):
        executor.execute(statement, chunk)
