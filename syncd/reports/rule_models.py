"""Rule-based attribution: share weights per model, and credits per touch, channel or campaign.

Shares are exact integer weights per path (position slots in per-mille, the middle share split by
scaling), so money is split exactly: see `syncd.reports.money`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from math import exp2, ldexp
from operator import attrgetter

from syncd.reports.errors import ModelNotApplicableError, ReportError
from syncd.reports.money import CENT, COUNT_QUANTUM, split_units, to_units
from syncd.reports.paths import Conversion, TouchIndex, build_conversions
from syncd.reports.types import ConversionType, Deal, DealContact, GroupBy, Period, Person, Touch

DEFAULT_HALF_LIFE_DAYS = 7.0


class RuleModel(StrEnum):
    FIRST = "first"
    LAST = "last"
    LINEAR = "linear"
    U_SHAPED = "u_shaped"
    W_SHAPED = "w_shaped"
    FULL_PATH = "full_path"
    TIME_DECAY = "time_decay"
    J_SHAPED = "j_shaped"
    INVERSE_J = "inverse_j"


# (position slots in per-mille, middle share in per-mille). "last" is the last touch of the path:
# CW for revenue, OC for deal_create, LC for contact_create.
_POSITIONS: dict[RuleModel, tuple[tuple[tuple[str, int], ...], int]] = {
    RuleModel.FIRST: ((("ft", 1000),), 0),
    RuleModel.LAST: ((("last", 1000),), 0),
    RuleModel.U_SHAPED: ((("ft", 400), ("lc", 400)), 200),
    RuleModel.W_SHAPED: ((("ft", 300), ("lc", 300), ("oc", 300)), 100),
    RuleModel.FULL_PATH: ((("ft", 225), ("lc", 225), ("oc", 225), ("cw", 225)), 100),
    RuleModel.J_SHAPED: ((("ft", 200), ("last", 600)), 200),
    RuleModel.INVERSE_J: ((("ft", 600), ("last", 200)), 200),
}

_POINT_NAMES = {"ft": "first touch (FT)", "lc": "lead creation (LC)", "oc": "deal creation (OC)"}
_POINT_NAMES["cw"] = "closed-won (CW)"
_HAS_POINTS = {
    ConversionType.CONTACT_CREATE: {"ft", "lc", "last"},
    ConversionType.DEAL_CREATE: {"ft", "lc", "oc", "last"},
    ConversionType.REVENUE: {"ft", "lc", "oc", "cw", "last"},
}


def check_model(model: RuleModel, conversion_type: ConversionType) -> None:
    """Reject a model that needs a key point the conversion type does not have."""
    slots = _POSITIONS.get(model, ((), 0))[0]
    missing = [name for name, _ in slots if name not in _HAS_POINTS[conversion_type]]
    if missing:
        points = ", ".join(_POINT_NAMES[m] for m in missing)
        raise ModelNotApplicableError(
            f"model {model.value} needs the {points} touch, which {conversion_type.value} conversions "
            "do not have",
            hint="pick another model (u_shaped works for every conversion type) or report on "
            + ("revenue" if model is RuleModel.FULL_PATH else "deal_create or revenue"),
        )


def _check_half_life(half_life_days: float) -> None:
    if not half_life_days > 0:
        raise ReportError(
            f"half_life_days must be positive, got {half_life_days}", hint="the default is 7 days"
        )


def _point(conversion: Conversion, name: str) -> int | None:
    kp = conversion.key_points
    if name == "last":
        return len(conversion.path) - 1
    return {"ft": kp.ft, "lc": kp.lc, "oc": kp.oc, "cw": kp.cw}[name]


def share_weights(
    conversion: Conversion, model: RuleModel, *, half_life_days: float = DEFAULT_HALF_LIFE_DAYS
) -> list[int]:
    """Integer weights, one per touch of the path, proportional to each touch's share of the credit.

    Edge rules: a touch holding several positions gets the sum of their shares; a position the path
    lacks (no touch at or before it) and a middle share with no other touch are given to the filled
    slots in proportion to their shares; a single touch gets everything.
    """
    check_model(model, conversion.type)
    return _weights(conversion, model, half_life_days)


def _weights(conversion: Conversion, model: RuleModel, half_life_days: float) -> list[int]:
    """`share_weights` without the model check (callers check once per report)."""
    n = len(conversion.path)
    if n == 0:
        raise ReportError(
            f"conversion {conversion.conversion_id} has no touches to credit",
            hint="report it as unattributed instead",
        )
    if n == 1:
        return [1]
    if model is RuleModel.LINEAR:
        return [1] * n
    if model is RuleModel.TIME_DECAY:
        _check_half_life(half_life_days)
        per_second = 1.0 / (half_life_days * 86400.0)
        newest = conversion.path[-1].occurred_at
        # Relative to the newest touch the weights stay in (0, 1] and never all underflow;
        # the common factor 2^(-age_newest/h) cancels in the normalisation. Scaled by 2^60 to integers.
        return [
            round(ldexp(exp2((t.occurred_at - newest).total_seconds() * per_second), 60))
            for t in conversion.path
        ]
    slots, middle = _POSITIONS[model]
    held: dict[int, int] = {}
    for name, weight in slots:
        idx = _point(conversion, name)
        if idx is not None:
            held[idx] = held.get(idx, 0) + weight
    others = n - len(held)
    if others and middle:
        return [held[i] * others if i in held else middle for i in range(n)]
    return [held.get(i, 0) for i in range(n)]


@dataclass(frozen=True, slots=True)
class Credit:
    """The part of one conversion's value credited to one touch."""

    conversion_id: str
    touch_id: str
    channel: str
    campaign: str | None
    amount: Decimal


def default_quantum(conversion_type: ConversionType) -> Decimal:
    """Cents for revenue; a millionth for count conversions (1 per contact or deal)."""
    return CENT if conversion_type is ConversionType.REVENUE else COUNT_QUANTUM


def credit_conversion(
    conversion: Conversion,
    model: RuleModel,
    *,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    quantum: Decimal | None = None,
) -> list[Credit]:
    """The credits of one conversion's touches; they sum exactly to the conversion's value."""
    q = quantum if quantum is not None else default_quantum(conversion.type)
    weights = share_weights(conversion, model, half_life_days=half_life_days)
    parts = split_units(to_units(conversion.value, q), weights)
    return [
        Credit(conversion.conversion_id, t.touch_id, t.channel, t.campaign, units * q)
        for t, units in zip(conversion.path, parts, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class AttributionReport:
    """Credits of every conversion summed per group (channel, campaign or touch id).

    `credits` keys are None for touches without a campaign when grouping by campaign.
    Conversions with no touch at all are not credited; they are listed in `unattributed`.
    """

    model: str
    conversion_type: ConversionType
    group_by: GroupBy
    credits: dict[str | None, Decimal]
    conversions: int
    total_value: Decimal
    attributed_value: Decimal
    unattributed: tuple[str, ...]
    unattributed_value: Decimal


_KEY_OF: dict[GroupBy, Callable[[Touch], str | None]] = {
    GroupBy.CHANNEL: attrgetter("channel"),
    GroupBy.CAMPAIGN: attrgetter("campaign"),
    GroupBy.TOUCH: attrgetter("touch_id"),
}


def group_key(touch: Touch, group_by: GroupBy) -> str | None:
    """The channel, campaign or touch id a touch's credit is summed under."""
    return _KEY_OF[group_by](touch)


def attribute_conversions(
    conversions: Sequence[Conversion],
    model: RuleModel,
    conversion_type: ConversionType,
    *,
    group_by: GroupBy = GroupBy.CHANNEL,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    quantum: Decimal | None = None,
) -> AttributionReport:
    """Credit already-built conversions (from `build_conversions`) under a rule model."""
    check_model(model, conversion_type)
    if model is RuleModel.TIME_DECAY:
        _check_half_life(half_life_days)
    q = quantum if quantum is not None else default_quantum(conversion_type)
    units_by_key: dict[str | None, int] = {}
    unattributed: list[str] = []
    total = Decimal(0)
    unattributed_value = Decimal(0)
    key_of = _KEY_OF[group_by]
    units_of: dict[Decimal, int] = {}  # count conversions all have the value 1
    for conversion in conversions:
        units_total = units_of.get(conversion.value)
        if units_total is None:
            units_total = units_of[conversion.value] = to_units(conversion.value, q)
        total += units_total * q
        if not conversion.path:
            unattributed.append(conversion.conversion_id)
            unattributed_value += units_total * q
            continue
        parts = split_units(units_total, _weights(conversion, model, half_life_days))
        for touch, units in zip(conversion.path, parts, strict=True):
            key = key_of(touch)
            units_by_key[key] = units_by_key.get(key, 0) + units
    credits = {key: units * q for key, units in sorted(units_by_key.items(), key=_none_last)}
    return AttributionReport(
        model=model.value,
        conversion_type=conversion_type,
        group_by=group_by,
        credits=credits,
        conversions=len(conversions),
        total_value=total,
        attributed_value=total - unattributed_value,
        unattributed=tuple(sorted(unattributed)),
        unattributed_value=unattributed_value,
    )


def _none_last(item: tuple[str | None, object]) -> tuple[bool, str]:
    return (item[0] is None, item[0] or "")


def attribute(
    conversion_type: ConversionType,
    model: RuleModel,
    *,
    people: Sequence[Person],
    touches: Sequence[Touch] | TouchIndex,
    deals: Sequence[Deal] = (),
    deal_contacts: Sequence[DealContact] = (),
    group_by: GroupBy = GroupBy.CHANNEL,
    lookback_days: int | None = None,
    period: Period | None = None,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    quantum: Decimal | None = None,
) -> AttributionReport:
    """Attribute every conversion of a type (whose instant is in `period`, when given) under a rule model."""
    check_model(model, conversion_type)
    conversions = build_conversions(
        conversion_type,
        people=people,
        touches=touches,
        deals=deals,
        deal_contacts=deal_contacts,
        lookback_days=lookback_days,
        period=period,
    )
    return attribute_conversions(
        conversions,
        model,
        conversion_type,
        group_by=group_by,
        half_life_days=half_life_days,
        quantum=quantum,
    )
