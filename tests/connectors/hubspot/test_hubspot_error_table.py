"""The HubSpot status→class table and the translation of SDK/urllib3 exceptions."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest
import urllib3.exceptions
from hubspot.crm.objects.exceptions import ApiException as ObjectsApiException
from hubspot.crm.objects.exceptions import ServiceException as ObjectsServiceException
from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException
from hubspot.crm.properties.exceptions import UnauthorizedException as PropertiesUnauthorized

from connectors.hubspot.errors import (
    RejectedRequest,
    Waits,
    classify_exception,
    classify_response,
    parse_error,
    record_rejection,
)
from syncd.errors import (
    AuthError,
    BudgetExhaustedError,
    ConfigError,
    FatalError,
    IssueCategory,
    RecordError,
    RetryableError,
)


def body(**fields: Any) -> str:
    return json.dumps({"status": "error", "correlationId": "c-1", **fields})


DAILY = body(message="You have reached your daily limit.", errorType="RATE_LIMIT", policyName="DAILY")
TEN = body(message="You have reached your ten_secondly_rolling limit.", policyName="TEN_SECONDLY_ROLLING")
SECONDLY = body(message="You have reached your secondly limit.", policyName="SECONDLY")
CONFLICT = body(message="Contact already exists. Existing ID: 37765128953", category="CONFLICT")
INVALID_OPTION = body(
    message='Property values were not valid: [{"isValid":false,"message":"bogus was not one of the allowed '
    'options","error":"INVALID_OPTION","name":"lifecyclestage"}]',
    category="VALIDATION_ERROR",
    errors=[
        {
            "message": "bogus was not one...",
            "code": "INVALID_OPTION",
            "context": {"propertyName": ["lifecyclestage"]},
        }
    ],
)
NO_PROPERTY = body(
    message="Property does not exist",
    category="VALIDATION_ERROR",
    errors=[{"message": 'Property "foo" does not exist', "code": "PROPERTY_DOESNT_EXIST"}],
)
BAD_EMAIL = body(
    message="Property values were not valid",
    category="VALIDATION_ERROR",
    errors=[{"message": "Email address x is invalid", "code": "INVALID_EMAIL"}],
)


@pytest.mark.parametrize(
    ("status", "raw", "headers", "writing", "attempt", "expected", "wait"),
    [
        (401, body(message="Authentication credentials not found."), {}, False, 1, AuthError, None),
        (403, body(message="missing scopes", category="MISSING_SCOPES"), {}, True, 1, AuthError, None),
        (429, DAILY, {}, False, 1, BudgetExhaustedError, None),
        (429, TEN, {}, False, 1, RetryableError, 10.0),
        (429, TEN, {}, True, 3, RetryableError, 30.0),  # ~10 s × attempt, like HubSpot's SDK
        (429, TEN, {"Retry-After": "45"}, False, 1, RetryableError, 45.0),
        (429, SECONDLY, {}, False, 2, RetryableError, 2.0),  # search: 1 s × attempt
        (429, body(message="You have reached your secondly limit."), {}, False, 1, RetryableError, 1.0),
        (429, "", {}, False, 1, RetryableError, 10.0),  # no body at all: assume the burst window
        (423, body(message="locked"), {}, True, 1, RetryableError, 2.0),
        (423, body(message="locked"), {"Retry-After": "1"}, True, 1, RetryableError, 2.0),  # never under 2 s
        (477, body(message="migration"), {"Retry-After": "30"}, False, 1, RetryableError, 30.0),
        (500, body(message="internal error"), {}, True, 1, RetryableError, None),
        (502, "<html>bad gateway</html>", {}, False, 1, RetryableError, None),
        (503, body(message="unavailable"), {"Retry-After": "5"}, False, 1, RetryableError, 5.0),
        (504, "", {}, True, 1, RetryableError, None),
        (400, INVALID_OPTION, {}, True, 1, RejectedRequest, None),
        (409, CONFLICT, {}, True, 1, RejectedRequest, None),
        (404, body(message="not found", category="OBJECT_NOT_FOUND"), {}, True, 1, RejectedRequest, None),
        (400, body(message="Search results are limited to 10000"), {}, False, 1, FatalError, None),
        (404, body(message="No route"), {}, False, 1, FatalError, None),
    ],
)
def test_status_table(
    status: int,
    raw: str,
    headers: dict[str, str],
    writing: bool,
    attempt: int,
    expected: type[Exception],
    wait: float | None,
) -> None:
    error = classify_response(
        parse_error(status, raw, headers), operation="POST /x", writing=writing, attempt=attempt
    )
    assert type(error) is expected
    if isinstance(error, RetryableError):
        assert error.retry_after == wait


def test_daily_limit_parks_the_flow_with_a_resume_time() -> None:
    error = classify_response(
        parse_error(429, DAILY, {}), operation="GET /x", writing=False, waits=Waits(daily_recheck=600.0)
    )
    assert isinstance(error, BudgetExhaustedError)
    assert error.resume_after == 600.0


def test_missing_scope_names_the_scope_to_grant() -> None:
    raw = body(
        message="This app hasn't been granted all required scopes to make this call.",
        category="MISSING_SCOPES",
        errors=[{"message": "missing", "context": {"requiredScopes": ["crm.objects.contacts.write"]}}],
    )
    error = classify_response(parse_error(403, raw, {}), operation="POST /x", writing=True)
    assert isinstance(error, AuthError)
    assert "crm.objects.contacts.write" in str(error)


@pytest.mark.parametrize(
    ("status", "raw", "category", "code"),
    [
        (400, INVALID_OPTION, IssueCategory.PICKLIST, "INVALID_OPTION"),
        (400, BAD_EMAIL, IssueCategory.INVALID_EMAIL, "INVALID_EMAIL"),
        (400, NO_PROPERTY, IssueCategory.VALIDATION, "PROPERTY_DOESNT_EXIST"),
        (409, CONFLICT, IssueCategory.DUPLICATE, "CONFLICT"),
        (404, body(message="gone", category="OBJECT_NOT_FOUND"), IssueCategory.OTHER, "OBJECT_NOT_FOUND"),
    ],
)
def test_record_rejections_are_categorised(status: int, raw: str, category: IssueCategory, code: str) -> None:
    error = record_rejection(
        parse_error(status, raw, {}), object_label="contact", record="jane@x.com (ref r1)", record_key="r1"
    )
    assert error.category is category
    assert error.remote_code == code
    assert error.message.startswith("HubSpot rejected contact jane@x.com (ref r1)")
    assert error.hint


def test_conflict_names_the_existing_contact_and_says_what_to_do() -> None:
    remote = parse_error(409, CONFLICT, {})
    assert remote.existing_id == "37765128953"
    error = record_rejection(remote, object_label="contact", record="jane@x.com", record_key="jane@x.com")
    assert "37765128953" in str(error)
    assert error.remote_message == "Contact already exists. Existing ID: 37765128953"


def test_validation_message_names_the_property_but_not_the_rejected_value() -> None:
    error = record_rejection(
        parse_error(400, INVALID_OPTION, {}), object_label="contact", record="jane@x.com", record_key=None
    )
    assert "lifecyclestage" in error.message
    assert "bogus" not in error.message
    assert "bogus" in (error.remote_message or "")  # the raw remote text is kept for the dead letter


@pytest.mark.parametrize("raw", ["", "not json", "[1,2]", json.dumps({"errors": "nope", "message": None})])
def test_malformed_error_bodies_still_classify(raw: str) -> None:
    remote = parse_error(400, raw, {})
    assert remote.status == 400
    error = classify_response(remote, operation="POST /x", writing=True)
    assert isinstance(error, RecordError)


def _sdk_error(cls: type[Exception], status: int, raw: str, headers: dict[str, str]) -> Exception:
    exc = cls(status=status, reason="reason")
    exc.body = raw  # type: ignore[attr-defined]
    exc.headers = headers  # type: ignore[attr-defined]
    return exc


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (_sdk_error(ObjectsApiException, 429, DAILY, {}), BudgetExhaustedError),
        (_sdk_error(ObjectsServiceException, 503, "", {}), RetryableError),
        (_sdk_error(PropertiesApiException, 429, TEN, {}), RetryableError),
        (_sdk_error(PropertiesUnauthorized, 401, "", {}), AuthError),
        (
            urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")),
            RetryableError,
        ),
        (
            urllib3.exceptions.MaxRetryError(
                None, "/x", urllib3.exceptions.NewConnectionError(None, "refused")
            ),
            RetryableError,
        ),  # type: ignore[arg-type]
        (urllib3.exceptions.ReadTimeoutError(None, "/x", "read timed out"), RetryableError),  # type: ignore[arg-type]
        (http.client.RemoteDisconnected("Remote end closed connection"), RetryableError),
        (ConnectionResetError(104, "Connection reset by peer"), RetryableError),
        (urllib3.exceptions.SSLError("certificate verify failed"), ConfigError),
        (ValueError("something else"), FatalError),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else v.__name__,
)
def test_every_sdk_sub_package_and_transport_error_is_translated(exc: Exception, expected: type) -> None:
    assert type(classify_exception(exc, operation="GET /x", writing=False)) is expected


def test_sdk_tls_failure_is_a_configuration_problem() -> None:
    exc = ObjectsApiException(
        status=0, reason="SSLError\n[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"
    )
    error = classify_exception(exc, operation="GET /x", writing=False)
    assert isinstance(error, ConfigError)
    assert "ssl_ca_cert" in str(error)


def test_the_sdks_attribute_error_while_reporting_a_tls_failure_is_unwrapped() -> None:
    tls = ObjectsApiException(
        status=0, reason="SSLError\n[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"
    )
    try:
        try:
            raise tls
        except ObjectsApiException as e:
            e.body.decode("utf-8")  # what the SDK's ApiClient does with the body it never set
    except AttributeError as exc:
        error = classify_exception(exc, operation="GET /x", writing=False)
    assert isinstance(error, ConfigError)
