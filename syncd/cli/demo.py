"""`syncd demo`: syncd end to end against the sandbox simulators, on a local SQLite store.

Starts both simulators seeded with realistic data (duplicates, case variants, invalid emails, a
quarter of marketing and sales activity, deals and campaigns), runs a first contact sync, proves the
next cycle writes nothing, makes an edit on each side and shows each crossing once — printing per
system what was created, updated, left unchanged and quarantined (with reasons), and the API calls
every step cost. Then every flow of the closed loop runs in one cycle, and again to show it writes
nothing twice.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.hubspot.config import HubSpotConfig as HubSpotSettings
from connectors.hubspot.connector import HubSpotConnector
from connectors.hubspot.sandbox import HubSpotSandbox
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox.sandbox import SalesforceSandbox
from connectors.salesforce.settings import PasswordLogin, SalesforceSettings
from connectors.sandbox_core.server import make_tls
from syncd.budget import ApiBudget, DailyAllowance
from syncd.cli.compose import Runtime, contact_flow
from syncd.cli.demo_loop import run_closed_loop
from syncd.core.lifecycle import LifecycleSettings
from syncd.engine.contacts import FlowSettings
from syncd.engine.runs import RunSummary
from syncd.mapping.defaults import default_mapping
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.store.models import Identity, Issue, Person


class _Never:
    def is_set(self) -> bool:
        return False


@dataclass(frozen=True)
class _Sandboxes:
    hubspot: HubSpotSandbox
    salesforce: SalesforceSandbox


def _runtime(boxes: _Sandboxes, store_url: str) -> Runtime:
    hubspot = HubSpotConnector(
        HubSpotSettings(access_token=boxes.hubspot.access_token, base_url=boxes.hubspot.base_url)
    )
    sf = boxes.salesforce
    salesforce = SalesforceConnector(
        SalesforceSettings(
            credentials=PasswordLogin(
                username=sf.username,
                password=sf.password,
                client_id=sf.client_id,
                client_secret=sf.client_secret,
                security_token=sf.security_token,
            ),
            login_url=sf.token_url.split("/services/", 1)[0],
            ca_file=str(sf.ca_file),
        ),
        budget=ApiBudget(DailyAllowance("salesforce", allocated=5000)),
    )
    return Runtime(hubspot, salesforce, make_engine(store_url))


def _table(summary: RunSummary) -> list[str]:
    rows = []
    for system in ("hubspot", "salesforce"):
        cells = [
            f"{what} {summary.counts.get(f'{system}.{what}', 0)}"
            for what in ("created", "updated", "unchanged", "quarantined")
        ]
        rows.append(f"    {system:<11} {', '.join(cells)}; {summary.api_calls.get(system, 0)} API calls")
    return rows


def _control(base_url: str, path: str, body: dict[str, Any], *, verify: str | bool = False) -> Any:
    with httpx.Client(base_url=base_url, verify=verify, trust_env=False, timeout=30) as client:
        response = client.post(path, json=body)
        response.raise_for_status()
        return response.json()


@click.command()
@click.option("--contacts", default=1000, show_default=True, help="People to seed in the simulators.")
@click.option(
    "--seed", default=1, show_default=True, help="Seed of the simulated data (same seed, same data)."
)
@click.option(
    "--store",
    "store_url",
    default=None,
    help="Store URL to write (default: a fresh SQLite file in a temporary folder).",
)
def demo(contacts: int, seed: int, store_url: str | None) -> None:
    """Run the contact sync end to end against the sandbox simulators and show what happened."""
    work = Path(tempfile.mkdtemp(prefix="syncd-demo-"))
    store_url = store_url or f"sqlite:///{work / 'syncd.db'}"
    tls = make_tls(work / "tls")
    click.echo(f"Starting the HubSpot and Salesforce simulators ({contacts} people, seed {seed})...")
    with (
        HubSpotSandbox(seed=seed, contacts=contacts) as hubspot,
        SalesforceSandbox(seed=seed, people=contacts, tls=tls) as salesforce,
    ):
        boxes = _Sandboxes(hubspot, salesforce)
        upgrade(store_url)
        with _runtime(boxes, store_url) as runtime:
            flow = contact_flow(
                runtime, default_mapping("contacts"), settings=FlowSettings(lifecycle=LifecycleSettings())
            )
            click.echo(f"Store: {store_url}\n")

            started = time.monotonic()
            first = flow.run("demo", _Never())
            click.echo(
                f"1. First sync, both ways ({time.monotonic() - started:.1f} s, status {first.status}):"
            )
            click.echo("\n".join(_table(first)))

            second = flow.run("demo", _Never())
            writes = sum(second.counts.get(k, 0) for k in second.counts if k.endswith(("created", "updated")))
            click.echo(f"\n2. Next cycle right after: {writes} writes (nothing changed, nothing echoed):")
            click.echo("\n".join(_table(second)))

            _edit_both_sides(boxes, runtime)
            # HubSpot's search index shows a change only after a short lag (the simulator models it).
            time.sleep(hubspot.settings.search_index_lag_ms / 1000 + 0.2)
            third = flow.run("demo", _Never())
            click.echo("\n3. One edit in HubSpot and one in Salesforce, then a cycle: each crosses once:")
            click.echo("\n".join(_table(third)))

            _report_store(runtime)
            if first.status != "succeeded":
                raise click.ClickException(f"the first sync did not complete: {first.error}")
            if not run_closed_loop(runtime, salesforce.instance_url):
                raise click.ClickException("a closed-loop flow did not complete: `syncd status` shows why")


def _edit_both_sides(boxes: _Sandboxes, runtime: Runtime) -> None:
    """Change one linked person's job title in HubSpot and another's in Salesforce, as a user would."""
    with Session(runtime.store) as session:
        rows = session.execute(
            select(Identity.system, Identity.object, Identity.external_id, Identity.person_id)
            .where(Identity.active)
            .order_by(Identity.person_id)
        ).all()
    by_person: dict[int, dict[str, tuple[str, str]]] = {}
    for system, obj, external_id, person_id in rows:
        by_person.setdefault(person_id, {})[system] = (obj, external_id)
    linked = [ids for ids in by_person.values() if len(ids) == 2]
    if len(linked) < 2:
        return
    _, hubspot_id = linked[0]["hubspot"]
    _control(
        boxes.hubspot.base_url,
        f"/__sandbox/objects/contacts/{hubspot_id}/properties",
        {"properties": {"jobtitle": "VP Demand Generation"}},
    )
    obj, salesforce_id = linked[1]["salesforce"]
    _control(
        boxes.salesforce.instance_url,
        f"/__sandbox/records/{obj}/{salesforce_id}/edit",
        {"fields": {"Title": "Head of Revenue Operations"}},
        verify=str(boxes.salesforce.ca_file),
    )


def _report_store(runtime: Runtime) -> None:
    with Session(runtime.store) as session:
        people = session.scalar(select(func.count()).select_from(Person)) or 0
        retired = session.scalar(select(func.count()).select_from(Identity).where(~Identity.active)) or 0
        issues = session.execute(
            select(Issue.category, Issue.system, Issue.record_key, Issue.message)
            .where(Issue.status == "open")
            .order_by(Issue.category, Issue.record_key)
        ).all()
    click.echo(
        f"\nThe store now knows {people} people "
        f"({retired} records retired after merges, conversions or deletes)."
    )
    if not issues:
        click.echo("No record was quarantined.")
        return
    by_category: dict[str, int] = {}
    for category, *_ in issues:
        by_category[category] = by_category.get(category, 0) + 1
    summary = ", ".join(f"{n} {c}" for c, n in sorted(by_category.items()))
    click.echo(f"{len(issues)} records quarantined with their reasons ({summary}); a sample:")
    for category, system, key, message in issues[:8]:
        click.echo(f"  [{category}] {system} {key}: {message}")
    click.echo("List them all with `syncd errors list`; nothing else was held up by them.")
