"""A deal's status for the store from either system's values: stage vocabulary, won and lost, money."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from syncd.core.deal_status import from_hubspot, from_salesforce, stage_entries
from syncd.deals import Pipeline, PipelineStage

PIPELINE = Pipeline(
    "default",
    "Sales",
    (
        PipelineStage("open", "Open", False, 0.2),
        PipelineStage("won", "Won", True, 1.0),
        PipelineStage("lost", "Lost", True, 0.0),
    ),
)
NAMES = {"open": "Prospecting", "won": "Closed Won", "lost": "Closed Lost"}


def test_salesforce_values_give_the_opportunitys_own_flags() -> None:
    status = from_salesforce(
        {
            "Name": " Big deal ",
            "StageName": "Closed Won",
            "Amount": 1234.5,
            "CloseDate": date(2026, 1, 2),
            "OwnerId": "005X",
            "CampaignId": "701X",
            "IsClosed": True,
            "IsWon": True,
        }
    )
    assert (status.name, status.stage, status.amount, status.close_date) == (
        "Big deal",
        "Closed Won",
        Decimal("1234.50"),
        date(2026, 1, 2),
    )
    assert (status.is_closed, status.is_won, status.owner, status.campaign_id) == (
        True,
        True,
        ("salesforce", "005X"),
        "701X",
    )


def test_hubspot_values_are_translated_and_judged_by_the_pipeline() -> None:
    won = from_hubspot(
        {"dealstage": "won", "amount": 10, "closedate": datetime(2026, 1, 2, 15, tzinfo=UTC)},
        PIPELINE,
        NAMES.__getitem__,
        "campaign",
    )
    lost = from_hubspot({"dealstage": "lost", "campaign": "701Y"}, PIPELINE, NAMES.__getitem__, "campaign")
    assert (won.stage, won.is_closed, won.is_won, won.close_date) == (
        "Closed Won",
        True,
        True,
        date(2026, 1, 2),
    )
    assert (lost.is_closed, lost.is_won, lost.campaign_id, lost.name) == (True, False, "701Y", "(no name)")
    unknown = from_hubspot({"dealstage": "gone"}, PIPELINE, lambda s: f"hubspot:{s}")
    assert (unknown.stage, unknown.is_closed) == ("hubspot:gone", False)


def test_hubspot_stage_entry_dates_become_entries_in_the_stores_vocabulary() -> None:
    values = {"hs_date_entered_won": "2026-01-05T10:00:00.000Z", "hs_date_entered_open": "1767225600000"}
    assert stage_entries(values, PIPELINE, NAMES.__getitem__) == [
        ("Prospecting", datetime(2026, 1, 1, tzinfo=UTC)),
        ("Closed Won", datetime(2026, 1, 5, 10, tzinfo=UTC)),
    ]
