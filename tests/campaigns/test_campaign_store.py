"""Touches pointed at the campaign their UTM value or their HubSpot campaign's namesake names, on SQLite
and PostgreSQL; the scan never passes a touch that may still be committing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select

from syncd.core.campaigns import CampaignRow
from syncd.engine.campaign_store import Written, link_touches, upsert_campaigns
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.store.models import Campaign, Person, Touch

NOW = datetime(2026, 4, 1, 12, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Engine]:
    upgrade(store_url)
    engine = make_engine(store_url)
    with engine.begin() as conn:
        conn.execute(insert(Person).values(id=1, email="a@example.com", created_at=NOW, updated_at=NOW))
        conn.execute(
            insert(Campaign).values(
                id=10, system="hubspot", external_id="300001", name="2026 Newsletter", updated_at=NOW
            )
        )
    yield engine
    engine.dispose()


def touch(
    store: Engine,
    touch_id: int,
    *,
    campaign: int | None = None,
    utm: str | None = None,
    recorded: datetime = NOW,
) -> None:
    detail = {"utm_campaign": utm} if utm else {}
    with store.begin() as conn:
        conn.execute(
            insert(Touch).values(
                id=touch_id,
                person_id=1,
                source_system="hubspot",
                source_event_id=f"e{touch_id}",
                occurred_at=NOW,
                kind="page_view",
                channel="paid_search",
                campaign_id=campaign,
                detail=detail,
                recorded_at=recorded,
            )
        )


def campaigns_of(store: Engine) -> dict[int, tuple[str, str] | None]:
    with store.connect() as conn:
        names = {i: (s, n) for i, s, n in conn.execute(select(Campaign.id, Campaign.system, Campaign.name))}
        return {t: names.get(c) if c else None for t, c in conn.execute(select(Touch.id, Touch.campaign_id))}


def salesforce_campaign(external_id: str, name: str) -> CampaignRow:
    return CampaignRow(external_id, name, "Email", "In Progress", None, None, None, None, None, None)


def test_utm_values_and_namesakes_point_touches_at_one_campaign(store: Engine) -> None:
    touch(store, 1, utm="Spring Launch")
    touch(store, 2, utm="spring launch ")
    touch(store, 3, campaign=10)
    touch(store, 4)
    with store.begin() as conn:
        linked = link_touches(conn, 0, NOW + timedelta(minutes=1), NOW)
    assert (linked.last_id, linked.read, linked.linked, linked.created_campaigns) == (4, 4, 2, 1)
    assert campaigns_of(store) == {
        1: ("utm", "Spring Launch"),
        2: ("utm", "Spring Launch"),
        3: ("hubspot", "2026 Newsletter"),
        4: None,
    }

    # A Salesforce campaign of the same name arrives: every touch of its namesakes moves to it.
    with store.begin() as conn:
        written = Written()
        upsert_campaigns(
            conn,
            [salesforce_campaign("701A", "Spring Launch"), salesforce_campaign("701B", "2026 newsletter")],
            {"701A": "email", "701B": "email"},
            NOW,
            written,
        )
    assert written.counts == {"campaigns": 2, "touches.relinked": 3}
    assert campaigns_of(store) == {
        1: ("salesforce", "Spring Launch"),
        2: ("salesforce", "Spring Launch"),
        3: ("salesforce", "2026 newsletter"),
        4: None,
    }


def test_the_scan_stops_before_a_touch_recorded_inside_the_lag(store: Engine) -> None:
    touch(store, 1, utm="A", recorded=NOW - timedelta(minutes=10))
    touch(store, 2, utm="B", recorded=NOW)
    touch(store, 3, utm="C", recorded=NOW - timedelta(minutes=10))
    with store.begin() as conn:
        linked = link_touches(conn, 0, NOW - timedelta(minutes=1), NOW)
    assert linked.last_id == 1  # touch 2 may be read again; touch 3 too, since it comes after it
    assert linked.linked == 3
    with store.begin() as conn:
        again = link_touches(conn, linked.last_id, NOW - timedelta(minutes=1), NOW)
    assert (again.read, again.linked, again.created_campaigns) == (2, 0, 0)
