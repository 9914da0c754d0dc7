"""`syncd export`: write the closed-loop store as a `--data DIR` folder of CSV files.

Without a period the whole store is written. With `--from/--to` exactly the rows that the reports
of that period read from the store are written (default stage names), so `syncd report ... --data
DIR` over that period gives the same numbers as the report on the store. teams.csv holds the
config's `teams:` section (empty with `--url`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine, select

from syncd.cli.report import DATE, read_store, store_source
from syncd.config import mask_url
from syncd.reports import store as loaders
from syncd.reports.csvdata import Dataset, write_data
from syncd.reports.types import ConversionType, Period
from syncd.store import models as m

_DAWN = datetime.min.replace(tzinfo=UTC)
_ALL_DAYS = Period(date.min, date.max)


@click.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="The folder to write people.csv, touches.csv, ... into (created if missing).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The syncd YAML configuration file (its store is read).",
)
@click.option("--url", help="A store URL instead of --config, e.g. sqlite:///syncd.db.")
@click.option("--from", "start", type=DATE, help="First day of a period (UTC, inclusive); needs --to.")
@click.option("--to", "end", type=DATE, help="Last day of a period (UTC, inclusive); needs --from.")
def export(
    data_dir: Path, config_path: Path | None, url: str | None, start: date | None, end: date | None
) -> None:
    """Write the store (or what the reports of one period read) as CSV files for `--data DIR`."""
    if (start is None) != (end is None):
        raise click.UsageError("give both --from and --to, or neither to export the whole store")
    source = store_source(config_path, url)
    assert source.url is not None
    target = source.url
    period = Period(start, end) if start is not None and end is not None else None
    rows = read_store(
        target, lambda engine: whole_store(engine) if period is None else period_rows(engine, period)
    )
    data = replace(rows, teams=source.teams)
    write_data(data_dir, data)
    counts = ", ".join(f"{len(getattr(data, f.name))} {f.name.replace('_', ' ')}" for f in fields(Dataset))
    click.echo(f"exported {mask_url(target)} to {data_dir}: {counts}")


def whole_store(engine: Engine) -> Dataset:
    """Every row the reports can read: all people, touches, stage events, activities, live deals, costs."""
    with engine.connect() as connection:
        stages = [str(s) for s in connection.scalars(select(m.LifecycleEvent.stage).distinct())]
        everyone = select(m.Person.id)
        deals = select(m.Deal.id).where(m.Deal.deleted_at.is_(None))
        return Dataset(
            people=tuple(loaders.load_people(connection, everyone)),
            touches=tuple(loaders.load_touches(connection)),
            lifecycle=tuple(loaders.load_lifecycle(connection, stages, people=everyone)),
            activities=tuple(loaders.load_activities(connection, people=everyone, since=_DAWN)),
            deals=tuple(loaders.load_deals(connection, deals)),
            deal_contacts=tuple(loaders.load_deal_contacts(connection, deals)),
            costs=tuple(loaders.load_costs(connection, _ALL_DAYS)),
        )


def period_rows(engine: Engine, period: Period) -> Dataset:
    """The union of what every report of the period reads from the store."""
    parts: list[loaders.ReportInputs] = [
        loaders.load_attribution_inputs(engine, conversion, period, data_driven=True)
        for conversion in ConversionType
    ]
    roi = loaders.load_roi_inputs(engine, period, data_driven=True)
    parts += [
        roi,
        loaders.load_mql_value_inputs(engine, period),
        loaders.load_funnel_inputs(engine, period),
        loaders.load_sla_inputs(engine, period),
    ]
    merged: dict[str, Any] = {}
    for f in fields(loaders.ReportInputs):
        merged[f.name] = _distinct(item for part in parts for item in getattr(part, f.name))
    # Two cost rows can be equal field by field (e.g. a cost file and a campaign's ActualCost).
    merged["costs"] = roi.costs
    return Dataset(**merged)


def _distinct(items: Iterable[Any]) -> tuple[Any, ...]:
    # Rows carrying a store key (people, touches, deals, ...) or unique in the store (stage events,
    # deal contacts): equal rows read by two loaders are the same store row.
    return tuple(dict.fromkeys(items))
