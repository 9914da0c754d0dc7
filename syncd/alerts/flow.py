"""The alerts flow: evaluate every rule over the store, then deliver the outbox to Salesforce and the webhook.

A run has three legs:

1. **evaluate** — per rule, the rows after its cursor are read from the store and evaluated
   (syncd.alerts.evaluate); the occurrences and the moved cursor are committed together. No API call.
2. **tasks** — pending alerts for Salesforce become high-priority Tasks for the owner, 200 per upsert.
3. **webhook** — pending alerts are posted one by one; each is marked sent in its own transaction.

Delivery is at-least-once. A crash between a webhook post and marking it sent posts that one alert
again on the next run (the only duplicate a crash can cause); a Task sent again is an upsert by the
alert's key and updates the same Task. Transient failures keep an alert pending for up to
`delivery_attempts` runs; permanent ones (a 4xx other than 429, a person without a Salesforce
record) mark it failed with an issue, shown by `syncd status` and `syncd errors list`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from syncd.alerts.deadline import SlaClock
from syncd.alerts.evaluate import (
    Frontier,
    next_cursor,
    sla_decisions,
    touch_candidates,
    touch_occurrences,
)
from syncd.alerts.render import LinkSettings, NewAlert, StoredAlert, TaskSettings, new_alert, webhook_payload
from syncd.alerts.rules import Channel, MqlRow, Rule, SilenceRule, SlaRule, TouchRow, TouchRule
from syncd.alerts.store import FAILED, PENDING, SENT, AlertStore, DeliveryOutcome
from syncd.alerts.tasks import TaskDelivery
from syncd.alerts.webhook import WebhookRejected, WebhookSender
from syncd.connector import Connector
from syncd.engine import StopSignal
from syncd.engine.runs import RunSummary, recorded_run
from syncd.engine.state import Quarantine, SyncState
from syncd.errors import IssueCategory, RetryableError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertSettings:
    """How an alerts run behaves. `lag`: rows recorded this recently are read again next run, so a
    writer's transaction still open when a rule read its table is never skipped."""

    rules: tuple[Rule, ...] = ()
    links: LinkSettings = field(default_factory=LinkSettings)
    task: TaskSettings = field(default_factory=TaskSettings)
    delivery_attempts: int = 5
    lag: timedelta = timedelta(minutes=5)
    page_size: int = 2000
    dry_run: bool = False


class AlertFlow:
    """One flow instance, built once by the composition root."""

    def __init__(
        self,
        *,
        name: str,
        salesforce: Connector,
        store: Engine,
        clock: Callable[[], datetime],
        settings: AlertSettings,
        webhook: WebhookSender | None = None,
    ) -> None:
        self.name = name
        self._salesforce = salesforce
        self._webhook = webhook
        self._state = SyncState(store, name)
        self._alerts = AlertStore(store, name)
        self._clock = clock
        self._settings = settings
        self._tasks = TaskDelivery(salesforce, self._alerts.salesforce_records, settings.task)
        self._sla_clocks = {
            rule.name: SlaClock(rule.business_hours) for rule in settings.rules if isinstance(rule, SlaRule)
        }

    def run(self, trigger: str, stop: StopSignal) -> RunSummary:
        """One cycle of the three legs. Never raises for a flow failure: the run records it."""

        def legs(summary: RunSummary) -> None:
            for leg in (self._evaluate_leg, self._task_leg, self._webhook_leg):
                if stop.is_set():
                    return
                leg(summary, stop)

        return recorded_run(
            self.name,
            self._state,
            trigger,
            stop,
            legs,
            clock=self._clock,
            dry_run=self._settings.dry_run,
            systems=(self._salesforce,),
        )

    # --- evaluate -------------------------------------------------------------------------

    def _evaluate_leg(self, summary: RunSummary, stop: StopSignal) -> None:
        now = self._clock()
        frontiers = {table: self._alerts.frontier(table) for table in ("touches", "lifecycle_events")}
        for rule in self._settings.rules:
            if stop.is_set():
                return
            if isinstance(rule, SlaRule):
                self._evaluate_sla(rule, now, frontiers["lifecycle_events"], summary)
            else:
                self._evaluate_touches(rule, now, frontiers["touches"], summary)

    def _evaluate_touches(
        self, rule: TouchRule | SilenceRule, now: datetime, frontier: Frontier | None, summary: RunSummary
    ) -> None:
        if frontier is None:
            return
        kinds = rule.kinds if isinstance(rule, SilenceRule) else frozenset({rule.kind})
        size = self._settings.page_size
        stored = self._alerts.cursor(rule.name)
        if stored is None:
            # A new rule looks back over its max age only, by instant (enabling it never replays old
            # history), then follows the id cursor from the newest touch every writer has committed.
            cursor = self._alerts.last_touch_id_recorded_before(now - self._settings.lag)
            after = 0
            while True:
                rows = self._alerts.touches_since(now - rule.max_age, after, frontier.id, kinds, size)
                summary.pages += 1
                self._record(rule, self._touch_alerts(rule, rows, now), cursor, now, summary)
                if len(rows) < size:
                    break
                after = rows[-1].id
        else:
            cursor = stored.last_id
        read_after, blocked = cursor, False
        while True:
            rows = self._alerts.touches_after(read_after, frontier.id, kinds, size)
            summary.pages += 1
            exhausted = len(rows) < size
            alerts = self._touch_alerts(rule, rows, now)
            if not blocked:
                moved = next_cursor(
                    cursor,
                    [(r.id, r.recorded_at) for r in rows],
                    undecided=set(),
                    horizon=now - self._settings.lag,
                    frontier=frontier,
                    exhausted=exhausted,
                )
                blocked = bool(rows) and moved < rows[-1].id
                cursor = moved
            if alerts or stored is None or cursor != stored.last_id:
                self._record(rule, alerts, cursor, now, summary)
            if exhausted:
                return
            read_after = rows[-1].id

    def _touch_alerts(
        self, rule: TouchRule | SilenceRule, rows: Sequence[TouchRow], now: datetime
    ) -> list[NewAlert]:
        """Matching is pure; the people behind the few candidates are read, not everyone's."""
        candidates = touch_candidates(rule, rows, now)
        if not candidates:
            return []
        needs_stages = isinstance(rule, TouchRule) and rule.min_stage is not None
        people = self._alerts.people({c.person_id for c in candidates}, with_stages=needs_stages)
        previous = None
        if isinstance(rule, SilenceRule):
            candidates = [c for c in candidates if c.person_id in people and people[c.person_id].known]
            previous = self._alerts.previous_touches(candidates, rule.kinds) if candidates else {}
        occurrences = touch_occurrences(rule, candidates, people, now, previous)
        return [new_alert(o, people[o.person_id], self._settings.links) for o in occurrences]

    def _evaluate_sla(
        self, rule: SlaRule, now: datetime, frontier: Frontier | None, summary: RunSummary
    ) -> None:
        """New MQL events are found by the id cursor; those still inside their SLA window are found
        again each run by instant (index (stage, entered_at)) until their deadline has passed, so an
        MQL waiting for its deadline never holds the cursor back."""
        stored = self._alerts.cursor(rule.name)
        cursor = stored.last_id if stored is not None else 0
        spellings = self._alerts.stage_spellings(rule.stage)
        clock = self._sla_clocks[rule.name]
        read_after, blocked = cursor, False
        while frontier is not None:
            mqls = self._alerts.mqls_after(read_after, frontier.id, spellings, self._settings.page_size)
            summary.pages += 1
            exhausted = len(mqls) < self._settings.page_size
            alerts, _ = self._sla_alerts(rule, mqls, spellings, now, clock)
            if not blocked:
                moved = next_cursor(
                    cursor,
                    [(m.id, m.recorded_at) for m in mqls],
                    undecided=set(),
                    horizon=now - self._settings.lag,
                    frontier=frontier,
                    exhausted=exhausted,
                )
                blocked = bool(mqls) and moved < mqls[-1].id
                cursor = moved
            if alerts or (stored is not None and cursor != stored.last_id):
                self._record(rule, alerts, cursor, now, summary)
            if exhausted:
                break
            read_after = mqls[-1].id
        # Deadlines that passed since the last run (never older than the rule's max age).
        last = stored.evaluated_at if stored is not None else now
        since = max(last, now - rule.max_age) - rule.grace - self._settings.lag
        window = self._alerts.mqls_entered_since(
            clock.earliest_due_at_or_after(since, rule.within), spellings
        )
        summary.pages += 1
        alerts, waiting = self._sla_alerts(rule, window, spellings, now, clock)
        summary.add(f"rule.{rule.name}.waiting", waiting)
        # Recorded even when nothing fired: the instant is where the next run's window starts.
        self._record(rule, alerts, cursor, now, summary)

    def _sla_alerts(
        self,
        rule: SlaRule,
        mqls: Sequence[MqlRow],
        spellings: Sequence[str],
        now: datetime,
        clock: SlaClock,
    ) -> tuple[list[NewAlert], int]:
        """The alerts of MQLs whose deadline has passed uncontacted, and how many still wait."""
        if not mqls:
            return [], 0
        first = self._alerts.first_entries({m.person_id for m in mqls}, spellings)
        contacts = self._alerts.first_contacts(mqls, rule.activity_kinds, rule.initiator)
        decisions = sla_decisions(rule, mqls, first, contacts, now, clock)
        fired = [d.occurrence for d in decisions if d.occurrence is not None]
        people = self._alerts.people({o.person_id for o in fired}) if fired else {}
        waiting = sum(1 for d in decisions if d.status == "waiting")
        return [
            new_alert(o, people[o.person_id], self._settings.links) for o in fired if o.person_id in people
        ], waiting

    def _record(
        self, rule: Rule, alerts: Sequence[NewAlert], cursor: int, now: datetime, summary: RunSummary
    ) -> None:
        if self._settings.dry_run:
            if alerts:
                key = f"alerts fire (rule {rule.name}, new or already fired)"
                summary.planned[key] = summary.planned.get(key, 0) + len(alerts)
                summary.samples.extend(a.what for a in alerts[: max(0, 5 - len(summary.samples))])
            return
        fired = self._alerts.record(rule.name, alerts, cursor, now)
        summary.add("alerts.fired", fired)
        summary.add(f"rule.{rule.name}", fired)

    # --- deliver ----------------------------------------------------------------------------

    def _task_leg(self, summary: RunSummary, stop: StopSignal) -> None:
        after = 0
        while not stop.is_set():
            batch = self._alerts.pending(
                Channel.SALESFORCE_TASK, after_id=after, limit=self._settings.task.batch_size
            )
            if not batch:
                return
            after = batch[-1].id
            summary.pages += 1
            if self._settings.dry_run:
                summary.planned["salesforce Task upsert"] = summary.planned.get(
                    "salesforce Task upsert", 0
                ) + len(batch)
                continue
            try:
                outcomes = self._tasks.deliver(batch, self._clock().date())
            except RetryableError as exc:
                # Salesforce is unreachable beyond the connector's retries: try again next run.
                self._mark(
                    Channel.SALESFORCE_TASK, [self._transient(a, "salesforce", exc) for a in batch], summary
                )
                return
            self._mark(Channel.SALESFORCE_TASK, outcomes, summary)

    def _webhook_leg(self, summary: RunSummary, stop: StopSignal) -> None:
        after = 0
        while not stop.is_set():
            batch = self._alerts.pending(Channel.WEBHOOK, after_id=after, limit=100)
            if not batch:
                return
            after = batch[-1].id
            summary.pages += 1
            if self._settings.dry_run:
                summary.planned["webhook post"] = summary.planned.get("webhook post", 0) + len(batch)
                continue
            for alert in batch:
                if stop.is_set():
                    return
                outcome = self._post(alert)
                # One transaction per post: a crash repeats at most the post in flight.
                self._mark(Channel.WEBHOOK, [outcome], summary)
                if outcome.state == PENDING:
                    return  # the receiver is down: the rest wait for the next run

    def _post(self, alert: StoredAlert) -> DeliveryOutcome:
        if self._webhook is None:
            message = "no webhook is configured (flows.alerts.webhook) but the rule notifies it"
            return DeliveryOutcome(
                alert.id,
                FAILED,
                error=message,
                issue=_webhook_issue(alert, IssueCategory.VALIDATION, message),
            )
        try:
            self._webhook.send(webhook_payload(alert))
        except WebhookRejected as exc:
            return DeliveryOutcome(
                alert.id, FAILED, error=str(exc), issue=_webhook_issue(alert, exc.category, str(exc))
            )
        except RetryableError as exc:
            return self._transient(alert, "webhook", exc)
        return DeliveryOutcome(alert.id, SENT)

    def _transient(self, alert: StoredAlert, system: str, error: RetryableError) -> DeliveryOutcome:
        """Pending again, or failed once the alert has been tried in `delivery_attempts` runs."""
        message = f"{error.message} (attempt {alert.attempts + 1} of {self._settings.delivery_attempts})"
        if alert.attempts + 1 < self._settings.delivery_attempts:
            return DeliveryOutcome(alert.id, PENDING, error=message)
        category = IssueCategory.RATE_LIMIT if error.retry_after is not None else IssueCategory.OTHER
        text = f"{message}; given up — syncd does not send this alert again"
        if system == "webhook":
            return DeliveryOutcome(alert.id, FAILED, error=text, issue=_webhook_issue(alert, category, text))
        issue = Quarantine(system, "Task", alert.key, category, _about(alert, text))
        return DeliveryOutcome(alert.id, FAILED, error=text, issue=issue)

    def _mark(self, channel: Channel, outcomes: Sequence[DeliveryOutcome], summary: RunSummary) -> None:
        system = "salesforce" if channel is Channel.SALESFORCE_TASK else "webhook"
        for outcome in outcomes:
            summary.add(f"{system}.{outcome.state}")
            if outcome.salesforce_id:
                summary.add(f"{system}.{'created' if outcome.created else 'updated'}")
        quarantined = sum(1 for o in outcomes if o.issue is not None)
        summary.add(f"{system}.quarantined", quarantined)
        summary.add("quarantined", quarantined)
        self._alerts.mark(channel, outcomes, summary.run_id or 0, self._clock())


def _about(alert: StoredAlert, message: str) -> str:
    return f"alert {alert.rule} for {alert.detail.get('email', f'person {alert.person_id}')}: {message}"


def _webhook_issue(alert: StoredAlert, category: IssueCategory, message: str) -> Quarantine:
    return Quarantine("webhook", "post", alert.key, category, _about(alert, message))
