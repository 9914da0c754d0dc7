"""The store keeps instants in UTC and money exact, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from syncd.store.db import make_engine, session_factory
from syncd.store.migrate import upgrade
from syncd.store.models import Cost, Person


def _person(email: str, created_at: datetime) -> Person:
    return Person(email=email, created_at=created_at, updated_at=created_at)


def test_instants_come_back_as_the_same_utc_instant(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    paris = timezone(timedelta(hours=2))
    written = datetime(2026, 6, 1, 9, 30, 15, 123456, tzinfo=paris)
    with session_factory(engine)() as session:
        session.add(_person("jane@example.com", written))
        session.commit()
    with session_factory(engine)() as session:
        read = session.scalars(select(Person.created_at)).one()
    engine.dispose()
    assert read == written
    assert read.utcoffset() == timedelta(0)
    assert read.hour == 7


def test_naive_datetimes_are_refused(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    with session_factory(engine)() as session, pytest.raises(StatementError, match="naive datetime"):
        session.add(_person("naive@example.com", datetime(2026, 1, 1)))
        session.commit()
    engine.dispose()


@pytest.mark.parametrize(
    "amount", ["0.01", "1234567890123.4567", "0.1", "19.99", "-5.25", "99999999999999.9999"]
)
def test_money_round_trips_exactly(store_url: str, amount: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    with session_factory(engine)() as session:
        session.add(
            Cost(
                channel="paid_search",
                period_start=datetime(2026, 1, 1, tzinfo=UTC).date(),
                period_end=datetime(2026, 1, 31, tzinfo=UTC).date(),
                amount=Decimal(amount),
                source="cost_file",
                source_key=f"row-{amount}",
            )
        )
        session.commit()
    with session_factory(engine)() as session:
        read = session.scalars(select(Cost.amount)).one()
    engine.dispose()
    assert read == Decimal(amount)


def test_money_with_more_than_four_places_is_refused(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    with session_factory(engine)() as session, pytest.raises(StatementError, match="decimal places"):
        session.add(
            Cost(
                channel="events",
                period_start=datetime(2026, 1, 1, tzinfo=UTC).date(),
                period_end=datetime(2026, 1, 1, tzinfo=UTC).date(),
                amount=Decimal("1.00001"),
                source="cost_file",
                source_key="x",
            )
        )
        session.commit()
    engine.dispose()


def test_replayed_touch_is_refused_by_its_source_event_id(store_url: str) -> None:
    from sqlalchemy.exc import IntegrityError

    from syncd.store.models import Touch

    upgrade(store_url)
    engine = make_engine(store_url)
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with session_factory(engine)() as session:
        person = _person("touch@example.com", at)
        session.add(person)
        session.flush()
        for _ in range(2):
            session.add(
                Touch(
                    person_id=person.id,
                    source_system="hubspot",
                    source_event_id="evt-1",
                    occurred_at=at,
                    kind="email_click",
                    recorded_at=at,
                )
            )
        with pytest.raises(IntegrityError):
            session.commit()
    engine.dispose()
