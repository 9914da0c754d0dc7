"""MQL value per source channel: won revenue of an MQL cohort divided by its MQLs.

MQL value = close rate × average revenue per customer = won revenue(ch) / MQLs(ch), e.g.
2% × $50,000 = $1,000 per MQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from syncd.reports.money import CENT, quantize
from syncd.reports.paths import TouchIndex, as_index, deal_contacts_by_deal
from syncd.reports.sources import source_of
from syncd.reports.stages import first_entries, stage_key
from syncd.reports.types import Deal, DealContact, GroupBy, LifecycleEvent, Period, Touch


@dataclass(frozen=True, slots=True)
class MqlValueRow:
    """One source (None: the MQL had no touch at or before becoming an MQL)."""

    source: str | None
    mqls: int
    customers: int
    won_revenue: Decimal
    close_rate: Fraction
    revenue_per_customer: Decimal | None
    value_per_mql: Decimal


@dataclass(frozen=True, slots=True)
class MqlValueReport:
    period: Period
    group_by: GroupBy
    rows: tuple[MqlValueRow, ...]


def mql_value(
    *,
    lifecycle: Sequence[LifecycleEvent],
    touches: Sequence[Touch] | TouchIndex,
    deals: Sequence[Deal],
    deal_contacts: Sequence[DealContact],
    period: Period,
    group_by: GroupBy = GroupBy.CHANNEL,
    mql_stage: str = "mql",
    won_until: datetime | None = None,
) -> MqlValueReport:
    """MQL value per source over the cohort of people who first became MQLs in the period.

    Source = the channel (or campaign) of the person's first touch at or before the MQL instant.
    A won deal (closed at or before `won_until`, when given) belongs to the cohort when one of its
    contacts is a cohort MQL; its amount counts once, for the contact who became an MQL first
    (ties: lowest person id). Customers = cohort MQLs credited with at least one won deal.
    """
    index = as_index(touches)
    mql_at = {
        pid: at
        for pid, at in first_entries(lifecycle).get(stage_key(mql_stage), {}).items()
        if period.contains(at)
    }
    source = {pid: source_of(index, pid, at, group_by) for pid, at in mql_at.items()}
    mqls: dict[str | None, int] = {}
    for key in source.values():
        mqls[key] = mqls.get(key, 0) + 1
    contacts = deal_contacts_by_deal(deal_contacts)
    revenue: dict[str | None, Decimal] = {}
    customers: dict[str | None, set[str]] = {}
    for deal in deals:
        if not deal.is_won or deal.closed_at is None:
            continue
        if won_until is not None and deal.closed_at > won_until:
            continue
        cohort = [pid for pid in contacts.get(deal.deal_id, ()) if pid in mql_at]
        if not cohort:
            continue
        owner = min(cohort, key=lambda pid: (mql_at[pid], pid))
        key = source[owner]
        revenue[key] = revenue.get(key, Decimal(0)) + (deal.amount or Decimal(0))
        customers.setdefault(key, set()).add(owner)
    rows = []
    for key in sorted(mqls, key=lambda k: (k is None, k or "")):
        won = revenue.get(key, Decimal(0))
        won_customers = len(customers.get(key, ()))
        rows.append(
            MqlValueRow(
                source=key,
                mqls=mqls[key],
                customers=won_customers,
                won_revenue=quantize(
                    Fraction(won), CENT
                ),  # store amounts carry 4 places; money reads in cents
                close_rate=Fraction(won_customers, mqls[key]),
                revenue_per_customer=quantize(Fraction(won) / won_customers, CENT) if won_customers else None,
                value_per_mql=quantize(Fraction(won) / mqls[key], CENT),
            )
        )
    return MqlValueReport(period=period, group_by=group_by, rows=tuple(rows))
