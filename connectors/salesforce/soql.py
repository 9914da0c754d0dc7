"""SOQL text built from parts: literals escaped, cursors as predicates, IN lists chunked to fit a URL."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import quote_plus

from syncd.connector import Cursor
from syncd.errors import FatalError

_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")
_RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")
_SF_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")


def quote(value: str) -> str:
    """A SOQL string literal. Backslash and quote are escaped; `%`/`_` only matter to LIKE, unused here."""
    return "'" + "".join(_ESCAPES.get(ch, ch) for ch in value) + "'"


def field_name(name: str) -> str:
    """A field name checked before it is spliced into SOQL (names come from YAML mappings)."""
    if not _FIELD_NAME.match(name):
        raise FatalError(f"{name!r} is not a Salesforce field name; refusing to build SOQL with it")
    return name


def is_record_id(value: str) -> bool:
    """True for a 15- or 18-character Salesforce record id."""
    return bool(_RECORD_ID.match(value))


def format_datetime(when: datetime) -> str:
    """A SOQL datetime literal in UTC; milliseconds only when present (Salesforce stores ms)."""
    if when.tzinfo is None:
        raise FatalError("a naive datetime reached the Salesforce connector; cursors must be UTC-aware")
    utc = when.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond // 1000:03d}"
    return text + "Z"


def parse_datetime(text: str) -> datetime:
    """Salesforce's JSON datetime (2026-01-31T12:00:00.000+0000) as an aware UTC datetime."""
    try:
        # Python 3.11 reads Salesforce's forms (+0000, Z) natively, at a tenth of the regex's cost.
        when = datetime.fromisoformat(text)
    except ValueError:
        when = _parse_datetime_slowly(text)
    if when.tzinfo is None:
        raise FatalError(f"Salesforce returned a datetime without a time zone {text!r}")
    return when.astimezone(UTC)


def _parse_datetime_slowly(text: str) -> datetime:
    m = _SF_DATETIME.match(text)
    if not m:
        raise FatalError(f"Salesforce returned an unreadable datetime {text!r}")
    zone = m.group(3)
    if zone != "Z" and ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    fraction = (m.group(2) or "")[:7]  # fromisoformat takes at most microseconds
    return datetime.fromisoformat(f"{m.group(1)}{fraction}{zone.replace('Z', '+00:00')}")


def cursor_predicate(since: Cursor | None, *, stamp_field: str = "SystemModstamp") -> str | None:
    """The WHERE clause that resumes strictly after `since` in (stamp, Id) order.

    `Cursor(t)` means nothing at t has been seen yet, so it is inclusive (`>= t`);
    `Cursor(t, id)` means everything up to and including (t, id) has been seen.
    """
    if since is None:
        return None
    stamp = format_datetime(since.modified_at)
    if since.last_id is None:
        return f"{stamp_field} >= {stamp}"
    if not is_record_id(since.last_id):
        raise FatalError(
            f"cursor id {since.last_id!r} is not a Salesforce record id; reset the flow's cursor"
        )
    return f"({stamp_field} > {stamp} OR ({stamp_field} = {stamp} AND Id > {quote(since.last_id)}))"


def select(object: str, fields: Sequence[str], where: str | None = None, order_by: str | None = None) -> str:
    columns = ", ".join(field_name(f) for f in fields)
    text = f"SELECT {columns} FROM {field_name(object)}"
    if where:
        text += f" WHERE {where}"
    if order_by:
        text += f" ORDER BY {order_by}"
    return text


def pull_query(object: str, fields: Sequence[str], since: Cursor | None) -> str:
    """Oldest change first, Id breaking ties, so that every page ends on a valid resume point."""
    return select(object, fields, cursor_predicate(since), "SystemModstamp ASC, Id ASC")


def in_predicates(field: str, values: Sequence[str], *, max_encoded_chars: int) -> list[str]:
    """`field IN (...)` predicates, as few as fit `max_encoded_chars` of URL-encoded text each.

    Duplicates are dropped (first occurrence kept) so a chunk never wastes room.
    """
    name = field_name(field)
    overhead = len(quote_plus(f"{name} IN ()"))
    chunks: list[str] = []
    current: list[str] = []
    size = overhead
    for value in dict.fromkeys(values):
        literal = quote(value)
        cost = len(quote_plus(literal)) + (len(quote_plus(", ")) if current else 0)
        if overhead + len(quote_plus(literal)) > max_encoded_chars:
            raise FatalError(f"a {name} value of {len(value)} characters cannot fit in one SOQL query")
        if current and size + cost > max_encoded_chars:
            chunks.append(f"{name} IN ({', '.join(current)})")
            current, size = [], overhead
            cost = len(quote_plus(literal))
        current.append(literal)
        size += cost
    if current:
        chunks.append(f"{name} IN ({', '.join(current)})")
    return chunks
