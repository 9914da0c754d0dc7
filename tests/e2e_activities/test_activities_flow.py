"""A seeded quarter of Salesforce sales activity into the store and onto HubSpot, through the real clients."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from connectors.salesforce.sandbox.org import API_USER_ID
from syncd.activities import source_key
from syncd.connector import Write
from syncd.core.activities import ActivityRules
from syncd.engine.activities import ActivitySettings

from .conftest import World
from .expected import crm_activities, hubspot_contact_of_person, person_of_record, syncd_engagements, writes

# The integration user logs automated welcome emails: configured as an automation user.
SETTINGS = ActivitySettings(rules=ActivityRules(automation_users=frozenset({API_USER_ID})))


def test_every_rep_activity_appears_once_in_hubspot_on_its_persons_contact(world: World) -> None:
    summary = world.run(world.activities(SETTINGS))
    assert summary.status == "succeeded", summary.error

    expected = crm_activities(world)
    people = person_of_record(world, {e.who_id for e in expected})
    stored = {a.source_event_id: a for a in world.activity_rows()}
    assert set(stored) == {e.id for e in expected if e.who_id in people}
    assert {e.kind for e in expected} == {"call", "email", "meeting"}
    for e in expected:
        if e.who_id in people:
            row = stored[e.id]
            assert (row.kind, row.initiated_by, row.person_id) == (e.kind, e.initiated_by, people[e.who_id])

    contacts = hubspot_contact_of_person(world)
    pushed = [e for e in expected if e.initiated_by == "rep" and people.get(e.who_id) in contacts]
    engagements = syncd_engagements(world)
    assert set(engagements) == {source_key("salesforce", e.id) for e in pushed} and len(pushed) > 40
    objects = {"call": "calls", "email": "emails", "meeting": "meetings"}
    for e in pushed:
        obj, _, linked = engagements[source_key("salesforce", e.id)]
        assert (obj, linked) == (objects[e.kind], {contacts[people[e.who_id]]})
    assert len(world.engagement_links()) == len(pushed)
    assert summary.counts["hubspot.created"] == len(pushed)


def test_automated_sends_are_stored_as_automation_and_stay_out_of_hubspot(world: World) -> None:
    world.run(world.activities(SETTINGS))
    automated = [a for a in world.activity_rows() if a.initiated_by == "automation"]
    assert Counter(a.kind for a in automated) == Counter({"email": len(automated)}) and automated
    engagements = syncd_engagements(world)
    assert not {source_key("salesforce", a.source_event_id) for a in automated} & set(engagements)

    # Without the integration user in the list only list emails are automation; with push_automated on,
    # the automated sends reach HubSpot too.
    also = replace(SETTINGS, engagements=replace(SETTINGS.engagements, push_automated=True))
    summary = world.run(world.activities(also))
    assert summary.counts.get("hubspot.created", 0) > 0
    assert {
        source_key("salesforce", a.source_event_id) for a in automated if _has_contact(world, a.person_id)
    } <= set(syncd_engagements(world))


def _has_contact(world: World, person_id: int) -> bool:
    return person_id in hubspot_contact_of_person(world)


def test_a_rerun_reads_one_composite_and_writes_nothing(world: World) -> None:
    flow = world.activities(SETTINGS)
    world.run(flow)
    before = world.snapshot("hubspot")["objects"]
    world.reset_counters()

    summary = world.run(flow)

    assert summary.status == "succeeded" and summary.api_calls == {"salesforce": 1, "hubspot": 0}
    assert world.counters("salesforce") == {"POST /services/data/v{version}/composite": 1}
    assert world.counters("hubspot") == {}
    assert {k: v for k, v in summary.counts.items() if k != "quarantined" and "waiting" not in k} == {}
    assert world.snapshot("hubspot")["objects"] == before


def test_an_activity_of_a_person_not_linked_yet_waits_then_is_stored_and_pushed(world: World) -> None:
    world.run(world.activities(SETTINGS))
    sf = world.rt.salesforce
    rep = next(o.id for o in sf.owners() if o.id != API_USER_ID)
    person = {"LastName": "Late", "Company": "Late Co", "Email": "late@late.example"}
    [lead] = sf.push("Lead", [Write("create", "l", person)])
    logged = {
        "WhoId": lead.id,
        "OwnerId": rep,
        "Subject": "Call",
        "TaskSubtype": "Call",
        "Status": "Completed",
    }
    [call] = sf.push("Task", [Write("create", "t", logged)])
    assert lead.ok and call.ok

    waiting = world.run(world.activities(SETTINGS))
    assert waiting.counts["salesforce.waiting"] >= 1
    [issue] = [i for i in world.issues() if i.record_key == f"Task:{call.id}"]
    assert "waits for its person" in issue.message and issue.payload

    world.link_people()  # the contacts flow links the new Lead (and creates its HubSpot contact)
    done = world.run(world.activities(SETTINGS))
    assert done.counts["salesforce.activities"] == 1 and done.counts["hubspot.created"] == 1
    assert not [i for i in world.issues() if i.record_key == f"Task:{call.id}"]
    assert source_key("salesforce", str(call.id)) in syncd_engagements(world)


def test_a_dry_run_plans_the_activities_and_engagements_and_writes_nothing(world: World) -> None:
    summary = world.run(world.activities(replace(SETTINGS, dry_run=True)))
    assert summary.status == "succeeded" and summary.run_id is None
    assert summary.planned["store activities (new or replayed)"] > 40
    assert world.activity_rows() == [] and syncd_engagements(world) == {}
    assert writes(world.counters("hubspot")) == {} and writes(world.counters("salesforce")) == {}
