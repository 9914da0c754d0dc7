"""The simulated org's tunable behaviour; every vendor number lives here, not in the code."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from connectors.salesforce.sandbox.errors import ApiError


@dataclass(frozen=True)
class SalesforceSettings:
    """Knobs of the simulated org (defaults: a Developer Edition org)."""

    api_daily_limit: int = 15_000
    session_timeout_seconds: int = 7_200
    duplicate_rules: bool = False
    # Validation rule: Lead Status "Closed - Not Converted" needs Disqualification_Reason__c.
    disqualification_rule: bool = False
    # Share of record writes that fail with UNABLE_TO_LOCK_ROW (seeded dice), as under contention.
    lock_row_failure_rate: float = 0.0
    latest_api_version: str = "62.0"
    oldest_api_version: str = "31.0"
    query_batch_size: int = 2_000
    # Pages come back up to this share smaller than the batch size, deterministically per locator and page.
    page_size_jitter: float = 0.1
    # A real org keeps 10 open query cursors per user and drops the oldest beyond that.
    max_open_cursors: int = 10
    cursor_idle_seconds: int = 900
    updated_window_days: int = 30
    deleted_window_days: int = 15
    updated_max_ids: int = 600_000
    composite_max_subrequests: int = 25
    composite_max_queries: int = 5
    collection_max_records: int = 200
    retrieve_max_ids: int = 2_000
    bulk_in_progress_polls: int = 0
    bulk_query_page_default: int = 50_000
    # Without ORDER BY, Bulk API 2.0 query results arrive in no particular order.
    bulk_query_shuffle: bool = True
    username: str = "integration@syncd-sandbox.example.com"
    password: str = "sandbox-password"
    security_token: str = "SANDBOXTOKEN123"
    client_id: str = "3MVG9sandbox.consumer.key"
    client_secret: str = "sandbox-consumer-secret"
    org_id: str = "00D5g000000SANDBOX"
    edition: str = "Developer Edition"

    def updated(self, changes: dict[str, Any]) -> SalesforceSettings:
        """A copy with `changes` applied; unknown names or wrong types are refused."""
        known = {f.name: f for f in fields(self)}
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ApiError(400, "INVALID_SETTING", f"unknown settings {unknown}; known: {sorted(known)}")
        for name, value in changes.items():
            current = getattr(self, name)
            if isinstance(current, bool) != isinstance(value, bool) or not isinstance(
                value, (type(current), int) if isinstance(current, float) else type(current)
            ):
                raise ApiError(400, "INVALID_SETTING", f"setting {name} must be {type(current).__name__}")
        return replace(self, **changes)
