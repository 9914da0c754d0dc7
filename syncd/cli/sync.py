"""`syncd sync --once`: run every enabled flow one cycle and report what happened."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import click

from syncd.cli.compose import open_runtime
from syncd.cli.flows import build_flows, selected_flows
from syncd.config import load_config
from syncd.engine.runs import RunSummary

EXIT_FLOW_FAILED = 1


def print_summary(name: str, summary: RunSummary, *, dry_run: bool) -> None:
    click.echo(f"flow {name}: {summary.status}" + (f" — {summary.error}" if summary.error else ""))
    for system in ("hubspot", "salesforce"):
        parts = [
            f"{what} {summary.counts.get(f'{system}.{what}', 0)}"
            for what in ("created", "updated", "unchanged", "quarantined")
        ]
        click.echo(f"  {system:<11} {', '.join(parts)}; {summary.api_calls.get(system, 0)} API calls")
    if summary.conflicts:
        click.echo(f"  conflicts decided by mapping rules: {summary.conflicts}")
    if dry_run:
        click.echo("  dry run: nothing was written and no cursor moved; planned writes:")
        for key, count in sorted(summary.planned.items()):
            click.echo(f"    {key}: {count}")
        for sample in summary.samples:
            click.echo(f"    e.g. {sample}")


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--once", is_flag=True, required=True, help="Run one cycle of each flow and exit.")
@click.option("--flow", "only", default=None, help="Run only this flow.")
@click.option("--dry-run", is_flag=True, help="Plan and print the writes; write nothing, move no cursor.")
def sync(config_path: Path, once: bool, only: str | None, dry_run: bool) -> None:
    """Run one sync cycle. Exit 0 when every flow completed (quarantined records included),
    1 when a flow failed, 2 for configuration errors."""
    config = load_config(config_path, env=os.environ)
    flows = selected_flows(config, only)
    failed = False
    with open_runtime(config) as runtime:
        built = build_flows(runtime, flows, dry_run=dry_run)
        runtime.probe.prefetch_for(built.values())
        try:
            for name, flow in built.items():
                summary = flow.run("once", threading.Event())
                print_summary(name, summary, dry_run=dry_run)
                failed = failed or summary.status not in ("succeeded",)
        finally:
            runtime.probe.discard()
    if failed:
        raise SystemExit(EXIT_FLOW_FAILED)
