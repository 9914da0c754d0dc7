"""The org's records in memory: tables per object, the deletion log and undoable transactions."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.salesforce.sandbox.schema import OrgSchema

Record = dict[str, Any]


def sf_datetime(when: datetime) -> str:
    """Salesforce's JSON datetime form, 2026-01-31T12:00:00.000+0000 (UTC here).

    Stored datetimes have whole seconds, like the real platform: many rows share a SystemModstamp,
    which is exactly what incremental readers must cope with."""
    if when.tzinfo is not UTC:
        when = when.astimezone(UTC)
    # isoformat is several times faster than strftime, and seeding formats a lot of stamps.
    return when.isoformat(timespec="seconds")[:19] + ".000+0000"


def sf_datetime_literal(when: datetime) -> str:
    """A datetime from a query literal, kept to the millisecond so comparisons stay exact."""
    if when.tzinfo is not UTC:
        when = when.astimezone(UTC)
    return when.isoformat(timespec="milliseconds")[:23] + "+0000"


@dataclass(frozen=True)
class Deletion:
    sobject: str
    record_id: str
    deleted_at: str  # sf_datetime


class OrgStore:
    """Every record of the org; records are replaced, never mutated, so readers may keep references.

    Mutations go through `put`/`log_deletion`, which record an undo step while a transaction is open
    (allOrNone collections and composite requests roll back through it)."""

    def __init__(self, schema: OrgSchema) -> None:
        self.schema = schema
        # Lower-cased value → ids, for external id fields and Email (upserts and duplicate rules).
        self.indexed: dict[str, tuple[str, ...]] = {
            name: tuple(
                f.name for f in obj.fields.values() if f.external_id or (f.name == "Email" and name != "User")
            )
            for name, obj in schema.objects.items()
        }
        self.indexes: dict[tuple[str, str], dict[str, set[str]]] = {
            (name, field): {} for name, fields in self.indexed.items() for field in fields
        }
        self.lock = threading.RLock()
        self.tables: dict[str, dict[str, Record]] = {name: {} for name in schema.objects}
        self._by_prefix: dict[str, dict[str, Record]] = {
            obj.key_prefix: self.tables[name] for name, obj in schema.objects.items()
        }
        self.deletions: list[Deletion] = []
        self._undo: list[Callable[[], None]] | None = None

    # ---- reads ----
    def get(self, sobject: str, record_id: str) -> Record | None:
        return self.tables[sobject].get(record_id)

    def lookup(self, record_id: str) -> Record | None:
        """Any record by id, whatever its object (ids carry their object's key prefix)."""
        table = self._by_prefix.get(record_id[:3])
        return table.get(record_id) if table is not None else None

    # ---- writes ----
    def find_by(self, sobject: str, field: str, value: str) -> list[str]:
        """Ids whose indexed `field` equals `value`, case-insensitively (deleted ones included)."""
        return sorted(self.indexes[(sobject, field)].get(value.strip().lower(), ()))

    def put(self, sobject: str, record: Record) -> None:
        record_id = record["Id"]
        previous = self.tables[sobject].get(record_id)
        if self._undo is not None:
            self._undo.append(lambda: self._set(sobject, record_id, previous))
        self._set(sobject, record_id, record)

    def remove(self, sobject: str, record_id: str) -> None:
        """Hard delete (hard-delete jobs only)."""
        previous = self.tables[sobject].get(record_id)
        if previous is None:
            return
        if self._undo is not None:
            self._undo.append(lambda: self._set(sobject, record_id, previous))
        self._set(sobject, record_id, None)

    def log_deletion(self, entry: Deletion) -> None:
        self.deletions.append(entry)
        if self._undo is not None:
            self._undo.append(lambda: self._drop_last_deletion())

    def _drop_last_deletion(self) -> None:
        self.deletions.pop()

    def _set(self, sobject: str, record_id: str, record: Record | None) -> None:
        table = self.tables[sobject]
        old = table.get(record_id)
        for field in self.indexed[sobject]:
            index = self.indexes[(sobject, field)]
            old_value = old.get(field) if old is not None else None
            new_value = record.get(field) if record is not None else None
            if old_value == new_value:
                continue
            if isinstance(old_value, str):
                key = old_value.strip().lower()
                ids = index.get(key)
                if ids is not None:
                    ids.discard(record_id)
                    if not ids:
                        del index[key]
            if isinstance(new_value, str):
                index.setdefault(new_value.strip().lower(), set()).add(record_id)
        if record is None:
            table.pop(record_id, None)
        else:
            table[record_id] = record

    # ---- transactions ----
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Open (or nest into) an undoable unit; call `rollback()` on the yielded object to undo it."""
        with self.lock:
            outermost = self._undo is None
            if outermost:
                self._undo = []
            assert self._undo is not None
            tx = Transaction(self, len(self._undo))
            try:
                yield tx
            finally:
                if outermost:
                    self._undo = None

    def _rollback_to(self, mark: int) -> None:
        assert self._undo is not None
        while len(self._undo) > mark:
            self._undo.pop()()

    def clear(self) -> None:
        with self.lock:
            for table in self.tables.values():
                table.clear()
            for index in self.indexes.values():
                index.clear()
            self.deletions.clear()


class Transaction:
    def __init__(self, store: OrgStore, mark: int) -> None:
        self._store = store
        self._mark = mark

    def rollback(self) -> None:
        self._store._rollback_to(self._mark)
