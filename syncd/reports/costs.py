"""Spend per channel or campaign inside a reporting period, with a chosen proration rule."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from syncd.reports.errors import ReportError
from syncd.reports.money import CENT, quantize
from syncd.reports.types import Cost, GroupBy, Period


class CostProration(StrEnum):
    """How a cost row that overlaps the period is counted."""

    DAYS = "days"  # the share of the row's days that fall inside the period (default)
    WHOLE = "whole"  # any overlapping row counts in full
    CONTAINED = "contained"  # only rows entirely inside the period count (in full)


def cost_in_period(cost: Cost, period: Period, proration: CostProration = CostProration.DAYS) -> Fraction:
    """The exact part of one cost row that belongs to the period."""
    if cost.period_end < cost.period_start:
        raise ReportError(
            f"cost row for channel {cost.channel} ends ({cost.period_end}) before it starts "
            f"({cost.period_start})",
            hint="fix period_start/period_end in the cost data",
        )
    first = max(cost.period_start, period.start)
    last = min(cost.period_end, period.end)
    if last < first:
        return Fraction(0)
    amount = Fraction(cost.amount)
    if proration is CostProration.WHOLE:
        return amount
    if proration is CostProration.CONTAINED:
        inside = period.start <= cost.period_start and cost.period_end <= period.end
        return amount if inside else Fraction(0)
    row_days = (cost.period_end - cost.period_start).days + 1
    return amount * ((last - first).days + 1) / row_days


def costs_by_group(
    costs: Iterable[Cost],
    period: Period,
    *,
    group_by: GroupBy = GroupBy.CHANNEL,
    proration: CostProration = CostProration.DAYS,
) -> dict[str | None, Decimal]:
    """Spend per channel (or per campaign; None = channel-level spend without a campaign), in cents."""
    if group_by is GroupBy.TOUCH:
        raise ReportError("costs cannot be grouped by touch", hint="group by channel or campaign")
    exact: dict[str | None, Fraction] = {}
    for cost in costs:
        key = cost.channel if group_by is GroupBy.CHANNEL else cost.campaign
        part = cost_in_period(cost, period, proration)
        exact[key] = exact.get(key, Fraction(0)) + part
    return {key: quantize(value, CENT) for key, value in exact.items()}
