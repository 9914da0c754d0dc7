"""CRM v3 single-record endpoints, driven through the official SDK with its typed models validating."""

from __future__ import annotations

import pytest
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.contacts import SimplePublicObjectInput, SimplePublicObjectInputForCreate
from hubspot.crm.deals import ApiException as DealsApiException
from hubspot.crm.deals import SimplePublicObjectInput as DealUpdate
from hubspot.crm.deals import SimplePublicObjectInputForCreate as DealInput
from hubspot.crm.objects import SimplePublicObjectInputForCreate as ObjectInput
from hubspot.crm.objects.notes import ApiException as NotesApiException

from tests.connectors.hubspot_sandbox.conftest import control, error_json, error_model


def _create_contact(client, email, **props):
    return client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": email, **props})
    )


def test_list_pages_through_every_live_contact_once_and_ends_without_paging(sandbox, client):
    seen: list[str] = []
    after = None
    while True:
        page = client.crm.contacts.basic_api.get_page(limit=100, after=after)
        seen.extend(r.id for r in page.results)
        if page.paging is None:
            break
        after = page.paging.next.after
    table = sandbox.state.store.table("contacts")
    live = [str(i) for i in table.ids if not table.records[i].archived]
    assert seen == live
    assert len(set(seen)) == len(seen) > 100


def test_list_defaults_to_ten_results(client):
    page = client.crm.contacts.basic_api.get_page()
    assert len(page.results) == 10
    assert page.paging.next.after


def test_list_limit_above_100_is_rejected_with_400(client):
    with pytest.raises(ContactsApiException) as info:
        client.crm.contacts.basic_api.get_page(limit=101)
    assert info.value.status == 400
    assert error_model(info.value).category == "VALIDATION_ERROR"


def test_list_returns_requested_properties_and_omits_unknown_ones(client):
    page = client.crm.contacts.basic_api.get_page(limit=5, properties=["email", "jobtitle", "no_such_prop"])
    for record in page.results:
        assert "jobtitle" in record.properties
        assert "no_such_prop" not in record.properties
        assert {"hs_object_id", "createdate", "lastmodifieddate"} <= set(record.properties)


def test_list_with_archived_true_returns_only_archived_records(client):
    created = _create_contact(client, "archive.me@list-test.example")
    client.crm.contacts.basic_api.archive(created.id)
    archived_ids: list[str] = []
    after = None
    while True:
        page = client.crm.contacts.basic_api.get_page(limit=100, after=after, archived=True)
        assert all(r.archived for r in page.results)
        archived_ids.extend(r.id for r in page.results)
        if page.paging is None:
            break
        after = page.paging.next.after
    assert created.id in archived_ids


def test_get_by_id_returns_the_record(client):
    created = _create_contact(client, "get.by.id@objects-test.example", firstname="Ada")
    fetched = client.crm.contacts.basic_api.get_by_id(created.id, properties=["firstname", "email"])
    assert fetched.id == created.id
    assert fetched.properties["firstname"] == "Ada"


def test_get_by_email_id_property_ignores_case(client):
    created = _create_contact(client, "mixed.case@objects-test.example")
    fetched = client.crm.contacts.basic_api.get_by_id("Mixed.Case@Objects-Test.example", id_property="email")
    assert fetched.id == created.id


def test_get_unknown_id_is_404_object_not_found(client):
    with pytest.raises(ContactsApiException) as info:
        client.crm.contacts.basic_api.get_by_id("999999999")
    assert info.value.status == 404
    assert error_model(info.value).category == "OBJECT_NOT_FOUND"


def test_create_returns_201_with_id_and_system_properties(client):
    created = _create_contact(client, "new.person@objects-test.example", lastname="Lovelace")
    assert created.id.isdigit()
    assert created.properties["hs_object_id"] == created.id
    assert created.properties["createdate"] and created.properties["lastmodifieddate"]
    assert created.archived is False


def test_create_with_unknown_property_is_400_property_doesnt_exist(client):
    with pytest.raises(ContactsApiException) as info:
        _create_contact(client, "bad.prop@objects-test.example", favourite_colour="blue")
    assert info.value.status == 400
    error = error_model(info.value)
    assert error.category == "VALIDATION_ERROR"
    assert [e.code for e in error.errors] == ["PROPERTY_DOESNT_EXIST"]


def test_create_with_value_outside_enumeration_options_is_400_invalid_option(client):
    with pytest.raises(ContactsApiException) as info:
        _create_contact(client, "bad.option@objects-test.example", hs_lead_status="MAYBE")
    assert info.value.status == 400
    assert error_model(info.value).errors[0].code == "INVALID_OPTION"


def test_create_with_malformed_email_is_400_invalid_email(client):
    with pytest.raises(ContactsApiException) as info:
        _create_contact(client, "not-an-address@")
    assert info.value.status == 400
    assert error_model(info.value).errors[0].code == "INVALID_EMAIL"


def test_create_with_read_only_property_is_400(client):
    with pytest.raises(ContactsApiException) as info:
        _create_contact(client, "read.only@objects-test.example", hubspotscore="99")
    assert info.value.status == 400
    assert error_model(info.value).errors[0].code == "READ_ONLY_VALUE"


def test_create_duplicate_email_is_409_naming_the_existing_id_case_insensitively(client):
    first = _create_contact(client, "dupe@objects-test.example")
    with pytest.raises(ContactsApiException) as info:
        _create_contact(client, "DUPE@Objects-Test.example")
    assert info.value.status == 409
    error = error_model(info.value)
    assert error.category == "CONFLICT"
    assert error.message == f"Contact already exists. Existing ID: {first.id}"


def test_update_bumps_lastmodifieddate_to_the_simulator_clock(sandbox, client, http):
    created = _create_contact(client, "clocked@objects-test.example")
    control(http, sandbox, "POST", "/clock", {"advance_seconds": 3600})
    updated = client.crm.contacts.basic_api.update(
        created.id, SimplePublicObjectInput(properties={"jobtitle": "CTO"})
    )
    assert updated.properties["lastmodifieddate"] > created.properties["lastmodifieddate"]
    assert updated.updated_at > created.updated_at
    assert updated.properties["jobtitle"] == "CTO"


def test_lifecyclestage_moves_backward_only_after_being_cleared(client):
    created = _create_contact(client, "funnel@objects-test.example", lifecyclestage="opportunity")
    api = client.crm.contacts.basic_api
    api.update(created.id, SimplePublicObjectInput(properties={"lifecyclestage": "lead"}))
    assert (
        api.get_by_id(created.id, properties=["lifecyclestage"]).properties["lifecyclestage"] == "opportunity"
    )
    api.update(created.id, SimplePublicObjectInput(properties={"lifecyclestage": "customer"}))
    api.update(created.id, SimplePublicObjectInput(properties={"lifecyclestage": ""}))
    api.update(created.id, SimplePublicObjectInput(properties={"lifecyclestage": "lead"}))
    assert api.get_by_id(created.id, properties=["lifecyclestage"]).properties["lifecyclestage"] == "lead"


def test_update_to_an_email_another_contact_holds_is_409(client):
    holder = _create_contact(client, "taken@objects-test.example")
    other = _create_contact(client, "free@objects-test.example")
    with pytest.raises(ContactsApiException) as info:
        client.crm.contacts.basic_api.update(
            other.id, SimplePublicObjectInput(properties={"email": "Taken@objects-test.example"})
        )
    assert info.value.status == 409
    assert holder.id in error_model(info.value).message


def test_deal_create_requires_dealname_dealstage_and_pipeline(client):
    with pytest.raises(DealsApiException) as info:
        client.crm.deals.basic_api.create(DealInput(properties={"dealname": "Half a deal"}))
    assert info.value.status == 400
    missing = {e["context"]["propertyName"][0] for e in error_json(info.value)["errors"]}
    assert missing == {"dealstage", "pipeline"}


def test_deal_stage_sets_closed_flags_and_uses_hs_lastmodifieddate(client):
    deal = client.crm.deals.basic_api.create(
        DealInput(properties={"dealname": "Won deal", "dealstage": "closedwon", "pipeline": "default"})
    )
    assert deal.properties["hs_is_closed_won"] == "true"
    assert deal.properties["hs_is_closed"] == "true"
    assert "hs_lastmodifieddate" in deal.properties
    assert "lastmodifieddate" not in deal.properties


def test_engagement_create_requires_hs_timestamp(client):
    with pytest.raises(NotesApiException) as info:
        client.crm.objects.notes.basic_api.create(ObjectInput(properties={"hs_note_body": "hi"}))
    assert info.value.status == 400
    assert error_model(info.value).errors[0].code == "REQUIRED_PROPERTY"


def test_engagement_create_with_association_links_it_to_the_contact(client):
    contact = _create_contact(client, "noted@objects-test.example")
    note = client.crm.objects.notes.basic_api.create(
        ObjectInput(
            properties={"hs_timestamp": "2026-01-05T10:00:00Z", "hs_note_body": "Called back"},
            associations=[
                {
                    "to": {"id": contact.id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
                }
            ],
        )
    )
    fetched = client.crm.contacts.basic_api.get_by_id(contact.id, associations=["notes"])
    assert [a.id for a in fetched.associations["notes"].results] == [note.id]


def test_archive_hides_the_record_from_get(client):
    created = _create_contact(client, "gone@objects-test.example")
    client.crm.contacts.basic_api.archive(created.id)
    with pytest.raises(ContactsApiException) as info:
        client.crm.contacts.basic_api.get_by_id(created.id)
    assert info.value.status == 404
    archived = client.crm.contacts.basic_api.get_by_id(created.id, archived=True)
    assert archived.archived is True and archived.archived_at is not None


def test_archived_contact_frees_its_email_for_a_new_contact(client):
    created = _create_contact(client, "reuse@objects-test.example")
    client.crm.contacts.basic_api.archive(created.id)
    again = _create_contact(client, "reuse@objects-test.example")
    assert again.id != created.id


@pytest.mark.parametrize("object_type", ["calls", "emails", "meetings", "notes", "tasks"])
def test_every_engagement_type_lists_with_hs_lastmodifieddate(client, object_type):
    page = client.crm.objects.basic_api.get_page(object_type, limit=5)
    assert page.results
    for record in page.results:
        assert record.properties["hs_lastmodifieddate"]
        assert record.properties["hs_object_id"] == record.id


def test_companies_list_through_their_own_sdk_api(client):
    page = client.crm.companies.basic_api.get_page(limit=5, properties=["name", "domain"])
    assert all(r.properties["domain"] for r in page.results)


def test_entering_a_lifecycle_stage_stamps_its_became_date(sandbox, client, http):
    created = _create_contact(client, "stamped@objects-test.example", lifecyclestage="lead")
    control(http, sandbox, "POST", "/clock", {"advance_seconds": 120})
    client.crm.contacts.basic_api.update(
        created.id, SimplePublicObjectInput(properties={"lifecyclestage": "salesqualifiedlead"})
    )
    props = client.crm.contacts.basic_api.get_by_id(
        created.id, properties=["hs_lifecyclestage_lead_date", "hs_lifecyclestage_salesqualifiedlead_date"]
    ).properties
    assert props["hs_lifecyclestage_lead_date"] < props["hs_lifecyclestage_salesqualifiedlead_date"]


def test_seeded_contacts_carry_an_ordered_lifecycle_history_ending_at_their_stage(client):
    stages = [
        "subscriber",
        "lead",
        "marketingqualifiedlead",
        "salesqualifiedlead",
        "opportunity",
        "customer",
    ]
    names = ["lifecyclestage"] + [f"hs_lifecyclestage_{s}_date" for s in stages]
    for record in client.crm.contacts.basic_api.get_page(limit=100, properties=names).results:
        props = record.properties
        dates = [props[f"hs_lifecyclestage_{s}_date"] for s in stages if props[f"hs_lifecyclestage_{s}_date"]]
        assert dates == sorted(dates)
        assert props[f"hs_lifecyclestage_{props['lifecyclestage']}_date"] == dates[-1]


def test_moving_a_deal_stage_stamps_date_entered_and_closing_sets_closedate(client):
    deal = client.crm.deals.basic_api.create(
        DealInput(
            properties={"dealname": "Moving deal", "dealstage": "qualifiedtobuy", "pipeline": "default"}
        )
    )
    assert deal.properties["hs_date_entered_qualifiedtobuy"]
    assert "closedate" not in deal.properties
    moved = client.crm.deals.basic_api.update(deal.id, DealUpdate(properties={"dealstage": "closedlost"}))
    assert moved.properties["hs_date_entered_closedlost"]
    assert moved.properties["closedate"]
    assert moved.properties["hs_is_closed_won"] == "false"


def test_properties_with_history_lists_lifecycle_stages_newest_first(client):
    created = _create_contact(client, "history@objects-test.example", lifecyclestage="lead")
    client.crm.contacts.basic_api.update(
        created.id, SimplePublicObjectInput(properties={"lifecyclestage": "opportunity"})
    )
    fetched = client.crm.contacts.basic_api.get_by_id(created.id, properties_with_history=["lifecyclestage"])
    history = fetched.properties_with_history["lifecyclestage"]
    assert [h.value for h in history] == ["opportunity", "lead"]
    assert history[0].timestamp >= history[1].timestamp
    assert {h.source_type for h in history} == {"INTEGRATION"}


def test_seeded_lifecycle_history_comes_from_the_stage_dates(sandbox, client):
    page = client.crm.contacts.basic_api.get_page(
        limit=50, properties_with_history=["lifecyclestage"], properties=["lifecyclestage"]
    )
    for record in page.results:
        history = record.properties_with_history["lifecyclestage"]
        assert history[0].value == record.properties["lifecyclestage"]
        stamps = [h.timestamp for h in history]
        assert stamps == sorted(stamps, reverse=True)


def test_list_with_properties_with_history_allows_at_most_50(client):
    with pytest.raises(ContactsApiException) as info:
        client.crm.contacts.basic_api.get_page(limit=51, properties_with_history=["email"])
    assert info.value.status == 400
