"""Costs in a period, ROI/ROAS and cost per lead/MQL/customer, and sourced vs influenced pipeline."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from report_builders import at, deal, link, money, person, stage, touch

from syncd.reports import (
    Cost,
    CostProration,
    GroupBy,
    InfluencedUntil,
    Period,
    ReportError,
    SourcedRule,
    costs_by_group,
    pipeline,
    roi,
)

# Report period: 1–15 March 2026 (T0 is Monday 2 March).
FIRST_HALF = Period(date(2026, 3, 1), date(2026, 3, 15))
COSTS = [
    Cost("ads", "spring", date(2026, 3, 1), date(2026, 3, 31), money("3100.00")),  # 100/day
    Cost("ads", None, date(2026, 3, 10), date(2026, 3, 19), money("1000.00")),  # 100/day, 6 days inside
    Cost("email", "nurture", date(2026, 3, 2), date(2026, 3, 6), money("50.00")),  # entirely inside
    Cost("social", None, date(2026, 4, 1), date(2026, 4, 30), money("900.00")),  # outside
]


@pytest.mark.parametrize(
    ("proration", "ads", "email", "social"),
    [
        # 15 of 31 days of 3100 = 1500; 6 of 10 days of 1000 = 600.
        (CostProration.DAYS, "2100.00", "50.00", "0.00"),
        (CostProration.WHOLE, "4100.00", "50.00", "0.00"),
        (CostProration.CONTAINED, "0.00", "50.00", "0.00"),
    ],
)
def test_cost_rows_overlapping_the_period_follow_the_proration_rule(
    proration: CostProration, ads: str, email: str, social: str
) -> None:
    assert costs_by_group(COSTS, FIRST_HALF, proration=proration) == {
        "ads": money(ads),
        "email": money(email),
        "social": money(social),
    }


def test_costs_by_campaign_keep_channel_level_spend_under_none() -> None:
    assert costs_by_group(COSTS, FIRST_HALF, group_by=GroupBy.CAMPAIGN) == {
        "spring": money("1500.00"),
        None: money("600.00"),
        "nurture": money("50.00"),
    }


def test_costs_cannot_be_grouped_by_touch() -> None:
    with pytest.raises(ReportError):
        costs_by_group(COSTS, FIRST_HALF, group_by=GroupBy.TOUCH)


def roi_data() -> dict[str, object]:
    # p1: first touch ads, lead day 1, MQL day 2, customer day 6; won deal 6000 closed day 6.
    # p2: first touch email, lead day 1, MQL day 3. p3: no touch, lead day 2.
    people = [person("p1", at(1)), person("p2", at(1)), person("p3", at(2))]
    touches = [
        touch("t1", "p1", at(0), "ads", "spring"),
        touch("t2", "p2", at(0), "email", "nurture"),
        touch("t3", "p1", at(4), "email", "nurture"),
    ]
    lifecycle = [
        stage("p1", "lead", at(1)),
        stage("p1", "MQL", at(2)),
        stage("p1", "customer", at(6)),
        stage("p2", "mql", at(3)),
    ]
    deals = [deal("d1", at(3), closed=at(6), amount="6000.00", won=True)]
    return {
        "people": people,
        "touches": touches,
        "deals": deals,
        "deal_contacts": [link("d1", "p1")],
        "lifecycle": lifecycle,
        "costs": COSTS,
        "period": FIRST_HALF,
    }


def test_roi_per_channel_under_first_touch() -> None:
    report = roi("first", **roi_data())  # type: ignore[arg-type]
    rows = {r.key: r for r in report.rows}
    ads = rows["ads"]
    # Revenue 6000 to ads (first touch t1); cost 2100. ROI = (6000 − 2100)/2100 = 13/7; ROAS = 20/7.
    assert ads.attributed_revenue == money("6000.00") and ads.cost == money("2100.00")
    assert ads.roi == Fraction(13, 7) and ads.roas == Fraction(20, 7)
    # One lead, one MQL, one customer sourced by ads → 2100 each.
    assert (ads.leads, ads.mqls, ads.customers) == (1, 1, 1)
    assert ads.cost_per_lead == ads.cost_per_mql == ads.cost_per_customer == money("2100.00")
    email = rows["email"]
    # Revenue 0, cost 50: ROI = −1, ROAS = 0; one lead and one MQL (p2), no customer.
    assert email.roi == -1 and email.roas == 0
    assert (email.cost_per_lead, email.cost_per_mql, email.cost_per_customer) == (
        money("50.00"),
        money("50.00"),
        None,
    )
    # p3 has no touch: a lead without a source; no cost → no ROI/ROAS, and 0 per lead.
    assert rows[None].leads == 1 and rows[None].roi is None and rows[None].cost_per_lead == money("0.00")
    assert rows["social"].cost == money("0.00") and rows["social"].roas is None


def test_roi_under_linear_splits_revenue_between_channels() -> None:
    report = roi("linear", **roi_data())  # type: ignore[arg-type]
    rows = {r.key: r for r in report.rows}
    # Path t1 (ads), t3 (email): 3000 each. email ROI = (3000 − 50)/50 = 59.
    assert rows["ads"].attributed_revenue == rows["email"].attributed_revenue == money("3000.00")
    assert rows["email"].roi == 59


def test_roi_accepts_data_driven_models_for_channels_only() -> None:
    report = roi("shapley", **roi_data())  # type: ignore[arg-type]
    # One converting journey {ads, email}: 3000 each.
    assert {r.key: r.attributed_revenue for r in report.rows}["ads"] == money("3000.00")
    with pytest.raises(ReportError):
        roi("markov", group_by=GroupBy.CAMPAIGN, **roi_data())  # type: ignore[arg-type]


def test_roi_rejects_an_unknown_model_with_the_known_ones() -> None:
    with pytest.raises(ReportError) as err:
        roi("position", **roi_data())  # type: ignore[arg-type]
    assert "u_shaped" in str(err.value)


def pipeline_data() -> dict[str, object]:
    touches = [
        touch("a1", "p1", at(0), "ads"),  # d1: first touch ads → sourced
        touch("s1", "p2", at(0), "sales_call"),  # d2: first touch is a sales call...
        touch("w2", "p2", at(1), "webinar"),  # ...then a webinar before creation → influenced only
        touch("e3", "p3", at(5), "email"),  # d3: only after creation (day 4), before close (day 6)
    ]
    deals = [
        deal("d1", at(2), amount="1000.00"),
        deal("d2", at(2), amount="2000.00"),
        deal("d3", at(4), closed=at(6), amount="4000.00", won=True, campaign="spring"),
        deal("d4", at(40), amount="8000.00"),  # created outside the period
    ]
    links = [link("d1", "p1"), link("d2", "p2"), link("d3", "p3"), link("d4", "p1")]
    return {"deals": deals, "deal_contacts": links, "touches": touches, "period": FIRST_HALF}


def test_sourced_is_a_subset_of_influenced_and_both_are_returned_separately() -> None:
    report = pipeline(non_marketing_channels=frozenset({"sales_call"}), **pipeline_data())  # type: ignore[arg-type]
    assert report.sourced_deals == ("d1",)
    assert report.influenced_deals == ("d1", "d2")
    assert (report.sourced.deals, report.sourced.amount) == (1, money("1000.00"))
    assert (report.influenced.deals, report.influenced.amount) == (2, money("3000.00"))
    assert report.sourced_by == {"ads": report.sourced}
    assert set(report.influenced_by) == {"ads", "webinar"}


def test_influence_until_close_counts_touches_between_creation_and_close() -> None:
    report = pipeline(
        non_marketing_channels=frozenset({"sales_call"}),
        influenced_until=InfluencedUntil.CLOSED,
        **pipeline_data(),  # type: ignore[arg-type]
    )
    assert report.influenced_deals == ("d1", "d2", "d3")
    assert report.influenced.amount == money("7000.00")


def test_without_non_marketing_channels_a_sales_call_first_touch_sources() -> None:
    report = pipeline(**pipeline_data())  # type: ignore[arg-type]
    assert report.sourced_deals == ("d1", "d2")


def test_primary_campaign_rule_sources_deals_with_a_campaign_and_keeps_them_influenced() -> None:
    report = pipeline(
        sourced_rule=SourcedRule.PRIMARY_CAMPAIGN,
        group_by=GroupBy.CAMPAIGN,
        **pipeline_data(),  # type: ignore[arg-type]
    )
    assert report.sourced_deals == ("d3",)
    assert set(report.sourced_deals) <= set(report.influenced_deals)
    assert report.sourced_by == {"spring": report.sourced}
    assert report.influenced_by["spring"].amount == money("4000.00")
