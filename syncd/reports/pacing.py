"""Lead goal pacing for a period, and the MQLs a revenue goal requires.

target to date = goal × elapsed days / days in period; pace = actual / target to date;
projection = actual × days in period / elapsed days; required per remaining day =
(goal − actual) / remaining days. Required MQLs = revenue goal × marketing share / average deal
size / MQL→customer rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from syncd.reports.errors import ReportError
from syncd.reports.stages import first_entries, stage_key
from syncd.reports.types import LifecycleEvent, Period


@dataclass(frozen=True, slots=True)
class Pacing:
    """Exact figures; None where a denominator is zero (nothing elapsed / nothing remaining)."""

    goal: Fraction
    actual: int
    days_in_period: int
    elapsed_days: int
    remaining_days: int
    target_to_date: Fraction
    pace: Fraction | None
    projection: Fraction | None
    required_per_remaining_day: Fraction | None


def pacing(
    goal: int | Decimal, actual: int, *, period: Period, as_of: date, as_of_elapsed: bool = True
) -> Pacing:
    """Pacing of `actual` (e.g. MQLs so far) against `goal` for the period, as of a date.

    Elapsed days run from the period start to `as_of`, counting `as_of` itself when
    `as_of_elapsed` (default: the report is read at the end of that day); clamped to the period.
    """
    if goal < 0 or actual < 0:
        raise ReportError(f"goal ({goal}) and actual ({actual}) must not be negative")
    days = period.days
    elapsed = (as_of - period.start).days + (1 if as_of_elapsed else 0)
    elapsed = min(max(elapsed, 0), days)
    remaining = days - elapsed
    exact_goal = Fraction(goal)
    target = exact_goal * elapsed / days
    return Pacing(
        goal=exact_goal,
        actual=actual,
        days_in_period=days,
        elapsed_days=elapsed,
        remaining_days=remaining,
        target_to_date=target,
        pace=Fraction(actual) / target if target else None,
        projection=Fraction(actual * days, elapsed) if elapsed else None,
        required_per_remaining_day=(exact_goal - actual) / remaining if remaining else None,
    )


def actual_to_date(
    lifecycle: Iterable[LifecycleEvent], *, period: Period, as_of: datetime, stage: str = "mql"
) -> int:
    """People whose first entry into `stage` falls in the period and at or before `as_of`."""
    entries = first_entries(lifecycle).get(stage_key(stage), {})
    return sum(1 for at in entries.values() if at <= as_of and period.contains(at))


@dataclass(frozen=True, slots=True)
class RequiredMqls:
    exact: Fraction
    rounded_up: int  # whole MQLs needed


def required_mqls(
    revenue_goal: Decimal,
    *,
    marketing_share: Fraction | Decimal,
    average_deal_size: Decimal,
    mql_to_customer_rate: Fraction | Decimal,
) -> RequiredMqls:
    """MQLs needed for marketing's part of a revenue goal (shares and rates as fractions of 1)."""
    if average_deal_size <= 0 or mql_to_customer_rate <= 0:
        raise ReportError(
            f"average deal size ({average_deal_size}) and MQL→customer rate ({mql_to_customer_rate}) "
            "must be positive",
            hint="measure them over a past period with closed deals first",
        )
    if not 0 <= marketing_share <= 1:
        raise ReportError(
            f"marketing share {marketing_share} is not between 0 and 1", hint="e.g. 0.6 for 60%"
        )
    exact = (
        Fraction(revenue_goal)
        * Fraction(marketing_share)
        / Fraction(average_deal_size)
        / Fraction(mql_to_customer_rate)
    )
    return RequiredMqls(exact=exact, rounded_up=math.ceil(exact))
