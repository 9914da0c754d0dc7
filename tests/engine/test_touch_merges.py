"""Touches of a person merged away in both systems follow to the surviving person; others stay put."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from syncd.engine.touch_store import TouchStore
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.store.models import Identity, Person, Touch

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _identity(person: int, system: str, obj: str, external_id: str, **gone: str) -> dict[str, object]:
    # Every row names every column: an executemany takes its columns from the first row.
    return {"person_id": person, "system": system, "object": obj, "external_id": external_id,
            "active": not gone, "linked_at": NOW,
            "reason": gone.get("reason"), "replaced_by": gone.get("into")}  # fmt: skip


def test_a_merged_away_persons_touches_follow_and_a_live_persons_stay(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    with engine.begin() as conn:
        conn.execute(
            insert(Person),
            [{"id": n, "email": f"p{n}@x.com", "created_at": NOW, "updated_at": NOW} for n in (1, 2, 3)],
        )
        conn.execute(
            insert(Identity),
            [
                _identity(1, "hubspot", "contacts", "101"),
                _identity(1, "salesforce", "Lead", "00Q1"),
                # Person 2: both records merged into person 1's.
                _identity(2, "hubspot", "contacts", "102", reason="merged", into="101"),
                _identity(2, "salesforce", "Lead", "00Q2", reason="merged", into="00Q1"),
                # Person 3: merged in HubSpot only; their Lead still stands for them.
                _identity(3, "hubspot", "contacts", "103", reason="merged", into="101"),
                _identity(3, "salesforce", "Lead", "00Q3"),
            ],
        )
        conn.execute(
            insert(Touch),
            [{"person_id": person, "source_system": "hubspot", "source_event_id": f"e{n}", "occurred_at": NOW,
              "kind": "email_click", "detail": {}, "recorded_at": NOW}
             for n, person in enumerate((1, 2, 2, 3))],
        )  # fmt: skip

    store = TouchStore(engine, "engagements")
    assert store.follow_merges() == 2
    assert store.follow_merges() == 0, "nothing moves twice"

    with engine.connect() as conn:
        owners = dict(conn.execute(select(Touch.source_event_id, Touch.person_id)).all())
    assert owners == {"e0": 1, "e1": 1, "e2": 1, "e3": 3}
    engine.dispose()
