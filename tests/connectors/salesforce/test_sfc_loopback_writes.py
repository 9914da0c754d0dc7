"""Writes against the simulator: results in input order, bad records quarantined, the rest written."""

from __future__ import annotations

from connectors.salesforce.connector import SalesforceConnector
from syncd.connector import Write
from syncd.errors import IssueCategory
from tests.connectors.salesforce.sfc_support import Control, MakeConnector


def lead(i: int, **extra: object) -> dict[str, object]:
    return {"LastName": f"Person{i}", "Company": "Acme", "Email": f"person{i}@acme.example", **extra}


def test_creates_return_one_result_per_write_in_order_and_quarantine_only_the_bad_one(
    control: Control, connector: SalesforceConnector
) -> None:
    bad = {"LastName": "NoCompany", "Email": "jane@x.com"}
    results = connector.push(
        "Lead", [Write("create", "a", lead(1)), Write("create", "b", bad), Write("create", "c", lead(3))]
    )
    assert [(r.ref, r.ok, r.created) for r in results] == [
        ("a", True, True),
        ("b", False, False),
        ("c", True, True),
    ]
    error = results[1].error
    assert error is not None and error.category is IssueCategory.VALIDATION
    assert str(error) == (
        "Salesforce rejected Lead jane@x.com: REQUIRED_FIELD_MISSING (Company) — "
        "map a value for Company in mappings/contacts.yaml or set a default"
    )
    stored = {r["Id"]: r for r in control.records("Lead")}
    assert stored[results[0].id]["Email"] == "person1@acme.example"
    assert stored[results[2].id]["Email"] == "person3@acme.example"
    assert not any(r.get("Email") == "jane@x.com" for r in stored.values())


def test_more_writes_than_one_collection_holds_are_split_and_kept_in_order(
    control: Control, make_connector: MakeConnector
) -> None:
    connector = make_connector(collection_size=50)
    writes = [Write("create", f"w{i}", lead(i) if i != 77 else {"LastName": "X"}) for i in range(120)]
    connector.check()
    before = control.calls()
    results = connector.push("Lead", writes)
    assert [r.ref for r in results] == [w.ref for w in writes]
    assert [r.ok for r in results] == [i != 77 for i in range(120)]
    assert control.calls() - before == 3


def test_mixed_operations_come_back_in_input_order(control: Control, connector: SalesforceConnector) -> None:
    live = [r["Id"] for r in control.records("Contact") if not r["IsDeleted"]][:2]
    results = connector.push(
        "Contact",
        [
            Write("update", "u1", {"Title": "CTO"}, id=live[0]),
            Write("create", "c1", {"LastName": "New", "Email": "new@example.com"}),
            Write("delete", "d1", id=live[1]),
            Write("update", "u2", {"Title": "VP"}, id="003000000000000AAA"),
        ],
    )
    assert [(r.ref, r.ok) for r in results] == [("u1", True), ("c1", True), ("d1", True), ("u2", False)]
    stored = {r["Id"]: r for r in control.records("Contact")}
    assert stored[live[0]]["Title"] == "CTO"
    assert stored[live[1]]["IsDeleted"] is True


def test_per_record_errors_are_categorised_for_the_issue_list(
    control: Control, connector: SalesforceConnector
) -> None:
    converted = next(r["Id"] for r in control.records("Lead") if r["IsConverted"])
    results = connector.push(
        "Lead",
        [
            Write("create", "email", lead(1, Email="not-an-email")),
            Write("create", "long", lead(2, LastName="x" * 500)),
            Write("create", "pick", lead(3, Status="Not A Status")),
            Write("create", "readonly", lead(4, IsConverted=True)),
            Write("update", "conv", {"Title": "CEO"}, id=converted),
        ],
    )
    codes = {r.ref: (r.error.remote_code, r.error.category) for r in results if r.error is not None}
    assert codes == {
        "email": ("INVALID_EMAIL_ADDRESS", IssueCategory.VALIDATION),
        "long": ("STRING_TOO_LONG", IssueCategory.VALIDATION),
        "pick": ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", IssueCategory.PICKLIST),
        "readonly": ("INVALID_FIELD_FOR_INSERT_UPDATE", IssueCategory.PERMISSION),
        "conv": ("CANNOT_UPDATE_CONVERTED_LEAD", IssueCategory.CONFLICT),
    }


def test_duplicate_rules_reject_as_duplicates(control: Control, connector: SalesforceConnector) -> None:
    control.post("/settings", {"duplicate_rules": True})
    existing = next(r for r in control.records("Contact") if not r["IsDeleted"] and r.get("Email"))
    result = connector.push(
        "Contact", [Write("create", "dup", {"LastName": "Again", "Email": existing["Email"]})]
    )[0]
    assert result.error is not None and result.error.category is IssueCategory.DUPLICATE


def test_a_deleted_record_is_seen_as_a_tombstone_on_the_next_pull(
    control: Control, connector: SalesforceConnector
) -> None:
    last = [p.cursor for p in connector.pull("Lead", None, ["Email"])][-1]
    victim = next(r["Id"] for r in control.records("Lead") if not r["IsDeleted"] and not r["IsConverted"])
    assert connector.push("Lead", [Write("delete", "d", id=victim)])[0].ok
    changed = [
        (r.id, r.deleted, r.merged_into) for p in connector.pull("Lead", last, ["Email"]) for r in p.records
    ]
    assert changed == [(victim, True, None)]


def test_upserts_by_external_id_create_once_then_update(
    control: Control, connector: SalesforceConnector
) -> None:
    key = "HubSpot_Contact_Id__c"
    first = connector.push(
        "Contact", [Write("upsert", "h1", {key: "hs-1", "LastName": "Upsert", "Title": "A"}, id_property=key)]
    )[0]
    again = connector.push(
        "Contact", [Write("upsert", "h1", {key: "hs-1", "LastName": "Upsert", "Title": "B"}, id_property=key)]
    )[0]
    assert (first.ok, first.created, again.ok, again.created) == (True, True, True, False)
    assert first.id == again.id
    rows = [r for r in control.records("Contact") if r.get(key) == "hs-1"]
    assert [(r["Id"], r["Title"]) for r in rows] == [(first.id, "B")]


def test_an_upsert_without_a_key_field_is_a_failed_result_not_an_exception(
    connector: SalesforceConnector,
) -> None:
    result = connector.push("Contact", [Write("upsert", "x", {"LastName": "NoKey"})])[0]
    assert not result.ok and result.error is not None and result.error.remote_code == "MISSING_ARGUMENT"
