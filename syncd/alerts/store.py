"""The store side of alerts: the rows rules read, each rule's cursor, and the outbox of occurrences.

Rules read only the closed-loop store (touches, lifecycle_events, activities, people, identities),
so evaluating them costs no API call. A rule's occurrences and its cursor are committed in ONE
transaction; occurrences are insert-if-absent on their key, so re-reading rows (after a crash, or
the recent rows every cycle re-reads) never fires anything twice. Delivery marks each outbox row's
channels as it goes, failures with an issue in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.orm import aliased

from syncd.alerts.evaluate import Frontier
from syncd.alerts.render import NewAlert, StoredAlert
from syncd.alerts.rules import Channel, MqlRow, PersonView, StageEntry, TouchRow
from syncd.connector import Cursor as ConnectorCursor
from syncd.engine.state import CursorMove, Quarantine, chunks, move_cursor, quarantine_all
from syncd.reports.store import stage_spellings
from syncd.store.absent import insert_absent
from syncd.store.models import (
    Activity,
    Alert,
    Cursor,
    FieldState,
    Identity,
    LifecycleEvent,
    Person,
    Touch,
)

STORE = "store"  # the cursors' system: rules read the store, not a remote
PENDING, SENT, FAILED = "pending", "sent", "failed"
_CHUNK = 500
# Mapping fields (the contacts flow's last-synced values) that name a person in messages.
_NAME_FIELDS = ("firstname", "lastname", "company")


def rule_cursor_object(rule: str) -> str:
    return f"rule:{rule}"


@dataclass(frozen=True)
class RuleCursor:
    """Where a rule resumes: the last row id it decided, in the table it reads, and when it last
    recorded an evaluation."""

    last_id: int
    evaluated_at: datetime


@dataclass(frozen=True)
class DeliveryOutcome:
    """What became of one alert on one channel: sent, failed for good, or to be tried again."""

    alert_id: int
    state: str  # sent | failed | pending
    salesforce_id: str | None = None
    created: bool = False  # a Task Salesforce created (not one a resend updated)
    error: str | None = None
    issue: Quarantine | None = None


class AlertStore:
    """Store access for the alerts flow. Sessions are short: one per read, one per write."""

    def __init__(self, engine: Engine, flow: str) -> None:
        self._engine = engine
        self.flow = flow

    # --- cursors ------------------------------------------------------------------------

    def cursor(self, rule: str) -> RuleCursor | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(Cursor.position_id, Cursor.position_at).where(
                    Cursor.flow == self.flow,
                    Cursor.system == STORE,
                    Cursor.object == rule_cursor_object(rule),
                )
            ).one_or_none()
        if row is None or row[0] is None:
            return None
        return RuleCursor(int(row[0]), row[1])

    def frontier(self, table: str) -> Frontier | None:
        """The newest row of `touches` or `lifecycle_events`."""
        model = Touch if table == "touches" else LifecycleEvent
        with self._engine.connect() as conn:
            row = conn.execute(
                select(model.id, model.recorded_at).order_by(model.id.desc()).limit(1)
            ).one_or_none()
        return None if row is None else Frontier(int(row[0]), row[1])

    def last_touch_id_recorded_before(self, horizon: datetime) -> int:
        """The newest touch recorded before `horizon` (0 if none): every touch up to it is visible
        (a backward scan of the primary key that stops at the first match)."""
        with self._engine.connect() as conn:
            found = conn.execute(
                select(Touch.id).where(Touch.recorded_at < horizon).order_by(Touch.id.desc()).limit(1)
            ).scalar()
        return 0 if found is None else int(found)

    # --- what rules read ----------------------------------------------------------------

    def touches_after(self, after_id: int, up_to_id: int, kinds: Iterable[str], limit: int) -> list[TouchRow]:
        """Touches of `kinds` with after_id < id <= up_to_id, by id (keyset paging on the primary key)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(*_TOUCH_COLUMNS)
                .where(Touch.id > after_id, Touch.id <= up_to_id, Touch.kind.in_(sorted(set(kinds))))
                .order_by(Touch.id)
                .limit(limit)
            ).all()
        return [_touch_row(row) for row in rows]

    def touches_since(
        self, since: datetime, after_id: int, up_to_id: int, kinds: Iterable[str], limit: int
    ) -> list[TouchRow]:
        """Touches of `kinds` that happened at or after `since` (index touches.occurred_at), by id
        after `after_id`: what a new rule looks back over."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(*_TOUCH_COLUMNS)
                .where(
                    Touch.occurred_at >= since,
                    Touch.id > after_id,
                    Touch.id <= up_to_id,
                    Touch.kind.in_(sorted(set(kinds))),
                )
                .order_by(Touch.id)
                .limit(limit)
            ).all()
        return [_touch_row(row) for row in rows]

    def previous_touches(
        self, touches: Sequence[TouchRow], kinds: Iterable[str]
    ) -> dict[int, datetime | None]:
        """For each touch, the instant of its person's last touch of `kinds` before it (by instant,
        then id) — one correlated lookup per touch on the (person_id, occurred_at) index."""
        earlier = aliased(Touch)
        wanted = sorted(set(kinds))
        found: dict[int, datetime | None] = {}
        with self._engine.connect() as conn:
            for chunk in chunks([t.id for t in touches], _CHUNK):
                previous = (
                    select(func.max(earlier.occurred_at))
                    .where(
                        earlier.person_id == Touch.person_id,
                        earlier.kind.in_(wanted),
                        or_(
                            earlier.occurred_at < Touch.occurred_at,
                            and_(earlier.occurred_at == Touch.occurred_at, earlier.id < Touch.id),
                        ),
                    )
                    .scalar_subquery()
                )
                for touch_id, at in conn.execute(select(Touch.id, previous).where(Touch.id.in_(chunk))):
                    found[int(touch_id)] = at
        return found

    def people(self, person_ids: Iterable[int], *, with_stages: bool = False) -> dict[int, PersonView]:
        """Email, name, Salesforce and HubSpot records (and lifecycle entries) of these people."""
        ids = sorted(set(person_ids))
        emails: dict[int, str] = {}
        names: dict[int, dict[str, str]] = {}
        salesforce: dict[int, dict[str, str]] = {}
        hubspot: dict[int, str] = {}
        stages: dict[int, list[StageEntry]] = {}
        with self._engine.connect() as conn:
            for chunk in chunks(ids, _CHUNK):
                for pid, email in conn.execute(select(Person.id, Person.email).where(Person.id.in_(chunk))):
                    emails[pid] = email
                for pid, system, record_object, external_id in conn.execute(
                    select(Identity.person_id, Identity.system, Identity.object, Identity.external_id)
                    .where(Identity.person_id.in_(chunk), Identity.active)
                    .order_by(Identity.id)
                ):
                    if system == "salesforce":
                        salesforce.setdefault(pid, {}).setdefault(record_object, external_id)
                    elif system == "hubspot":
                        hubspot.setdefault(pid, external_id)
                keys = {f"person:{pid}": pid for pid in chunk}
                for key, name, value in conn.execute(
                    select(FieldState.entity_key, FieldState.field, FieldState.value).where(
                        FieldState.entity_key.in_(list(keys)), FieldState.field.in_(_NAME_FIELDS)
                    )
                ):
                    text = _text(value)
                    if text:
                        names.setdefault(keys[key], {})[name] = text
                if with_stages:
                    for pid, stage, entered_at in conn.execute(
                        select(
                            LifecycleEvent.person_id, LifecycleEvent.stage, LifecycleEvent.entered_at
                        ).where(LifecycleEvent.person_id.in_(chunk))
                    ):
                        stages.setdefault(pid, []).append(StageEntry(stage, entered_at))
        views: dict[int, PersonView] = {}
        for pid, email in emails.items():
            records = salesforce.get(pid, {})
            obj = next((o for o in ("Contact", "Lead") if o in records), None)
            parts = names.get(pid, {})
            full = " ".join(p for p in (parts.get("firstname"), parts.get("lastname")) if p) or None
            views[pid] = PersonView(
                person_id=pid,
                email=email,
                name=full,
                company=parts.get("company"),
                salesforce_id=records.get(obj) if obj else None,
                salesforce_object=obj,
                hubspot_id=hubspot.get(pid),
                stages=tuple(sorted(stages.get(pid, ()), key=lambda s: s.entered_at)),
            )
        return views

    def stage_spellings(self, stage: str) -> list[str]:
        """The stored spellings of a lifecycle stage ("MQL", "mql", ...)."""
        with self._engine.connect() as conn:
            return stage_spellings(conn, (stage,))

    def mqls_after(self, after_id: int, up_to_id: int, spellings: Sequence[str], limit: int) -> list[MqlRow]:
        if not spellings:
            return []
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(
                    LifecycleEvent.id,
                    LifecycleEvent.person_id,
                    LifecycleEvent.entered_at,
                    LifecycleEvent.recorded_at,
                )
                .where(
                    LifecycleEvent.id > after_id,
                    LifecycleEvent.id <= up_to_id,
                    LifecycleEvent.stage.in_(list(spellings)),
                )
                .order_by(LifecycleEvent.id)
                .limit(limit)
            ).all()
        return [MqlRow(int(i), int(p), at, recorded) for i, p, at, recorded in rows]

    def mqls_entered_since(self, since: datetime, spellings: Sequence[str]) -> list[MqlRow]:
        """Events of the stage entered at or after `since` (index (stage, entered_at)): the MQLs whose
        SLA deadline has not passed yet."""
        if not spellings:
            return []
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(
                    LifecycleEvent.id,
                    LifecycleEvent.person_id,
                    LifecycleEvent.entered_at,
                    LifecycleEvent.recorded_at,
                )
                .where(LifecycleEvent.stage.in_(list(spellings)), LifecycleEvent.entered_at >= since)
                .order_by(LifecycleEvent.id)
            ).all()
        return [MqlRow(int(i), int(p), at, recorded) for i, p, at, recorded in rows]

    def first_entries(self, person_ids: Iterable[int], spellings: Sequence[str]) -> dict[int, datetime]:
        """Each person's earliest entry into the stage."""
        found: dict[int, datetime] = {}
        with self._engine.connect() as conn:
            for chunk in chunks(sorted(set(person_ids)), _CHUNK):
                for pid, first in conn.execute(
                    select(LifecycleEvent.person_id, func.min(LifecycleEvent.entered_at))
                    .where(LifecycleEvent.person_id.in_(chunk), LifecycleEvent.stage.in_(list(spellings)))
                    .group_by(LifecycleEvent.person_id)
                ):
                    found[int(pid)] = first
        return found

    def first_contacts(
        self, mqls: Sequence[MqlRow], kinds: Iterable[str], initiator: str
    ) -> dict[int, datetime | None]:
        """For each MQL event, its person's first qualifying activity at or after it (kinds and the
        initiator compared case-insensitively, as the SLA report does)."""
        wanted = sorted({k.casefold() for k in kinds})
        first = (
            select(func.min(Activity.occurred_at))
            .where(
                Activity.person_id == LifecycleEvent.person_id,
                Activity.occurred_at >= LifecycleEvent.entered_at,
                func.lower(Activity.initiated_by) == initiator.casefold(),
                func.lower(Activity.kind).in_(wanted),
            )
            .scalar_subquery()
        )
        found: dict[int, datetime | None] = {}
        with self._engine.connect() as conn:
            for chunk in chunks([m.id for m in mqls], _CHUNK):
                for mql_id, at in conn.execute(
                    select(LifecycleEvent.id, first).where(LifecycleEvent.id.in_(chunk))
                ):
                    found[int(mql_id)] = at
        return found

    # --- the rule transaction -------------------------------------------------------------

    def record(self, rule: str, alerts: Sequence[NewAlert], cursor: int, now: datetime) -> int:
        """Insert a rule's new occurrences and move its cursor, atomically; returns how many were new."""
        unique = {a.key: a for a in alerts}
        with self._engine.begin() as conn:
            existing: set[str] = set()
            for chunk in chunks(sorted(unique), _CHUNK):
                existing.update(
                    conn.execute(
                        select(Alert.occurrence_key).where(Alert.occurrence_key.in_(chunk))
                    ).scalars()
                )
            rows = [_alert_row(a, now) for key, a in unique.items() if key not in existing]
            # Another replica may have inserted the same occurrence since the read: the key decides.
            insert_absent(conn, Alert, rows, ["occurrence_key"])
            move_cursor(
                conn,
                self.flow,
                CursorMove(
                    STORE, rule_cursor_object(rule), ConnectorCursor(now, str(cursor)), observed_at=now
                ),
                now,
            )
            return len(rows)

    # --- the outbox -------------------------------------------------------------------------

    def pending(self, channel: Channel, *, after_id: int, limit: int) -> list[StoredAlert]:
        """Alerts waiting for `channel`, oldest first (keyset paging on the id)."""
        state, attempts = _columns(channel)
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(
                    Alert.id,
                    Alert.rule,
                    Alert.occurrence_key,
                    Alert.person_id,
                    Alert.what,
                    Alert.link,
                    Alert.occurred_at,
                    Alert.created_at,
                    Alert.detail,
                    attempts,
                )
                .where(state == PENDING, Alert.id > after_id)
                .order_by(Alert.id)
                .limit(limit)
            ).all()
        return [
            StoredAlert(i, rule, key, pid, what, link, at, created, dict(detail or {}), int(tries or 0))
            for i, rule, key, pid, what, link, at, created, detail, tries in rows
        ]

    def salesforce_records(self, person_ids: Iterable[int]) -> dict[int, dict[str, str]]:
        """Each person's active Salesforce records by object (Contact, Lead), read at delivery time:
        a Lead converted since the alert fired gets the Task on its Contact."""
        found: dict[int, dict[str, str]] = {}
        with self._engine.connect() as conn:
            for chunk in chunks(sorted(set(person_ids)), _CHUNK):
                for pid, record_object, external_id in conn.execute(
                    select(Identity.person_id, Identity.object, Identity.external_id)
                    .where(Identity.person_id.in_(chunk), Identity.system == "salesforce", Identity.active)
                    .order_by(Identity.id)
                ):
                    found.setdefault(pid, {}).setdefault(record_object, external_id)
        return found

    def mark(self, channel: Channel, outcomes: Sequence[DeliveryOutcome], run_id: int, now: datetime) -> None:
        """Record what delivery did on one channel, and the issues of failures, in one transaction."""
        if not outcomes:
            return
        state, attempts = _columns(channel)
        with self._engine.begin() as conn:
            for outcome in outcomes:
                values: dict[str, Any] = {
                    state.key: outcome.state,
                    attempts.key: attempts + 1,
                    "updated_at": now,
                }
                if outcome.salesforce_id:
                    values["task_id"] = outcome.salesforce_id
                if outcome.error is not None:
                    values["last_error"] = outcome.error[:4000]
                conn.execute(update(Alert).where(Alert.id == outcome.alert_id).values(**values))
            quarantine_all(conn, self.flow, run_id, [o.issue for o in outcomes if o.issue is not None], now)

    def counts(self) -> dict[str, int]:
        """Sent, pending and failed deliveries (an alert counts once per channel it uses)."""
        with self._engine.connect() as conn:
            return delivery_counts(conn)


def delivery_counts(conn: Any) -> dict[str, int]:
    """`{"sent": n, "pending": m, "failed": k}` over both channels of every alert (`syncd status`)."""
    counts = {SENT: 0, PENDING: 0, FAILED: 0}
    for column in (Alert.task_state, Alert.webhook_state):
        for state, n in conn.execute(
            select(column, func.count()).where(column.is_not(None)).group_by(column)
        ):
            counts[str(state)] = counts.get(str(state), 0) + int(n)
    return counts


_TOUCH_COLUMNS = (
    Touch.id,
    Touch.person_id,
    Touch.source_system,
    Touch.source_event_id,
    Touch.occurred_at,
    Touch.recorded_at,
    Touch.kind,
    Touch.detail,
)


def _touch_row(row: Any) -> TouchRow:
    touch_id, person_id, system, event_id, at, recorded, kind, detail = row
    return TouchRow(touch_id, person_id, system, event_id, at, recorded, kind, dict(detail or {}))


def _columns(channel: Channel) -> tuple[Any, Any]:
    if channel is Channel.SALESFORCE_TASK:
        return Alert.task_state, Alert.task_attempts
    return Alert.webhook_state, Alert.webhook_attempts


def _alert_row(alert: NewAlert, now: datetime) -> dict[str, Any]:
    return {
        "rule": alert.rule,
        "occurrence_key": alert.key,
        "person_id": alert.person_id,
        "what": alert.what,
        "link": alert.link,
        "detail": dict(alert.detail),
        "occurred_at": alert.occurred_at,
        "created_at": now,
        "task_state": PENDING if Channel.SALESFORCE_TASK in alert.channels else None,
        "task_id": None,
        "task_attempts": 0,
        "webhook_state": PENDING if Channel.WEBHOOK in alert.channels else None,
        "webhook_attempts": 0,
        "last_error": None,
        "updated_at": now,
    }


def _text(value: str | None) -> str | None:
    """A field base is canonical JSON; names are strings."""
    if value is None:
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return None
    return decoded.strip() if isinstance(decoded, str) and decoded.strip() else None
