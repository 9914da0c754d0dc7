"""HubSpot failures → syncd error classes: the one status→class table, applied at the connector edge.

`classify_response` handles an HTTP error response (status, body, headers); `classify_exception`
handles whatever the SDK raised — each SDK sub-package has its own `ApiException` class, so they are
recognised by shape (status/body/headers), not by import — and urllib3's transport errors.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

import urllib3.exceptions

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

_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")
# HubSpot embeds per-property results as JSON in the message: [{"isValid":false,...,"name":"lifecyclestage"}]
_PROPERTY_NAME = re.compile(r'"name"\s*:\s*"([A-Za-z0-9_]+)"')

# Waits HubSpot's own SDK uses; the connector passes its configured values.
DEFAULT_TEN_SECONDLY_WAIT = 10.0
DEFAULT_SECONDLY_WAIT = 1.0
DEFAULT_LOCKED_WAIT = 2.0


@dataclass(frozen=True)
class RemoteError:
    """The parts of a HubSpot error body that matter for classification (all optional upstream)."""

    status: int
    message: str = ""
    category: str = ""
    codes: tuple[str, ...] = ()
    policy: str = ""
    existing_id: str | None = None
    required_scopes: tuple[str, ...] = ()
    retry_after: float | None = None
    correlation_id: str = ""
    properties: tuple[str, ...] = ()  # the properties a validation error is about

    @property
    def code(self) -> str:
        """The most specific code: an `errors[].code`, else the category."""
        return self.codes[0] if self.codes else self.category


class RejectedRequest(RecordError):
    """A write HubSpot refused as a whole; `remote` keeps the parsed body to bisect and name records."""

    def __init__(self, message: str, *, remote: RemoteError, category: IssueCategory, hint: str) -> None:
        super().__init__(
            message,
            category=category,
            remote_code=remote.code or str(remote.status),
            remote_message=remote.message or None,
            hint=hint,
        )
        self.remote = remote


@dataclass(frozen=True)
class Waits:
    """Minimum waits per HubSpot throttle, in seconds; multiplied by the attempt number like HubSpot's SDK."""

    ten_secondly: float = DEFAULT_TEN_SECONDLY_WAIT
    secondly: float = DEFAULT_SECONDLY_WAIT
    locked: float = DEFAULT_LOCKED_WAIT
    daily_recheck: float = 900.0


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP-date Retry-After: HubSpot does not send those; fall back to our own waits
    return seconds if seconds >= 0 else None


def parse_error(status: int, body: bytes | str | None, headers: Mapping[str, str]) -> RemoteError:
    """Read a HubSpot error body defensively: every field is optional, the body may not be JSON."""
    data: Any = None
    if body:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
    if not isinstance(data, dict):
        data = {}
    message = str(data.get("message") or "")
    details = data.get("errors") if isinstance(data.get("errors"), list) else []
    codes: list[str] = []
    scopes: list[str] = []
    properties: list[str] = _PROPERTY_NAME.findall(message)
    for detail in details:
        if not isinstance(detail, dict):
            continue
        if detail.get("code"):
            codes.append(str(detail["code"]))
        context = detail.get("context")
        if isinstance(context, dict) and isinstance(context.get("requiredScopes"), list):
            scopes.extend(str(s) for s in context["requiredScopes"])
        if isinstance(context, dict) and isinstance(context.get("propertyName"), list):
            properties.extend(str(p) for p in context["propertyName"])
    context = data.get("context")
    if isinstance(context, dict) and isinstance(context.get("requiredScopes"), list):
        scopes.extend(str(s) for s in context["requiredScopes"])
    existing = _EXISTING_ID.search(message)
    return RemoteError(
        status=status,
        message=message,
        category=str(data.get("category") or ""),
        codes=tuple(codes),
        policy=str(data.get("policyName") or ""),
        existing_id=existing.group(1) if existing else None,
        required_scopes=tuple(dict.fromkeys(scopes)),
        retry_after=_seconds(_header(headers, "Retry-After")),
        correlation_id=str(data.get("correlationId") or ""),
        properties=tuple(dict.fromkeys(properties)),
    )


def _rate_limit_policy(error: RemoteError) -> str:
    policy = error.policy.upper()
    if policy:
        return policy
    text = error.message.lower()
    if "daily" in text:
        return "DAILY"
    if "secondly limit" in text and "ten" not in text:
        return "SECONDLY"
    return "TEN_SECONDLY_ROLLING"


_PICKLIST_CODES = {"INVALID_OPTION"}
_EMAIL_CODES = {"INVALID_EMAIL"}


def record_category(error: RemoteError) -> IssueCategory:
    if error.status == 409:
        return IssueCategory.DUPLICATE
    codes = set(error.codes) | {error.category}
    if codes & _PICKLIST_CODES:
        return IssueCategory.PICKLIST
    if codes & _EMAIL_CODES:
        return IssueCategory.INVALID_EMAIL
    if error.status == 404:
        return IssueCategory.OTHER
    if error.status == 400:
        return IssueCategory.VALIDATION
    return IssueCategory.OTHER


def record_hint(error: RemoteError, category: IssueCategory) -> str:
    if category is IssueCategory.DUPLICATE:
        if error.existing_id:
            return (
                f"HubSpot already holds this email on contact {error.existing_id}: link to it and update it"
            )
        return "another HubSpot record holds this unique value: link to it instead of creating one"
    on = f" {', '.join(error.properties)}" if error.properties else ""
    if category is IssueCategory.PICKLIST:
        return f"add the value to the options of HubSpot property{on} or map it with a value map in mappings/"
    if category is IssueCategory.INVALID_EMAIL:
        return "fix the email address at the source; syncd retries the record when it changes"
    if "PROPERTY_DOESNT_EXIST" in error.codes:
        return "the mapping names a HubSpot property that does not exist: fix it in mappings/"
    if error.status == 404:
        return "the record was archived or merged in HubSpot; syncd relinks it on the next pull"
    target = on or " the field"
    return f"fix the value of{target} at the source or in mappings/; syncd retries the record when it changes"


def classify_response(
    error: RemoteError,
    *,
    operation: str,
    writing: bool,
    attempt: int = 1,
    waits: Waits = Waits(),
) -> SyncdError:
    """The status→class table. `writing` says whether a 4xx is about the records sent (a write) or a
    malformed request of ours (a read); `attempt` scales the throttle waits like HubSpot's SDK does."""
    status = error.status
    remote = f"{error.code or status}: {error.message}" if error.message else str(error.code or status)
    if status == 401:
        return AuthError(
            f"HubSpot rejected the access token on {operation} (401)",
            hint="check the private app's access token in the config; it may be revoked or rotated",
        )
    if status == 403:
        scopes = ", ".join(error.required_scopes) or "the scopes for this object"
        return AuthError(
            f"HubSpot refused {operation}: the private app lacks a scope "
            f"(403 {error.category or 'FORBIDDEN'})",
            hint=f"grant {scopes} to the private app in HubSpot and restart",
        )
    if status == 429:
        policy = _rate_limit_policy(error)
        if policy == "DAILY":
            return BudgetExhaustedError(
                f"HubSpot daily API limit reached on {operation}",
                resume_after=error.retry_after if error.retry_after is not None else waits.daily_recheck,
                hint="the account's daily allowance is shared by all its apps; the flow resumes by itself",
            )
        base = waits.secondly if policy == "SECONDLY" else waits.ten_secondly
        floor = base * attempt
        wait = max(error.retry_after, floor) if error.retry_after is not None else floor
        return RetryableError(f"HubSpot rate limit {policy} on {operation} (429)", retry_after=wait)
    if status == 423:
        wait = max(error.retry_after or 0.0, waits.locked * attempt)
        return RetryableError(f"HubSpot record locked on {operation} (423)", retry_after=wait)
    if status == 477:
        return RetryableError(
            f"HubSpot portal migration in progress on {operation} (477)",
            retry_after=error.retry_after if error.retry_after is not None else waits.locked * attempt,
        )
    if status >= 500 or status == 408:
        return RetryableError(f"HubSpot {status} on {operation}", retry_after=error.retry_after)
    if writing and status in (400, 404, 409, 413, 422):
        category = record_category(error)
        return RejectedRequest(
            f"HubSpot rejected {operation}: {error.code or status}",
            remote=error,
            category=category,
            hint=record_hint(error, category),
        )
    correlation = f", correlation id {error.correlation_id}" if error.correlation_id else ""
    return FatalError(
        f"HubSpot refused {operation} with {status} ({remote}{correlation})",
        hint="syncd built a request HubSpot does not accept; report it with this message",
    )


_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    urllib3.exceptions.HTTPError,  # MaxRetryError, ProtocolError, timeouts, NewConnectionError, ...
    HTTPException,  # RemoteDisconnected, IncompleteRead
    ConnectionError,  # resets, refused, broken pipe
    TimeoutError,
    socket.timeout,
)


def sdk_error_fields(exc: BaseException) -> tuple[int, bytes | str | None, dict[str, str]] | None:
    """(status, body, headers) of any hubspot sub-package's ApiException, else None."""
    is_api_exception = any(
        cls.__name__ == "ApiException" and cls.__module__.startswith("hubspot.") for cls in type(exc).__mro__
    )
    if not is_api_exception:
        return None
    status = getattr(exc, "status", None)
    body = getattr(exc, "body", None)
    raw_headers = getattr(exc, "headers", None) or {}
    headers = {str(k): str(v) for k, v in dict(raw_headers).items()}
    return (int(status) if isinstance(status, int) else 0), body, headers


def classify_exception(
    exc: BaseException,
    *,
    operation: str,
    writing: bool,
    attempt: int = 1,
    waits: Waits = Waits(),
) -> SyncdError:
    """Translate anything the SDK or urllib3 raised. Unknown exceptions become FatalError."""
    if isinstance(exc, SyncdError):
        return exc
    context = exc.__context__
    if isinstance(exc, AttributeError) and context is not None and sdk_error_fields(context) is not None:
        # The SDK's ApiClient decodes `e.body` unconditionally; its TLS-failure ApiException has body None,
        # so what escapes is an AttributeError raised while handling the real error.
        exc = context
    fields = sdk_error_fields(exc)
    if fields is not None:
        status, body, headers = fields
        if status == 0:
            reason = str(getattr(exc, "reason", "") or "")
            if "SSL" in reason or "certificate" in reason.lower():
                first_line = reason.splitlines()[0] if reason else "SSL error"
                return ConfigError(
                    [f"TLS to HubSpot failed on {operation}: {first_line}"],
                    hint="check base_url and the CA bundle (ssl_ca_cert) in the HubSpot config",
                )
        return classify_response(
            parse_error(status, body, headers),
            operation=operation,
            writing=writing,
            attempt=attempt,
            waits=waits,
        )
    cause = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) else None
    if isinstance(exc, urllib3.exceptions.SSLError) or isinstance(cause, urllib3.exceptions.SSLError):
        return ConfigError(
            [f"TLS to HubSpot failed on {operation}"],
            hint="check base_url and the CA bundle (ssl_ca_cert) in the HubSpot config",
        )
    if isinstance(exc, _TRANSPORT_ERRORS):
        return RetryableError(f"HubSpot transport failure on {operation}: {type(exc).__name__}")
    return FatalError(
        f"unexpected {type(exc).__name__} from the HubSpot SDK on {operation}",
        hint="report it with the log line",
    )


def record_rejection(
    error: RemoteError, *, object_label: str, record: str, record_key: str | None
) -> RecordError:
    """A RecordError that names the one record HubSpot rejected and says what to do."""
    category = record_category(error)
    code = error.code or str(error.status)
    detail = code
    if error.properties:
        detail += f" on {', '.join(error.properties)}"
    elif error.message and category in (IssueCategory.DUPLICATE, IssueCategory.OTHER):
        # Conflict and not-found texts name ids, never values; validation texts quote the rejected value.
        detail += f": {error.message}"
    return RecordError(
        f"HubSpot rejected {object_label} {record}: {detail}",
        category=category,
        record_key=record_key,
        remote_code=code,
        remote_message=error.message or None,
        hint=record_hint(error, category),
    )
