"""`syncd status`: what the store says — the last run of each flow and the open issues by category."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine, func, select

from syncd.alerts.store import delivery_counts
from syncd.cli.db import read_store, store_url
from syncd.config import mask_url
from syncd.store.db import session_factory
from syncd.store.models import Issue, Run


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The syncd YAML configuration file (its store.url is read).",
)
@click.option("--url", help="A store URL instead of --config, e.g. sqlite:///syncd.db.")
def status(config_path: Path | None, url: str | None) -> None:
    """Show the last run of each flow and the open issues by category."""
    target = store_url(config_path, url)
    (runs, issues), alerts = read_store(target, lambda engine: (_read(engine), _alerts(engine)))
    click.echo(f"store: {mask_url(target)}")
    click.echo(_runs_table(runs))
    click.echo(_budget_table(runs))
    click.echo(_issues_table(issues))
    if any(alerts.values()):
        click.echo(
            f"alert deliveries: {alerts['sent']} sent, {alerts['pending']} pending, {alerts['failed']} failed"
        )


def _alerts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return delivery_counts(connection)


def _read(engine: Engine) -> tuple[list[Run], list[tuple[str, int]]]:
    latest = select(func.max(Run.id)).group_by(Run.flow)
    with session_factory(engine)() as session:
        runs = list(session.scalars(select(Run).where(Run.id.in_(latest)).order_by(Run.flow)))
        issues = [
            (str(category), int(count))
            for category, count in session.execute(
                select(Issue.category, func.count())
                .where(Issue.status == "open")
                .group_by(Issue.category)
                .order_by(func.count().desc(), Issue.category)
            )
        ]
    return runs, issues


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment is not None else "-"


def _counts(counts: dict[str, Any]) -> str:
    parts: list[str] = []
    for key, value in sorted(counts.items()):
        if isinstance(value, dict):
            inner = " ".join(f"{k}={v}" for k, v in sorted(value.items()))
            parts.append(f"{key}: {inner}" if inner else f"{key}: -")
        else:
            parts.append(f"{key}={value}")
    return "; ".join(parts) or "-"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    all_rows = [header, *rows]
    widths = [max(len(row[i]) for row in all_rows) for i in range(len(header))]
    return "\n".join(
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in all_rows
    )


def _runs_table(runs: list[Run]) -> str:
    if not runs:
        return "last runs: none yet"
    rows = [(r.flow, _when(r.started_at), _when(r.finished_at), r.status, _counts(r.counts)) for r in runs]
    return "last run per flow:\n" + _table(("flow", "started", "finished", "status", "counts"), rows)


def _budget_table(runs: list[Run]) -> str:
    """Each system's daily API allowance as the most recent run saw it."""
    latest: dict[str, tuple[datetime, dict[str, Any]]] = {}
    for run in runs:
        for system, usage in (run.api_usage or {}).items():
            when = run.finished_at or run.started_at
            if isinstance(usage, dict) and (system not in latest or when > latest[system][0]):
                latest[system] = (when, usage)
    if not latest:
        return "API budget: not seen yet"

    def number(value: Any) -> str:
        return f"{value:,}" if isinstance(value, int) else "unknown"

    rows = [
        (
            system,
            number(usage.get("used")),
            number(usage.get("allocated")),
            number(usage.get("limit")),
            _when(when),
        )
        for system, (when, usage) in sorted(latest.items())
    ]
    return "API budget (daily, rolling 24 h):\n" + _table(
        ("system", "used", "allocated to syncd", "limit", "as of"), rows
    )


def _issues_table(issues: list[tuple[str, int]]) -> str:
    if not issues:
        return "open issues: none"
    total = sum(count for _, count in issues)
    rows = [(category, str(count)) for category, count in issues]
    return f"open issues: {total}\n" + _table(("category", "open"), rows)
