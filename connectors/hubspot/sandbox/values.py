"""Property value codecs: HubSpot's wire formats for datetimes, numbers and booleans, and email keys."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def iso_ms(when: datetime) -> str:
    """`2026-01-02T03:04:05.678Z`: how HubSpot writes timestamps in v3 JSON."""
    utc = when if when.tzinfo is UTC else when.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def epoch_ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def from_epoch_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@lru_cache(maxsize=131072)
def datetime_value_ms(value: str) -> int | None:
    """A datetime property value (epoch ms, ISO 8601 or a bare date) as epoch ms; None if unparseable."""
    text = value.strip()
    if not text:
        return None
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        if len(text) == 10:
            parsed = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return epoch_ms(parsed)


@lru_cache(maxsize=131072)
def number_value(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def is_valid_email(value: str) -> bool:
    return bool(_EMAIL_RE.match(value.strip()))


def email_key(value: str, *, case_insensitive: bool) -> str:
    """The uniqueness key of an email address (HubSpot compares addresses without case)."""
    stripped = value.strip()
    return stripped.lower() if case_insensitive else stripped
