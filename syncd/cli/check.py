"""`syncd check`: validate the configuration and report every problem at once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import click

from syncd.cli.compose import (
    Runtime,
    hubspot_from_config,
    require_task_key,
    salesforce_from_config,
    validated_mapping,
)
from syncd.cli.compose_activities import activity_settings, require_activity_fields
from syncd.cli.compose_alerts import alert_settings, require_task_fields
from syncd.cli.compose_deals import validated_deal_mapping
from syncd.cli.flows import selected_flows
from syncd.config import Config, FlowConfig, MappedFlowConfig, load_config
from syncd.config.flows import ActivitiesFlowConfig, AlertsFlowConfig, EngagementsFlowConfig
from syncd.engine.engagements import EngagementSettings, TaskSettings
from syncd.errors import ConfigError
from syncd.mapping.defaults import default_mapping
from syncd.store.db import make_engine

CONFIG_OPTION_HELP = "The syncd YAML configuration file."


@click.command()
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help=CONFIG_OPTION_HELP,
)
@click.option(
    "--offline",
    is_flag=True,
    help="Check the files only; do not connect to HubSpot and Salesforce to validate the mappings.",
)
def check(config_path: Path, offline: bool) -> None:
    """Validate the configuration and, unless --offline, every enabled flow's mapping against the
    live schemas of both systems; list every problem (exit 2) or print a one-line summary (exit 0)."""
    config = load_config(config_path, env=os.environ)
    flows = selected_flows(config, None) if config.enabled_flows() else {}
    if flows and not offline:
        _check_mappings_live(config, flows)
        click.echo(f"{config_path}: valid — {summary(config)}; mappings fit the live schemas")
        return
    click.echo(f"{config_path}: valid — {summary(config)}")


def _check_mappings_live(config: Config, flows: Mapping[str, FlowConfig]) -> None:
    hubspot, salesforce = hubspot_from_config(config), salesforce_from_config(config)
    problems: list[str] = []
    try:
        for name, flow in flows.items():
            try:
                if name == "engagements":
                    assert isinstance(flow, EngagementsFlowConfig), name
                    tasks = TaskSettings(key_field=flow.tasks.key_field)
                    require_task_key(salesforce, EngagementSettings(tasks=tasks))
                elif name == "activities":
                    assert isinstance(flow, ActivitiesFlowConfig), name
                    # Only the two connectors are read: no store is opened.
                    runtime = Runtime(hubspot, salesforce, make_engine(config.store.url), config)
                    require_activity_fields(runtime, activity_settings(flow, dry_run=True))
                elif name == "campaigns":
                    continue  # reads standard Campaign fields only; its cost file is checked with the config
                elif name == "alerts":
                    assert isinstance(flow, AlertsFlowConfig), name
                    require_task_fields(salesforce, alert_settings(flow, dry_run=True))
                elif name == "deals":
                    assert isinstance(flow, MappedFlowConfig), name
                    validated_deal_mapping(hubspot, salesforce, flow.mapping or default_mapping(name))
                else:
                    assert isinstance(flow, MappedFlowConfig), name
                    validated_mapping(hubspot, salesforce, flow.mapping or default_mapping(name))
            except ConfigError as exc:
                problems.extend(exc.problems)
    finally:
        hubspot.close()
        salesforce.close()
    if problems:
        raise ConfigError(problems, hint="fix the mapping files (mappings/README.md explains each check)")


def summary(config: Config) -> str:
    enabled = config.enabled_flows()
    flows = ", ".join(f"{name} every {flow.interval_seconds}s" for name, flow in enabled.items())
    disabled = len(config.flows.configured()) - len(enabled)
    flow_text = f"flows: {flows}" if flows else "no flows enabled"
    if disabled:
        flow_text += f" ({disabled} disabled)"
    return f"store {config.store.display_url}; salesforce auth {config.salesforce.auth.flow}; {flow_text}"
