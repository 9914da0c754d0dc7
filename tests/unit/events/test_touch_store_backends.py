"""The engagements flow's store writes, on SQLite and PostgreSQL: insert-if-absent and one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from syncd.connector import Cursor as ConnectorCursor
from syncd.engine.state import CursorMove, NewLink, PageRecord, Quarantine, SyncState
from syncd.engine.touch_store import NewCampaign, NewTouch, TaskLink, TouchPage, TouchStore
from syncd.errors import IssueCategory
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.store.models import Campaign, Cursor, Issue, Touch, TouchTask

NOW = datetime(2026, 3, 2, tzinfo=UTC)
AT = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    upgrade(store_url)
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


def _people(engine: Engine) -> dict[str, int]:
    """ann is linked in both systems, bob only in HubSpot."""
    state = SyncState(engine, "contacts")
    links = [
        NewLink("hubspot", "contacts", "101", "ann@example.com"),
        NewLink("salesforce", "Lead", "00Q000000000001AAA", "ann@example.com"),
        NewLink("hubspot", "contacts", "102", "bob@example.com"),
    ]
    return state.record_page(0, PageRecord(links=links), NOW)


def touch(person: int, event_id: str, kind: str = "page_view", *, campaign: str | None = None) -> NewTouch:
    return NewTouch(person, "hubspot", event_id, AT, kind, "direct", {"url": "https://x.test"}, campaign)


def test_a_replayed_page_stores_each_touch_and_campaign_once(engine: Engine) -> None:
    people = _people(engine)
    ann = people["ann@example.com"]
    store = TouchStore(engine, "engagements")
    page = TouchPage(
        touches=[touch(ann, "e1", "email_click", campaign="300001"), touch(ann, "e2"), touch(ann, "e2")],
        campaigns=[NewCampaign("hubspot", "300001", "Spring launch", channel="email", type="email")] * 2,
        cursors=[CursorMove("hubspot", "email_events", ConnectorCursor(AT, "e2"))],
    )

    assert store.record_events(1, page, NOW) == 2
    assert store.record_events(1, page, NOW) == 0

    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Touch)) == 2
        assert session.scalar(select(func.count()).select_from(Campaign)) == 1
        click = session.scalars(select(Touch).where(Touch.source_event_id == "e1")).one()
        assert click.campaign_id is not None and click.kind == "email_click"
        cursor = session.get(Cursor, ("engagements", "hubspot", "email_events"))
        assert cursor is not None and cursor.position_id == "e2"


def test_a_failing_page_leaves_neither_touches_nor_cursor(engine: Engine) -> None:
    ann = _people(engine)["ann@example.com"]
    store = TouchStore(engine, "engagements")
    page = TouchPage(
        # A touch without a kind: the store refuses it, after the first one was written.
        touches=[touch(ann, "e1"), NewTouch(ann, "hubspot", "e2", AT, None, None, {})],  # type: ignore[arg-type]
        cursors=[CursorMove("hubspot", "email_events", ConnectorCursor(AT, "e2"))],
    )

    with pytest.raises(IntegrityError):
        store.record_events(1, page, NOW)

    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Touch)) == 0
        assert session.get(Cursor, ("engagements", "hubspot", "email_events")) is None


def test_pending_tasks_skip_linked_excluded_and_crm_less_touches(engine: Engine) -> None:
    people = _people(engine)
    ann, bob = people["ann@example.com"], people["bob@example.com"]
    store = TouchStore(engine, "engagements")
    store.record_events(
        1,
        TouchPage(
            touches=[touch(ann, "e1"), touch(ann, "e2", "email_open"), touch(ann, "e3"), touch(bob, "e4")]
        ),
        NOW,
    )
    pending = store.pending_tasks(["page_view"], after_id=0, limit=10, crm_system="salesforce")
    assert [t.source_event_id for t in pending] == ["e1", "e3"]  # e2 excluded kind, e4 has no Lead/Contact

    store.record_tasks(1, [TaskLink(pending[0].id, "syncd:t:x", "00T000000000001AAA")], [], [], NOW)
    store.record_tasks(1, [TaskLink(pending[0].id, "syncd:t:x", "00T000000000001AAA")], [], [], NOW)

    again = store.pending_tasks(["page_view"], after_id=0, limit=10, crm_system="salesforce")
    assert [t.source_event_id for t in again] == ["e3"]
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(TouchTask)) == 1


def test_day_touches_are_one_persons_utc_day_in_time_order(engine: Engine) -> None:
    ann = _people(engine)["ann@example.com"]
    store = TouchStore(engine, "engagements")
    late = NewTouch(ann, "hubspot", "late", AT + timedelta(hours=14, minutes=59), "page_view", None, {})
    early = NewTouch(ann, "hubspot", "early", AT - timedelta(hours=9), "page_view", None, {})
    next_day = NewTouch(ann, "hubspot", "next", AT + timedelta(hours=15), "page_view", None, {})
    store.record_events(1, TouchPage(touches=[late, next_day, touch(ann, "mid"), early]), NOW)

    found = store.day_touches(ann, AT.date(), ["page_view"])

    assert [t.source_event_id for t in found] == ["early", "mid", "late"]


def test_waiting_events_are_one_open_issue_each_until_cleared(engine: Engine) -> None:
    store = TouchStore(engine, "engagements")
    runs = [SyncState(engine, "engagements").start_run("once", NOW) for _ in range(3)]
    waiting = Quarantine(
        "hubspot",
        "email_event",
        "email:e9",
        IssueCategory.OTHER,
        "waits for its person",
        payload={"id": "e9"},
    )
    store.record_events(runs[0], TouchPage(quarantined=[waiting]), NOW)
    store.record_events(runs[1], TouchPage(quarantined=[waiting]), NOW)

    (held,) = store.waiting(["email_event"])
    assert held.record_key == "email:e9" and held.payload == {"id": "e9"}
    with Session(engine) as session:
        (issue,) = session.scalars(select(Issue)).all()
        assert issue.retry_count == 1

    store.record_events(runs[2], TouchPage(cleared=[("hubspot", "email:e9")]), NOW)
    assert store.waiting(["email_event"]) == []


def test_given_up_events_stop_waiting_and_say_why(engine: Engine) -> None:
    store = TouchStore(engine, "engagements")
    run = SyncState(engine, "engagements").start_run("once", NOW)
    held = [
        Quarantine("hubspot", "email_event", f"email:e{n}", IssueCategory.OTHER, "waits", payload={"id": n})
        for n in (1, 2)
    ]
    store.record_events(run, TouchPage(quarantined=held), NOW)

    store.give_up("hubspot", ["email:e1"], "given up after waiting 14 days", NOW)

    assert [w.record_key for w in store.waiting(["email_event"])] == ["email:e2"]
    with Session(engine) as session:
        ignored = session.scalars(select(Issue).where(Issue.status == "ignored")).one()
        assert ignored.record_key == "email:e1"
        assert ignored.message == "waits; given up after waiting 14 days"
