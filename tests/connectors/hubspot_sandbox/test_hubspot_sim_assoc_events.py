"""Associations v4, web analytics events (events v3) and the legacy marketing email events endpoint."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.associations.v4 import (
    ApiException as AssocApiException,
)
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicAssociationMultiPost,
    PublicFetchAssociationsBatchRequest,
    PublicObjectId,
)
from hubspot.crm.companies import SimplePublicObjectInputForCreate as CompanyInput
from hubspot.crm.contacts import SimplePublicObjectInputForCreate
from hubspot.events import ApiException as EventsApiException

from tests.connectors.hubspot_sandbox.conftest import raw


def _fetch(ids):
    return BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[PublicFetchAssociationsBatchRequest(id=i) for i in ids]
    )


def _seeded_deal_ids(sandbox, n):
    return [str(i) for i in sandbox.state.store.table("deals").ids[:n]]


def test_seeded_deals_are_associated_with_contacts_by_type_3(sandbox, client):
    ids = _seeded_deal_ids(sandbox, 5)
    response = client.crm.associations.v4.batch_api.get_page("deals", "contacts", _fetch(ids))
    assert [r._from.id for r in response.results] == ids
    for result in response.results:
        assert result.to and result.to[0].association_types[0].type_id == 3
        assert result.to[0].association_types[0].category == "HUBSPOT_DEFINED"


def test_batch_read_of_ids_without_associations_reports_them_as_207_errors(client):
    lonely = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "lonely@assoc-test.example"})
    )
    response = client.crm.associations.v4.batch_api.get_page("contacts", "deals", _fetch([lonely.id]))
    assert response.results == []
    assert response.errors[0].context["fromObjectId"] == [lonely.id]


def test_batch_create_over_2000_inputs_is_400(client):
    spec = AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=279)
    inputs = [
        PublicAssociationMultiPost(_from=PublicObjectId(id=str(i)), to=PublicObjectId(id="1"), types=[spec])
        for i in range(2001)
    ]
    with pytest.raises(AssocApiException) as info:
        client.crm.associations.v4.batch_api.create(
            "contacts", "companies", BatchInputPublicAssociationMultiPost(inputs=inputs)
        )
    assert info.value.status == 400


def test_batch_read_over_1000_inputs_is_400(client):
    with pytest.raises(AssocApiException) as info:
        client.crm.associations.v4.batch_api.get_page(
            "deals", "contacts", _fetch([str(i) for i in range(1001)])
        )
    assert info.value.status == 400


def test_batch_create_links_contacts_to_companies_and_reads_back(client):
    contact = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "linked@assoc-test.example"})
    )
    company = client.crm.companies.basic_api.create(CompanyInput(properties={"name": "Linked Ltd"}))
    created = client.crm.associations.v4.batch_api.create(
        "contacts",
        "companies",
        BatchInputPublicAssociationMultiPost(
            inputs=[
                PublicAssociationMultiPost(
                    _from=PublicObjectId(id=contact.id),
                    to=PublicObjectId(id=company.id),
                    types=[AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=279)],
                )
            ]
        ),
    )
    assert created.results[0].to_object_type_id == "0-2"
    back = client.crm.associations.v4.batch_api.get_page("companies", "contacts", _fetch([company.id]))
    assert back.results[0].to[0].to_object_id == contact.id
    assert back.results[0].to[0].association_types[0].type_id == 280


def test_batch_create_with_wrong_hubspot_defined_type_is_400(client):
    with pytest.raises(AssocApiException) as info:
        client.crm.associations.v4.batch_api.create(
            "contacts",
            "companies",
            BatchInputPublicAssociationMultiPost(
                inputs=[
                    PublicAssociationMultiPost(
                        _from=PublicObjectId(id="1"),
                        to=PublicObjectId(id="2"),
                        types=[
                            AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=4)
                        ],
                    )
                ]
            ),
        )
    assert info.value.status == 400


def test_put_default_association_links_both_directions(sandbox, client):
    contact = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "default@assoc-test.example"})
    )
    deal_id = _seeded_deal_ids(sandbox, 1)[0]
    response = client.crm.associations.v4.basic_api.create_default("contacts", contact.id, "deals", deal_id)
    specs = {(r._from.id, r.to.id): r.association_spec.association_type_id for r in response.results}
    assert specs == {(contact.id, deal_id): 4, (deal_id, contact.id): 3}
    listed = client.crm.associations.v4.basic_api.get_page("contacts", contact.id, "deals")
    assert [r.to_object_id for r in listed.results] == [deal_id]


def test_contacts_carry_an_original_traffic_source(client):
    page = client.crm.contacts.basic_api.get_page(limit=100, properties=["hs_analytics_source"])
    sources = {r.properties["hs_analytics_source"] for r in page.results}
    assert None not in sources
    assert len(sources) >= 3


def test_web_analytics_events_list_page_views_for_a_contact(sandbox, client):
    contact_id = next(iter(sandbox.state.events.web_by_object))
    response = client.events.events_api.get_page(
        object_type="contact", object_id=contact_id, event_type="e_visited_page"
    )
    assert response.results
    for event in response.results:
        assert event.object_id == str(contact_id)
        assert event.event_type == "e_visited_page"
        assert event.properties["hs_url"].startswith("https://")
    stamps = [e.occurred_at for e in response.results]
    assert stamps == sorted(stamps)


def _busiest_contact(sandbox):
    return max(sandbox.state.events.web_by_object.items(), key=lambda item: len(item[1]))


def test_web_analytics_events_page_with_after_cursor_without_repeats(sandbox, client):
    contact_id, events = _busiest_contact(sandbox)
    seen, after = [], None
    while True:
        page = client.events.events_api.get_page(
            object_type="contact", object_id=contact_id, limit=2, after=after
        )
        seen.extend(e.id for e in page.results)
        if page.paging is None:
            break
        after = page.paging.next.after
    assert len(seen) == len(set(seen)) == len(events) > 2


def test_web_analytics_events_filter_by_occurred_after(sandbox, client):
    contact_id, _ = _busiest_contact(sandbox)
    newest_first = client.events.events_api.get_page(
        object_type="contact", object_id=contact_id, sort=["DESCENDING"]
    )
    stamps = [e.occurred_at for e in newest_first.results]
    assert stamps == sorted(stamps, reverse=True)
    later = client.events.events_api.get_page(
        object_type="contact", object_id=contact_id, occurred_after=stamps[1]
    )
    assert [e.occurred_at for e in later.results] == [stamps[0]]


def test_web_analytics_events_by_email_object_property(sandbox, client, http):
    contact_id, events = _busiest_contact(sandbox)
    email = sandbox.state.store.table("contacts").records[contact_id].properties["email"]
    response = raw(
        http,
        sandbox,
        "GET",
        "/events/v3/events",
        fields={"objectType": "contact", "objectProperty.email": email},
    )
    assert len(json.loads(response.data)["results"]) == len(events)


def test_web_analytics_events_without_an_object_are_400(client):
    with pytest.raises(EventsApiException) as info:
        client.events.events_api.get_page(object_type="contact")
    assert info.value.status == 400


def test_email_events_page_newest_first_with_offset_and_has_more(sandbox, http):
    seen: list[str] = []
    offset = None
    created: list[int] = []
    while True:
        fields = {"limit": "250", **({"offset": offset} if offset else {})}
        response = raw(http, sandbox, "GET", "/email/public/v1/events", fields=fields)
        assert response.status == 200
        body = json.loads(response.data)
        seen.extend(e["id"] for e in body["events"])
        created.extend(e["created"] for e in body["events"])
        if not body["hasMore"]:
            assert "offset" not in body
            break
        offset = body["offset"]
    assert len(seen) == len(set(seen)) == len(sandbox.state.events.email)
    assert created == sorted(created, reverse=True)


def test_email_events_filter_by_type_and_time_window(sandbox, http):
    events = [e for _, _, e in sandbox.state.events.email]
    start, end = events[len(events) // 4].created_ms, events[3 * len(events) // 4].created_ms
    response = raw(
        http,
        sandbox,
        "GET",
        "/email/public/v1/events",
        fields={"eventType": "OPEN", "startTimestamp": str(start), "endTimestamp": str(end), "limit": "1000"},
    )
    body = json.loads(response.data)
    expected = [e for e in events if e.type == "OPEN" and start <= e.created_ms <= end]
    assert len(body["events"]) == len(expected) > 0
    assert {e["type"] for e in body["events"]} == {"OPEN"}
    assert all(e["emailCampaignId"] and e["recipient"] for e in body["events"])


def test_email_history_holds_sends_deliveries_opens_clicks_and_unsubscribes(sandbox):
    kinds = {e.type for _, _, e in sandbox.state.events.email}
    assert {"SENT", "DELIVERED", "OPEN", "CLICK", "STATUSCHANGE"} <= kinds


def test_email_event_type_outside_the_documented_set_is_400(sandbox, http):
    response = raw(http, sandbox, "GET", "/email/public/v1/events", fields={"eventType": "LIKED"})
    assert response.status == 400


def test_email_campaigns_resolve_ids_to_campaign_names(sandbox, http):
    listing = json.loads(raw(http, sandbox, "GET", "/email/public/v1/campaigns/by-id").data)
    first = listing["campaigns"][0]["id"]
    detail = json.loads(raw(http, sandbox, "GET", f"/email/public/v1/campaigns/{first}").data)
    assert detail["name"] and detail["id"] == first
