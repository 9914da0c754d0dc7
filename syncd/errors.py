"""Errors classed by how to recover from them.

Connectors translate SDK and HTTP failures into these at their boundary; the engine
decides what to do by class alone, never by inspecting messages.
"""

from __future__ import annotations

from enum import StrEnum


class IssueCategory(StrEnum):
    """Why a single record was quarantined (what ops filter on in `syncd errors`)."""

    VALIDATION = "validation"
    DUPLICATE = "duplicate"
    PICKLIST = "picklist"
    PERMISSION = "permission"
    AUTH = "auth"
    RATE_LIMIT = "rate_limit"
    CONFLICT = "conflict"
    AMBIGUOUS_MATCH = "ambiguous_match"
    INVALID_EMAIL = "invalid_email"
    OTHER = "other"


class SyncdError(Exception):
    """Base class. `hint` tells the operator what to do about it."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class ConfigError(SyncdError):
    """The configuration or a mapping is wrong: an operator must edit a file. Exit status 2."""

    def __init__(self, problems: list[str], *, hint: str | None = None) -> None:
        super().__init__("; ".join(problems) if problems else "invalid configuration", hint=hint)
        self.problems = problems


class AuthError(SyncdError):
    """Credentials are missing, wrong, expired beyond refresh, or lack a scope: an operator must act."""


class StoreNotReadyError(SyncdError):
    """The store is unreachable or not migrated to head."""


class RetryableError(SyncdError):
    """A transient failure (429, 5xx, timeout, connection reset): retry with backoff.

    `retry_after` is the server's hint in seconds when it gave one.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class BudgetExhaustedError(SyncdError):
    """An API allowance is spent (HubSpot daily, Salesforce REQUEST_LIMIT_EXCEEDED): park the flow.

    `resume_after` is seconds until the budget is expected back, when known.
    """

    def __init__(self, message: str, *, resume_after: float | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.resume_after = resume_after


class RecordError(SyncdError):
    """One record was rejected: quarantine it with its reason and carry on with the rest."""

    def __init__(
        self,
        message: str,
        *,
        category: IssueCategory,
        record_key: str | None = None,
        remote_code: str | None = None,
        remote_message: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.category = category
        self.record_key = record_key
        self.remote_code = remote_code
        self.remote_message = remote_message


class FatalError(SyncdError):
    """A broken invariant: stop the flow and alert; retrying cannot help."""
