"""Where a pull resumes: the lag window before the cursor is re-read once, not on every cycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syncd.connector import Cursor
from syncd.engine.contacts import resume_point
from syncd.engine.state import StoredCursor

T = datetime(2026, 11, 1, 12, tzinfo=UTC)
LAG = timedelta(seconds=60)


def test_a_flow_that_never_pulled_starts_from_the_beginning() -> None:
    assert resume_point(None, LAG) is None


def test_a_cursor_close_to_its_pull_rereads_the_lag_window_before_that_pull() -> None:
    stored = StoredCursor(Cursor(T - timedelta(seconds=5), "00Q9"), observed_at=T)
    assert resume_point(stored, LAG) == Cursor(T - LAG, None)


def test_a_cursor_settled_before_its_pull_is_handed_back_as_it_is() -> None:
    stored = StoredCursor(Cursor(T - timedelta(minutes=5), "00Q9"), observed_at=T)
    assert resume_point(stored, LAG) == stored.cursor


def test_a_connector_resume_position_survives_when_settled() -> None:
    # e.g. a backfill's listing position, recorded with the backfill's start instant
    stored = StoredCursor(Cursor(T - timedelta(minutes=5), "backfill:1200"), observed_at=T)
    assert resume_point(stored, LAG) == stored.cursor


def test_never_more_than_the_lag_before_the_cursor() -> None:
    # a record stamped after the pull started (clock skew): the window stays one lag wide
    stored = StoredCursor(Cursor(T + timedelta(seconds=30), "7"), observed_at=T)
    assert resume_point(stored, LAG) == Cursor(T + timedelta(seconds=30) - LAG, None)


def test_without_the_pull_instant_the_lag_window_is_always_reread() -> None:
    stored = StoredCursor(Cursor(T, "7"), observed_at=None)
    assert resume_point(stored, LAG) == Cursor(T - LAG, None)
