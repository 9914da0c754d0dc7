"""lifecycle_events written from observations, on SQLite and PostgreSQL: once per person, stage and
source, the earliest instant kept, replays and later observations writing nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from syncd.core.lifecycle import LifecycleSettings, Observation
from syncd.engine.lifecycle_store import LifecycleWrite, record_lifecycle
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.store.models import Identity, LifecycleEvent, Person

NOW = datetime(2026, 4, 1, tzinfo=UTC)
SETTINGS = LifecycleSettings()


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Engine]:
    upgrade(store_url)
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


def person(store: Engine, email: str, *records: tuple[str, str, str], active: bool = True) -> int:
    with store.begin() as conn:
        person_id = int(
            conn.execute(
                insert(Person).values(email=email, created_at=at(1), updated_at=at(1)).returning(Person.id)
            ).scalar_one()
        )
        for system, obj, external_id in records:
            conn.execute(
                insert(Identity).values(
                    person_id=person_id,
                    system=system,
                    object=obj,
                    external_id=external_id,
                    active=active,
                    linked_at=at(1),
                )
            )
    return person_id


def contact(record_id: str, **fields: Any) -> Observation:
    return Observation("hubspot", "contacts", record_id, at(20), fields)


def write(
    store: Engine, *observations: Observation, settings: LifecycleSettings = SETTINGS
) -> LifecycleWrite:
    with store.begin() as conn:
        return record_lifecycle(conn, observations, settings, NOW)


def events(store: Engine) -> set[tuple[int, str, datetime, str]]:
    with store.connect() as conn:
        rows = conn.execute(
            select(
                LifecycleEvent.person_id,
                LifecycleEvent.stage,
                LifecycleEvent.entered_at,
                LifecycleEvent.source_system,
            )
        )
        return {(p, s, at_, src) for p, s, at_, src in rows}


def test_each_stage_is_stored_once_with_its_instant_and_a_replay_writes_nothing(store: Engine) -> None:
    ann = person(store, "ann@example.com", ("hubspot", "contacts", "101"), ("salesforce", "Lead", "00QA"))
    observed = [
        contact(
            "101",
            hs_lifecyclestage_lead_date="2026-03-02T10:00:00Z",
            hs_lifecyclestage_marketingqualifiedlead_date="2026-03-04T09:00:00Z",
        ),
        Observation("salesforce", "Lead", "00QA", at(20), {"CreatedDate": "2026-03-03T08:00:00.000+0000"}),
    ]

    first = write(store, *observed)
    again = write(store, *observed)

    assert first == LifecycleWrite(inserted=3)
    assert again == LifecycleWrite()
    assert events(store) == {
        (ann, "lead", at(2, 10), "hubspot"),
        (ann, "mql", at(4, 9), "hubspot"),
        (ann, "lead", at(3, 8), "salesforce"),
    }


def test_the_earliest_instant_wins_and_later_ones_write_nothing(store: Engine) -> None:
    bob = person(store, "bob@example.com", ("hubspot", "contacts", "202"))
    write(store, contact("202", lifecyclestage="customer"))  # no date: first observed at(20)

    later = write(store, Observation("hubspot", "contacts", "202", at(25), {"lifecyclestage": "customer"}))
    earlier = write(store, contact("202", hs_lifecyclestage_customer_date="2026-03-12T00:00:00Z"))

    assert later == LifecycleWrite()
    assert earlier == LifecycleWrite(moved_earlier=1)
    assert events(store) == {(bob, "customer", at(12), "hubspot")}


def test_records_nobody_is_linked_to_are_skipped_and_counted(store: Engine) -> None:
    result = write(store, contact("999", hs_lifecyclestage_lead_date="2026-03-02T00:00:00Z"))
    assert result == LifecycleWrite(unlinked=1)
    assert events(store) == set()


def test_a_converted_lead_still_names_its_person(store: Engine) -> None:
    cat = person(store, "cat@example.com", ("salesforce", "Contact", "003C"))
    with store.begin() as conn:  # the contacts flow retired the converted Lead, on Cat
        conn.execute(
            insert(Identity).values(
                person_id=cat,
                system="salesforce",
                object="Lead",
                external_id="00QC",
                active=False,
                linked_at=at(1),
            )
        )
    converted = Observation(
        "salesforce",
        "Lead",
        "00QC",
        at(10, 14),
        {"IsConverted": True, "ConvertedDate": "2026-03-10", "CreatedDate": "2026-03-01T00:00:00Z"},
        merged_into="003C",
    )
    write(store, converted)
    assert events(store) == {(cat, "lead", at(1), "salesforce"), (cat, "sql", at(10, 14), "salesforce")}


def test_a_lead_converted_before_it_was_ever_linked_names_its_contacts_person(store: Engine) -> None:
    dee = person(store, "dee@example.com", ("salesforce", "Contact", "003D"))
    converted = Observation(
        "salesforce",
        "Lead",
        "00QD",
        at(10, 14),
        {"IsConverted": True, "ConvertedDate": "2026-03-10"},
        merged_into="003D",
    )
    assert write(store, converted) == LifecycleWrite(inserted=1)
    assert events(store) == {(dee, "sql", at(10, 14), "salesforce")}


def test_events_follow_a_merged_record_to_its_survivors_person(store: Engine) -> None:
    loser = person(store, "dan.old@example.com", ("salesforce", "Lead", "00QL"))
    winner = person(store, "dan@example.com", ("salesforce", "Lead", "00QW"))
    write(
        store,
        Observation("salesforce", "Lead", "00QL", at(20), {"CreatedDate": "2026-03-02T00:00:00Z"}),
        Observation("salesforce", "Lead", "00QW", at(20), {"CreatedDate": "2026-03-05T00:00:00Z"}),
    )
    with store.begin() as conn:  # the contacts flow retires the merge loser
        conn.execute(Identity.__table__.update().values(active=False).where(Identity.external_id == "00QL"))

    result = write(
        store, Observation("salesforce", "Lead", "00QL", at(21), {}, deleted=True, merged_into="00QW")
    )

    assert result.followed == 1
    assert events(store) == {(winner, "lead", at(2), "salesforce")}
    assert loser != winner


def test_a_person_with_another_live_record_keeps_their_events(store: Engine) -> None:
    eve = person(store, "eve@example.com", ("salesforce", "Lead", "00QE"), ("salesforce", "Contact", "003E"))
    other = person(store, "eve2@example.com", ("salesforce", "Lead", "00QF"))
    write(store, Observation("salesforce", "Lead", "00QE", at(20), {"CreatedDate": "2026-03-02T00:00:00Z"}))
    with store.begin() as conn:
        conn.execute(Identity.__table__.update().values(active=False).where(Identity.external_id == "00QE"))

    result = write(
        store, Observation("salesforce", "Lead", "00QE", at(21), {}, deleted=True, merged_into="00QF")
    )

    assert result.followed == 0
    assert events(store) == {(eve, "lead", at(2), "salesforce")}
    assert other != eve


def test_two_sources_stating_the_same_instant_are_both_kept(store: Engine) -> None:
    fay = person(store, "fay@example.com", ("hubspot", "contacts", "606"), ("salesforce", "Lead", "00QF"))
    same = "2026-03-02T00:00:00Z"
    result = write(
        store,
        contact("606", hs_lifecyclestage_lead_date=same),
        Observation("salesforce", "Lead", "00QF", at(20), {"CreatedDate": same}),
    )
    assert result.inserted == 2
    assert events(store) == {(fay, "lead", at(2), "hubspot"), (fay, "lead", at(2), "salesforce")}


def test_many_people_in_one_page(store: Engine) -> None:
    ids = [person(store, f"p{i}@example.com", ("hubspot", "contacts", str(1000 + i))) for i in range(120)]
    page = [
        contact(str(1000 + i), hs_lifecyclestage_lead_date=(at(1) + timedelta(minutes=i)).isoformat())
        for i in range(120)
    ]
    assert write(store, *page).inserted == 120
    assert write(store, *page) == LifecycleWrite()
    assert {p for p, *_ in events(store)} == set(ids)
