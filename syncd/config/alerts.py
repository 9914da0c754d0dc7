"""The `flows.alerts` settings: alert rules, where alerts go, how they link, and the business clock.

A rule is one mapping with a `kind`; keys that belong to another kind are reported at their own
line instead of being silently ignored. Checks that span several keys (a rule notifying a webhook
that is not configured, two rules with one name) are reported at the rule or at `rules`.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from syncd.config.base import Section

RuleKind = Literal["form_submission", "page_view", "returning_after_silence", "mql_not_contacted"]
Channel = Literal["salesforce_task", "webhook"]
Stage = Literal["subscriber", "lead", "mql", "sql", "opportunity", "customer"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_WORKING_WEEK: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")

# Which optional keys each kind of rule reads; the others are errors on that kind.
RULE_KEYS: dict[str, frozenset[str]] = {
    "form_submission": frozenset({"forms", "url", "min_stage"}),
    "page_view": frozenset({"url", "min_stage"}),
    "returning_after_silence": frozenset({"silence_days", "kinds"}),
    "mql_not_contacted": frozenset({"hours", "clock", "stage", "activity_kinds", "grace_minutes"}),
}
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "page_view": ("url",),
    "returning_after_silence": ("silence_days",),
    "mql_not_contacted": ("hours",),
}
_KIND_SPECIFIC = sorted(set().union(*RULE_KEYS.values()))
_RULE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,34}")
_HH_MM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


class AlertRuleConfig(Section):
    """One rule. `max_age_hours` keeps history loaded late (a backfill) from alerting anyone."""

    name: str
    kind: RuleKind
    notify: list[Channel]
    max_age_hours: float = Field(default=72, gt=0)
    # form_submission / page_view
    forms: list[str] | None = None
    url: str | None = None
    min_stage: Stage | None = None
    # returning_after_silence
    silence_days: float | None = Field(default=None, gt=0)
    kinds: list[str] | None = None
    # mql_not_contacted
    hours: float | None = Field(default=None, ge=0)
    clock: Literal["calendar", "business"] | None = None
    stage: str | None = None
    activity_kinds: list[str] | None = None
    grace_minutes: float | None = Field(default=None, ge=0)

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not _RULE_NAME.fullmatch(value):
            raise PydanticCustomError(
                "rule_name",
                "'{value}' is not a rule name — use 1 to 35 lower-case letters, digits, - or _ "
                "(it keys the rule's progress: renaming a rule starts it afresh)",
                {"value": value},
            )
        return value

    @field_validator("notify")
    @classmethod
    def _once_each(cls, value: list[str]) -> list[str]:
        if not value:
            raise PydanticCustomError(
                "notify_empty", "lists no channel — name salesforce_task, webhook or both"
            )
        if len(set(value)) != len(value):
            raise PydanticCustomError("notify_twice", "names a channel twice — list each channel once")
        return value

    @field_validator(*_KIND_SPECIFIC)
    @classmethod
    def _belongs_to_kind(cls, value: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("kind")
        if value is not None and kind is not None and info.field_name not in RULE_KEYS[kind]:
            allowed = ", ".join(sorted(RULE_KEYS[kind])) or "none"
            raise PydanticCustomError(
                "not_for_kind",
                "does not apply to a {kind} rule — remove it (keys of this kind: {allowed})",
                {"kind": kind, "allowed": allowed},
            )
        return value

    @field_validator("forms", "kinds", "activity_kinds")
    @classmethod
    def _names(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or any(not item.strip() for item in value)):
            raise PydanticCustomError("empty_names", "must list at least one non-empty name — or remove it")
        return value

    @field_validator("url", "stage")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise PydanticCustomError("blank", "must not be empty — fill it in or remove it")
        return value

    @model_validator(mode="after")
    def _required_for_kind(self) -> AlertRuleConfig:
        missing = [key for key in REQUIRED_KEYS.get(self.kind, ()) if getattr(self, key) is None]
        if missing:
            raise PydanticCustomError(
                "rule_key_missing",
                "rule '{name}' of kind {kind} needs {keys} — add it (see config.example.yaml)",
                {"name": self.name, "kind": self.kind, "keys": " and ".join(missing)},
            )
        return self


class WebhookConfig(Section):
    """A Slack-compatible incoming webhook. The URL holds its credential: it must be a reference."""

    url: SecretStr
    timeout_seconds: float = Field(default=10, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _https(cls, value: SecretStr) -> SecretStr:
        try:
            parts = urlsplit(value.get_secret_value())
            host = parts.hostname
        except ValueError:
            host = None
        if not host or not (parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK_HOSTS)):
            # Never echo the value: the URL is the secret.
            raise PydanticCustomError(
                "webhook_url",
                "the webhook URL it names is not an https:// URL — point the reference at the URL "
                "your chat tool issued (plain http only to localhost)",
            )
        return value


class AlertTaskConfig(Section):
    """How an alert becomes a Salesforce Task for the person's owner."""

    # The Task external-id field the engagements flow upserts by (Text(40), External ID, Unique).
    key_field: str = Field(default="HubSpot_Engagement_Id__c", min_length=1)
    status: str = Field(default="Not Started", min_length=1)
    due_in_days: int = Field(default=0, ge=0)
    batch_size: int = Field(default=200, ge=1, le=200)


class AlertLinksConfig(Section):
    """Where an alert's link points: the Salesforce record and/or the HubSpot contact."""

    # The org's URL, e.g. https://acme.lightning.force.com: a record opens at <url>/<id>.
    salesforce_url: str | None = None
    hubspot_portal_id: int | None = Field(default=None, ge=1)
    hubspot_ui_domain: str = "app.hubspot.com"
    prefer: Literal["salesforce", "hubspot"] = "salesforce"

    @field_validator("salesforce_url")
    @classmethod
    def _org_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise PydanticCustomError(
                "org_url",
                "expected the org's https:// URL, got '{value}' — e.g. https://acme.lightning.force.com",
                {"value": value},
            )
        return value.rstrip("/")

    @field_validator("hubspot_ui_domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}", value):
            raise PydanticCustomError(
                "ui_domain",
                "expected a host name such as app.hubspot.com or app-eu1.hubspot.com, got '{value}'",
                {"value": value},
            )
        return value


class BusinessHoursConfig(Section):
    """Working days and hours for rules on the business clock (the SLA report's definition)."""

    timezone: str = "UTC"
    weekdays: list[Weekday] = Field(default_factory=lambda: list(_WORKING_WEEK), min_length=1)
    opens: str = "09:00"
    closes: str = "17:00"
    holidays: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "timezone",
                "unknown timezone '{value}' — use an IANA name such as Europe/Berlin or America/New_York",
                {"value": value},
            ) from None
        return value

    @field_validator("opens", "closes", mode="before")
    @classmethod
    def _clock_time(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted 09:00 as the number 540 (sexagesimal).
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            return f"{value // 60:02d}:{value % 60:02d}"
        if not isinstance(value, str) or not _HH_MM.fullmatch(value.strip()):
            raise PydanticCustomError(
                "clock_time",
                "expected a time of day as HH:MM, got '{value}' — e.g. \"09:00\"",
                {"value": str(value)},
            )
        return value.strip()

    @model_validator(mode="after")
    def _opens_before_closes(self) -> BusinessHoursConfig:
        if self.opening >= self.closing:
            raise PydanticCustomError(
                "hours_order",
                "business hours open at {opens} but close at {closes} — "
                "opening must come first on the same day",
                {"opens": self.opens, "closes": self.closes},
            )
        return self

    @property
    def opening(self) -> time:
        return time.fromisoformat(self.opens.zfill(5))

    @property
    def closing(self) -> time:
        return time.fromisoformat(self.closes.zfill(5))


def unique_rule_names(rules: list[AlertRuleConfig]) -> list[AlertRuleConfig]:
    """Rule names key each rule's progress in the store: two rules cannot share one."""
    names = [rule.name for rule in rules]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise PydanticCustomError(
            "rule_twice",
            "rule names must be unique, {names} appear more than once — rename one",
            {"names": ", ".join(repr(n) for n in twice)},
        )
    return rules


def require_webhook(rules: list[AlertRuleConfig], webhook: WebhookConfig | None) -> None:
    """A rule may notify the webhook only when one is configured."""
    wanting = [rule.name for rule in rules if "webhook" in rule.notify]
    if webhook is None and wanting:
        raise PydanticCustomError(
            "webhook_missing",
            "rules {names} notify webhook but flows.alerts.webhook is not set — add webhook.url "
            "(e.g. url: ${ALERTS_WEBHOOK_URL}) or drop webhook from their notify",
            {"names": ", ".join(repr(n) for n in wanting)},
        )
