"""The store side of the activities flow: sales activities, their people, and their HubSpot engagements.

Activities are insert-if-absent on (source system, source id), so a replayed page writes nothing twice
on SQLite and PostgreSQL alike. Everything one page changes — activities, waiting issues, the cursor —
is committed in ONE transaction. An activity read again after its record moved to another person (a
lead conversion or merge re-parents Tasks and Events) follows that person: its person changes and its
engagement link is dropped, so the next push links the engagement to the new person's contact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, exists, select, tuple_, update

from syncd.engine.state import CursorMove, Quarantine, chunks, clear_issues, move_cursor, quarantine_all
from syncd.store.absent import insert_absent
from syncd.store.models import Activity, ActivityEngagement, Identity, table_of

_CHUNK = 500
# Merges and conversions chain (a Lead converted to a Contact later merged): follow this many steps.
_MAX_HOPS = 5


_ACTIVITIES = table_of(Activity)
_LINKS = table_of(ActivityEngagement)
_IDENTITIES = table_of(Identity)

_MOVE = (
    update(_ACTIVITIES)
    .where(_ACTIVITIES.c.id == bindparam("b_id"))
    .values(person_id=bindparam("b_person_id"))
)


@dataclass(frozen=True)
class NewActivity:
    """A sales activity to store, with its person."""

    person_id: int
    source_system: str
    source_event_id: str
    occurred_at: datetime
    kind: str
    initiated_by: str
    direction: str | None
    owner_email: str | None
    outcome: str | None
    duration_seconds: int | None
    subject: str | None
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class StoredActivity:
    """A stored activity as the engagement push reads it."""

    id: int
    person_id: int
    source_system: str
    source_event_id: str
    occurred_at: datetime
    kind: str
    initiated_by: str
    direction: str | None
    owner_email: str | None
    outcome: str | None
    duration_seconds: int | None
    subject: str | None
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class EngagementLink:
    """HubSpot engagement `hubspot_id` (an `hubspot_object`) on contact `contact_id` carries an activity."""

    activity_id: int
    hubspot_object: str
    hubspot_id: str
    contact_id: str


@dataclass
class ActivityPage:
    """Everything one page of Tasks or Events changes, written atomically by `record_page`."""

    activities: list[NewActivity] = field(default_factory=list)
    quarantined: list[Quarantine] = field(default_factory=list)
    cleared: list[tuple[str, str]] = field(default_factory=list)
    cursors: list[CursorMove] = field(default_factory=list)


@dataclass(frozen=True)
class PageOutcome:
    inserted: int
    moved: int


class ActivityStore:
    """Store access for the activities flow. Connections are short: one per read, one per page."""

    def __init__(self, engine: Engine, flow: str) -> None:
        self._engine = engine
        self.flow = flow

    # --- reads --------------------------------------------------------------------------

    def people_for(self, system: str, external_ids: Iterable[str]) -> dict[str, int]:
        """The person each record stands for: its active identity's, else the survivor's its merge or
        conversion names (chains followed), else the person it last stood for. Unknown ids are absent."""
        wanted = sorted(set(external_ids))
        rows: dict[str, tuple[int, bool, str | None]] = {}
        found: dict[str, int] = {}
        c = _IDENTITIES.c
        with self._engine.connect() as conn:
            pending = wanted
            for _ in range(_MAX_HOPS + 1):
                fresh = [i for i in pending if i not in rows]
                for chunk in chunks(fresh, _CHUNK):
                    for external_id, person_id, active, replaced_by in conn.execute(
                        select(c.external_id, c.person_id, c.active, c.replaced_by)
                        .where(c.system == system, c.external_id.in_(chunk))
                        .order_by(c.active, c.id)
                    ):
                        rows[external_id] = (person_id, bool(active), replaced_by)
                pending = [r[2] for i in pending if (r := rows.get(i)) and not r[1] and r[2]]
                if not pending:
                    break
        for external_id in wanted:
            current, hops = external_id, 0
            while current in rows and not rows[current][1] and rows[current][2] and hops < _MAX_HOPS:
                current, hops = rows[current][2] or current, hops + 1
            if current in rows and rows[current][1]:
                found[external_id] = rows[current][0]
            elif external_id in rows:
                found[external_id] = rows[external_id][0]
        return found

    def pending_engagements(
        self,
        kinds: Iterable[str],
        initiated_by: Iterable[str],
        *,
        after_id: int,
        limit: int,
        marketing_system: str,
        contact_objects: Sequence[str],
    ) -> list[StoredActivity]:
        """Activities of `kinds` without an engagement yet whose person has a live record of
        `contact_objects` in `marketing_system`, by id after `after_id` (keyset paging)."""
        a, i = _ACTIVITIES.c, _IDENTITIES.c
        linked = exists().where(
            i.person_id == a.person_id,
            i.system == marketing_system,
            i.active,
            i.object.in_(list(contact_objects)),
        )
        carried = exists().where(_LINKS.c.activity_id == a.id)
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(_ACTIVITIES)
                .where(
                    a.id > after_id,
                    a.kind.in_(sorted(set(kinds))),
                    a.initiated_by.in_(sorted(set(initiated_by))),
                    linked,
                    ~carried,
                )
                .order_by(a.id)
                .limit(limit)
            )
            return [_stored(dict(row._mapping)) for row in rows]

    def own_engagements(self, hubspot_ids: Iterable[str]) -> set[str]:
        """Which of these HubSpot engagement ids carry an activity syncd wrote."""
        wanted = sorted(set(hubspot_ids))
        found: set[str] = set()
        with self._engine.connect() as conn:
            for chunk in chunks(wanted, _CHUNK):
                found.update(conn.scalars(select(_LINKS.c.hubspot_id).where(_LINKS.c.hubspot_id.in_(chunk))))
        return found

    # --- the page transactions ------------------------------------------------------------

    def record_page(self, run_id: int, page: ActivityPage, now: datetime) -> PageOutcome:
        """Write one page's activities, issues and cursors atomically. A replayed page inserts nothing;
        an activity whose record now stands for another person moves to that person."""
        with self._engine.begin() as conn:
            inserted, moved = self._insert_activities(conn, page.activities, now)
            clear_issues(conn, self.flow, page.cleared, now)
            quarantine_all(conn, self.flow, run_id, page.quarantined, now)
            for move in page.cursors:
                move_cursor(conn, self.flow, move, now)
            return PageOutcome(inserted, moved)

    def record_engagements(
        self,
        run_id: int,
        links: Sequence[EngagementLink],
        quarantined: Sequence[Quarantine],
        cleared: Sequence[tuple[str, str]],
        now: datetime,
    ) -> None:
        """Remember which activities have their engagement (and the rejections) in one transaction."""
        with self._engine.begin() as conn:
            insert_absent(
                conn,
                _LINKS,
                [
                    {
                        "activity_id": link.activity_id,
                        "hubspot_object": link.hubspot_object,
                        "hubspot_id": link.hubspot_id,
                        "contact_id": link.contact_id,
                        "recorded_at": now,
                    }
                    for link in links
                ],
                ["activity_id"],
            )
            clear_issues(conn, self.flow, cleared, now)
            quarantine_all(conn, self.flow, run_id, quarantined, now)

    def _insert_activities(
        self, conn: Connection, activities: Sequence[NewActivity], now: datetime
    ) -> tuple[int, int]:
        unique = {(a.source_system, a.source_event_id): a for a in activities}
        a = _ACTIVITIES.c
        stored: dict[tuple[str, str], tuple[int, int]] = {}
        for chunk in chunks(sorted(unique), 300):
            for row_id, system, event_id, person_id in conn.execute(
                select(a.id, a.source_system, a.source_event_id, a.person_id).where(
                    tuple_(a.source_system, a.source_event_id).in_(chunk)
                )
            ):
                stored[(system, event_id)] = (row_id, person_id)
        moves = [
            {"b_id": stored[key][0], "b_person_id": activity.person_id}
            for key, activity in unique.items()
            if key in stored and stored[key][1] != activity.person_id
        ]
        if moves:
            conn.execute(_MOVE, moves)
            # The engagement is linked to the old person's contact: the next push links it again.
            moved_ids: list[int] = [m["b_id"] for m in moves]
            for id_chunk in chunks(moved_ids, _CHUNK):
                conn.execute(delete(_LINKS).where(_LINKS.c.activity_id.in_(id_chunk)))
        rows = [
            {
                "person_id": activity.person_id,
                "source_system": activity.source_system,
                "source_event_id": activity.source_event_id,
                "occurred_at": activity.occurred_at,
                "kind": activity.kind,
                "initiated_by": activity.initiated_by,
                "direction": activity.direction,
                "owner_email": activity.owner_email,
                "outcome": activity.outcome,
                "duration_seconds": activity.duration_seconds,
                "subject": activity.subject,
                "detail": dict(activity.detail),
                "recorded_at": now,
            }
            for key, activity in unique.items()
            if key not in stored
        ]
        # Another replica may have stored the same activity since the read above: the key decides.
        insert_absent(conn, _ACTIVITIES, rows, ["source_system", "source_event_id"])
        return len(rows), len(moves)


def _stored(row: Mapping[str, Any]) -> StoredActivity:
    return StoredActivity(
        id=row["id"],
        person_id=row["person_id"],
        source_system=row["source_system"],
        source_event_id=row["source_event_id"],
        occurred_at=row["occurred_at"],
        kind=row["kind"],
        initiated_by=row["initiated_by"],
        direction=row["direction"],
        owner_email=row["owner_email"],
        outcome=row["outcome"],
        duration_seconds=row["duration_seconds"],
        subject=row["subject"],
        detail=dict(row["detail"] or {}),
    )
