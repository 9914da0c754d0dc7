"""Canonical values: one spelling per value so that both systems' data compare equal when they mean the same.

Email: trimmed and case-folded, plus-addressing kept (`Jane+News@X.com ` → `jane+news@x.com`). An address
is accepted when it has exactly one `@`; a local part of 1–64 characters with no whitespace or control
characters, not starting or ending with `.` and without `..`; and a domain of at most 253 characters made of
at least two dot-separated labels, each 1–63 letters, digits or hyphens (Unicode letters allowed), neither
starting nor ending with a hyphen, with a top-level label that is not all digits. Quoted local parts and IP
literals are rejected: neither HubSpot nor Salesforce accepts them on a contact.

Other values, by field type:
- strings (string, text, enum, reference, id): trimmed; empty → None. Email-typed fields are also case-folded.
- numbers: int when integral, else float; numeric strings accepted; NaN, infinities and booleans rejected.
- booleans: True/False, 1/0, and the strings "true"/"false"/"1"/"0" (any case, trimmed).
- datetimes: timezone-aware UTC. Accepted: aware datetimes (converted), naive datetimes (taken as UTC),
  epoch milliseconds as int or digit string (HubSpot), ISO 8601 with `Z`, `+00:00` or `+0000` (Salesforce).
- dates: `date`. Accepted: dates, `YYYY-MM-DD`, epoch milliseconds (HubSpot stores dates as midnight UTC),
  ISO datetimes (their UTC date).
Blank input (None or whitespace-only string) is None for every type.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from syncd.connector import FieldType, RemoteRecord
from syncd.core.issues import Issue, RecordRef
from syncd.errors import IssueCategory

Value = str | int | float | bool | date | datetime | None
"""A canonical field value."""

_TEXT_TYPES = frozenset({FieldType.STRING, FieldType.TEXT, FieldType.ENUM, FieldType.REFERENCE, FieldType.ID})
_LABEL = re.compile(r"^[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?$")
_EPOCH_MS = re.compile(r"^-?\d{1,16}$")
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


class UnreadableValue(ValueError):
    """A value that cannot be read as its field's type; the message says why (without the value)."""


def is_blank(value: object) -> bool:
    """None and whitespace-only strings are blank; False and 0 are values."""
    return value is None or (isinstance(value, str) and not value.strip())


def email_problem(raw: object) -> str | None:
    """Why `raw` is not an acceptable email address, or None when it is (see the module docstring)."""
    if is_blank(raw):
        return "email is missing"
    if not isinstance(raw, str):
        return "email is not text"
    text = raw.strip()
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return "email contains whitespace or control characters"
    if text.count("@") != 1:
        return "email must contain exactly one '@'"
    local, domain = text.split("@")
    if not local:
        return "email has an empty local part"
    if len(local) > 64:
        return "email local part is longer than 64 characters"
    if local.startswith(".") or local.endswith(".") or ".." in local or '"' in local:
        return "email local part has a misplaced '.' or a quote"
    if len(domain) > 253:
        return "email domain is longer than 253 characters"
    labels = domain.split(".")
    if len(labels) < 2:
        return "email domain has no dot"
    if not all(_LABEL.match(label) for label in labels):
        return "email domain has an empty or invalid label"
    if labels[-1].isdigit():
        return "email domain ends in a numeric label"
    return None


def canonical_email(raw: object) -> str | None:
    """The canonical form of a valid address, or None when it is missing or invalid."""
    if email_problem(raw) is not None:
        return None
    assert isinstance(raw, str)
    return raw.strip().casefold()


def email_or_issue(record: RecordRef, raw: object) -> str | Issue:
    """The canonical email of `record`, or an `invalid_email` issue naming the record."""
    problem = email_problem(raw)
    if problem is None:
        assert isinstance(raw, str)
        return raw.strip().casefold()
    return Issue(
        category=IssueCategory.INVALID_EMAIL,
        record=record,
        reason=f"{record}: {problem}",
        hint="fix the email address on the record; it is retried when the record changes",
        field="email",
    )


def canonical_value(value: object, type_: FieldType) -> Value:
    """`value` in its canonical form for a field of `type_`; raises `UnreadableValue` when unreadable."""
    if is_blank(value):
        return None
    if type_ in _TEXT_TYPES:
        return _text(value)
    if type_ is FieldType.EMAIL:
        return _text(value).casefold()
    if type_ is FieldType.NUMBER:
        return canonical_number(value)
    if type_ is FieldType.BOOL:
        return canonical_bool(value)
    if type_ is FieldType.DATETIME:
        return canonical_datetime(value)
    if type_ is FieldType.DATE:
        return canonical_date(value)
    raise UnreadableValue(f"unsupported field type {type_}")


def _text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool | int | float | Decimal):
        return str(value)
    raise UnreadableValue(f"expected text, got {type(value).__name__}")


def canonical_number(value: object) -> int | float:
    """int when integral, else float."""
    if isinstance(value, bool):
        raise UnreadableValue("expected a number, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnreadableValue("expected a finite number")
        return int(value) if value.is_integer() else value
    if isinstance(value, str | Decimal):
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise UnreadableValue("expected a number") from None
        if not number.is_finite():
            raise UnreadableValue("expected a finite number")
        if number == number.to_integral_value():
            return int(number)
        return float(number)
    raise UnreadableValue(f"expected a number, got {type(value).__name__}")


def canonical_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise UnreadableValue('expected a boolean ("true"/"false"/"1"/"0")')


def canonical_datetime(value: object) -> datetime:
    """A timezone-aware UTC datetime."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int) and not isinstance(value, bool):
        return _from_epoch_ms(value)
    if isinstance(value, str):
        text = value.strip()
        if _EPOCH_MS.match(text):
            return _from_epoch_ms(int(text))
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise UnreadableValue("expected an ISO 8601 datetime or epoch milliseconds") from None
        return canonical_datetime(parsed)
    raise UnreadableValue(f"expected a datetime, got {type(value).__name__}")


def canonical_date(value: object) -> date:
    if isinstance(value, datetime):
        return canonical_datetime(value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and not _EPOCH_MS.match(value.strip()):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    return canonical_datetime(value).date()


def _from_epoch_ms(ms: int) -> datetime:
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise UnreadableValue("epoch milliseconds out of range") from None


@dataclass(frozen=True)
class NormalizedRecord:
    """A pulled record with canonical values: what match and resolve work on.

    `email` is None when the address was missing or invalid; `issues` then says why. A field whose value
    could not be read is left out of `fields` and reported in `issues` (category `validation`).
    """

    ref: RecordRef
    email: str | None
    modified_at: datetime
    fields: Mapping[str, Value]
    created_at: datetime | None = None
    deleted: bool = False
    merged_into: str | None = None
    merged_from: tuple[str, ...] = ()
    issues: tuple[Issue, ...] = field(default=())


def normalize_record(
    system: str, record: RemoteRecord, types: Mapping[str, FieldType], *, email_field: str
) -> NormalizedRecord:
    """Canonicalize every field of `record` listed in `types`; fields not listed pass through unchanged.

    Salesforce merges and conversions arrive as `merged_into`; they are carried, not followed, here.
    """
    ref = RecordRef(system, record.object, record.id)
    issues: list[Issue] = []
    fields: dict[str, Value] = {}
    for name, raw in record.fields.items():
        type_ = types.get(name)
        if type_ is None:
            fields[name] = _passthrough(raw)
            continue
        try:
            fields[name] = canonical_value(raw, type_)
        except UnreadableValue as exc:
            issues.append(
                Issue(
                    category=IssueCategory.VALIDATION,
                    record=ref,
                    reason=f"{ref}: field {name!r}: {exc}",
                    hint=f"correct {name} on the record or change its mapping",
                    field=name,
                )
            )
    email: str | None = None
    if not record.deleted:
        checked = email_or_issue(ref, record.fields.get(email_field))
        if isinstance(checked, Issue):
            issues.append(checked)
        else:
            email = checked
    else:
        email = canonical_email(record.fields.get(email_field))
    if email is not None:
        fields[email_field] = email
    return NormalizedRecord(
        ref=ref,
        email=email,
        modified_at=canonical_datetime(record.modified_at),
        created_at=canonical_datetime(record.created_at) if record.created_at else None,
        fields=fields,
        deleted=record.deleted,
        merged_into=record.merged_into,
        merged_from=tuple(record.merged_from),
        issues=tuple(issues),
    )


def _passthrough(raw: Any) -> Value:
    if isinstance(raw, str):
        return raw.strip() or None
    if isinstance(raw, str | int | float | bool | date | datetime) or raw is None:
        return raw
    return str(raw)
