"""Sourced and influenced pipeline: deals created in a period that marketing started or touched.

Sourced ⊆ influenced, and they are returned separately: adding them double-counts every sourced deal.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from syncd.reports.paths import TouchIndex, as_index, deal_contacts_by_deal, touch_order
from syncd.reports.rule_models import group_key
from syncd.reports.types import Deal, DealContact, GroupBy, Period, Touch


class SourcedRule(StrEnum):
    """What makes a deal marketing-sourced."""

    FIRST_TOUCH = "first_touch"  # its first touch (at or before creation) is on a marketing channel
    PRIMARY_CAMPAIGN = "primary_campaign"  # it has a primary campaign


class InfluencedUntil(StrEnum):
    """Which marketing touches count as influence: before the deal was created, or before it closed."""

    CREATED = "created"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class PipelineTotals:
    deals: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PipelineReport:
    """Totals and per-group breakdowns. A deal is influenced by every group it has a touch in, so the
    influenced breakdown does not sum to the influenced total; the sourced one does."""

    period: Period
    sourced: PipelineTotals
    influenced: PipelineTotals
    sourced_by: dict[str | None, PipelineTotals]
    influenced_by: dict[str | None, PipelineTotals]
    sourced_deals: tuple[str, ...]
    influenced_deals: tuple[str, ...]


def _add(table: dict[str | None, PipelineTotals], key: str | None, amount: Decimal) -> None:
    seen = table.get(key, PipelineTotals(0, Decimal(0)))
    table[key] = PipelineTotals(seen.deals + 1, seen.amount + amount)


def _sorted(table: dict[str | None, PipelineTotals]) -> dict[str | None, PipelineTotals]:
    return dict(sorted(table.items(), key=lambda kv: (kv[0] is None, kv[0] or "")))


def pipeline(
    *,
    deals: Sequence[Deal],
    deal_contacts: Sequence[DealContact],
    touches: Sequence[Touch] | TouchIndex,
    period: Period,
    group_by: GroupBy = GroupBy.CHANNEL,
    non_marketing_channels: frozenset[str] = frozenset(),
    sourced_rule: SourcedRule = SourcedRule.FIRST_TOUCH,
    influenced_until: InfluencedUntil = InfluencedUntil.CREATED,
    as_of: datetime | None = None,
) -> PipelineReport:
    """Sourced and influenced pipeline of the deals created in the period (amount None counts as 0).

    Touches on `non_marketing_channels` (e.g. configured sales calls) are never marketing. With
    `influenced_until=closed`, open deals count touches up to `as_of` (all touches when None).
    A sourced deal is always influenced. Sourced deals are grouped by their first touch (with the
    primary_campaign rule and campaign grouping: by the primary campaign).
    """
    index = as_index(touches)
    contacts = deal_contacts_by_deal(deal_contacts)
    sourced_by: dict[str | None, PipelineTotals] = {}
    influenced_by: dict[str | None, PipelineTotals] = {}
    sourced_ids: list[str] = []
    influenced_ids: list[str] = []
    sourced_amount = influenced_amount = Decimal(0)
    for deal in deals:
        if not period.contains(deal.created_at):
            continue
        amount = deal.amount if deal.amount is not None else Decimal(0)
        person_ids = contacts.get(deal.deal_id, ())
        if influenced_until is InfluencedUntil.CLOSED:
            cutoff = deal.closed_at if deal.closed_at is not None else as_of
        else:
            cutoff = deal.created_at
        pooled = [index.of(pid) if cutoff is None else index.until(pid, cutoff) for pid in person_ids]
        marketing = [
            t for t in heapq.merge(*pooled, key=touch_order) if t.channel not in non_marketing_channels
        ]
        firsts = [t for pid in person_ids if (t := index.first_until(pid, deal.created_at)) is not None]
        first = min(firsts, key=touch_order) if firsts else None
        if sourced_rule is SourcedRule.FIRST_TOUCH:
            sourced = first is not None and first.channel not in non_marketing_channels
        else:
            sourced = deal.primary_campaign is not None
        influenced_keys = {group_key(t, group_by) for t in marketing}
        if sourced:
            if sourced_rule is SourcedRule.PRIMARY_CAMPAIGN and group_by is GroupBy.CAMPAIGN:
                sourced_key = deal.primary_campaign
            else:
                sourced_key = group_key(first, group_by) if first is not None else None
            sourced_ids.append(deal.deal_id)
            sourced_amount += amount
            _add(sourced_by, sourced_key, amount)
            # Sourced ⊆ influenced, per group too.
            influenced_keys.add(sourced_key)
        if sourced or marketing:
            influenced_ids.append(deal.deal_id)
            influenced_amount += amount
            for key in influenced_keys:
                _add(influenced_by, key, amount)
    return PipelineReport(
        period=period,
        sourced=PipelineTotals(len(sourced_ids), sourced_amount),
        influenced=PipelineTotals(len(influenced_ids), influenced_amount),
        sourced_by=_sorted(sourced_by),
        influenced_by=_sorted(influenced_by),
        sourced_deals=tuple(sorted(sourced_ids)),
        influenced_deals=tuple(sorted(influenced_ids)),
    )
