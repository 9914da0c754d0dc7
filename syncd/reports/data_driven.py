"""The result type shared by the data-driven models (Markov removal effect, Shapley)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from syncd.reports.types import ConversionType


@dataclass(frozen=True, slots=True)
class DataDrivenReport:
    """Credit per channel under a data-driven model.

    `exact` holds the exact credits; `credits` the same rounded to the quantum, summing exactly to
    `total_value` (remainder to the largest credit). `removal_effects` and `conversion_probability`
    are set by the Markov model only. Conversions without any touch are listed in `unattributed`.
    """

    model: str
    conversion_type: ConversionType
    credits: dict[str, Decimal]
    exact: dict[str, Fraction]
    total_value: Decimal
    journeys: int
    converting_journeys: int
    unattributed: tuple[str, ...]
    unattributed_value: Decimal
    removal_effects: dict[str, Fraction] | None = None
    conversion_probability: Fraction | None = None
