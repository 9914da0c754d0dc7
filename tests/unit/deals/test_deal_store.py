"""The deals store: a page's rows, bases, contacts and stage visits in one transaction, replays harmless."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, func, insert, select

from syncd.core.deal_stages import StageEntry
from syncd.engine.deal_store import ContactRow, DealBase, DealPage, DealRow, DealStore
from syncd.engine.state import SyncState
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.store.models import Deal, DealContact, DealStageChange, Person

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def _row(**changes: object) -> DealRow:
    values: dict[str, object] = {
        "ref": "salesforce:006A",
        "hubspot_id": None,
        "salesforce_id": "006A",
        "name": "Acme - New Business",
        "stage": "Closed Won",
        "amount": Decimal("1200.00"),
        "close_date": date(2026, 4, 30),
        "is_closed": True,
        "is_won": True,
        "created_at": NOW - timedelta(days=30),
        "owner_email": "rep@example.com",
    }
    values.update(changes)
    return DealRow(**values)  # type: ignore[arg-type]


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_replayed_page_changes_nothing_and_links_follow_either_id(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    with engine.begin() as conn:
        person = conn.execute(
            insert(Person)
            .values(email="buyer@example.com", created_at=NOW, updated_at=NOW)
            .returning(Person.id)
        ).scalar_one()
    store = DealStore(engine, "deals")
    run = SyncState(engine, "deals").start_run("once", NOW)
    page = DealPage(
        deals=[_row()],
        bases=[DealBase("salesforce:006A", "amount", 1200, 1200)],
        contacts=[ContactRow("salesforce:006A", person, "Decision Maker", True, "00KA", False)],
        history=[
            ("salesforce:006A", StageEntry(NOW - timedelta(days=30), "Prospecting", "salesforce")),
            ("salesforce:006A", StageEntry(NOW - timedelta(days=1), "Closed Won", "salesforce")),
        ],
    )
    ids = store.record(run, page, NOW)
    again = store.record(run, page, NOW + timedelta(minutes=1))
    assert ids["salesforce:006A"] == again["salesforce:006A"]
    assert [_count(engine, m) for m in (Deal, DealContact, DealStageChange)] == [1, 1, 2]
    # The HubSpot deal created for it later carries both ids: the same row is updated, not a second one.
    linked = _row(ref="hubspot:9", hubspot_id="9", created_at=NOW - timedelta(days=40))
    echo = [("hubspot:9", StageEntry(NOW - timedelta(hours=23), "Closed Won", "hubspot"))]
    store.record(run, DealPage(deals=[linked], history=echo), NOW)
    [deal] = store.deals(hubspot_ids=["9"])
    assert (deal.id, deal.salesforce_id) == (ids["salesforce:006A"], "006A")
    assert _count(engine, DealStageChange) == 2  # HubSpot entering the stage after us is an echo
    with engine.connect() as conn:
        created, closed = conn.execute(select(Deal.created_at, Deal.closed_at)).one()
    assert created == NOW - timedelta(days=40)  # as old as its oldest record
    assert closed == NOW - timedelta(days=1)  # when Closed Won was entered
    assert SyncState(engine, "deals").bases([f"deal:{deal.id}"]) == {
        f"deal:{deal.id}": {"amount": {"crm": 1200, "marketing": 1200}}
    }
    engine.dispose()
