"""Building the configured flows for `syncd sync` and `syncd run`."""

from __future__ import annotations

from collections.abc import Mapping

from syncd.cli.compose import Runtime, contact_flow, engagement_flow
from syncd.config import Config, FlowConfig
from syncd.engine.contacts import ContactFlow, FlowSettings
from syncd.engine.engagements import EngagementFlow, EngagementSettings
from syncd.errors import ConfigError
from syncd.mapping.defaults import default_mapping

# Flows this release can run; the others are accepted by the configuration schema for forward
# compatibility, but enabling them is an error rather than a silent no-op.
BUILT_FLOWS = ("contacts", "engagements")


def selected_flows(config: Config, only: str | None) -> dict[str, FlowConfig]:
    enabled = config.enabled_flows()
    if only is not None:
        configured = {str(name): flow for name, flow in config.flows.items()}
        if only not in configured:
            raise ConfigError(
                [f"flows.{only}: no such flow in the configuration"], hint="add it under flows:"
            )
        enabled = {only: configured[only]}
    unbuilt = [name for name in enabled if name not in BUILT_FLOWS]
    if unbuilt:
        raise ConfigError(
            [f"flows.{name}: this release of syncd cannot run the {name} flow yet" for name in unbuilt],
            hint=f"disable it (enabled: false); flows available: {', '.join(BUILT_FLOWS)}",
        )
    if not enabled:
        raise ConfigError(["flows: no flow is enabled"], hint="enable the contacts flow under flows:")
    return enabled


def build_flows(
    runtime: Runtime, flows: Mapping[str, FlowConfig], *, dry_run: bool = False
) -> dict[str, ContactFlow | EngagementFlow]:
    """Every selected flow, its mapping validated against the live schemas (all problems at once)."""
    built: dict[str, ContactFlow | EngagementFlow] = {}
    problems: list[str] = []
    for name, flow in flows.items():
        try:
            if name == "engagements":
                # An event flow: no field mapping, its settings are the flow's defaults.
                built[name] = engagement_flow(runtime, settings=EngagementSettings(dry_run=dry_run))
                continue
            mapping = flow.mapping or default_mapping(name)
            built[name] = contact_flow(runtime, mapping, settings=FlowSettings(dry_run=dry_run))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems, hint="fix the mapping files, then run `syncd check`")
    return built
