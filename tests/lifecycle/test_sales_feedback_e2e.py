"""Sales feedback reaches marketing: a rep disqualifying a Lead in Salesforce shows the Lead Status and the
reason on the HubSpot contact after one contacts cycle (the shipped mapping, through the real SDKs)."""

from __future__ import annotations

from tests.e2e_campaigns.world import World


def test_a_disqualified_lead_shows_its_status_and_reason_in_hubspot(world: World) -> None:
    world.sync_contacts()
    linked = world.linked("salesforce")
    hubspot_of = {person: contact for contact, person in world.linked("hubspot").items()}
    lead = next(
        r
        for r in world.records("Lead")
        if r["Id"] in linked and not r.get("IsConverted") and linked[r["Id"]] in hubspot_of
    )
    contact_id = hubspot_of[linked[lead["Id"]]]

    world.post("salesforce", "/__sandbox/settings", {"disqualification_rule": True})
    world.let_time_pass(300)
    edited = world.post(
        "salesforce",
        f"/__sandbox/records/Lead/{lead['Id']}/edit",
        {"fields": {"Status": "Closed - Not Converted", "Disqualification_Reason__c": "No Budget"}},
    )
    assert edited["success"], edited
    world.sync_contacts()

    contact = next(c for c in world.snapshot("hubspot")["objects"]["contacts"] if c["id"] == contact_id)
    properties = contact["properties"]
    assert properties["salesforce_lead_status"] == "Closed - Not Converted"
    assert properties["salesforce_disqualification_reason"] == "No Budget"
    # HubSpot's own lifecycle stage is left as it was (stages only move forward).
    assert properties["lifecyclestage"]

    # With the org's validation rule on, a Lead closed as not converted keeps its reason.
    refused = world.post(
        "salesforce",
        f"/__sandbox/records/Lead/{lead['Id']}/edit",
        {"fields": {"Disqualification_Reason__c": None}},
    )
    assert not refused["success"]
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in str(refused["errors"])
