"""sObject CRUD, upsert by external id and validation errors, through simple-salesforce's SFType."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from connectors.salesforce.sandbox import SalesforceSandbox
from connectors.salesforce.sandbox.ids import to_18

from .conftest import control, token_login

_serial = itertools.count(1)


def unique_email() -> str:
    return f"person{next(_serial)}@records-test.example"


def _error(caught: pytest.ExceptionInfo[SalesforceMalformedRequest]) -> dict[str, object]:
    [error] = caught.value.content
    assert isinstance(error, dict)
    return error


def test_create_returns_id_success_and_no_errors(sf: Salesforce) -> None:
    result = sf.Lead.create(
        {"FirstName": "Ada", "LastName": "Lovelace", "Company": "Engines", "Email": unique_email()}
    )
    assert result["success"] is True and result["errors"] == []
    assert result["id"].startswith("00Q") and len(result["id"]) == 18


def test_created_record_gets_defaults_stamps_and_derived_fields(sf: Salesforce) -> None:
    record = sf.Lead.get(
        sf.Lead.create({"FirstName": "Ada", "LastName": "Byron", "Company": "Engines"})["id"]
    )
    assert record["attributes"]["type"] == "Lead"
    assert record["Name"] == "Ada Byron"
    assert record["Status"] == "Open - Not Contacted"
    assert record["IsConverted"] is False and record["HasOptedOutOfEmail"] is False
    assert record["OwnerId"].startswith("005") and record["CreatedById"] == record["OwnerId"]
    assert record["CreatedDate"] == record["LastModifiedDate"] == record["SystemModstamp"]
    assert record["CreatedDate"].endswith(".000+0000")  # whole seconds, like the platform


def test_update_returns_204_and_moves_last_modified_and_systemmodstamp(
    sf: Salesforce, sandbox: SalesforceSandbox
) -> None:
    lead_id = sf.Lead.create({"LastName": "Moves", "Company": "Clockwork"})["id"]
    before = sf.Lead.get(lead_id)
    control(sandbox, "POST", "/clock", json={"advance_seconds": 5})
    assert sf.Lead.update(lead_id, {"Rating": "Hot", "HubSpot_Score__c": 88}) == 204
    after = sf.Lead.get(lead_id)
    assert (after["Rating"], after["HubSpot_Score__c"]) == ("Hot", 88.0)
    assert after["LastModifiedDate"] > before["LastModifiedDate"]
    assert after["SystemModstamp"] == after["LastModifiedDate"]
    assert after["CreatedDate"] == before["CreatedDate"]


def test_get_with_fields_returns_only_those_fields(sf: Salesforce) -> None:
    lead_id = sf.Lead.create({"LastName": "Narrow", "Company": "Fields Ltd"})["id"]
    record = sf.Lead.get(lead_id, params={"fields": "Id,LastName"})
    assert set(record) == {"attributes", "Id", "LastName"}


def test_delete_returns_204_and_the_record_reads_as_deleted(sf: Salesforce) -> None:
    lead_id = sf.Lead.create({"LastName": "Temporary", "Company": "Gone"})["id"]
    assert sf.Lead.delete(lead_id) == 204
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Lead.get(lead_id)
    assert caught.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_get_of_an_unknown_id_is_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Lead.get(to_18("00Q5g000009ZZZZ"))
    assert caught.value.content[0]["errorCode"] == "NOT_FOUND"


def test_missing_required_fields_are_listed(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.create({"FirstName": "No", "Email": unique_email()})
    error = _error(caught)
    assert error["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert error["fields"] == ["LastName", "Company"]
    assert error["message"] == "Required fields are missing: [LastName, Company]"


@pytest.mark.parametrize(
    ("sobject", "values", "missing"),
    [
        ("Contact", {"FirstName": "Only"}, ["LastName"]),
        ("Opportunity", {"Amount": 10}, ["Name", "StageName", "CloseDate"]),
    ],
)
def test_each_object_enforces_its_required_fields(
    sf: Salesforce, sobject: str, values: dict[str, object], missing: list[str]
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        getattr(sf, sobject).create(values)
    error = _error(caught)
    assert (error["errorCode"], error["fields"]) == ("REQUIRED_FIELD_MISSING", missing)


def test_invalid_email_is_rejected(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "Bad", "Email": "bad@@example.com"})
    error = _error(caught)
    assert (error["errorCode"], error["fields"]) == ("INVALID_EMAIL_ADDRESS", ["Email"])
    assert error["message"] == "Email: invalid email address: bad@@example.com"


def test_bad_value_for_a_restricted_picklist_is_rejected(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.create({"LastName": "Pick", "Company": "List", "Status": "Maybe"})
    error = _error(caught)
    assert error["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert error["message"] == "Status: bad value for restricted picklist field: Maybe"


def test_unrestricted_picklist_accepts_new_values(sf: Salesforce) -> None:
    lead_id = sf.Lead.create({"LastName": "Open", "Company": "List", "LeadSource": "Podcast"})["id"]
    assert sf.Lead.get(lead_id)["LeadSource"] == "Podcast"


def test_too_long_text_is_string_too_long(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.create({"LastName": "x" * 81, "Company": "Long"})
    error = _error(caught)
    assert (error["errorCode"], error["fields"]) == ("STRING_TOO_LONG", ["LastName"])
    assert "(max length=80)" in str(error["message"])


def test_unknown_field_refuses_the_request(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.create({"LastName": "X", "Company": "Y", "Shoe_Size__c": 44})
    assert caught.value.content == [
        {"message": "No such column 'Shoe_Size__c' on sobject of type Lead", "errorCode": "INVALID_FIELD"}
    ]


def test_read_only_fields_cannot_be_written(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.create({"LastName": "X", "Company": "Y", "IsConverted": True})
    error = _error(caught)
    assert (error["errorCode"], error["fields"]) == ("INVALID_FIELD_FOR_INSERT_UPDATE", ["IsConverted"])


def test_wrong_json_type_is_a_parser_error(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.create({"LastName": "X", "Company": "Y", "HubSpot_Score__c": "lots"})
    assert caught.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_lookup_to_a_missing_record_is_rejected(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "Orphan", "AccountId": to_18("0015g000009ZZZZ")})
    assert _error(caught)["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"


def test_malformed_lookup_id_is_rejected(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "Orphan", "AccountId": "not-an-id"})
    assert (_error(caught)["errorCode"], _error(caught)["fields"]) == ("MALFORMED_ID", ["AccountId"])


def test_lookup_of_the_wrong_type_is_rejected(sf: Salesforce) -> None:
    lead_id = sf.Lead.create({"LastName": "Wrong", "Company": "Type"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "Orphan", "AccountId": lead_id})
    assert _error(caught)["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_converted_lead_cannot_be_updated(sf: Salesforce) -> None:
    converted = sf.query("SELECT Id FROM Lead WHERE IsConverted = true LIMIT 1")["records"][0]["Id"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.update(converted, {"Rating": "Hot"})
    assert _error(caught)["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_opportunity_stage_drives_closed_won_and_probability(sf: Salesforce) -> None:
    opp_id = sf.Opportunity.create(
        {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31", "Amount": 1000}
    )["id"]
    opened = sf.Opportunity.get(opp_id)
    assert (opened["IsClosed"], opened["IsWon"], opened["Probability"]) == (False, False, 10.0)
    sf.Opportunity.update(opp_id, {"StageName": "Closed Won"})
    won = sf.Opportunity.get(opp_id)
    assert (won["IsClosed"], won["IsWon"], won["Probability"]) == (True, True, 100.0)


def test_upsert_by_external_id_creates_then_updates(sf: Salesforce) -> None:
    key = f"hs-{next(_serial)}"
    created = sf.Lead.upsert(
        f"HubSpot_Contact_Id__c/{key}", {"LastName": "Upsert", "Company": "Ext"}, raw_response=True
    )
    assert created.status_code == 201
    assert created.json()["created"] is True
    updated = sf.Lead.upsert(f"HubSpot_Contact_Id__c/{key}", {"Rating": "Warm"}, raw_response=True)
    assert updated.status_code == 200
    assert updated.json() == {"id": created.json()["id"], "success": True, "errors": [], "created": False}
    assert sf.Lead.get_by_custom_id("HubSpot_Contact_Id__c", key)["Rating"] == "Warm"


def test_upsert_matching_several_records_answers_300_and_writes_nothing(
    sf: Salesforce, sandbox: SalesforceSandbox
) -> None:
    key = f"dup-{next(_serial)}"
    first = sf.Lead.create({"LastName": "One", "Company": "Twin"})["id"]
    second = sf.Lead.create({"LastName": "Two", "Company": "Twin"})["id"]
    # Two rows sharing an external id value only happen through imports; write them straight into the org.
    org = sandbox.state
    with org.store.lock:
        for record_id in (first, second):
            org.store.put("Lead", dict(org.store.get("Lead", record_id) or {}, HubSpot_Contact_Id__c=key))
    with pytest.raises(SalesforceMoreThanOneRecord) as caught:
        sf.Lead.upsert(f"HubSpot_Contact_Id__c/{key}", {"Rating": "Cold"})
    assert caught.value.status == 300
    assert sorted(caught.value.content) == sorted(
        f"/services/data/v59.0/sobjects/Lead/{i}" for i in (first, second)
    )
    assert sf.Lead.get(first)["Rating"] is None


def test_upsert_on_a_field_that_is_not_an_external_id_is_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound):
        sf.Lead.upsert("Email/someone@example.com", {"LastName": "X", "Company": "Y"})


def test_duplicate_external_id_value_is_rejected_on_create(sf: Salesforce) -> None:
    key = f"uniq-{next(_serial)}"
    sf.Contact.create({"LastName": "First", "HubSpot_Contact_Id__c": key})
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "Second", "HubSpot_Contact_Id__c": key})
    assert _error(caught)["errorCode"] == "DUPLICATE_VALUE"


def test_duplicate_rule_blocks_a_second_lead_with_the_same_email_unless_allowed(
    fresh: SalesforceSandbox,
) -> None:
    control(fresh, "POST", "/settings", json={"duplicate_rules": True})
    sf = token_login(fresh)
    email = unique_email()
    sf.Lead.create({"LastName": "Original", "Company": "Dup", "Email": email})
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.create({"LastName": "Copy", "Company": "Dup", "Email": email.upper()})
    error = _error(caught)
    assert (error["errorCode"], error["message"]) == ("DUPLICATES_DETECTED", "Use one of these records?")
    assert error["duplicateResult"]["matchResults"][0]["matchRecords"]
    allowed = sf.Lead.create(
        {"LastName": "Copy", "Company": "Dup", "Email": email},
        headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"},
    )
    assert allowed["success"] is True


def test_locked_row_fails_with_unable_to_lock_row_then_recovers(
    sf: Salesforce, sandbox: SalesforceSandbox
) -> None:
    lead_id = sf.Lead.create({"LastName": "Busy", "Company": "Locks"})["id"]
    control(sandbox, "POST", "/records/lock", json={"ids": [lead_id], "times": 1})
    results = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={"records": [{"attributes": {"type": "Lead"}, "Id": lead_id, "Rating": "Hot"}]},
    )
    assert results[0]["errors"][0] == {
        "statusCode": "UNABLE_TO_LOCK_ROW",
        "fields": [],
        "message": "unable to obtain exclusive access to this record or 1 records",
    }
    assert sf.Lead.update(lead_id, {"Rating": "Hot"}) == 204  # the retry goes through


def test_lock_contention_rate_fails_a_share_of_writes(fresh: SalesforceSandbox) -> None:
    control(fresh, "POST", "/settings", json={"lock_row_failure_rate": 0.5})
    sf = token_login(fresh)
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "records": [
                {"attributes": {"type": "Lead"}, "LastName": f"L{i}", "Company": "Contention"}
                for i in range(40)
            ]
        },
    )
    codes = Counter(r["errors"][0]["statusCode"] if r["errors"] else "ok" for r in results)
    assert set(codes) == {"ok", "UNABLE_TO_LOCK_ROW"}
    assert 8 <= codes["UNABLE_TO_LOCK_ROW"] <= 32


def test_validation_rule_requires_a_disqualification_reason(fresh: SalesforceSandbox) -> None:
    control(fresh, "POST", "/settings", json={"disqualification_rule": True})
    sf = token_login(fresh)
    lead_id = sf.Lead.create({"LastName": "Cold", "Company": "Rules"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.update(lead_id, {"Status": "Closed - Not Converted"})
    assert _error(caught)["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    sf.Lead.update(lead_id, {"Status": "Closed - Not Converted", "Disqualification_Reason__c": "No Budget"})
    assert sf.Lead.get(lead_id)["Status"] == "Closed - Not Converted"


def test_deleting_an_account_cascades_to_its_contacts_and_opportunities(sf: Salesforce) -> None:
    account_id = sf.Account.create({"Name": "Cascade Corp"})["id"]
    contact_id = sf.Contact.create({"LastName": "Child", "AccountId": account_id})["id"]
    opp_id = sf.Opportunity.create(
        {"Name": "Child deal", "AccountId": account_id, "StageName": "Prospecting", "CloseDate": "2027-01-31"}
    )["id"]
    sf.Account.delete(account_id)
    rows = sf.query_all(f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{contact_id}'", include_deleted=True)
    assert rows["records"][0]["IsDeleted"] is True
    with pytest.raises(SalesforceResourceNotFound):
        sf.Opportunity.get(opp_id)


def test_upsert_update_answers_204_before_api_46(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    old = Salesforce(
        instance_url=sandbox.instance_url, session_id=sf.session_id, session=sf.session, version="45.0"
    )
    key = f"v45-{next(_serial)}"
    assert old.Lead.upsert(f"HubSpot_Contact_Id__c/{key}", {"LastName": "Old", "Company": "Api"}) == 201
    assert old.Lead.upsert(f"HubSpot_Contact_Id__c/{key}", {"Rating": "Hot"}) == 204


def test_number_beyond_the_field_precision_is_out_of_range(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.create({"LastName": "Huge", "Company": "Numbers", "NumberOfEmployees": 10**9})
    assert (_error(caught)["errorCode"], _error(caught)["fields"]) == (
        "NUMBER_OUTSIDE_VALID_RANGE",
        ["NumberOfEmployees"],
    )
