"""Default periods: quarter to date for reports, the whole quarter for goal pacing."""

from __future__ import annotations

from datetime import date

import pytest

from syncd.reports.errors import ReportError
from syncd.reports.periods import period_to_date, quarter_of, whole_quarter
from syncd.reports.types import Period


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        (date(2026, 1, 1), Period(date(2026, 1, 1), date(2026, 3, 31))),
        (date(2026, 3, 31), Period(date(2026, 1, 1), date(2026, 3, 31))),
        (date(2026, 4, 1), Period(date(2026, 4, 1), date(2026, 6, 30))),
        (date(2026, 8, 15), Period(date(2026, 7, 1), date(2026, 9, 30))),
        (date(2026, 12, 31), Period(date(2026, 10, 1), date(2026, 12, 31))),
        (date(2028, 2, 29), Period(date(2028, 1, 1), date(2028, 3, 31))),
    ],
)
def test_quarter_of_a_day(day: date, quarter: Period) -> None:
    assert quarter_of(day) == quarter


TODAY = date(2026, 5, 20)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, Period(date(2026, 4, 1), TODAY)),  # this quarter up to today
        (None, date(2026, 2, 10), Period(date(2026, 1, 1), date(2026, 2, 10))),  # --to's quarter
        (date(2025, 11, 1), None, Period(date(2025, 11, 1), TODAY)),
        (date(2026, 3, 1), date(2026, 3, 31), Period(date(2026, 3, 1), date(2026, 3, 31))),
    ],
)
def test_reports_default_to_the_quarter_to_date(
    start: date | None, end: date | None, expected: Period
) -> None:
    assert period_to_date(start, end, today=TODAY) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, Period(date(2026, 4, 1), date(2026, 6, 30))),  # the whole current quarter
        (date(2026, 7, 1), None, Period(date(2026, 7, 1), date(2026, 9, 30))),  # --from's quarter
        (date(2026, 5, 1), None, Period(date(2026, 5, 1), date(2026, 6, 30))),
        (None, date(2026, 2, 28), Period(date(2026, 1, 1), date(2026, 2, 28))),
        (date(2026, 1, 1), date(2026, 12, 31), Period(date(2026, 1, 1), date(2026, 12, 31))),
    ],
)
def test_pacing_defaults_to_the_whole_quarter(start: date | None, end: date | None, expected: Period) -> None:
    assert whole_quarter(start, end, today=TODAY) == expected


def test_an_explicit_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ReportError, match="before it starts"):
        period_to_date(date(2026, 3, 1), date(2026, 2, 1), today=TODAY)
