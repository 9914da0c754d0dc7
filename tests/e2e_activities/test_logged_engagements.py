"""Calls, meetings and notes reps log in HubSpot: touches and Salesforce Tasks, found without idle calls,
and no echo of syncd's own writes in either direction."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from hubspot import HubSpot
from hubspot.crm.objects.meetings import SimplePublicObjectInputForCreate

from syncd.engine.engagements import task_key
from syncd.engine.touch_store import StoredTouch
from syncd.store.models import Touch

from .conftest import World
from .expected import logged_engagements, logged_kind, syncd_engagements
from .test_activities_flow import SETTINGS

# Past the engagements flow's re-read window (five minutes): a cycle after this is idle.
SETTLE = 400


def _logged(world: World) -> list[Touch]:
    return [t for t in world.touches() if t.kind in ("meeting", "call", "note")]


def _stored(touch: Touch) -> StoredTouch:
    return StoredTouch(
        touch.id, touch.person_id, touch.source_system, touch.source_event_id, touch.occurred_at,
        touch.kind, touch.channel, touch.detail, None,
    )  # fmt: skip


def _syncd_tasks(world: World) -> list[dict[str, object]]:
    rows = world.snapshot("salesforce")["objects"]["Task"]
    return [
        r
        for r in rows
        if str(r.get("HubSpot_Engagement_Id__c") or "").startswith("syncd:") and not r["IsDeleted"]
    ]


def test_engagements_reps_log_in_hubspot_become_touches_and_one_task_each(
    world_session: World, store_url: str
) -> None:
    world = world_session
    world.reseed(store_url, people=200)
    world.link_people()
    summary = world.run(world.engagements())
    assert summary.status == "succeeded", summary.error

    expected = logged_engagements(world)
    touches = _logged(world)
    assert {t.source_event_id for t in touches} == expected and len(expected) > 20
    assert all(t.kind == logged_kind(t.source_event_id) and t.channel == "sales" for t in touches)
    assert {t.kind for t in touches} == {"meeting", "call", "note"}

    salesforce_people = {i.person_id for i in world.identities() if i.system == "salesforce"}
    due = {task_key(_stored(t)): t for t in touches if t.person_id in salesforce_people}
    tasks = {str(r["HubSpot_Engagement_Id__c"]): r for r in _syncd_tasks(world)}
    assert set(due) <= set(tasks) and due
    for key, touch in due.items():
        expected_type = {"meeting": "Meeting", "call": "Call", "note": "Other"}[touch.kind]
        assert tasks[key]["Type"] == expected_type and tasks[key]["Status"] == "Completed"

    before = (len(world.touches()), len(_syncd_tasks(world)))
    again = world.run(world.engagements())
    assert again.status == "succeeded" and (len(world.touches()), len(_syncd_tasks(world))) == before
    assert Counter(link.task_key for link in world.task_links()).most_common(1)[0][1] == 1


def test_a_meeting_logged_later_is_found_through_its_contact_with_a_few_calls(world: World) -> None:
    flow = world.engagements()
    world.run(flow)
    world.let_time_pass(SETTLE)
    world.run(flow)
    contact = next(i.external_id for i in world.identities() if i.system == "hubspot")
    client = HubSpot(access_token=world.hubspot.access_token, host=world.hubspot.base_url)
    meeting = client.crm.objects.meetings.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"hs_timestamp": datetime.now(UTC).isoformat(), "hs_meeting_title": "Renewal call"},
            associations=[
                {
                    "to": {"id": contact},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 200}],
                }
            ],
        )
    )
    world.reset_counters()

    summary = world.run(flow)

    assert summary.status == "succeeded", summary.error
    new = [t for t in _logged(world) if t.source_event_id == f"meetings:{meeting.id}:{contact}"]
    assert len(new) == 1 and new[0].detail["title"] == "Renewal call"
    assert summary.counts["salesforce.created"] == 1
    calls = world.counters("hubspot")
    # One associations read per engagement object, one batch read of the new meeting.
    assert calls["POST /crm/v4/associations/{from_type}/{to_type}/batch/read"] == 3
    assert calls["POST /crm/v3/objects/{object}/batch/{op}"] == 1


def test_syncd_s_own_writes_never_come_back_in_either_direction(world: World) -> None:
    activities = world.activities(SETTINGS)
    engagements = world.engagements()
    world.run(activities)  # Salesforce activities become HubSpot engagements
    pushed = syncd_engagements(world)
    world.run(engagements)  # HubSpot-logged engagements become touches and Salesforce Tasks
    world.run(engagements)  # the contacts syncd's engagements changed are looked at again
    own_ids = {(obj, engagement_id) for obj, engagement_id, _ in pushed.values()}
    touched = {tuple(t.source_event_id.split(":")[:2]) for t in _logged(world)}
    assert own_ids and not own_ids & touched

    stored = len(world.activity_rows())
    summary = world.run(activities)  # the Tasks syncd wrote for the touches are read back
    assert summary.counts["salesforce.skipped_syncd"] >= len(_syncd_tasks(world)) > 0
    assert len(world.activity_rows()) == stored and syncd_engagements(world) == pushed


def test_an_idle_cycle_costs_one_salesforce_call_and_nothing_more_in_hubspot(world: World) -> None:
    activities = world.activities(SETTINGS)
    with_logged = world.engagements()
    for _ in range(2):
        world.run(activities)
        world.run(with_logged)
        world.let_time_pass(SETTLE)
    world.run(with_logged)
    world.let_time_pass(SETTLE)
    world.reset_counters()

    idle_activities = world.run(activities)
    idle_engagements = world.run(with_logged)

    assert idle_activities.api_calls == {"salesforce": 1, "hubspot": 0}
    assert world.counters("salesforce") == {"POST /services/data/v{version}/composite": 1}
    # The engagements flow's own idle reads (email events, modified contacts); the logged leg adds none.
    assert idle_engagements.api_calls["hubspot"] == 2
    assert not [k for k in world.counters("hubspot") if "associations" in k or "batch" in k]
