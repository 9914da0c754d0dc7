"""Validation against live schemas: every problem at once, each with file and line."""

from __future__ import annotations

import pytest
from mapping_schemas import CONTACTS_YAML

from syncd.connector import ObjectSchema
from syncd.errors import ConfigError
from syncd.mapping import find_problems, load_mapping, parse_mapping, validate_mapping


def test_the_default_contacts_mapping_fits_the_live_schemas(
    hubspot_schema: ObjectSchema, salesforce_schemas: dict[str, ObjectSchema]
) -> None:
    mapping = load_mapping(CONTACTS_YAML, display="mappings/contacts.yaml")
    assert find_problems(mapping, hubspot_schema, salesforce_schemas) == []
    validate_mapping(mapping, hubspot_schema, salesforce_schemas)


BAD = """\
flow: contacts
objects: {hubspot: contacts, salesforce: [Lead, Contact]}
identity: email
include:
  hubspot:
    - {field: favourite_colour, op: eq, value: blue}
  salesforce:
    - {field: Shoe_Size__c, op: gt, value: 40}
fields:
  email:
    hubspot: email
    salesforce: Email
  lastname:
    hubspot: lastname
    salesforce: LastName
  nickname:
    hubspot: nickname
    salesforce: {Lead: Nick__c, Contact: Title}
  score:
    hubspot: hubspotscore
    salesforce: {Lead: HubSpot_Score__c}
  optout:
    hubspot: hs_email_optout
    salesforce: {Lead: HasOptedOutOfEmail}
    to_crm: [lower]
  stage:
    hubspot: lifecyclestage
    salesforce: {Lead: Status}
    to_crm:
      - map: {lead: Open, customer: Closed - Converted}
        otherwise: Nurturing
    to_marketing:
      - map: {Open - Not Contacted: lead}
        otherwise: keep
  lead_status:
    hubspot: hs_lead_status
    salesforce: {Lead: Status}
    direction: to_crm
  consent:
    hubspot: jobtitle
    salesforce: {Lead: Rating}
    rule: most_restrictive
  converted:
    hubspot: hs_email_optout
    salesforce: {Lead: IsConverted}
    direction: to_crm
  revenue:
    hubspot: createdate
    salesforce: {Lead: AnnualRevenue}
    direction: to_crm
"""


def test_every_schema_problem_is_listed_at_once_with_file_and_line(
    hubspot_schema: ObjectSchema, salesforce_schemas: dict[str, ObjectSchema]
) -> None:
    mapping = parse_mapping(BAD, "mappings/contacts.yaml")
    with pytest.raises(ConfigError) as caught:
        validate_mapping(mapping, hubspot_schema, salesforce_schemas)
    f = "mappings/contacts.yaml"
    assert caught.value.problems == [
        f"{f}:6: include: unknown HubSpot property 'favourite_colour'",
        f"{f}:8: include: unknown Salesforce field 'Shoe_Size__c'",
        f"{f}:9: Salesforce Lead.Company is required on create but nothing is mapped into it; "
        "add a field for it with a `default` transform under to_crm",
        f"{f}:17: field 'nickname': unknown HubSpot property 'nickname' on contacts",
        f"{f}:18: field 'nickname': unknown Salesforce field Lead.Nick__c",
        f"{f}:19: field 'score': HubSpot property hubspotscore is read-only (not updateable); "
        "set direction: to_crm or rule: none",
        f"{f}:25: field 'optout': transform lower: lower needs text values, not boolean",
        f"{f}:30: field 'stage': map value 'Open' is not accepted by the restricted picklist of "
        "Salesforce Lead.Status",
        f"{f}:30: field 'stage': map value 'Nurturing' is not accepted by the restricted picklist of "
        "Salesforce Lead.Status",
        f"{f}:32: field 'stage': picklist values 'Working - Contacted', 'Closed - Converted', "
        "'Closed - Not Converted' reach HubSpot property lifecyclestage unmapped, "
        "and its restricted picklist rejects them; map them under to_marketing",
        f"{f}:35: field 'lead_status': picklist values 'NEW', 'OPEN', 'IN_PROGRESS', 'OPEN_DEAL', "
        "'UNQUALIFIED', 'ATTEMPTED_TO_CONTACT', 'CONNECTED', 'BAD_TIMING' reach Salesforce Lead.Status "
        "unmapped, and its restricted picklist rejects them; map them under to_crm",
        f"{f}:42: field 'consent': most_restrictive needs boolean fields on both sides "
        "(HubSpot string, Salesforce Lead.Rating enum)",
        f"{f}:46: field 'converted': Salesforce Lead.IsConverted is read-only (not updateable); "
        "set direction: to_marketing or rule: none",
        f"{f}:47: field 'revenue': incompatible types: datetime values cannot be written into "
        "Salesforce Lead.AnnualRevenue (number); add a transform under to_crm",
    ]
    assert "syncd check" in (caught.value.hint or "")


def test_a_required_field_mapped_only_towards_marketing_still_counts_as_unmapped(
    hubspot_schema: ObjectSchema, salesforce_schemas: dict[str, ObjectSchema]
) -> None:
    text = """\
flow: contacts
objects: {hubspot: contacts, salesforce: [Contact]}
identity: email
fields:
  email: {hubspot: email, salesforce: Email}
  lastname: {hubspot: lastname, salesforce: LastName, direction: to_marketing}
"""
    mapping = parse_mapping(text, "m.yaml")
    problems = find_problems(mapping, hubspot_schema, {"Contact": salesforce_schemas["Contact"]})
    assert problems == [
        "m.yaml:4: Salesforce Contact.LastName is required on create but nothing is mapped into it; "
        "add a field for it with a `default` transform under to_crm"
    ]


def test_a_missing_salesforce_schema_is_reported_not_ignored(hubspot_schema: ObjectSchema) -> None:
    mapping = load_mapping(CONTACTS_YAML, display="mappings/contacts.yaml")
    problems = find_problems(mapping, hubspot_schema, {})
    assert any("no schema for the Salesforce object 'Lead'" in p for p in problems)
    assert any("no schema for the Salesforce object 'Contact'" in p for p in problems)


def test_transforms_fix_types_that_differ(
    hubspot_schema: ObjectSchema, salesforce_schemas: dict[str, ObjectSchema]
) -> None:
    text = """\
flow: contacts
objects: {hubspot: contacts, salesforce: [Lead]}
identity: email
fields:
  email: {hubspot: email, salesforce: Email}
  lastname: {hubspot: lastname, salesforce: LastName}
  company: {hubspot: company, salesforce: Company, to_crm: [{default: "[not provided]"}]}
  revenue:
    hubspot: phone
    salesforce: AnnualRevenue
    to_crm: [to_number, {round: 2}]
    to_marketing: [to_text]
  converted_on:
    hubspot: city
    salesforce: ConvertedDate
    direction: to_marketing
    to_marketing: [{date_format: "%Y-%m-%d"}]
"""
    mapping = parse_mapping(text, "m.yaml")
    assert find_problems(mapping, hubspot_schema, {"Lead": salesforce_schemas["Lead"]}) == []
