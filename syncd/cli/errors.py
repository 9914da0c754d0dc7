"""`syncd errors`: the quarantined records — why each was set aside, in the remote's own words."""

from __future__ import annotations

import csv
import os
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine, select

from syncd.cli.compose import open_runtime
from syncd.cli.db import read_store, store_url
from syncd.cli.flows import build_flows, selected_flows
from syncd.cli.sync import EXIT_FLOW_FAILED, print_summary
from syncd.config import load_config
from syncd.engine.contacts import ContactFlow
from syncd.errors import IssueCategory
from syncd.store.db import session_factory
from syncd.store.models import Issue

_COLUMNS = (
    "id",
    "flow",
    "system",
    "object",
    "record_key",
    "category",
    "message",
    "remote_code",
    "remote_message",
    "retry_count",
    "status",
    "first_seen_at",
    "last_seen_at",
)


F = TypeVar("F", bound=Callable[..., Any])


def _cell(value: object) -> object:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime) else value


def _store_options(command: F) -> F:
    command = click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="The syncd config file.",
    )(command)
    command = click.option("--url", help="A store URL instead of --config.")(command)
    command = click.option(
        "--category",
        type=click.Choice([c.value for c in IssueCategory]),
        multiple=True,
        help="Only these categories (repeatable).",
    )(command)
    command = click.option("--flow", help="Only this flow.")(command)
    command = click.option("--all", "include_closed", is_flag=True, help="Include resolved issues.")(command)
    return command


def _issues(
    config_path: Path | None,
    url: str | None,
    categories: tuple[str, ...],
    flow: str | None,
    include_closed: bool,
) -> list[Issue]:
    query = select(Issue).order_by(Issue.category, Issue.last_seen_at.desc(), Issue.id)
    if not include_closed:
        query = query.where(Issue.status == "open")
    if categories:
        query = query.where(Issue.category.in_(categories))
    if flow:
        query = query.where(Issue.flow == flow)

    def read(engine: Engine) -> list[Issue]:
        with session_factory(engine)() as session:
            return list(session.scalars(query))

    return read_store(store_url(config_path, url), read)


@click.group()
def errors() -> None:
    """Quarantined records: list, export, retry them."""


@errors.command("list")
@_store_options
def list_issues(
    config_path: Path | None,
    url: str | None,
    category: tuple[str, ...],
    flow: str | None,
    include_closed: bool,
) -> None:
    """List quarantined records with their category and the remote's message."""
    issues = _issues(config_path, url, category, flow, include_closed)
    if not issues:
        click.echo("no quarantined records")
        return
    for issue in issues:
        retried = f", seen {issue.retry_count + 1}×" if issue.retry_count else ""
        click.echo(
            f"#{issue.id} [{issue.category}] {issue.flow} {issue.system} {issue.object} {issue.record_key}"
            f" ({issue.status}{retried})"
        )
        click.echo(f"    {issue.message}")
        if issue.remote_message and issue.remote_message not in issue.message:
            click.echo(f"    remote: {issue.remote_code or ''} {issue.remote_message}".rstrip())
    click.echo(f"{len(issues)} record{'s' if len(issues) != 1 else ''}")


@errors.command("export")
@_store_options
@click.option("--csv", "as_csv", is_flag=True, required=True, help="Write CSV (the only format).")
@click.option(
    "--output", "-o", type=click.Path(path_type=Path, dir_okay=False), help="File (default stdout)."
)
def export_issues(
    config_path: Path | None,
    url: str | None,
    category: tuple[str, ...],
    flow: str | None,
    include_closed: bool,
    as_csv: bool,
    output: Path | None,
) -> None:
    """Export quarantined records as CSV, one row per record, for a spreadsheet or a ticket."""
    issues = _issues(config_path, url, category, flow, include_closed)
    handle = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
    try:
        writer = csv.writer(handle)
        writer.writerow(_COLUMNS)
        for issue in issues:
            writer.writerow(
                [
                    ""
                    if (value := getattr(issue, column)) is None
                    else getattr(value, "isoformat", lambda v=value: v)()
                    for column in _COLUMNS
                ]
            )
    finally:
        if output:
            handle.close()


@errors.command("retry")
@_store_options
@click.option("--id", "issue_ids", type=int, multiple=True, help="Only these issues (repeatable).")
def retry_issues(
    config_path: Path | None,
    url: str | None,
    category: tuple[str, ...],
    flow: str | None,
    include_closed: bool,
    issue_ids: tuple[int, ...],
) -> None:
    """Sync the people behind open contact issues again now (after fixing the cause).

    Records are read afresh from both systems and planned again; a write refused earlier is sent
    again. Issues of records that now sync are closed; the others stay open with the new answer."""
    if config_path is None:
        raise click.UsageError("retry needs --config FILE (it connects to HubSpot and Salesforce)")
    issues = [
        issue
        for issue in _issues(config_path, url, category, flow or "contacts", include_closed=False)
        if not issue_ids or issue.id in issue_ids
    ]
    emails = sorted({issue.record_key for issue in issues if "@" in issue.record_key})
    if not emails:
        click.echo("no open contact issue names a person by email; nothing to retry")
        return
    click.echo(f"retrying {len(emails)} people behind {len(issues)} open issues")
    config = load_config(config_path, env=os.environ)
    with open_runtime(config) as runtime:
        contacts = build_flows(runtime, selected_flows(config, "contacts"))["contacts"]
        assert isinstance(contacts, ContactFlow)
        summary = contacts.resync(emails, threading.Event(), forget_bases=False)
    print_summary("contacts", summary, dry_run=False)
    still = [i for i in _issues(config_path, url, (), "contacts", False) if i.record_key in emails]
    click.echo(f"{len(still)} of those issues are still open (`syncd errors list` shows why)")
    if summary.status != "succeeded":
        raise SystemExit(EXIT_FLOW_FAILED)
