"""The HubSpot event feeds over httpx: paging, ordering, cursors, budget and the one retry policy."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from connectors.hubspot.config import HubSpotConfig
from connectors.hubspot.errors import Waits
from connectors.hubspot.events import EventFeedSettings, HubSpotEventReader
from syncd.budget import ApiBudget, DailyAllowance
from syncd.connector import Cursor
from syncd.errors import AuthError, BudgetExhaustedError, RetryableError
from syncd.retry import RetryPolicy

BASE = "https://hubspot.test"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def email_event(n: int, when: datetime, type_: str = "CLICK", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"ev-{n:03d}",
        "type": type_,
        "created": ms(when),
        "recipient": f"person{n}@example.com",
        "emailCampaignId": 300001,
        **extra,
    }


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def budget() -> ApiBudget:
    return ApiBudget(DailyAllowance("hubspot", limit=1000))


@pytest.fixture
def reader(sleeps: Sleeps, budget: ApiBudget) -> Iterator[HubSpotEventReader]:
    config = HubSpotConfig(
        access_token="token-1",
        base_url=BASE,
        retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, max_total_wait=60),
        waits=Waits(ten_secondly=10.0, secondly=1.0, locked=2.0),
    )
    settings = EventFeedSettings(
        email_window=timedelta(days=10), email_page_size=2, history=timedelta(days=10)
    )
    feeds = HubSpotEventReader(
        config,
        budget,
        settings=settings,
        now=lambda: T0 + timedelta(days=10),
        sleep=sleeps,
        rng=random.Random(3),
    )
    yield feeds
    feeds.close()


def _offset_pages(events: list[dict[str, Any]], size: int) -> Any:
    """A legacy endpoint: newest first, `offset` continuing below the last event returned."""

    def answer(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["startTimestamp"])
        end = int(request.url.params["endTimestamp"])
        inside = sorted(
            (e for e in events if start <= e["created"] <= end),
            key=lambda e: (e["created"], e["id"]),
            reverse=True,
        )
        at = int(request.url.params.get("offset", "0"))
        page = inside[at : at + size]
        more = at + size < len(inside)
        body: dict[str, Any] = {"events": page, "hasMore": more}
        if more:
            body["offset"] = str(at + size)
        return httpx.Response(200, json=body)

    return answer


@respx.mock(base_url=BASE, assert_all_called=False)
def test_email_events_come_oldest_first_across_offset_pages(
    respx_mock: respx.MockRouter, reader: HubSpotEventReader
) -> None:
    events = [email_event(n, T0 + timedelta(hours=n)) for n in (3, 1, 2, 5, 4)]
    route = respx_mock.get("/email/public/v1/events").mock(side_effect=_offset_pages(events, 2))

    pages = list(reader.email_events(Cursor(T0, None), until=T0 + timedelta(days=1)))

    ids = [e.id for page in pages for e in page.events]
    assert ids == ["ev-001", "ev-002", "ev-003", "ev-004", "ev-005"]
    assert [len(p.events) for p in pages] == [2, 2, 1]
    # Inner pages resume after their last event; the last one at the window's end.
    assert pages[0].cursor == Cursor(T0 + timedelta(hours=2), "ev-002")
    assert pages[-1].cursor == Cursor(T0 + timedelta(days=1), None)
    assert route.call_count == 3
    first = route.calls[0].request
    assert first.headers["authorization"] == "Bearer token-1"
    assert first.url.params["startTimestamp"] == str(ms(T0))


@respx.mock(base_url=BASE, assert_all_called=False)
def test_email_events_resume_after_the_cursor_event(
    respx_mock: respx.MockRouter, reader: HubSpotEventReader
) -> None:
    at = T0 + timedelta(hours=1)
    events = [email_event(1, at), email_event(2, at), email_event(3, at + timedelta(hours=1))]
    respx_mock.get("/email/public/v1/events").mock(side_effect=_offset_pages(events, 10))

    pages = list(reader.email_events(Cursor(at, "ev-001"), until=T0 + timedelta(days=1)))

    assert [e.id for p in pages for e in p.events] == ["ev-002", "ev-003"]


@respx.mock(base_url=BASE, assert_all_called=False)
def test_a_quiet_range_still_moves_the_cursor_window_by_window(
    respx_mock: respx.MockRouter, reader: HubSpotEventReader
) -> None:
    respx_mock.get("/email/public/v1/events").mock(return_value=httpx.Response(200, json={"events": []}))

    pages = list(reader.email_events(Cursor(T0, None), until=T0 + timedelta(days=25)))

    assert [p.events for p in pages] == [(), (), ()]
    assert [p.cursor.modified_at for p in pages] == [
        T0 + timedelta(days=10),
        T0 + timedelta(days=20),
        T0 + timedelta(days=25),
    ]


@respx.mock(base_url=BASE, assert_all_called=False)
def test_email_event_fields_become_a_touch_event(
    respx_mock: respx.MockRouter, reader: HubSpotEventReader
) -> None:
    raw = email_event(
        7,
        T0 + timedelta(hours=1),
        "STATUSCHANGE",
        portalSubscriptionStatus="UNSUBSCRIBED",
        subscriptions=[{"id": 1, "status": "UNSUBSCRIBED"}],
        response="250 OK",
    )
    respx_mock.get("/email/public/v1/events").mock(side_effect=_offset_pages([raw], 10))

    (event,) = [
        e for p in reader.email_events(Cursor(T0, None), until=T0 + timedelta(days=1)) for e in p.events
    ]

    assert event.feed == "email"
    assert event.type == "STATUSCHANGE"
    assert event.email == "person7@example.com"
    assert event.campaign_id == "300001"
    assert event.occurred_at == T0 + timedelta(hours=1)
    assert event.properties == {
        "portalSubscriptionStatus": "UNSUBSCRIBED",
        "subscription_statuses": ["UNSUBSCRIBED"],
    }


@respx.mock(base_url=BASE, assert_all_called=False)
def test_rate_limited_email_events_wait_the_ten_second_window_and_recover(
    respx_mock: respx.MockRouter, reader: HubSpotEventReader, sleeps: Sleeps, budget: ApiBudget
) -> None:
    limited = httpx.Response(
        429,
        json={
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT",
            "policyName": "TEN_SECONDLY_ROLLING",
        },
    )
    route = respx_mock.get("/email/public/v1/events").mock(
        side_effect=[limited, httpx.Response(502), httpx.Response(200, json={"events": [email_event(1, T0)]})]
    )

    pages = list(reader.email_events(Cursor(T0, None), until=T0 + timedelta(hours=1)))

    assert [e.id for p in pages for e in p.events] == ["ev-001"]
    assert route.call_count == 3
    assert sleeps.waits[0] >= 10.0  # HubSpot's policy window, not a millisecond backoff
    assert budget.usage().used == 3  # every attempt spends the connector's shared allowance


@respx.mock(base_url=BASE, assert_all_called=False)
def test_daily_limit_parks_without_retrying(
    respx_mock: respx.MockRouter, reader: HubSpotEventReader, sleeps: Sleeps
) -> None:
    route = respx_mock.get("/email/public/v1/events").mock(
        return_value=httpx.Response(
            429, json={"message": "You have reached your daily limit.", "policyName": "DAILY"}
        )
    )

    with pytest.raises(BudgetExhaustedError):
        list(reader.email_events(Cursor(T0, None), until=T0 + timedelta(hours=1)))

    assert route.call_count == 1
    assert sleeps.waits == []


@respx.mock(base_url=BASE, assert_all_called=False)
def test_server_errors_that_persist_surface_as_retryable_after_the_policy(
    respx_mock: respx.MockRouter, reader: HubSpotEventReader
) -> None:
    route = respx_mock.get("/email/public/v1/events").mock(return_value=httpx.Response(503))

    with pytest.raises(RetryableError, match="503"):
        list(reader.email_events(Cursor(T0, None), until=T0 + timedelta(hours=1)))

    assert route.call_count == 4


@respx.mock(base_url=BASE, assert_all_called=False)
def test_a_revoked_token_is_an_auth_error(respx_mock: respx.MockRouter, reader: HubSpotEventReader) -> None:
    respx_mock.get("/events/v3/events").mock(return_value=httpx.Response(401, json={"message": "expired"}))

    with pytest.raises(AuthError, match="access token"):
        reader.web_events("101", None)


@respx.mock(base_url=BASE, assert_all_called=False)
def test_web_events_follow_paging_and_keep_the_configured_types(
    respx_mock: respx.MockRouter, reader: HubSpotEventReader
) -> None:
    def web(n: int, type_: str) -> dict[str, Any]:
        return {
            "id": f"w-{n}",
            "eventType": type_,
            "objectId": "101",
            "objectType": "contact",
            "occurredAt": (T0 + timedelta(minutes=n)).isoformat().replace("+00:00", "Z"),
            "properties": {"hs_url": f"https://example.com/{n}"},
        }

    route = respx_mock.get("/events/v3/events").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "results": [web(1, "e_visited_page"), web(2, "e_clicked_cta")],
                    "paging": {"next": {"after": "page2"}},
                },
            ),
            httpx.Response(200, json={"results": [web(3, "e_submitted_form")]}),
        ]
    )

    found = reader.web_events("101", T0, ["e_visited_page", "e_submitted_form"])

    assert [(e.id, e.type, e.contact_id) for e in found] == [
        ("w-1", "e_visited_page", "101"),
        ("w-3", "e_submitted_form", "101"),
    ]
    assert found[0].properties == {"hs_url": "https://example.com/1"}
    first, second = (call.request.url.params for call in route.calls)
    assert first["objectId"] == "101"
    assert first["occurredAfter"] == str(ms(T0))
    assert second["after"] == "page2"


@respx.mock(base_url=BASE, assert_all_called=False)
def test_web_events_of_an_archived_contact_are_none(
    respx_mock: respx.MockRouter, reader: HubSpotEventReader
) -> None:
    respx_mock.get("/events/v3/events").mock(
        return_value=httpx.Response(
            404, json={"message": "contact 101 not found", "category": "OBJECT_NOT_FOUND"}
        )
    )

    assert reader.web_events("101", None) == []


@respx.mock(base_url=BASE, assert_all_called=False)
def test_email_campaign_names_come_from_the_campaign_lookup(
    respx_mock: respx.MockRouter, reader: HubSpotEventReader
) -> None:
    respx_mock.get("/email/public/v1/campaigns/300001").mock(
        return_value=httpx.Response(
            200, content=json.dumps({"id": 300001, "name": "Spring launch", "subject": "Hi"})
        )
    )
    respx_mock.get("/email/public/v1/campaigns/9").mock(
        return_value=httpx.Response(404, json={"message": "no"})
    )

    found = reader.email_campaign("300001")
    assert found is not None and (found.name, found.subject) == ("Spring launch", "Hi")
    assert reader.email_campaign("9") is None
