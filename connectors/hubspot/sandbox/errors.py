"""HubSpot-shaped API errors: the exception handlers raise and the JSON error bodies HubSpot documents."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Category per HTTP status, used when the caller gives none (and for fault-injected responses).
_DEFAULT_CATEGORY: dict[int, str] = {
    400: "VALIDATION_ERROR",
    401: "INVALID_AUTHENTICATION",
    403: "MISSING_SCOPES",
    404: "OBJECT_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    415: "UNSUPPORTED_MEDIA_TYPE",
    423: "LOCKED",
    429: "RATE_LIMITS",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}
_DEFAULT_MESSAGE: dict[int, str] = {
    400: "There was a problem with the request.",
    401: (
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
        "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
    ),
    403: "This app hasn't been granted all required scopes to make this call.",
    404: "Resource not found",
    405: "Method not allowed",
    409: "Conflict",
    423: "The resource is locked; retry after a short wait.",
    429: "You have reached your ten_secondly_rolling limit.",
    500: "internal error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def correlation_id() -> str:
    """A fresh correlation id, as HubSpot attaches to every error."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of an error body's `errors` list."""

    message: str
    code: str | None = None
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.code is not None:
            out["code"] = self.code
        if self.context:
            out["context"] = {k: list(v) for k, v in self.context.items()}
        return out


class HubSpotError(Exception):
    """An API error that becomes a HubSpot error response (status + documented JSON body)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        category: str | None = None,
        errors: Sequence[ErrorDetail] = (),
        context: Mapping[str, Sequence[str]] | None = None,
        sub_category: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.category = category or _DEFAULT_CATEGORY.get(status, "ERROR")
        self.errors = tuple(errors)
        self.context = context
        self.sub_category = sub_category
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})  # further top-level body fields (429: errorType, policyName)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": correlation_id(),
            "category": self.category,
        }
        if self.sub_category:
            out["subCategory"] = self.sub_category
        if self.context:
            out["context"] = {k: list(v) for k, v in self.context.items()}
        if self.errors:
            out["errors"] = [e.to_json() for e in self.errors]
        if self.extra:
            out.update(self.extra)
            out["requestId"] = correlation_id()
        return out


def default_error_body(status: int) -> dict[str, Any]:
    """The body HubSpot sends for a bare status (used for injected faults)."""
    extra = {"errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"} if status == 429 else None
    return HubSpotError(status, _DEFAULT_MESSAGE.get(status, "error"), extra=extra).body()


def unauthorized() -> HubSpotError:
    return HubSpotError(401, _DEFAULT_MESSAGE[401])


def not_found(object_singular: str, object_id: str) -> HubSpotError:
    return HubSpotError(
        404,
        f"Object not found. {object_singular} with id {object_id} does not exist or has been deleted.",
        context={"id": [object_id]},
    )


def validation(message: str, errors: Sequence[ErrorDetail] = ()) -> HubSpotError:
    return HubSpotError(400, message, category="VALIDATION_ERROR", errors=errors)


def batch_standard_error(
    category: str, message: str, context: Mapping[str, Sequence[str]], *, status: str = "error"
) -> dict[str, Any]:
    """One entry of a 207 response's `errors` list (the SDK's StandardError model)."""
    return {
        "status": status,
        "category": category,
        "message": message,
        "context": {k: list(v) for k, v in context.items()},
        "errors": [],
        "links": {},
    }
