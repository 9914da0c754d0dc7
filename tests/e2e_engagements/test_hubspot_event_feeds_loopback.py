"""The HubSpot event feeds read from the simulator over loopback: complete, ordered and resumable."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest

from connectors.hubspot.config import HubSpotConfig
from connectors.hubspot.connector import HubSpotConnector
from connectors.hubspot.events import EventFeedSettings

from .conftest import FAST_RETRY, FAST_WAITS, World


@pytest.fixture
def hubspot(world_session: World) -> Iterator[HubSpotConnector]:
    world_session.reseed()
    config = HubSpotConfig(
        access_token=world_session.hubspot.access_token,
        base_url=world_session.hubspot.base_url,
        retry=FAST_RETRY,
        waits=FAST_WAITS,
    )
    connector = HubSpotConnector(
        config,
        budget=config.budget(clock=world_session.time.monotonic, sleep=world_session.let_time_pass),
        now=world_session.clock.now,
        rng=random.Random(2),
        # Small pages and windows: the offset paging and the window seams are crossed many times.
        events=EventFeedSettings(
            email_page_size=10, email_window=timedelta(days=20), history=timedelta(days=3650)
        ),
    )
    yield connector
    connector.close()


def test_every_email_event_is_read_once_oldest_first(world_session: World, hubspot: HubSpotConnector) -> None:
    _, emails = world_session.hubspot_events()

    pages = list(hubspot.email_events(None))

    read = [e for page in pages for e in page.events]
    assert [e.id for e in read] == [e["id"] for e in sorted(emails, key=lambda e: (e["created"], e["id"]))]
    assert len({e.id for e in read}) == len(emails) > 50
    cursors = [(p.cursor.modified_at, p.cursor.last_id or "") for p in pages]
    assert cursors == sorted(cursors)


def test_a_pull_resumed_from_a_page_cursor_reads_exactly_the_rest(hubspot: HubSpotConnector) -> None:
    pages = list(hubspot.email_events(None))
    middle = next(i for i, p in enumerate(pages) if p.cursor.last_id is not None and i > 2)
    rest = [e.id for p in pages[middle + 1 :] for e in p.events]

    resumed = [e.id for p in hubspot.email_events(pages[middle].cursor) for e in p.events]

    assert resumed == rest


def test_a_contacts_web_events_are_read_with_their_properties(
    world_session: World, hubspot: HubSpotConnector
) -> None:
    web, _ = world_session.hubspot_events()
    contact = max({e["objectId"] for e in web}, key=lambda c: sum(e["objectId"] == c for e in web))
    expected = [e for e in web if e["objectId"] == contact]

    read = hubspot.web_events(contact, None)

    assert [e.id for e in read] == [e["id"] for e in expected]
    assert [dict(e.properties) for e in read] == [e["properties"] for e in expected]
    since = read[0].occurred_at
    assert [e.id for e in hubspot.web_events(contact, since)] == [e.id for e in read if e.occurred_at > since]
    assert {e.type for e in hubspot.web_events(contact, None, ["e_submitted_form"])} <= {"e_submitted_form"}


def test_email_campaigns_are_named_and_unknown_ones_are_none(
    world_session: World, hubspot: HubSpotConnector
) -> None:
    _, emails = world_session.hubspot_events()

    found = hubspot.email_campaign(str(emails[0]["emailCampaignId"]))

    assert found is not None and found.name
    assert hubspot.email_campaign("1") is None
