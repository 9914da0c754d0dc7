"""The default contacts mapping driving the pure core: plans per object, match policy, create and merge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from mapping_schemas import CONTACTS_YAML

from syncd.core.convert import TransformError
from syncd.core.issues import RecordRef
from syncd.core.match import Decision, IdentityLink, PersonRecord, match_page
from syncd.core.resolve import FieldBase, SideState, resolve
from syncd.core.rules import Side, SurvivorRule
from syncd.mapping import (
    FlowMapping,
    Owner,
    field_plans,
    load_mapping,
    map_owners,
    match_policy,
    parse_mapping,
    translate,
)

T0 = datetime(2024, 5, 1, tzinfo=UTC)
REF = RecordRef("hubspot", "contacts", "1")


@pytest.fixture(scope="module")
def mapping() -> FlowMapping:
    return load_mapping(CONTACTS_YAML, display="mappings/contacts.yaml")


OWNERS = map_owners([Owner("h1", "ann@corp.com")], [Owner("005A", "ann@corp.com")])


def test_lead_and_contact_get_their_own_field_names(mapping: FlowMapping) -> None:
    lead = {p.name: p.crm_field for p in field_plans(mapping, "Lead", OWNERS)}
    contact = {p.name: p.crm_field for p in field_plans(mapping, "Contact", OWNERS)}
    assert (lead["city"], contact["city"]) == ("City", "MailingCity")
    assert lead["company"] == "Company" and "company" not in contact
    assert "score" in lead and "score" not in contact
    assert lead["email_optout"] == contact["email_optout"] == "HasOptedOutOfEmail"


def test_match_policy_follows_the_matching_settings(mapping: FlowMapping) -> None:
    to_crm = match_policy(mapping, Side.CRM)
    assert (to_crm.target_system, to_crm.create_object, to_crm.object_preference) == (
        "salesforce",
        "Lead",
        ("Contact", "Lead"),
    )
    assert (to_crm.survivor, to_crm.target_survivor, to_crm.domain_object) == (
        SurvivorRule.MOST_RECENTLY_MODIFIED,
        None,
        None,
    )
    to_marketing = match_policy(mapping, Side.MARKETING)
    assert (to_marketing.target_system, to_marketing.create_object) == ("hubspot", "contacts")
    custom = parse_mapping(
        "flow: contacts\nobjects: {salesforce: [Lead, Contact]}\nidentity: email\n"
        "matching: {create_as: Contact, contact_when_account_domain: true, target_candidates: oldest}\n"
        "fields:\n  email: {hubspot: email, salesforce: Email}\n",
        "m.yaml",
    )
    policy = match_policy(custom, Side.CRM)
    assert (policy.create_object, policy.domain_object, policy.target_survivor) == (
        "Contact",
        "Contact",
        SurvivorRule.OLDEST,
    )


HUBSPOT_NEW = {
    "email": "jane@x.com",
    "firstname": "Jane",
    "lastname": None,
    "company": None,
    "jobtitle": "CTO",
    "phone": " +1 555 0100 ",
    "city": "Lyon",
    "country": "France",
    "lifecyclestage": "marketingqualifiedlead",
    "hs_lead_status": "NEW",
    "hubspotscore": 41.6,
    "hs_email_optout": False,
    "hubspot_owner_id": "h1",
    "salesforce_lead_rating": None,
    "hs_analytics_source": "PAID_SEARCH",
}


def test_creating_a_lead_from_a_hubspot_contact_fills_required_defaults(mapping: FlowMapping) -> None:
    plans = field_plans(mapping, "Lead", OWNERS)
    resolution = resolve(SideState(Side.MARKETING, HUBSPOT_NEW, T0), None, plans, {}, record=REF)
    assert resolution.crm_writes == {
        "Email": "jane@x.com",
        "FirstName": "Jane",
        "LastName": "[not provided]",
        "Company": "[not provided]",
        "Title": "CTO",
        "Phone": "+1 555 0100",
        "City": "Lyon",
        "Country": "France",
        "Status": "Open - Not Contacted",
        "HubSpot_Lead_Status__c": "NEW",
        "HubSpot_Score__c": 42,
        "HasOptedOutOfEmail": False,
        "OwnerId": "005A",
        "LeadSource": "Web",
    }
    assert resolution.bases["company"] == FieldBase("[not provided]", None)


def test_translate_previews_a_record_in_the_other_system(mapping: FlowMapping) -> None:
    preview = translate(mapping, HUBSPOT_NEW, to=Side.CRM, salesforce_object="Contact", owners=OWNERS)
    assert preview["MailingCity"] == "Lyon" and "Company" not in preview and "Status" not in preview
    back = translate(
        mapping, {"Rating": "Hot", "LastName": "[not provided]"}, to=Side.MARKETING, salesforce_object="Lead"
    )
    assert back == {"salesforce_lead_rating": "Hot", "lastname": None}
    with pytest.raises(TransformError):
        translate(mapping, {"hubspot_owner_id": "h9"}, to=Side.CRM, salesforce_object="Lead", owners=OWNERS)


def _bases_after_create(mapping: FlowMapping) -> tuple[dict[str, object], dict[str, FieldBase]]:
    plans = field_plans(mapping, "Lead", OWNERS)
    created = resolve(SideState(Side.MARKETING, HUBSPOT_NEW, T0), None, plans, {}, record=REF)
    lead = {p.crm_field: None for p in plans} | dict(created.crm_writes)
    return lead, dict(created.bases)


def test_the_placeholder_company_never_reaches_hubspot_and_a_real_one_does(mapping: FlowMapping) -> None:
    plans = field_plans(mapping, "Lead", OWNERS)
    lead, bases = _bases_after_create(mapping)
    echo = resolve(
        SideState(Side.CRM, lead, T0), SideState(Side.MARKETING, HUBSPOT_NEW, T0), plans, bases, record=REF
    )
    assert (echo.crm_writes, echo.marketing_writes) == ({}, {})
    edited = lead | {"Company": "Acme"}
    later = T0 + timedelta(minutes=5)
    update = resolve(
        SideState(Side.CRM, edited, later),
        SideState(Side.MARKETING, HUBSPOT_NEW, T0),
        plans,
        bases,
        record=REF,
    )
    assert update.marketing_writes == {"company": "Acme"}


def test_an_opt_out_in_salesforce_reaches_hubspot_and_a_lifecycle_move_maps_back(
    mapping: FlowMapping,
) -> None:
    plans = field_plans(mapping, "Lead", OWNERS)
    lead, bases = _bases_after_create(mapping)
    edited = lead | {"HasOptedOutOfEmail": True, "Status": "Working - Contacted", "Rating": "Warm"}
    later = T0 + timedelta(minutes=5)
    update = resolve(
        SideState(Side.CRM, edited, later),
        SideState(Side.MARKETING, HUBSPOT_NEW, T0),
        plans,
        bases,
        record=REF,
    )
    assert update.marketing_writes == {
        "hs_email_optout": True,
        "lifecyclestage": "salesqualifiedlead",
        "salesforce_lead_rating": "Warm",
    }


def test_an_unknown_owner_skips_only_the_owner_field_with_an_issue(mapping: FlowMapping) -> None:
    plans = field_plans(mapping, "Lead", OWNERS)
    record = HUBSPOT_NEW | {"hubspot_owner_id": "h9"}
    resolution = resolve(SideState(Side.MARKETING, record, T0), None, plans, {}, record=REF)
    assert "OwnerId" not in resolution.crm_writes and "Email" in resolution.crm_writes
    (issue,) = resolution.issues
    assert issue.field == "owner" and "h9" in issue.reason


def test_on_first_sync_a_real_company_replaces_the_salesforce_placeholder(mapping: FlowMapping) -> None:
    plans = [p for p in field_plans(mapping, "Lead", OWNERS) if p.name == "company"]
    lead = SideState(Side.CRM, {"Company": "[not provided]"}, T0 + timedelta(minutes=5))
    contact = SideState(Side.MARKETING, {"company": "Acme"}, T0)
    for source, target in ((lead, contact), (contact, lead)):
        resolution = resolve(source, target, plans, {}, record=REF)
        assert (resolution.crm_writes, resolution.marketing_writes) == ({"Company": "Acme"}, {})


def test_an_email_change_on_a_linked_contact_updates_the_lead_instead_of_creating_one(
    mapping: FlowMapping,
) -> None:
    contact_ref, lead_ref = RecordRef("hubspot", "contacts", "1"), RecordRef("salesforce", "Lead", "00Q1")
    later = T0 + timedelta(minutes=5)
    source = PersonRecord(contact_ref, "jane.doe@new.com", later)
    target = PersonRecord(lead_ref, "jane@old.com", T0)
    links = [IdentityLink(contact_ref, "p1"), IdentityLink(lead_ref, "p1")]
    outcome = match_page([source], links, [target], match_policy(mapping, Side.CRM)).outcomes[0]
    assert (outcome.decision, outcome.target, outcome.email_changed) == (Decision.LINKED, lead_ref, True)
    plans = field_plans(mapping, "Lead", OWNERS)
    bases = {"email": FieldBase("jane@old.com", "jane@old.com")}
    resolution = resolve(
        SideState(Side.MARKETING, {"email": "jane.doe@new.com"}, later),
        SideState(Side.CRM, {"Email": "jane@old.com"}, T0),
        plans,
        bases,
        record=contact_ref,
    )
    assert resolution.crm_writes == {"Email": "jane.doe@new.com"}
