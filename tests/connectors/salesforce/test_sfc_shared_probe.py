"""A cycle's flows share one change probe: their first pages cost one composite call per five objects."""

from __future__ import annotations

from connectors.salesforce.connector import SalesforceConnector
from syncd.connector import Cursor, PullRequest
from syncd.engine.probe import SharedProbe
from tests.connectors.salesforce.sfc_support import Control

OBJECTS = ("Lead", "Contact", "Opportunity", "Task", "Campaign")


def settled(connector: SalesforceConnector) -> dict[str, Cursor]:
    """Each object's cursor after everything it holds now (as an idle flow would have it)."""
    return {name: [p.cursor for p in connector.pull(name, None, ["Id"])][-1] for name in OBJECTS}


def test_three_flows_probing_five_objects_cost_one_call_in_all(
    control: Control, connector: SalesforceConnector
) -> None:
    cursors = settled(connector)
    probe = SharedProbe(connector)
    contacts_flow = [PullRequest(name, cursors[name], ("Id",)) for name in ("Lead", "Contact")]
    other_flows = [PullRequest(name, cursors[name], ("Id",)) for name in OBJECTS[2:]]
    before = control.calls()

    probe.prefetch(contacts_flow + other_flows)
    assert control.calls() - before == 1  # five queries fit one composite call

    assert [list(pages) for pages in probe.pull_many(contacts_flow)] == [[], []]
    assert [list(probe.pull(p.object, p.since, p.fields)) for p in other_flows] == [[]] * 3
    assert control.calls() - before == 1


def test_a_sixth_object_costs_a_second_call(control: Control, connector: SalesforceConnector) -> None:
    cursors = settled(connector)
    pulls = [PullRequest(name, cursors[name], ("Id",)) for name in OBJECTS]
    pulls.append(PullRequest("Lead", None, ("Id",)))  # another flow's pull of Lead from the start
    before = control.calls()
    SharedProbe(connector).prefetch(pulls)
    assert control.calls() - before == 2


def test_a_pull_unlike_the_prefetched_one_is_read_from_the_system(
    control: Control, connector: SalesforceConnector
) -> None:
    cursors = settled(connector)
    probe = SharedProbe(connector)
    probe.prefetch([PullRequest("Lead", cursors["Lead"], ("Id",))])
    before = control.calls()

    other_cursor = list(probe.pull_many([PullRequest("Lead", None, ("Id",))])[0])
    assert other_cursor, "a pull from the start reads every Lead"
    assert control.calls() - before >= 1


def test_pages_no_flow_asked_for_are_discarded_and_never_served_later(
    control: Control, connector: SalesforceConnector
) -> None:
    cursors = settled(connector)
    probe = SharedProbe(connector)
    pull = PullRequest("Lead", cursors["Lead"], ("Id",))
    probe.prefetch([pull])
    probe.discard()
    before = control.calls()
    assert [list(p) for p in probe.pull_many([pull])] == [[]]
    assert control.calls() - before == 1, "read again, not served from the discarded probe"
