"""The sync state a page reads and writes: people, links, bases, cursors, runs and issues.

Reads happen before a page is pushed; everything a page changes is written by
`record_page` in ONE transaction together with the cursor, so a crash either keeps the
whole page (and its cursor) or none of it, and the replay converges.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, delete, select, tuple_, update
from sqlalchemy.orm import Session

from syncd.connector import Cursor as ConnectorCursor
from syncd.errors import IssueCategory
from syncd.store.models import Cursor, FieldState, Identity, Issue, Person, Run, SyncLog


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
    cursor: CursorMove | None = None


# Issues about which record stands for a person: keyed by the email several records share, so a
# clean sync of the survivor says nothing about them; only the records' own systems can resolve them.
_IDENTITY_ISSUES = (IssueCategory.DUPLICATE.value, IssueCategory.AMBIGUOUS_MATCH.value)


def person_key(person_id: int) -> str:
    """The entity key of a person's field bases."""
    return f"person:{person_id}"


def encode_value(value: Any) -> str:
    """Canonical JSON of a field value, so equal values always compare equal as stored text."""
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


class SyncState:
    """Store access for one flow. Sessions are short: one per read, one per recorded page."""

    def __init__(self, engine: Engine, flow: str) -> None:
        self._engine = engine
        self.flow = flow

    # --- reads --------------------------------------------------------------------------

    def links_by_external_id(self, system: str, external_ids: Iterable[str]) -> dict[str, Link]:
        ids = list(set(external_ids))
        found: dict[str, Link] = {}
        with Session(self._engine) as session:
            for chunk in chunks(ids, 500):
                rows = session.execute(
                    select(Identity).where(
                        Identity.system == system, Identity.active, Identity.external_id.in_(chunk)
                    )
                ).scalars()
                for row in rows:
                    found[row.external_id] = Link(row.person_id, row.system, row.object, row.external_id)
        return found

    def links_by_person(self, system: str, person_ids: Iterable[int]) -> dict[int, list[Link]]:
        ids = list(set(person_ids))
        found: dict[int, list[Link]] = {}
        with Session(self._engine) as session:
            for chunk in chunks(ids, 500):
                rows = session.execute(
                    select(Identity)
                    .where(Identity.system == system, Identity.active, Identity.person_id.in_(chunk))
                    .order_by(Identity.id)
                ).scalars()
                for row in rows:
                    found.setdefault(row.person_id, []).append(
                        Link(row.person_id, row.system, row.object, row.external_id)
                    )
        return found

    def deleted_in(self, system: str, person_ids: Iterable[int]) -> set[int]:
        """People whose record in `system` was deleted there (a tombstone) and who have no live one."""
        ids = list(set(person_ids))
        found: set[int] = set()
        with Session(self._engine) as session:
            for chunk in chunks(ids, 500):
                rows = session.execute(
                    select(Identity.person_id, Identity.active, Identity.reason).where(
                        Identity.system == system, Identity.person_id.in_(chunk)
                    )
                )
                live: set[int] = set()
                for person_id, active, reason in rows:
                    if active:
                        live.add(person_id)
                    elif reason == "deleted":
                        found.add(person_id)
                found -= live
        return found

    def rejected_writes(self, system: str) -> list[str]:
        """Record keys (emails) of open issues left by writes `system` refused: retried every run."""
        with Session(self._engine) as session:
            rows = session.execute(
                select(Issue.record_key, Issue.payload).where(
                    Issue.flow == self.flow, Issue.system == system, Issue.status == "open"
                )
            )
            # Only refused writes carry a payload (a JSON null is not SQL NULL, so filter here).
            return sorted({key for key, payload in rows if payload is not None and "@" in key})

    def people_by_email(self, emails: Iterable[str]) -> dict[str, int]:
        wanted = list(set(emails))
        found: dict[str, int] = {}
        with Session(self._engine) as session:
            for chunk in chunks(wanted, 500):
                for person_id, email in session.execute(
                    select(Person.id, Person.email).where(Person.email.in_(chunk))
                ):
                    found[email] = person_id
        return found

    def forget_bases(self, entity_keys: Iterable[str]) -> int:
        """Drop the last-synced values of these entities: their next sync is decided like a first one."""
        keys = sorted(set(entity_keys))
        forgotten = 0
        with Session(self._engine) as session, session.begin():
            for chunk in chunks(keys, 500):
                result = session.execute(
                    delete(FieldState).where(FieldState.flow == self.flow, FieldState.entity_key.in_(chunk))
                )
                forgotten += int(getattr(result, "rowcount", 0) or 0)
        return forgotten

    def bases(self, entity_keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Last-synced values per entity and field (absent = never synced)."""
        keys = list(set(entity_keys))
        found: dict[str, dict[str, Any]] = {}
        with Session(self._engine) as session:
            for chunk in chunks(keys, 500):
                rows = session.execute(
                    select(FieldState).where(FieldState.flow == self.flow, FieldState.entity_key.in_(chunk))
                ).scalars()
                for row in rows:
                    value = None if row.value is None else json.loads(row.value)
                    found.setdefault(row.entity_key, {})[row.field] = value
        return found

    def cursor(self, system: str, object: str) -> ConnectorCursor | None:
        stored = self.stored_cursor(system, object)
        return None if stored is None else stored.cursor

    def clear_cursors(self) -> int:
        """Forget where every pull of this flow stands: the next run reads everything again."""
        with Session(self._engine) as session, session.begin():
            result = session.execute(delete(Cursor).where(Cursor.flow == self.flow))
            return int(getattr(result, "rowcount", 0) or 0)

    def stored_cursor(self, system: str, object: str) -> StoredCursor | None:
        # `updated_at` holds the instant the pull that moved the cursor started.
        with Session(self._engine) as session:
            row = session.get(Cursor, (self.flow, system, object))
            if row is None:
                return None
            return StoredCursor(ConnectorCursor(row.position_at, row.position_id), row.updated_at)

    # --- runs ---------------------------------------------------------------------------

    def start_run(self, trigger: str, now: datetime, *, dry_run: bool = False) -> int:
        with Session(self._engine) as session, session.begin():
            run = Run(flow=self.flow, trigger=trigger, dry_run=dry_run, started_at=now, status="running")
            session.add(run)
            session.flush()
            return run.id

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
        with Session(self._engine) as session, session.begin():
            session.execute(
                update(Run)
                .where(Run.id == run_id)
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
        with Session(self._engine) as session, session.begin():
            people = self._ensure_people(session, page.links, now)
            self._write_links(session, page.links, people, now)
            self._retire(session, page.retirements, now)
            self._write_bases(session, page.bases, people, now)
            for entry in page.log:
                session.add(
                    SyncLog(
                        run_id=run_id,
                        system=entry.system,
                        object=entry.object,
                        external_id=entry.external_id,
                        person_id=people.get(entry.email) if entry.email else None,
                        action=entry.action,
                        fields={"names": list(entry.fields)},
                        at=now,
                    )
                )
            clear_issues(session, self.flow, page.cleared, now)
            for item in page.quarantined:
                quarantine(session, self.flow, run_id, item, now)
            if page.cursor is not None:
                move_cursor(session, self.flow, page.cursor, now)
            return people

    def _ensure_people(self, session: Session, links: Sequence[NewLink], now: datetime) -> dict[str, int]:
        """Person ids by email for every link of the page, creating people for new emails.

        A link that already names its person keeps it: if its email changed, the person's email
        follows (unless another person holds the new address).
        """
        emails = {link.email for link in links if link.email}
        people: dict[str, int] = {}
        for chunk in chunks(sorted(emails), 500):
            for person_id, email in session.execute(
                select(Person.id, Person.email).where(Person.email.in_(chunk))
            ):
                people[email] = person_id
        for link in links:
            if link.person_id is not None and link.email and link.email not in people:
                session.execute(
                    update(Person).where(Person.id == link.person_id).values(email=link.email, updated_at=now)
                )
                people[link.email] = link.person_id
        earliest: dict[str, datetime] = {}
        for link in links:
            if not link.email:
                continue
            created = link.created_at or now
            if link.email not in earliest or created < earliest[link.email]:
                earliest[link.email] = created
        for email in sorted(emails - people.keys()):
            person = Person(email=email, created_at=earliest[email], updated_at=now)
            session.add(person)
            session.flush()
            people[email] = person.id
        # A person is as old as the oldest record that stands for them.
        for email, created in earliest.items():
            session.execute(
                update(Person)
                .where(Person.id == people[email], Person.created_at > created)
                .values(created_at=created, updated_at=now)
            )
        return people

    def _write_links(
        self, session: Session, links: Sequence[NewLink], people: Mapping[str, int], now: datetime
    ) -> None:
        if not links:
            return
        keys = [(link.system, link.object, link.external_id) for link in links]
        existing = {
            (row.system, row.object, row.external_id): row
            for chunk in chunks(keys, 300)
            for row in session.execute(
                select(Identity).where(
                    tuple_(Identity.system, Identity.object, Identity.external_id).in_(chunk)
                )
            ).scalars()
        }
        for link in links:
            person_id = link.person_id if link.person_id is not None else people[link.email]
            row = existing.get((link.system, link.object, link.external_id))
            if row is None:
                row = Identity(
                    person_id=person_id,
                    system=link.system,
                    object=link.object,
                    external_id=link.external_id,
                    active=True,
                    linked_at=now,
                )
                session.add(row)
                existing[(link.system, link.object, link.external_id)] = row
            elif row.person_id != person_id or not row.active:
                row.person_id = person_id
                row.active = True
                row.deactivated_at = None
                row.reason = None
                row.replaced_by = None

    def _retire(self, session: Session, retirements: Sequence[Retirement], now: datetime) -> None:
        for item in retirements:
            session.execute(
                update(Identity)
                .where(
                    Identity.system == item.system,
                    Identity.object == item.object,
                    Identity.external_id == item.external_id,
                    Identity.active,
                )
                .values(active=False, deactivated_at=now, reason=item.reason, replaced_by=item.replaced_by)
            )

    def _write_bases(
        self, session: Session, bases: Sequence[BaseWrite], people: Mapping[str, int], now: datetime
    ) -> None:
        if not bases:
            return
        keyed = [(self._entity_key(base, people), base) for base in bases]
        keys = [(self.flow, key, base.field) for key, base in keyed]
        existing = {
            (row.flow, row.entity_key, row.field): row
            for chunk in chunks(keys, 300)
            for row in session.execute(
                select(FieldState).where(
                    tuple_(FieldState.flow, FieldState.entity_key, FieldState.field).in_(chunk)
                )
            ).scalars()
        }
        for key, base in keyed:
            encoded = None if base.value is None else encode_value(base.value)
            row = existing.get((self.flow, key, base.field))
            if row is None:
                row = FieldState(
                    flow=self.flow, entity_key=key, field=base.field, value=encoded, synced_at=now
                )
                session.add(row)
                existing[(self.flow, key, base.field)] = row
            else:
                row.value = encoded
                row.synced_at = now

    @staticmethod
    def _entity_key(base: BaseWrite, people: Mapping[str, int]) -> str:
        if base.entity_key is not None:
            return base.entity_key
        if base.email is None or base.email not in people:
            raise ValueError(
                f"base of field {base.field!r} names no entity and no person linked in this page"
            )
        return person_key(people[base.email])


def clear_issues(session: Session, flow: str, cleared: Sequence[tuple[str, str]], now: datetime) -> None:
    """Close the open issues of records that synced cleanly, inside the caller's transaction.

    Duplicate and ambiguous-match issues stay: another record's clean sync does not resolve them."""
    by_system: dict[str, list[str]] = {}
    for system, key in cleared:
        by_system.setdefault(system, []).append(key)
    for system, keys in by_system.items():
        for chunk in chunks(sorted(set(keys)), 500):
            session.execute(
                update(Issue)
                .where(
                    Issue.flow == flow,
                    Issue.system == system,
                    Issue.status == "open",
                    Issue.record_key.in_(chunk),
                    Issue.category.not_in(_IDENTITY_ISSUES),
                )
                .values(status="resolved", resolved_at=now)
            )


def quarantine(session: Session, flow: str, run_id: int, item: Quarantine, now: datetime) -> None:
    """Set a record aside, inside the caller's transaction. One open issue per record and category:
    a record failing every cycle is one issue with a growing retry count, not a flood."""
    row = session.execute(
        select(Issue).where(
            Issue.flow == flow,
            Issue.system == item.system,
            Issue.record_key == item.record_key,
            Issue.category == item.category.value,
            Issue.status == "open",
        )
    ).scalar_one_or_none()
    payload = dict(item.payload) if item.payload is not None else None
    if row is None:
        session.add(
            Issue(
                flow=flow,
                system=item.system,
                object=item.object,
                record_key=item.record_key,
                category=item.category.value,
                message=item.message,
                remote_code=item.remote_code,
                remote_message=item.remote_message,
                payload=payload,
                status="open",
                retry_count=0,
                first_seen_at=now,
                last_seen_at=now,
                run_id=run_id,
            )
        )
        session.flush()  # a second item for the record in the same page finds this one
        return
    row.retry_count += 1
    row.last_seen_at = now
    row.message = item.message
    row.remote_code = item.remote_code
    row.remote_message = item.remote_message
    row.payload = payload if payload is not None else row.payload
    row.run_id = run_id


def move_cursor(session: Session, flow: str, move: CursorMove, now: datetime) -> None:
    """Checkpoint a pull, inside the transaction that records the data it covers."""
    observed = move.observed_at or now
    row = session.get(Cursor, (flow, move.system, move.object))
    if row is None:
        session.add(
            Cursor(
                flow=flow,
                system=move.system,
                object=move.object,
                position_at=move.cursor.modified_at,
                position_id=move.cursor.last_id,
                updated_at=observed,
            )
        )
        session.flush()
    else:
        row.position_at = move.cursor.modified_at
        row.position_id = move.cursor.last_id
        row.updated_at = observed


T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
