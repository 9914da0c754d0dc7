"""The deals mapping: the shipped file fits; its stage map, link and create values are checked with lines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from syncd.connector import FieldSpec, FieldType, ObjectSchema
from syncd.core.rules import Side
from syncd.deals import Pipeline, PipelineStage
from syncd.errors import ConfigError
from syncd.mapping import find_problems, load_mapping, parse_mapping
from syncd.mapping.stages import stage_problems, with_pipeline_stages
from syncd.mapping.transforms import ToDate, ToDatetime, apply_transforms

DEALS_YAML = Path(__file__).resolve().parents[3] / "mappings" / "deals.yaml"
SF_STAGES = (
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
)  # fmt: skip
PIPELINE = Pipeline(
    "default",
    "Sales Pipeline",
    tuple(
        PipelineStage(s, s, s.startswith("closed"), 1.0 if s == "closedwon" else 0.5)
        for s in (
            "appointmentscheduled",
            "qualifiedtobuy",
            "presentationscheduled",
            "decisionmakerboughtin",
            "contractsent",
            "closedwon",
            "closedlost",
        )
    ),
)


def spec(name: str, type_: FieldType = FieldType.STRING, **kw: object) -> FieldSpec:
    return FieldSpec(name=name, type=type_, **kw)  # type: ignore[arg-type]


def hubspot_deals(*, unique_link: bool = True) -> ObjectSchema:
    specs = [
        spec("dealname", required_on_create=True),
        spec(
            "dealstage",
            FieldType.ENUM,
            required_on_create=True,
            picklist=("anything",),
            restricted_picklist=True,
        ),
        spec(
            "pipeline",
            FieldType.ENUM,
            required_on_create=True,
            picklist=("default", "other"),
            restricted_picklist=True,
        ),
        spec("amount", FieldType.NUMBER),
        spec("closedate", FieldType.DATETIME),
        spec("hubspot_owner_id", FieldType.ENUM),
        spec("salesforce_campaign_id"),
        spec("salesforce_opportunity_id", unique=unique_link),
    ]
    return with_pipeline_stages(ObjectSchema("deals", {s.name: s for s in specs}), PIPELINE)


def opportunity(*, link: bool = True) -> ObjectSchema:
    specs = [
        spec("Name", required_on_create=True, nillable=False),
        spec(
            "StageName", FieldType.ENUM, required_on_create=True, picklist=SF_STAGES, restricted_picklist=True
        ),
        spec("Amount", FieldType.NUMBER),
        spec("CloseDate", FieldType.DATE, required_on_create=True, nillable=False),
        spec("OwnerId", FieldType.REFERENCE),
        spec("CampaignId", FieldType.REFERENCE),
        spec("IsWon", FieldType.BOOL, createable=False, updateable=False),
    ]
    if link:
        specs.append(spec("HubSpot_Deal_Id__c", unique=True))
    return ObjectSchema("Opportunity", {s.name: s for s in specs})


def test_the_shipped_deals_mapping_fits_the_live_schemas_and_the_pipeline() -> None:
    mapping = load_mapping(DEALS_YAML, display="mappings/deals.yaml")
    assert mapping.link is not None and mapping.identity == ""
    assert mapping.on_create.hubspot == {"pipeline": "default"}
    assert find_problems(mapping, hubspot_deals(), {"Opportunity": opportunity()}) == []
    assert stage_problems(mapping, PIPELINE, SF_STAGES) == []


BAD = """\
flow: deals
objects: {hubspot: deals, salesforce: [Opportunity]}
link: {hubspot: salesforce_opportunity_id, salesforce: HubSpot_Deal_Id__c}
on_create:
  hubspot: {pipeline: sales}
fields:
  name: {hubspot: dealname, salesforce: Name}
  stage:
    hubspot: dealstage
    salesforce: StageName
    to_crm:
      - map:
          appointmentscheduled: Prospecting
          qualifiedtobuy: Qualified
          demo_done: Value Proposition
          closedwon: Closed Won
    to_marketing:
      - map:
          Prospecting: appointmentscheduled
          Closed Won: won
        otherwise: qualifiedtobuy
  close_date: {hubspot: closedate, salesforce: CloseDate, to_crm: [to_date], to_marketing: [to_datetime]}
  won: {hubspot: dealname, salesforce: IsWon, direction: to_crm}
"""


def test_stage_problems_name_each_unknown_stage_and_uncovered_stage_with_its_line() -> None:
    mapping = parse_mapping(BAD, "mappings/deals.yaml")
    problems = stage_problems(mapping, PIPELINE, SF_STAGES)
    f = "mappings/deals.yaml"
    assert problems == [
        f"{f}:12: field 'stage': stages 'presentationscheduled', 'decisionmakerboughtin', 'contractsent', "
        "'closedlost' of HubSpot pipeline 'default' have no Salesforce stage; deals in them cannot sync — "
        "map them under to_crm",
        f"{f}:15: field 'stage': stage 'demo_done' is not a stage of HubSpot pipeline 'default' (its stages: "
        "appointmentscheduled, qualifiedtobuy, presentationscheduled, decisionmakerboughtin, contractsent, "
        "closedwon, closedlost)",
    ]
    generic = find_problems(mapping, hubspot_deals(), {"Opportunity": opportunity(link=False)})
    assert (
        f"{f}:3: link: unknown Salesforce Opportunity.HubSpot_Deal_Id__c; create it as a unique text field "
        "for the other system's id" in generic
    )
    assert (
        f"{f}:5: on_create: 'sales' is not accepted by the restricted picklist of HubSpot deals property "
        "pipeline" in generic
    )
    assert (
        f"{f}:14: field 'stage': map value 'Qualified' is not accepted by the restricted picklist of "
        "Salesforce Opportunity.StageName" in generic
    )
    assert (
        f"{f}:20: field 'stage': map value 'won' is not accepted by the restricted picklist of HubSpot "
        "property dealstage" in generic
    )
    assert any(
        p.startswith(f"{f}:23: field 'won': Salesforce Opportunity.IsWon is read-only") for p in generic
    )


def test_a_link_field_that_is_not_unique_is_refused() -> None:
    mapping = load_mapping(DEALS_YAML, display="m.yaml")
    problems = find_problems(mapping, hubspot_deals(unique_link=False), {"Opportunity": opportunity()})
    assert len(problems) == 1 and "HubSpot property salesforce_opportunity_id is not unique" in problems[0]


def test_identity_and_link_are_one_or_the_other() -> None:
    with pytest.raises(ConfigError) as both:
        parse_mapping(BAD.replace("link:", "identity: name\nlink:"), "m.yaml")
    assert "give either 'identity' (people) or 'link' (other records), not both" in str(both.value)
    with pytest.raises(ConfigError) as half:
        parse_mapping(BAD.replace(", salesforce: HubSpot_Deal_Id__c", ""), "m.yaml")
    assert "link.salesforce is missing" in str(half.value)


def test_close_dates_cross_between_a_datetime_and_a_date() -> None:
    instant = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert apply_transforms([ToDate(1)], instant, Side.CRM) == date(2026, 3, 1)
    assert apply_transforms([ToDatetime(1)], date(2026, 3, 1), Side.MARKETING) == datetime(
        2026, 3, 1, tzinfo=UTC
    )
    assert apply_transforms([ToDate(1)], None, Side.CRM) is None
