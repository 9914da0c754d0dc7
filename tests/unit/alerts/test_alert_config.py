"""The `flows.alerts` settings: valid rules become domain rules; every mistake is named at its line."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest

from syncd.alerts.rules import Channel, SilenceRule, SlaRule, TouchRule
from syncd.cli.compose_alerts import alert_settings
from syncd.config import parse_config
from syncd.config.flows import AlertsFlowConfig
from syncd.errors import ConfigError

ENV = {
    "HUBSPOT_ACCESS_TOKEN": "pat-test",
    "SF_CLIENT_SECRET": "s3cret",
    "ALERTS_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/xyz",
}
HEAD = """\
hubspot:
  access_token: ${HUBSPOT_ACCESS_TOKEN}
salesforce:
  login_url: https://acme.my.salesforce.com
  auth:
    flow: client_credentials
    client_id: 3MVG9abc
    client_secret: ${SF_CLIENT_SECRET}
flows:
  alerts:
"""
# Line 11 onwards: the alerts section, indented four spaces.
GOOD = (
    HEAD
    + """\
    webhook:
      url: ${ALERTS_WEBHOOK_URL}
    links:
      salesforce_url: https://acme.lightning.force.com/
      hubspot_portal_id: 62515
    business_hours:
      timezone: Europe/Berlin
      weekdays: [mon, tue, wed, thu]
      opens: 08:30
      closes: "16:00"
      holidays: [2026-12-24]
    rules:
      - name: demo-request
        kind: form_submission
        forms: [Request a demo, 6f1c-form-id]
        notify: [salesforce_task, webhook]
      - name: pricing-by-mql
        kind: page_view
        url: "*/pricing*"
        min_stage: mql
        notify: [webhook]
      - name: back-after-silence
        kind: returning_after_silence
        silence_days: 30
        notify: [salesforce_task]
      - name: mql-not-contacted
        kind: mql_not_contacted
        hours: 4
        clock: business
        grace_minutes: 10
        max_age_hours: 24
        notify: [webhook, salesforce_task]
"""
)


def alerts_config(text: str, env: dict[str, str] | None = None) -> AlertsFlowConfig:
    config = parse_config(text, source="config.yaml", base_dir=Path("/nonexistent"), env=env or ENV)
    assert config.flows.alerts is not None
    return config.flows.alerts


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        alerts_config(text, env)
    return caught.value.problems


def test_the_example_rules_become_domain_rules() -> None:
    flow = alerts_config(GOOD)
    assert flow.webhook is not None
    assert flow.webhook.url.get_secret_value() == ENV["ALERTS_WEBHOOK_URL"]
    settings = alert_settings(flow, dry_run=False)
    demo, pricing, back, sla = settings.rules
    assert demo == TouchRule(
        "demo-request",
        "form_submission",
        frozenset({Channel.SALESFORCE_TASK, Channel.WEBHOOK}),
        forms=frozenset({"request a demo", "6f1c-form-id"}),
    )
    assert pricing == TouchRule(
        "pricing-by-mql", "page_view", frozenset({Channel.WEBHOOK}), url="*/pricing*", min_stage="mql"
    )
    assert isinstance(back, SilenceRule) and back.silence == timedelta(days=30)
    assert isinstance(sla, SlaRule)
    assert (sla.within, sla.grace, sla.max_age, sla.stage) == (
        timedelta(hours=4),
        timedelta(minutes=10),
        timedelta(hours=24),
        "mql",
    )
    assert sla.business_hours is not None
    assert sla.business_hours.timezone == "Europe/Berlin"
    assert sla.business_hours.weekdays == frozenset({0, 1, 2, 3})
    assert (sla.business_hours.opens, sla.business_hours.closes) == (time(8, 30), time(16, 0))
    assert sla.business_hours.holidays == frozenset({date(2026, 12, 24)})
    assert settings.links.salesforce_url == "https://acme.lightning.force.com"
    assert settings.links.hubspot_portal_id == 62515


def test_an_alerts_section_with_no_rules_is_valid() -> None:
    assert alerts_config(HEAD + "    enabled: true\n").rules == []


CASES = [
    pytest.param(
        GOOD.replace("${ALERTS_WEBHOOK_URL}", "https://hooks.slack.com/services/T0/B0/xyz"),
        "config.yaml:12:7 flows.alerts.webhook.url: secrets must not be written inline",
        id="webhook-url-inline",
    ),
    pytest.param(
        GOOD,
        "config.yaml:12:7 flows.alerts.webhook.url: environment variable ALERTS_WEBHOOK_URL is not set",
        id="webhook-url-unset",
    ),
    pytest.param(
        GOOD.replace("silence_days: 30", "silence_days: 30\n        url: '*/x'"),
        "config.yaml:35:9 flows.alerts.rules[2].url: does not apply to a returning_after_silence rule — "
        "remove it (keys of this kind: kinds, silence_days)",
        id="key-of-another-kind",
    ),
    pytest.param(
        GOOD.replace('        url: "*/pricing*"\n', ""),
        "config.yaml:27:9 flows.alerts.rules[1]: rule 'pricing-by-mql' of kind page_view needs url — add it",
        id="page-view-without-url",
    ),
    pytest.param(
        GOOD.replace("kind: returning_after_silence", "kind: returning"),
        "config.yaml:33:9 flows.alerts.rules[2].kind: must be one of 'form_submission', 'page_view', "
        "'returning_after_silence' or 'mql_not_contacted', got 'returning'",
        id="unknown-kind",
    ),
    pytest.param(
        GOOD.replace("min_stage: mql", "min_stage: hot"),
        "config.yaml:30:9 flows.alerts.rules[1].min_stage: must be one of",
        id="unknown-stage",
    ),
    pytest.param(
        GOOD.replace("notify: [salesforce_task]", "notify: [sms]"),
        "config.yaml:35:18 flows.alerts.rules[2].notify[0]: must be one of 'salesforce_task' or 'webhook'",
        id="unknown-channel",
    ),
    pytest.param(
        GOOD.replace("notify: [salesforce_task]", "notify: []"),
        "config.yaml:35:9 flows.alerts.rules[2].notify: lists no channel",
        id="no-channel",
    ),
    pytest.param(
        GOOD.replace("name: pricing-by-mql", "name: demo-request"),
        "config.yaml:22:5 flows.alerts.rules: rule names must be unique, "
        "'demo-request' appear more than once",
        id="duplicate-names",
    ),
    pytest.param(
        GOOD.replace("name: pricing-by-mql", "name: Pricing By MQL"),
        "config.yaml:27:9 flows.alerts.rules[1].name: 'Pricing By MQL' is not a rule name",
        id="bad-name",
    ),
    pytest.param(
        GOOD.replace("    webhook:\n      url: ${ALERTS_WEBHOOK_URL}\n", ""),
        "config.yaml:10:3 flows.alerts: rules 'demo-request', 'pricing-by-mql', 'mql-not-contacted' notify "
        "webhook but flows.alerts.webhook is not set",
        id="webhook-not-configured",
    ),
    pytest.param(
        GOOD.replace("hours: 4\n", "hours: -1\n"),
        "config.yaml:38:9 flows.alerts.rules[3].hours: must be at least 0.0, got -1",
        id="negative-hours",
    ),
    pytest.param(
        GOOD.replace("timezone: Europe/Berlin", "timezone: Berlin"),
        "config.yaml:17:7 flows.alerts.business_hours.timezone: unknown timezone 'Berlin'",
        id="unknown-timezone",
    ),
    pytest.param(
        GOOD.replace('closes: "16:00"', 'closes: "08:00"'),
        "config.yaml:16:5 flows.alerts.business_hours: business hours open at 08:30 but close at 08:00",
        id="closing-before-opening",
    ),
    pytest.param(
        GOOD.replace('closes: "16:00"', 'closes: "4pm"'),
        "config.yaml:20:7 flows.alerts.business_hours.closes: expected a time of day as HH:MM, got '4pm'",
        id="bad-time",
    ),
    pytest.param(
        GOOD.replace(
            "salesforce_url: https://acme.lightning.force.com/", "salesforce_url: acme.my.salesforce.com"
        ),
        "config.yaml:14:7 flows.alerts.links.salesforce_url: expected the org's https:// URL",
        id="org-url-not-https",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_each_mistake_is_named_at_its_line(text: str, expected: str) -> None:
    unset = "is not set" in expected
    found = problems(text, {k: v for k, v in ENV.items() if not (unset and k == "ALERTS_WEBHOOK_URL")})
    assert any(p.startswith(expected) for p in found), found


def test_every_mistake_is_listed_at_once() -> None:
    text = GOOD.replace("silence_days: 30", "silence_days: 0").replace("hours: 4\n", "hours: -1\n")
    found = problems(text)
    assert len(found) == 2, found


def test_the_commented_example_in_config_example_yaml_is_valid() -> None:
    lines = (
        (Path(__file__).resolve().parents[3] / "config.example.yaml").read_text(encoding="utf-8").splitlines()
    )
    start = next(i for i, line in enumerate(lines) if line.startswith("  # alerts:"))
    end = next(i for i, line in enumerate(lines) if i > start and not line.startswith("  #   "))
    block = "\n".join("  " + line[4:] for line in lines[start:end])
    flow = alerts_config(HEAD.removesuffix("  alerts:\n") + block + "\n")
    assert [rule.name for rule in flow.rules] == [
        "demo-request",
        "pricing-by-mql",
        "back-after-silence",
        "mql-not-contacted",
    ]
    assert flow.links.hubspot_portal_id == 1234567
