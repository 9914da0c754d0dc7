"""Reads against the simulator: ordered resumable pulls, the one-call idle probe, fetch, describe."""

from __future__ import annotations

import pytest

from connectors.salesforce.connector import EPOCH, SalesforceConnector
from connectors.salesforce.soql import in_predicates
from syncd.connector import Cursor, FieldType, Page, PullRequest, Write
from syncd.errors import ConfigError, FatalError
from tests.connectors.salesforce.sfc_support import Control, MakeConnector

FIELDS = ["Email", "LastName", "Company"]


def keys(pages: list[Page]) -> list[tuple[object, str]]:
    return [(r.modified_at, r.id) for p in pages for r in p.records]


def latest(connector: SalesforceConnector, object: str) -> Cursor:
    """The cursor after everything `object` holds now."""
    return [p.cursor for p in connector.pull(object, None, ["Id"])][-1]


def test_pull_pages_arrive_in_systemmodstamp_then_id_order_and_cover_every_lead(
    control: Control, make_connector: MakeConnector
) -> None:
    connector = make_connector(page_size=200)
    pages = list(connector.pull("Lead", None, FIELDS))
    seen = keys(pages)
    assert len(pages) > 1
    assert seen == sorted(seen)
    assert len(set(seen)) == len(seen)
    assert {r.id for p in pages for r in p.records} == {row["Id"] for row in control.records("Lead")}
    for page in pages:
        last = page.records[-1]
        assert page.cursor == Cursor(last.modified_at, last.id)


def test_a_pull_resumed_from_any_page_cursor_returns_exactly_the_rest(make_connector: MakeConnector) -> None:
    connector = make_connector(page_size=200)
    pages = list(connector.pull("Lead", None, FIELDS))
    rest = list(connector.pull("Lead", pages[0].cursor, FIELDS))
    assert keys(rest) == keys(pages)[len(pages[0].records) :]


def test_records_sharing_a_timestamp_are_split_by_the_id_tie_break(
    control: Control, connector: SalesforceConnector
) -> None:
    control.post("/clock", {"freeze": True})
    try:
        written = connector.push(
            "Lead",
            [
                Write("create", f"r{i}", {"LastName": f"Tie{i}", "Company": "Acme", "Email": f"tie{i}@x.com"})
                for i in range(3)
            ],
        )
    finally:
        control.post("/clock", {"freeze": False})
    ids = sorted(w.id for w in written if w.id)
    first = connector.fetch("Lead", ids[:1], FIELDS)[0]
    after_first = [
        r.id for p in connector.pull("Lead", Cursor(first.modified_at, first.id), FIELDS) for r in p.records
    ]
    assert after_first[:2] == ids[1:]
    inclusive = [r.id for p in connector.pull("Lead", Cursor(first.modified_at), FIELDS) for r in p.records]
    assert inclusive[:3] == ids


def test_an_idle_probe_of_several_objects_costs_one_api_call(
    control: Control, connector: SalesforceConnector
) -> None:
    leads, contacts = latest(connector, "Lead"), latest(connector, "Contact")  # also logs in
    before_calls, before_used = control.calls(), connector.usage().used

    probes = connector.pull_many(
        [PullRequest("Lead", leads, FIELDS), PullRequest("Contact", contacts, ["Email", "LastName"])]
    )
    assert [list(p) for p in probes] == [[], []]
    assert control.calls() - before_calls == 1
    assert connector.usage().used - before_used == 1


def test_an_idle_probe_of_all_five_synced_objects_still_costs_one_call(
    control: Control, connector: SalesforceConnector
) -> None:
    names = ["Lead", "Contact", "Opportunity", "Task", "Campaign"]
    cursors = {name: latest(connector, name) for name in names}
    before = control.calls()
    probes = connector.pull_many([PullRequest(name, cursors[name]) for name in names])
    assert [list(p) for p in probes] == [[]] * 5
    assert control.calls() - before == 1


def test_other_objects_pull_with_their_own_fields(control: Control, connector: SalesforceConnector) -> None:
    deals = [
        r for p in connector.pull("Opportunity", None, ["Name", "StageName", "Amount"]) for r in p.records
    ]
    assert {r.id for r in deals} == {row["Id"] for row in control.records("Opportunity")}
    assert deals and all(r.merged_into is None and "StageName" in r.fields for r in deals)


def test_a_probe_of_more_than_five_objects_takes_one_call_per_five(
    control: Control, connector: SalesforceConnector
) -> None:
    cursors = {name: latest(connector, name) for name in ("Lead", "Contact")}
    before = control.calls()
    probes = connector.pull_many(
        [PullRequest(name, cursors[name]) for name in ["Lead", "Contact"] * 3 + ["Lead"]]
    )
    assert all(list(p) == [] for p in probes)
    assert control.calls() - before == 2


def test_a_busy_object_in_the_probe_continues_through_its_own_pages(
    control: Control, make_connector: MakeConnector
) -> None:
    connector = make_connector(page_size=200)
    full = list(connector.pull("Lead", None, FIELDS))
    lead_pages, contact_pages = connector.pull_many(
        [PullRequest("Lead", None, FIELDS), PullRequest("Contact", None, ["Email"])]
    )
    assert keys(list(lead_pages)) == keys(full)
    # queryAll: deleted contacts come too, as tombstones
    assert sum(len(p.records) for p in contact_pages) == len(control.records("Contact"))


def test_one_bad_query_in_a_probe_fails_only_its_own_pull(connector: SalesforceConnector) -> None:
    leads, contacts = connector.pull_many(
        [PullRequest("Lead", None, ["NoSuchField__c"]), PullRequest("Contact", None, ["Email"])]
    )
    assert sum(len(p.records) for p in contacts) > 0
    with pytest.raises(ConfigError, match=r"NoSuchField__c|INVALID_FIELD"):
        list(leads)


def test_an_expired_query_cursor_resumes_from_the_last_page(
    control: Control, make_connector: MakeConnector
) -> None:
    connector = make_connector(page_size=200)
    expected = keys(list(connector.pull("Lead", None, FIELDS)))
    pages = connector.pull("Lead", None, FIELDS)
    got = keys([next(pages)])
    control.post("/clock", {"advance_seconds": 3600})  # the org drops cursors idle for 15 minutes
    got += keys(list(pages))
    assert got == expected


def test_converted_leads_point_at_their_contact(control: Control, connector: SalesforceConnector) -> None:
    lead = next(r for r in control.records("Lead") if not r["IsConverted"] and not r["IsDeleted"])
    last = [p.cursor for p in connector.pull("Lead", None, FIELDS)][-1]
    converted = control.post(f"/leads/{lead['Id']}/convert", {})
    changed = [r for p in connector.pull("Lead", last, FIELDS) for r in p.records]
    assert [(r.id, r.merged_into, r.deleted) for r in changed] == [
        (lead["Id"], converted["contactId"], False)
    ]


def test_merged_records_arrive_as_tombstones_pointing_at_the_survivor(
    control: Control, connector: SalesforceConnector
) -> None:
    live = [r for r in control.records("Contact") if not r["IsDeleted"]]
    master, loser = live[0]["Id"], live[1]["Id"]
    last = [p.cursor for p in connector.pull("Contact", None, ["Email"])][-1]
    control.post("/merge", {"sobject": "Contact", "master_id": master, "loser_ids": [loser]})
    changed = {r.id: r for p in connector.pull("Contact", last, ["Email"]) for r in p.records}
    assert changed[loser].deleted is True
    assert changed[loser].merged_into == master
    assert changed[master].deleted is False


def test_fetch_by_id_and_by_email_with_quotes_in_the_address(
    control: Control, connector: SalesforceConnector
) -> None:
    created = connector.push(
        "Contact", [Write("create", "c1", {"LastName": "O'Brien", "Email": "o'brien@example.com"})]
    )[0]
    assert created.ok, created.error
    by_email = connector.fetch(
        "Contact", ["o'brien@example.com", "nobody@example.com"], ["Email", "LastName"]
    )
    assert [(r.id, r.fields["LastName"]) for r in by_email] == [(created.id, "O'Brien")]
    other = control.records("Contact")[5]["Id"]
    by_id = connector.fetch("Contact", [created.id or "", other, "003000000000000AAA"], ["Email"])
    assert {r.id for r in by_id} == {created.id, other}


def test_fetch_by_many_emails_is_chunked_under_the_url_limit_five_queries_per_call(
    control: Control, make_connector: MakeConnector
) -> None:
    connector = make_connector(max_query_chars=1_000)
    connector.describe("Lead")  # logged in
    emails = [r["Email"] for r in control.records("Lead") if r.get("Email") and not r["IsDeleted"]]
    queries = len(in_predicates("Email", emails, max_encoded_chars=1_000))
    assert queries > 5
    before = control.calls()
    found = connector.fetch("Lead", emails, ["Email"])
    assert {r.fields["Email"].lower() for r in found} >= {e.lower() for e in emails}
    # Salesforce counts a Composite call of up to five queries as one API call.
    assert control.calls() - before == -(-queries // 5)


def test_fetch_by_ids_and_by_emails_together_costs_one_call(
    control: Control, connector: SalesforceConnector
) -> None:
    rows = [r for r in control.records("Lead") if r.get("Email") and not r["IsDeleted"]][:20]
    by_id, by_email = [r["Id"] for r in rows[:10]], [r["Email"] for r in rows[10:]]
    connector.describe("Lead")  # logged in
    before = control.calls()
    found = connector.fetch("Lead", [*by_id, *by_email], ["Email"])
    assert control.calls() - before == 1
    assert {r.id for r in found} >= {r["Id"] for r in rows}


def test_a_pull_with_many_records_beyond_its_first_page_reads_the_rest_through_bulk_api(
    control: Control, make_connector: MakeConnector
) -> None:
    soql = list(make_connector(page_size=200).pull("Lead", None, FIELDS))
    assert len(soql) > 1
    connector = make_connector(page_size=200, bulk_threshold=10, bulk_page_size=50)
    connector.describe("Lead")  # the flow describes every object: the bulk CSV reuses its types
    before = control.get("/counters")["by_endpoint"]

    (pull,) = connector.pull_many([PullRequest("Lead", None, FIELDS)])
    pages = list(pull)

    used = {k: n - before.get(k, 0) for k, n in control.get("/counters")["by_endpoint"].items()}
    assert {k: n for k, n in used.items() if n} == {
        "POST /services/data/v{version}/composite": 1,  # the first page
        "POST /services/data/v{version}/jobs/query": 1,
        "GET /services/data/v{version}/jobs/query/{job_id}": 1,
        "GET /services/data/v{version}/jobs/query/{job_id}/results": len(pages) - 1,
    }
    first = pages[0]
    assert keys([first]) == keys(soql)[: len(first.records)]  # SOQL order, from the Composite probe
    assert {r.id: r for p in pages for r in p.records} == {r.id: r for p in soql for r in p.records}
    # Bulk results are unordered: only the last page moves the cursor past the first page.
    assert all(p.cursor == first.cursor for p in pages[1:-1])
    newest = max((r for p in soql for r in p.records), key=lambda r: (r.modified_at, r.id))
    assert pages[-1].cursor == Cursor(newest.modified_at, newest.id)


def test_a_pull_with_few_records_beyond_its_first_page_keeps_to_soql(
    control: Control, make_connector: MakeConnector
) -> None:
    connector = make_connector(page_size=200, bulk_threshold=10_000)
    pages = list(connector.pull("Lead", None, FIELDS))
    assert len(pages) > 1
    assert not [k for k in control.get("/counters")["by_endpoint"] if "/jobs/" in k]


def test_describe_reports_types_requiredness_and_picklists(connector: SalesforceConnector) -> None:
    lead = connector.describe("Lead")
    assert lead.fields["Email"].type is FieldType.EMAIL
    assert lead.fields["Company"].required_on_create
    assert not lead.fields["Id"].createable
    assert lead.fields["Status"].type is FieldType.ENUM and lead.fields["Status"].picklist
    assert lead.fields["ConvertedContactId"].type is FieldType.REFERENCE
    assert not lead.fields["IsConverted"].updateable


def test_a_bulk_backfill_returns_the_same_records_as_soql_paging(
    control: Control, make_connector: MakeConnector
) -> None:
    sleeps: list[float] = []
    connector = make_connector(bulk_page_size=100, sleeps=sleeps)
    # The job reports InProgress to its first two polls.
    control.fault(
        method="GET",
        path=r"/jobs/query/[^/]+$",
        kind="status",
        status=200,
        body={"state": "InProgress"},
        count=2,
    )
    soql = {r.id: r for p in connector.pull("Lead", None, FIELDS) for r in p.records}
    pages = list(connector.backfill("Lead", None, FIELDS))
    backfilled = {r.id: r for p in pages for r in p.records}
    assert backfilled == soql
    assert len(pages) > 2 and len(sleeps) == 2
    assert all(p.cursor == Cursor(EPOCH) for p in pages[:-1])
    newest = max(soql.values(), key=lambda r: (r.modified_at, r.id))
    assert pages[-1].cursor == Cursor(newest.modified_at, newest.id)


def test_a_backfill_from_a_cursor_reads_only_what_changed_since(
    control: Control, connector: SalesforceConnector
) -> None:
    pages = list(connector.pull("Lead", None, FIELDS))
    middle = pages[0].cursor
    expected = {r.id for p in connector.pull("Lead", middle, FIELDS) for r in p.records}
    assert {r.id for p in connector.backfill("Lead", middle, FIELDS) for r in p.records} == expected


def test_a_failed_bulk_job_is_a_fatal_error(control: Control, connector: SalesforceConnector) -> None:
    control.fault(
        method="GET",
        path=r"/jobs/query/[^/]+$",
        kind="status",
        status=200,
        body={"id": "750x", "state": "Failed", "errorMessage": "InvalidBatch : something broke"},
    )
    with pytest.raises(FatalError, match="ended Failed"):
        connector.backfill("Lead", None, FIELDS)


def test_a_fetch_whose_query_cursor_expires_resumes_after_its_last_record(
    control: Control, make_connector: MakeConnector
) -> None:
    connector = make_connector(page_size=200)
    emails = [r["Email"] for r in control.records("Lead") if r.get("Email") and not r["IsDeleted"]]
    expected = {r.id for r in connector.fetch("Lead", emails, ["Email"])}
    assert len(expected) > 200
    expired = [{"errorCode": "INVALID_QUERY_LOCATOR", "message": "invalid query locator"}]
    control.fault(method="GET", path=r"/query/01g", kind="status", status=400, body=expired, count=1)
    found = [r.id for r in connector.fetch("Lead", emails, ["Email"])]
    assert control.get("/faults")["faults"] == []  # the cursor did expire once
    assert sorted(found) == sorted(expected)
