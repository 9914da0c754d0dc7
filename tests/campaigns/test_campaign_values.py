"""Salesforce campaign and member records, and cost file lines, as the store keeps them (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from syncd.connector import RemoteRecord
from syncd.core.campaigns import (
    CostLine,
    LineProblem,
    campaign_cost,
    campaign_row,
    member_from_payload,
    member_payload,
    member_row,
    name_key,
    parse_cost_file,
)

STAMP = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)


def campaign(**fields: object) -> RemoteRecord:
    return RemoteRecord(
        "Campaign", "701A", STAMP, {"Name": "Spring", **fields}, created_at=datetime(2026, 1, 5, tzinfo=UTC)
    )


def test_money_is_exact_and_dates_make_the_cost_period() -> None:
    row = campaign_row(
        campaign(ActualCost=1234.1, BudgetedCost=2000, StartDate="2026-02-01", EndDate="2026-02-28")
    )
    assert row.actual_cost == Decimal("1234.10") and row.budgeted_cost == Decimal("2000.00")
    cost = campaign_cost(row, "EUR")
    assert isinstance(cost, CostLine)
    assert (cost.period_start, cost.period_end, cost.amount, cost.currency) == (
        date(2026, 2, 1),
        date(2026, 2, 28),
        Decimal("1234.10"),
        "EUR",
    )
    assert (cost.source, cost.source_key, cost.campaign) == ("salesforce_campaign", "701A", "701A")


def test_a_campaign_without_dates_costs_on_its_creation_day_and_without_actual_cost_nothing() -> None:
    cost = campaign_cost(campaign_row(campaign(ActualCost=10)), None)
    assert isinstance(cost, CostLine) and cost.period_start == cost.period_end == date(2026, 1, 5)
    assert campaign_cost(campaign_row(campaign()), None) is None


def test_a_campaign_ending_before_it_starts_is_a_problem_naming_it() -> None:
    problem = campaign_cost(
        campaign_row(campaign(ActualCost=5, StartDate="2026-03-01", EndDate="2026-02-01")), None
    )
    assert isinstance(problem, str) and "701A" in problem and "before it starts" in problem


def test_a_member_response_instant_and_its_round_trip_through_an_issue() -> None:
    same_day = RemoteRecord(
        "CampaignMember",
        "00vA",
        STAMP,
        {
            "CampaignId": "701A",
            "LeadId": "00QA",
            "Status": "Responded",
            "HasResponded": True,
            "FirstRespondedDate": "2026-03-10",
            "LastModifiedDate": "2026-03-10T15:30:00.000+0000",
        },
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    row = member_row(same_day)
    assert row.first_responded_at == STAMP  # the change that set the date
    earlier = member_row(
        RemoteRecord("CampaignMember", "00vB", STAMP, {**same_day.fields, "FirstRespondedDate": "2026-03-02"})
    )
    assert earlier.first_responded_at == datetime(2026, 3, 2, tzinfo=UTC)
    assert member_from_payload(member_payload(row)) == row


def test_campaign_names_compare_folded() -> None:
    assert name_key("  2026 Spring   Launch ") == name_key("2026 spring launch")


def test_the_cost_file_keeps_good_lines_and_names_each_bad_one() -> None:
    text = (
        "\ufeffChannel,Campaign,Period_Start,Period_End,Amount,Currency\n"
        'paid_search,,2026-01-01,2026-01-31,"1,200.50",eur\n'
        "# a comment\n"
        "\n"
        ",Spring,2026-02-01,2026-02-28,300,\n"
        "paid_search,,2026-01-01,2026-01-31,99,EUR\n"
        "x,y,2026-01-01,2026-01-31,1,EUR\n"
        "email,,2026-02-01,2026-01-01,1,EUR\n"
        "email,,January,2026-01-31,1,EUR\n"
        "email,,2026-01-01,2026-01-31,lots,EUR\n"
        "email,,2026-01-01,2026-01-31,-1,EUR\n"
        "email,,2026-01-01,2026-01-31,1,EURO\n"
    )
    lines, problems = parse_cost_file(text)
    assert [(x.channel, x.campaign, x.amount, x.currency, x.line) for x in lines] == [
        ("paid_search", None, Decimal("1200.50"), "EUR", 2),
        (None, "Spring", Decimal("300.00"), None, 5),
    ]
    assert [p.line for p in problems] == [6, 7, 8, 9, 10, 11, 12]
    assert "same target and period as line 2" in problems[0].message
    assert "exactly one of channel and campaign" in problems[1].message
    assert "before period_start" in problems[2].message
    assert "YYYY-MM-DD" in problems[3].message
    assert "not a number" in problems[4].message
    assert "zero or more" in problems[5].message
    assert "three-letter" in problems[6].message


def test_the_same_target_and_period_keeps_its_key_across_imports() -> None:
    one, _ = parse_cost_file("channel,period_start,period_end,amount\nPaid_Search,2026-01-01,2026-01-31,1\n")
    two, _ = parse_cost_file("amount,channel,period_end,period_start\n5,paid_search,2026-01-31,2026-01-01\n")
    assert one[0].source_key == two[0].source_key


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("channel,amount\n", "missing column(s) period_start, period_end"),
        ("period_start,period_end,amount\n", "a channel or campaign column is needed"),
        ("channel,period_start,period_end,amount,colour\n", "unknown column(s) colour"),
    ],
)
def test_a_bad_header_is_one_problem_on_its_line(header: str, message: str) -> None:
    lines, problems = parse_cost_file("\n" + header + "paid_search,2026-01-01,2026-01-31,1\n")
    assert lines == []
    assert len(problems) == 1 and problems[0].line == 2 and message in problems[0].message


def test_an_empty_file_has_no_lines_and_no_problems() -> None:
    assert parse_cost_file("") == ([], [])
    assert LineProblem(1, "x").line == 1
