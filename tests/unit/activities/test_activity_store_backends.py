"""The activities flow's store, on SQLite and PostgreSQL: insert-if-absent, people through merges and
conversions, pending engagements, and one transaction per page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from syncd.connector import Cursor as ConnectorCursor
from syncd.engine.activity_store import ActivityPage, ActivityStore, EngagementLink, NewActivity
from syncd.engine.state import CursorMove, NewLink, PageRecord, Quarantine, Retirement, SyncState
from syncd.errors import IssueCategory
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.store.models import Activity, ActivityEngagement, Cursor, Issue

NOW = datetime(2026, 3, 2, tzinfo=UTC)
AT = datetime(2026, 3, 1, 9, tzinfo=UTC)
ANN_LEAD, ANN_CONTACT = "00Q000000000001AAA", "003000000000001AAA"
BOB_CONTACT, BOB_OLD = "003000000000002AAA", "003000000000009AAA"
GONE = "00Q000000000003AAA"


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    upgrade(store_url)
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


def _people(engine: Engine) -> dict[str, int]:
    """ann: Lead converted to a Contact, in HubSpot; bob: a Contact merged into another, not in HubSpot;
    cat: a deleted Lead."""
    state = SyncState(engine, "contacts")
    links = [
        NewLink("salesforce", "Lead", ANN_LEAD, "ann@example.com"),
        NewLink("salesforce", "Contact", ANN_CONTACT, "ann@example.com"),
        NewLink("hubspot", "contacts", "101", "ann@example.com"),
        NewLink("salesforce", "Contact", BOB_OLD, "bob.old@example.com"),
        NewLink("salesforce", "Contact", BOB_CONTACT, "bob@example.com"),
        NewLink("salesforce", "Lead", GONE, "cat@example.com"),
    ]
    people = state.record_page(0, PageRecord(links=links), NOW)
    retired = [
        Retirement("salesforce", "Lead", ANN_LEAD, "converted", ANN_CONTACT),
        Retirement("salesforce", "Contact", BOB_OLD, "merged", BOB_CONTACT),
        Retirement("salesforce", "Lead", GONE, "deleted"),
    ]
    state.record_page(0, PageRecord(retirements=retired), NOW)
    return people


def activity(person: int, source_id: str, kind: str = "call", initiated_by: str = "rep") -> NewActivity:
    return NewActivity(
        person_id=person,
        source_system="salesforce",
        source_event_id=source_id,
        occurred_at=AT,
        kind=kind,
        initiated_by=initiated_by,
        direction="outbound",
        owner_email="rep@example.com",
        outcome="Connected",
        duration_seconds=60,
        subject="Call",
        detail={"object": "Task"},
    )


def test_a_record_names_the_person_it_stands_for_through_conversions_merges_and_deletes(
    engine: Engine,
) -> None:
    people = _people(engine)
    found = ActivityStore(engine, "activities").people_for(
        "salesforce", [ANN_LEAD, ANN_CONTACT, BOB_OLD, GONE, "00Q00000000000XAAA"]
    )
    assert found == {
        ANN_LEAD: people["ann@example.com"],
        ANN_CONTACT: people["ann@example.com"],
        BOB_OLD: people["bob@example.com"],  # the merge survivor's person
        GONE: people["cat@example.com"],  # deleted: the person it last stood for
    }


def test_a_replayed_page_stores_each_activity_once_with_its_cursor_and_issues(engine: Engine) -> None:
    people = _people(engine)
    ann = people["ann@example.com"]
    store = ActivityStore(engine, "activities")
    run = SyncState(engine, "activities").start_run("once", NOW)
    waiting = Quarantine(
        "salesforce", "sales_activity", "Task:00T3", IssueCategory.OTHER, "waits", payload={"a": 1}
    )
    page = ActivityPage(
        activities=[activity(ann, "00T1"), activity(ann, "00T2", "email"), activity(ann, "00T2", "email")],
        quarantined=[waiting],
        cursors=[CursorMove("salesforce", "Task", ConnectorCursor(AT, "00T2"))],
    )
    first = store.record_page(run, page, NOW)
    again = store.record_page(run, page, NOW)
    assert (first.inserted, again.inserted, again.moved) == (2, 0, 0)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 2
        assert session.scalars(select(Activity.detail)).first() == {"object": "Task"}
        cursor = session.get(Cursor, ("activities", "salesforce", "Task"))
        assert cursor is not None and cursor.position_id == "00T2"
        issue = session.scalars(select(Issue)).one()
        assert (issue.retry_count, issue.payload) == (1, {"a": 1})


def test_an_activity_read_again_for_another_person_moves_and_loses_its_engagement_link(
    engine: Engine,
) -> None:
    people = _people(engine)
    store = ActivityStore(engine, "activities")
    store.record_page(1, ActivityPage(activities=[activity(people["bob.old@example.com"], "00T7")]), NOW)
    with Session(engine) as session:
        activity_id = session.scalars(select(Activity.id)).one()
    store.record_engagements(1, [EngagementLink(activity_id, "calls", "9001", "201")], [], [], NOW)
    assert store.own_engagements(["9001", "9002"]) == {"9001"}

    outcome = store.record_page(
        1, ActivityPage(activities=[activity(people["bob@example.com"], "00T7")]), NOW
    )
    assert (outcome.inserted, outcome.moved) == (0, 1)
    with Session(engine) as session:
        assert session.scalars(select(Activity.person_id)).one() == people["bob@example.com"]
        assert session.scalar(select(func.count()).select_from(ActivityEngagement)) == 0


def test_pending_engagements_are_rep_activities_of_people_with_a_contact_and_no_engagement_yet(
    engine: Engine,
) -> None:
    people = _people(engine)
    ann, bob = people["ann@example.com"], people["bob@example.com"]
    store = ActivityStore(engine, "activities")
    rows = [
        activity(ann, "00T1"),
        activity(ann, "00T2", "email", "automation"),
        activity(ann, "00T3", "task"),
        activity(bob, "00T4"),  # bob has no HubSpot contact
        activity(ann, "00U5", "meeting"),
    ]
    store.record_page(1, ActivityPage(activities=rows), NOW)

    def pending(after: int = 0, initiators: tuple[str, ...] = ("rep",)) -> list[str]:
        found = store.pending_engagements(
            ["call", "email", "meeting"],
            initiators,
            after_id=after,
            limit=2,
            marketing_system="hubspot",
            contact_objects=["contacts"],
        )
        return [a.source_event_id for a in found]

    assert pending() == ["00T1", "00U5"]
    assert pending(initiators=("rep", "automation")) == ["00T1", "00T2"]
    [first] = store.pending_engagements(
        ["call"], ["rep"], after_id=0, limit=1, marketing_system="hubspot", contact_objects=["contacts"]
    )
    links = [EngagementLink(first.id, "calls", "9001", "101")]
    store.record_engagements(1, links, [], [], NOW)
    store.record_engagements(1, links, [], [], NOW)  # a replay writes nothing twice
    assert pending() == ["00U5"]
    assert pending(after=first.id + 10) == []
