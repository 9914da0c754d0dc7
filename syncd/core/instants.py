"""Instants and dates from what the APIs send: ISO 8601 text (Salesforce's +0000 offsets included),
epoch milliseconds (HubSpot), or values already parsed. Naive values are taken as UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any


def instant(value: Any) -> datetime | None:
    """A timezone-aware datetime, or None for a blank or unreadable value."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def day(value: Any) -> date | None:
    """A calendar date from a date, a datetime, or text starting YYYY-MM-DD."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def instant_on(on: date, hint: datetime) -> datetime:
    """An instant for a Salesforce date field: `hint` (the record's last modification) when it falls on
    that day (the change that set the date), else the start of the day in UTC."""
    hint = hint.astimezone(UTC)
    return hint if hint.date() == on else datetime.combine(on, time(), UTC)
