"""sObject Collections and the Composite resource, through sf.restful()."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.salesforce.sandbox import SalesforceSandbox

from .conftest import token_login


def lead(last: str, **extra: object) -> dict[str, object]:
    return {"attributes": {"type": "Lead"}, "LastName": last, "Company": "Collections Co", **extra}


def test_collection_create_reports_each_record_in_input_order(sf: Salesforce) -> None:
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": False,
            "records": [
                lead("One"),
                {"attributes": {"type": "Lead"}, "LastName": "No Company"},
                lead("Three"),
            ],
        },
    )
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1] == {
        "id": None,
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [Company]",
                "fields": ["Company"],
            }
        ],
    }
    names = sf.query(
        f"SELECT LastName FROM Lead WHERE Id IN ('{results[0]['id']}', '{results[2]['id']}') "
        "ORDER BY LastName"
    )["records"]
    assert [n["LastName"] for n in names] == ["One", "Three"]


def test_collection_create_all_or_none_rolls_back_every_record(sf: Salesforce) -> None:
    marker = "AllOrNone Rollback Co"
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": True,
            "records": [lead("Kept?", Company=marker), lead("Bad", Company=marker, Email="not an email")],
        },
    )
    assert results[0] == {
        "id": None,
        "success": False,
        "errors": [
            {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": "Record rolled back because not all records were valid and the request was using "
                "AllOrNone header",
                "fields": [],
            }
        ],
    }
    assert results[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert sf.query(f"SELECT COUNT() FROM Lead WHERE Company = '{marker}'")["totalSize"] == 0


def test_collections_take_at_most_200_records(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/sobjects", method="POST", json={"records": [lead(f"L{i}") for i in range(201)]})
    assert caught.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_collection_update_and_retrieve(sf: Salesforce) -> None:
    created = sf.restful("composite/sobjects", method="POST", json={"records": [lead("U1"), lead("U2")]})
    ids = [r["id"] for r in created]
    updated = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "records": [
                {"attributes": {"type": "Lead"}, "Id": ids[0], "Rating": "Hot"},
                {"attributes": {"type": "Lead"}, "Id": ids[1][:15], "Rating": "Bogus", "Status": "Maybe"},
                {"attributes": {"type": "Lead"}, "Rating": "Cold"},
            ]
        },
    )
    assert updated[0] == {"id": ids[0], "success": True, "errors": []}
    assert updated[1]["success"] is False
    assert updated[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert updated[2]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    missing = ids[0][:3] + "5g000009ZZZZ"
    records = sf.restful(
        "composite/sobjects/Lead",
        method="POST",
        json={"ids": [ids[0], missing, ids[1]], "fields": ["Id", "Rating"]},
    )
    assert records[0] == {
        "attributes": {"type": "Lead", "url": f"/services/data/v59.0/sobjects/Lead/{ids[0]}"},
        "Id": ids[0],
        "Rating": "Hot",
    }
    assert records[1] is None
    assert records[2]["Rating"] is None


def test_collection_delete_by_ids(sf: Salesforce) -> None:
    created = sf.restful("composite/sobjects", method="POST", json={"records": [lead("D1"), lead("D2")]})
    ids = [r["id"] for r in created]
    results = sf.restful(
        "composite/sobjects", method="DELETE", params={"ids": ",".join(ids), "allOrNone": "false"}
    )
    assert [r["success"] for r in results] == [True, True]
    again = sf.restful("composite/sobjects", method="DELETE", params={"ids": ids[0]})
    assert again[0]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"


def test_collection_upsert_by_external_id_reports_created(sf: Salesforce) -> None:
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Contact"}, "HubSpot_Contact_Id__c": "coll-1", "LastName": "Upsert One"},
            {"attributes": {"type": "Contact"}, "HubSpot_Contact_Id__c": "coll-2", "LastName": "Upsert Two"},
        ],
    }
    first = sf.restful("composite/sobjects/Contact/HubSpot_Contact_Id__c", method="PATCH", json=body)
    assert [r["created"] for r in first] == [True, True]
    body["records"][0]["Title"] = "CEO"
    second = sf.restful("composite/sobjects/Contact/HubSpot_Contact_Id__c", method="PATCH", json=body)
    assert [r["created"] for r in second] == [False, False]
    assert [r["id"] for r in second] == [r["id"] for r in first]
    assert sf.Contact.get(first[0]["id"])["Title"] == "CEO"


def test_composite_chains_references_and_counts_as_one_call(fresh: SalesforceSandbox) -> None:
    sf = token_login(fresh)
    sf.limits()
    before = sf.api_usage["api-usage"].used
    response = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": False,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Account",
                    "referenceId": "acct",
                    "body": {"Name": "Composite Corp"},
                },
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Contact",
                    "referenceId": "person",
                    "body": {"LastName": "Chained", "AccountId": "@{acct.id}"},
                },
                {
                    "method": "GET",
                    "url": "/services/data/v59.0/sobjects/Contact/@{person.id}?fields=AccountId",
                    "referenceId": "check",
                },
                {
                    "method": "GET",
                    "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Account"
                    "+WHERE+Name+=+'Composite+Corp'",
                    "referenceId": "found",
                },
            ],
        },
    )
    sf.limits()
    assert sf.api_usage["api-usage"].used == before + 2  # the composite call and the limits call
    results = {r["referenceId"]: r for r in response["compositeResponse"]}
    assert results["acct"]["httpStatusCode"] == 201
    assert results["acct"]["httpHeaders"]["Location"].endswith(results["acct"]["body"]["id"])
    assert results["check"]["body"]["AccountId"] == results["acct"]["body"]["id"]
    assert results["found"]["body"]["records"][0]["Id"] == results["acct"]["body"]["id"]


def test_composite_all_or_none_halts_and_rolls_back(sf: Salesforce) -> None:
    response = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Account",
                    "referenceId": "ok",
                    "body": {"Name": "Rolled Back Composite"},
                },
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Contact",
                    "referenceId": "bad",
                    "body": {"FirstName": "NoLastName"},
                },
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Account",
                    "referenceId": "later",
                    "body": {"Name": "Never Created"},
                },
            ],
        },
    )
    codes = [
        (r["referenceId"], r["httpStatusCode"], r["body"][0]["errorCode"])
        for r in response["compositeResponse"]
    ]
    assert codes == [
        ("ok", 400, "PROCESSING_HALTED"),
        ("bad", 400, "REQUIRED_FIELD_MISSING"),
        ("later", 400, "PROCESSING_HALTED"),
    ]
    assert sf.query("SELECT COUNT() FROM Account WHERE Name = 'Rolled Back Composite'")["totalSize"] == 0


def test_composite_reference_to_a_failed_subrequest_is_halted(sf: Salesforce) -> None:
    response = sf.restful(
        "composite",
        method="POST",
        json={
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Contact",
                    "referenceId": "bad",
                    "body": {"FirstName": "NoLastName"},
                },
                {
                    "method": "GET",
                    "url": "/services/data/v59.0/sobjects/Contact/@{bad.id}",
                    "referenceId": "after",
                },
            ]
        },
    )
    after = response["compositeResponse"][1]
    assert after["httpStatusCode"] == 400
    assert after["body"][0]["errorCode"] == "PROCESSING_HALTED"


def test_composite_takes_at_most_25_subrequests_and_5_queries(sf: Salesforce) -> None:
    get = {"method": "GET", "url": "/services/data/v59.0/limits"}
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful(
            "composite",
            method="POST",
            json={"compositeRequest": [dict(get, referenceId=f"r{i}") for i in range(26)]},
        )
    query = {"method": "GET", "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+User"}
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful(
            "composite",
            method="POST",
            json={"compositeRequest": [dict(query, referenceId=f"q{i}") for i in range(6)]},
        )
