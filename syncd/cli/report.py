"""`syncd report`: attribution, ROI, pipeline, MQL value, funnel, SLA and pacing as a table, CSV or JSON.

Each command reads its inputs from the store (`--config FILE` or `--url URL`, filtered in SQL by
`syncd.reports.store`) or from a `--data DIR` folder of CSV files (`syncd.reports.csvdata`), runs
one pure report function and prints the result. Report errors exit with status 2.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine

from syncd.cli.db import read_store, store_url
from syncd.config import load_config
from syncd.reports import store as loaders
from syncd.reports.business_hours import BusinessHours
from syncd.reports.costs import CostProration
from syncd.reports.csvdata import Dataset, load_data
from syncd.reports.errors import ReportError
from syncd.reports.funnel import FunnelMethod, funnel
from syncd.reports.markov import markov
from syncd.reports.mql_value import mql_value
from syncd.reports.pacing import actual_to_date, pacing
from syncd.reports.paths import TouchIndex, excluded_kinds
from syncd.reports.periods import period_to_date, whole_quarter
from syncd.reports.pipeline import InfluencedUntil, PipelineTotals, SourcedRule, pipeline
from syncd.reports.roi import DATA_DRIVEN_MODELS, roi
from syncd.reports.rule_models import DEFAULT_HALF_LIFE_DAYS, RuleModel, attribute, check_model
from syncd.reports.sales_velocity import sales_velocity
from syncd.reports.shapley import MAX_EXACT_CHANNELS, shapley
from syncd.reports.sla import DEFAULT_FOLLOWUP_DAYS, DEFAULT_MIN_ATTEMPTS, SlaStats, sla
from syncd.reports.stages import DEFAULT_STAGES
from syncd.reports.teams import OwnerTeams, TeamMember, team_members
from syncd.reports.types import ConversionType, GroupBy, Period

EXIT_REPORT_ERROR = 2
MODELS = [m.value for m in RuleModel] + list(DATA_DRIVEN_MODELS)
DEFAULT_MODEL = RuleModel.LINEAR.value
FORMATS = ("table", "csv", "json")
RATIO_PLACES = Decimal("0.0001")
HOURS_PLACES = Decimal("0.01")
TABLE_MONEY = Decimal("0.01")

# One value of a report row or total; formatted by type (see `_json_value`, `_table_value`).
Cell = str | int | float | Decimal | Fraction | timedelta | datetime | date | tuple[str, ...] | None
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class ReportTable:
    """A computed report, ready to print: one row per group plus report-wide totals."""

    report: str
    parameters: dict[str, Cell]
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    totals: dict[str, Cell]


@dataclass(frozen=True, slots=True)
class Source:
    """Where a report reads: a `--data DIR` folder, or a store URL (with the config's teams)."""

    data_dir: Path | None
    url: str | None
    teams: tuple[TeamMember, ...] = ()

    def load(self, from_store: Callable[[Engine], loaders.ReportInputs]) -> Dataset:
        """The whole folder, or exactly the store rows `from_store` selects."""
        if self.data_dir is not None:
            return load_data(self.data_dir)
        assert self.url is not None
        inputs = read_store(self.url, from_store)
        rows = {f.name: getattr(inputs, f.name) for f in fields(loaders.ReportInputs)}
        return Dataset(**rows, teams=self.teams)


# --- parameters -----------------------------------------------------------------------------


class InstantType(click.ParamType):  # type: ignore[type-arg]
    """An ISO 8601 date-time; without an offset it is UTC."""

    name = "instant"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 instant (e.g. 2026-03-31T23:59:59Z)", param, ctx)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class DateType(click.ParamType):  # type: ignore[type-arg]
    """An ISO 8601 calendar date (UTC)."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 date (e.g. 2026-03-01)", param, ctx)


INSTANT = InstantType()
DATE = DateType()
_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_HOURS_SPEC = re.compile(
    r"^\s*(?P<days>[A-Za-z,\- ]+?)\s+(?P<opens>\d{1,2}:\d{2})\s*-\s*(?P<closes>\d{1,2}:\d{2})\s*$"
)


def parse_business_hours(spec: str, timezone: str, holidays: Sequence[date]) -> BusinessHours:
    """`Mon-Fri 09:00-17:00` (day ranges and comma lists: `Mon,Wed,Fri 08:30-16:00`)."""
    example = "e.g. 'Mon-Fri 09:00-17:00'"
    match = _HOURS_SPEC.match(spec)
    if match is None:
        raise click.BadParameter(
            f"{spec!r} is not working days and hours ({example})", param_hint="--business-hours"
        )
    weekdays: set[int] = set()
    for part in match["days"].replace(" ", "").split(","):
        ends = [d.casefold()[:3] for d in part.split("-")]
        if len(ends) > 2 or any(d not in _DAYS for d in ends):
            raise click.BadParameter(
                f"{part!r} is not a day or day range ({example})", param_hint="--business-hours"
            )
        first, last = _DAYS[ends[0]], _DAYS[ends[-1]]
        span = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
        weekdays.update(span)
    try:
        opens, closes = (
            time.fromisoformat(match["opens"].zfill(5)),
            time.fromisoformat(match["closes"].zfill(5)),
        )
    except ValueError:
        raise click.BadParameter(
            f"{spec!r} has an invalid time ({example})", param_hint="--business-hours"
        ) from None
    return BusinessHours(
        timezone=timezone,
        opens=opens,
        closes=closes,
        weekdays=frozenset(weekdays),
        holidays=frozenset(holidays),
    )


def _source_options(func: F) -> F:
    options = [
        click.option(
            "--data",
            "data_dir",
            type=click.Path(path_type=Path, file_okay=False),
            help="Read a folder of CSV files (people.csv, touches.csv, ...) instead of the store.",
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(path_type=Path, dir_okay=False),
            help="The syncd YAML configuration file (its store is read).",
        ),
        click.option("--url", help="A store URL instead of --config, e.g. sqlite:///syncd.db."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _common_options(func: F) -> F:
    """--from/--to (quarter to date by default), --format and the source options."""
    return _options_with_period(
        func,
        "First day of the period (UTC, inclusive). Default: the first day of --to's quarter.",
        "Last day of the period (UTC, inclusive). Default: today (UTC).",
    )


def _pacing_options(func: F) -> F:
    """--from/--to (the whole quarter by default), --format and the source options."""
    return _options_with_period(
        func,
        "First day of the goal's period (UTC, inclusive). Default: the first day of the quarter "
        "holding --to (or --as-of).",
        "Last day of the goal's period (UTC, inclusive). Default: the last day of --from's quarter.",
    )


def _options_with_period(func: F, from_help: str, to_help: str) -> F:
    options = [
        click.option("--from", "start", type=DATE, help=from_help),
        click.option("--to", "end", type=DATE, help=to_help),
        click.option(
            "--format",
            "output",
            type=click.Choice(FORMATS),
            default="table",
            show_default=True,
            help="Output format.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return _source_options(func)


def _touch_options(func: F) -> F:
    options = [
        click.option(
            "--lookback-days",
            type=click.IntRange(min=0),
            help="Only touches this many days before a conversion count (default: all).",
        ),
        click.option(
            "--count-email-opens",
            is_flag=True,
            help="Count email opens as touches (left out by default: privacy proxies open emails).",
        ),
        click.option(
            "--count-sales-touches",
            is_flag=True,
            help="Count calls, meetings, notes and 1:1 emails reps logged in HubSpot as touches.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def resolve_source(data_dir: Path | None, config_path: Path | None, url: str | None) -> Source:
    """Exactly one of --data, --config, --url."""
    if data_dir is not None:
        if config_path is not None or url is not None:
            raise click.UsageError("give either --data DIR or a store (--config FILE / --url URL), not both")
        return Source(data_dir=data_dir, url=None)
    if config_path is None and url is None:
        raise click.UsageError(
            "give --config FILE or --url URL to read the store, or --data DIR for CSV files"
        )
    return store_source(config_path, url)


def store_source(config_path: Path | None, url: str | None) -> Source:
    """The store of exactly one of --config (with the config's teams) and --url."""
    if config_path is not None and url is None:
        config = load_config(config_path, env=os.environ)
        return Source(data_dir=None, url=config.store.url, teams=tuple(team_members(config.teams.root)))
    return Source(data_dir=None, url=store_url(config_path, url))


def _today() -> date:
    return datetime.now(UTC).date()


def _period(start: date | None, end: date | None) -> Period:
    """The period of --from/--to; quarter to date when they are left out."""
    today = _today()
    if end is None and start is not None and start > today:
        raise click.BadParameter(f"{start} is after today ({today}): give --to as well", param_hint="--from")
    return period_to_date(start, end, today=today)


def _excluded_kinds(count_email_opens: bool, count_sales_touches: bool = False) -> frozenset[str]:
    return excluded_kinds(count_email_opens=count_email_opens, count_sales_touches=count_sales_touches)


def _index(data: Dataset, count_email_opens: bool, count_sales_touches: bool = False) -> TouchIndex:
    return TouchIndex(data.touches, exclude_kinds=_excluded_kinds(count_email_opens, count_sales_touches))


# --- the command group ----------------------------------------------------------------------


class ReportGroup(click.Group):
    """Report errors (wrong model for the conversion, bad CSV rows, ...) become one message, exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        # A report builds millions of small acyclic objects (rows, touches, paths); the cyclic
        # collector's repeated full passes over them cost about a third of the run and free nothing.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return super().invoke(ctx)
        except ReportError as exc:
            click.echo(f"syncd report: {exc}", err=True)
            ctx.exit(EXIT_REPORT_ERROR)
        finally:
            if collecting:
                gc.enable()


@click.group(cls=ReportGroup)
def report() -> None:
    """Closed-loop reports from the store or a --data folder, as a table, CSV or JSON.

    Without --from/--to a report covers the current quarter up to today (UTC); pacing, the whole
    current quarter.
    """


def _emit(table: ReportTable, output: str) -> None:
    text = {"table": render_table, "csv": render_csv, "json": render_json}[output](table)
    click.echo(text, nl=not text.endswith("\n"))


@report.command("attribution")
@_common_options
@_touch_options
@click.option(
    "--model", type=click.Choice(MODELS), default=DEFAULT_MODEL, show_default=True, help="Attribution model."
)
@click.option(
    "--conversion",
    type=click.Choice([c.value for c in ConversionType]),
    default=ConversionType.REVENUE.value,
    show_default=True,
    help="What counts as a conversion.",
)
@click.option(
    "--by",
    "group_by",
    type=click.Choice([g.value for g in GroupBy]),
    default=GroupBy.CHANNEL.value,
    show_default=True,
    help="Sum credits per channel, campaign or touch (markov and shapley: channel only).",
)
@click.option(
    "--half-life-days",
    type=float,
    default=DEFAULT_HALF_LIFE_DAYS,
    show_default=True,
    help="Half-life of the time_decay model.",
)
@click.option(
    "--max-channels",
    type=click.IntRange(min=1),
    default=MAX_EXACT_CHANNELS,
    show_default=True,
    help="Most channels the exact shapley model accepts.",
)
def attribution_command(
    start: date | None,
    end: date | None,
    output: str,
    data_dir: Path | None,
    config_path: Path | None,
    url: str | None,
    lookback_days: int | None,
    count_email_opens: bool,
    count_sales_touches: bool,
    model: str,
    conversion: str,
    group_by: str,
    half_life_days: float,
    max_channels: int,
) -> None:
    """Credit conversions of the period to channels, campaigns or touches under a model."""
    source = resolve_source(data_dir, config_path, url)
    period = _period(start, end)
    kind, by = ConversionType(conversion), GroupBy(group_by)
    data_driven = model in DATA_DRIVEN_MODELS
    if data_driven and by is not GroupBy.CHANNEL:
        raise ReportError(
            f"the {model} model credits channels only, not {by.value}s",
            hint="use --by channel, or a rule-based model for campaigns and touches",
        )
    if not data_driven:
        check_model(RuleModel(model), kind)  # before reading anything
    data = source.load(
        lambda engine: loaders.load_attribution_inputs(
            engine,
            kind,
            period,
            data_driven=data_driven,
            exclude_kinds=_excluded_kinds(count_email_opens, count_sales_touches),
        )
    )
    index = _index(data, count_email_opens, count_sales_touches)
    parameters: dict[str, Cell] = {
        "from": period.start,
        "to": period.end,
        "model": model,
        "conversion": kind.value,
        "by": by.value,
        "lookback_days": lookback_days,
        "count_email_opens": count_email_opens,
        "count_sales_touches": count_sales_touches,
    }
    if data_driven:
        run = markov if model == "markov" else partial(shapley, max_channels=max_channels)
        result = run(
            kind,
            people=data.people,
            touches=index,
            deals=data.deals,
            deal_contacts=data.deal_contacts,
            lookback_days=lookback_days,
            period=period,
        )
        if model == "shapley":
            parameters["max_channels"] = max_channels
        total = result.total_value
        attributed = sum(result.credits.values(), Decimal(0))
        effects = result.removal_effects
        columns: tuple[str, ...] = (by.value, "credit", "share")
        rows: list[tuple[Cell, ...]] = []
        for key, credit in result.credits.items():
            row: tuple[Cell, ...] = (key, credit, _share(credit, attributed))
            if effects is not None:
                row = (*row, effects[key])
            rows.append(row)
        if effects is not None:
            columns = (*columns, "removal_effect")
        totals: dict[str, Cell] = {
            "conversions": result.converting_journeys + len(result.unattributed),
            "journeys": result.journeys,
            "total_value": total + result.unattributed_value,
            "attributed_value": attributed,
            "unattributed": len(result.unattributed),
            "unattributed_value": result.unattributed_value,
        }
        if result.conversion_probability is not None:
            totals["conversion_probability"] = result.conversion_probability
    else:
        if RuleModel(model) is RuleModel.TIME_DECAY:
            parameters["half_life_days"] = half_life_days
        rule = attribute(
            kind,
            RuleModel(model),
            people=data.people,
            touches=index,
            deals=data.deals,
            deal_contacts=data.deal_contacts,
            group_by=by,
            lookback_days=lookback_days,
            period=period,
            half_life_days=half_life_days,
        )
        columns = (by.value, "credit", "share")
        rows = [(key, credit, _share(credit, rule.attributed_value)) for key, credit in rule.credits.items()]
        totals = {
            "conversions": rule.conversions,
            "total_value": rule.total_value,
            "attributed_value": rule.attributed_value,
            "unattributed": len(rule.unattributed),
            "unattributed_value": rule.unattributed_value,
        }
    _emit(ReportTable("attribution", parameters, columns, tuple(rows), totals), output)


def _share(part: Decimal, whole: Decimal) -> Fraction | None:
    return Fraction(part) / Fraction(whole) if whole else None


@report.command("roi")
@_common_options
@_touch_options
@click.option(
    "--model",
    type=click.Choice(MODELS),
    default=DEFAULT_MODEL,
    show_default=True,
    help="Attribution model for revenue.",
)
@click.option(
    "--by",
    "group_by",
    type=click.Choice([GroupBy.CHANNEL.value, GroupBy.CAMPAIGN.value]),
    default=GroupBy.CHANNEL.value,
    show_default=True,
    help="One row per channel or per campaign.",
)
@click.option(
    "--cost-proration",
    type=click.Choice([p.value for p in CostProration]),
    default=CostProration.DAYS.value,
    show_default=True,
    help="days: the share of a cost row's days inside the period; whole: overlapping rows in full; "
    "contained: only rows entirely inside the period.",
)
@click.option("--mql-stage", default="mql", show_default=True, help="Lifecycle stage that makes an MQL.")
@click.option(
    "--customer-stage", default="customer", show_default=True, help="Lifecycle stage that makes a customer."
)
@click.option(
    "--half-life-days",
    type=float,
    default=DEFAULT_HALF_LIFE_DAYS,
    show_default=True,
    help="Half-life of time_decay.",
)
def roi_command(
    start: date | None,
    end: date | None,
    output: str,
    data_dir: Path | None,
    config_path: Path | None,
    url: str | None,
    lookback_days: int | None,
    count_email_opens: bool,
    count_sales_touches: bool,
    model: str,
    group_by: str,
    cost_proration: str,
    mql_stage: str,
    customer_stage: str,
    half_life_days: float,
) -> None:
    """ROI, ROAS and cost per lead, MQL and customer per channel or campaign for the period."""
    source = resolve_source(data_dir, config_path, url)
    period = _period(start, end)
    by, proration = GroupBy(group_by), CostProration(cost_proration)
    data = source.load(
        lambda engine: loaders.load_roi_inputs(
            engine,
            period,
            data_driven=model in DATA_DRIVEN_MODELS,
            mql_stage=mql_stage,
            customer_stage=customer_stage,
            exclude_kinds=_excluded_kinds(count_email_opens, count_sales_touches),
        )
    )
    result = roi(
        model,
        people=data.people,
        touches=_index(data, count_email_opens, count_sales_touches),
        deals=data.deals,
        deal_contacts=data.deal_contacts,
        lifecycle=data.lifecycle,
        costs=data.costs,
        period=period,
        group_by=by,
        proration=proration,
        mql_stage=mql_stage,
        customer_stage=customer_stage,
        lookback_days=lookback_days,
        half_life_days=half_life_days,
    )
    columns: tuple[str, ...] = (
        by.value,
        "attributed_revenue",
        "cost",
        "roi",
        "roas",
        "leads",
        "mqls",
        "customers",
    )
    columns += ("cost_per_lead", "cost_per_mql", "cost_per_customer")
    rows = tuple(
        (
            r.key,
            r.attributed_revenue,
            r.cost,
            r.roi,
            r.roas,
            r.leads,
            r.mqls,
            r.customers,
            r.cost_per_lead,
            r.cost_per_mql,
            r.cost_per_customer,
        )
        for r in result.rows
    )
    revenue = sum((r.attributed_revenue for r in result.rows), Decimal("0.00"))
    cost = sum((r.cost for r in result.rows), Decimal("0.00"))
    totals: dict[str, Cell] = {
        "attributed_revenue": revenue,
        "cost": cost,
        "roi": Fraction(revenue - cost) / Fraction(cost) if cost else None,
        "roas": Fraction(revenue) / Fraction(cost) if cost else None,
        "leads": sum(r.leads for r in result.rows),
        "mqls": sum(r.mqls for r in result.rows),
        "customers": sum(r.customers for r in result.rows),
        "unattributed_revenue": result.unattributed_revenue,
    }
    parameters: dict[str, Cell] = {
        "from": period.start,
        "to": period.end,
        "model": model,
        "by": by.value,
        "cost_proration": proration.value,
        "mql_stage": mql_stage,
        "customer_stage": customer_stage,
        "lookback_days": lookback_days,
        "count_email_opens": count_email_opens,
        "count_sales_touches": count_sales_touches,
    }
    if model == RuleModel.TIME_DECAY.value:
        parameters["half_life_days"] = half_life_days
    _emit(ReportTable("roi", parameters, columns, rows, totals), output)


@report.command("pipeline")
@_common_options
@click.option(
    "--by",
    "group_by",
    type=click.Choice([GroupBy.CHANNEL.value, GroupBy.CAMPAIGN.value]),
    default=GroupBy.CHANNEL.value,
    show_default=True,
    help="One row per channel or per campaign.",
)
@click.option(
    "--sourced-rule",
    type=click.Choice([r.value for r in SourcedRule]),
    default=SourcedRule.FIRST_TOUCH.value,
    show_default=True,
    help="first_touch: the deal's first touch (over its contacts) is on a marketing channel; "
    "primary_campaign: the deal has a primary campaign.",
)
@click.option(
    "--influenced-until",
    type=click.Choice([u.value for u in InfluencedUntil]),
    default=InfluencedUntil.CREATED.value,
    show_default=True,
    help="Marketing touches before the deal was created, or before it closed (open deals: up to --as-of).",
)
@click.option(
    "--as-of",
    type=INSTANT,
    help="With --influenced-until closed: open deals count touches up to this instant (default: all).",
)
@click.option(
    "--non-marketing-channels",
    default="",
    help="Channels that are not marketing (e.g. sales calls), comma-separated (default: none).",
)
@click.option("--count-email-opens", is_flag=True, help="Count email opens as touches.")
@click.option(
    "--count-sales-touches",
    is_flag=True,
    help="Count touches reps logged in HubSpot (calls, meetings, notes).",
)
def pipeline_command(
    start: date | None,
    end: date | None,
    output: str,
    data_dir: Path | None,
    config_path: Path | None,
    url: str | None,
    group_by: str,
    sourced_rule: str,
    influenced_until: str,
    as_of: datetime | None,
    non_marketing_channels: str,
    count_email_opens: bool,
    count_sales_touches: bool,
) -> None:
    """Sourced and influenced pipeline: deals created in the period that marketing started or touched.

    Sourced deals are also influenced: the two are shown side by side, never added.
    """
    source = resolve_source(data_dir, config_path, url)
    period = _period(start, end)
    by, until = GroupBy(group_by), InfluencedUntil(influenced_until)
    outside = frozenset(c.strip() for c in non_marketing_channels.split(",") if c.strip())
    data = source.load(
        lambda engine: loaders.load_pipeline_inputs(
            engine,
            period,
            until_close=until is InfluencedUntil.CLOSED,
            exclude_kinds=_excluded_kinds(count_email_opens, count_sales_touches),
        )
    )
    result = pipeline(
        deals=data.deals,
        deal_contacts=data.deal_contacts,
        touches=_index(data, count_email_opens, count_sales_touches),
        period=period,
        group_by=by,
        non_marketing_channels=outside,
        sourced_rule=SourcedRule(sourced_rule),
        influenced_until=until,
        as_of=as_of,
    )
    empty = PipelineTotals(0, Decimal(0))
    keys = sorted(set(result.sourced_by) | set(result.influenced_by), key=lambda k: (k is None, k or ""))
    columns = (by.value, "sourced_deals", "sourced_amount", "influenced_deals", "influenced_amount")
    rows = tuple(
        (
            key,
            result.sourced_by.get(key, empty).deals,
            _cents(result.sourced_by.get(key, empty).amount),
            result.influenced_by.get(key, empty).deals,
            _cents(result.influenced_by.get(key, empty).amount),
        )
        for key in keys
    )
    totals: dict[str, Cell] = {
        "sourced_deals": result.sourced.deals,
        "sourced_amount": _cents(result.sourced.amount),
        "influenced_deals": result.influenced.deals,
        "influenced_amount": _cents(result.influenced.amount),
    }
    parameters: dict[str, Cell] = {
        "from": period.start,
        "to": period.end,
        "by": by.value,
        "sourced_rule": sourced_rule,
        "influenced_until": until.value,
        "as_of": as_of,
        "non_marketing_channels": tuple(sorted(outside)),
        "count_email_opens": count_email_opens,
        "count_sales_touches": count_sales_touches,
    }
    _emit(ReportTable("pipeline", parameters, columns, rows, totals), output)


@report.command("mql-value")
@_common_options
@click.option(
    "--by",
    "group_by",
    type=click.Choice([GroupBy.CHANNEL.value, GroupBy.CAMPAIGN.value]),
    default=GroupBy.CHANNEL.value,
    show_default=True,
    help="Source of an MQL: the channel or campaign of its first touch.",
)
@click.option("--mql-stage", default="mql", show_default=True, help="Lifecycle stage that makes an MQL.")
@click.option(
    "--won-until", type=INSTANT, help="Count deals won at or before this instant only (default: all)."
)
@click.option("--count-email-opens", is_flag=True, help="Count email opens as touches when finding sources.")
@click.option(
    "--count-sales-touches",
    is_flag=True,
    help="Count touches reps logged in HubSpot (calls, meetings, notes).",
)
def mql_value_command(
    start: date | None,
    end: date | None,
    output: str,
    data_dir: Path | None,
    config_path: Path | None,
    url: str | None,
    group_by: str,
    mql_stage: str,
    won_until: datetime | None,
    count_email_opens: bool,
    count_sales_touches: bool,
) -> None:
    """Value per MQL by source: won revenue of the period's MQL cohort / its MQLs."""
    source = resolve_source(data_dir, config_path, url)
    period = _period(start, end)
    by = GroupBy(group_by)
    data = source.load(
        lambda engine: loaders.load_mql_value_inputs(
            engine,
            period,
            mql_stage=mql_stage,
            won_until=won_until,
            exclude_kinds=_excluded_kinds(count_email_opens, count_sales_touches),
        )
    )
    result = mql_value(
        lifecycle=data.lifecycle,
        touches=_index(data, count_email_opens, count_sales_touches),
        deals=data.deals,
        deal_contacts=data.deal_contacts,
        period=period,
        group_by=by,
        mql_stage=mql_stage,
        won_until=won_until,
    )
    columns = (
        "source",
        "mqls",
        "customers",
        "won_revenue",
        "close_rate",
        "revenue_per_customer",
        "value_per_mql",
    )
    rows = tuple(
        (
            r.source,
            r.mqls,
            r.customers,
            _cents(r.won_revenue),
            r.close_rate,
            r.revenue_per_customer,
            r.value_per_mql,
        )
        for r in result.rows
    )
    mqls = sum(r.mqls for r in result.rows)
    customers = sum(r.customers for r in result.rows)
    # The layer sums deal amounts as stored (up to 4 places); every money result is shown in cents.
    won = _cents(sum((r.won_revenue for r in result.rows), Decimal(0)))
    totals: dict[str, Cell] = {
        "mqls": mqls,
        "customers": customers,
        "won_revenue": won,
        "close_rate": Fraction(customers, mqls) if mqls else None,
        "value_per_mql": _cents(Fraction(won) / mqls) if mqls else None,
    }
    parameters: dict[str, Cell] = {
        "from": period.start,
        "to": period.end,
        "by": by.value,
        "mql_stage": mql_stage,
        "won_until": won_until,
        "count_email_opens": count_email_opens,
        "count_sales_touches": count_sales_touches,
    }
    _emit(ReportTable("mql-value", parameters, columns, rows, totals), output)


def _cents(value: Fraction | Decimal) -> Decimal:
    exact = Fraction(value)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(TABLE_MONEY, ROUND_HALF_EVEN)


@report.command("funnel")
@_common_options
@click.option(
    "--stages",
    default=",".join(DEFAULT_STAGES),
    show_default=True,
    help="Funnel stages in order, comma-separated.",
)
@click.option(
    "--method",
    type=click.Choice([m.value for m in FunnelMethod]),
    default=FunnelMethod.COHORT.value,
    show_default=True,
    help="cohort: of those entering a stage in the period, how many entered the next (any time); "
    "period: entries into the next stage in the period / entries into the stage in the period.",
)
@click.option(
    "--implied-stages/--explicit-stages",
    default=True,
    show_default=True,
    help="Whether entering a later stage counts as entering every skipped earlier one.",
)
@click.option("--as-of", type=INSTANT, help="Ignore lifecycle events after this instant (default: none).")
def funnel_command(
    start: date | None,
    end: date | None,
    output: str,
    data_dir: Path | None,
    config_path: Path | None,
    url: str | None,
    stages: str,
    method: str,
    implied_stages: bool,
    as_of: datetime | None,
) -> None:
    """Stage-to-stage conversion and median time between stages, plus sales velocity."""
    source = resolve_source(data_dir, config_path, url)
    period = _period(start, end)
    stage_list = tuple(s.strip() for s in stages.split(",") if s.strip())
    if len(stage_list) < 2:
        raise ReportError(
            f"--stages {stages!r} names fewer than two stages", hint="e.g. --stages lead,mql,sql"
        )
    data = source.load(
        lambda engine: loaders.load_funnel_inputs(engine, period, stages=stage_list, as_of=as_of)
    )
    result = funnel(
        data.lifecycle,
        period=period,
        stages=stage_list,
        method=FunnelMethod(method),
        implied_stages=implied_stages,
        as_of=as_of,
    )
    velocity = sales_velocity(data.deals, period=period)
    columns = ("from_stage", "to_stage", "entered", "converted", "rate", "median_hours")
    rows = tuple(
        (s.from_stage, s.to_stage, s.entered, s.converted, s.rate, s.median_time) for s in result.steps
    )
    totals: dict[str, Cell] = {f"entered_{stage}": count for stage, count in result.entered.items()}
    totals |= {
        "opportunities": velocity.opportunities,
        "closed": velocity.closed,
        "won": velocity.won,
        "win_rate": velocity.win_rate,
        "average_deal_size": velocity.average_deal_size,
        "cycle_days": velocity.cycle_days,
        "sales_velocity_per_day": velocity.velocity_per_day,
    }
    parameters: dict[str, Cell] = {
        "from": period.start,
        "to": period.end,
        "stages": stage_list,
        "method": method,
        "implied_stages": implied_stages,
        "as_of": as_of,
    }
    _emit(ReportTable("funnel", parameters, columns, rows, totals), output)


@report.command("sla")
@_common_options
@click.option(
    "--within-hours", type=click.FloatRange(min=0), required=True, help="The agreed speed-to-lead, in hours."
)
@click.option(
    "--business-hours",
    help="Also measure on a business clock, e.g. 'Mon-Fri 09:00-17:00' (local times in --timezone).",
)
@click.option("--timezone", default="UTC", show_default=True, help="IANA timezone of --business-hours.")
@click.option("--holiday", "holidays", type=DATE, multiple=True, help="A non-working date (repeatable).")
@click.option(
    "--attempt-days",
    type=click.IntRange(min=0),
    default=DEFAULT_FOLLOWUP_DAYS,
    show_default=True,
    help="Follow-up window after the MQL instant, in days.",
)
@click.option(
    "--attempts",
    type=click.IntRange(min=1),
    default=DEFAULT_MIN_ATTEMPTS,
    show_default=True,
    help="Attempts an MQL should get within the window.",
)
@click.option("--mql-stage", default="mql", show_default=True, help="Lifecycle stage that makes an MQL.")
@click.option(
    "--sales-kinds",
    default="call,email,meeting",
    show_default=True,
    help="Activity kinds that are sales touches, comma-separated.",
)
@click.option(
    "--rep-initiator",
    default="rep",
    show_default=True,
    help="initiated_by value of rep-initiated activities.",
)
@click.option(
    "--by",
    "group_by",
    type=click.Choice(["owner", "team", "mql"]),
    default="owner",
    show_default=True,
    help="One row per owner, per team (teams from the config's teams: section or the --data "
    "folder's teams.csv), or per MQL.",
)
def sla_command(
    start: date | None,
    end: date | None,
    output: str,
    data_dir: Path | None,
    config_path: Path | None,
    url: str | None,
    within_hours: float,
    business_hours: str | None,
    timezone: str,
    holidays: tuple[date, ...],
    attempt_days: int,
    attempts: int,
    mql_stage: str,
    sales_kinds: str,
    rep_initiator: str,
    group_by: str,
) -> None:
    """Speed-to-lead and follow-up depth of the period's MQL cohort against the agreed SLA."""
    source = resolve_source(data_dir, config_path, url)
    period = _period(start, end)
    hours = parse_business_hours(business_hours, timezone, holidays) if business_hours else None
    kinds = frozenset(k.strip() for k in sales_kinds.split(",") if k.strip())
    data = source.load(lambda engine: loaders.load_sla_inputs(engine, period, mql_stage=mql_stage))
    if group_by == "team" and not data.teams:
        raise ReportError(
            "no sales teams are defined",
            hint="add a teams: section to the config (team: [owner emails]) and pass --config, or a "
            "teams.csv (team, owner) to the --data folder",
        )
    teams = OwnerTeams(data.teams) if data.teams else None
    result = sla(
        lifecycle=data.lifecycle,
        activities=data.activities,
        period=period,
        within_hours=within_hours,
        business_hours=hours,
        mql_stage=mql_stage,
        sales_kinds=kinds,
        rep_initiator=rep_initiator,
        followup_days=attempt_days,
        min_attempts=attempts,
        teams=teams,
    )
    business = hours is not None
    rows: list[tuple[Cell, ...]]
    if group_by == "mql":
        columns: tuple[str, ...] = ("person_id", "mql_at", "owner")
        columns += ("team",) if teams is not None else ()
        columns += ("first_contact_at", "speed_hours")
        columns += ("business_speed_hours",) if business else ()
        columns += ("attempts",)
        rows = []
        for c in result.mqls:
            row: tuple[Cell, ...] = (c.person_id, c.mql_at, c.owner)
            row += (c.team,) if teams is not None else ()
            row += (c.first_contact_at, c.calendar_speed)
            row += (c.business_speed,) if business else ()
            rows.append((*row, c.attempts))
    else:
        groups = result.by_team if group_by == "team" else result.by_owner
        columns = (group_by, *_stats_columns(business))
        rows = [(key, *_stats_cells(stats, business)) for key, stats in groups.items()]
    totals: dict[str, Cell] = dict(
        zip(_stats_columns(business), _stats_cells(result.overall, business), strict=True)
    )
    totals["uncontacted_mqls"] = result.overall.uncontacted
    parameters: dict[str, Cell] = {
        "from": period.start,
        "to": period.end,
        "within_hours": within_hours,
        "business_hours": business_hours,
        "timezone": timezone if business else None,
        "holidays": tuple(d.isoformat() for d in holidays),
        "attempt_days": attempt_days,
        "attempts": attempts,
        "mql_stage": mql_stage,
        "sales_kinds": tuple(sorted(kinds)),
        "rep_initiator": rep_initiator,
        "by": group_by,
    }
    _emit(ReportTable("sla", parameters, columns, tuple(rows), totals), output)


def _stats_columns(business: bool) -> tuple[str, ...]:
    columns: tuple[str, ...] = (
        "mqls",
        "contacted",
        "uncontacted",
        "within",
        "within_share",
        "median_hours",
        "p90_hours",
    )
    if business:
        columns += ("within_business", "within_business_share", "median_business_hours", "p90_business_hours")
    return (*columns, "with_min_attempts", "with_min_attempts_share")


def _stats_cells(s: SlaStats, business: bool) -> tuple[Cell, ...]:
    cells: tuple[Cell, ...] = (
        s.mqls,
        s.contacted,
        len(s.uncontacted),
        s.within_calendar,
        s.within_calendar_share,
        s.median_calendar,
        s.p90_calendar,
    )
    if business:
        cells += (s.within_business, s.within_business_share, s.median_business, s.p90_business)
    return (*cells, s.with_min_attempts, s.with_min_attempts_share)


@report.command("pacing")
@_pacing_options
@click.option(
    "--goal",
    type=click.IntRange(min=0),
    required=True,
    help="How many people should enter the stage in the period.",
)
@click.option(
    "--stage", default="mql", show_default=True, help="The lifecycle stage counted against the goal."
)
@click.option("--as-of", type=DATE, help="The day the report is read (default: today, UTC).")
@click.option(
    "--as-of-elapsed/--as-of-not-elapsed",
    default=True,
    show_default=True,
    help="Whether the --as-of day counts as elapsed (read at its end) or not (read at its start).",
)
def pacing_command(
    start: date | None,
    end: date | None,
    output: str,
    data_dir: Path | None,
    config_path: Path | None,
    url: str | None,
    goal: int,
    stage: str,
    as_of: date | None,
    as_of_elapsed: bool,
) -> None:
    """Progress of a stage goal (e.g. MQLs this quarter): target to date, pace, projection."""
    source = resolve_source(data_dir, config_path, url)
    day = as_of if as_of is not None else _today()
    period = whole_quarter(start, end, today=day)
    # Read at the end of the day when it counts as elapsed, else at its start.
    cutoff = datetime.combine(
        day + timedelta(days=1) if as_of_elapsed else day, time(0), tzinfo=UTC
    ) - timedelta(microseconds=1)
    data = source.load(lambda engine: loaders.load_stage_inputs(engine, period, stage=stage, as_of=cutoff))
    actual = actual_to_date(data.lifecycle, period=period, as_of=cutoff, stage=stage)
    result = pacing(goal, actual, period=period, as_of=day, as_of_elapsed=as_of_elapsed)
    columns: tuple[str, ...] = ("stage", "goal", "actual", "days_in_period", "elapsed_days", "remaining_days")
    columns += ("target_to_date", "pace", "projection", "required_per_remaining_day")
    row: tuple[Cell, ...] = (
        stage,
        goal,
        actual,
        result.days_in_period,
        result.elapsed_days,
        result.remaining_days,
        result.target_to_date,
        result.pace,
        result.projection,
        result.required_per_remaining_day,
    )
    parameters: dict[str, Cell] = {
        "from": period.start,
        "to": period.end,
        "goal": goal,
        "stage": stage,
        "as_of": day,
        "as_of_elapsed": as_of_elapsed,
    }
    _emit(ReportTable("pacing", parameters, columns, (row,), {}), output)


# --- output ---------------------------------------------------------------------------------


def _decimal(value: Fraction, places: Decimal) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(places, ROUND_HALF_EVEN)


def _hours(value: timedelta) -> Decimal:
    return _decimal(Fraction(value // timedelta(microseconds=1), 3_600_000_000), HOURS_PLACES)


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json_value(value: Cell) -> Any:
    """Exact money as strings, ratios to 4 places, durations in hours, instants ISO 8601 UTC."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Fraction):
        return str(_decimal(value, RATIO_PLACES))
    if isinstance(value, timedelta):
        return str(_hours(value))
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, date):
        return value.isoformat()
    return list(value)


def _text_value(value: Cell) -> str:
    """A cell as CSV text: like JSON, with empty for none and lists joined by spaces."""
    rendered = _json_value(value)
    if rendered is None:
        return ""
    if isinstance(rendered, bool):
        return "true" if rendered else "false"
    if isinstance(rendered, list):
        return " ".join(rendered)
    return str(rendered)


def _table_value(value: Cell) -> str:
    if isinstance(value, Decimal):
        return f"{value.quantize(TABLE_MONEY, ROUND_HALF_EVEN):,}"
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return ", ".join(value) or "-"
    return _text_value(value)


def _key_label(key: Cell) -> str:
    # A group key of None is "no campaign" / "no source touch"; "" is the unknown channel.
    if key is None:
        return "(none)"
    if key == "":
        return "(unknown)"
    return _table_value(key)


def _numeric(value: Cell) -> bool:
    return isinstance(value, int | float | Decimal | Fraction | timedelta) and not isinstance(value, bool)


def render_json(table: ReportTable) -> str:
    document = {
        "report": table.report,
        "parameters": {k: _json_value(v) for k, v in table.parameters.items()},
        "rows": [
            {column: _json_value(cell) for column, cell in zip(table.columns, row, strict=True)}
            for row in table.rows
        ],
        "totals": {k: _json_value(v) for k, v in table.totals.items()},
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def render_csv(table: ReportTable) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_text_value(cell) for cell in row])
    return buffer.getvalue()


def render_table(table: ReportTable) -> str:
    """Aligned columns under a header (numbers right-aligned, money to 2 decimals), then the totals."""
    cells = [[_key_label(row[0]), *(_table_value(cell) for cell in row[1:])] for row in table.rows]
    widths = [len(c) for c in table.columns]
    for row_cells in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row_cells, strict=True)]
    right = [any(_numeric(row[i]) for row in table.rows) for i in range(len(table.columns))]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)]
        return "  ".join(parts).rstrip()

    lines = [line(table.columns), line(["-" * w for w in widths])]
    lines += [line(row_cells) for row_cells in cells]
    if not table.rows:
        lines.append("(no rows)")
    if table.totals:
        lines.append("")
        label = max(len(k) for k in table.totals)
        lines += [f"{k.ljust(label)}  {_table_value(v)}" for k, v in table.totals.items()]
    return "\n".join(lines) + "\n"


__all__ = [
    "ReportTable",
    "Source",
    "read_store",
    "render_csv",
    "render_json",
    "render_table",
    "report",
    "resolve_source",
    "store_source",
]
