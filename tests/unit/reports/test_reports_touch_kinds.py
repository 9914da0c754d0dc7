"""Which stored kinds are touches: interactions do, sends never, opens and sales touches on request."""

from __future__ import annotations

import pytest

from syncd.reports.paths import TouchIndex, excluded_kinds
from tests.unit.reports.report_builders import at, touch

STORED = (
    *("page_view", "form_submission", "email_click", "campaign_response"),
    *("email_send", "email_delivered", "email_bounce", "unsubscribe", "email_open"),
    *("call", "meeting", "note", "sales_email"),
)
INTERACTIONS = {"page_view", "form_submission", "email_click", "campaign_response"}
SALES = {"call", "meeting", "note", "sales_email"}


def kinds_counted(**flags: bool) -> set[str]:
    touches = [touch(f"t{i}", "p1", at(i), "Email", kind=kind) for i, kind in enumerate(STORED)]
    return {t.kind for t in TouchIndex(touches, exclude_kinds=excluded_kinds(**flags)).of("p1")}


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({}, INTERACTIONS),
        ({"count_email_opens": True}, INTERACTIONS | {"email_open"}),
        ({"count_sales_touches": True}, INTERACTIONS | SALES),
        ({"count_email_opens": True, "count_sales_touches": True}, INTERACTIONS | SALES | {"email_open"}),
    ],
)
def test_only_interactions_count_by_default_and_the_rest_on_request(
    flags: dict[str, bool], expected: set[str]
) -> None:
    assert kinds_counted(**flags) == expected


def test_sends_deliveries_bounces_and_unsubscribes_never_count() -> None:
    counted = kinds_counted(count_email_opens=True, count_sales_touches=True)
    assert counted.isdisjoint({"email_send", "email_delivered", "email_bounce", "unsubscribe"})
