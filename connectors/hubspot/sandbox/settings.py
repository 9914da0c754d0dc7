"""Knobs of the simulated portal: rate-limit tier, daily budget, search lag and other documented numbers."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

TEN_SECONDLY_TIERS = (100, 190, 250)  # Free/Starter, Pro/Enterprise, with the limit-increase add-on
DAILY_TIERS = (250_000, 625_000, 1_000_000)


@dataclass(frozen=True)
class HubSpotSettings:
    """Every number a vendor may change lives here, not in the handlers."""

    ten_secondly_limit: int = 190
    ten_second_window_ms: int = 10_000
    daily_limit: int = 625_000
    search_per_second: int = 5
    search_index_lag_ms: float = 1_000.0
    retry_after: bool = False  # HubSpot does not document Retry-After on REST 429s
    case_insensitive_email: bool = True
    lifecycle_forward_only: bool = True
    max_batch_inputs: int = 100
    max_list_limit: int = 100
    max_list_limit_with_history: int = 50
    max_search_limit: int = 200
    max_search_results: int = 10_000
    max_search_body_chars: int = 3_000
    max_association_read_inputs: int = 1_000
    max_association_create_inputs: int = 2_000
    page_view_event_type: str = "e_visited_page"
    form_submission_event_type: str = "e_submitted_form"
    portal_id: int = 62515

    def updated(self, changes: dict[str, Any]) -> HubSpotSettings:
        """A copy with `changes` applied; unknown names or wrong types raise ValueError."""
        known = {f.name: f for f in fields(self)}
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(f"unknown HubSpot sandbox settings {unknown}; known: {sorted(known)}")
        for name, value in changes.items():
            current = getattr(self, name)
            allowed: tuple[type, ...] = (float, int) if isinstance(current, float) else (type(current),)
            if isinstance(current, bool) != isinstance(value, bool) or not isinstance(value, allowed):
                raise ValueError(f"setting {name} must be {type(current).__name__}, got {value!r}")
        return replace(self, **changes)
