"""The control plane's HubSpot actions, seeding, fault injection, robustness and list paging speed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException, PublicObjectSearchRequest

from connectors.hubspot.sandbox import HubSpotSandbox
from connectors.sandbox_core.clock import SimClock
from connectors.sandbox_core.population import build_population
from connectors.sandbox_core.server import make_tls
from tests.connectors.hubspot_sandbox.conftest import control, error_model, make_client, raw


def test_contacts_are_the_population_people_in_hubspot_with_their_hubspot_email_variant():
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with HubSpotSandbox(seed=13, contacts=120, clock=SimClock(start=now, frozen=True)) as sb:
        table = sb.state.store.table("contacts")
        emails = [table.records[i].properties["email"] for i in table.ids]
        lifecycle = [table.records[i].properties["lifecyclestage"] for i in table.ids]
    people = [p for p in build_population(13, 120, now=now).people if p.in_hubspot]
    assert emails == [p.email_variant_hubspot for p in people]
    assert lifecycle == [p.lifecycle for p in people]
    assert 0 < len(people) < 120


def test_same_seed_gives_the_same_portal():
    with HubSpotSandbox(seed=11, contacts=60) as a, HubSpotSandbox(seed=11, contacts=60) as b:
        snap_a, snap_b = a.state.snapshot(), b.state.snapshot()
    for snap in (snap_a, snap_b):
        snap.pop("now")
    assert snap_a["objects"]["contacts"]
    assert [c["properties"]["email"] for c in snap_a["objects"]["contacts"]] == [
        c["properties"]["email"] for c in snap_b["objects"]["contacts"]
    ]
    assert len(snap_a["emailEvents"]) == len(snap_b["emailEvents"])
    assert snap_a["associations"] == snap_b["associations"]


def test_form_submission_creates_a_lead_and_records_the_conversion(sandbox, client, http):
    result = control(
        http,
        sandbox,
        "POST",
        "/forms/submit",
        {
            "email": "visitor@forms-test.example",
            "properties": {"firstname": "Vic"},
            "formTitle": "Get the guide",
        },
    )
    assert result["new"] is True
    contact = client.crm.contacts.basic_api.get_by_id(
        result["contactId"],
        properties=["lifecyclestage", "recent_conversion_event_name", "num_conversion_events"],
    )
    assert contact.properties["lifecyclestage"] == "lead"
    assert contact.properties["recent_conversion_event_name"] == "Get the guide"
    events = client.events.events_api.get_page(
        object_type="contact", object_id=result["contactId"], event_type="e_submitted_form"
    )
    assert [e.properties["hs_form_title"] for e in events.results] == ["Get the guide"]
    again = control(http, sandbox, "POST", "/forms/submit", {"email": "Visitor@forms-test.example"})
    assert again == {**again, "new": False, "contactId": result["contactId"]}


def test_a_user_edit_bumps_lastmodifieddate_and_may_move_lifecycle_backward(sandbox, client, http):
    created = control(http, sandbox, "POST", "/forms/submit", {"email": "edited@forms-test.example"})
    before = client.crm.contacts.basic_api.get_by_id(created["contactId"])
    control(http, sandbox, "POST", "/clock", {"advance_seconds": 60})
    control(
        http,
        sandbox,
        "POST",
        f"/objects/contacts/{created['contactId']}/properties",
        {"properties": {"lifecyclestage": "subscriber"}},
    )
    after = client.crm.contacts.basic_api.get_by_id(
        created["contactId"], properties=["lifecyclestage"], properties_with_history=["lifecyclestage"]
    )
    assert after.properties["lifecyclestage"] == "subscriber"
    assert [(h.value, h.source_type) for h in after.properties_with_history["lifecyclestage"]] == [
        ("subscriber", "CRM_UI"),
        ("lead", "FORM"),
    ]
    assert after.properties["lastmodifieddate"] > before.properties["lastmodifieddate"]


def test_a_recorded_web_event_is_served_by_the_events_api(sandbox, client, http):
    contact_id = str(sandbox.state.store.table("contacts").ids[0])
    control(
        http,
        sandbox,
        "POST",
        "/web-events",
        {"contactId": contact_id, "properties": {"hs_url": "https://www.example.com/pricing?recorded=1"}},
    )
    page = client.events.events_api.get_page(object_type="contact", object_id=contact_id, limit=100)
    assert "https://www.example.com/pricing?recorded=1" in [e.properties.get("hs_url") for e in page.results]


def test_an_unsubscribe_email_event_opts_the_contact_out(sandbox, client, http):
    created = control(http, sandbox, "POST", "/forms/submit", {"email": "leaver@forms-test.example"})
    control(
        http,
        sandbox,
        "POST",
        "/email-events",
        {
            "type": "STATUSCHANGE",
            "recipient": "leaver@forms-test.example",
            "emailCampaignId": 300004,
            "details": {"portalSubscriptionStatus": "UNSUBSCRIBED"},
        },
    )
    contact = client.crm.contacts.basic_api.get_by_id(created["contactId"], properties=["hs_email_optout"])
    assert contact.properties["hs_email_optout"] == "true"


def test_control_plane_merge_redirects_like_the_api(sandbox, client, http):
    a = control(http, sandbox, "POST", "/forms/submit", {"email": "cp-a@forms-test.example"})
    b = control(http, sandbox, "POST", "/forms/submit", {"email": "cp-b@forms-test.example"})
    merged = control(
        http,
        sandbox,
        "POST",
        "/merge",
        {"primaryObjectId": a["contactId"], "objectIdToMerge": b["contactId"]},
    )
    assert client.crm.contacts.basic_api.get_by_id(b["contactId"]).id == merged["id"]


def test_snapshot_on_the_control_plane_holds_every_object_and_event(sandbox, http):
    snapshot = control(http, sandbox, "GET", "/snapshot")
    assert set(snapshot["objects"]) == {
        "contacts",
        "companies",
        "deals",
        "calls",
        "emails",
        "meetings",
        "notes",
        "tasks",
    }
    assert len(snapshot["objects"]["contacts"]) == len(sandbox.state.store.table("contacts").ids)
    assert snapshot["emailEvents"] and snapshot["webEvents"] and snapshot["associations"]


def test_generic_api_request_reaches_legacy_email_events_via_base_url(sandbox):
    client = HubSpot(access_token=sandbox.access_token, base_url=sandbox.base_url)
    response = client.api_request({"method": "GET", "path": "/email/public/v1/events", "qs": {"limit": 5}})
    assert response.status_code == 200
    body = response.json()
    assert len(body["events"]) == 5 and body["hasMore"] is True


def test_reset_with_bad_options_is_400_and_keeps_the_portal(sandbox, http):
    response = http.request(
        "POST",
        sandbox.base_url + "/__sandbox/reset",
        body=json.dumps({"settings": {"no_such_setting": 1}}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 400
    assert sandbox.state.store.table("contacts").ids


def test_serves_https_with_a_test_ca_the_sdk_trusts(tmp_path):
    with HubSpotSandbox(seed=6, contacts=20, tls=make_tls(tmp_path)) as sb:
        assert sb.base_url.startswith("https://")
        client = make_client(sb, retry=False, ssl_ca_cert=sb.ca_file)
        assert client.crm.contacts.basic_api.get_page(limit=3).results


def test_reset_reseeds_and_applies_settings(http):
    with HubSpotSandbox(seed=2, contacts=30) as sb:
        client = make_client(sb, retry=False)
        first = [r.properties["email"] for r in client.crm.contacts.basic_api.get_page(limit=5).results]
        control(
            http, sb, "POST", "/reset", {"seed": 9, "contacts": 30, "settings": {"ten_secondly_limit": 250}}
        )
        _, _, headers = client.crm.contacts.basic_api.get_page_with_http_info(limit=5)
        assert headers["X-HubSpot-RateLimit-Max"] == "250"
        second = [r.properties["email"] for r in client.crm.contacts.basic_api.get_page(limit=5).results]
        assert first != second


def test_injected_status_fault_answers_in_hubspot_error_shape(sandbox, client, http):
    control(
        http,
        sandbox,
        "POST",
        "/faults",
        {"method": "GET", "path": "^/crm/v3/objects/companies$", "kind": "status", "status": 502, "count": 1},
    )
    with pytest.raises(Exception) as info:
        client.crm.companies.basic_api.get_page(limit=1)
    assert info.value.status == 502
    assert error_model(info.value).category == "BAD_GATEWAY"
    assert client.crm.companies.basic_api.get_page(limit=1).results


def test_malformed_json_is_400_and_the_server_keeps_serving(sandbox, http, client):
    response = http.request(
        "POST",
        sandbox.base_url + "/crm/v3/objects/contacts/batch/create",
        body=b'{"inputs": [',
        headers={"Authorization": f"Bearer {sandbox.access_token}", "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert json.loads(response.data)["category"] == "VALIDATION_ERROR"
    for body in ([1, 2], {"inputs": "nope"}, {"inputs": [None]}, {"inputs": [{"properties": "x"}]}):
        assert raw(http, sandbox, "POST", "/crm/v3/objects/contacts/batch/create", body).status == 400
    assert (
        raw(
            http,
            sandbox,
            "POST",
            "/crm/v3/objects/contacts/search",
            {"filterGroups": [{"filters": [{"x": 1}]}]},
        ).status
        == 400
    )
    assert client.crm.contacts.basic_api.get_page(limit=1).results


def test_unknown_route_and_object_type_answer_in_hubspot_error_shape(sandbox, http):
    missing = raw(http, sandbox, "GET", "/crm/v3/nothing-here")
    assert missing.status == 404 and json.loads(missing.data)["status"] == "error"
    unknown = raw(http, sandbox, "GET", "/crm/v3/objects/spaceships")
    assert unknown.status == 400 and "spaceships" in json.loads(unknown.data)["message"]


def test_search_with_unknown_sort_property_is_400(client):
    with pytest.raises(ApiException) as info:
        client.crm.contacts.search_api.do_search(PublicObjectSearchRequest(sorts=["no_such_prop"]))
    assert info.value.status == 400


def test_seeded_contacts_summarise_their_touches(sandbox, client):
    contact_id, views = max(sandbox.state.events.web_by_object.items(), key=lambda item: len(item[1]))
    props = client.crm.contacts.basic_api.get_by_id(
        str(contact_id), properties=["hs_analytics_num_page_views", "hs_analytics_last_timestamp"]
    ).properties
    page_views = [e for _, _, e in views if e.event_type == "e_visited_page"]
    assert props["hs_analytics_num_page_views"] == str(len(page_views))
    opened = client.crm.contacts.search_api.do_search(
        PublicObjectSearchRequest(
            filter_groups=[{"filters": [{"propertyName": "hs_email_open", "operator": "GTE", "value": "1"}]}],
            properties=["hs_email_open", "hs_email_last_open_date"],
            limit=5,
        )
    )
    assert opened.total > 0
    assert all(r.properties["hs_email_last_open_date"] for r in opened.results)


def test_a_touch_is_an_internal_write_that_bumps_lastmodifieddate(sandbox, client, http):
    created = control(http, sandbox, "POST", "/forms/submit", {"email": "toucher@forms-test.example"})
    before = client.crm.contacts.basic_api.get_by_id(created["contactId"])
    control(http, sandbox, "POST", "/clock", {"advance_seconds": 30})
    control(
        http,
        sandbox,
        "POST",
        "/email-events",
        {"type": "OPEN", "recipient": "toucher@forms-test.example", "emailCampaignId": 300004},
    )
    after = client.crm.contacts.basic_api.get_by_id(created["contactId"], properties=["hs_email_open"])
    assert after.properties["hs_email_open"] == "1"
    assert after.properties["lastmodifieddate"] > before.properties["lastmodifieddate"]
