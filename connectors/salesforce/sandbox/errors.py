"""Salesforce-shaped errors: the REST API's `[{message, errorCode, fields}]` bodies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One per-record error, as collections report it (`statusCode`) and single calls (`errorCode`)."""

    code: str
    message: str
    fields: tuple[str, ...] = ()
    extra: tuple[tuple[str, Any], ...] = ()

    def as_rest(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "errorCode": self.code, "fields": list(self.fields)}
        body.update(self.extra)
        return body

    def as_collection(self) -> dict[str, Any]:
        body: dict[str, Any] = {"statusCode": self.code, "message": self.message, "fields": list(self.fields)}
        body.update(self.extra)
        return body


class ApiError(Exception):
    """A whole request refused: HTTP status plus the JSON array body."""

    def __init__(self, status: int, code: str, message: str, fields: tuple[str, ...] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict[str, Any]]:
        item: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            item["fields"] = list(self.fields)
        return [item]


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def default_error_body(status: int) -> list[dict[str, Any]]:
    """The body an injected fault answers with when the rule names none."""
    known = {
        400: ("BAD_REQUEST", "The request could not be understood."),
        401: ("INVALID_SESSION_ID", "Session expired or invalid"),
        403: ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
        404: ("NOT_FOUND", "The requested resource does not exist"),
        409: ("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records"),
        500: (
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact "
            "support: 1234567890-12345 (-1234567890)",
        ),
        502: ("SERVER_UNAVAILABLE", "Bad gateway"),
        503: ("SERVER_UNAVAILABLE", "Server temporarily unavailable"),
    }
    code, message = known.get(status, ("UNKNOWN_EXCEPTION", f"HTTP {status}"))
    return [{"message": message, "errorCode": code}]
