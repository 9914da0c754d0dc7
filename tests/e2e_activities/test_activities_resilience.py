"""Crashes, injected faults, lead conversions and merges: nothing lost, nothing written twice."""

from __future__ import annotations

from collections import Counter

import pytest

from syncd.activities import source_key

from .conftest import World
from .expected import crm_activities, hubspot_contact_of_person, person_of_record, syncd_engagements
from .test_activities_flow import SETTINGS


def _rep_activities_with_contact(world: World) -> set[str]:
    expected = [e for e in crm_activities(world) if e.initiated_by == "rep"]
    people = person_of_record(world, {e.who_id for e in expected})
    contacts = hubspot_contact_of_person(world)
    return {source_key("salesforce", e.id) for e in expected if people.get(e.who_id) in contacts}


def test_a_crash_after_hubspot_saved_the_engagements_duplicates_nothing_on_the_rerun(world: World) -> None:
    # Every association call fails: the engagements are saved, their links to contacts and the
    # store's record of them are not (as if syncd died right after the upserts).
    world.fault("hubspot", path="/crm/v4/associations/.*/batch/create", kind="status", status=502, count=100)
    crashed = world.run(world.activities(SETTINGS))
    assert crashed.status == "failed" and "502" in (crashed.error or "")
    saved = syncd_engagements(world)
    assert saved and world.engagement_links() == []

    world.clear_faults()
    rerun = world.run(world.activities(SETTINGS))

    assert rerun.status == "succeeded", rerun.error
    engagements = syncd_engagements(world)  # asserts no source id is carried twice
    assert set(engagements) == _rep_activities_with_contact(world)
    assert rerun.counts["hubspot.updated"] == len(saved)
    assert rerun.counts.get("hubspot.created", 0) == len(engagements) - len(saved)
    assert all(contacts for _, _, contacts in engagements.values())
    assert len(world.engagement_links()) == len(engagements)


def test_a_run_that_dies_between_pages_resumes_after_its_last_recorded_page(
    world_session: World, store_url: str
) -> None:
    world = world_session
    world.reseed(store_url, people=240, page_size=200)
    world.link_people()
    # The second page of Tasks never arrives: the first is recorded with its cursor, the run fails.
    world.fault("salesforce", path="/services/data/v[0-9.]+/query/.+", kind="status", status=503, count=100)
    crashed = world.run(world.activities(SETTINGS))
    assert crashed.status == "failed"
    first = {a.source_event_id for a in world.activity_rows()}
    assert 150 <= len(first) < len(crm_activities(world))

    world.clear_faults()
    resumed = world.run(world.activities(SETTINGS))
    assert resumed.status == "succeeded", resumed.error
    expected = crm_activities(world)
    people = person_of_record(world, {e.who_id for e in expected})
    rows = world.activity_rows()
    assert Counter(a.source_event_id for a in rows) == Counter(
        {e.id: 1 for e in expected if e.who_id in people}
    )
    assert set(syncd_engagements(world)) == _rep_activities_with_contact(world)


@pytest.mark.parametrize("kind", ["status", "reset"])
def test_transient_faults_on_reads_and_writes_are_retried_and_lose_nothing(world: World, kind: str) -> None:
    world.fault("salesforce", path="/composite$", kind=kind, status=503, count=1)
    world.fault("hubspot", path="/batch/upsert", kind=kind, status=503, count=2)
    world.fault("hubspot", path="/batch/create", kind=kind, status=429, count=1)
    summary = world.run(world.activities(SETTINGS))
    assert summary.status == "succeeded", summary.error
    assert set(syncd_engagements(world)) == _rep_activities_with_contact(world)
    assert len(world.engagement_links()) == len(syncd_engagements(world))


def test_a_converted_lead_keeps_its_activities_on_the_same_person(world: World) -> None:
    world.run(world.activities(SETTINGS))
    leads = Counter(a.who_id for a in crm_activities(world) if a.who_id.startswith("00Q"))
    objects = world.snapshot("salesforce")["objects"]
    unconverted = {r["Id"] for r in objects["Lead"] if not r["IsConverted"] and not r["IsDeleted"]}
    lead = next(
        who for who, _ in leads.most_common() if who in unconverted and who in person_of_record(world, [who])
    )
    before = {a.source_event_id: a.person_id for a in world.activity_rows()}
    engagements = syncd_engagements(world)

    converted = world.post("salesforce", f"/__sandbox/leads/{lead}/convert", {})
    world.link_people()
    summary = world.run(world.activities(SETTINGS))

    assert summary.status == "succeeded", summary.error
    assert (
        summary.counts.get("salesforce.activities", 0) == 0 and summary.counts.get("salesforce.moved", 0) == 0
    )
    assert {a.source_event_id: a.person_id for a in world.activity_rows()} == before
    assert syncd_engagements(world) == engagements
    moved = [e for e in crm_activities(world) if e.who_id == converted["contactId"]]
    assert len(moved) == leads[lead]


def test_a_merge_moves_the_losers_activities_to_the_surviving_person_and_contact(world: World) -> None:
    world.run(world.activities(SETTINGS))
    contacts = hubspot_contact_of_person(world)
    rows = world.activity_rows()
    by_person = Counter(a.person_id for a in rows if a.initiated_by == "rep" and a.person_id in contacts)
    records = {i.person_id: i.external_id for i in world.identities() if i.object == "Contact"}
    (master_person, _), (loser_person, losers) = [(p, n) for p, n in by_person.most_common() if p in records][
        :2
    ]
    master, loser = records[master_person], records[loser_person]
    moved_ids = {a.source_event_id for a in rows if a.person_id == loser_person}

    world.post(
        "salesforce", "/__sandbox/merge", {"sobject": "Contact", "master_id": master, "loser_ids": [loser]}
    )
    world.link_people()
    summary = world.run(world.activities(SETTINGS))

    assert summary.status == "succeeded", summary.error
    assert summary.counts["salesforce.moved"] == len(moved_ids) >= losers
    after = {a.source_event_id: a.person_id for a in world.activity_rows()}
    assert {after[i] for i in moved_ids} == {master_person}
    engagements = syncd_engagements(world)
    pushed = {a.source_event_id for a in rows if a.person_id == loser_person and a.initiated_by == "rep"}
    assert len(pushed) == losers
    for task in pushed:
        _, _, linked = engagements[source_key("salesforce", task)]
        assert contacts[master_person] in linked
    assert len(engagements) == len(world.engagement_links())
