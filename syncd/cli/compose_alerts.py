"""Wiring the alerts flow from its configuration: rules, links, the Task settings and the webhook client."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx

from syncd.alerts.flow import AlertFlow, AlertSettings
from syncd.alerts.render import LinkSettings, TaskSettings
from syncd.alerts.rules import Channel, Rule, SilenceRule, SlaRule, TouchRule
from syncd.alerts.webhook import WebhookSender
from syncd.cli.compose import Runtime
from syncd.config.alerts import AlertRuleConfig, BusinessHoursConfig
from syncd.config.flows import AlertsFlowConfig
from syncd.connector import Connector
from syncd.errors import ConfigError
from syncd.reports.business_hours import BusinessHours

_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def business_hours(config: BusinessHoursConfig) -> BusinessHours:
    return BusinessHours(
        timezone=config.timezone,
        opens=config.opening,
        closes=config.closing,
        weekdays=frozenset(_WEEKDAYS[d] for d in config.weekdays),
        holidays=frozenset(config.holidays),
    )


def rule_from_config(rule: AlertRuleConfig, hours: BusinessHoursConfig) -> Rule:
    notify = frozenset(Channel(c) for c in rule.notify)
    max_age = timedelta(hours=rule.max_age_hours)
    if rule.kind in ("form_submission", "page_view"):
        return TouchRule(
            name=rule.name,
            kind=rule.kind,
            notify=notify,
            forms=frozenset(f.strip().casefold() for f in rule.forms or ()),
            url=rule.url.strip() if rule.url else None,
            min_stage=rule.min_stage,
            max_age=max_age,
        )
    if rule.kind == "returning_after_silence":
        assert rule.silence_days is not None
        silence = SilenceRule(
            name=rule.name, notify=notify, silence=timedelta(days=rule.silence_days), max_age=max_age
        )
        return replace(silence, kinds=_names(rule.kinds)) if rule.kinds else silence
    assert rule.hours is not None
    sla = SlaRule(
        name=rule.name,
        notify=notify,
        within=timedelta(hours=rule.hours),
        business_hours=business_hours(hours) if rule.clock == "business" else None,
        grace=timedelta(minutes=rule.grace_minutes or 0),
        max_age=max_age,
    )
    if rule.stage:
        sla = replace(sla, stage=rule.stage.strip())
    if rule.activity_kinds:
        sla = replace(sla, activity_kinds=_names(rule.activity_kinds))
    return sla


def _names(names: list[str]) -> frozenset[str]:
    return frozenset(n.strip() for n in names)


def link_settings(flow: AlertsFlowConfig) -> LinkSettings:
    links = flow.links
    return LinkSettings(
        salesforce_url=links.salesforce_url,
        hubspot_portal_id=links.hubspot_portal_id,
        hubspot_ui_domain=links.hubspot_ui_domain,
        prefer=links.prefer,
    )


def alert_settings(flow: AlertsFlowConfig, *, dry_run: bool) -> AlertSettings:
    return AlertSettings(
        rules=tuple(rule_from_config(r, flow.business_hours) for r in flow.rules),
        links=link_settings(flow),
        task=TaskSettings(
            key_field=flow.task.key_field,
            status=flow.task.status,
            due_in_days=flow.task.due_in_days,
            batch_size=flow.task.batch_size,
        ),
        delivery_attempts=flow.delivery_attempts,
        dry_run=dry_run,
    )


def require_task_fields(salesforce: Connector, settings: AlertSettings) -> None:
    """Refuse an org whose Task lacks the external-id field alert Tasks are keyed by (one describe call,
    only when a rule asks for Tasks)."""
    if not any(Channel.SALESFORCE_TASK in rule.notify for rule in settings.rules):
        return
    key_field = settings.task.key_field
    if key_field not in salesforce.describe("Task").fields:
        raise ConfigError(
            [f"flows.alerts.task.key_field: Salesforce Task has no field {key_field}"],
            hint=f"create a Text(40) External ID, Unique field {key_field} on Task (the engagements flow "
            "keys its Tasks by it too), or set task.key_field to one that exists",
        )


def alert_flow(
    runtime: Runtime,
    flow: AlertsFlowConfig,
    *,
    dry_run: bool = False,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    webhook_client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> AlertFlow:
    """The alerts flow, its Task key field checked against the org when a rule creates Tasks."""
    settings = alert_settings(flow, dry_run=dry_run)
    require_task_fields(runtime.salesforce, settings)
    if settings.links.salesforce_url is None:
        # Without a configured URL, records open on the org's own instance: every alert names a link.
        links = replace(settings.links, salesforce_url=runtime.salesforce.instance_url)
        settings = replace(settings, links=links)
    sender = None
    if flow.webhook is not None:
        client = webhook_client or httpx.Client(timeout=flow.webhook.timeout_seconds, follow_redirects=False)
        sender = WebhookSender(flow.webhook.url.get_secret_value(), client, sleep=sleep)
    return AlertFlow(
        name="alerts",
        salesforce=runtime.salesforce,
        store=runtime.store,
        clock=clock,
        settings=settings,
        webhook=sender,
    )
