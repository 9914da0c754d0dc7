"""Seeds the org's Opportunities from the shared deal population: contact roles and stage history included.

A deal that is also in HubSpot carries the HubSpot deal's id in `HubSpot_Deal_Id__c`, as an earlier
integration would have left it. Each stage visit is an OpportunityHistory row at the instant it was entered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from connectors.salesforce.sandbox.schema import OPPORTUNITY_STAGES
from connectors.salesforce.sandbox.store import Record, sf_datetime
from connectors.salesforce.sandbox.writes import history_row
from connectors.sandbox_core.deals import SeedDeal

# The generic stage ladder in a default org's StageName values.
STAGE_NAMES: Mapping[str, str] = {
    "discovery": "Prospecting",
    "qualification": "Qualification",
    "solution": "Value Proposition",
    "decision": "Id. Decision Makers",
    "proposal": "Proposal/Price Quote",
    "won": "Closed Won",
    "lost": "Closed Lost",
}

# (sobject, created, modified, created by, **values) -> the stored record (the seeder's `_record`).
MakeRecord = Callable[..., Record]


def seed_opportunities(
    make: MakeRecord,
    deals: tuple[SeedDeal, ...],
    *,
    contacts: Mapping[int, Record],
    campaigns: Mapping[int, str],
    owners: Mapping[int, str],
    fallback_owner: str,
    new_id: Callable[[str], str],
    put: Callable[[str, Record], None],
) -> int:
    """Create the Opportunities of `deals` that live in Salesforce; returns how many were created.

    `contacts` are Salesforce Contacts by person key (a deal whose buyer has none is skipped),
    `campaigns` Campaign ids by population key, `owners` User ids by owner key."""
    created = 0
    for deal in deals:
        primary = contacts.get(deal.contacts[0].person_key) if deal.in_salesforce else None
        if primary is None:
            continue
        owner = owners.get(deal.owner_key) or fallback_owner
        stage = STAGE_NAMES[deal.stage]
        probability, closed, won, forecast = OPPORTUNITY_STAGES[stage]
        values: dict[str, Any] = {
            "AccountId": primary["AccountId"],
            "Name": deal.name,
            "StageName": stage,
            "Amount": float(deal.amount),
            "Probability": probability,
            "IsClosed": closed,
            "IsWon": won,
            "ForecastCategoryName": forecast,
            "CloseDate": deal.close_date.isoformat(),
            "CampaignId": campaigns.get(deal.campaign_key) if deal.campaign_key is not None else None,
            "ContactId": primary["Id"],
            "OwnerId": owner,
            "Type": "New Customer",
            "LeadSource": primary.get("LeadSource"),
            "HubSpot_Deal_Id__c": str(deal.hubspot_id) if deal.in_hubspot else None,
        }
        opportunity = make("Opportunity", deal.created_at, deal.modified_at, owner, **values)
        created += 1
        _history(opportunity, deal, owner, new_id, put)
        for member in deal.contacts:
            contact = contacts.get(member.person_key)
            if contact is None:
                continue  # only Contacts can have contact roles
            make(
                "OpportunityContactRole",
                deal.created_at,
                deal.created_at,
                owner,
                OpportunityId=opportunity["Id"],
                ContactId=contact["Id"],
                Role=member.role,
                IsPrimary=member.primary,
            )
    return created


def _history(
    opportunity: Record,
    deal: SeedDeal,
    owner: str,
    new_id: Callable[[str], str],
    put: Callable[[str, Record], None],
) -> None:
    """One history row per stage visit, as the platform wrote them when the rep moved the deal."""
    for step, entered in deal.visits:
        stage = STAGE_NAMES[step]
        as_then = dict(opportunity, StageName=stage, Probability=OPPORTUNITY_STAGES[stage][0])
        as_then["SystemModstamp"] = sf_datetime(_whole_seconds(entered))
        put("OpportunityHistory", history_row(new_id("008"), as_then, owner))


def _whole_seconds(when: datetime) -> datetime:
    return when.replace(microsecond=0)
