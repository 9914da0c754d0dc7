"""Sales engagements in the simulated portal: upserts keyed by a unique custom property, the contact's
activity summary HubSpot keeps up to date, associations v4 reads, and the seeded sales activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest
from hubspot.crm.associations.v4 import PublicFetchAssociationsBatchRequest as Fetch
from hubspot.crm.objects.calls import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.objects.meetings import ApiException as MeetingsApiException
from hubspot.crm.objects.notes import ApiException as NotesApiException

from tests.connectors.hubspot_sandbox.conftest import error_json

KEY = "syncd_source_id"
CALL_TO_CONTACT = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}
NOTE_TO_CONTACT = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}


def _ms(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _upsert(*inputs: tuple[str, dict[str, str]]) -> BatchInputSimplePublicObjectBatchInputUpsert:
    return BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[
            SimplePublicObjectBatchInputUpsert(id=key, id_property=KEY, properties=p) for key, p in inputs
        ]
    )


def _contact(client, email: str):
    from hubspot.crm.contacts import SimplePublicObjectInputForCreate as ContactInput

    return client.crm.contacts.basic_api.create(ContactInput(properties={"email": email}))


def _contact_props(client, contact_id: str) -> dict[str, str | None]:
    names = [
        "notes_last_updated",
        "notes_last_contacted",
        "num_notes",
        "num_contacted_notes",
        "lastmodifieddate",
    ]
    properties: dict[str, str | None] = client.crm.contacts.basic_api.get_by_id(
        contact_id, properties=names
    ).properties
    return properties


def test_engagement_objects_define_a_unique_source_id_property_and_contacts_an_activity_summary(client):
    for obj in ("calls", "emails", "meetings", "notes"):
        prop = client.crm.properties.core_api.get_by_name(obj, KEY)
        assert prop.has_unique_value is True and prop.hubspot_defined is not True
    for name in ("notes_last_updated", "notes_last_contacted", "num_notes", "num_contacted_notes"):
        prop = client.crm.properties.core_api.get_by_name("contacts", name)
        assert prop.modification_metadata.read_only_value is True


def test_batch_upsert_by_the_unique_property_creates_then_updates_the_same_call(client):
    when = _ms(datetime(2026, 2, 3, 10, tzinfo=UTC))
    first = client.crm.objects.calls.batch_api.upsert(
        _upsert(("sf:00T000000000001AAA", {"hs_timestamp": when, "hs_call_title": "Call"}))
    ).results[0]
    again = client.crm.objects.calls.batch_api.upsert(
        _upsert(("sf:00T000000000001AAA", {"hs_timestamp": when, "hs_call_title": "Call (edited)"}))
    ).results[0]
    assert (first.new, again.new, again.id) == (True, False, first.id)
    assert again.properties[KEY] == "sf:00T000000000001AAA"
    read = client.crm.objects.calls.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id="sf:00T000000000001AAA")],
            properties=["hs_call_title"],
            properties_with_history=[],
            id_property=KEY,
        )
    )
    assert [(r.id, r.properties["hs_call_title"]) for r in read.results] == [(first.id, "Call (edited)")]


def test_an_upsert_that_would_create_without_hs_timestamp_fails_the_batch(client):
    with pytest.raises(MeetingsApiException) as refused:
        client.crm.objects.meetings.batch_api.upsert(
            _upsert(("sf:00U000000000009AAA", {"hs_meeting_title": "x"}))
        )
    assert refused.value.status == 400
    assert error_json(refused.value)["errors"][0]["code"] == "REQUIRED_PROPERTY"


def test_a_taken_unique_value_is_a_conflict_and_one_key_twice_in_a_batch_is_refused(client):
    when = _ms(datetime(2026, 2, 3, 11, tzinfo=UTC))
    client.crm.objects.notes.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"hs_timestamp": when, KEY: "sf:taken"})
    )
    with pytest.raises(NotesApiException) as conflict:
        client.crm.objects.notes.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"hs_timestamp": when, KEY: "sf:taken"})
        )
    assert conflict.value.status == 409 and error_json(conflict.value)["category"] == "CONFLICT"
    with pytest.raises(NotesApiException) as twice:
        client.crm.objects.notes.batch_api.upsert(
            _upsert(("sf:twice", {"hs_timestamp": when}), ("sf:twice", {"hs_timestamp": when}))
        )
    assert twice.value.status == 400


def test_a_call_linked_to_a_contact_moves_its_activity_summary_and_modification_time(sandbox, client):
    contact = _contact(client, "summary@sales-activity.example")
    before = _contact_props(client, contact.id)
    sandbox.state.clock.advance(5)
    when = datetime(2026, 3, 1, 9, tzinfo=UTC)
    client.crm.objects.calls.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"hs_timestamp": _ms(when)},
            associations=[{"to": {"id": contact.id}, "types": [CALL_TO_CONTACT]}],
        )
    )
    after = _contact_props(client, contact.id)
    assert before["num_notes"] is None and after["num_notes"] == "1"
    assert after["notes_last_updated"] == after["notes_last_contacted"] == _ms(when)
    assert after["num_contacted_notes"] == "1"
    assert after["lastmodifieddate"] > before["lastmodifieddate"]
    # A note is sales activity but not contact; an older activity counts without moving the date.
    client.crm.objects.notes.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"hs_timestamp": _ms(when - timedelta(days=3))},
            associations=[{"to": {"id": contact.id}, "types": [NOTE_TO_CONTACT]}],
        )
    )
    later = _contact_props(client, contact.id)
    assert (later["num_notes"], later["num_contacted_notes"]) == ("2", "1")
    assert later["notes_last_updated"] == _ms(when)


def test_association_batch_read_lists_a_contacts_engagements(client):
    contact = _contact(client, "assoc@sales-activity.example")
    calls = [
        client.crm.objects.calls.basic_api.create(
            SimplePublicObjectInputForCreate(
                properties={"hs_timestamp": _ms(datetime(2026, 3, 2, hour, tzinfo=UTC))},
                associations=[{"to": {"id": contact.id}, "types": [CALL_TO_CONTACT]}],
            )
        ).id
        for hour in (9, 10)
    ]
    page = client.crm.associations.v4.batch_api.get_page(
        "contacts", "calls", BatchInputPublicFetchAssociationsBatchRequest(inputs=[Fetch(id=contact.id)])
    )
    assert [str(t.to_object_id) for t in page.results[0].to] == calls
    assert page.results[0].to[0].association_types[0].type_id == 193


def test_seeded_contacts_summarise_the_engagements_reps_logged_on_them(sandbox):
    store = sandbox.state.store
    summarised = 0
    for contact_id in store.table("contacts").ids:
        contact = store.table("contacts").records[contact_id]
        if contact.archived or not contact.properties.get("num_notes"):
            continue
        stamps = [
            store.table(kind).records[eid].properties["hs_timestamp"]
            for kind in ("calls", "emails", "meetings", "notes")
            for eid, _ in store.associated("contacts", contact_id, kind)
        ]
        assert contact.properties["num_notes"] == str(len(stamps))
        assert contact.properties["notes_last_updated"] == max(stamps)
        summarised += 1
    assert summarised > 10
    seeded_owners = {
        store.table("meetings").records[i].properties.get("hubspot_owner_id")
        for i in store.table("meetings").ids
    }
    assert seeded_owners and None not in seeded_owners


def test_a_merged_contact_counts_the_activity_of_both(client):
    from hubspot.crm.contacts import PublicMergeInput

    a = _contact(client, "merge-a@sales-activity.example")
    b = _contact(client, "merge-b@sales-activity.example")
    for contact, day in ((a, 4), (b, 6)):
        client.crm.objects.calls.basic_api.create(
            SimplePublicObjectInputForCreate(
                properties={"hs_timestamp": _ms(datetime(2026, 3, day, tzinfo=UTC))},
                associations=[{"to": {"id": contact.id}, "types": [CALL_TO_CONTACT]}],
            )
        )
    merged = client.crm.contacts.basic_api.merge(
        PublicMergeInput(primary_object_id=a.id, object_id_to_merge=b.id)
    )
    summary = _contact_props(client, merged.id)
    assert (summary["num_notes"], summary["num_contacted_notes"]) == ("2", "2")
    assert summary["notes_last_updated"] == _ms(datetime(2026, 3, 6, tzinfo=UTC))
