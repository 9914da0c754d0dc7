"""`syncd backfill`: read everything not yet synced, with a progress bar; resumable."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from syncd.cli.compose import open_runtime
from syncd.cli.flows import build_flows, selected_flows
from syncd.cli.sync import EXIT_FLOW_FAILED, print_summary
from syncd.config import load_config
from syncd.engine.contacts import ContactFlow


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--restart",
    is_flag=True,
    help="Forget where the pulls stand and read everything again (records already in step cost no write).",
)
def backfill(config_path: Path, restart: bool) -> None:
    """Sync every contact not synced yet — the first load of a new installation — with a progress bar.

    Ctrl-C (or SIGTERM) stops at the next unit boundary (a few pages) with everything before it
    committed; run the command again to continue from there."""
    config = load_config(config_path, env=os.environ)
    stop = threading.Event()

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    with open_runtime(config) as runtime:
        flow = build_flows(runtime, selected_flows(config, "contacts"))["contacts"]
        assert isinstance(flow, ContactFlow)
        if restart:
            flow.restart()
        pending = flow.pending()
        total = sum(pending.values())
        parts = ", ".join(f"{system} {obj} {n:,}" for (system, obj), n in sorted(pending.items()))
        click.echo(f"to read: {total:,} records ({parts})", err=True)
        previous = {s: signal.signal(s, interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            with click.progressbar(
                length=max(total, 1), label="backfill", show_pos=True, file=sys.stderr
            ) as bar:
                summary = flow.run("backfill", stop, progress=lambda _system, _obj, n: bar.update(n))
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    print_summary("contacts", summary, dry_run=False)
    if stop.is_set():
        click.echo("stopped at a unit boundary; run `syncd backfill` again to continue from there", err=True)
    elif summary.status != "succeeded":
        raise SystemExit(EXIT_FLOW_FAILED)
