"""Lead goal pacing and the MQLs a revenue goal requires."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from syncd.reports import LifecycleEvent, Period, ReportError, actual_to_date, pacing, required_mqls

APRIL = Period(date(2026, 4, 1), date(2026, 4, 30))


def test_pacing_mid_period() -> None:
    # Goal 300 MQLs in 30 days; as of 10 April (10 days elapsed incl. that day) 90 MQLs.
    p = pacing(300, 90, period=APRIL, as_of=date(2026, 4, 10))
    assert (p.days_in_period, p.elapsed_days, p.remaining_days) == (30, 10, 20)
    assert p.target_to_date == 100  # 300 × 10/30
    assert p.pace == Fraction(9, 10)  # 90 / 100
    assert p.projection == 270  # 90 × 30/10
    assert p.required_per_remaining_day == Fraction(21, 2)  # (300 − 90)/20 = 10.5


def test_pacing_can_leave_the_as_of_day_unelapsed() -> None:
    p = pacing(300, 90, period=APRIL, as_of=date(2026, 4, 10), as_of_elapsed=False)
    assert (p.elapsed_days, p.target_to_date, p.projection) == (9, 90, 300)


def test_pacing_before_the_period_and_at_its_end() -> None:
    before = pacing(300, 0, period=APRIL, as_of=date(2026, 3, 20))
    assert (before.elapsed_days, before.pace, before.projection) == (0, None, None)
    assert before.required_per_remaining_day == 10
    after = pacing(300, 310, period=APRIL, as_of=date(2026, 5, 3))
    assert (after.remaining_days, after.required_per_remaining_day, after.pace) == (0, None, Fraction(31, 30))


def test_required_mqls_from_a_revenue_goal() -> None:
    # 1,000,000 × 60% marketing share / 50,000 average deal / 2% MQL→customer = 600 MQLs.
    need = required_mqls(
        Decimal("1000000"),
        marketing_share=Decimal("0.6"),
        average_deal_size=Decimal("50000"),
        mql_to_customer_rate=Decimal("0.02"),
    )
    assert (need.exact, need.rounded_up) == (600, 600)
    odd = required_mqls(
        Decimal("100000"),
        marketing_share=Fraction(1, 3),
        average_deal_size=Decimal("7000"),
        mql_to_customer_rate=Fraction(1, 10),
    )
    # 100000/3/7000·10 = 47.619… → 48 whole MQLs.
    assert odd.exact == Fraction(1000, 21) and odd.rounded_up == 48


def test_required_mqls_rejects_a_zero_rate() -> None:
    with pytest.raises(ReportError):
        required_mqls(
            Decimal(1),
            marketing_share=Decimal(1),
            average_deal_size=Decimal(1),
            mql_to_customer_rate=Decimal(0),
        )


def test_actual_to_date_counts_first_entries_in_the_period_up_to_as_of() -> None:
    events = [
        LifecycleEvent("a", "mql", datetime(2026, 4, 2, tzinfo=UTC)),
        LifecycleEvent("b", "MQL", datetime(2026, 4, 10, 23, tzinfo=UTC)),
        LifecycleEvent("c", "mql", datetime(2026, 4, 11, tzinfo=UTC)),  # after as_of
        LifecycleEvent("d", "mql", datetime(2026, 3, 30, tzinfo=UTC)),  # before the period...
        LifecycleEvent("d", "mql", datetime(2026, 4, 3, tzinfo=UTC)),  # ...so not a new MQL now
        LifecycleEvent("e", "sql", datetime(2026, 4, 3, tzinfo=UTC)),
    ]
    as_of = datetime(2026, 4, 10, 23, 59, tzinfo=UTC)
    assert actual_to_date(events, period=APRIL, as_of=as_of) == 2
