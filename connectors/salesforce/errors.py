"""Salesforce failures translated into syncd's error classes, by one errorCode/status table.

Whole-request failures (`[{message, errorCode}]` with an HTTP status) go through `REQUEST_CODES` and
`REQUEST_STATUSES`; per-record failures inside sObject Collections results go through `RECORD_CODES`.
Remote messages are cut to their last line: Salesforce echoes the SOQL text (and with it field values)
above the human-readable part.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import requests
from simple_salesforce.exceptions import SalesforceError

from syncd.errors import (
    AuthError,
    BudgetExhaustedError,
    ConfigError,
    FatalError,
    IssueCategory,
    RecordError,
    RetryableError,
    SyncdError,
)


class Recovery(StrEnum):
    """How a whole-request failure is recovered from; one class of syncd error each."""

    AUTH = "auth"
    BUDGET = "budget"
    RETRY = "retry"
    CONFIG = "config"
    FATAL = "fatal"


# errorCode decides first; the HTTP status only when the code is unknown or absent.
REQUEST_CODES: Mapping[str, Recovery] = {
    "INVALID_SESSION_ID": Recovery.AUTH,  # reached only once the one re-login did not help
    "INVALID_AUTH_HEADER": Recovery.AUTH,
    "API_DISABLED_FOR_ORG": Recovery.AUTH,
    "API_CURRENTLY_DISABLED": Recovery.AUTH,
    "INSUFFICIENT_ACCESS": Recovery.AUTH,
    "REQUEST_LIMIT_EXCEEDED": Recovery.BUDGET,
    "SERVER_UNAVAILABLE": Recovery.RETRY,
    "UNKNOWN_EXCEPTION": Recovery.RETRY,
    "UNABLE_TO_LOCK_ROW": Recovery.RETRY,
    "QUERY_TIMEOUT": Recovery.RETRY,
    "REQUEST_RUNNING_TOO_LONG": Recovery.RETRY,
    "INVALID_FIELD": Recovery.CONFIG,
    "INVALID_TYPE": Recovery.CONFIG,
    "NOT_FOUND": Recovery.FATAL,
    "MALFORMED_QUERY": Recovery.FATAL,
    "INVALID_QUERY_FILTER_OPERATOR": Recovery.FATAL,
    "INVALID_QUERY_LOCATOR": Recovery.FATAL,
    "JSON_PARSER_ERROR": Recovery.FATAL,
    "EXCEEDED_ID_LIMIT": Recovery.FATAL,
}
REQUEST_STATUSES: Mapping[int, Recovery] = {
    400: Recovery.FATAL,
    401: Recovery.AUTH,
    403: Recovery.AUTH,
    404: Recovery.FATAL,
    405: Recovery.FATAL,
    408: Recovery.RETRY,
    409: Recovery.RETRY,
    429: Recovery.RETRY,
    500: Recovery.RETRY,
    502: Recovery.RETRY,
    503: Recovery.RETRY,
    504: Recovery.RETRY,
}

_HINTS: Mapping[Recovery, str] = {
    Recovery.AUTH: "check the Salesforce credentials and the integration user's API and object permissions",
    Recovery.BUDGET: "the flow is parked until the org's API allowance recovers; other apps share it",
    Recovery.RETRY: "transient; retried automatically",
    Recovery.CONFIG: "a mapped field or object does not exist or is not visible to the integration user; "
    "run `syncd check` and fix the mapping",
    Recovery.FATAL: "this is a bug in syncd's Salesforce connector; report it with the log",
}


def classify(status: int, code: str | None) -> Recovery:
    """The one table lookup: errorCode first, then status, 5xx retried, anything else fatal."""
    if code is not None:
        if code in REQUEST_CODES:
            return REQUEST_CODES[code]
        if code.startswith("INSUFFICIENT_ACCESS"):
            return Recovery.AUTH
    if status in REQUEST_STATUSES:
        return REQUEST_STATUSES[status]
    return Recovery.RETRY if status >= 500 else Recovery.FATAL


def summary(message: str, limit: int = 200) -> str:
    """The last non-empty line of a remote message, shortened: never the echoed query text."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    text = lines[-1] if lines else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_error(body: Any) -> tuple[str | None, str, tuple[str, ...]]:
    """(errorCode, message, fields) of the first error in a Salesforce error body of any known shape."""
    item: Any = body[0] if isinstance(body, list) and body else body
    if not isinstance(item, Mapping):
        return None, summary(str(body)) if body else "", ()
    code = item.get("errorCode") or item.get("statusCode") or item.get("error")
    message = item.get("message") or item.get("error_description") or ""
    fields = item.get("fields") or ()
    return (str(code) if code else None), str(message), tuple(str(f) for f in fields)


def request_error(
    status: int, body: Any, *, operation: str, limit_recheck_seconds: float = 900.0
) -> SyncdError:
    """The syncd error for a whole request Salesforce refused with `status` and `body`."""
    code, message, fields = first_error(body)
    recovery = classify(status, code)
    what = f"Salesforce refused {operation}: HTTP {status} {code or ''}".rstrip()
    if message:
        what += f": {summary(message)}"
    if recovery is Recovery.AUTH:
        return AuthError(what, hint=_HINTS[recovery])
    if recovery is Recovery.BUDGET:
        # Salesforce sends no Retry-After; the budget's own recheck interval is the best guess.
        return BudgetExhaustedError(what, resume_after=limit_recheck_seconds, hint=_HINTS[recovery])
    if recovery is Recovery.RETRY:
        return RetryableError(what, hint=_HINTS[recovery])
    if recovery is Recovery.CONFIG:
        named = f" ({', '.join(fields)})" if fields else ""
        return ConfigError([what + named], hint=_HINTS[recovery])
    return FatalError(what, hint=_HINTS[recovery])


def from_exception(exc: BaseException, *, operation: str, limit_recheck_seconds: float = 900.0) -> SyncdError:
    """Translate what simple-salesforce or requests raised; syncd errors pass through unchanged."""
    if isinstance(exc, SyncdError):
        return exc
    if isinstance(exc, SalesforceError):
        return request_error(
            exc.status, exc.content, operation=operation, limit_recheck_seconds=limit_recheck_seconds
        )
    if isinstance(exc, requests.exceptions.SSLError) and is_certificate_failure(exc):
        return ConfigError(
            [f"TLS verification failed for {operation}: {type(exc).__name__}"],
            hint="set salesforce.ca_file to the CA bundle that signs the org's certificate",
        )
    if isinstance(exc, requests.RequestException):
        return RetryableError(f"Salesforce {operation} failed in transit: {type(exc).__name__}")
    return FatalError(f"unexpected failure in Salesforce {operation}: {type(exc).__name__}: {exc}")


def is_certificate_failure(exc: BaseException) -> bool:
    """True when TLS failed on the certificate (an operator's problem), not on a cut connection."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ssl.SSLCertVerificationError):
            return True
        # requests and urllib3 nest the cause in args and `reason` rather than in __cause__.
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


@dataclass(frozen=True)
class RecordRule:
    """What a per-record errorCode means. `category` None = transient: retry that record."""

    category: IssueCategory | None
    hint: str


# {fields} and {mapping} are filled in; fields come from the error, mapping from the settings.
RECORD_CODES: Mapping[str, RecordRule] = {
    "REQUIRED_FIELD_MISSING": RecordRule(
        IssueCategory.VALIDATION, "map a value for {fields} in {mapping} or set a default"
    ),
    "INVALID_EMAIL_ADDRESS": RecordRule(
        IssueCategory.VALIDATION,
        "correct the email address in the source system; Salesforce will not store it",
    ),
    "STRING_TOO_LONG": RecordRule(
        IssueCategory.VALIDATION, "shorten {fields} at the source or add a truncating transform in {mapping}"
    ),
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": RecordRule(
        IssueCategory.VALIDATION,
        "a Salesforce validation rule rejected the values; fix them at the source or ask the admin",
    ),
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": RecordRule(
        IssueCategory.PICKLIST, "add a value map for {fields} in {mapping} to one of the picklist's values"
    ),
    "DUPLICATES_DETECTED": RecordRule(
        IssueCategory.DUPLICATE,
        "a Salesforce duplicate rule matched an existing record; merge the duplicates or relax the rule",
    ),
    "INSUFFICIENT_ACCESS": RecordRule(
        IssueCategory.PERMISSION, "give the integration user edit access to this record and {fields}"
    ),
    "INVALID_FIELD_FOR_INSERT_UPDATE": RecordRule(
        IssueCategory.PERMISSION,
        "{fields} is read-only for the integration user; grant edit access or make it read-only in {mapping}",
    ),
    "CANNOT_UPDATE_CONVERTED_LEAD": RecordRule(
        IssueCategory.CONFLICT, "the Lead was converted; syncd follows ConvertedContactId on the next pull"
    ),
    "ENTITY_IS_DELETED": RecordRule(
        IssueCategory.CONFLICT,
        "the record was deleted in Salesforce; syncd records the tombstone on the next pull",
    ),
    "INVALID_FIELD": RecordRule(
        IssueCategory.OTHER,
        "{fields} does not exist or is hidden from the integration user; fix {mapping} or field security",
    ),
    "UNABLE_TO_LOCK_ROW": RecordRule(None, "another process held the record; it is retried on the next run"),
}
_OTHER = RecordRule(IssueCategory.OTHER, "see the Salesforce message; fix the values at the source")


def record_rule(code: str) -> RecordRule:
    if code in RECORD_CODES:
        return RECORD_CODES[code]
    if code.startswith("INSUFFICIENT_ACCESS"):
        return RECORD_CODES["INSUFFICIENT_ACCESS"]
    return _OTHER


def is_transient(errors: Sequence[Mapping[str, Any]]) -> bool:
    """True when every error of a failed record is transient (the record may simply be sent again)."""
    codes = [first_error([e])[0] or "" for e in errors]
    return bool(codes) and all(record_rule(c).category is None for c in codes)


def record_error(
    object: str, record_key: str, errors: Sequence[Mapping[str, Any]], *, mapping_file: str
) -> RecordError:
    """A RecordError that names the record, the remote code and fields, and what to do."""
    code, message, fields = first_error(list(errors))
    code = code or "UNKNOWN_ERROR"
    rule = record_rule(code)
    named = ", ".join(fields) if fields else "the field"
    what = f"Salesforce rejected {object} {record_key}: {code}"
    if fields:
        what += f" ({', '.join(fields)})"
    if len(errors) > 1:
        what += f" and {len(errors) - 1} more error(s)"
    return RecordError(
        what,
        category=rule.category or IssueCategory.OTHER,
        record_key=record_key,
        remote_code=code,
        remote_message=message,
        hint=rule.hint.format(fields=named, mapping=mapping_file),
    )
