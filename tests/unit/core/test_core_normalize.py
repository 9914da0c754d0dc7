"""Canonical values: emails, strings, numbers, booleans, dates and datetimes from both systems."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from syncd.connector import FieldType, RemoteRecord
from syncd.core.issues import Issue, RecordRef
from syncd.core.normalize import (
    UnreadableValue,
    canonical_email,
    canonical_value,
    email_or_issue,
    email_problem,
    normalize_record,
)
from syncd.errors import IssueCategory

REF = RecordRef("hubspot", "contacts", "101")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jane@example.com", "jane@example.com"),
        ("  Jane.Doe@Example.COM \t", "jane.doe@example.com"),
        ("Jane+News@X.io", "jane+news@x.io"),
        ("o'brien@sub.example.co.uk", "o'brien@sub.example.co.uk"),
        ("a@b-c.de", "a@b-c.de"),
        ("user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
        ("Jörg@Bücher.de", "jörg@bücher.de"),
    ],
)
def test_valid_emails_are_trimmed_and_case_folded_with_plus_addressing_kept(raw: str, expected: str) -> None:
    assert email_problem(raw) is None
    assert canonical_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (None, "missing"),
        ("", "missing"),
        ("   ", "missing"),
        (42, "not text"),
        ("jane.example.com", "exactly one '@'"),
        ("jane@@example.com", "exactly one '@'"),
        ("a@b@example.com", "exactly one '@'"),
        ("@example.com", "empty local part"),
        ("jane doe@example.com", "whitespace"),
        ("jane@exa mple.com", "whitespace"),
        ("jane@localhost", "no dot"),
        ("jane@example.", "invalid label"),
        ("jane@.example.com", "invalid label"),
        ("jane@-example.com", "invalid label"),
        ("jane@example-.com", "invalid label"),
        ("jane@exa_mple.com", "invalid label"),
        ("jane@example..com", "invalid label"),
        ("jane@10.0.0.1", "numeric label"),
        (".jane@example.com", "misplaced '.'"),
        ("jane.@example.com", "misplaced '.'"),
        ("ja..ne@example.com", "misplaced '.'"),
        ('"jane"@example.com', "quote"),
        ("x" * 65 + "@example.com", "longer than 64"),
        ("jane@" + "a" * 64 + ".com", "invalid label"),
        ("jane@" + ("a" * 60 + ".") * 5 + "com", "longer than 253"),
    ],
)
def test_invalid_or_missing_emails_are_rejected_with_the_reason(raw: object, why: str) -> None:
    problem = email_problem(raw)
    assert problem is not None and why in problem
    assert canonical_email(raw) is None


def test_an_invalid_email_becomes_an_invalid_email_issue_naming_the_record() -> None:
    outcome = email_or_issue(REF, "not-an-email")
    assert isinstance(outcome, Issue)
    assert outcome.category is IssueCategory.INVALID_EMAIL
    assert outcome.record == REF
    assert "hubspot/contacts/101" in outcome.reason and "'@'" in outcome.reason
    assert outcome.hint


def test_a_valid_email_or_issue_is_the_canonical_email() -> None:
    assert email_or_issue(REF, " Jane@X.com") == "jane@x.com"


UTC_NOON = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "type_", "expected"),
    [
        ("  Acme  ", FieldType.STRING, "Acme"),
        ("   ", FieldType.STRING, None),
        ("", FieldType.TEXT, None),
        (None, FieldType.NUMBER, None),
        ("Hot", FieldType.ENUM, "Hot"),
        (" Jane@X.COM ", FieldType.EMAIL, "jane@x.com"),
        (12, FieldType.STRING, "12"),
        ("42", FieldType.NUMBER, 42),
        ("42.0", FieldType.NUMBER, 42),
        (" 3.25 ", FieldType.NUMBER, 3.25),
        (7.0, FieldType.NUMBER, 7),
        (7.5, FieldType.NUMBER, 7.5),
        (-3, FieldType.NUMBER, -3),
        ("true", FieldType.BOOL, True),
        (" FALSE ", FieldType.BOOL, False),
        ("1", FieldType.BOOL, True),
        ("0", FieldType.BOOL, False),
        (1, FieldType.BOOL, True),
        (False, FieldType.BOOL, False),
        ("2024-03-01T12:00:00.000+0000", FieldType.DATETIME, UTC_NOON),
        ("2024-03-01T12:00:00Z", FieldType.DATETIME, UTC_NOON),
        ("2024-03-01T14:00:00+02:00", FieldType.DATETIME, UTC_NOON),
        ("1709294400000", FieldType.DATETIME, UTC_NOON),
        (1709294400000, FieldType.DATETIME, UTC_NOON),
        (datetime(2024, 3, 1, 12, 0), FieldType.DATETIME, UTC_NOON),
        (datetime(2024, 3, 1, 7, 0, tzinfo=timezone(timedelta(hours=-5))), FieldType.DATETIME, UTC_NOON),
        ("2024-03-01", FieldType.DATE, date(2024, 3, 1)),
        ("1709251200000", FieldType.DATE, date(2024, 3, 1)),
        (1709251200000, FieldType.DATE, date(2024, 3, 1)),
        ("2024-03-01T23:30:00-02:00", FieldType.DATE, date(2024, 3, 2)),
        (UTC_NOON, FieldType.DATE, date(2024, 3, 1)),
        (date(2024, 3, 1), FieldType.DATETIME, datetime(2024, 3, 1, tzinfo=UTC)),
    ],
)
def test_values_from_either_system_get_one_canonical_form(
    raw: object, type_: FieldType, expected: object
) -> None:
    value = canonical_value(raw, type_)
    assert value == expected
    assert type(value) is type(expected)


def test_hubspot_epoch_ms_and_salesforce_iso_for_the_same_instant_are_equal() -> None:
    hubspot = canonical_value("1709294400123", FieldType.DATETIME)
    salesforce = canonical_value("2024-03-01T12:00:00.123+0000", FieldType.DATETIME)
    assert hubspot == salesforce


@pytest.mark.parametrize(
    ("raw", "type_"),
    [
        ("abc", FieldType.NUMBER),
        ("NaN", FieldType.NUMBER),
        ("inf", FieldType.NUMBER),
        (float("nan"), FieldType.NUMBER),
        (True, FieldType.NUMBER),
        ("yes", FieldType.BOOL),
        (2, FieldType.BOOL),
        ("next tuesday", FieldType.DATETIME),
        ("2024-13-01", FieldType.DATE),
        ([1, 2], FieldType.STRING),
        (99999999999999999, FieldType.DATETIME),
    ],
)
def test_unreadable_values_raise_without_quoting_the_value(raw: object, type_: FieldType) -> None:
    with pytest.raises(UnreadableValue) as caught:
        canonical_value(raw, type_)
    if isinstance(raw, str) and len(raw) > 3:
        assert raw not in str(caught.value)


def _remote(fields: dict[str, object], **kwargs: object) -> RemoteRecord:
    return RemoteRecord(
        object="Lead",
        id="00Q1",
        modified_at=datetime(2024, 3, 1, 12, 0),
        fields=fields,
        **kwargs,  # type: ignore[arg-type]
    )


def test_normalize_record_canonicalizes_typed_fields_and_reads_the_email() -> None:
    record = _remote(
        {"Email": " Jane@X.com ", "HasOptedOutOfEmail": "true", "NumberOfEmployees": "12", "Extra": " a "}
    )
    types = {
        "Email": FieldType.EMAIL,
        "HasOptedOutOfEmail": FieldType.BOOL,
        "NumberOfEmployees": FieldType.NUMBER,
    }
    normalized = normalize_record("salesforce", record, types, email_field="Email")
    assert normalized.ref == RecordRef("salesforce", "Lead", "00Q1")
    assert normalized.email == "jane@x.com"
    assert normalized.fields == {
        "Email": "jane@x.com",
        "HasOptedOutOfEmail": True,
        "NumberOfEmployees": 12,
        "Extra": "a",
    }
    assert normalized.modified_at == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    assert normalized.issues == ()


def test_normalize_record_quarantines_a_bad_email_and_reports_unreadable_fields() -> None:
    record = _remote({"Email": "jane(at)x.com", "NumberOfEmployees": "many"})
    types = {"Email": FieldType.EMAIL, "NumberOfEmployees": FieldType.NUMBER}
    normalized = normalize_record("salesforce", record, types, email_field="Email")
    assert normalized.email is None
    categories = sorted(issue.category for issue in normalized.issues)
    assert categories == [IssueCategory.INVALID_EMAIL, IssueCategory.VALIDATION]
    assert "NumberOfEmployees" not in normalized.fields
    validation = next(i for i in normalized.issues if i.category is IssueCategory.VALIDATION)
    assert "salesforce/Lead/00Q1" in validation.reason and "many" not in validation.reason


def test_normalize_record_carries_merges_and_does_not_quarantine_deleted_records() -> None:
    record = _remote({"Email": None}, deleted=True, merged_into="00Q2")
    normalized = normalize_record("salesforce", record, {"Email": FieldType.EMAIL}, email_field="Email")
    assert normalized.deleted and normalized.merged_into == "00Q2"
    assert normalized.issues == ()
