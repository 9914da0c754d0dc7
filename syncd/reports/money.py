"""Exact splitting of one amount into shares that sum to it exactly after rounding.

Each share is rounded half-even to the quantum (a cent for money); the rounding remainder goes to
the largest share (ties: the earliest share), so a conversion's credits always sum to its value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

CENT = Decimal("0.01")
# Count conversions (1 per contact or deal) are split finely so long paths keep their proportions.
COUNT_QUANTUM = Decimal("0.000001")


def to_units(value: Decimal, quantum: Decimal) -> int:
    """The value as a whole number of quanta (rounded half-even when it has more decimals)."""
    if quantum <= 0:
        raise ValueError(f"quantum must be positive, got {quantum}")
    return int((value / quantum).to_integral_value(rounding=ROUND_HALF_EVEN))


def _round_half_even(numerator: int, denominator: int) -> int:
    quotient, rest = divmod(numerator, denominator)
    twice = 2 * rest
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def split_units(units: int, weights: Sequence[int]) -> list[int]:
    """Split `units` in proportion to non-negative integer weights; the parts sum to `units` exactly."""
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    total = sum(weights)
    if total == 0:
        raise ValueError("at least one weight must be positive")
    if units < 0:
        return [-part for part in split_units(-units, weights)]
    if len(weights) == 1:
        return [units]
    parts = []
    for w in weights:  # _round_half_even inlined: this runs once per touch of every path
        share, rest = divmod(units * w, total)
        if 2 * rest > total or (2 * rest == total and share & 1):
            share += 1
        parts.append(share)
    remainder = units - sum(parts)
    if remainder > 0:
        # The largest share; index() finds the earliest of equal ones.
        parts[weights.index(max(weights))] += remainder
    elif remainder < 0:
        # Rounding up overshot (only possible when the amount is a handful of quanta): take the
        # excess back from the largest shares first, never pushing a share below zero.
        for i in sorted(range(len(weights)), key=lambda i: (-weights[i], i)):
            take = min(parts[i], -remainder)
            parts[i] -= take
            remainder += take
            if remainder == 0:
                break
    return parts


def fraction_weights(shares: Sequence[Fraction]) -> list[int]:
    """Scale exact fractional shares to integer weights with the same proportions."""
    denominator = math.lcm(*(s.denominator for s in shares)) if shares else 1
    return [int(s * denominator) for s in shares]


def quantize(value: Fraction, quantum: Decimal = CENT) -> Decimal:
    """An exact Fraction rounded half-even to the quantum."""
    q = Fraction(quantum)
    return _round_half_even(value.numerator * q.denominator, value.denominator * q.numerator) * quantum
