"""Seeds the portal's deals from the shared deal population: stages with their entry dates, contacts, company.

Deals take the ids the population gives them, so the Opportunities of deals in both systems can carry
them. `hs_date_entered_<stage>` holds the instant each stage was (last) entered, as HubSpot keeps it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time

from connectors.hubspot.sandbox.store import CrmStore
from connectors.hubspot.sandbox.values import iso_ms
from connectors.sandbox_core.deals import SeedDeal
from connectors.sandbox_core.population import Population

# The generic stage ladder in the default pipeline's stage ids.
STAGE_IDS: Mapping[str, str] = {
    "discovery": "appointmentscheduled",
    "qualification": "qualifiedtobuy",
    "solution": "presentationscheduled",
    "decision": "decisionmakerboughtin",
    "proposal": "contractsent",
    "won": "closedwon",
    "lost": "closedlost",
}
_DEAL_TO_CONTACT, _DEAL_TO_COMPANY = 3, 341


def seed_deals(
    store: CrmStore,
    population: Population,
    deals: tuple[SeedDeal, ...],
    *,
    contacts: Mapping[int, int],
    companies: Mapping[str, int],
    owner_id: Callable[[int], str],
) -> int:
    """Insert the deals of `deals` that live in HubSpot, associated with their contacts (those HubSpot
    holds) and the buyer's company; returns how many were inserted. `contacts` are contact ids by person
    key, `companies` company ids by domain, `owner_id` the owner id of a population owner key."""
    people = {person.key: person for person in population.people}
    inserted = 0
    for deal in deals:
        buyer = people[deal.contacts[0].person_key]
        if not deal.in_hubspot or buyer.key not in contacts:
            continue
        members = [contacts[c.person_key] for c in deal.contacts if c.person_key in contacts]
        buyer_contact = store.table("contacts").records[contacts[buyer.key]]
        # An open deal's expected close is a day (midnight UTC); a closed one closed at an instant.
        closes = deal.closed_at or datetime.combine(deal.close_date, time(0), tzinfo=UTC)
        values: dict[str, str | None] = {
            "dealname": deal.name,
            "dealstage": STAGE_IDS[deal.stage],
            "pipeline": "default",
            "amount": str(int(deal.amount)),
            "closedate": iso_ms(closes),
            "dealtype": "newbusiness",
            "hubspot_owner_id": owner_id(deal.owner_key),
            "hs_analytics_source": buyer_contact.properties.get("hs_analytics_source"),
            "num_associated_contacts": str(len(members)),
        }
        for step, entered in deal.visits:
            values[f"hs_date_entered_{STAGE_IDS[step]}"] = iso_ms(entered)
        record = store.insert(
            "deals", values, created_at=deal.created_at, seeded=True, record_id=deal.hubspot_id
        )
        store.amend_seeded(record, {"hs_lastmodifieddate": iso_ms(deal.modified_at)})
        for contact_id in members:
            store.associate("deals", record.id, "contacts", contact_id, _DEAL_TO_CONTACT, seeded=True)
        company = companies.get(buyer.domain)
        if company is not None:
            store.associate("deals", record.id, "companies", company, _DEAL_TO_COMPANY, seeded=True)
        inserted += 1
    return inserted
