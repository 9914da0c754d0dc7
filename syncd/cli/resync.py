"""`syncd resync EMAIL...`: sync these people now, from both systems, as on their first sync."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import click

from syncd.cli.compose import open_runtime
from syncd.cli.flows import build_flows, selected_flows
from syncd.cli.sync import EXIT_FLOW_FAILED, print_summary
from syncd.config import load_config
from syncd.engine.contacts import ContactFlow


@click.command()
@click.argument("emails", nargs=-1, required=True)
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path, dir_okay=False))
def resync(emails: tuple[str, ...], config_path: Path) -> None:
    """Sync the people with these EMAILS now, whatever the cursors say.

    Their last-synced values are forgotten first, so every mapped field is decided by its rule as
    on a first sync (two_way: the newer side wins). Exit 1 when the run failed."""
    config = load_config(config_path, env=os.environ)
    with open_runtime(config) as runtime:
        flow = build_flows(runtime, selected_flows(config, "contacts"))["contacts"]
        assert isinstance(flow, ContactFlow)
        summary = flow.resync(list(emails), threading.Event())
    print_summary("contacts", summary, dry_run=False)
    if summary.status != "succeeded":
        raise SystemExit(EXIT_FLOW_FAILED)
