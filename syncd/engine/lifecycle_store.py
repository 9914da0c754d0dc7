"""The store side of lifecycle: stage entries become `lifecycle_events`, once per person, stage and source.

`record_lifecycle` runs inside the caller's transaction (the contacts flow's page transaction, after
the page's links are written), so events, links and the cursor commit together. It is idempotent:
per (person, stage, source system) the store keeps ONE event with the earliest instant ever observed;
a replay, or a later observation with a later instant, writes nothing; an earlier one moves it back.

Records are found through `identities` (inactive ones too: a converted Lead still names its person).
When a retired record (merge loser, converted Lead, HubSpot merge) stood for another person than its
survivor, that person's events from the system move to the survivor's person, unless another live
record of that system still stands for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from syncd.core.lifecycle import (
    LifecycleSettings,
    Observation,
    StageEntry,
    Succession,
    stage_entries,
    successions,
)
from syncd.engine.state import chunks
from syncd.store.absent import insert_absent
from syncd.store.models import Identity, LifecycleEvent, table_of

_EVENT_KEY = ("person_id", "stage", "source_system", "entered_at")
_EVENTS = table_of(LifecycleEvent)
_IDENTITIES = table_of(Identity)

_CHUNK = 500


@dataclass(frozen=True)
class LifecycleWrite:
    """What one call wrote: new events, events moved to an earlier instant, entries of records no
    person is linked to (skipped), and events that followed a retired record to its survivor."""

    inserted: int = 0
    moved_earlier: int = 0
    unlinked: int = 0
    followed: int = 0


def record_lifecycle(
    connection: Connection, observations: Sequence[Observation], settings: LifecycleSettings, now: datetime
) -> LifecycleWrite:
    """Write the stage entries `observations` state, inside the caller's transaction."""
    entries = stage_entries(observations, settings)
    moves = successions(observations)
    keys = {(e.system, e.record_id) for e in entries}
    keys |= {(m.system, m.retired) for m in moves} | {(m.system, m.survivor) for m in moves}
    people = linked_people(connection, keys)
    followed = _follow(connection, moves, people)
    wanted: dict[tuple[int, str, str], datetime] = {}
    unlinked = 0
    survivors = {(m.system, m.retired): m.survivor for m in moves}
    for entry in entries:
        person = people.get((entry.system, entry.record_id))
        if person is None and (entry.system, entry.record_id) in survivors:
            # A record retired before syncd linked it (a Lead converted long ago): its survivor's person.
            person = people.get((entry.system, survivors[(entry.system, entry.record_id)]))
        if person is None:
            unlinked += 1
            continue
        key = (person, entry.stage, entry.system)
        if key not in wanted or entry.entered_at < wanted[key]:
            wanted[key] = entry.entered_at
    inserted, moved = _write(connection, wanted, now)
    return LifecycleWrite(inserted, moved, unlinked, followed)


def linked_people(connection: Connection, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(system, external id) -> person, through active identities first, then retired ones."""
    by_system: dict[str, set[str]] = {}
    for system, external_id in keys:
        by_system.setdefault(system, set()).add(external_id)
    c = _IDENTITIES.c
    found: dict[tuple[str, str], int] = {}
    for system, ids in by_system.items():
        for chunk in chunks(sorted(ids), _CHUNK):
            rows = connection.execute(
                select(c.external_id, c.person_id, c.active)
                .where(c.system == system, c.external_id.in_(chunk))
                .order_by(c.active, c.id)  # the active row, when there is one, is read last and wins
            )
            for external_id, person_id, _active in rows:
                found[(system, external_id)] = person_id
    return found


def _follow(
    connection: Connection, moves: Sequence[Succession], people: Mapping[tuple[str, str], int]
) -> int:
    moved = 0
    for move in moves:
        old = people.get((move.system, move.retired))
        new = people.get((move.system, move.survivor))
        if old is None or new is None or old == new or _still_stands(connection, move.system, old):
            continue
        moved += _merge_person_events(connection, move.system, old, new)
    return moved


def _still_stands(connection: Connection, system: str, person_id: int) -> bool:
    c = _IDENTITIES.c
    row = connection.execute(
        select(c.id).where(c.system == system, c.person_id == person_id, c.active).limit(1)
    ).first()
    return row is not None


def _merge_person_events(connection: Connection, system: str, old: int, new: int) -> int:
    """Move `old`'s events from `system` to `new`, keeping the earliest per stage."""
    c = _EVENTS.c
    theirs = connection.execute(
        select(c.id, c.stage, c.entered_at).where(c.person_id == old, c.source_system == system)
    ).all()
    if not theirs:
        return 0
    ours: dict[str, tuple[int, datetime]] = {}
    for row_id, stage, at in connection.execute(
        select(c.id, c.stage, c.entered_at).where(c.person_id == new, c.source_system == system)
    ):
        if stage not in ours or at < ours[stage][1]:
            ours[stage] = (row_id, at)
    for row_id, stage, at in theirs:
        mine = ours.get(stage)
        if mine is None:
            connection.execute(update(_EVENTS).where(c.id == row_id).values(person_id=new))
            ours[stage] = (row_id, at)
            continue
        connection.execute(delete(_EVENTS).where(c.id == row_id))
        if at < mine[1]:
            connection.execute(update(_EVENTS).where(c.id == mine[0]).values(entered_at=at))
            ours[stage] = (mine[0], at)
    return len(theirs)


def _write(
    connection: Connection, wanted: Mapping[tuple[int, str, str], datetime], now: datetime
) -> tuple[int, int]:
    if not wanted:
        return 0, 0
    c = _EVENTS.c
    stages = sorted({stage for _, stage, _ in wanted})
    stored: dict[tuple[int, str, str], tuple[int, datetime]] = {}
    for chunk in chunks(sorted({person for person, _, _ in wanted}), _CHUNK):
        for row_id, person, stage, source, at in connection.execute(
            select(c.id, c.person_id, c.stage, c.source_system, c.entered_at).where(
                c.person_id.in_(chunk), c.stage.in_(stages)
            )
        ):
            key = (person, stage, source)
            if key not in stored or at < stored[key][1]:
                stored[key] = (row_id, at)
    new_rows: list[dict[str, Any]] = []
    earlier: list[tuple[int, datetime]] = []
    for (person, stage, source), at in wanted.items():
        known = stored.get((person, stage, source))
        if known is None:
            new_rows.append(
                {
                    "person_id": person,
                    "stage": stage,
                    "entered_at": at,
                    "source_system": source,
                    "recorded_at": now,
                }
            )
        elif at < known[1]:
            earlier.append((known[0], at))
    for row_id, at in earlier:
        connection.execute(update(_EVENTS).where(c.id == row_id).values(entered_at=at, recorded_at=now))
    # Another replica may have written the same entry: insert if absent.
    insert_absent(connection, _EVENTS, new_rows, _EVENT_KEY)
    return len(new_rows), len(earlier)


__all__ = ["LifecycleWrite", "StageEntry", "linked_people", "record_lifecycle"]
