"""Shapley attribution per channel with the cumulative characteristic function, computed exactly.

v(S) = value of the converting journeys whose channel set is a subset of S;
φ_i = Σ_{S ⊆ N∖{i}} |S|!(n−|S|−1)!/n! · (v(S ∪ {i}) − v(S)). Exact up to `max_channels` (15).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from syncd.reports.data_driven import DataDrivenReport
from syncd.reports.errors import TooManyChannelsError
from syncd.reports.money import split_units, to_units
from syncd.reports.paths import Journey, TouchIndex, build_journeys
from syncd.reports.rule_models import default_quantum
from syncd.reports.types import ConversionType, Deal, DealContact, Period, Person, Touch

MAX_EXACT_CHANNELS = 15


def shapley_from_journeys(
    journeys: Sequence[Journey],
    conversion_type: ConversionType,
    *,
    quantum: Decimal | None = None,
    max_channels: int = MAX_EXACT_CHANNELS,
    unattributed: Sequence[tuple[str, Decimal]] = (),
) -> DataDrivenReport:
    """Shapley values per channel from journeys; only converting journeys carry value."""
    q = quantum if quantum is not None else default_quantum(conversion_type)
    converting = [j for j in journeys if j.converted and j.channels]
    every_channel = sorted({c for j in journeys for c in j.channels})
    players = sorted({c for j in converting for c in j.channels})
    n = len(players)
    if n > max_channels:
        raise TooManyChannelsError(
            f"Shapley values are computed exactly for at most {max_channels} channels; the converting "
            f"journeys use {n} ({', '.join(players)})",
            hint="group channels into a coarser taxonomy, or use the markov model",
        )
    bit = {c: 1 << i for i, c in enumerate(players)}
    size = 1 << n
    # v over subsets: value per exact channel set, then summed over subsets (zeta transform).
    v = [0] * size
    for journey in converting:
        mask = 0
        for channel in journey.channels:
            mask |= bit[channel]
        v[mask] += to_units(journey.value, q)
    for i in range(n):
        b = 1 << i
        for mask in range(size):
            if mask & b:
                v[mask] += v[mask ^ b]
    fact = [math.factorial(m) for m in range(n + 1)]
    scaled: list[int] = []  # φ_i · n!, in quanta
    for i in range(n):
        b = 1 << i
        acc = 0
        for mask in range(size):
            if not mask & b:
                s = mask.bit_count()
                acc += fact[s] * fact[n - s - 1] * (v[mask | b] - v[mask])
        scaled.append(acc)
    total_units = v[size - 1] if n else 0
    exact = {c: Fraction(0) for c in every_channel}
    credits = {c: Decimal(0) * q for c in every_channel}
    if total_units:
        parts = split_units(total_units, scaled)
        for c, acc, units in zip(players, scaled, parts, strict=True):
            exact[c] = Fraction(acc, fact[n]) * Fraction(q)
            credits[c] = units * q
    return DataDrivenReport(
        model="shapley",
        conversion_type=conversion_type,
        credits=credits,
        exact=exact,
        total_value=total_units * q,
        journeys=len(journeys),
        converting_journeys=len(converting),
        unattributed=tuple(sorted(cid for cid, _ in unattributed)),
        unattributed_value=sum((to_units(val, q) * q for _, val in unattributed), Decimal(0)),
    )


def shapley(
    conversion_type: ConversionType,
    *,
    people: Sequence[Person],
    touches: Sequence[Touch] | TouchIndex,
    deals: Sequence[Deal] = (),
    deal_contacts: Sequence[DealContact] = (),
    lookback_days: int | None = None,
    period: Period | None = None,
    quantum: Decimal | None = None,
    max_channels: int = MAX_EXACT_CHANNELS,
) -> DataDrivenReport:
    """Exact Shapley attribution per channel (at most `max_channels` channels)."""
    journeys, unattributed = build_journeys(
        conversion_type,
        people=people,
        touches=touches,
        deals=deals,
        deal_contacts=deal_contacts,
        lookback_days=lookback_days,
        period=period,
    )
    return shapley_from_journeys(
        journeys,
        conversion_type,
        quantum=quantum,
        max_channels=max_channels,
        unattributed=[(c.conversion_id, c.value) for c in unattributed],
    )
