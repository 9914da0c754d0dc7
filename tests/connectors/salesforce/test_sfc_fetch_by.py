"""`fetch_by`: records whose field is one of some values (contact roles of Opportunities), in one call."""

from __future__ import annotations

from connectors.salesforce.connector import SalesforceConnector
from tests.connectors.salesforce.sfc_support import Control


def test_roles_of_some_opportunities_are_read_in_one_call(
    connector: SalesforceConnector, control: Control
) -> None:
    roles = [r for r in control.records("OpportunityContactRole") if not r["IsDeleted"]]
    wanted = sorted({r["OpportunityId"] for r in roles})[:3]
    connector.check()  # logs in, so the count below is the read alone
    before = control.calls()
    found = connector.fetch_by(
        "OpportunityContactRole", "OpportunityId", wanted, ["OpportunityId", "ContactId"]
    )
    assert control.calls() - before == 1
    assert {r.id for r in found} == {r["Id"] for r in roles if r["OpportunityId"] in wanted}
    assert connector.fetch_by("OpportunityContactRole", "OpportunityId", [], ["ContactId"]) == []
