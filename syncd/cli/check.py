"""`syncd check`: validate the configuration and report every problem at once."""

from __future__ import annotations

import os
from pathlib import Path

import click

from syncd.config import Config, load_config

CONFIG_OPTION_HELP = "The syncd YAML configuration file."


@click.command()
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help=CONFIG_OPTION_HELP,
)
def check(config_path: Path) -> None:
    """Validate the configuration; list every problem (exit 2) or print a one-line summary (exit 0)."""
    config = load_config(config_path, env=os.environ)
    click.echo(f"{config_path}: valid — {summary(config)}")


def summary(config: Config) -> str:
    enabled = config.enabled_flows()
    flows = ", ".join(f"{name} every {flow.interval_seconds}s" for name, flow in enabled.items())
    disabled = len(config.flows) - len(enabled)
    flow_text = f"flows: {flows}" if flows else "no flows enabled"
    if disabled:
        flow_text += f" ({disabled} disabled)"
    return f"store {config.store.display_url}; salesforce auth {config.salesforce.auth.flow}; {flow_text}"
