"""The store side of the engagements flow: touches, campaigns, and which touches already have a Task.

Writes are insert-if-absent on the tables' natural keys (touches by source system and event id,
campaigns by system and external id, Task links by touch), so a replayed page writes nothing twice on
SQLite and PostgreSQL alike. Everything one page changes — touches, campaigns, issues, cursors — is
committed in ONE transaction, the same promise `SyncState.record_page` makes for record flows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, exists, select, tuple_, update
from sqlalchemy.orm import Session

from syncd.connector import Cursor as ConnectorCursor
from syncd.engine.state import CursorMove, Quarantine, chunks, clear_issues, move_cursor, quarantine
from syncd.errors import IssueCategory
from syncd.store.absent import insert_absent
from syncd.store.models import Campaign, Cursor, Identity, Issue, Touch, TouchTask


@dataclass(frozen=True)
class NewTouch:
    """A touch to store; `campaign` is the source system's campaign id (created on first sight)."""

    person_id: int
    source_system: str
    source_event_id: str
    occurred_at: datetime
    kind: str
    channel: str | None
    detail: Mapping[str, Any]
    campaign: str | None = None


@dataclass(frozen=True)
class NewCampaign:
    system: str
    external_id: str
    name: str
    channel: str | None = None
    type: str | None = None


@dataclass(frozen=True)
class StoredTouch:
    """A stored touch as the Task leg reads it."""

    id: int
    person_id: int
    source_system: str
    source_event_id: str
    occurred_at: datetime
    kind: str
    channel: str | None
    detail: Mapping[str, Any]
    campaign_name: str | None


@dataclass(frozen=True)
class TaskLink:
    """The Salesforce Task `salesforce_id` (external id `task_key`) carries touch `touch_id`."""

    touch_id: int
    task_key: str
    salesforce_id: str


@dataclass(frozen=True)
class WaitingEvent:
    """An event set aside because its person was not linked yet; `payload` rebuilds it."""

    record_key: str
    object: str
    payload: Mapping[str, Any]
    first_seen_at: datetime


@dataclass
class TouchPage:
    """Everything one page of events changes, written atomically by `TouchStore.record_events`."""

    touches: list[NewTouch] = field(default_factory=list)
    campaigns: list[NewCampaign] = field(default_factory=list)
    quarantined: list[Quarantine] = field(default_factory=list)
    cleared: list[tuple[str, str]] = field(default_factory=list)
    cursors: list[CursorMove] = field(default_factory=list)


class TouchStore:
    """Store access for the engagements flow. Sessions are short: one per read, one per page."""

    def __init__(self, engine: Engine, flow: str) -> None:
        self._engine = engine
        self.flow = flow

    # --- reads --------------------------------------------------------------------------

    def follow_merges(self) -> int:
        """Move the touches of people merged away to the person their records were merged into.

        A person whose every record was merged into records of another person (both systems merged
        the duplicates) no longer stands for anyone: their touches belong to the survivor, or they
        would be lost to the survivor's attribution. A person with a live record anywhere keeps theirs.
        Returns how many touches moved."""
        gone, kept, alive = (
            Identity.__table__.alias("gone"),
            Identity.__table__.alias("kept"),
            Identity.__table__,
        )
        still_live = exists().where(alive.c.person_id == gone.c.person_id, alive.c.active)
        pairs = (
            select(gone.c.person_id, kept.c.person_id)
            .join(kept, (kept.c.system == gone.c.system) & (kept.c.external_id == gone.c.replaced_by))
            .where(
                ~gone.c.active,
                gone.c.reason == "merged",
                kept.c.active,
                kept.c.person_id != gone.c.person_id,
                ~still_live,
            )
            .distinct()
            .order_by(gone.c.person_id, kept.c.person_id)
        )
        moved = 0
        with self._engine.begin() as conn:
            survivors: dict[int, int] = {}
            for loser, survivor in conn.execute(pairs):
                survivors.setdefault(loser, survivor)  # merged into several people: the lowest id
            for loser, survivor in sorted(survivors.items()):
                moving = update(Touch).where(Touch.person_id == loser).values(person_id=survivor)
                moved += conn.execute(moving).rowcount
        return moved

    def linked_contacts(self, system: str, objects: Sequence[str]) -> list[tuple[str, int]]:
        """(external id, person id) of every active identity of `system` among `objects`, by id."""
        with Session(self._engine) as session:
            rows = session.execute(
                select(Identity.external_id, Identity.person_id)
                .where(Identity.system == system, Identity.active, Identity.object.in_(objects))
                .order_by(Identity.id)
            )
            return [(external_id, person_id) for external_id, person_id in rows]

    def cursors(self, system: str, objects: Iterable[str]) -> dict[str, ConnectorCursor]:
        """This flow's stored cursors of `objects` (absent: never read)."""
        wanted = sorted(set(objects))
        found: dict[str, ConnectorCursor] = {}
        with Session(self._engine) as session:
            for chunk in chunks(wanted, 500):
                for row in session.scalars(
                    select(Cursor).where(
                        Cursor.flow == self.flow, Cursor.system == system, Cursor.object.in_(chunk)
                    )
                ):
                    found[row.object] = ConnectorCursor(row.position_at, row.position_id)
        return found

    def campaign_names(self, system: str, external_ids: Iterable[str]) -> dict[str, str]:
        """Names of the campaigns the store already holds, by external id."""
        ids = sorted(set(external_ids))
        found: dict[str, str] = {}
        with Session(self._engine) as session:
            for chunk in chunks(ids, 500):
                for external_id, name in session.execute(
                    select(Campaign.external_id, Campaign.name).where(
                        Campaign.system == system, Campaign.external_id.in_(chunk)
                    )
                ):
                    found[external_id] = name
        return found

    def waiting(self, objects: Sequence[str]) -> list[WaitingEvent]:
        """Open issues of this flow holding an event that waits for its person to be linked."""
        with Session(self._engine) as session:
            rows = session.execute(
                select(Issue.record_key, Issue.object, Issue.payload, Issue.first_seen_at)
                .where(
                    Issue.flow == self.flow,
                    Issue.status == "open",
                    Issue.category == IssueCategory.OTHER.value,
                    Issue.object.in_(objects),
                )
                .order_by(Issue.id)
            )
            return [WaitingEvent(key, obj, payload, seen) for key, obj, payload, seen in rows if payload]

    def give_up(self, system: str, record_keys: Sequence[str], reason: str, now: datetime) -> None:
        """Stop retrying these open issues: status `ignored`, with the reason appended."""
        with Session(self._engine) as session, session.begin():
            for chunk in chunks(sorted(set(record_keys)), 500):
                for issue in session.scalars(
                    select(Issue).where(
                        Issue.flow == self.flow,
                        Issue.system == system,
                        Issue.status == "open",
                        Issue.record_key.in_(chunk),
                    )
                ):
                    issue.status = "ignored"
                    issue.resolved_at = now
                    issue.message = f"{issue.message}; {reason}"

    def pending_tasks(
        self, kinds: Iterable[str], *, after_id: int, limit: int, crm_system: str
    ) -> list[StoredTouch]:
        """Touches of `kinds` with no Task yet whose person has an active identity in `crm_system`,
        by touch id after `after_id` (keyset paging)."""
        linked = exists().where(
            Identity.person_id == Touch.person_id, Identity.system == crm_system, Identity.active
        )
        has_task = exists().where(TouchTask.touch_id == Touch.id)
        with Session(self._engine) as session:
            rows = session.execute(
                select(Touch, Campaign.name)
                .outerjoin(Campaign, Campaign.id == Touch.campaign_id)
                .where(Touch.id > after_id, Touch.kind.in_(sorted(set(kinds))), linked, ~has_task)
                .order_by(Touch.id)
                .limit(limit)
            )
            return [_stored(touch, name) for touch, name in rows]

    def day_touches(self, person_id: int, day: date, kinds: Iterable[str]) -> list[StoredTouch]:
        """A person's touches of `kinds` on one UTC day, in time order (the content of a digest Task)."""
        start = datetime.combine(day, time(0), tzinfo=UTC)
        with Session(self._engine) as session:
            rows = session.execute(
                select(Touch, Campaign.name)
                .outerjoin(Campaign, Campaign.id == Touch.campaign_id)
                .where(
                    Touch.person_id == person_id,
                    Touch.kind.in_(sorted(set(kinds))),
                    Touch.occurred_at >= start,
                    Touch.occurred_at < start + timedelta(days=1),
                )
                .order_by(Touch.occurred_at, Touch.source_system, Touch.id)
            )
            return [_stored(touch, name) for touch, name in rows]

    # --- the page transactions ------------------------------------------------------------

    def record_events(self, run_id: int, page: TouchPage, now: datetime) -> int:
        """Write one page's campaigns, touches, issues and cursors atomically; returns how many
        touches were new (a replayed page returns 0)."""
        with Session(self._engine) as session, session.begin():
            campaign_ids = self._ensure_campaigns(session, page.campaigns, now)
            inserted = self._insert_touches(session, page.touches, campaign_ids, now)
            clear_issues(session, self.flow, page.cleared, now)
            for item in page.quarantined:
                quarantine(session, self.flow, run_id, item, now)
            for move in page.cursors:
                move_cursor(session, self.flow, move, now)
            return inserted

    def record_tasks(
        self,
        run_id: int,
        links: Sequence[TaskLink],
        quarantined: Sequence[Quarantine],
        cleared: Sequence[tuple[str, str]],
        now: datetime,
    ) -> None:
        """Remember which touches have a Task (and the rejections) in one transaction."""
        with Session(self._engine) as session, session.begin():
            insert_absent(
                session,
                TouchTask,
                [
                    {
                        "touch_id": link.touch_id,
                        "task_key": link.task_key,
                        "salesforce_id": link.salesforce_id,
                        "recorded_at": now,
                    }
                    for link in links
                ],
                ["touch_id"],
            )
            clear_issues(session, self.flow, cleared, now)
            for item in quarantined:
                quarantine(session, self.flow, run_id, item, now)

    def _ensure_campaigns(
        self, session: Session, campaigns: Sequence[NewCampaign], now: datetime
    ) -> dict[tuple[str, str], int]:
        unique = {(c.system, c.external_id): c for c in campaigns}
        insert_absent(
            session,
            Campaign,
            [
                {
                    "system": c.system,
                    "external_id": c.external_id,
                    "name": c.name[:255],
                    "channel": c.channel,
                    "type": c.type,
                    "updated_at": now,
                }
                for c in unique.values()
            ],
            ["system", "external_id"],
        )
        ids: dict[tuple[str, str], int] = {}
        for chunk in chunks(sorted(unique), 300):
            for row_id, system, external_id in session.execute(
                select(Campaign.id, Campaign.system, Campaign.external_id).where(
                    tuple_(Campaign.system, Campaign.external_id).in_(chunk)
                )
            ):
                ids[(system, external_id)] = row_id
        return ids

    def _insert_touches(
        self,
        session: Session,
        touches: Sequence[NewTouch],
        campaign_ids: Mapping[tuple[str, str], int],
        now: datetime,
    ) -> int:
        unique = {(t.source_system, t.source_event_id): t for t in touches}
        existing: set[tuple[str, str]] = set()
        for chunk in chunks(sorted(unique), 300):
            existing.update(
                (system, event_id)
                for system, event_id in session.execute(
                    select(Touch.source_system, Touch.source_event_id).where(
                        tuple_(Touch.source_system, Touch.source_event_id).in_(chunk)
                    )
                )
            )
        rows = [
            {
                "person_id": t.person_id,
                "source_system": t.source_system,
                "source_event_id": t.source_event_id,
                "occurred_at": t.occurred_at,
                "kind": t.kind,
                "channel": t.channel,
                "campaign_id": campaign_ids.get((t.source_system, t.campaign)) if t.campaign else None,
                "detail": dict(t.detail),
                "recorded_at": now,
            }
            for key, t in unique.items()
            if key not in existing
        ]
        # Another replica may have stored the same event since the read above: the key decides.
        insert_absent(session, Touch, rows, ["source_system", "source_event_id"])
        return len(rows)


def _stored(touch: Touch, campaign_name: str | None) -> StoredTouch:
    return StoredTouch(
        id=touch.id,
        person_id=touch.person_id,
        source_system=touch.source_system,
        source_event_id=touch.source_event_id,
        occurred_at=touch.occurred_at,
        kind=touch.kind,
        channel=touch.channel,
        detail=dict(touch.detail or {}),
        campaign_name=campaign_name,
    )
