"""A deal's stage history: which observed stage entries are new visits, and when a closed deal closed (pure).

Both systems record stage entries: HubSpot keeps the last entry into each stage (`hs_date_entered_<id>`),
Salesforce one OpportunityHistory row per save that touched the stage, amount or close date. A stage
change syncd carries across is entered again on the other side moments later, and an amount change
repeats the stage in Salesforce's history. So an entry is a new visit only when the deal was in another
stage just before it: the latest entry at or before its instant names a different stage. Everything is
in one vocabulary (the store's: Salesforce StageName values).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, order=True)
class StageEntry:
    """A deal entering `stage` at `entered_at`, as `source_system` recorded it."""

    entered_at: datetime
    stage: str
    source_system: str = ""


def new_visits(existing: Sequence[StageEntry], observed: Iterable[StageEntry]) -> list[StageEntry]:
    """The `observed` entries that are new visits given the stored `existing` ones, oldest first.

    An entry is dropped when the store holds the same stage at the same instant, or when the latest entry
    at or before its instant (stored or accepted here) is the same stage (an echo or a repeat). Entries of
    one instant are taken in the order given (Salesforce's history order). Observing the same entries
    again returns nothing, so recording them is idempotent.
    """
    timeline = sorted(existing)
    instants = [entry.entered_at for entry in timeline]
    accepted: list[StageEntry] = []
    # Oldest first; entries of one instant keep the order they were observed in (the system's own order).
    for entry in sorted(dict.fromkeys(observed), key=lambda e: e.entered_at):
        # The deal's stage at that instant: the last entry at or before it, whichever system saw it.
        index = bisect_right(instants, entry.entered_at)
        before = timeline[index - 1] if index else None
        if before is not None and before.stage == entry.stage:
            continue
        timeline.insert(index, entry)
        instants.insert(index, entry.entered_at)
        accepted.append(entry)
    return accepted


def closed_at(entries: Sequence[StageEntry], stage: str, is_closed: bool) -> datetime | None:
    """The instant a closed deal was won or lost: when its current stage was last entered.

    None for an open deal, or when no entry of its stage is known."""
    if not is_closed:
        return None
    instants = [entry.entered_at for entry in entries if entry.stage == stage]
    return max(instants) if instants else None


def entries_after(entries: Iterable[StageEntry], after: datetime | None) -> list[StageEntry]:
    """Entries strictly after `after` (all of them when None), oldest first."""
    return sorted(e for e in entries if after is None or e.entered_at > after)
