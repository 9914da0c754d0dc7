"""Store rows to report rows: instants come back as UTC datetimes whatever form the driver gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from syncd.reports.store_rows import Ids, InstantReader

UTC_INSTANT = datetime(2026, 3, 1, 9, 30, 0, 250_000, tzinfo=UTC)


@pytest.mark.parametrize(
    "stored",
    [
        "2026-03-01 09:30:00.250000",  # what the store's UTCDateTime writes on SQLite
        "2026-03-01T09:30:00.25",
        "2026-03-01 11:30:00.250000+02:00",  # written with an offset by something else
    ],
)
def test_sqlite_text_is_read_as_a_utc_instant(stored: str) -> None:
    read = InstantReader("sqlite").read(stored)
    assert read == UTC_INSTANT and read.tzinfo is UTC


@pytest.mark.parametrize(
    "given",
    [
        UTC_INSTANT,
        UTC_INSTANT.astimezone(ZoneInfo("Etc/UTC")),
        UTC_INSTANT.astimezone(ZoneInfo("America/New_York")),
        UTC_INSTANT.astimezone(timezone(timedelta(hours=5, minutes=30))),
        UTC_INSTANT.replace(tzinfo=None),  # a timestamp column without a zone holds UTC
    ],
)
def test_driver_datetimes_are_read_as_utc_instants(given: datetime) -> None:
    read = InstantReader("postgresql").read(given)
    assert read == UTC_INSTANT and read.tzinfo is UTC


def test_a_missing_instant_stays_missing() -> None:
    assert InstantReader("sqlite").optional(None) is None
    assert InstantReader("sqlite").optional("2026-03-01 09:30:00.250000") == UTC_INSTANT


def test_an_id_string_is_made_once_per_store_id() -> None:
    ids = Ids()
    assert ids[42] == "42" and ids[42] is ids[42]
    assert ids[7] == "7" and len(ids) == 2
