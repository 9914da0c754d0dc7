"""`syncd run`: the daemon — every enabled flow on its interval until SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from syncd.cli.compose import open_runtime
from syncd.cli.flows import build_flows, selected_flows
from syncd.config import load_config
from syncd.daemon.flowlock import FlowLock
from syncd.daemon.scheduler import Daemon, Schedule
from syncd.reports.teams import team_members
from syncd.web.query import DashboardSettings
from syncd.web.serve import build_server

log = logging.getLogger(__name__)


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path, dir_okay=False))
def run(config_path: Path) -> None:
    """Run the daemon: each enabled flow on its interval; SIGTERM stops it at a page boundary."""
    config = load_config(config_path, env=os.environ)
    logging.getLogger().setLevel(config.daemon.log_level)
    flows = selected_flows(config, None)
    with open_runtime(config) as runtime:
        built = build_flows(runtime, flows)
        daemon = Daemon(
            {name: Schedule(flow, flows[name].interval_seconds) for name, flow in built.items()},
            lambda name: FlowLock(runtime.store, name),
            probe=runtime.probe,
        )

        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s; stopping at the next page boundary", signal.Signals(signum).name)
            daemon.stop()

        token = config.daemon.dashboard_token
        web = build_server(
            runtime.store,
            config.daemon.health_bind,
            token.get_secret_value() if token else None,
            settings=DashboardSettings(teams=tuple(team_members(config.teams.root))),
        )
        web_thread = threading.Thread(target=web.run, name="dashboard", daemon=True)
        web_thread.start()
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        click.echo(
            f"syncd running flows {', '.join(built)}; dashboard and /healthz on "
            f"http://{config.daemon.health_bind}; SIGTERM or Ctrl-C stops it",
            err=True,
        )
        try:
            daemon.serve()
        finally:
            web.should_exit = True
            web_thread.join(timeout=10)
    click.echo("syncd stopped", err=True)
