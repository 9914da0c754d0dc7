"""Field transforms: small pure steps that turn one side's value into the other side's, and their types.

Every transform passes a blank (None) through unchanged, except `default` (which replaces it) and a
`map` with a `null` key. Chains run left to right. See mappings/README.md for the YAML spelling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from syncd.connector import FieldType
from syncd.core.convert import Convert, TransformError, UnmappedValue
from syncd.core.normalize import UnreadableValue, Value, canonical_datetime, canonical_number
from syncd.core.rules import Side
from syncd.mapping.owners import OwnerMap


class Kind(StrEnum):
    """The shape of a value, as far as type compatibility is concerned."""

    TEXT = "text"
    NUMBER = "number"
    BOOL = "boolean"
    DATE = "date"
    DATETIME = "datetime"


_KIND_OF_TYPE = {
    FieldType.STRING: Kind.TEXT,
    FieldType.TEXT: Kind.TEXT,
    FieldType.EMAIL: Kind.TEXT,
    FieldType.ENUM: Kind.TEXT,
    FieldType.REFERENCE: Kind.TEXT,
    FieldType.ID: Kind.TEXT,
    FieldType.NUMBER: Kind.NUMBER,
    FieldType.BOOL: Kind.BOOL,
    FieldType.DATE: Kind.DATE,
    FieldType.DATETIME: Kind.DATETIME,
}


def kind_of_type(type_: FieldType) -> Kind:
    return _KIND_OF_TYPE[type_]


def kind_of_value(value: Value) -> Kind | None:
    """The kind of a literal from the mapping file; None for null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return Kind.BOOL
    if isinstance(value, int | float):
        return Kind.NUMBER
    if isinstance(value, datetime):
        return Kind.DATETIME
    if isinstance(value, date):
        return Kind.DATE
    return Kind.TEXT


def accepts(target: Kind, value: Kind) -> bool:
    """Whether a field of kind `target` accepts values of kind `value` (a date may fill a datetime)."""
    return value is target or (target is Kind.DATETIME and value is Kind.DATE)


class KindError(Exception):
    """A transform applied to a value kind it cannot handle (a mapping problem, found by validation)."""


@dataclass(frozen=True)
class Context:
    """What a transform may know besides the value: the side written to and the owner map."""

    to: Side
    owners: OwnerMap | None = None


@dataclass(frozen=True)
class Transform:
    """Base of all transforms; `line` is where it is written in the mapping file."""

    line: int

    @property
    def label(self) -> str:
        raise NotImplementedError

    def apply(self, value: Value, context: Context) -> Value:
        raise NotImplementedError

    def output_kind(self, kind: Kind) -> Kind:
        """The kind produced from input of kind `kind`; raises KindError when it does not fit."""
        raise NotImplementedError

    def literals(self) -> tuple[Value, ...]:
        """Values this transform can emit regardless of input (map outputs, defaults)."""
        return ()


def _need(kind: Kind, allowed: Sequence[Kind], label: str) -> None:
    if kind not in allowed:
        names = " or ".join(k.value for k in allowed)
        raise KindError(f"{label} needs {names} values, not {kind.value}")


@dataclass(frozen=True)
class TextCase(Transform):
    """`trim`, `lower` or `upper` on text."""

    op: str

    @property
    def label(self) -> str:
        return self.op

    def apply(self, value: Value, context: Context) -> Value:
        if value is None:
            return None
        if not isinstance(value, str):
            raise TransformError(f"{self.op} needs text")
        if self.op == "lower":
            return value.lower() or None
        if self.op == "upper":
            return value.upper() or None
        return value.strip() or None

    def output_kind(self, kind: Kind) -> Kind:
        _need(kind, [Kind.TEXT], self.op)
        return Kind.TEXT


@dataclass(frozen=True)
class ValueMap(Transform):
    """`map`: translate picklist values; `otherwise` says what happens to an unlisted value.

    `otherwise` is "error" (the field is skipped for that record with an issue), "keep" (passed through)
    or a literal (including null).
    """

    pairs: tuple[tuple[Value, Value], ...]
    otherwise: str = "error"
    fallback: Value = None
    # The line of each pair in the mapping file (empty: every pair is on `line`).
    pair_lines: tuple[int, ...] = ()

    @property
    def label(self) -> str:
        return "map"

    def line_of_pair(self, index: int) -> int:
        return self.pair_lines[index] if index < len(self.pair_lines) else self.line

    def apply(self, value: Value, context: Context) -> Value:
        for key, mapped in self.pairs:
            if key == value and type(key) is type(value):
                return mapped
        if value is None or self.otherwise == "keep":
            return value
        if self.otherwise == "value":
            return self.fallback
        raise UnmappedValue(f"value {value!r} is not in the value map")

    def output_kind(self, kind: Kind) -> Kind:
        kinds = {kind_of_value(v) for v in self.literals()} - {None}
        if len(kinds) > 1:
            raise KindError("map outputs mix kinds: " + ", ".join(sorted(k.value for k in kinds if k)))
        out = kinds.pop() if kinds else kind
        if out is None:  # pragma: no cover - kinds holds no None after the difference
            return kind
        if self.otherwise == "keep" and out is not kind:
            raise KindError(f"map outputs {out.value} but keeps unlisted {kind.value} values")
        return out

    def literals(self) -> tuple[Value, ...]:
        outputs = tuple(mapped for _key, mapped in self.pairs)
        return (*outputs, self.fallback) if self.otherwise == "value" else outputs


@dataclass(frozen=True)
class Default(Transform):
    """`default`: the value written when the mapped value is blank (e.g. Lead Company on create)."""

    value: Value

    @property
    def label(self) -> str:
        return "default"

    def apply(self, value: Value, context: Context) -> Value:
        return self.value if value is None else value

    def output_kind(self, kind: Kind) -> Kind:
        own = kind_of_value(self.value)
        if own is not None and not accepts(kind, own):
            raise KindError(f"default is {own.value} but the values are {kind.value}")
        return kind

    def literals(self) -> tuple[Value, ...]:
        return (self.value,)


@dataclass(frozen=True)
class DateFormat(Transform):
    """`date_format`: a date or datetime written as text with a strftime format."""

    fmt: str

    @property
    def label(self) -> str:
        return "date_format"

    def apply(self, value: Value, context: Context) -> Value:
        if value is None:
            return None
        if not isinstance(value, date):
            raise TransformError("date_format needs a date")
        return value.strftime(self.fmt)

    def output_kind(self, kind: Kind) -> Kind:
        _need(kind, [Kind.DATE, Kind.DATETIME], self.label)
        return Kind.TEXT


@dataclass(frozen=True)
class ParseDate(Transform):
    """`parse_date`: text read as a date with a strptime format."""

    fmt: str

    @property
    def label(self) -> str:
        return "parse_date"

    def apply(self, value: Value, context: Context) -> Value:
        if value is None:
            return None
        if not isinstance(value, str):
            raise TransformError("parse_date needs text")
        try:
            return datetime.strptime(value, self.fmt).date()
        except ValueError:
            raise TransformError(f"text does not match the date format {self.fmt!r}") from None

    def output_kind(self, kind: Kind) -> Kind:
        _need(kind, [Kind.TEXT], self.label)
        return Kind.DATE


@dataclass(frozen=True)
class Round(Transform):
    """`round`: a number rounded to `digits` decimals (0 → an integer)."""

    digits: int

    @property
    def label(self) -> str:
        return "round"

    def apply(self, value: Value, context: Context) -> Value:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TransformError("round needs a number")
        rounded = round(value, self.digits)
        return int(rounded) if self.digits <= 0 or float(rounded).is_integer() else rounded

    def output_kind(self, kind: Kind) -> Kind:
        _need(kind, [Kind.NUMBER], self.label)
        return Kind.NUMBER


@dataclass(frozen=True)
class ToNumber(Transform):
    """`to_number`: numeric text read as a number."""

    @property
    def label(self) -> str:
        return "to_number"

    def apply(self, value: Value, context: Context) -> Value:
        if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            return value
        try:
            return canonical_number(value)
        except UnreadableValue as exc:
            raise TransformError(f"to_number: {exc}") from None

    def output_kind(self, kind: Kind) -> Kind:
        _need(kind, [Kind.TEXT, Kind.NUMBER], self.label)
        return Kind.NUMBER


@dataclass(frozen=True)
class ToText(Transform):
    """`to_text`: any value as text (booleans as "true"/"false", dates in ISO 8601)."""

    @property
    def label(self) -> str:
        return "to_text"

    def apply(self, value: Value, context: Context) -> Value:
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, date):
            return value.isoformat()
        return str(value)

    def output_kind(self, kind: Kind) -> Kind:
        return Kind.TEXT


@dataclass(frozen=True)
class ToDate(Transform):
    """`to_date`: a datetime as its UTC calendar date (HubSpot's close date into Salesforce's CloseDate)."""

    @property
    def label(self) -> str:
        return "to_date"

    def apply(self, value: Value, context: Context) -> Value:
        if value is None:
            return None
        if isinstance(value, datetime):
            return canonical_datetime(value).date()
        if isinstance(value, date):
            return value
        raise TransformError("to_date needs a date or datetime")

    def output_kind(self, kind: Kind) -> Kind:
        _need(kind, [Kind.DATE, Kind.DATETIME], self.label)
        return Kind.DATE


@dataclass(frozen=True)
class ToDatetime(Transform):
    """`to_datetime`: a date as midnight UTC of that day (Salesforce CloseDate into HubSpot closedate)."""

    @property
    def label(self) -> str:
        return "to_datetime"

    def apply(self, value: Value, context: Context) -> Value:
        if value is None:
            return None
        if isinstance(value, date):
            return canonical_datetime(value)
        raise TransformError("to_datetime needs a date or datetime")

    def output_kind(self, kind: Kind) -> Kind:
        _need(kind, [Kind.DATE, Kind.DATETIME], self.label)
        return Kind.DATETIME


@dataclass(frozen=True)
class OwnerTransform(Transform):
    """`owner`: a HubSpot owner id ↔ a Salesforce user id, through the owner map (paired by email)."""

    @property
    def label(self) -> str:
        return "owner"

    def apply(self, value: Value, context: Context) -> Value:
        if value is None:
            return None
        if context.owners is None:
            raise TransformError("owner map not loaded")
        table = context.owners.to_crm if context.to is Side.CRM else context.owners.to_marketing
        owner = table.get(str(value))
        if owner is None:
            raise TransformError(f"owner {value} has no counterpart with the same email")
        return owner

    def output_kind(self, kind: Kind) -> Kind:
        _need(kind, [Kind.TEXT, Kind.NUMBER], self.label)
        return Kind.TEXT


def chain(transforms: Sequence[Transform], to: Side, owners: OwnerMap | None = None) -> Convert:
    """The transforms as one conversion into side `to`."""
    context = Context(to=to, owners=owners)
    steps: tuple[Callable[[Value, Context], Value], ...] = tuple(t.apply for t in transforms)

    def convert(value: Value) -> Value:
        for step in steps:
            value = step(value, context)
        return value

    return convert


def apply_transforms(
    transforms: Sequence[Transform], value: Value, to: Side, owners: OwnerMap | None = None
) -> Value:
    """Run `transforms` on one value written into side `to`; raises TransformError."""
    return chain(transforms, to, owners)(value)
