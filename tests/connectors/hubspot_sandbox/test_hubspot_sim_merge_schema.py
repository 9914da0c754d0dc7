"""Contact merges, and the schema endpoints: properties, the deal pipeline and owners."""

from __future__ import annotations

import pytest
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    PublicMergeInput,
    SimplePublicObjectBatchInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.properties import ApiException as PropertiesApiException

from tests.connectors.hubspot_sandbox.conftest import control


def _pair(client, tag):
    api = client.crm.contacts.basic_api
    a = api.create(
        SimplePublicObjectInputForCreate(
            properties={"email": f"{tag}-a@merge-test.example", "firstname": "Primary"}
        )
    )
    b = api.create(
        SimplePublicObjectInputForCreate(
            properties={
                "email": f"{tag}-b@merge-test.example",
                "jobtitle": "Buyer",
                "lifecyclestage": "customer",
            }
        )
    )
    return a, b


def test_merge_creates_a_new_id_and_both_old_ids_resolve_to_it(client):
    a, b = _pair(client, "ids")
    merged = client.crm.contacts.basic_api.merge(
        PublicMergeInput(primary_object_id=a.id, object_id_to_merge=b.id)
    )
    assert merged.id not in (a.id, b.id)
    for old in (a.id, b.id):
        assert client.crm.contacts.basic_api.get_by_id(old).id == merged.id


def test_merged_record_lists_old_ids_and_keeps_values_from_both(client):
    a, b = _pair(client, "values")
    merged = client.crm.contacts.basic_api.merge(
        PublicMergeInput(primary_object_id=a.id, object_id_to_merge=b.id)
    )
    props = merged.properties
    assert sorted(props["hs_merged_object_ids"].split(";")) == sorted([a.id, b.id])
    assert props["email"] == "values-a@merge-test.example"
    assert props["firstname"] == "Primary" and props["jobtitle"] == "Buyer"
    assert props["hs_additional_emails"] == "values-b@merge-test.example"
    assert props["lifecyclestage"] == "customer"


def test_secondary_email_of_a_merge_still_finds_the_merged_contact(client):
    a, b = _pair(client, "lookup")
    merged = client.crm.contacts.basic_api.merge(
        PublicMergeInput(primary_object_id=a.id, object_id_to_merge=b.id)
    )
    found = client.crm.contacts.basic_api.get_by_id("lookup-b@merge-test.example", id_property="email")
    assert found.id == merged.id
    with pytest.raises(ApiException) as info:
        client.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"email": "lookup-b@merge-test.example"})
        )
    assert info.value.status == 409


def test_batch_update_rejects_merged_away_ids(client):
    a, b = _pair(client, "stale")
    merged = client.crm.contacts.basic_api.merge(
        PublicMergeInput(primary_object_id=a.id, object_id_to_merge=b.id)
    )
    response = client.crm.contacts.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                SimplePublicObjectBatchInput(id=a.id, properties={"city": "Rome"}),
                SimplePublicObjectBatchInput(id=merged.id, properties={"city": "Turin"}),
            ]
        )
    )
    assert [r.id for r in response.results] == [merged.id]
    assert response.errors[0].context == {"ids": [a.id]}


def test_merged_contact_keeps_the_web_events_of_both_records(sandbox, client, http):
    a, b = _pair(client, "events")
    for contact in (a, b):
        control(
            http,
            sandbox,
            "POST",
            "/web-events",
            {"contactId": contact.id, "properties": {"hs_url": contact.id}},
        )
    merged = client.crm.contacts.basic_api.merge(
        PublicMergeInput(primary_object_id=a.id, object_id_to_merge=b.id)
    )
    events = client.events.events_api.get_page(object_type="contact", object_id=merged.id)
    assert sorted(e.properties["hs_url"] for e in events.results) == sorted([a.id, b.id])
    assert {e.object_id for e in events.results} == {merged.id}


def test_merge_with_an_unknown_id_is_404(client):
    a, _ = _pair(client, "unknown")
    with pytest.raises(ApiException) as info:
        client.crm.contacts.basic_api.merge(
            PublicMergeInput(primary_object_id=a.id, object_id_to_merge="123456789")
        )
    assert info.value.status == 404


def test_properties_describe_types_options_and_read_only_values(client):
    props = {p.name: p for p in client.crm.properties.core_api.get_all("contacts").results}
    for name in (
        "email",
        "hs_lead_status",
        "lifecyclestage",
        "hubspotscore",
        "hs_email_optout",
        "jobtitle",
        "company",
        "phone",
        "city",
        "country",
        "hubspot_owner_id",
        "hs_analytics_source",
        "salesforce_lead_rating",
    ):
        assert name in props, name
    assert props["lifecyclestage"].type == "enumeration"
    assert "marketingqualifiedlead" in [o.value for o in props["lifecyclestage"].options]
    assert props["hs_email_optout"].type == "bool"
    assert props["hubspotscore"].modification_metadata.read_only_value is True
    assert props["email"].modification_metadata.read_only_value is False
    assert props["email"].has_unique_value is True
    assert props["salesforce_lead_rating"].hubspot_defined is False
    assert props["hubspot_owner_id"].options


def test_single_property_is_readable_by_name(client):
    prop = client.crm.properties.core_api.get_by_name("deals", "dealstage")
    assert [o.value for o in prop.options][-2:] == ["closedwon", "closedlost"]


def test_deal_pipeline_stages_carry_is_closed_and_probability(client):
    pipelines = client.crm.pipelines.pipelines_api.get_all("deals").results
    assert [p.id for p in pipelines] == ["default"]
    stages = {s.id: s.metadata for s in pipelines[0].stages}
    assert list(stages) == [
        "appointmentscheduled",
        "qualifiedtobuy",
        "presentationscheduled",
        "decisionmakerboughtin",
        "contractsent",
        "closedwon",
        "closedlost",
    ]
    assert stages["closedwon"] == {"isClosed": "true", "probability": "1.0"}
    assert stages["appointmentscheduled"]["isClosed"] == "false"


def test_owners_are_paged(sandbox, client):
    seen, after = [], None
    while True:
        page = client.crm.owners.owners_api.get_page(limit=2, after=after)
        seen.extend(o.id for o in page.results)
        if page.paging is None:
            break
        after = page.paging.next.after
    assert seen == list(sandbox.state.store.owners)
    assert len(seen) >= 3


def test_every_seeded_contact_owner_is_a_listed_owner(sandbox, client):
    owners = {o.id for o in client.crm.owners.owners_api.get_page(limit=500).results}
    page = client.crm.contacts.basic_api.get_page(limit=100, properties=["hubspot_owner_id"])
    assert {r.properties["hubspot_owner_id"] for r in page.results} <= owners


def test_unknown_property_name_is_404(client):
    with pytest.raises(PropertiesApiException) as info:
        client.crm.properties.core_api.get_by_name("contacts", "no_such_property")
    assert info.value.status == 404


def test_pipeline_by_id_and_its_stages(client):
    pipeline = client.crm.pipelines.pipelines_api.get_by_id("deals", "default")
    stages = client.crm.pipelines.pipeline_stages_api.get_all("deals", "default").results
    assert [s.id for s in stages] == [s.id for s in pipeline.stages]


def test_owner_by_id_matches_the_listing(client):
    first = client.crm.owners.owners_api.get_page(limit=1).results[0]
    assert client.crm.owners.owners_api.get_by_id(first.id).email == first.email
