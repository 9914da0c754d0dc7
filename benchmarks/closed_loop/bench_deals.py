"""Deals benchmark: the deals flow (HubSpot deals <-> Salesforce Opportunities) against the simulators.

Run:  .venv/bin/python benchmarks/closed_loop/bench_deals.py [--people 5000] [--latency-ms 0]
      [--store sqlite|URL] [--changes 20] [--json results.json]

The simulators run in their own process (`python -m syncd sandbox serve`). People are linked straight into
the store from both simulators' snapshots (Leads, Contacts and HubSpot contacts by email), as a contacts
cycle would, so the measurement is the deals flow alone. API calls are the simulators' own counters,
reset right before each measured cycle; the flow's clock follows the simulators' clock, which the script
moves past the flow's re-read window (60 s) to reach a truly idle cycle.

Measured:
- first sync: every seeded deal linked or created on the other side, contact roles and associations,
  stage history: deals per second (wall, syncd CPU) and API calls;
- the cycle after it (our own writes come back: nothing is written);
- idle: target one Salesforce call (Opportunity, roles, history in one Composite) and one HubSpot call;
- after `--changes` stage moves on each side: each crosses once.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from benchmarks.closed_loop.harness import Control, Never, link_people, measured, runtime, serve  # noqa: E402
from syncd.cli.compose import Runtime  # noqa: E402
from syncd.cli.compose_deals import deal_flow  # noqa: E402
from syncd.engine.deals import DealSettings  # noqa: E402
from syncd.engine.runs import RunSummary  # noqa: E402
from syncd.mapping.defaults import default_mapping  # noqa: E402
from syncd.store.migrate import upgrade  # noqa: E402
from syncd.store.models import Deal, DealContact, DealStageChange  # noqa: E402

SETTLE_S = 90  # past the flow's 60 s re-read window
INDEX_LAG_S = 1.5


def counted(rt: Runtime) -> dict[str, int]:
    with rt.store.connect() as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(model)).scalar_one())
            for name, model in (
                ("deals", Deal),
                ("deal_contacts", DealContact),
                ("stage_visits", DealStageChange),
            )
        }


def move_stages(control: Control, rt: Runtime, n: int) -> None:
    """Reps move `n` open deals on each side: Opportunities to Closed Won, HubSpot deals to contractsent."""
    with rt.store.connect() as conn:
        rows = conn.execute(
            select(Deal.hubspot_id, Deal.salesforce_id).where(Deal.is_closed.is_(False)).order_by(Deal.id)
        ).all()
    for _hubspot_id, salesforce_id in rows[:n]:
        control.sf.post(
            f"/opportunities/{salesforce_id}/stage", json={"stage": "Closed Won"}
        ).raise_for_status()
    for hubspot_id, _salesforce_id in rows[n : 2 * n]:
        control.hs.post(f"/deals/{hubspot_id}/stage", json={"stage": "contractsent"}).raise_for_status()


def brief(cost: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cost.items() if not k.endswith("_by")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--store", default="sqlite", help="sqlite (a temporary file) or a database URL")
    parser.add_argument("--changes", type=int, default=20, help="stage moves on each side between cycles")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-deals-"))
    store_url = f"sqlite:///{tmp / 'store.db'}" if args.store == "sqlite" else args.store
    upgrade(store_url)
    process, description = serve(args.people, args.latency_ms)
    results: dict[str, Any] = {"people": args.people, "latency_ms": args.latency_ms, "store": args.store}
    try:
        control = Control(description)
        salesforce, hubspot = control.snapshot("salesforce"), control.snapshot("hubspot")
        opportunities = [o for o in salesforce["objects"]["Opportunity"] if not o["IsDeleted"]]
        deals = [d for d in hubspot["objects"]["deals"] if not d["archived"]]
        linked = sum(1 for o in opportunities if o.get("HubSpot_Deal_Id__c"))
        results["seeded"] = {
            "opportunities": len(opportunities),
            "hubspot_deals": len(deals),
            "linked": linked,
        }
        rt = runtime(description, store_url, control.now)
        results["people_linked"] = link_people(rt, salesforce, hubspot)
        flow = deal_flow(rt, default_mapping("deals"), settings=DealSettings(), clock=control.now)

        def run() -> RunSummary:
            summary = flow.run("once", Never())
            rt.probe.discard()
            return summary

        first, cost = measured(control, run)
        handled = len(opportunities) + len(deals) - linked
        results["first_sync"] = {
            **brief(cost),
            "deals": handled,
            "counts": {k: v for k, v in first.counts.items() if "." in k},
            "deals_per_s": round(handled / cost["wall_s"]),
            "deals_per_cpu_s": round(handled / cost["cpu_s"]),
            "store": counted(rt),
        }
        control.advance(SETTLE_S)
        second, cost = measured(control, run)
        results["second_cycle"] = {
            **brief(cost),
            "writes": {k: v for k, v in second.counts.items() if k.endswith((".created", ".updated"))},
        }
        control.advance(SETTLE_S)
        run()
        control.advance(SETTLE_S)
        results["idle"] = [measured(control, run)[1] for _ in range(3)]
        move_stages(control, rt, args.changes)
        time.sleep(INDEX_LAG_S)  # HubSpot's search shows a change after its index lag (simulator: 1 s)
        moved, cost = measured(control, run)
        results["after_stage_moves"] = {
            **cost,
            "moves_each_side": args.changes,
            "counts": {k: v for k, v in moved.counts.items() if "." in k},
        }
        print(json.dumps(results, indent=2))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
        rt.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        if args.store == "sqlite":
            for f in tmp.iterdir():
                f.unlink()
            tmp.rmdir()


if __name__ == "__main__":
    main()
