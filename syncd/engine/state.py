"""The sync state a page reads and writes: people, links, bases, cursors, runs and issues.

Reads happen before a page is pushed; everything a page changes is written by
`record_page` in ONE transaction together with the cursor, so a crash either keeps the
whole page (and its cursor) or none of it, and the replay converges.

The store is read and written with Core statements, a few per table per page (set-based
lookups in chunks, one executemany per INSERT/UPDATE), never through ORM objects: a page's
work and memory are bounded by the page, not by how many people the store holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    Executable,
    Integer,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from syncd.connector import Cursor as ConnectorCursor
from syncd.errors import IssueCategory
from syncd.store.models import Cursor, FieldState, Identity, Issue, Person, Run, SyncLog, table_of


@dataclass(frozen=True)
class Link:
    """An active identity: this record in this system is this person."""

    person_id: int
    system: str
    object: str
    external_id: str


@dataclass(frozen=True)
class NewLink:
    """Link a record to a person; `email` finds (or creates) the person when `person_id` is None."""

    system: str
    object: str
    external_id: str
    email: str
    person_id: int | None = None
    created_at: datetime | None = None  # the record's own creation instant, for people.created_at


@dataclass(frozen=True)
class Retirement:
    """An identity that stopped standing for its person (merged, converted, deleted)."""

    system: str
    object: str
    external_id: str
    reason: str  # merged | converted | deleted
    replaced_by: str | None = None


@dataclass(frozen=True)
class BaseWrite:
    """The last-synced value of one field of one entity.

    `entity_key` None means "the person with `email`", for people the same page creates.
    """

    entity_key: str | None
    field: str
    value: Any
    email: str | None = None


@dataclass(frozen=True)
class LogEntry:
    system: str
    object: str
    external_id: str | None
    action: str  # create | update | delete | link | unlink
    fields: tuple[str, ...] = ()
    email: str | None = None  # resolves person_id through the links written in the same page


@dataclass(frozen=True)
class Quarantine:
    """A record set aside with its reason; `payload` is what we meant to write, for a retry."""

    system: str
    object: str
    record_key: str
    category: IssueCategory
    message: str
    remote_code: str | None = None
    remote_message: str | None = None
    payload: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class CursorMove:
    """Where a pull resumes, and when the pull that got there started (see `StoredCursor`)."""

    system: str
    object: str
    cursor: ConnectorCursor
    observed_at: datetime | None = None


@dataclass(frozen=True)
class StoredCursor:
    """A resume point and the instant the pull that reached it started (None: not known).

    Records changed shortly before that instant may not have been visible to it yet (search index
    lag, long transactions); records changed well before it were.
    """

    cursor: ConnectorCursor
    observed_at: datetime | None


@dataclass
class PageRecord:
    """Everything one page changes in the store, written atomically by `record_page`."""

    links: list[NewLink] = field(default_factory=list)
    retirements: list[Retirement] = field(default_factory=list)
    bases: list[BaseWrite] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    quarantined: list[Quarantine] = field(default_factory=list)
    # (system, record_key) of records that synced cleanly: their open issues are closed (except
    # duplicate and ambiguous-match issues, which other records sharing the email raised).
    cleared: list[tuple[str, str]] = field(default_factory=list)
    # More of the page's writes, made in its transaction after its links (e.g. lifecycle stages).
    also: list[Callable[[Connection], None]] = field(default_factory=list)
    cursor: CursorMove | None = None


# Issues about which record stands for a person: keyed by the email several records share, so a
# clean sync of the survivor says nothing about them; only the records' own systems can resolve them.
_IDENTITY_ISSUES = (IssueCategory.DUPLICATE.value, IssueCategory.AMBIGUOUS_MATCH.value)


def person_key(person_id: int) -> str:
    """The entity key of a person's field bases."""
    return f"person:{person_id}"


# One encoder for every value: `json.dumps` with options builds a new encoder per call.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, default=str, separators=(",", ":"))


def encode_value(value: Any) -> str:
    """Canonical JSON of a field value, so equal values always compare equal as stored text."""
    return _CANONICAL_JSON.encode(value)


_PEOPLE = table_of(Person)
_IDENTITIES = table_of(Identity)
_BASES = table_of(FieldState)
_CURSORS = table_of(Cursor)
_RUNS = table_of(Run)
_LOG = table_of(SyncLog)
_ISSUES = table_of(Issue)

# Keys per `IN (...)` lookup: far below every backend's bound-parameter limit.
_CHUNK = 500
# Rows per executemany: a page's parameter sets are built and sent a batch at a time, so a large
# page (2,000 records, ~30,000 bases) never holds them all at once.
_BATCH = 1000

# What the page-transaction helpers below write through: the connection of a page transaction, or
# the Session of one (both run Core statements as they are, with no ORM bookkeeping).
Executor: TypeAlias = Connection | Session

# Statements run once per page with one parameter set per row (executemany). Bound names differ
# from column names: SQLAlchemy reserves those for the SET / VALUES clauses.
_RENAME_PERSON = (
    update(_PEOPLE)
    .where(_PEOPLE.c.id == bindparam("b_person_id"))
    .values(email=bindparam("b_email"), updated_at=bindparam("b_now"))
)
_AGE_PERSON = (
    update(_PEOPLE)
    .where(_PEOPLE.c.id == bindparam("b_person_id"), _PEOPLE.c.created_at > bindparam("b_created_at"))
    .values(created_at=bindparam("b_created_at"), updated_at=bindparam("b_now"))
)
_RELINK = (
    update(_IDENTITIES)
    .where(_IDENTITIES.c.id == bindparam("b_id"))
    .values(
        person_id=bindparam("b_person_id"), active=True, deactivated_at=None, reason=None, replaced_by=None
    )
)
_RETIRE = (
    update(_IDENTITIES)
    .where(
        _IDENTITIES.c.system == bindparam("b_system"),
        _IDENTITIES.c.object == bindparam("b_object"),
        _IDENTITIES.c.external_id == bindparam("b_external_id"),
        _IDENTITIES.c.active,
    )
    .values(
        active=False,
        deactivated_at=bindparam("b_now"),
        reason=bindparam("b_reason"),
        replaced_by=bindparam("b_replaced_by"),
    )
)
_REWRITE_BASE = (
    update(_BASES)
    .where(
        _BASES.c.flow == bindparam("b_flow"),
        _BASES.c.entity_key == bindparam("b_entity_key"),
        _BASES.c.field == bindparam("b_field"),
    )
    .values(value=bindparam("b_value"), synced_at=bindparam("b_now"))
)
_REPEAT_ISSUE = (
    update(_ISSUES)
    .where(_ISSUES.c.id == bindparam("b_id"))
    .values(
        retry_count=_ISSUES.c.retry_count + bindparam("b_times", type_=Integer),
        last_seen_at=bindparam("b_now"),
        message=bindparam("b_message"),
        remote_code=bindparam("b_remote_code"),
        remote_message=bindparam("b_remote_message"),
        run_id=bindparam("b_run_id"),
    )
)
_RESOLVE_ISSUE = (
    update(_ISSUES)
    .where(_ISSUES.c.id == bindparam("b_id"), _ISSUES.c.status == "open")
    .values(status="resolved", resolved_at=bindparam("b_now"))
)
# A repeat without a payload keeps the one stored (what the earlier failure meant to write).
_REPEAT_ISSUE_WITH_PAYLOAD = _REPEAT_ISSUE.values(payload=bindparam("b_payload"))


class SyncState:
    """Store access for one flow. Connections are short: one per read, one per recorded page."""

    def __init__(self, engine: Engine, flow: str) -> None:
        self._engine = engine
        self.flow = flow

    # --- reads --------------------------------------------------------------------------

    def links_by_external_id(self, system: str, external_ids: Iterable[str]) -> dict[str, Link]:
        ids = sorted(set(external_ids))
        c = _IDENTITIES.c
        found: dict[str, Link] = {}
        if not ids:
            return found
        with self._engine.connect() as conn:
            # Naming the objects lets the lookup use the whole (system, object, external_id) key;
            # by system alone it would read every identity of the system, on both backends.
            objects = _objects_of(conn, system)
            for chunk in chunks(ids, _CHUNK) if objects else ():
                rows = conn.execute(
                    select(c.person_id, c.system, c.object, c.external_id).where(
                        c.system == system, c.object.in_(objects), c.external_id.in_(chunk), c.active
                    )
                )
                for person_id, system_, object_, external_id in rows:
                    found[external_id] = Link(person_id, system_, object_, external_id)
        return found

    def links_by_person(self, system: str, person_ids: Iterable[int]) -> dict[int, list[Link]]:
        """Active links per person, oldest link first."""
        rows = sorted(
            (row_id, Link(person_id, system_, object_, external_id))
            for row_id, person_id, system_, object_, external_id, active, _ in self._identities_of(person_ids)
            if system_ == system and active
        )
        found: dict[int, list[Link]] = {}
        for _, link in rows:
            found.setdefault(link.person_id, []).append(link)
        return found

    def deleted_in(self, system: str, person_ids: Iterable[int]) -> set[int]:
        """People whose record in `system` was deleted there (a tombstone) and who have no live one."""
        found: set[int] = set()
        live: set[int] = set()
        for _, person_id, system_, _, _, active, reason in self._identities_of(person_ids):
            if system_ != system:
                continue
            if active:
                live.add(person_id)
            elif reason == "deleted":
                found.add(person_id)
        return found - live

    def _identities_of(
        self, person_ids: Iterable[int]
    ) -> list[tuple[int, int, str, str, str, bool, str | None]]:
        """Every identity (any system, active or not) of these people: (id, person_id, system,
        object, external_id, active, reason). Filtering by person alone keeps the lookup on the
        person index (SQLite would otherwise scan the system's part of the unique key)."""
        ids = sorted(set(person_ids))
        c = _IDENTITIES.c
        found: list[tuple[int, int, str, str, str, bool, str | None]] = []
        with self._engine.connect() as conn:
            for chunk in chunks(ids, _CHUNK):
                rows = conn.execute(
                    select(c.id, c.person_id, c.system, c.object, c.external_id, c.active, c.reason).where(
                        c.person_id.in_(chunk)
                    )
                )
                found.extend(tuple(row) for row in rows)
        return found

    def rejected_writes(self, system: str) -> list[str]:
        """Record keys (emails) of open issues left by writes `system` refused: retried every run."""
        c = _ISSUES.c
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(c.record_key, c.payload).where(
                    c.flow == self.flow, c.system == system, c.status == "open"
                )
            )
            # Only refused writes carry a payload (a JSON null is not SQL NULL, so filter here).
            return sorted({key for key, payload in rows if payload is not None and "@" in key})

    def people_by_email(self, emails: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(emails))
        c = _PEOPLE.c
        found: dict[str, int] = {}
        with self._engine.connect() as conn:
            for chunk in chunks(wanted, _CHUNK):
                for person_id, email in conn.execute(select(c.id, c.email).where(c.email.in_(chunk))):
                    found[email] = person_id
        return found

    def forget_bases(self, entity_keys: Iterable[str]) -> int:
        """Drop the last-synced values of these entities: their next sync is decided like a first one."""
        keys = sorted(set(entity_keys))
        c = _BASES.c
        forgotten = 0
        with self._engine.begin() as conn:
            for chunk in chunks(keys, _CHUNK):
                result = conn.execute(delete(_BASES).where(c.flow == self.flow, c.entity_key.in_(chunk)))
                forgotten += result.rowcount
        return forgotten

    def bases(self, entity_keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Last-synced values per entity and field (absent = never synced)."""
        keys = sorted(set(entity_keys))
        c = _BASES.c
        found: dict[str, dict[str, Any]] = {}
        with self._engine.connect() as conn:
            for chunk in chunks(keys, _CHUNK):
                rows = conn.execute(
                    select(c.entity_key, c.field, c.value).where(c.flow == self.flow, c.entity_key.in_(chunk))
                )
                for entity_key, name, value in rows:
                    found.setdefault(entity_key, {})[name] = None if value is None else json.loads(value)
        return found

    def cursor(self, system: str, object: str) -> ConnectorCursor | None:
        stored = self.stored_cursor(system, object)
        return None if stored is None else stored.cursor

    def clear_cursors(self) -> int:
        """Forget where every pull of this flow stands: the next run reads everything again."""
        with self._engine.begin() as conn:
            return conn.execute(delete(_CURSORS).where(_CURSORS.c.flow == self.flow)).rowcount

    def stored_cursor(self, system: str, object: str) -> StoredCursor | None:
        # `updated_at` holds the instant the pull that moved the cursor started.
        c = _CURSORS.c
        with self._engine.connect() as conn:
            row = conn.execute(
                select(c.position_at, c.position_id, c.updated_at).where(
                    c.flow == self.flow, c.system == system, c.object == object
                )
            ).one_or_none()
        if row is None:
            return None
        position_at, position_id, updated_at = row
        return StoredCursor(ConnectorCursor(position_at, position_id), updated_at)

    # --- runs ---------------------------------------------------------------------------

    def start_run(self, trigger: str, now: datetime, *, dry_run: bool = False) -> int:
        with self._engine.begin() as conn:
            run_id: int = conn.execute(
                insert(_RUNS)
                .values(flow=self.flow, trigger=trigger, dry_run=dry_run, started_at=now, status="running")
                .returning(_RUNS.c.id)
            ).scalar_one()
            return run_id

    def finish_run(
        self,
        run_id: int,
        now: datetime,
        *,
        status: str,
        counts: Mapping[str, Any],
        api_calls: Mapping[str, Any],
        api_usage: Mapping[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(_RUNS)
                .where(_RUNS.c.id == run_id)
                .values(
                    finished_at=now,
                    status=status,
                    counts=dict(counts),
                    api_calls=dict(api_calls),
                    api_usage=dict(api_usage or {}),
                    error=error,
                )
            )

    # --- the page transaction -----------------------------------------------------------

    def record_page(self, run_id: int, page: PageRecord, now: datetime) -> dict[str, int]:
        """Write one page's links, bases, log, issues and cursor atomically.

        Returns the person id of every email the page linked (new people included), so the
        caller can key bases of newly created records.
        """
        with self._engine.begin() as conn:
            people = self._ensure_people(conn, page.links, now)
            self._write_links(conn, page.links, people, now)
            _retire(conn, page.retirements, now)
            self._write_bases(conn, page.bases, people, now)
            _write_log(conn, run_id, page.log, people, now)
            clear_issues(conn, self.flow, page.cleared, now)
            quarantine_all(conn, self.flow, run_id, page.quarantined, now)
            for write in page.also:
                write(conn)
            if page.cursor is not None:
                move_cursor(conn, self.flow, page.cursor, now)
            return people

    def _ensure_people(self, conn: Connection, links: Sequence[NewLink], now: datetime) -> dict[str, int]:
        """Person ids by email for every link of the page, creating people for new emails.

        A link that already names its person keeps it: if its email changed, the person's email
        follows (unless another person holds the new address).
        """
        emails = {link.email for link in links if link.email}
        if not emails:
            return {}
        c = _PEOPLE.c
        people: dict[str, int] = {}
        stored_created: dict[str, datetime] = {}
        for chunk in chunks(sorted(emails), _CHUNK):
            for person_id, email, created_at in conn.execute(
                select(c.id, c.email, c.created_at).where(c.email.in_(chunk))
            ):
                people[email] = person_id
                stored_created[email] = created_at
        renames: list[dict[str, Any]] = []
        for link in links:
            if link.person_id is not None and link.email and link.email not in people:
                renames.append({"b_person_id": link.person_id, "b_email": link.email, "b_now": now})
                people[link.email] = link.person_id
        _execute_many(conn, _RENAME_PERSON, renames)  # in page order: the last rename of a person wins
        earliest: dict[str, datetime] = {}
        for link in links:
            if not link.email:
                continue
            created = link.created_at or now
            if link.email not in earliest or created < earliest[link.email]:
                earliest[link.email] = created
        new = sorted(emails - people.keys())
        for batch in chunks(new, _BATCH):
            rows = [{"email": email, "created_at": earliest[email], "updated_at": now} for email in batch]
            for person_id, email in conn.execute(insert(_PEOPLE).returning(c.id, c.email), rows):
                people[email] = person_id
        # A person is as old as the oldest record that stands for them (new people already are;
        # a renamed person's stored age is not known here, so the statement's guard decides).
        created_now = set(new)
        _execute_many(
            conn,
            _AGE_PERSON,
            (
                {"b_person_id": people[email], "b_created_at": created, "b_now": now}
                for email, created in earliest.items()
                if email not in created_now
                and (email not in stored_created or created < stored_created[email])
            ),
        )
        return people

    def _write_links(
        self, conn: Connection, links: Sequence[NewLink], people: Mapping[str, int], now: datetime
    ) -> None:
        if not links:
            return
        c = _IDENTITIES.c
        by_object: dict[tuple[str, str], set[str]] = {}
        for link in links:
            by_object.setdefault((link.system, link.object), set()).add(link.external_id)
        # Stored identities of the page's records: key -> [id, person_id, active].
        stored: dict[tuple[str, str, str], list[Any]] = {}
        for (system, object_), ids in by_object.items():
            for chunk in chunks(sorted(ids), _CHUNK):
                for row_id, external_id, person_id, active in conn.execute(
                    select(c.id, c.external_id, c.person_id, c.active).where(
                        c.system == system, c.object == object_, c.external_id.in_(chunk)
                    )
                ):
                    stored[(system, object_, external_id)] = [row_id, person_id, active]
        created: dict[tuple[str, str, str], dict[str, Any]] = {}
        moved: dict[int, int] = {}  # identity id -> person id, the last link of the page wins
        for link in links:
            person_id = link.person_id if link.person_id is not None else people[link.email]
            key = (link.system, link.object, link.external_id)
            if key in created:
                created[key]["person_id"] = person_id
                continue
            row = stored.get(key)
            if row is None:
                created[key] = {
                    "person_id": person_id,
                    "system": link.system,
                    "object": link.object,
                    "external_id": link.external_id,
                    "active": True,
                    "linked_at": now,
                    "deactivated_at": None,
                    "reason": None,
                    "replaced_by": None,
                }
            elif row[1] != person_id or not row[2]:
                row[1], row[2] = person_id, True
                moved[row[0]] = person_id
        _execute_many(conn, _RELINK, ({"b_id": i, "b_person_id": p} for i, p in moved.items()))
        _execute_many(conn, insert(_IDENTITIES), created.values())

    def _write_bases(
        self, conn: Connection, bases: Sequence[BaseWrite], people: Mapping[str, int], now: datetime
    ) -> None:
        if not bases:
            return
        # The last write of an (entity, field) in the page wins.
        values: dict[tuple[str, str], str | None] = {}
        for base in bases:
            encoded = None if base.value is None else encode_value(base.value)
            values[(self._entity_key(base, people), base.field)] = encoded
        c = _BASES.c
        stored: set[tuple[str, str]] = set()
        for chunk in chunks(sorted({key for key, _ in values}), _CHUNK):
            for entity_key, name in conn.execute(
                select(c.entity_key, c.field).where(c.flow == self.flow, c.entity_key.in_(chunk))
            ):
                stored.add((entity_key, name))
        _execute_many(
            conn,
            _REWRITE_BASE,
            (
                {"b_flow": self.flow, "b_entity_key": key, "b_field": name, "b_value": value, "b_now": now}
                for (key, name), value in values.items()
                if (key, name) in stored
            ),
        )
        _execute_many(
            conn,
            insert(_BASES),
            (
                {"flow": self.flow, "entity_key": key, "field": name, "value": value, "synced_at": now}
                for (key, name), value in values.items()
                if (key, name) not in stored
            ),
        )

    @staticmethod
    def _entity_key(base: BaseWrite, people: Mapping[str, int]) -> str:
        if base.entity_key is not None:
            return base.entity_key
        if base.email is None or base.email not in people:
            raise ValueError(
                f"base of field {base.field!r} names no entity and no person linked in this page"
            )
        return person_key(people[base.email])


def _retire(conn: Connection, retirements: Sequence[Retirement], now: datetime) -> None:
    _execute_many(
        conn,
        _RETIRE,
        (
            {
                "b_system": item.system,
                "b_object": item.object,
                "b_external_id": item.external_id,
                "b_now": now,
                "b_reason": item.reason,
                "b_replaced_by": item.replaced_by,
            }
            for item in retirements
        ),
    )


def _write_log(
    conn: Connection, run_id: int, entries: Sequence[LogEntry], people: Mapping[str, int], now: datetime
) -> None:
    _execute_many(
        conn,
        insert(_LOG),
        (
            {
                "run_id": run_id,
                "system": entry.system,
                "object": entry.object,
                "external_id": entry.external_id,
                "person_id": people.get(entry.email) if entry.email else None,
                "action": entry.action,
                "fields": {"names": list(entry.fields)},
                "at": now,
            }
            for entry in entries
        ),
    )


def clear_issues(conn: Executor, flow: str, cleared: Sequence[tuple[str, str]], now: datetime) -> None:
    """Close the open issues of records that synced cleanly, inside the caller's transaction.

    Duplicate and ambiguous-match issues stay: another record's clean sync does not resolve them."""
    by_system: dict[str, set[str]] = {}
    for system, key in cleared:
        by_system.setdefault(system, set()).add(key)
    resolved = [
        {"b_id": issue_id, "b_now": now}
        for system, keys in by_system.items()
        for issue_id, _, category, status in _issues_of(conn, flow, system, keys)
        if status == "open" and category not in _IDENTITY_ISSUES
    ]
    _execute_many(conn, _RESOLVE_ISSUE, resolved)


def _issues_of(
    conn: Executor, flow: str, system: str, record_keys: Iterable[str]
) -> list[tuple[int, str, str, str]]:
    """Every issue (any status) of these records: (id, record_key, category, status).

    Found by (flow, system, record_key) alone, so the lookup stays on that index; with the status
    in the query SQLite would walk every open issue of every flow instead."""
    c = _ISSUES.c
    found: list[tuple[int, str, str, str]] = []
    for chunk in chunks(sorted(set(record_keys)), _CHUNK):
        rows = conn.execute(
            select(c.id, c.record_key, c.category, c.status).where(
                c.flow == flow, c.system == system, c.record_key.in_(chunk)
            )
        )
        found.extend((issue_id, key, category, status) for issue_id, key, category, status in rows)
    return found


def quarantine(conn: Executor, flow: str, run_id: int, item: Quarantine, now: datetime) -> None:
    """Set one record aside, inside the caller's transaction (see `quarantine_all`)."""
    quarantine_all(conn, flow, run_id, [item], now)


def quarantine_all(
    conn: Executor, flow: str, run_id: int, items: Sequence[Quarantine], now: datetime
) -> None:
    """Set records aside, inside the caller's transaction. One open issue per record and category:
    a record failing every cycle is one issue with a growing retry count, not a flood.

    Items are applied in order: a second item for a record and category (in this call or a later
    one) counts as a retry of the first, and the last one's message stands."""
    if not items:
        return
    by_system: dict[str, set[str]] = {}
    for item in items:
        by_system.setdefault(item.system, set()).add(item.record_key)
    wanted = {(item.system, item.record_key, item.category.value) for item in items}
    open_ids: dict[tuple[str, str, str], list[int]] = {}
    for system, keys in by_system.items():
        for issue_id, record_key, category, status in _issues_of(conn, flow, system, keys):
            if status == "open" and (system, record_key, category) in wanted:
                open_ids.setdefault((system, record_key, category), []).append(issue_id)
    # Per record and category, in page order: the first item (it opens the issue when none is
    # open), how many items there are, the last one (its message stands) and the last payload.
    first: dict[tuple[str, str, str], Quarantine] = {}
    count: dict[tuple[str, str, str], int] = {}
    last: dict[tuple[str, str, str], Quarantine] = {}
    payloads: dict[tuple[str, str, str], dict[str, Any]] = {}
    for item in items:
        key = (item.system, item.record_key, item.category.value)
        first.setdefault(key, item)
        count[key] = count.get(key, 0) + 1
        last[key] = item
        if item.payload is not None:
            payloads[key] = dict(item.payload)
    opened = [
        {
            "flow": flow,
            "system": item.system,
            "object": item.object,
            "record_key": item.record_key,
            "person_id": None,
            "category": item.category.value,
            "message": last[key].message,
            "remote_code": last[key].remote_code,
            "remote_message": last[key].remote_message,
            "payload": payloads.get(key),
            "status": "open",
            "retry_count": count[key] - 1,
            "first_seen_at": now,
            "last_seen_at": now,
            "resolved_at": None,
            "run_id": run_id,
        }
        for key, item in first.items()
        if key not in open_ids
    ]
    plain: list[dict[str, Any]] = []
    with_payload: list[dict[str, Any]] = []
    for key, issue_ids in open_ids.items():
        item = last[key]
        for issue_id in issue_ids:
            params = {
                "b_id": issue_id,
                "b_times": count[key],
                "b_now": now,
                "b_message": item.message,
                "b_remote_code": item.remote_code,
                "b_remote_message": item.remote_message,
                "b_run_id": run_id,
            }
            if key in payloads:
                with_payload.append({**params, "b_payload": payloads[key]})
            else:
                plain.append(params)
    _execute_many(conn, insert(_ISSUES), opened)
    _execute_many(conn, _REPEAT_ISSUE, plain)
    _execute_many(conn, _REPEAT_ISSUE_WITH_PAYLOAD, with_payload)


def move_cursor(conn: Executor, flow: str, move: CursorMove, now: datetime) -> None:
    """Checkpoint a pull, inside the transaction that records the data it covers."""
    observed = move.observed_at or now
    c = _CURSORS.c
    position = {
        "position_at": move.cursor.modified_at,
        "position_id": move.cursor.last_id,
        "updated_at": observed,
    }
    moved = conn.execute(
        update(_CURSORS)
        .where(c.flow == flow, c.system == move.system, c.object == move.object)
        .values(**position)
    )
    if not getattr(moved, "rowcount", 0):
        conn.execute(insert(_CURSORS).values(flow=flow, system=move.system, object=move.object, **position))


def _objects_of(conn: Connection, system: str) -> list[str]:
    """The objects `system` has identities of, by a loose index scan: one index seek per object
    (`min(object) > previous`), however many identities there are."""
    c = _IDENTITIES.c
    step = _IDENTITIES.alias()
    seen = (
        select(func.min(c.object).label("object"))
        .where(c.system == system)
        .cte("seen_objects", recursive=True)
    )
    following = select(func.min(step.c.object)).where(step.c.system == system, step.c.object > seen.c.object)
    seen = seen.union_all(select(following.scalar_subquery()).where(seen.c.object.is_not(None)))
    return [name for name in conn.execute(select(seen.c.object)).scalars() if name is not None]


def _execute_many(conn: Executor, statement: Executable, rows: Iterable[Mapping[str, Any]]) -> None:
    """Run `statement` once per row as executemany, `_BATCH` rows at a time (nothing when no rows)."""
    pending = iter(rows)
    while batch := list(islice(pending, _BATCH)):
        conn.execute(statement, batch)


T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
