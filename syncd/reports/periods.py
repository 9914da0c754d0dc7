"""Default reporting periods: quarter to date for reports, the whole quarter for goal pacing.

Marketing plans, budgets and lead goals are set per calendar quarter, so a report run without dates
covers the current quarter up to today, and pacing measures the current quarter's goal. All dates
are UTC calendar dates; `today` is passed in (no clock here).
"""

from __future__ import annotations

import calendar
from datetime import date

from syncd.reports.types import Period


def quarter_of(day: date) -> Period:
    """The calendar quarter (Jan–Mar, Apr–Jun, Jul–Sep, Oct–Dec) holding `day`."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    last_month = first_month + 2
    return Period(
        date(day.year, first_month, 1),
        date(day.year, last_month, calendar.monthrange(day.year, last_month)[1]),
    )


def period_to_date(start: date | None, end: date | None, *, today: date) -> Period:
    """`end` defaults to today, `start` to the first day of `end`'s quarter (quarter to date)."""
    last = end if end is not None else today
    first = start if start is not None else quarter_of(last).start
    return Period(first, last)


def whole_quarter(start: date | None, end: date | None, *, today: date) -> Period:
    """`start` defaults to the first day of the quarter holding `end` (or today), `end` to the last
    day of `start`'s quarter: with no dates at all, the current quarter."""
    first = start if start is not None else quarter_of(end if end is not None else today).start
    last = end if end is not None else quarter_of(first).end
    return Period(first, last)
