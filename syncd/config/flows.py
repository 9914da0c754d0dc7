"""The `flows:` section: which flows run, how often, and each flow's own settings.

One class per flow, so a key that belongs to another flow is reported as unknown instead of being
silently accepted. Flows run in the order of FLOW_NAMES: the contacts flow links the people every
other flow attaches its records to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from syncd.config.alerts import (
    AlertLinksConfig,
    AlertRuleConfig,
    AlertTaskConfig,
    BusinessHoursConfig,
    WebhookConfig,
    require_webhook,
    unique_rule_names,
)
from syncd.config.base import Section, existing_file


class FlowConfig(Section):
    """What every flow has: whether it runs and how often."""

    enabled: bool = True
    interval_seconds: int = Field(default=60, ge=10)


class MappedFlowConfig(FlowConfig):
    """A record flow: fields merged per a YAML mapping."""

    # The field mapping; None means the mapping shipped with syncd for this flow.
    mapping: Path | None = None

    _mapping_file_exists = field_validator("mapping")(existing_file)


class ContactsFlowConfig(MappedFlowConfig):
    """HubSpot contacts <-> Salesforce Leads and Contacts."""


class DealsFlowConfig(MappedFlowConfig):
    """HubSpot deals <-> Salesforce Opportunities."""

    # The Role of contact roles syncd adds in Salesforce for contacts associated with a deal in HubSpot
    # (HubSpot has no roles); None leaves it blank. Roles set in Salesforce are kept.
    contact_role: str | None = None


class CampaignsFlowConfig(FlowConfig):
    """Salesforce Campaigns and members, HubSpot campaigns and the cost file into the store."""

    # Responded campaign members become `campaign_response` touches with their campaign's channel.
    response_touches: bool = True
    # A CSV of costs (channel or campaign, period_start, period_end, amount, currency); relative
    # paths start at the config file's folder. Imported again whenever its content changes.
    cost_file: Path | None = None
    # The currency of Salesforce campaign costs, for a single-currency org (e.g. EUR).
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")

    _cost_file_exists = field_validator("cost_file")(existing_file)


TouchKind = Literal[
    "email_send", "email_delivered", "email_open", "email_click", "email_bounce", "unsubscribe",
    "page_view", "form_submission", "call", "meeting", "note", "sales_email",
]  # fmt: skip


class EngagementTasksConfig(Section):
    """How touches become Salesforce Tasks on the Lead/Contact."""

    # A Text(40) External ID, Unique field on Task: Tasks are upserted by it, so a replay never duplicates.
    key_field: str = Field(default="HubSpot_Engagement_Id__c", min_length=1)
    # Kinds that never become Tasks (sends, deliveries and opens say little to sales by default).
    exclude_kinds: list[TouchKind] = Field(default=["email_send", "email_delivered", "email_open"])
    # Kinds summarised in ONE Task per person and day instead of a Task each (spares API calls).
    digest_kinds: list[TouchKind] = Field(default_factory=list)


class EngagementsFlowConfig(FlowConfig):
    """HubSpot marketing touches into the store and onto Salesforce as Tasks."""

    tasks: EngagementTasksConfig = EngagementTasksConfig()

    # Engagements reps log in HubSpot that become touches (and Tasks), and the channel of those touches.
    logged_objects: list[Literal["meetings", "calls", "notes", "emails"]] = Field(
        default=["meetings", "calls", "notes"]
    )
    logged_channel: str = Field(default="sales", min_length=1)


ActivityKind = Literal["call", "email", "meeting", "task"]


class ActivitiesFlowConfig(FlowConfig):
    """Salesforce sales activities into the store and onto HubSpot as engagements."""

    # Salesforce users (emails or ids) whose Tasks and Events are automation, not a rep: the SLA skips them.
    automation_users: list[str] = Field(default_factory=list)
    # Task subtypes logged by the marketing platform (list emails): stored as automation.
    automated_subtypes: list[str] = Field(default_factory=lambda: ["ListEmail"])
    # Kinds stored; other completed Tasks are "task".
    store_kinds: list[ActivityKind] = Field(default=["call", "email", "meeting", "task"])
    # Kinds written to HubSpot as engagements (task becomes a note), and whether automated sends are.
    push_kinds: list[ActivityKind] = Field(default=["call", "email", "meeting"])
    push_automated: bool = False
    # Salesforce call results -> HubSpot call outcome ids (hs_call_disposition); others go in the notes.
    call_outcomes: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _pushed_kinds_are_stored(self) -> ActivitiesFlowConfig:
        missing = sorted(set(self.push_kinds) - set(self.store_kinds))
        if missing:
            raise ValueError(f"push_kinds {missing} are not in store_kinds — add them there or drop them")
        return self


class AlertsFlowConfig(FlowConfig):
    """Alert rules evaluated over the store: Salesforce Tasks for owners and/or webhook posts."""

    webhook: WebhookConfig | None = None
    task: AlertTaskConfig = AlertTaskConfig()
    links: AlertLinksConfig = AlertLinksConfig()
    business_hours: BusinessHoursConfig = BusinessHoursConfig()
    # Cycles a delivery that keeps failing transiently is tried in before it is marked failed.
    delivery_attempts: int = Field(default=5, ge=1)
    rules: list[AlertRuleConfig] = Field(default_factory=list)

    _rule_names_unique = field_validator("rules")(unique_rule_names)

    @model_validator(mode="after")
    def _channels_configured(self) -> AlertsFlowConfig:
        require_webhook(self.rules, self.webhook)
        return self


class FlowsConfig(Section):
    """Every configurable flow; a flow left out of the file is not configured (and does not run)."""

    contacts: ContactsFlowConfig | None = None
    deals: DealsFlowConfig | None = None
    campaigns: CampaignsFlowConfig | None = None
    engagements: EngagementsFlowConfig | None = None
    activities: ActivitiesFlowConfig | None = None
    alerts: AlertsFlowConfig | None = None

    def configured(self) -> dict[str, FlowConfig]:
        """The flows present in the file, enabled or not, in the order they run in."""
        found = {name: getattr(self, name) for name in FLOW_NAMES}
        return {name: flow for name, flow in found.items() if flow is not None}


FLOW_NAMES: tuple[str, ...] = tuple(FlowsConfig.model_fields)
