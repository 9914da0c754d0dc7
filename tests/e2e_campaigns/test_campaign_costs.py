"""Costs from Salesforce campaigns and from the cost file, idempotent across runs and re-imports."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from syncd.cli.compose_campaigns import campaign_flow
from syncd.core.channels import ChannelTaxonomy
from syncd.engine.campaigns import CampaignFlow, CampaignSettings
from syncd.engine.runs import RunSummary
from syncd.store.models import Cost, Issue

from .world import Never, World


def run(world: World, flow: CampaignFlow) -> RunSummary:
    world.let_time_pass(11)
    summary = flow.run("once", Never())
    assert summary.status == "succeeded", summary.error
    return summary


def flow(world: World, cost_file: Path) -> CampaignFlow:
    assert world.runtime is not None
    settings = CampaignSettings(channels=ChannelTaxonomy(), cost_file=cost_file, currency="USD")
    return campaign_flow(world.runtime, settings, clock=world.clock.now)


def file_costs(world: World) -> dict[str, tuple[str | None, int | None, str, str, Decimal, str | None]]:
    with world.store.connect() as conn:
        rows = conn.execute(select(Cost.__table__).where(Cost.source == "cost_file")).mappings()
        return {
            c["source_key"]: (
                c["channel"],
                c["campaign_id"],
                c["period_start"].isoformat(),
                c["period_end"].isoformat(),
                c["amount"],
                c["currency"],
            )
            for c in rows
        }


def open_issues(world: World) -> dict[str, Any]:
    with world.store.connect() as conn:
        rows = conn.execute(
            select(Issue.record_key, Issue.message).where(Issue.status == "open", Issue.system == "cost_file")
        )
        return {key: message for key, message in rows}


def test_the_cost_file_is_imported_bad_lines_reported_and_a_reimport_updates(
    world: World, tmp_path: Path
) -> None:
    campaign = world.records("Campaign")[0]
    path = tmp_path / "costs.csv"
    path.write_text(
        "channel,campaign,period_start,period_end,amount,currency\n"
        "paid_search,,2026-01-01,2026-01-31,1200.50,USD\n"
        f",{campaign['Name']},2026-02-01,2026-02-28,300,usd\n"
        "paid_social,,2026-02-30,2026-03-01,10,USD\n"  # line 4: no such date
        "webinar,,2026-01-01,2026-01-31,-5,USD\n"  # line 5: negative
        "email,Both,2026-01-01,2026-01-31,5,USD\n",  # line 6: channel and campaign
        encoding="utf-8",
    )
    costs = flow(world, path)

    run(world, costs)

    imported = file_costs(world)
    assert sorted(v[4] for v in imported.values()) == [Decimal("300.00"), Decimal("1200.50")]
    assert next(v for v in imported.values() if v[0] == "paid_search")[2:4] == ("2026-01-01", "2026-01-31")
    assert next(v for v in imported.values() if v[0] is None)[1] is not None  # the campaign's store id
    issues = open_issues(world)
    assert sorted(issues) == ["costs.csv:4", "costs.csv:5", "costs.csv:6"]
    assert f"{path}:4: period_start" in issues["costs.csv:4"]
    salesforce_costs = 0
    with world.store.connect() as conn:
        salesforce_costs = len(
            conn.execute(select(Cost.id).where(Cost.source == "salesforce_campaign")).all()
        )
    assert salesforce_costs == len(world.records("Campaign"))

    # Unchanged file: nothing read again, nothing written.
    before = file_costs(world)
    again = run(world, costs)
    assert file_costs(world) == before
    assert not any(k.startswith("costs.") for k in again.counts)

    # Re-import: an amount changes, a line goes away, the bad lines are fixed.
    path.write_text(
        "channel,period_start,period_end,amount,currency\n"
        "paid_search,2026-01-01,2026-01-31,1500,USD\n"
        "paid_social,2026-02-01,2026-02-28,10,USD\n",
        encoding="utf-8",
    )
    reimport = run(world, costs)

    after = file_costs(world)
    assert sorted((v[0], v[4]) for v in after.values()) == [
        ("paid_search", Decimal("1500.00")),
        ("paid_social", Decimal("10.00")),
    ]
    assert next(k for k, v in after.items() if v[0] == "paid_search") in before  # updated, same key
    assert reimport.counts.get("costs.updated") == 1
    assert reimport.counts.get("costs.deleted") == 1
    assert open_issues(world) == {}


def test_a_line_naming_a_campaign_not_synced_yet_is_imported_once_it_is(world: World, tmp_path: Path) -> None:
    path = tmp_path / "costs.csv"
    path.write_text(
        "campaign,period_start,period_end,amount\nSpring Launch 2026,2026-03-01,2026-03-31,999\n",
        encoding="utf-8",
    )
    costs = flow(world, path)
    run(world, costs)
    assert file_costs(world) == {}
    assert "not in the store" in open_issues(world)["costs.csv:2"]

    world.post(
        "salesforce",
        f"/__sandbox/records/Campaign/{world.records('Campaign')[0]['Id']}/edit",
        {"fields": {"Name": "Spring Launch 2026"}},
    )
    world.let_time_pass(120)
    run(world, costs)

    assert [v[4] for v in file_costs(world).values()] == [Decimal("999.00")]
    assert open_issues(world) == {}
