"""Closed-loop benchmark: every flow enabled, run as the daemon runs them (one cycle, one shared probe).

Run:  .venv/bin/python benchmarks/closed_loop/bench_closed_loop.py [--people 2000] [--latency-ms 0]
      [--store sqlite|URL] [--json results.json]

The simulators run in their own process (`python -m syncd sandbox serve`), seeded with one population
(people, marketing email and web events, rep activities, deals, campaigns and members). All six flows
are built by the production builders (`syncd.cli.flows.BUILDERS`) with their default settings and run by
`Daemon.run_cycle` with the runtime's shared Salesforce probe — exactly what `syncd run` does on a tick.
API calls are the simulators' own counters, reset right before each measured cycle; the flows' clock
follows the simulators' clock, which the script moves past every flow's re-read window to reach a
truly idle cycle.

Measured:
- first cycle (the backfill of everything): wall and syncd CPU time, API calls per system, events
  stored (touches, activities, lifecycle events, campaign members, deal stage changes) per second;
- calls per event written: Salesforce calls of the engagements flow per 200 Tasks it wrote, HubSpot
  calls of the activities flow per 100 engagements it wrote;
- the idle cycle with every flow enabled (targets: <= 2 Salesforce calls, <= 4 HubSpot calls).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from benchmarks.closed_loop.harness import Control, runtime, serve  # noqa: E402
from syncd.cli.flows import build_flows  # noqa: E402
from syncd.config.flows import FLOW_NAMES, FlowsConfig  # noqa: E402
from syncd.daemon.scheduler import Daemon, Schedule  # noqa: E402
from syncd.store.migrate import upgrade  # noqa: E402
from syncd.store.models import (  # noqa: E402
    Activity,
    CampaignMember,
    DealStageChange,
    LifecycleEvent,
    Run,
    Touch,
)

SETTLE_S = 400  # past every flow's re-read window (the longest is five minutes)
SEARCH_INDEX_WAIT_S = 1.5  # the HubSpot simulator's search index lag (1 s) and a margin
EVENT_TABLES = {
    "touches": Touch,
    "activities": Activity,
    "lifecycle_events": LifecycleEvent,
    "campaign_members": CampaignMember,
    "deal_stage_changes": DealStageChange,
}


class SoleReplica:
    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


def every_flow() -> dict[str, Any]:
    """Each flow's configuration with its defaults (what `flows: {name: {}}` gives)."""
    flows = FlowsConfig.model_validate({name: {} for name in FLOW_NAMES})
    return flows.configured()


def events_stored(store: Any) -> dict[str, int]:
    with store.connect() as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in EVENT_TABLES.items()
        }


def last_runs(store: Any) -> dict[str, dict[str, Any]]:
    """Each flow's latest run: its counts and API calls."""
    with store.connect() as conn:
        rows = conn.execute(
            select(Run.flow, Run.status, Run.counts, Run.api_calls, Run.error).order_by(Run.id)
        ).all()
    return {
        flow: {"status": status, "counts": counts, "api_calls": calls, "error": error}
        for flow, status, counts, calls, error in rows
    }


def cycle(control: Control, daemon: Daemon, names: list[str], store: Any) -> dict[str, Any]:
    control.reset()
    wall, cpu = time.perf_counter(), time.process_time()
    ran = daemon.run_cycle(names)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    runs = last_runs(store)
    failed = {name: runs[name]["error"] for name in names if runs.get(name, {}).get("status") != "succeeded"}
    if failed or ran != names:
        raise SystemExit(f"cycle failed: ran {ran}, failures {failed}")
    calls = control.calls()
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "salesforce": calls["salesforce"],
        "hubspot": calls["hubspot"],
        "hubspot_by": calls["hubspot_by"],
        "runs": {n: runs[n] for n in names},
    }


def per(calls: int, written: int, unit: int) -> str:
    return f"{calls / (written / unit):.2f}" if written else "n/a (nothing written)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--store", default="sqlite", help="sqlite (a temporary file) or a SQLAlchemy URL")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    process, description = serve(args.people, args.latency_ms)
    tmp = tempfile.TemporaryDirectory()
    try:
        control = Control(description)
        url = f"sqlite:///{tmp.name}/bench.db" if args.store == "sqlite" else args.store
        upgrade(url)
        rt = runtime(description, url, control.now)
        rt.clock = control.now
        flows = build_flows(rt, every_flow())
        names = list(flows)
        daemon = Daemon(
            {name: Schedule(flow, 60) for name, flow in flows.items()},
            lambda _: SoleReplica(),
            probe=rt.probe,
        )

        first = cycle(control, daemon, names, rt.store)
        stored = events_stored(rt.store)
        settling = []
        for _ in range(3):  # the flows' own writes come back once, then their re-read windows pass
            control.advance(SETTLE_S)
            time.sleep(SEARCH_INDEX_WAIT_S)
            settling.append(cycle(control, daemon, names, rt.store))
        control.advance(60)
        time.sleep(SEARCH_INDEX_WAIT_S)
        idle = [cycle(control, daemon, names, rt.store) for _ in range(3)]
        rt.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
        tmp.cleanup()

    engagements = first["runs"]["engagements"]
    tasks = sum(engagements["counts"].get(f"salesforce.{k}", 0) for k in ("created", "updated"))
    activities = first["runs"]["activities"]
    pushed = sum(activities["counts"].get(f"hubspot.{k}", 0) for k in ("created", "updated"))
    total_events = sum(stored.values())
    result = {
        "people": args.people,
        "latency_ms": args.latency_ms,
        "store": "sqlite" if args.store == "sqlite" else "postgresql",
        "first_cycle": first,
        "events_stored": stored,
        "events_per_s_wall": round(total_events / first["wall_s"], 1),
        "events_per_cpu_s": round(total_events / first["cpu_s"], 1),
        "tasks_written": tasks,
        "salesforce_calls_per_200_tasks": per(engagements["api_calls"].get("salesforce", 0), tasks, 200),
        "engagements_written": pushed,
        "hubspot_calls_per_100_engagements": per(activities["api_calls"].get("hubspot", 0), pushed, 100),
        "settling": [{k: c[k] for k in ("salesforce", "hubspot", "wall_s")} for c in settling],
        "idle": [{k: c[k] for k in ("salesforce", "hubspot", "hubspot_by", "wall_s")} for c in idle],
    }
    flows_text = ", ".join(names)
    print(f"closed loop, {args.people} people, {args.latency_ms} ms, {result['store']}, flows: {flows_text}")
    print(f"first cycle: {first['wall_s']} s wall, {first['cpu_s']} s syncd CPU")
    print(f"  API calls: Salesforce {first['salesforce']}, HubSpot {first['hubspot']}")
    print(f"  events stored: {stored} = {total_events}")
    print(f"  {result['events_per_s_wall']} events/s wall, {result['events_per_cpu_s']} per syncd CPU-s")
    print(f"Tasks written {tasks}: {result['salesforce_calls_per_200_tasks']} Salesforce calls per 200")
    print(
        f"engagements written {pushed}: {result['hubspot_calls_per_100_engagements']} HubSpot calls per 100"
    )
    for number, c in enumerate(settling, 1):
        print(f"settling cycle {number}: Salesforce {c['salesforce']}, HubSpot {c['hubspot']}")
    for number, c in enumerate(idle, 1):
        print(f"idle cycle {number}: Salesforce {c['salesforce']}, HubSpot {c['hubspot']} {c['hubspot_by']}")
    worst = (max(c["salesforce"] for c in idle), max(c["hubspot"] for c in idle))
    met = worst[0] <= 2 and worst[1] <= 4
    verdict = "met" if met else "NOT met"
    print(f"idle with every flow: max Salesforce {worst[0]} (<= 2), HubSpot {worst[1]} (<= 4): {verdict}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
