"""The alerts flow over a real store, on SQLite and PostgreSQL: each occurrence fires once, across runs,
restarts and crashes; deliveries are marked, retried within bounds, and failures become issues."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from click.testing import CliRunner

from syncd.alerts.render import LinkSettings
from syncd.alerts.rules import Channel, SilenceRule, SlaRule, TouchRule
from syncd.alerts.store import AlertStore
from syncd.cli import main
from syncd.errors import IssueCategory

from .conftest import HOOK, HOOK_URL, Harness, Never

DEMO = TouchRule("demo", "form_submission", HOOK, forms=frozenset({"request a demo"}))
PRICING_MQL = TouchRule("pricing-mql", "page_view", HOOK, url="*/pricing*", min_stage="mql")
BACK = SilenceRule("back", HOOK, silence=timedelta(days=30))
SLA = SlaRule("sla", HOOK, within=timedelta(hours=4))


class Crash(BaseException):
    """The process dying: not an error the flow could catch and record."""


def _crash(request: httpx.Request) -> httpx.Response:
    raise Crash("killed while posting")


def posted(harness: Harness) -> list[str]:
    route = harness.router.routes["hook"]
    return [json.loads(call.request.content)["text"] for call in route.calls]


def hook(harness: Harness, *responses: object) -> None:
    route = harness.router.post(HOOK_URL, name="hook")
    if responses:
        route.mock(side_effect=list(responses))
    else:
        route.respond(200, text="ok")


def test_every_rule_fires_once_across_runs_and_a_restart(harness: Harness) -> None:
    hook(harness)
    seed, clock = harness.seed, harness.clock
    jane = seed.person("jane@acme.com")
    seed.stage(jane, "mql", clock() - timedelta(days=1))
    seed.activity(jane, clock() - timedelta(hours=23))  # reached within the SLA
    seed.touch(jane, "form_submission", form="Request a demo", url="https://acme.io/demo")
    seed.touch(jane, "page_view", url="https://acme.io/pricing")
    bob = seed.person("bob@acme.com", salesforce="00Q000000000002AAA", hubspot="502")
    seed.touch(bob, "page_view", at=clock() - timedelta(days=40), url="https://acme.io/")
    seed.touch(bob, "page_view", at=clock() - timedelta(hours=2), url="https://acme.io/blog")
    seed.stage(bob, "mql", clock() - timedelta(hours=5))
    clock.advance(minutes=10)

    flow = harness.flow(DEMO, PRICING_MQL, BACK, SLA)
    first = harness.run(flow)
    assert first.counts["alerts.fired"] == 4
    assert {a.rule for a in harness.alerts()} == {"demo", "pricing-mql", "back", "sla"}
    assert len(posted(harness)) == 4
    assert all(a.webhook_state == "sent" for a in harness.alerts())

    again = harness.run(flow)
    assert "alerts.fired" not in again.counts
    restarted = harness.run(harness.flow(DEMO, PRICING_MQL, BACK, SLA))
    assert "alerts.fired" not in restarted.counts
    assert len(harness.alerts()) == 4
    assert len(posted(harness)) == 4
    assert harness.salesforce.calls == []


def test_each_message_names_the_person_what_happened_and_a_link(harness: Harness) -> None:
    hook(harness)
    jane = harness.seed.person("jane@acme.com")
    harness.seed.touch(jane, "form_submission", form="Request a demo")
    harness.clock.advance(minutes=10)
    harness.run(harness.flow(DEMO, links=LinkSettings(salesforce_url="https://acme.my.salesforce.com")))
    (text,) = posted(harness)
    assert text == (
        'jane@acme.com submitted the form "Request a demo" — https://acme.my.salesforce.com/00Q000000000001AAA'
    )


def test_an_idle_cycle_reads_the_store_only_and_writes_nothing(harness: Harness) -> None:
    hook(harness)
    jane = harness.seed.person("jane@acme.com")
    harness.seed.touch(jane, "page_view", url="https://acme.io/blog")
    harness.clock.advance(minutes=10)
    flow = harness.flow(DEMO, PRICING_MQL, BACK, SLA)
    harness.run(flow)
    store = AlertStore(harness.engine, "alerts")
    cursors = {rule: store.cursor(rule) for rule in ("demo", "pricing-mql", "back", "sla")}
    harness.clock.advance(minutes=1)

    idle = harness.run(flow)

    assert idle.api_calls == {"salesforce": 0}
    assert harness.salesforce.calls == []
    after = {rule: store.cursor(rule) for rule in cursors}
    # Touch rules write nothing; the SLA rule records the instant its next window starts from.
    assert {rule: after[rule] for rule in ("demo", "pricing-mql", "back")} == {
        rule: cursors[rule] for rule in ("demo", "pricing-mql", "back")
    }
    assert after["sla"] is not None and cursors["sla"] is not None
    assert after["sla"].last_id == cursors["sla"].last_id
    assert after["sla"].evaluated_at == harness.clock()
    assert harness.alerts() == []
    assert posted(harness) == []


def test_a_new_rule_does_not_replay_history_older_than_its_max_age(harness: Harness) -> None:
    hook(harness)
    jane = harness.seed.person("jane@acme.com")
    harness.seed.touch(
        jane, "form_submission", at=harness.clock() - timedelta(days=10), form="Request a demo"
    )
    harness.seed.touch(
        jane, "form_submission", at=harness.clock() - timedelta(hours=1), form="Request a demo"
    )
    harness.clock.advance(minutes=10)
    harness.run(harness.flow(DEMO))
    assert len(harness.alerts()) == 1


def test_rows_recorded_recently_are_read_again_so_a_late_commit_is_not_skipped(harness: Harness) -> None:
    """A writer whose transaction commits after a later id was visible must still be evaluated."""
    hook(harness)
    clock, seed = harness.clock, harness.seed
    jane = seed.person("jane@acme.com")
    seed.touch(jane, "form_submission", touch_id=1000, form="Request a demo")
    flow = harness.flow(DEMO)
    harness.run(flow)
    assert len(harness.alerts()) == 1
    # The slower transaction holding id 990 commits now, with the instant it inserted at.
    seed.touch(
        jane,
        "form_submission",
        touch_id=990,
        recorded_at=clock() - timedelta(seconds=30),
        form="Request a demo",
    )
    clock.advance(minutes=1)
    harness.run(flow)
    assert len(harness.alerts()) == 2
    # Once past the lag, the cursor moves beyond both and nothing is read again.
    clock.advance(minutes=10)
    harness.run(flow)
    assert AlertStore(harness.engine, "alerts").cursor("demo").last_id == 1000  # type: ignore[union-attr]
    assert len(posted(harness)) == 2


def test_a_crash_between_insert_and_send_sends_once_after_the_restart(harness: Harness) -> None:
    hook(harness, _crash, httpx.Response(200))
    jane = harness.seed.person("jane@acme.com")
    harness.seed.touch(jane, "form_submission", form="Request a demo")
    harness.clock.advance(minutes=10)
    with pytest.raises(Crash):
        harness.flow(DEMO).run("once", Never())
    (pending,) = harness.alerts()
    assert pending.webhook_state == "pending"

    restarted = harness.run(harness.flow(DEMO))

    assert "alerts.fired" not in restarted.counts
    (sent,) = harness.alerts()
    assert sent.webhook_state == "sent"
    assert len(posted(harness)) == 1  # the process died before its post left; the restart sent it once


def test_a_crash_after_the_post_before_marking_repeats_that_one_post(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented at-least-once window: exactly the post in flight is repeated."""
    hook(harness)
    jane = harness.seed.person("jane@acme.com")
    harness.seed.touch(jane, "form_submission", form="Request a demo")
    harness.clock.advance(minutes=10)
    original = AlertStore.mark

    def crash_marking(self: AlertStore, channel: Channel, *args: object, **kwargs: object) -> None:
        raise Crash("killed after the post")

    monkeypatch.setattr(AlertStore, "mark", crash_marking)
    with pytest.raises(Crash):
        harness.flow(DEMO).run("once", Never())
    monkeypatch.setattr(AlertStore, "mark", original)
    harness.run(harness.flow(DEMO))
    assert len(posted(harness)) == 2
    harness.run(harness.flow(DEMO))
    assert len(posted(harness)) == 2


def test_a_permanent_refusal_fails_the_alert_with_an_issue_and_status_shows_it(
    harness: Harness, store_url: str
) -> None:
    hook(harness, httpx.Response(404, text="no_service"))
    jane = harness.seed.person("jane@acme.com")
    harness.seed.touch(jane, "form_submission", form="Request a demo")
    harness.clock.advance(minutes=10)
    flow = harness.flow(DEMO)
    harness.run(flow)
    harness.run(flow)

    (alert,) = harness.alerts()
    assert (alert.webhook_state, alert.webhook_attempts) == ("failed", 1)
    assert "HTTP 404: no_service" in (alert.last_error or "")
    (issue,) = harness.issues()
    assert (issue.system, issue.category, issue.record_key) == (
        "webhook",
        IssueCategory.PERMISSION,
        alert.occurrence_key,
    )
    assert "jane@acme.com" in issue.message and "HTTP 404" in issue.message
    assert harness.router.routes["hook"].call_count == 1

    status = CliRunner().invoke(main, ["status", "--url", store_url])
    assert status.exit_code == 0, status.output
    assert "alert deliveries: 0 sent, 0 pending, 1 failed" in status.output
    listed = CliRunner().invoke(main, ["errors", "list", "--url", store_url, "--flow", "alerts"])
    assert listed.exit_code == 0, listed.output
    assert "[permission] alerts webhook post demo:hubspot:" in listed.output


def test_transient_failures_stay_pending_until_the_delivery_attempts_run_out(harness: Harness) -> None:
    hook(harness, *[httpx.Response(503)] * 9)
    jane = harness.seed.person("jane@acme.com")
    harness.seed.touch(jane, "form_submission", form="Request a demo")
    harness.clock.advance(minutes=10)
    flow = harness.flow(DEMO, delivery_attempts=3)

    harness.run(flow)
    harness.run(flow)
    (alert,) = harness.alerts()
    assert (alert.webhook_state, alert.webhook_attempts) == ("pending", 2)
    assert "attempt 2 of 3" in (alert.last_error or "")
    assert harness.issues() == []

    harness.run(flow)
    (alert,) = harness.alerts()
    assert (alert.webhook_state, alert.webhook_attempts) == ("failed", 3)
    (issue,) = harness.issues()
    assert issue.category == IssueCategory.OTHER
    harness.run(flow)
    assert harness.router.routes["hook"].call_count == 9  # 3 runs × 3 tries each, none after failing
    assert len(harness.slept) == 6


def test_a_receiver_that_is_down_is_not_hammered_with_the_rest(harness: Harness) -> None:
    hook(harness, *[httpx.Response(500)] * 3, httpx.Response(200), httpx.Response(200))
    jane = harness.seed.person("jane@acme.com")
    harness.seed.touch(jane, "form_submission", form="Request a demo")
    harness.seed.touch(jane, "form_submission", form="Request a demo")
    harness.clock.advance(minutes=10)
    flow = harness.flow(DEMO)
    harness.run(flow)
    assert [a.webhook_attempts for a in harness.alerts()] == [1, 0]
    harness.run(flow)
    assert [a.webhook_state for a in harness.alerts()] == ["sent", "sent"]


def test_a_task_for_someone_without_a_salesforce_record_is_an_issue_and_the_post_still_goes(
    harness: Harness,
) -> None:
    hook(harness)
    both = TouchRule("demo", "form_submission", frozenset(Channel), forms=frozenset({"request a demo"}))
    anon = harness.seed.person("anon@example.com", salesforce=None)
    harness.seed.touch(anon, "form_submission", form="Request a demo")
    harness.clock.advance(minutes=10)
    summary = harness.run(harness.flow(both))

    (alert,) = harness.alerts()
    assert (alert.task_state, alert.webhook_state) == ("failed", "sent")
    (issue,) = harness.issues()
    assert (issue.system, issue.object, issue.category) == ("salesforce", "Task", IssueCategory.OTHER)
    assert "no Salesforce Lead or Contact" in issue.message
    assert harness.salesforce.calls == []
    assert summary.api_calls == {"salesforce": 0}


def test_the_sla_rule_waits_for_the_deadline_on_the_injected_clock(harness: Harness) -> None:
    hook(harness)
    clock, seed = harness.clock, harness.seed
    reached = seed.person("reached@acme.com")
    missed = seed.person("missed@acme.com", salesforce="00Q000000000002AAA", hubspot="502")
    late = seed.person("late@acme.com", salesforce="00Q000000000003AAA", hubspot="503")
    mql_at = clock()
    events = [seed.stage(person, "MQL", mql_at) for person in (reached, missed, late)]
    seed.activity(reached, mql_at + timedelta(hours=4))  # exactly at the deadline: within
    seed.activity(missed, mql_at + timedelta(hours=1), initiated_by="automation")  # does not count
    seed.activity(late, mql_at + timedelta(hours=4, seconds=1))
    flow = harness.flow(SLA)

    clock.advance(hours=4)
    harness.run(flow)
    assert harness.alerts() == []
    # MQLs waiting for their deadline do not hold the cursor back: the instant finds them again.
    assert AlertStore(harness.engine, "alerts").cursor("sla").last_id == max(events)  # type: ignore[union-attr]
    clock.advance(seconds=1)
    harness.run(flow)
    assert sorted(a.what.split(" ")[0] for a in harness.alerts()) == ["late@acme.com", "missed@acme.com"]
    clock.advance(days=1)
    harness.run(flow)
    harness.run(harness.flow(SLA))
    assert len(harness.alerts()) == 2
    assert len(posted(harness)) == 2


def test_a_dry_run_reports_what_would_fire_and_writes_nothing(harness: Harness) -> None:
    hook(harness)
    jane = harness.seed.person("jane@acme.com")
    harness.seed.touch(jane, "form_submission", form="Request a demo")
    harness.clock.advance(minutes=10)
    summary = harness.flow(DEMO, dry_run=True).run("once", Never())
    assert summary.planned == {"alerts fire (rule demo, new or already fired)": 1}
    assert summary.samples == ['jane@acme.com submitted the form "Request a demo"']
    assert harness.alerts() == []
    assert AlertStore(harness.engine, "alerts").cursor("demo") is None
    assert posted(harness) == []
