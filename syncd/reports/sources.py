"""A person's source: the channel (or campaign) of their first touch at or before an instant."""

from __future__ import annotations

from datetime import datetime

from syncd.reports.paths import TouchIndex
from syncd.reports.types import GroupBy


def source_of(index: TouchIndex, person_id: str, instant: datetime, group_by: GroupBy) -> str | None:
    """Channel or campaign of the person's first touch at or before `instant`; None without one.

    Touches after the instant cannot have sourced what happened at it, so they are ignored.
    """
    first = index.first_until(person_id, instant)
    if first is None:
        return None
    if group_by is GroupBy.CHANNEL:
        return first.channel
    if group_by is GroupBy.CAMPAIGN:
        return first.campaign
    return first.touch_id
