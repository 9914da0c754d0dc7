"""Bulk API 2.0 ingest and query jobs through sf.bulk2."""

from __future__ import annotations

import csv
import io

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.salesforce.sandbox import SalesforceSandbox

from .conftest import control, token_login

WAIT = 0.01  # seconds between job polls; the simulator finishes jobs at UploadComplete


def test_bulk_insert_reports_processed_and_failed_rows(sf: Salesforce) -> None:
    [result] = sf.bulk2.Contact.insert(
        records=[
            {"LastName": "Bulk One", "Email": "bulk.one@bulk.example"},
            {"LastName": "Bulk Two", "Email": "bulk.two@@bulk.example"},
            {"LastName": "Bulk Three", "Email": "bulk.three@bulk.example"},
        ],
        wait=WAIT,
    )
    assert (
        result["numberRecordsProcessed"],
        result["numberRecordsFailed"],
        result["numberRecordsTotal"],
    ) == (3, 1, 3)
    successes = list(csv.DictReader(io.StringIO(sf.bulk2.Contact.get_successful_records(result["job_id"]))))
    assert len(successes) == 2
    assert all(row["sf__Id"].startswith("003") and row["sf__Created"] == "true" for row in successes)
    [failure] = csv.DictReader(io.StringIO(sf.bulk2.Contact.get_failed_records(result["job_id"])))
    assert failure["sf__Error"].startswith("INVALID_EMAIL_ADDRESS:")
    assert failure["LastName"] == "Bulk Two"
    created = sf.query("SELECT COUNT() FROM Contact WHERE Email LIKE '%@bulk.example'")["totalSize"]
    assert created == 2


def test_bulk_upsert_by_external_id(sf: Salesforce) -> None:
    rows = [
        {"HubSpot_Contact_Id__c": "bulk-up-1", "LastName": "Up One"},
        {"HubSpot_Contact_Id__c": "bulk-up-2", "LastName": "Up Two"},
    ]
    sf.bulk2.Contact.upsert(records=rows, external_id_field="HubSpot_Contact_Id__c", wait=WAIT)
    rows[0]["LastName"] = "Up One Renamed"
    [result] = sf.bulk2.Contact.upsert(records=rows, external_id_field="HubSpot_Contact_Id__c", wait=WAIT)
    successes = list(csv.DictReader(io.StringIO(sf.bulk2.Contact.get_successful_records(result["job_id"]))))
    assert [row["sf__Created"] for row in successes] == ["false", "false"]
    names = sf.query(
        "SELECT LastName FROM Contact WHERE HubSpot_Contact_Id__c IN ('bulk-up-1', 'bulk-up-2') "
        "ORDER BY LastName"
    )["records"]
    assert [n["LastName"] for n in names] == ["Up One Renamed", "Up Two"]


def test_bulk_query_pages_csv_with_locators(sf: Salesforce) -> None:
    expected = sf.query("SELECT COUNT() FROM Lead")["totalSize"]
    pages = list(sf.bulk2.Lead.query("SELECT Id, Email, Owner.Email FROM Lead", max_records=100, wait=WAIT))
    assert len(pages) == -(-expected // 100)
    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert len(rows) == expected
    assert set(rows[0]) == {"Id", "Email", "Owner.Email"}
    assert len({row["Id"] for row in rows}) == expected


def test_bulk_query_all_includes_deleted_rows(sf: Salesforce) -> None:
    lead_id = sf.Lead.create({"LastName": "Bulk Deleted", "Company": "Bulk"})["id"]
    sf.Lead.delete(lead_id)
    query = f"SELECT Id, IsDeleted FROM Lead WHERE Id = '{lead_id}'"
    assert [r for p in sf.bulk2.Lead.query(query, wait=WAIT) for r in csv.DictReader(io.StringIO(p))] == []
    rows = [r for p in sf.bulk2.Lead.query_all(query, wait=WAIT) for r in csv.DictReader(io.StringIO(p))]
    assert rows == [{"Id": lead_id, "IsDeleted": "true"}]


def test_bulk_query_with_bad_soql_is_refused_at_job_creation(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        list(sf.bulk2.Lead.query("SELECT Nope FROM Lead", wait=WAIT))
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_bulk_jobs_are_listed(sf: Salesforce) -> None:
    [result] = sf.bulk2.Lead.insert(records=[{"LastName": "Listed", "Company": "Jobs"}], wait=WAIT)
    listing = sf.restful("jobs/ingest")
    assert result["job_id"] in [job["id"] for job in listing["records"]]
    assert all(job["id"].startswith("750") for job in listing["records"])


def test_bulk_client_polls_until_a_slow_job_completes(fresh: SalesforceSandbox) -> None:
    control(fresh, "POST", "/settings", json={"bulk_in_progress_polls": 2})
    sf = token_login(fresh)
    [result] = sf.bulk2.Lead.insert(records=[{"LastName": "Slow", "Company": "Jobs"}], wait=WAIT)
    assert result["numberRecordsProcessed"] == 1
    job = sf.restful(f"jobs/ingest/{result['job_id']}")
    assert job["state"] == "JobComplete" and job["jobType"] == "V2Ingest"


def test_a_slow_bulk_query_job_goes_in_progress_then_completes(fresh: SalesforceSandbox) -> None:
    control(fresh, "POST", "/settings", json={"bulk_in_progress_polls": 2})
    sf = token_login(fresh)
    created = sf.restful(
        "jobs/query", method="POST", json={"operation": "query", "query": "SELECT Id FROM Lead"}
    )
    assert created["state"] == "UploadComplete"
    states = [sf.restful(f"jobs/query/{created['id']}")["state"] for _ in range(3)]
    assert states == ["InProgress", "InProgress", "JobComplete"]


def test_bulk_query_without_order_by_returns_rows_in_no_set_order(sf: Salesforce) -> None:
    rest_order = [r["Id"] for r in sf.query_all("SELECT Id FROM Task")["records"]]
    bulk_order = [
        r["Id"]
        for p in sf.bulk2.Task.query("SELECT Id FROM Task", wait=WAIT)
        for r in csv.DictReader(io.StringIO(p))
    ]
    assert sorted(bulk_order) == sorted(rest_order)
    assert bulk_order != rest_order
    ordered = [
        r["Id"]
        for p in sf.bulk2.Task.query("SELECT Id FROM Task ORDER BY Id", wait=WAIT)
        for r in csv.DictReader(io.StringIO(p))
    ]
    assert ordered == sorted(rest_order)


def test_bulk_delete_soft_deletes_by_id(sf: Salesforce) -> None:
    ids = [sf.Lead.create({"LastName": f"Bulk Gone {i}", "Company": "Bulk"})["id"] for i in range(2)]
    [result] = sf.bulk2.Lead.delete(records=[{"Id": i} for i in ids], wait=WAIT)
    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (2, 0)
    rows = sf.query_all(
        f"SELECT IsDeleted FROM Lead WHERE Id IN ('{ids[0]}', '{ids[1]}')", include_deleted=True
    )
    assert [r["IsDeleted"] for r in rows["records"]] == [True, True]
