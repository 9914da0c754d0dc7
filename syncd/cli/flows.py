"""Building the configured flows for `syncd sync` and `syncd run`.

Each runnable flow has one builder in BUILDERS; a flow the configuration accepts but this release
cannot run is refused when enabled rather than silently skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from syncd.cli.compose import Runtime, contact_flow, engagement_flow
from syncd.config import Config, FlowConfig, MappedFlowConfig
from syncd.engine import Flow
from syncd.engine.contacts import FlowSettings
from syncd.engine.engagements import EngagementSettings
from syncd.errors import ConfigError
from syncd.mapping.defaults import default_mapping

FlowBuilder = Callable[[Runtime, str, FlowConfig, bool], Flow]
"""(runtime, flow name, its configuration, dry run) -> the flow, validated against the live systems."""


def _contacts(runtime: Runtime, name: str, flow: FlowConfig, dry_run: bool) -> Flow:
    assert isinstance(flow, MappedFlowConfig)
    mapping = flow.mapping or default_mapping(name)
    return contact_flow(runtime, mapping, settings=FlowSettings(dry_run=dry_run))


def _engagements(runtime: Runtime, name: str, flow: FlowConfig, dry_run: bool) -> Flow:
    return engagement_flow(runtime, settings=EngagementSettings(dry_run=dry_run))


BUILDERS: dict[str, FlowBuilder] = {
    "contacts": _contacts,
    "engagements": _engagements,
}
BUILT_FLOWS = tuple(BUILDERS)


def selected_flows(config: Config, only: str | None) -> dict[str, FlowConfig]:
    enabled = config.enabled_flows()
    if only is not None:
        configured = config.flows.configured()
        if only not in configured:
            raise ConfigError(
                [f"flows.{only}: no such flow in the configuration"], hint="add it under flows:"
            )
        enabled = {only: configured[only]}
    unbuilt = [name for name in enabled if name not in BUILDERS]
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
