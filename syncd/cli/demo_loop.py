"""The closed-loop part of `syncd demo`: every flow in one cycle, then what the store now holds."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import click
from sqlalchemy import func, select

from syncd.cli.compose import Runtime
from syncd.cli.flows import build_flows
from syncd.config.flows import FlowsConfig
from syncd.engine import Flow
from syncd.engine.runs import RunSummary
from syncd.store.models import (
    Activity,
    Alert,
    CampaignMember,
    Cost,
    Deal,
    DealStageChange,
    LifecycleEvent,
    Touch,
)


class _Never:
    def is_set(self) -> bool:
        return False


def demo_flows(salesforce_url: str) -> dict[str, Any]:
    """Every flow with its defaults, and one alert rule: a demo request becomes a Task for its owner."""
    flows = FlowsConfig.model_validate(
        {
            "contacts": {},
            "deals": {},
            "campaigns": {},
            "engagements": {},
            "activities": {},
            "alerts": {
                "links": {"salesforce_url": salesforce_url},
                "rules": [
                    {
                        "name": "demo-request",
                        "kind": "form_submission",
                        "forms": ["Request a demo"],
                        "notify": ["salesforce_task"],
                    }
                ],
            },
        }
    )
    return flows.configured()


def cycle(runtime: Runtime, flows: Mapping[str, Flow]) -> dict[str, RunSummary]:
    """One daemon tick: the flows' Salesforce first pages in one shared probe, then each flow in order."""
    runtime.probe.prefetch_for(flows.values())
    try:
        return {name: flow.run("demo", _Never()) for name, flow in flows.items()}
    finally:
        runtime.probe.discard()


def _line(name: str, summary: RunSummary) -> str:
    counts = ", ".join(f"{key} {n}" for key, n in sorted(summary.counts.items()) if n)
    calls = ", ".join(f"{system} {n}" for system, n in sorted(summary.api_calls.items()))
    return f"    {name:<12} {summary.status}; {counts or 'nothing to do'}; API calls: {calls or 'none'}"


def _writes(summaries: Mapping[str, RunSummary]) -> int:
    return sum(
        n for s in summaries.values() for key, n in s.counts.items() if key.endswith(("created", "updated"))
    )


def run_closed_loop(runtime: Runtime, salesforce_url: str) -> bool:
    """Print the closed loop's first and next cycle; False when a flow failed."""
    flows = build_flows(runtime, demo_flows(salesforce_url))
    started = time.monotonic()
    first = cycle(runtime, flows)
    click.echo(f"\n4. The closed loop: every flow in one cycle ({time.monotonic() - started:.1f} s):")
    click.echo("\n".join(_line(name, summary) for name, summary in first.items()))
    second = cycle(runtime, flows)
    click.echo(f"\n5. Next cycle of every flow: {_writes(second)} writes (nothing changed, nothing echoed).")
    _report_loop(runtime)
    failed = [name for name, summary in (*first.items(), *second.items()) if summary.status != "succeeded"]
    return not failed


def _report_loop(runtime: Runtime) -> None:
    with runtime.store.connect() as conn:

        def count(table: Any, *where: Any) -> int:
            return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())

        click.echo(
            "\nThe closed-loop store now holds "
            f"{count(Touch)} touches, {count(Activity)} sales activities, "
            f"{count(LifecycleEvent)} lifecycle stages entered, {count(Deal)} deals "
            f"({count(Deal, Deal.is_won)} won, {count(DealStageChange)} stage changes), "
            f"{count(CampaignMember)} campaign members, {count(Cost)} costs and {count(Alert)} alerts."
        )
    click.echo(
        "Read it with `syncd report attribution|roi|pipeline|funnel|sla|pacing --url STORE-URL` "
        "(the store URL printed above)."
    )
