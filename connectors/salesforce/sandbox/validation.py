"""Field-level checks and coercion for writes, with the error codes and wording of a real org."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from connectors.salesforce.sandbox.errors import ApiError, FieldError
from connectors.salesforce.sandbox.ids import normalize_id
from connectors.salesforce.sandbox.schema import NUMBER_TYPES, STRING_TYPES, FieldDef, ObjectDef, OrgSchema
from connectors.salesforce.sandbox.store import OrgStore, sf_datetime

# Close to what Salesforce accepts: one @, no spaces, a dotted domain, a sane local part.
_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def is_valid_email(value: str) -> bool:
    return bool(_EMAIL_RE.match(value)) and ".." not in value


def json_parser_error(f: FieldDef, value: Any, kind: str) -> ApiError:
    """Salesforce fails the whole request when a JSON value cannot become the field's type."""
    shown = "VALUE_STRING" if isinstance(value, str) else type(value).__name__.upper()
    return ApiError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from {shown} value {value} or request may be missing a "
        f"required field",
    )


def coerce(f: FieldDef, value: Any) -> Any:
    """The stored form of a JSON value for field `f`; raises ApiError(JSON_PARSER_ERROR) when impossible.

    Stored forms: text as str ("" becomes null, as in Salesforce), numbers as int/float, booleans as
    bool, dates as YYYY-MM-DD, datetimes as 2026-01-31T12:00:00.000+0000, ids in 18-character form."""
    if value is None:
        return False if f.type == "boolean" else None
    t = f.type
    if t in STRING_TYPES:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        if not isinstance(value, str):
            raise json_parser_error(f, value, "string")
        return value if value != "" else None
    if t == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise json_parser_error(f, value, "boolean")
    if t in NUMBER_TYPES:
        if isinstance(value, bool):
            raise json_parser_error(f, value, "double")
        number: float
        if isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str):
            if value.strip() == "":
                return None
            try:
                number = float(value)
            except ValueError:
                raise json_parser_error(f, value, "int" if t == "int" else "double") from None
        else:
            raise json_parser_error(f, value, "double")
        if not math.isfinite(number):
            raise json_parser_error(f, value, "double")
        if t == "int":
            if number != int(number):
                raise json_parser_error(f, value, "int")
            return int(number)
        return number
    if t == "date":
        if isinstance(value, str):
            try:
                return date.fromisoformat(value[:10]).isoformat()
            except ValueError:
                pass
        raise json_parser_error(f, value, "date")
    if t == "datetime":
        if isinstance(value, str):
            try:
                text = value.replace("Z", "+00:00")
                if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
                    text = text[:-2] + ":" + text[-2:]
                when = datetime.fromisoformat(text)
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                return sf_datetime(when)
            except ValueError:
                pass
        raise json_parser_error(f, value, "datetime")
    if t in ("reference", "id"):
        if not isinstance(value, str):
            raise json_parser_error(f, value, "id")
        if value == "":
            return None
        return value  # checked by check_reference (a per-record error, not a parse error)
    return value


def check_field(f: FieldDef, value: Any) -> FieldError | None:
    """Per-record checks on one coerced value (length, email form, restricted picklist)."""
    if value is None:
        return None
    if f.type in STRING_TYPES and f.length and len(value) > f.length:
        return FieldError(
            "STRING_TOO_LONG",
            f"{f.label}: data value too large: {value[:40]} (max length={f.length})",
            (f.name,),
        )
    if f.type in NUMBER_TYPES and f.precision and abs(value) >= 10 ** (f.precision - f.scale):
        return FieldError(
            "NUMBER_OUTSIDE_VALID_RANGE",
            f"{f.label}: value outside of valid range on numeric field: {value}",
            (f.name,),
        )
    if f.type == "email" and not is_valid_email(value):
        return FieldError("INVALID_EMAIL_ADDRESS", f"{f.label}: invalid email address: {value}", (f.name,))
    if f.type == "picklist" and f.restricted and value not in f.picklist:
        return FieldError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{f.label}: bad value for restricted picklist field: {value}",
            (f.name,),
        )
    return None


def check_reference(
    schema: OrgSchema, store: OrgStore, f: FieldDef, value: str
) -> tuple[str | None, FieldError | None]:
    """Normalise a lookup value to 18 characters and check it points at a live record of an allowed type."""
    record_id = normalize_id(value)
    if record_id is None:
        return None, FieldError("MALFORMED_ID", f"{f.label}: id value of incorrect type: {value}", (f.name,))
    target = schema.object_for_id(record_id)
    allowed = f.reference_to or ()
    if target is None or (
        allowed and target.name not in allowed and not (target.name == "User" and "User" in allowed)
    ):
        return None, FieldError(
            "FIELD_INTEGRITY_EXCEPTION", f"{f.label}: id value of incorrect type: {value}", (f.name,)
        )
    record = store.get(target.name, record_id)
    if record is None:
        return None, FieldError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", (f.name,))
    if record.get("IsDeleted"):
        return None, FieldError("ENTITY_IS_DELETED", "entity is deleted", (f.name,))
    return record_id, None


def split_input(obj: ObjectDef, values: Mapping[str, Any]) -> dict[str, tuple[FieldDef, Any]]:
    """Map input keys (case-insensitive) to fields; an unknown key refuses the whole request."""
    out: dict[str, tuple[FieldDef, Any]] = {}
    for key, value in values.items():
        if key == "attributes":
            continue
        f = obj.field_named(key)
        if f is None:
            raise ApiError(400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}")
        out[f.name] = (f, value)
    return out


def read_only_error(names: list[str]) -> FieldError:
    return FieldError(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        f"Unable to create/update fields: {', '.join(names)}. Please check the security settings of this "
        "field and verify that it is read/write for your profile or permission set.",
        tuple(names),
    )


def required_error(names: list[str]) -> FieldError:
    return FieldError(
        "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(names)}]", tuple(names)
    )
