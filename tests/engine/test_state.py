"""The sync state keeps a page's links, bases, issues and cursor together or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from syncd.connector import Cursor as ConnectorCursor
from syncd.engine.state import (
    BaseWrite,
    CursorMove,
    LogEntry,
    NewLink,
    PageRecord,
    Quarantine,
    Retirement,
    StoredCursor,
    SyncState,
)
from syncd.errors import IssueCategory
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.store.models import Identity, Issue, Person, SyncLog

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    upgrade(store_url)
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def state(engine: Engine) -> SyncState:
    return SyncState(engine, "contacts")


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_links_of_one_email_in_two_systems_make_one_person(state: SyncState, engine: Engine) -> None:
    run = state.start_run("once", NOW)
    people = state.record_page(
        run,
        PageRecord(
            links=[
                NewLink("hubspot", "contacts", "101", "jane@example.com", created_at=NOW - timedelta(days=3)),
                NewLink("salesforce", "Lead", "00Q000000000001AAA", "jane@example.com", created_at=NOW),
            ]
        ),
        NOW,
    )
    assert _count(engine, Person) == 1
    assert state.links_by_external_id("hubspot", ["101"])["101"].person_id == people["jane@example.com"]
    by_person = state.links_by_person("salesforce", [people["jane@example.com"]])
    assert [link.external_id for link in by_person[people["jane@example.com"]]] == ["00Q000000000001AAA"]
    with Session(engine) as session:
        person = session.scalars(select(Person)).one()
    assert person.created_at == NOW - timedelta(days=3), "a person is as old as their oldest record"


def test_bases_round_trip_values_of_every_json_type(state: SyncState) -> None:
    run = state.start_run("once", NOW)
    values = {"firstname": "Jane", "score": 42, "optout": True, "city": None, "tags": ["a", "b"]}
    state.record_page(run, PageRecord(bases=[BaseWrite("person:1", k, v) for k, v in values.items()]), NOW)
    assert state.bases(["person:1", "person:2"]) == {"person:1": values}


def test_a_page_that_fails_midway_leaves_nothing_behind(state: SyncState, engine: Engine) -> None:
    run = state.start_run("once", NOW)
    naive = datetime(2026, 1, 1)  # the store refuses naive instants: the write fails after links
    page = PageRecord(
        links=[NewLink("hubspot", "contacts", "7", "sam@example.com")],
        bases=[BaseWrite("person:7", "firstname", "Sam")],
        cursor=CursorMove("hubspot", "contacts", ConnectorCursor(naive, "7")),
    )
    with pytest.raises(Exception, match="naive datetime"):
        state.record_page(run, page, NOW)
    assert _count(engine, Person) == 0
    assert _count(engine, Identity) == 0
    assert state.bases(["person:7"]) == {}
    assert state.cursor("hubspot", "contacts") is None


def test_cursor_moves_with_the_page(state: SyncState) -> None:
    run = state.start_run("once", NOW)
    first = ConnectorCursor(NOW - timedelta(hours=1), "5")
    state.record_page(run, PageRecord(cursor=CursorMove("hubspot", "contacts", first)), NOW)
    assert state.cursor("hubspot", "contacts") == first
    second = ConnectorCursor(NOW, "9")
    state.record_page(run, PageRecord(cursor=CursorMove("hubspot", "contacts", second)), NOW)
    assert state.cursor("hubspot", "contacts") == second
    assert state.cursor("salesforce", "Lead") is None


def test_the_cursor_remembers_when_the_pull_that_reached_it_started(state: SyncState) -> None:
    run = state.start_run("once", NOW)
    position = ConnectorCursor(NOW - timedelta(minutes=3), "00Q1")
    pulled = NOW - timedelta(seconds=40)
    move = CursorMove("salesforce", "Lead", position, observed_at=pulled)
    state.record_page(run, PageRecord(cursor=move), NOW)
    assert state.stored_cursor("salesforce", "Lead") == StoredCursor(position, pulled)
    assert state.stored_cursor("salesforce", "Contact") is None


def test_a_record_failing_every_cycle_is_one_issue_with_a_retry_count(
    state: SyncState, engine: Engine
) -> None:
    problem = Quarantine(
        "salesforce",
        "Lead",
        "bad@example.com",
        IssueCategory.VALIDATION,
        "Salesforce rejected Lead bad@example.com: REQUIRED_FIELD_MISSING (Company)",
        remote_code="REQUIRED_FIELD_MISSING",
        remote_message="Required fields are missing: [Company]",
        payload={"Email": "bad@example.com"},
    )
    for cycle in range(3):
        run = state.start_run("schedule", NOW + timedelta(minutes=cycle))
        state.record_page(run, PageRecord(quarantined=[problem]), NOW + timedelta(minutes=cycle))
    with Session(engine) as session:
        issue = session.scalars(select(Issue)).one()
    assert issue.retry_count == 2
    assert issue.status == "open"
    assert issue.remote_code == "REQUIRED_FIELD_MISSING"
    assert issue.payload == {"Email": "bad@example.com"}

    run = state.start_run("schedule", NOW + timedelta(hours=1))
    state.record_page(run, PageRecord(cleared=[("salesforce", "bad@example.com")]), NOW + timedelta(hours=1))
    with Session(engine) as session:
        issue = session.scalars(select(Issue)).one()
    assert issue.status == "resolved"
    assert issue.resolved_at == NOW + timedelta(hours=1)


def test_retired_identity_no_longer_links_but_keeps_its_history(state: SyncState, engine: Engine) -> None:
    run = state.start_run("once", NOW)
    state.record_page(run, PageRecord(links=[NewLink("salesforce", "Lead", "00QA", "lee@example.com")]), NOW)
    state.record_page(
        run,
        PageRecord(
            retirements=[Retirement("salesforce", "Lead", "00QA", "converted", replaced_by="003B")],
            links=[NewLink("salesforce", "Contact", "003B", "lee@example.com")],
        ),
        NOW,
    )
    assert "00QA" not in state.links_by_external_id("salesforce", ["00QA"])
    assert state.links_by_external_id("salesforce", ["003B"])["003B"].object == "Contact"
    with Session(engine) as session:
        retired = session.scalars(select(Identity).where(Identity.external_id == "00QA")).one()
    assert (retired.active, retired.reason, retired.replaced_by) == (False, "converted", "003B")


def test_sync_log_names_fields_and_the_person_never_values(state: SyncState, engine: Engine) -> None:
    run = state.start_run("once", NOW)
    state.record_page(
        run,
        PageRecord(
            links=[NewLink("hubspot", "contacts", "11", "kim@example.com")],
            log=[
                LogEntry("salesforce", "Lead", "00QK", "create", ("FirstName", "Company"), "kim@example.com")
            ],
        ),
        NOW,
    )
    with Session(engine) as session:
        entry = session.scalars(select(SyncLog)).one()
        person_id = session.scalars(select(Person.id)).one()
    assert entry.fields == {"names": ["FirstName", "Company"]}
    assert entry.person_id == person_id


def test_runs_record_their_outcome(state: SyncState, engine: Engine) -> None:
    from syncd.store.models import Run

    run = state.start_run("once", NOW, dry_run=True)
    state.finish_run(
        run,
        NOW + timedelta(seconds=5),
        status="succeeded",
        counts={"salesforce": {"created": 3}},
        api_calls={},
    )
    with Session(engine) as session:
        row = session.get(Run, run)
        assert row is not None
        assert (row.status, row.dry_run, row.counts) == ("succeeded", True, {"salesforce": {"created": 3}})


def test_only_refused_writes_are_offered_for_retry(state: SyncState) -> None:
    run = state.start_run("once", NOW)
    refused = Quarantine(
        "salesforce", "Lead", "ann@example.com", IssueCategory.VALIDATION, "refused", payload={"op": "update"}
    )
    duplicate = Quarantine("salesforce", "Lead", "bob@example.com", IssueCategory.DUPLICATE, "a duplicate")
    elsewhere = Quarantine("hubspot", "contacts", "cat@example.com", IssueCategory.OTHER, "x", payload={})
    state.record_page(run, PageRecord(quarantined=[refused, duplicate, elsewhere]), NOW)
    assert state.rejected_writes("salesforce") == ["ann@example.com"]
    state.record_page(run, PageRecord(cleared=[("salesforce", "ann@example.com")]), NOW)
    assert state.rejected_writes("salesforce") == []


def test_a_person_whose_record_was_deleted_there_is_known_as_deleted_until_linked_again(
    state: SyncState,
) -> None:
    run = state.start_run("once", NOW)
    people = state.record_page(
        run,
        PageRecord(
            links=[
                NewLink("hubspot", "contacts", "101", "ann@example.com"),
                NewLink("salesforce", "Lead", "00Q1", "ann@example.com"),
            ]
        ),
        NOW,
    )
    ann = people["ann@example.com"]
    state.record_page(run, PageRecord(retirements=[Retirement("hubspot", "contacts", "101", "deleted")]), NOW)
    assert state.deleted_in("hubspot", [ann]) == {ann}
    assert state.deleted_in("salesforce", [ann]) == set()
    state.record_page(
        run, PageRecord(links=[NewLink("hubspot", "contacts", "202", "ann@example.com", ann)]), NOW
    )
    assert state.deleted_in("hubspot", [ann]) == set()


def test_a_clean_sync_of_the_survivor_leaves_the_duplicates_issue_open(
    state: SyncState, engine: Engine
) -> None:
    run = state.start_run("once", NOW)
    duplicate = Quarantine("salesforce", "Lead", "ann@example.com", IssueCategory.DUPLICATE, "00Q2 shares…")
    refused = Quarantine("salesforce", "Lead", "ann@example.com", IssueCategory.VALIDATION, "x", payload={})
    state.record_page(run, PageRecord(quarantined=[duplicate, refused]), NOW)
    state.record_page(run, PageRecord(cleared=[("salesforce", "ann@example.com")]), NOW)
    assert state.rejected_writes("salesforce") == []
    with Session(engine) as session:
        open_issues = session.scalars(select(Issue.category).where(Issue.status == "open")).all()
    assert open_issues == ["duplicate"]


def test_a_second_problem_with_the_same_record_in_one_page_counts_as_a_retry(
    state: SyncState, engine: Engine
) -> None:
    run = state.start_run("once", NOW)
    first = Quarantine(
        "salesforce", "Lead", "x@example.com", IssueCategory.VALIDATION, "first", payload={"n": 1}
    )
    second = Quarantine("salesforce", "Lead", "x@example.com", IssueCategory.VALIDATION, "second", "CODE")
    state.record_page(run, PageRecord(quarantined=[first, second]), NOW)
    with Session(engine) as session:
        issue = session.scalars(select(Issue)).one()
    assert (issue.retry_count, issue.message, issue.remote_code) == (1, "second", "CODE")
    assert issue.payload == {"n": 1}, "a repeat without a payload keeps the one given before"

    later = NOW + timedelta(minutes=5)
    third = Quarantine(
        "salesforce", "Lead", "x@example.com", IssueCategory.VALIDATION, "third", payload={"n": 3}
    )
    other = Quarantine("salesforce", "Lead", "x@example.com", IssueCategory.OTHER, "another kind")
    state.record_page(run, PageRecord(quarantined=[third, second, other]), later)
    with Session(engine) as session:
        issues = {i.category: i for i in session.scalars(select(Issue))}
    validation = issues[IssueCategory.VALIDATION.value]
    assert (validation.retry_count, validation.message, validation.payload) == (3, "second", {"n": 3})
    assert (validation.first_seen_at, validation.last_seen_at) == (NOW, later)
    assert issues[IssueCategory.OTHER.value].retry_count == 0


def test_bases_are_rewritten_and_the_last_write_of_a_page_wins(state: SyncState) -> None:
    run = state.start_run("once", NOW)
    state.record_page(run, PageRecord(bases=[BaseWrite("person:1", "city", "Oslo")]), NOW)
    page = PageRecord(
        bases=[
            BaseWrite("person:1", "city", "Bergen"),
            BaseWrite("person:1", "city", "Tromsø"),
            BaseWrite("person:1", "phone", None),
            BaseWrite("person:2", "city", "Oslo"),
            BaseWrite("person:2", "city", "Bodø"),
        ]
    )
    state.record_page(run, page, NOW)
    assert state.bases(["person:1", "person:2"]) == {
        "person:1": {"city": "Tromsø", "phone": None},
        "person:2": {"city": "Bodø"},
    }
    assert state.forget_bases(["person:1"]) == 2
    assert state.bases(["person:1", "person:2"]) == {"person:2": {"city": "Bodø"}}


def test_a_base_for_a_person_of_the_page_is_keyed_by_their_id(state: SyncState) -> None:
    run = state.start_run("once", NOW)
    page = PageRecord(
        links=[NewLink("hubspot", "contacts", "5", "eve@example.com")],
        bases=[BaseWrite(None, "city", "Oslo", email="eve@example.com")],
    )
    eve = state.record_page(run, page, NOW)["eve@example.com"]
    assert state.bases([f"person:{eve}"]) == {f"person:{eve}": {"city": "Oslo"}}
    orphan = PageRecord(bases=[BaseWrite(None, "city", "Oslo", email="nobody@example.com")])
    with pytest.raises(ValueError, match="no person linked in this page"):
        state.record_page(run, orphan, NOW)


def test_a_relinked_or_revived_record_follows_its_person(state: SyncState, engine: Engine) -> None:
    run = state.start_run("once", NOW)
    people = state.record_page(
        run,
        PageRecord(
            links=[
                NewLink("salesforce", "Lead", "00QA", "ann@example.com"),
                NewLink("salesforce", "Lead", "00QB", "bob@example.com"),
            ]
        ),
        NOW,
    )
    ann, bob = people["ann@example.com"], people["bob@example.com"]
    state.record_page(run, PageRecord(retirements=[Retirement("salesforce", "Lead", "00QA", "deleted")]), NOW)
    state.record_page(
        run,
        PageRecord(
            links=[
                NewLink("salesforce", "Lead", "00QA", "ann@example.com", ann),  # undeleted
                NewLink("salesforce", "Lead", "00QB", "ann@example.com", ann),  # now stands for ann
            ]
        ),
        NOW,
    )
    links = state.links_by_external_id("salesforce", ["00QA", "00QB"])
    assert {key: link.person_id for key, link in links.items()} == {"00QA": ann, "00QB": ann}
    with Session(engine) as session:
        revived = session.scalars(select(Identity).where(Identity.external_id == "00QA")).one()
    assert (revived.active, revived.reason, revived.deactivated_at) == (True, None, None)
    assert state.links_by_person("salesforce", [bob]) == {}


def test_a_person_follows_their_record_to_a_new_email_and_grows_older_with_it(
    state: SyncState, engine: Engine
) -> None:
    run = state.start_run("once", NOW)
    people = state.record_page(
        run, PageRecord(links=[NewLink("hubspot", "contacts", "1", "old@example.com")]), NOW
    )
    person = people["old@example.com"]
    older = NOW - timedelta(days=30)
    moved = state.record_page(
        run,
        PageRecord(
            links=[
                NewLink("hubspot", "contacts", "1", "new@example.com", person, created_at=NOW),
                NewLink("salesforce", "Lead", "00Q1", "new@example.com", created_at=older),
            ]
        ),
        NOW,
    )
    assert moved == {"new@example.com": person}
    assert state.people_by_email(["old@example.com", "new@example.com"]) == {"new@example.com": person}
    with Session(engine) as session:
        stored = session.get(Person, person)
        assert stored is not None
        assert stored.created_at == older


def test_a_page_of_many_records_is_a_few_statements_not_one_per_row(state: SyncState, engine: Engine) -> None:
    """Lookups go in chunks and writes in one executemany per table, so a page's cost is not
    proportional to round trips per row (a large page crosses the lookup chunk size here)."""
    run = state.start_run("once", NOW)
    size = 1200
    links = [NewLink("hubspot", "contacts", str(n), f"p{n}@example.com") for n in range(size)]
    bases = [BaseWrite(None, f, n, email=f"p{n}@example.com") for n in range(size) for f in ("a", "b")]
    log = [LogEntry("hubspot", "contacts", str(n), "link", (), f"p{n}@example.com") for n in range(size)]
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        people = state.record_page(run, PageRecord(links=links, bases=bases, log=log), NOW)
        again = state.record_page(run, PageRecord(links=links, bases=bases, log=log), NOW)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(people) == size and again == people
    assert _count(engine, Person) == size and _count(engine, Identity) == size
    assert state.bases([f"person:{people['p7@example.com']}"]) == {
        f"person:{people['p7@example.com']}": {"a": 7, "b": 7}
    }
    assert len(statements) <= 40, statements
