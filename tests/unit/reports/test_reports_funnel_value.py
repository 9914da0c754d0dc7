"""MQL value per source channel, funnel stage conversion and velocity, and sales velocity."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from report_builders import at, deal, link, money, stage, touch

from syncd.reports import FunnelMethod, GroupBy, Period, funnel, mql_value, sales_velocity

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))


def test_mql_value_is_close_rate_times_revenue_per_customer() -> None:
    # The classic example: 50 MQLs from ads, one becomes a customer worth 50,000
    # → close rate 2% × 50,000 = 1,000 per MQL.
    lifecycle = [stage(f"p{i}", "mql", at(1)) for i in range(50)]
    touches = [touch(f"t{i}", f"p{i}", at(0), "ads") for i in range(50)]
    deals = [deal("d", at(2), closed=at(20), amount="50000.00", won=True)]
    report = mql_value(
        lifecycle=lifecycle, touches=touches, deals=deals, deal_contacts=[link("d", "p7")], period=MARCH
    )
    (row,) = report.rows
    assert (row.source, row.mqls, row.customers) == ("ads", 50, 1)
    assert row.close_rate == Fraction(1, 50)
    assert row.revenue_per_customer == money("50000.00")
    assert row.value_per_mql == money("1000.00")


def test_mql_source_is_the_first_touch_at_or_before_the_mql_instant() -> None:
    lifecycle = [stage("early", "mql", at(1)), stage("late", "mql", at(1)), stage("none", "mql", at(1))]
    touches = [
        touch("1", "early", at(0), "ads"),
        touch("2", "early", at(0, 12), "email"),
        touch("3", "late", at(2), "social"),  # after the MQL instant: cannot be its source
    ]
    report = mql_value(lifecycle=lifecycle, touches=touches, deals=[], deal_contacts=[], period=MARCH)
    assert [(r.source, r.mqls, r.value_per_mql) for r in report.rows] == [
        ("ads", 1, money("0.00")),
        (None, 2, money("0.00")),
    ]


def test_mql_cohort_is_people_who_first_became_mql_in_the_period() -> None:
    lifecycle = [stage("old", "mql", at(-10)), stage("old", "mql", at(3)), stage("new", "mql", at(3))]
    touches = [touch("1", "old", at(-20), "ads"), touch("2", "new", at(0), "ads")]
    deals = [
        deal("d1", at(4), closed=at(5), amount="300.00", won=True),
        deal("d2", at(4), closed=at(5), amount="100.00", won=True),
    ]
    # d1 has both the old (out of cohort) and the new MQL: counted once, for the new one.
    links = [link("d1", "old"), link("d1", "new"), link("d2", "old")]
    report = mql_value(
        lifecycle=lifecycle,
        touches=touches,
        deals=deals,
        deal_contacts=links,
        period=MARCH,
        group_by=GroupBy.CHANNEL,
    )
    (row,) = report.rows
    assert (row.mqls, row.customers, row.won_revenue, row.value_per_mql) == (
        1,
        1,
        money("300.00"),
        money("300.00"),
    )


def funnel_events() -> list[object]:
    return [
        # a: lead (day 1) → mql (day 2) → sql (day 4)
        stage("a", "lead", at(1)),
        stage("a", "mql", at(2)),
        stage("a", "sql", at(4)),
        # b: lead (day 1) → mql (day 5)
        stage("b", "lead", at(1)),
        stage("b", "mql", at(5)),
        # c: lead only
        stage("c", "lead", at(2)),
        # d: straight to mql (day 3): implied lead entry at day 3
        stage("d", "mql", at(3)),
        # e: lead in February, mql in March
        stage("e", "lead", at(-10)),
        stage("e", "mql", at(1)),
    ]


def test_funnel_counts_the_cohort_entering_the_next_stage() -> None:
    report = funnel(funnel_events(), period=MARCH, stages=("lead", "mql", "sql"))  # type: ignore[arg-type]
    lead_mql, mql_sql = report.steps
    # Lead cohort in March: a, b, c, d (implied) = 4; of those a, b, d became MQLs → 3/4.
    assert (lead_mql.entered, lead_mql.converted, lead_mql.rate) == (4, 3, Fraction(3, 4))
    # Lead→MQL times: a 1 day, b 4 days, d 0 days → median 1 day.
    assert lead_mql.median_time == timedelta(days=1)
    # MQL cohort: a, b, d, e = 4; only a reached SQL (2 days later) → 1/4.
    assert (mql_sql.entered, mql_sql.converted, mql_sql.rate) == (4, 1, Fraction(1, 4))
    assert mql_sql.median_time == timedelta(days=2)
    assert report.entered == {"lead": 4, "mql": 4, "sql": 1}


def test_funnel_without_implied_stages_counts_only_explicit_entries() -> None:
    report = funnel(funnel_events(), period=MARCH, stages=("lead", "mql", "sql"), implied_stages=False)  # type: ignore[arg-type]
    lead_mql = report.steps[0]
    # Explicit lead cohort: a, b, c → a and b became MQLs; median of 1 and 4 days = 2.5 days.
    assert (lead_mql.entered, lead_mql.converted) == (3, 2)
    assert lead_mql.median_time == timedelta(days=2, hours=12)


def test_funnel_period_method_compares_entries_within_the_period() -> None:
    report = funnel(funnel_events(), period=MARCH, stages=("lead", "mql"), method=FunnelMethod.PERIOD)  # type: ignore[arg-type]
    # 4 MQL entries in March / 4 lead entries in March.
    assert report.steps[0].rate == 1


def test_funnel_ignores_entries_after_as_of() -> None:
    report = funnel(funnel_events(), period=MARCH, stages=("lead", "mql"), as_of=at(4))  # type: ignore[arg-type]
    # b's MQL at day 5 is in the future: lead cohort a, b, c, d → a and d converted.
    assert (report.steps[0].entered, report.steps[0].converted) == (4, 2)


def test_sales_velocity_is_opportunities_times_win_rate_times_size_over_cycle() -> None:
    deals = [
        deal("w1", at(0), closed=at(10), amount="1000.00", won=True),
        deal("w2", at(1), closed=at(31), amount="3000.00", won=True),
        deal("lost", at(2), closed=at(5), amount="9000.00"),
        deal("open", at(3), amount="500.00"),
        deal("april", at(40), closed=at(41), amount="1.00", won=True),
    ]
    v = sales_velocity(deals, period=MARCH)
    # 4 opportunities; win rate 2/3; average won 2000; cycle (10 + 30)/2 = 20 days
    # → 4 × 2/3 × 2000 / 20 = 266.666… per day.
    assert (v.opportunities, v.closed, v.won) == (4, 3, 2)
    assert v.win_rate == Fraction(2, 3)
    assert v.average_deal_size == money("2000.00")
    assert v.cycle_days == 20
    assert v.velocity_per_day == money("266.67")


def test_sales_velocity_without_won_deals_has_no_velocity() -> None:
    v = sales_velocity([deal("lost", at(0), closed=at(1), amount="5.00")], period=MARCH)
    assert v.win_rate == 0 and v.average_deal_size is None and v.velocity_per_day is None
