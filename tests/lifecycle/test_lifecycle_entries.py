"""Records in, stage entries out: where each funnel stage's instant comes from (pure, table-driven)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from syncd.connector import RemoteRecord
from syncd.core.lifecycle import (
    HubSpotScore,
    LifecycleSettings,
    MqlDefinition,
    Observation,
    SalesforceCondition,
    StageEntry,
    Succession,
    lifecycle_fields,
    observe,
    stage_entries,
    successions,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
MODIFIED = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def hubspot(**fields: Any) -> Observation:
    return Observation("hubspot", "contacts", "101", MODIFIED, fields, created_at=T0)


def lead(**fields: Any) -> Observation:
    return Observation("salesforce", "Lead", "00Q1", MODIFIED, fields, created_at=T0)


def entries(obs: Observation, settings: LifecycleSettings | None = None) -> set[tuple[str, datetime]]:
    return {(e.stage, e.entered_at) for e in stage_entries([obs], settings or LifecycleSettings())}


def test_hubspot_stage_dates_are_the_entry_instants() -> None:
    obs = hubspot(
        lifecyclestage="salesqualifiedlead",
        hs_lifecyclestage_lead_date="2026-03-02T10:00:00.000Z",
        hs_lifecyclestage_marketingqualifiedlead_date="2026-03-04T11:30:00Z",
        hs_lifecyclestage_salesqualifiedlead_date=str(int(at(6, 8).timestamp() * 1000)),
        hs_lifecyclestage_evangelist_date="2026-03-07T00:00:00Z",  # no funnel stage: ignored
    )
    assert entries(obs) == {
        ("lead", at(2, 10)),
        ("mql", datetime(2026, 3, 4, 11, 30, tzinfo=UTC)),
        ("sql", at(6, 8)),
    }


def test_a_current_stage_without_its_date_is_known_from_this_observation() -> None:
    assert entries(hubspot(lifecyclestage="customer")) == {("customer", MODIFIED)}


def test_an_mql_by_score_is_the_first_observation_at_or_above_the_threshold() -> None:
    settings = LifecycleSettings(mql=MqlDefinition(stage=None, score=HubSpotScore(at_least=50)))
    obs = hubspot(
        hubspotscore="55",
        lifecyclestage="marketingqualifiedlead",
        hs_lifecyclestage_marketingqualifiedlead_date="2026-03-02T10:00:00Z",
    )
    # The HubSpot MQL stage is not the MQL here: only the score is.
    assert entries(obs, settings) == {("mql", MODIFIED)}
    assert entries(hubspot(hubspotscore="49.5"), settings) == set()
    assert entries(hubspot(hubspotscore=""), settings) == set()


def test_salesforce_lead_creation_status_and_conversion() -> None:
    settings = LifecycleSettings()
    assert entries(
        lead(CreatedDate="2026-03-01T09:00:00.000+0000", Status="Open - Not Contacted"), settings
    ) == {("lead", T0)}
    assert entries(lead(Status="Working - Contacted", LastModifiedDate="2026-03-05T12:00:00.000+0000")) == {
        ("lead", T0),
        ("sql", at(5, 12)),
    }
    converted = lead(
        Status="Closed - Converted",
        IsConverted=True,
        ConvertedDate="2026-03-10",
        ConvertedOpportunityId="006000000000001AAA",
    )
    # The Lead was last modified on its conversion day: that instant is the conversion's.
    assert entries(converted) == {("lead", T0), ("sql", MODIFIED), ("opportunity", MODIFIED)}
    later = lead(IsConverted=True, ConvertedDate="2026-03-08", LastModifiedDate="2026-03-10T15:30:00Z")
    assert ("sql", at(8)) in entries(later)


def test_an_mql_by_salesforce_field_reads_only_its_object() -> None:
    settings = LifecycleSettings(
        mql=MqlDefinition(stage=None, condition=SalesforceCondition("Lead", "Rating", ("Hot", "Warm")))
    )
    assert ("mql", MODIFIED) in entries(lead(Rating="hot"), settings)
    assert ("mql", MODIFIED) not in entries(lead(Rating="Cold"), settings)
    contact = Observation("salesforce", "Contact", "0031", MODIFIED, {"Rating": "Hot"})
    assert entries(contact, settings) == set()
    numeric = LifecycleSettings(
        mql=MqlDefinition(stage=None, condition=SalesforceCondition("Lead", "HubSpot_Score__c", at_least=70))
    )
    assert ("mql", MODIFIED) in entries(lead(HubSpot_Score__c=70.0), numeric)
    assert ("mql", MODIFIED) not in entries(lead(HubSpot_Score__c=69), numeric)


def test_sources_can_be_switched_off() -> None:
    settings = LifecycleSettings(lead_created=None, converted=None, converted_with_opportunity=None)
    converted = lead(IsConverted=True, ConvertedDate="2026-03-10", ConvertedOpportunityId="006x")
    assert entries(converted, settings) == set()


def test_tombstones_state_nothing_and_duplicates_keep_the_earliest() -> None:
    gone = Observation("hubspot", "contacts", "101", MODIFIED, {"lifecyclestage": "lead"}, deleted=True)
    assert stage_entries([gone], LifecycleSettings()) == []
    older = hubspot(hs_lifecyclestage_lead_date="2026-03-02T00:00:00Z")
    newer = hubspot(hs_lifecyclestage_lead_date="2026-03-04T00:00:00Z")
    assert stage_entries([newer, older], LifecycleSettings()) == [StageEntry("hubspot", "101", "lead", at(2))]


def test_the_mql_has_exactly_one_definition() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        MqlDefinition(stage="marketingqualifiedlead", score=HubSpotScore(10))


def test_merges_and_conversions_name_their_survivors() -> None:
    records = [
        RemoteRecord("Lead", "00QA", MODIFIED, {}, merged_into="003B"),
        RemoteRecord("contacts", "303", MODIFIED, {}, merged_from=("101", "202", "303")),
    ]
    moves = successions(observe("salesforce", records[:1]) + observe("hubspot", records[1:]))
    assert set(moves) == {
        Succession("salesforce", "00QA", "003B"),
        Succession("hubspot", "101", "303"),
        Succession("hubspot", "202", "303"),
    }


def test_the_pull_reads_what_derivation_needs() -> None:
    settings = LifecycleSettings(
        mql=MqlDefinition(stage=None, condition=SalesforceCondition("Lead", "Rating", ("Hot",)))
    )
    assert "hs_lifecyclestage_salesqualifiedlead_date" in lifecycle_fields(settings, "hubspot", "contacts")
    assert "hs_lifecyclestage_marketingqualifiedlead_date" not in lifecycle_fields(
        settings, "hubspot", "contacts"
    )
    lead_fields = lifecycle_fields(settings, "salesforce", "Lead")
    assert {"Status", "ConvertedDate", "IsConverted", "Rating", "LastModifiedDate"} <= set(lead_fields)
    assert "Rating" not in lifecycle_fields(settings, "salesforce", "Contact")
    scored = LifecycleSettings(mql=MqlDefinition(stage=None, score=HubSpotScore(50, property="custom_score")))
    assert "custom_score" in lifecycle_fields(scored, "hubspot", "contacts")
