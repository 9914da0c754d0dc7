"""Building the configured flows for `syncd sync` and `syncd run`.

Each flow the configuration accepts has one builder in BUILDERS (a test keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from syncd.cli.compose import Runtime, contact_flow, engagement_flow
from syncd.cli.compose_activities import activity_flow, activity_settings, logged_engagements, logged_settings
from syncd.cli.compose_alerts import alert_flow
from syncd.cli.compose_campaigns import campaign_flow, campaign_settings, channel_taxonomy
from syncd.cli.compose_deals import deal_flow, deal_settings
from syncd.config import Config, FlowConfig, MappedFlowConfig
from syncd.config.flows import (
    ActivitiesFlowConfig,
    AlertsFlowConfig,
    CampaignsFlowConfig,
    DealsFlowConfig,
    EngagementsFlowConfig,
)
from syncd.core.lifecycle import LifecycleSettings
from syncd.engine import Flow
from syncd.engine.contacts import FlowSettings
from syncd.engine.engagements import EngagementSettings, TaskSettings, Taxonomy
from syncd.errors import ConfigError
from syncd.mapping.defaults import default_mapping

FlowBuilder = Callable[[Runtime, str, FlowConfig, bool], Flow]
"""(runtime, flow name, its configuration, dry run) -> the flow, validated against the live systems."""


def _contacts(runtime: Runtime, name: str, flow: FlowConfig, dry_run: bool) -> Flow:
    assert isinstance(flow, MappedFlowConfig)
    mapping = flow.mapping or default_mapping(name)
    lifecycle = runtime.config.lifecycle.settings() if runtime.config is not None else LifecycleSettings()
    settings = FlowSettings(dry_run=dry_run, lifecycle=lifecycle)
    return contact_flow(runtime, mapping, settings=settings, clock=runtime.clock)


def _engagements(runtime: Runtime, name: str, flow: FlowConfig, dry_run: bool) -> Flow:
    assert isinstance(flow, EngagementsFlowConfig)
    taxonomy = Taxonomy(channels=channel_taxonomy(runtime))
    logged = logged_engagements(runtime, logged_settings(flow), clock=runtime.clock)
    tasks = TaskSettings(
        key_field=flow.tasks.key_field,
        exclude=frozenset(flow.tasks.exclude_kinds),
        digest_kinds=frozenset(flow.tasks.digest_kinds),
    )
    settings = EngagementSettings(taxonomy=taxonomy, tasks=tasks, dry_run=dry_run)
    return engagement_flow(runtime, settings=settings, logged=logged, clock=runtime.clock)


def _activities(runtime: Runtime, name: str, flow: FlowConfig, dry_run: bool) -> Flow:
    assert isinstance(flow, ActivitiesFlowConfig)
    return activity_flow(runtime, settings=activity_settings(flow, dry_run=dry_run), clock=runtime.clock)


def _campaigns(runtime: Runtime, name: str, flow: FlowConfig, dry_run: bool) -> Flow:
    assert isinstance(flow, CampaignsFlowConfig)
    return campaign_flow(runtime, campaign_settings(runtime, flow, dry_run=dry_run), clock=runtime.clock)


def _deals(runtime: Runtime, name: str, flow: FlowConfig, dry_run: bool) -> Flow:
    assert isinstance(flow, DealsFlowConfig)
    mapping = flow.mapping or default_mapping(name)
    return deal_flow(runtime, mapping, settings=deal_settings(flow, dry_run=dry_run), clock=runtime.clock)


def _alerts(runtime: Runtime, name: str, flow: FlowConfig, dry_run: bool) -> Flow:
    assert isinstance(flow, AlertsFlowConfig)
    return alert_flow(runtime, flow, dry_run=dry_run, clock=runtime.clock)


BUILDERS: dict[str, FlowBuilder] = {
    "contacts": _contacts,
    "engagements": _engagements,
    "activities": _activities,
    "campaigns": _campaigns,
    "alerts": _alerts,
    "deals": _deals,
}


def selected_flows(config: Config, only: str | None) -> dict[str, FlowConfig]:
    enabled = config.enabled_flows()
    if only is not None:
        configured = config.flows.configured()
        if only not in configured:
            raise ConfigError(
                [f"flows.{only}: no such flow in the configuration"], hint="add it under flows:"
            )
        enabled = {only: configured[only]}
    if not enabled:
        raise ConfigError(["flows: no flow is enabled"], hint="enable the contacts flow under flows:")
    return enabled


def build_flows(
    runtime: Runtime, flows: Mapping[str, FlowConfig], *, dry_run: bool = False
) -> dict[str, Flow]:
    """Every selected flow, validated against the live schemas (all problems at once)."""
    built: dict[str, Flow] = {}
    problems: list[str] = []
    for name, flow in flows.items():
        try:
            built[name] = BUILDERS[name](runtime, name, flow, dry_run)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems, hint="fix the mapping files, then run `syncd check`")
    return built
