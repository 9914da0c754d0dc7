"""Inclusion filters: which people a flow syncs at all, as simple field/operator/value conditions.

Conditions are listed per system under `include:` and are all required (AND) for a record of that system;
a system with no conditions includes every record. Operators:
- `eq`, `ne`: equal / not equal (blank equals null).
- `in`, `not_in`: the value is / is not one of a list.
- `exists`, `not_exists`: the field is / is not blank (no `value`).
- `contains`: text containing the given text, ignoring case.
- `gt`, `gte`, `lt`, `lte`: numbers, dates or datetimes (a date condition compares a datetime's UTC date);
  a blank or non-comparable value does not match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from syncd.core.normalize import Value, is_blank


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    EXISTS = "exists"
    NOT_EXISTS = "not_exists"
    CONTAINS = "contains"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


VALUELESS = frozenset({Op.EXISTS, Op.NOT_EXISTS})
LIST_OPS = frozenset({Op.IN, Op.NOT_IN})


@dataclass(frozen=True)
class Condition:
    """`field op value` on one system's field; `line` is where it is written."""

    field: str
    op: Op
    value: Value | tuple[Value, ...] = None
    line: int = 0


@dataclass(frozen=True)
class InclusionFilter:
    """The conditions per system: `hubspot` and `salesforce` (applied to every Salesforce object)."""

    hubspot: tuple[Condition, ...] = field(default=())
    salesforce: tuple[Condition, ...] = field(default=())

    def for_system(self, system: str) -> tuple[Condition, ...]:
        return self.hubspot if system == "hubspot" else self.salesforce


def _blank(value: object) -> bool:
    return is_blank(value)


def _comparable(left: Value, right: Value) -> tuple[Any, Any] | None:
    if isinstance(left, datetime) and isinstance(right, date) and not isinstance(right, datetime):
        return left.date(), right
    for kinds in ((int, float), (datetime,), (date,), (str,)):
        if (
            isinstance(left, kinds)
            and isinstance(right, kinds)
            and not isinstance(left, bool)
            and not isinstance(right, bool)
        ):
            return left, right
    return None


def holds(condition: Condition, values: Mapping[str, Value]) -> bool:
    """Whether `condition` holds for a record with canonical `values`."""
    value = values.get(condition.field)
    op, expected = condition.op, condition.value
    if op is Op.EXISTS:
        return not _blank(value)
    if op is Op.NOT_EXISTS:
        return _blank(value)
    if op in LIST_OPS:
        options = expected if isinstance(expected, tuple) else (expected,)
        found = any(_equal(value, option) for option in options)
        return found if op is Op.IN else not found
    if op is Op.EQ:
        return _equal(value, expected)  # type: ignore[arg-type]
    if op is Op.NE:
        return not _equal(value, expected)  # type: ignore[arg-type]
    if op is Op.CONTAINS:
        return isinstance(value, str) and isinstance(expected, str) and expected.lower() in value.lower()
    if value is None or isinstance(expected, tuple):
        return False
    pair = _comparable(value, expected)
    if pair is None:
        return False
    left, right = pair
    try:
        if op is Op.GT:
            return bool(left > right)
        if op is Op.GTE:
            return bool(left >= right)
        if op is Op.LT:
            return bool(left < right)
        return bool(left <= right)
    except TypeError:  # e.g. an aware and a naive datetime
        return False


def _equal(value: Value, expected: Value) -> bool:
    if _blank(value) or _blank(expected):
        return _blank(value) and _blank(expected)
    pair = _comparable(value, expected)
    if pair is None:
        return value == expected and type(value) is type(expected)
    return bool(pair[0] == pair[1])


def included(conditions: Sequence[Condition], values: Mapping[str, Value]) -> bool:
    """Whether a record passes every condition (no conditions: it does)."""
    return all(holds(condition, values) for condition in conditions)
