"""Opportunities in the Salesforce simulator through simple-salesforce: the stage history the platform
keeps, seeded deals shared with HubSpot, and the control plane's stage move."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

from connectors.salesforce.sandbox.sandbox import SalesforceSandbox
from connectors.sandbox_core.deals import build_deals
from connectors.sandbox_core.population import build_population
from tests.connectors.salesforce_sandbox.conftest import control


def _history(sf: Salesforce, opportunity: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = sf.query_all(
        "SELECT StageName, Amount, CloseDate, CreatedDate FROM OpportunityHistory "
        f"WHERE OpportunityId = '{opportunity}' ORDER BY CreatedDate, Id"
    )["records"]
    return rows


def test_saving_an_opportunity_writes_its_stage_history(sf: Salesforce) -> None:
    opportunity = sf.Opportunity.create(
        {"Name": "History", "StageName": "Prospecting", "CloseDate": "2026-12-01"}
    )["id"]
    sf.Opportunity.update(opportunity, {"Description": "no history for this"})
    sf.Opportunity.update(opportunity, {"StageName": "Closed Won"})
    sf.Opportunity.update(opportunity, {"Amount": 900})
    history = _history(sf, opportunity)
    assert [(h["StageName"], h["Amount"]) for h in history] == [
        ("Prospecting", None),
        ("Closed Won", None),
        ("Closed Won", 900.0),
    ]
    won = sf.Opportunity.get(opportunity)
    assert won["IsWon"] and won["IsClosed"]
    assert history[1]["CreatedDate"] <= won["SystemModstamp"]


def test_the_history_is_read_only(sf: Salesforce) -> None:
    with pytest.raises(SalesforceError):
        sf.OpportunityHistory.create({"StageName": "Prospecting"})


def test_the_control_plane_moves_an_opportunity_as_a_rep_would(
    sandbox: SalesforceSandbox, sf: Salesforce
) -> None:
    opportunity = sf.Opportunity.create(
        {"Name": "Rep move", "StageName": "Qualification", "CloseDate": "2026-12-01"}
    )["id"]
    moved = control(sandbox, "POST", f"/opportunities/{opportunity}/stage", json={"stage": "Closed Lost"})
    assert moved["success"] is True
    after = sf.Opportunity.get(opportunity)
    assert (after["StageName"], after["IsClosed"], after["IsWon"]) == ("Closed Lost", True, False)
    assert _history(sf, opportunity)[-1]["CreatedDate"] == moved["SystemModstamp"]


def test_seeded_opportunities_follow_the_shared_deal_population(sandbox: SalesforceSandbox) -> None:
    org = sandbox.state
    snapshot = control(sandbox, "GET", "/snapshot")
    # Which deals exist and who holds them does not depend on the instant the org was seeded.
    seeded = [
        d for d in build_deals(build_population(org.seed, org.people, now=org.clock.now())) if d.in_salesforce
    ]
    opportunities = [o for o in snapshot["objects"]["Opportunity"] if o.get("CreatedById") != org.api_user_id]
    expected = {(d.name, str(d.hubspot_id) if d.in_hubspot else None) for d in seeded}
    assert {(o["Name"], o["HubSpot_Deal_Id__c"]) for o in opportunities} == expected
    assert any(o["HubSpot_Deal_Id__c"] for o in opportunities) and any(
        not o["HubSpot_Deal_Id__c"] for o in opportunities
    )
    visits = {}
    for row in snapshot["objects"]["OpportunityHistory"]:
        visits.setdefault(row["OpportunityId"], []).append(row["StageName"])
    for opportunity in opportunities:
        assert visits[opportunity["Id"]][-1] == opportunity["StageName"]
