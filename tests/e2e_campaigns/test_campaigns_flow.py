"""Salesforce campaigns, members and costs into the store through the real SDK against the simulator."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from syncd.cli.compose_campaigns import campaign_flow
from syncd.connector import Write
from syncd.engine.campaigns import CampaignFlow, CampaignSettings
from syncd.engine.runs import RunSummary
from syncd.store.models import Campaign, CampaignMember, Cost, Issue, Touch

from .world import Never, World


def run(world: World, flow: CampaignFlow) -> RunSummary:
    world.let_time_pass(11)
    summary = flow.run("once", Never())
    assert summary.status == "succeeded", summary.error
    return summary


def flow(world: World, settings: CampaignSettings | None = None) -> CampaignFlow:
    assert world.runtime is not None
    return campaign_flow(world.runtime, settings, clock=world.clock.now)


def stored(world: World, model: Any) -> list[Any]:
    with world.store.connect() as conn:
        return list(conn.execute(select(model.__table__)).mappings())


def members_in_salesforce(world: World) -> dict[str, dict[str, Any]]:
    return {m["Id"]: m for m in world.records("CampaignMember")}


def test_campaigns_their_hierarchy_costs_and_members_arrive_once(world: World) -> None:
    summary = run(world, flow(world))

    sf_campaigns = {c["Id"]: c for c in world.records("Campaign")}
    campaigns = {c["external_id"]: c for c in stored(world, Campaign) if c["system"] == "salesforce"}
    assert set(campaigns) == set(sf_campaigns)
    by_id = {c["id"]: c for c in campaigns.values()}
    for external_id, row in campaigns.items():
        source = sf_campaigns[external_id]
        assert (row["name"], row["type"], row["status"]) == (source["Name"], source["Type"], source["Status"])
        assert row["start_date"].isoformat() == source["StartDate"]
        assert row["actual_cost"] == Decimal(str(source["ActualCost"])).quantize(Decimal("0.01"))
        parent = by_id[row["parent_id"]]["external_id"] if row["parent_id"] else None
        assert parent == source["ParentId"]
    assert {c["channel"] for c in campaigns.values()} >= {"email", "paid_search", "webinar", "event"}
    assert sum(1 for c in campaigns.values() if c["parent_id"]) >= 5

    costs = stored(world, Cost)
    assert {c["source_key"] for c in costs} == set(sf_campaigns)
    assert all(c["source"] == "salesforce_campaign" and c["campaign_id"] for c in costs)

    linked = world.linked("salesforce")
    members = stored(world, CampaignMember)
    expected = {
        m["Id"]: m
        for m in members_in_salesforce(world).values()
        if (m.get("ContactId") and m["ContactId"] in linked) or (m.get("LeadId") and m["LeadId"] in linked)
    }
    assert len(expected) > 10
    assert {m["external_id"] for m in members} <= set(expected)
    campaign_of = {c["id"]: c["external_id"] for c in campaigns.values()}
    assert {(campaign_of[m["campaign_id"]], m["person_id"]) for m in members} == {
        (m["CampaignId"], linked.get(m.get("ContactId") or "") or linked[m["LeadId"]])
        for m in expected.values()
    }
    # A person who is a member as a Lead and as a Contact is one row.
    assert len(members) == len({(m["campaign_id"], m["person_id"]) for m in members})
    responded = [m for m in members if m["has_responded"]]
    assert responded and all(m["first_responded_at"] is not None for m in responded)
    touches = [t for t in stored(world, Touch) if t["kind"] == "campaign_response"]
    assert {t["source_event_id"] for t in touches} == {m["external_id"] for m in responded}
    assert all(t["channel"] and t["campaign_id"] for t in touches)
    assert summary.counts.get("campaigns", 0) == len(sf_campaigns)


def test_a_rerun_writes_nothing_and_an_idle_cycle_costs_one_salesforce_call(world: World) -> None:
    campaigns = flow(world)
    run(world, campaigns)
    before = {m: stored(world, m) for m in (Campaign, CampaignMember, Cost, Touch)}
    world.let_time_pass(120)  # past the re-read window
    run(world, campaigns)
    world.reset_counters()

    idle = run(world, campaigns)

    assert {m: stored(world, m) for m in before} == before
    assert world.calls("salesforce") == 1
    assert world.calls("hubspot") == 0
    assert idle.api_calls == {"salesforce": 1, "hubspot": 0}
    assert idle.counts.get("salesforce.read", 0) == 0


def test_changes_in_salesforce_arrive_on_the_next_run(world: World) -> None:
    campaigns = flow(world)
    run(world, campaigns)
    target = next(c for c in world.records("Campaign") if c.get("ParentId"))
    world.post(
        "salesforce",
        f"/__sandbox/records/Campaign/{target['Id']}/edit",
        {"fields": {"ActualCost": 12345.67, "Name": "Renamed campaign"}},
    )
    linked = world.linked("salesforce")
    member = next(
        m
        for m in members_in_salesforce(world).values()
        if not m["HasResponded"] and (m.get("LeadId") in linked or m.get("ContactId") in linked)
    )
    world.post(
        "salesforce",
        f"/__sandbox/records/CampaignMember/{member['Id']}/edit",
        {"fields": {"Status": "Responded"}},
    )
    world.let_time_pass(120)

    run(world, campaigns)

    cost = next(c for c in stored(world, Cost) if c["source_key"] == target["Id"])
    assert cost["amount"] == Decimal("12345.67")
    assert (
        next(c for c in stored(world, Campaign) if c["external_id"] == target["Id"])["name"]
        == "Renamed campaign"
    )
    row = next(m for m in stored(world, CampaignMember) if m["external_id"] == member["Id"])
    assert row["has_responded"] and row["status"] == "Responded"
    touch = next(t for t in stored(world, Touch) if t["source_event_id"] == member["Id"])
    assert touch["occurred_at"].date() == world.clock.now().date()


def test_members_of_people_not_linked_yet_wait_and_arrive_once_linked(world: World) -> None:
    # A rep adds a brand-new Lead to a campaign before the contacts flow has seen the Lead.
    assert world.runtime is not None
    salesforce = world.runtime.salesforce
    lead = salesforce.push(
        "Lead",
        [Write("create", "l1", {"LastName": "Newman", "Company": "Acme", "Email": "newman@acme.example"})],
    )[0]
    assert lead.ok and lead.id
    campaign = world.records("Campaign")[0]
    member = salesforce.push(
        "CampaignMember",
        [Write("create", "m1", {"CampaignId": campaign["Id"], "LeadId": lead.id, "Status": "Responded"})],
    )[0]
    assert member.ok and member.id
    campaigns = flow(world)

    run(world, campaigns)

    waiting = {i["record_key"]: i for i in stored(world, Issue) if i["status"] == "open"}
    assert "waits for its person" in waiting[member.id]["message"]
    assert member.id not in {m["external_id"] for m in stored(world, CampaignMember)}

    world.sync_contacts()
    run(world, campaigns)

    row = next(m for m in stored(world, CampaignMember) if m["external_id"] == member.id)
    assert row["person_id"] == world.person_of("salesforce", lead.id)
    assert row["has_responded"]
    issue = next(i for i in stored(world, Issue) if i["record_key"] == member.id)
    assert issue["status"] == "resolved"


def test_the_configured_flow_is_built_from_its_settings_and_the_channels_section(
    world: World, tmp_path: Path
) -> None:
    from syncd.cli.flows import build_flows
    from syncd.config.channels import ChannelsConfig
    from syncd.config.flows import CampaignsFlowConfig

    assert world.runtime is not None
    costs = tmp_path / "costs.csv"
    costs.write_text(
        "channel,period_start,period_end,amount\nevents,2026-01-01,2026-01-31,50\n", encoding="utf-8"
    )
    config = CampaignsFlowConfig.model_validate({"cost_file": str(costs), "response_touches": False})
    channels = ChannelsConfig.model_validate({"rules": [{"campaign_type": "*", "channel": "campaigns"}]})
    world.runtime.config = SimpleNamespace(channels=channels)  # type: ignore[assignment]
    built = build_flows(world.runtime, {"campaigns": config})["campaigns"]
    world.let_time_pass(11)

    summary = built.run("once", Never())

    assert summary.status == "succeeded", summary.error
    assert {c["channel"] for c in stored(world, Campaign) if c["system"] == "salesforce"} == {"campaigns"}
    assert not [t for t in stored(world, Touch) if t["kind"] == "campaign_response"]
    assert [c["amount"] for c in stored(world, Cost) if c["source"] == "cost_file"] == [Decimal("50.00")]


def test_a_dry_run_reads_and_plans_but_writes_nothing(world: World) -> None:
    dry = flow(world, CampaignSettings(dry_run=True))

    summary = run(world, dry)

    assert summary.run_id is None
    assert summary.planned["store campaigns (new or changed)"] == len(world.records("Campaign"))
    assert summary.planned["store campaign members (new or changed)"] > 10
    assert stored(world, Campaign) == [] and stored(world, CampaignMember) == [] and stored(world, Cost) == []
