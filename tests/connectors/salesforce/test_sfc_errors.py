"""The one status/errorCode table: whole-request failures and per-record rejections classed by recovery."""

from __future__ import annotations

import ssl

import pytest
import requests
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceRefusedRequest

from connectors.salesforce.errors import from_exception, is_transient, record_error, request_error
from syncd.errors import (
    AuthError,
    BudgetExhaustedError,
    ConfigError,
    FatalError,
    IssueCategory,
    RetryableError,
)


def body(code: str, message: str = "m", fields: list[str] | None = None) -> list[dict[str, object]]:
    return [{"errorCode": code, "message": message, "fields": fields or []}]


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "INVALID_SESSION_ID", AuthError),
        (403, "REQUEST_LIMIT_EXCEEDED", BudgetExhaustedError),
        (403, "INSUFFICIENT_ACCESS_OR_READONLY", AuthError),
        (403, "API_DISABLED_FOR_ORG", AuthError),
        (400, "MALFORMED_QUERY", FatalError),
        (400, "INVALID_FIELD", ConfigError),
        (400, "INVALID_TYPE", ConfigError),
        (500, "UNKNOWN_EXCEPTION", RetryableError),
        (503, "SERVER_UNAVAILABLE", RetryableError),
        (502, None, RetryableError),
        (599, "SOMETHING_NEW", RetryableError),
        (418, "SOMETHING_NEW", FatalError),
        (409, "UNABLE_TO_LOCK_ROW", RetryableError),
    ],
)
def test_whole_request_failures_are_classed_by_code_then_status(
    status: int, code: str | None, expected: type[Exception]
) -> None:
    payload = body(code) if code else "<html>Bad gateway</html>"
    assert type(request_error(status, payload, operation="query Lead")) is expected


def test_request_limit_exceeded_parks_the_flow_with_a_resume_hint() -> None:
    error = request_error(
        403, body("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."), operation="query Lead"
    )
    assert isinstance(error, BudgetExhaustedError)
    assert error.resume_after and error.resume_after > 0
    assert "REQUEST_LIMIT_EXCEEDED" in str(error)


def test_remote_messages_keep_only_their_last_line_never_the_echoed_query() -> None:
    message = (
        "\nSELECT Id FROM Lead WHERE Email IN ('jane@x.com')\n       ^\n"
        "ERROR at Row:1:Column:8\nNo such column 'Foo'"
    )
    error = request_error(400, body("INVALID_FIELD", message, ["Foo"]), operation="query Lead")
    assert "jane@x.com" not in str(error)
    assert "No such column 'Foo'" in str(error)
    assert "(Foo)" in str(error)


def test_simple_salesforce_exceptions_translate_through_the_same_table() -> None:
    refused = SalesforceRefusedRequest("https://x/q", 403, "query", body("REQUEST_LIMIT_EXCEEDED"))  # type: ignore[arg-type]
    assert isinstance(from_exception(refused, operation="query Lead"), BudgetExhaustedError)
    malformed = SalesforceMalformedRequest("https://x/q", 400, "query", body("MALFORMED_QUERY"))  # type: ignore[arg-type]
    assert isinstance(from_exception(malformed, operation="query Lead"), FatalError)


@pytest.mark.parametrize(
    "exc", [requests.ConnectionError("reset"), requests.ReadTimeout("slow"), requests.ConnectTimeout("slow")]
)
def test_transport_failures_are_retryable(exc: Exception) -> None:
    assert isinstance(from_exception(exc, operation="query Lead"), RetryableError)


def test_an_untrusted_certificate_is_a_configuration_problem_not_a_retry() -> None:
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    error = from_exception(requests.exceptions.SSLError(cause), operation="query Lead")
    assert isinstance(error, ConfigError)
    assert "ca_file" in str(error)


def test_a_tls_connection_cut_mid_request_is_retryable() -> None:
    cause = ssl.SSLEOFError(8, "EOF occurred in violation of protocol")
    error = from_exception(requests.exceptions.SSLError(cause), operation="query Lead")
    assert isinstance(error, RetryableError)


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("REQUIRED_FIELD_MISSING", IssueCategory.VALIDATION),
        ("INVALID_EMAIL_ADDRESS", IssueCategory.VALIDATION),
        ("STRING_TOO_LONG", IssueCategory.VALIDATION),
        ("FIELD_CUSTOM_VALIDATION_EXCEPTION", IssueCategory.VALIDATION),
        ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", IssueCategory.PICKLIST),
        ("DUPLICATES_DETECTED", IssueCategory.DUPLICATE),
        ("INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", IssueCategory.PERMISSION),
        ("INSUFFICIENT_ACCESS_OR_READONLY", IssueCategory.PERMISSION),
        ("INVALID_FIELD_FOR_INSERT_UPDATE", IssueCategory.PERMISSION),
        ("CANNOT_UPDATE_CONVERTED_LEAD", IssueCategory.CONFLICT),
        ("SOMETHING_NEW", IssueCategory.OTHER),
    ],
)
def test_record_rejections_are_categorised_for_quarantine(code: str, category: IssueCategory) -> None:
    error = record_error(
        "Lead",
        "jane@x.com",
        [{"statusCode": code, "message": "m", "fields": []}],
        mapping_file="mappings/contacts.yaml",
    )
    assert error.category is category
    assert error.remote_code == code
    assert error.record_key == "jane@x.com"


def test_a_missing_required_field_names_the_record_the_field_and_the_fix() -> None:
    error = record_error(
        "Lead",
        "jane@x.com",
        [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [Company]",
                "fields": ["Company"],
            }
        ],
        mapping_file="mappings/contacts.yaml",
    )
    assert str(error) == (
        "Salesforce rejected Lead jane@x.com: REQUIRED_FIELD_MISSING (Company) — "
        "map a value for Company in mappings/contacts.yaml or set a default"
    )
    assert error.remote_message == "Required fields are missing: [Company]"


def test_only_lock_errors_make_a_record_worth_sending_again() -> None:
    assert is_transient([{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}])
    assert not is_transient([{"statusCode": "UNABLE_TO_LOCK_ROW"}, {"statusCode": "STRING_TOO_LONG"}])
    assert not is_transient([])
