"""Campaign members and their response touches stay with the surviving person through conversions and
merges; touches naming a campaign by UTM value or by a HubSpot namesake point at it; faults lose nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from syncd.cli.compose import engagement_flow
from syncd.cli.compose_campaigns import campaign_flow
from syncd.engine.campaigns import CampaignFlow
from syncd.engine.runs import RunSummary
from syncd.store.models import Campaign, CampaignMember, Touch

from .world import Never, World


def run(world: World, flow: CampaignFlow, *, ok: bool = True) -> RunSummary:
    world.let_time_pass(11)
    summary = flow.run("once", Never())
    if ok:
        assert summary.status == "succeeded", summary.error
    return summary


def flow(world: World) -> CampaignFlow:
    assert world.runtime is not None
    return campaign_flow(world.runtime, clock=world.clock.now)


def stored(world: World, model: Any) -> list[dict[str, Any]]:
    with world.store.connect() as conn:
        return [dict(r) for r in conn.execute(select(model.__table__)).mappings()]


def members(world: World) -> dict[str, dict[str, Any]]:
    return {m["external_id"]: m for m in stored(world, CampaignMember)}


def expected_member_keys(world: World) -> set[tuple[str, int]]:
    """(Salesforce campaign id, person) of every Salesforce member whose Lead or Contact is linked."""
    linked = world.linked("salesforce")
    keys = set()
    for m in world.records("CampaignMember"):
        person = linked.get(m.get("ContactId") or "") or linked.get(m.get("LeadId") or "")
        if person is not None:
            keys.add((m["CampaignId"], person))
    return keys


def member_keys(world: World) -> set[tuple[str, int]]:
    campaigns = {c["id"]: c["external_id"] for c in stored(world, Campaign)}
    return {(campaigns[m["campaign_id"]], m["person_id"]) for m in stored(world, CampaignMember)}


def lead_members(world: World) -> list[dict[str, Any]]:
    """Salesforce members on a linked Lead only (no Contact yet)."""
    linked = world.linked("salesforce")
    return [
        m for m in world.records("CampaignMember") if m.get("LeadId") in linked and not m.get("ContactId")
    ]


def test_a_converted_leads_memberships_stay_with_the_same_person(world: World) -> None:
    campaigns = flow(world)
    run(world, campaigns)
    member = next(m for m in lead_members(world) if m["HasResponded"])
    person = world.person_of("salesforce", member["LeadId"])
    before = members(world)[member["Id"]]
    rows_before = [m["id"] for m in stored(world, CampaignMember) if m["person_id"] == person]

    world.post("salesforce", f"/__sandbox/leads/{member['LeadId']}/convert", {})
    world.sync_contacts()
    world.let_time_pass(120)
    run(world, campaigns)

    converted = next(m for m in world.records("CampaignMember") if m["Id"] == member["Id"])
    assert converted["ContactId"]
    assert world.person_of("salesforce", converted["ContactId"]) == person
    after = members(world)[member["Id"]]
    assert after["person_id"] == person and after["id"] == before["id"]
    assert [m["id"] for m in stored(world, CampaignMember) if m["person_id"] == person] == rows_before
    touches = [t for t in stored(world, Touch) if t["source_event_id"] == member["Id"]]
    assert [t["person_id"] for t in touches] == [person]


def test_a_merged_leads_memberships_and_responses_move_to_the_survivors_person(world: World) -> None:
    campaigns = flow(world)
    run(world, campaigns)
    linked = world.linked("salesforce")
    loser_member = next(m for m in lead_members(world) if m["HasResponded"])
    loser = loser_member["LeadId"]
    in_campaign = {
        m.get("LeadId")
        for m in world.records("CampaignMember")
        if m["CampaignId"] == loser_member["CampaignId"]
    }
    master = next(
        r["Id"]
        for r in world.records("Lead")
        if r["Id"] in linked and r["Id"] != loser and r["Id"] not in in_campaign and not r.get("IsConverted")
    )
    survivor = world.person_of("salesforce", master)
    assert survivor != world.person_of("salesforce", loser)

    world.post(
        "salesforce", "/__sandbox/merge", {"sobject": "Lead", "master_id": master, "loser_ids": [loser]}
    )
    world.sync_contacts()
    world.let_time_pass(120)
    run(world, campaigns)

    row = members(world)[loser_member["Id"]]
    assert row["person_id"] == survivor
    touch = next(t for t in stored(world, Touch) if t["source_event_id"] == loser_member["Id"])
    assert touch["person_id"] == survivor
    assert len(stored(world, CampaignMember)) == len(
        {(m["campaign_id"], m["person_id"]) for m in stored(world, CampaignMember)}
    )


def test_touches_point_at_the_campaign_their_utm_value_or_email_names(world: World) -> None:
    assert world.runtime is not None
    world.let_time_pass(11)
    touches = engagement_flow(world.runtime, clock=world.clock.now).run("once", Never())
    assert touches.status == "succeeded", touches.error
    before = stored(world, Touch)
    named = [t for t in before if t["detail"].get("utm_campaign") and t["campaign_id"] is None]
    emails = [t for t in before if t["kind"].startswith("email_") and t["campaign_id"]]
    assert named and emails

    summary = run(world, flow(world))

    campaigns = {c["id"]: c for c in stored(world, Campaign)}
    after = {t["id"]: t for t in stored(world, Touch)}
    for touch in named:
        campaign = campaigns[after[touch["id"]]["campaign_id"]]
        assert campaign["name"] == touch["detail"]["utm_campaign"]
        assert campaign["system"] == "salesforce"  # the seeded UTM values name Salesforce campaigns
    # HubSpot email campaigns named like a Salesforce campaign: their touches now point at it.
    for touch in emails:
        assert campaigns[after[touch["id"]]["campaign_id"]]["system"] == "salesforce"
    assert summary.counts.get("touches.linked", 0) + summary.counts.get("touches.relinked", 0) >= len(named)

    # A touch naming a campaign nobody has gets a campaign of its own, once.
    again = run(world, flow(world))
    assert again.counts.get("touches.linked", 0) == 0


def test_injected_faults_lose_nothing(world: World) -> None:
    world.post(
        "salesforce",
        "/__sandbox/faults",
        {"path": "/composite$", "kind": "status", "status": 503, "count": 20},
    )
    failed = run(world, flow(world), ok=False)
    assert failed.status == "failed"
    world.get("salesforce", "/__sandbox/health")
    response = world._client("salesforce").delete("/__sandbox/faults")
    assert response.status_code < 300
    world.post(
        "salesforce",
        "/__sandbox/faults",
        {"path": "/query", "kind": "reset", "probability": 0.3},
    )

    run(world, flow(world))
    response = world._client("salesforce").delete("/__sandbox/faults")
    assert response.status_code < 300

    assert member_keys(world) == expected_member_keys(world)
    assert {c["external_id"] for c in stored(world, Campaign) if c["system"] == "salesforce"} == {
        c["Id"] for c in world.records("Campaign")
    }
