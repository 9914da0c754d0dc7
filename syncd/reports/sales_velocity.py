"""Sales velocity: opportunities × win rate × average deal size / sales cycle length (money per day)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from syncd.reports.money import CENT, quantize
from syncd.reports.types import Deal, Period

_MICRO = timedelta(microseconds=1)
_DAY_MICROS = timedelta(days=1) // _MICRO


@dataclass(frozen=True, slots=True)
class SalesVelocity:
    """Over the deals created in the period. None where a denominator is zero."""

    period: Period
    opportunities: int
    closed: int
    won: int
    win_rate: Fraction | None
    average_deal_size: Decimal | None
    cycle_days: Fraction | None
    velocity_per_day: Decimal | None


def sales_velocity(deals: Sequence[Deal], *, period: Period) -> SalesVelocity:
    """Opportunities = deals created in the period; win rate = won / closed among them; average deal
    size = mean amount of the won ones (None → 0); cycle = mean days from creation to close of the won."""
    cohort = [d for d in deals if period.contains(d.created_at)]
    closed = [d for d in cohort if d.closed_at is not None]
    won = [d for d in closed if d.is_won]
    win_rate = Fraction(len(won), len(closed)) if closed else None
    size = Fraction(sum((d.amount or Decimal(0) for d in won), Decimal(0))) / len(won) if won else None
    cycle = None
    if won:
        micros = sum((d.closed_at - d.created_at) // _MICRO for d in won if d.closed_at is not None)
        cycle = Fraction(micros, len(won)) / _DAY_MICROS
    velocity = None
    if win_rate is not None and size is not None and cycle:
        velocity = quantize(len(cohort) * win_rate * size / cycle, CENT)
    return SalesVelocity(
        period=period,
        opportunities=len(cohort),
        closed=len(closed),
        won=len(won),
        win_rate=win_rate,
        average_deal_size=quantize(size, CENT) if size is not None else None,
        cycle_days=cycle,
        velocity_per_day=velocity,
    )
