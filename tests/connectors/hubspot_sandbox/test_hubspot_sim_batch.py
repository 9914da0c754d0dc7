"""CRM v3 batch endpoints: limits, whole-batch failures, 207 partial results and upsert by email."""

from __future__ import annotations

import pytest
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInputForCreate,
)

from tests.connectors.hubspot_sandbox.conftest import error_model


def _creates(*emails, **extra):
    return BatchInputSimplePublicObjectBatchInputForCreate(
        inputs=[SimplePublicObjectBatchInputForCreate(properties={"email": e, **extra}) for e in emails]
    )


def _read(ids, id_property=None, properties=("email",)):
    return BatchReadInputSimplePublicObjectId(
        inputs=[SimplePublicObjectId(id=i) for i in ids],
        properties=list(properties),
        properties_with_history=[],
        id_property=id_property,
    )


def test_batch_create_returns_201_results_for_every_input(client):
    response = client.crm.contacts.batch_api.create(
        _creates("b1@batch-test.example", "b2@batch-test.example")
    )
    assert response.status == "COMPLETE"
    assert sorted(r.properties["email"] for r in response.results) == [
        "b1@batch-test.example",
        "b2@batch-test.example",
    ]


def test_batch_create_with_one_bad_input_fails_the_whole_batch(sandbox, client):
    before = len(sandbox.state.store.table("contacts").ids)
    bad = _creates("ok1@batch-test.example", "ok2@batch-test.example")
    bad.inputs[1].properties["shoe_size"] = "44"
    with pytest.raises(ApiException) as info:
        client.crm.contacts.batch_api.create(bad)
    assert info.value.status == 400
    assert error_model(info.value).errors[0].code == "PROPERTY_DOESNT_EXIST"
    assert len(sandbox.state.store.table("contacts").ids) == before


def test_batch_create_conflict_names_only_the_first_existing_contact(client):
    first = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "exists1@batch-test.example"})
    )
    client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "exists2@batch-test.example"})
    )
    with pytest.raises(ApiException) as info:
        client.crm.contacts.batch_api.create(
            _creates("exists1@batch-test.example", "exists2@batch-test.example")
        )
    assert info.value.status == 409
    assert error_model(info.value).message == f"Contact already exists. Existing ID: {first.id}"


def test_batch_create_with_write_trace_ids_reports_failures_per_input_as_207(client):
    batch = _creates("traced-ok@batch-test.example", "traced-bad@batch-test.example")
    batch.inputs[0].object_write_trace_id = "t-0"
    batch.inputs[1].object_write_trace_id = "t-1"
    batch.inputs[1].properties["lifecyclestage"] = "not-a-stage"
    response = client.crm.contacts.batch_api.create(batch)
    assert [r.properties["email"] for r in response.results] == ["traced-ok@batch-test.example"]
    assert response.num_errors == 1
    assert response.errors[0].context == {"objectWriteTraceId": ["t-1"]}


def test_batch_with_more_than_100_inputs_is_400(client):
    with pytest.raises(ApiException) as info:
        client.crm.contacts.batch_api.create(_creates(*(f"n{i}@too-many.example" for i in range(101))))
    assert info.value.status == 400


def test_batch_read_by_email_returns_207_listing_missing_ids(client):
    client.crm.contacts.batch_api.create(_creates("readme@batch-test.example"))
    response = client.crm.contacts.batch_api.read(
        _read(["README@batch-test.example", "nobody@batch-test.example"], id_property="email")
    )
    assert [r.properties["email"] for r in response.results] == ["readme@batch-test.example"]
    assert response.errors[0].category == "OBJECT_NOT_FOUND"
    assert response.errors[0].context == {"ids": ["nobody@batch-test.example"]}


def test_batch_read_by_id_with_all_found_is_200(sandbox, client):
    ids = [str(i) for i in sandbox.state.store.table("contacts").ids[:3]]
    response, status, _ = client.crm.contacts.batch_api.read_with_http_info(_read(ids))
    assert status == 200
    assert [r.id for r in response.results] == ids


def test_batch_update_applies_found_ids_and_reports_missing_ones_as_207(client):
    created = client.crm.contacts.batch_api.create(_creates("upd@batch-test.example")).results[0]
    response = client.crm.contacts.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                SimplePublicObjectBatchInput(id=created.id, properties={"jobtitle": "Head of Ops"}),
                SimplePublicObjectBatchInput(id="987654321", properties={"jobtitle": "Ghost"}),
            ]
        )
    )
    assert [r.properties["jobtitle"] for r in response.results] == ["Head of Ops"]
    assert response.errors[0].context == {"ids": ["987654321"]}


def test_batch_update_with_duplicate_ids_is_400(client):
    created = client.crm.contacts.batch_api.create(_creates("twice@batch-test.example")).results[0]
    with pytest.raises(ApiException) as info:
        client.crm.contacts.batch_api.update(
            BatchInputSimplePublicObjectBatchInput(
                inputs=[
                    SimplePublicObjectBatchInput(id=created.id, properties={"city": "Oslo"}),
                    SimplePublicObjectBatchInput(id=created.id, properties={"city": "Bergen"}),
                ]
            )
        )
    assert info.value.status == 400


def test_batch_upsert_by_email_creates_new_and_updates_existing_with_new_flag(client):
    existing = client.crm.contacts.batch_api.create(_creates("upsert-old@batch-test.example")).results[0]
    response = client.crm.contacts.batch_api.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                SimplePublicObjectBatchInputUpsert(
                    id="UPSERT-OLD@batch-test.example", id_property="email", properties={"city": "Lisbon"}
                ),
                SimplePublicObjectBatchInputUpsert(
                    id="upsert-new@batch-test.example", id_property="email", properties={"city": "Porto"}
                ),
            ]
        )
    )
    by_city = {r.properties["city"]: r for r in response.results}
    assert by_city["Lisbon"].new is False and by_city["Lisbon"].id == existing.id
    assert (
        by_city["Porto"].new is True
        and by_city["Porto"].properties["email"] == "upsert-new@batch-test.example"
    )


def test_batch_upsert_is_idempotent_when_replayed(sandbox, client):
    batch = BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[
            SimplePublicObjectBatchInputUpsert(
                id="replay@batch-test.example", id_property="email", properties={"firstname": "Re"}
            )
        ]
    )
    first = client.crm.contacts.batch_api.upsert(batch).results[0]
    second = client.crm.contacts.batch_api.upsert(batch).results[0]
    assert first.id == second.id and second.new is False


def test_batch_archive_returns_204_and_archives(client):
    created = client.crm.contacts.batch_api.create(_creates("bye@batch-test.example")).results[0]
    client.crm.contacts.batch_api.archive(
        BatchInputSimplePublicObjectId(inputs=[SimplePublicObjectId(id=created.id)])
    )
    response = client.crm.contacts.batch_api.read(_read([created.id]))
    assert response.results == []
