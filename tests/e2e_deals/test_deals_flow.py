"""HubSpot deals and Salesforce Opportunities kept in step through the real clients, on both backends."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from syncd.connector import Write
from syncd.deals import Association
from syncd.engine.deal_store import DealStore
from syncd.engine.deals import DealFlow, DealSettings

from .conftest import World

LINK_HS, LINK_SF = "salesforce_opportunity_id", "HubSpot_Deal_Id__c"
WRITES = ("/batch/create", "/batch/update", "/batch/upsert", "/batch/archive", "composite/sobjects")


def _writes(counters: dict[str, int]) -> dict[str, int]:
    """Endpoints that change data (collection retrieves are reads and use POST too)."""
    return {
        k: n
        for k, n in counters.items()
        if any(w in k for w in WRITES)
        and not k.startswith("POST /services/data/v{version}/composite/sobjects/{")
    }


def _synced(world: World, flow: DealFlow | None = None) -> dict[str, Any]:
    """One deals cycle that must succeed."""
    summary = world.run(flow or world.deals())
    assert summary.status == "succeeded", summary.error
    return summary.counts


def _pairs(world: World) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    deals = {d["id"]: d for d in world.hubspot_deals()}
    return [(deals[o[LINK_SF]], o) for o in world.opportunities() if o.get(LINK_SF) in deals]


def test_first_sync_links_and_creates_both_ways_without_duplicates(world: World) -> None:
    hubspot_before, salesforce_before = world.hubspot_deals(), world.opportunities()
    linked_before = {o[LINK_SF] for o in salesforce_before if o.get(LINK_SF)}
    counts = _synced(world)

    deals, opportunities = world.hubspot_deals(), world.opportunities()
    expected = len(hubspot_before) + len(salesforce_before) - len(linked_before)
    assert len(deals) == len(opportunities) == expected
    assert counts["hubspot.created"] == len(salesforce_before) - len(linked_before)
    assert counts["salesforce.created"] == len(hubspot_before) - len(linked_before)
    # Each side holds the other's id, once.
    assert Counter(d["properties"][LINK_HS] for d in deals).most_common(1)[0][1] == 1
    assert {d["properties"][LINK_HS] for d in deals} == {o["Id"] for o in opportunities}
    assert {o[LINK_SF] for o in opportunities} == {d["id"] for d in deals}
    stored = world.store_deals()
    assert len(stored) == expected
    assert {(s.hubspot_id, s.salesforce_id) for s in stored} == {(o[LINK_SF], o["Id"]) for o in opportunities}
    # The deals row follows the Opportunity: stage, amount, won/lost.
    by_id = {o["Id"]: o for o in opportunities}
    for row in stored:
        opportunity = by_id[row.salesforce_id]
        assert (row.stage, row.is_closed, row.is_won) == (
            opportunity["StageName"],
            opportunity["IsClosed"],
            opportunity["IsWon"],
        )
        assert float(row.amount or 0) == float(opportunity["Amount"] or 0)
        assert (row.closed_at is not None) == row.is_closed
    # Stages and names agree on both sides through the stage map.
    for deal, opportunity in _pairs(world):
        assert deal["properties"]["dealname"] == opportunity["Name"]
        won = deal["properties"]["hs_is_closed_won"] == "true"
        assert won == opportunity["IsWon"]


def test_a_second_cycle_writes_nothing_and_an_idle_one_costs_one_call_per_system(world: World) -> None:
    flow = world.deals()
    _synced(world, flow)
    world.reset_counters()
    counts = _synced(world, flow)
    assert not [k for k in counts if k.endswith((".created", ".updated", "associated", "_created"))]
    assert _writes(world.counters("hubspot")) == {} and _writes(world.counters("salesforce")) == {}
    world.reset_counters()
    _synced(world, flow)
    assert world.calls("salesforce") == 1  # Opportunity, roles and history in one Composite call
    assert world.calls("hubspot") == 1  # one deals search


def test_an_opportunity_won_in_salesforce_is_closed_won_in_hubspot_and_in_the_store(world: World) -> None:
    _synced(world)
    with_roles = {r["OpportunityId"] for r in _roles(world) if r["IsPrimary"]}
    deal, opportunity = next((d, o) for d, o in _pairs(world) if not o["IsClosed"] and o["Id"] in with_roles)
    world.let_time_pass(5)
    moved = world.post(
        "salesforce", f"/__sandbox/opportunities/{opportunity['Id']}/stage", {"stage": "Closed Won"}
    )
    counts = _synced(world)

    hubspot = next(d for d in world.hubspot_deals() if d["id"] == deal["id"])
    assert hubspot["properties"]["dealstage"] == "closedwon"
    assert hubspot["properties"]["hs_is_closed_won"] == "true"
    assert counts["hubspot.updated"] >= 1
    row = next(r for r in world.store_deals() if r.salesforce_id == opportunity["Id"])
    assert (row.stage, row.is_closed, row.is_won) == ("Closed Won", True, True)
    won_at = datetime.fromisoformat(moved["SystemModstamp"])
    assert row.closed_at == won_at
    history = sorted((h.entered_at, h.stage) for h in world.history() if h.deal_id == row.id)
    assert history[-1] == (won_at, "Closed Won")
    assert len([s for _, s in history if s == "Closed Won"]) == 1  # HubSpot's echo is no new visit
    roles = [r for r in _roles(world) if r["OpportunityId"] == opportunity["Id"]]
    contacts = [c for c in world.deal_contacts() if c.deal_id == row.id]
    assert {c.salesforce_id for c in contacts if c.salesforce_id} == {r["Id"] for r in roles}
    primary = next(r for r in roles if r["IsPrimary"])
    assert [c.salesforce_id for c in contacts if c.is_primary] == [primary["Id"]]
    # The second cycle carries nothing back.
    world.reset_counters()
    _synced(world)
    assert _writes(world.counters("hubspot")) == {} and _writes(world.counters("salesforce")) == {}


def test_a_hubspot_stage_change_crosses_once(world: World) -> None:
    _synced(world)
    deal, opportunity = next((d, o) for d, o in _pairs(world) if not o["IsClosed"])
    world.post("hubspot", f"/__sandbox/deals/{deal['id']}/stage", {"stage": "contractsent"})
    world.reset_counters()
    counts = _synced(world)
    assert counts["salesforce.updated"] == 1
    after = next(o for o in world.opportunities() if o["Id"] == opportunity["Id"])
    assert after["StageName"] == "Proposal/Price Quote"
    row = next(r for r in world.store_deals() if r.hubspot_id == deal["id"])
    assert row.stage == "Proposal/Price Quote"
    entries = [h for h in world.history() if h.deal_id == row.id and h.stage == "Proposal/Price Quote"]
    assert [h.source_system for h in entries] == ["hubspot"]
    world.reset_counters()
    _synced(world)
    assert _writes(world.counters("hubspot")) == {} and _writes(world.counters("salesforce")) == {}


def test_conflicting_edits_follow_each_fields_rule(world: World) -> None:
    _synced(world)
    deal, opportunity = next((d, o) for d, o in _pairs(world) if not o["IsClosed"])
    # amount: prefer_crm_unless_blank, so Salesforce's value wins; name: two_way, so the later edit wins.
    world.post(
        "hubspot",
        f"/__sandbox/objects/deals/{deal['id']}/properties",
        {"properties": {"amount": "111", "dealname": "Edited in HubSpot"}},
    )
    world.let_time_pass(5)
    world.post(
        "salesforce",
        f"/__sandbox/records/Opportunity/{opportunity['Id']}/edit",
        {"fields": {"Amount": 222, "Name": "Edited in Salesforce"}},
    )
    _synced(world)
    hubspot = next(d for d in world.hubspot_deals() if d["id"] == deal["id"])
    salesforce = next(o for o in world.opportunities() if o["Id"] == opportunity["Id"])
    assert float(hubspot["properties"]["amount"]) == salesforce["Amount"] == 222
    assert hubspot["properties"]["dealname"] == salesforce["Name"] == "Edited in Salesforce"
    world.reset_counters()
    _synced(world)
    assert _writes(world.counters("hubspot")) == {} and _writes(world.counters("salesforce")) == {}


def test_injected_faults_and_a_crash_replay_without_duplicates(world: World, monkeypatch: Any) -> None:
    hubspot_before, salesforce_before = world.hubspot_deals(), world.opportunities()
    linked = {o[LINK_SF] for o in salesforce_before if o.get(LINK_SF)}
    expected = len(hubspot_before) + len(salesforce_before) - len(linked)
    # Creates fail after landing (the answer is lost) and reads fail transiently.
    world.fault("hubspot", path="/crm/v3/objects/deals/batch/upsert", kind="status", status=502, count=1)
    world.fault("salesforce", path="/composite/sobjects/Opportunity/", kind="reset", count=1)
    world.fault("hubspot", path="/crm/v3/objects/deals/search", kind="status", status=503, count=2)
    # A crash after the writes of the first page landed, before they were recorded.
    original = DealStore.record
    crashed = {"done": False}

    def crash_once(self: DealStore, run_id: int, page: Any, now: datetime) -> dict[str, int]:
        if page.deals and not crashed["done"]:
            crashed["done"] = True
            raise RuntimeError("the process died here")
        return original(self, run_id, page, now)

    monkeypatch.setattr(DealStore, "record", crash_once)
    for _ in range(4):
        summary = world.run(world.deals())
        if summary.status == "succeeded" and crashed["done"]:
            break
    assert crashed["done"]
    # Every injected fault fired.
    assert world.get("hubspot", "/__sandbox/faults")["faults"] == []
    assert world.get("salesforce", "/__sandbox/faults")["faults"] == []
    summary = world.run(world.deals())
    assert summary.status == "succeeded", summary.error
    deals, opportunities = world.hubspot_deals(), world.opportunities()
    assert len(deals) == len(opportunities) == len(world.store_deals()) == expected
    assert len({d["properties"][LINK_HS] for d in deals}) == expected
    world.reset_counters()
    _synced(world)
    assert _writes(world.counters("hubspot")) == {} and _writes(world.counters("salesforce")) == {}


def test_contacts_added_on_either_side_appear_on_the_other(world: World) -> None:
    _synced(world)
    deal, opportunity = next((d, o) for d, o in _pairs(world) if not o["IsClosed"])
    contacts = {i.person_id: i.external_id for i in world.identities() if i.object == "Contact"}
    in_hubspot = {i.person_id: i.external_id for i in world.identities() if i.system == "hubspot"}
    row = next(r for r in world.store_deals() if r.salesforce_id == opportunity["Id"])
    on_deal = {c.person_id for c in world.deal_contacts() if c.deal_id == row.id}
    person = next(p for p in sorted(contacts) if p in in_hubspot and p not in on_deal)
    # A rep adds a contact role in Salesforce: HubSpot associates the contact with the deal.
    role = _create_role(world, opportunity["Id"], contacts[person])
    _synced(world)
    assert in_hubspot[person] in _associated(world, deal["id"])
    stored = {c.person_id: c for c in world.deal_contacts() if c.deal_id == row.id}
    assert stored[person].salesforce_id == role and stored[person].in_hubspot
    assert not stored[person].is_primary  # the primary role stays where Salesforce has it
    # A marketer removes the contact from the deal in HubSpot: the role goes too.
    _dissociate(world, deal["id"], in_hubspot[person])
    _synced(world)
    live = {
        r["Id"]
        for r in world.snapshot("salesforce")["objects"]["OpportunityContactRole"]
        if not r["IsDeleted"]
    }
    assert role not in live
    assert person not in {c.person_id for c in world.deal_contacts() if c.deal_id == row.id}


def test_a_contact_associated_in_hubspot_becomes_a_role_unless_they_are_a_lead(world: World) -> None:
    _synced(world)
    deal, opportunity = next((d, o) for d, o in _pairs(world) if not o["IsClosed"])
    people = {}
    for identity in world.identities():
        people.setdefault(identity.person_id, {})[identity.object] = identity.external_id
    row = next(r for r in world.store_deals() if r.salesforce_id == opportunity["Id"])
    on_deal = {c.person_id for c in world.deal_contacts() if c.deal_id == row.id}
    contact = next(
        p for p, ids in sorted(people.items()) if "contacts" in ids and "Contact" in ids and p not in on_deal
    )
    lead = next(
        p for p, ids in sorted(people.items()) if "contacts" in ids and set(ids) == {"contacts", "Lead"}
    )
    _associate(world, deal["id"], people[contact]["contacts"])
    _associate(world, deal["id"], people[lead]["contacts"])
    _synced(world)
    roles = [
        r
        for r in world.snapshot("salesforce")["objects"]["OpportunityContactRole"]
        if r["OpportunityId"] == opportunity["Id"] and not r["IsDeleted"]
    ]
    assert people[contact]["Contact"] in {r["ContactId"] for r in roles}
    assert sum(r["IsPrimary"] for r in roles) == 1  # the existing primary role is kept
    waiting = [i for i in world.issues() if i.record_key == f"role:{deal['id']}:{lead}"]
    assert waiting and "is a Salesforce Lead" in waiting[0].message
    stored = {c.person_id: c for c in world.deal_contacts() if c.deal_id == row.id}
    assert stored[lead].in_hubspot and stored[lead].salesforce_id is None


def test_a_record_salesforce_refuses_is_quarantined_naming_the_mapping_line(world: World) -> None:
    _synced(world)
    # A HubSpot deal without a close date: Salesforce requires CloseDate on an Opportunity.
    created = _create_hubspot_deal(
        world, {"dealname": "No close date", "dealstage": "qualifiedtobuy", "pipeline": "default"}
    )
    counts = _synced(world)
    assert counts.get("quarantined", 0) >= 1
    issue = next(i for i in world.issues() if i.record_key == created)
    assert "REQUIRED_FIELD_MISSING" in issue.message and "CloseDate" in issue.message
    assert "mappings/deals.yaml:" in issue.message and "'close_date'" in issue.message
    # The deal is in the store anyway (HubSpot-only), and every other deal is in step.
    assert len(world.store_deals()) == len(world.opportunities()) + 1


def test_a_dry_run_plans_without_writing(world: World) -> None:
    before = (len(world.hubspot_deals()), len(world.opportunities()))
    summary = world.run(world.deals(DealSettings(dry_run=True)))
    assert summary.status == "succeeded", summary.error
    assert summary.planned
    assert (len(world.hubspot_deals()), len(world.opportunities())) == before
    assert world.store_deals() == []


# --- helpers -------------------------------------------------------------------------------


def _roles(world: World) -> list[dict[str, Any]]:
    roles: list[dict[str, Any]] = world.snapshot("salesforce")["objects"]["OpportunityContactRole"]
    return [r for r in roles if not r["IsDeleted"]]


def _create_role(world: World, opportunity: str, contact: str) -> str:
    assert world.runtime is not None
    fields = {"OpportunityId": opportunity, "ContactId": contact, "Role": "Evaluator"}
    [result] = world.runtime.salesforce.push("OpportunityContactRole", [Write("create", "role", fields)])
    assert result.ok and result.id, result.error
    return result.id


def _associated(world: World, deal: str) -> set[str]:
    assert world.runtime is not None
    return {a.to_id for a in world.runtime.hubspot.associations("deals", "contacts", [deal])}


def _associate(world: World, deal: str, contact: str) -> None:
    assert world.runtime is not None
    assert world.runtime.hubspot.associate("deals", "contacts", [Association(deal, contact)], 3) == []


def _dissociate(world: World, deal: str, contact: str) -> None:
    assert world.runtime is not None
    world.runtime.hubspot.dissociate("deals", "contacts", [Association(deal, contact)])


def _create_hubspot_deal(world: World, properties: dict[str, str]) -> str:
    assert world.runtime is not None
    [result] = world.runtime.hubspot.push("deals", [Write("create", "new", properties)])
    assert result.ok and result.id, result.error
    return result.id
