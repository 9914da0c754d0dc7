"""Events → touch kinds and channels, and touches → Salesforce Task fields (pure, table-driven)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from syncd.engine.engagements import (
    TaskSettings,
    Taxonomy,
    classify,
    digest_fields,
    digest_key,
    event_from_payload,
    event_payload,
    task_fields,
    task_key,
    touch_detail,
)
from syncd.engine.touch_store import StoredTouch
from syncd.events import TouchEvent

AT = datetime(2026, 3, 1, 14, 30, tzinfo=UTC)


def email(type_: str, **properties: Any) -> TouchEvent:
    return TouchEvent("hubspot", "email", "e1", type_, AT, email="a@example.com", properties=properties)


def web(type_: str, **properties: Any) -> TouchEvent:
    return TouchEvent("hubspot", "web", "w1", type_, AT, contact_id="101", properties=properties)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (email("SENT"), ("email_send", "email")),
        (email("DELIVERED"), ("email_delivered", "email")),
        (email("OPEN"), ("email_open", "email")),
        (email("CLICK", url="https://x.test"), ("email_click", "email")),
        (email("BOUNCE", category="UNKNOWN_USER"), ("email_bounce", "email")),
        (email("STATUSCHANGE", portalSubscriptionStatus="UNSUBSCRIBED"), ("unsubscribe", "email")),
        (email("STATUSCHANGE", subscription_statuses=["UNSUBSCRIBED"]), ("unsubscribe", "email")),
        (email("STATUSCHANGE", portalSubscriptionStatus="SUBSCRIBED"), None),
        (email("DEFERRED"), None),
        (email("PROCESSED"), None),
        (web("e_visited_page", hs_utm_medium="cpc"), ("page_view", "paid_search")),
        (web("e_visited_page", hs_utm_medium="Email"), ("page_view", "email")),
        (web("e_visited_page", hs_utm_medium="carrier-pigeon"), ("page_view", "other")),
        (web("e_visited_page", hs_analytics_source="ORGANIC_SEARCH"), ("page_view", "organic_search")),
        (web("e_visited_page"), ("page_view", "direct")),
        (web("e_submitted_form", hs_utm_medium="webinar"), ("form_submission", "webinar")),
        (web("e_clicked_cta"), None),
    ],
)
def test_events_map_to_touch_kinds_and_channels(event: TouchEvent, expected: tuple[str, str] | None) -> None:
    assert classify(event, Taxonomy()) == expected


def test_event_type_names_are_configurable() -> None:
    taxonomy = Taxonomy(page_view_types=("pe123_page_view",), form_types=("pe123_form",))
    assert classify(web("pe123_page_view"), taxonomy) == ("page_view", "direct")
    assert classify(web("pe123_form"), taxonomy) == ("form_submission", "direct")
    assert classify(web("e_visited_page"), taxonomy) is None


def touch(
    kind: str, detail: dict[str, Any], *, event_id: str = "ev-1", campaign: str | None = None
) -> StoredTouch:
    return StoredTouch(1, 7, "hubspot", event_id, AT, kind, "email", detail, campaign)


@pytest.mark.parametrize(
    ("kind", "detail", "subject", "type_"),
    [
        ("email_click", {"email": "Spring launch"}, "Email clicked: Spring launch", "Email"),
        ("email_bounce", {"email": "Spring launch"}, "Email bounced: Spring launch", "Email"),
        ("unsubscribe", {}, "Unsubscribed from email", "Email"),
        (
            "page_view",
            {"url": "https://example.com/pricing"},
            "Visited page: https://example.com/pricing",
            "Other",
        ),
        ("form_submission", {"form": "Request a demo"}, "Submitted form: Request a demo", "Other"),
    ],
)
def test_a_touch_becomes_a_completed_task_on_the_person(
    kind: str, detail: dict[str, Any], subject: str, type_: str
) -> None:
    fields = task_fields(touch(kind, detail), "00Q000000000001AAA", TaskSettings())

    assert fields["Subject"] == subject
    assert fields["Type"] == type_
    assert fields["WhoId"] == "00Q000000000001AAA"
    assert fields["Status"] == "Completed"
    assert fields["ActivityDate"] == "2026-03-01"
    assert "TaskSubtype" not in fields  # create-only in Salesforce: a replay's upsert may be an update
    assert "When: 2026-03-01 14:30 UTC" in fields["Description"]
    assert fields["HubSpot_Engagement_Id__c"] == task_key(touch(kind, detail))


def test_task_keys_are_stable_per_source_event_and_fit_the_external_id_field() -> None:
    one, same, other = (
        touch("page_view", {}),
        touch("email_click", {"x": 1}),
        touch("page_view", {}, event_id="ev-2"),
    )
    assert task_key(one) == task_key(same)
    assert task_key(one) != task_key(other)
    assert len(task_key(one)) <= 40
    assert len(digest_key(12345678901, date(2026, 12, 31))) <= 40


def test_a_digest_lists_the_days_touches_in_order() -> None:
    touches = [
        touch("page_view", {"url": "https://example.com/a"}),
        touch("email_click", {"email": "Spring launch"}, event_id="ev-2"),
        touch("page_view", {"url": "https://example.com/b"}, event_id="ev-3"),
    ]
    fields = digest_fields(7, date(2026, 3, 1), touches, "003000000000001AAA", TaskSettings(mode="digest"))

    assert fields["Subject"] == "Marketing activity: 2 page views, 1 email click"
    assert fields["HubSpot_Engagement_Id__c"] == "syncd:d:7:20260301"
    lines = fields["Description"].splitlines()
    assert lines[0].endswith("Visited page: https://example.com/a (email)")
    assert "Email clicked: Spring launch" in lines[1]
    assert fields["Type"] == "Other"


def test_touch_detail_keeps_what_sales_and_reports_need() -> None:
    event = web(
        "e_visited_page",
        hs_url="https://example.com/pricing",
        hs_page_title="pricing",
        hs_utm_medium="cpc",
        hs_utm_campaign="Spring",
        internal_junk="x",
    )
    assert touch_detail(event, None) == {
        "event_type": "e_visited_page",
        "url": "https://example.com/pricing",
        "page_title": "pricing",
        "utm_medium": "cpc",
        "utm_campaign": "Spring",
    }


def test_a_waiting_event_survives_its_issue_payload() -> None:
    event = email("CLICK", url="https://x.test")
    assert event_from_payload(event_payload(event)) == event
