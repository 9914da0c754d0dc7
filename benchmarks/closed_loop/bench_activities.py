"""Sales-activity benchmark: the activities flow and the engagements flow's HubSpot-logged leg.

Run:  .venv/bin/python benchmarks/closed_loop/bench_activities.py [--people 5000] [--latency-ms 0]
      [--store sqlite|URL] [--logged 20] [--json results.json]

The simulators run in their own process (`python -m syncd sandbox serve`). People are linked straight
into the store from both simulators' snapshots (Leads, Contacts and HubSpot contacts by email), so the
measurement is these flows alone, not the contacts flow before them. API calls are the simulators' own
counters, reset right before each measured cycle. The flows' clock follows the simulators' clock, which
the script moves past the engagements flow's five-minute re-read window to reach a truly idle cycle.

Measured:
- activities, first load: every seeded Task and Event read (composite probe + `nextRecordsUrl`), stored,
  and the reps' ones written to HubSpot (batch upsert by `syncd_source_id` + one associations batch):
  events per second (wall, syncd CPU), API calls per event written;
- activities, idle: one Salesforce call (Tasks and Events in one composite request), no HubSpot call;
- activities after reps logged `--logged` more calls, emails and meetings;
- engagements with the logged leg: its first listing (every HubSpot engagement once), its idle cycle
  (no association or batch call: the calls are the engagements flow's own), and a cycle after reps
  logged `--logged` meetings in HubSpot (associations reads and one batch read).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from benchmarks.closed_loop.harness import Control, Never, link_people, measured, runtime, serve  # noqa: E402
from syncd.cli.compose import engagement_flow  # noqa: E402
from syncd.cli.compose_activities import activity_flow, logged_engagements  # noqa: E402
from syncd.engine.logged import LoggedSettings  # noqa: E402
from syncd.engine.runs import RunSummary  # noqa: E402
from syncd.store.migrate import upgrade  # noqa: E402

SETTLE_S = 400  # past the engagements flow's five-minute re-read window
SEARCH_INDEX_WAIT_S = 1.5  # the HubSpot simulator's search index lag (1 s) and a margin


def log_meetings(description: dict[str, Any], contacts: list[str], when: datetime) -> None:
    """Reps log a meeting on each contact in HubSpot (the SDK, as a rep's tool would)."""
    from hubspot import HubSpot
    from hubspot.crm.objects.meetings import SimplePublicObjectInputForCreate

    hs = description["hubspot"]
    client = HubSpot(access_token=hs["access_token"], host=hs["base_url"])
    to_contact = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 200}
    for contact in contacts:
        client.crm.objects.meetings.basic_api.create(
            SimplePublicObjectInputForCreate(
                properties={"hs_timestamp": when.isoformat(), "hs_meeting_title": "Benchmark meeting"},
                associations=[{"to": {"id": contact}, "types": [to_contact]}],
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--store", default="sqlite", help="sqlite (a temporary file) or a database URL")
    parser.add_argument("--logged", type=int, default=20, help="activities reps log between cycles")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-activities-"))
    store_url = f"sqlite:///{tmp / 'store.db'}" if args.store == "sqlite" else args.store
    upgrade(store_url)
    process, description = serve(args.people, args.latency_ms)
    results: dict[str, Any] = {"people": args.people, "latency_ms": args.latency_ms, "store": args.store}
    try:
        control = Control(description)
        salesforce, hubspot = control.snapshot("salesforce"), control.snapshot("hubspot")
        results["tasks_and_events"] = sum(len(salesforce["objects"][o]) for o in ("Task", "Event"))
        rt = runtime(description, store_url, control.now)
        results["people_linked"] = link_people(rt, salesforce, hubspot)
        activities = activity_flow(rt, clock=control.now)
        discovery = logged_engagements(rt, LoggedSettings(), clock=control.now)
        engagements = engagement_flow(rt, clock=control.now, logged=discovery)

        def run_activities() -> RunSummary:
            summary = activities.run("once", Never())
            rt.probe.discard()
            return summary

        first, cost = measured(control, run_activities)
        results["activities_first_load_hubspot_by"] = cost["hubspot_by"]
        stored = first.counts.get("salesforce.activities", 0)
        written = first.counts.get("hubspot.created", 0) + first.counts.get("hubspot.updated", 0)
        results["activities_first_load"] = {
            **{k: v for k, v in cost.items() if k != "hubspot_by"},
            "activities_stored": stored,
            "engagements_written": written,
            "activities_per_s": round(stored / cost["wall_s"]),
            "activities_per_cpu_s": round(stored / cost["cpu_s"]),
            "salesforce_calls_per_1000_activities": round(1000 * cost["salesforce"] / max(stored, 1), 2),
            "hubspot_calls_per_100_engagements": round(100 * cost["hubspot"] / max(written, 1), 2),
        }
        results["activities_idle"] = [
            {k: v for k, v in measured(control, run_activities)[1].items() if k != "hubspot_by"}
            for _ in range(3)
        ]
        control.sf.post("/activity", json={"activities": args.logged}).raise_for_status()
        after, cost = measured(control, run_activities)
        results["activities_after_reps_logged"] = {
            **{k: v for k, v in cost.items() if k != "hubspot_by"},
            "activities_stored": after.counts.get("salesforce.activities", 0),
            "engagements_written": after.counts.get("hubspot.created", 0),
        }

        def run_engagements() -> RunSummary:
            summary = engagements.run("once", Never())
            rt.probe.discard()
            return summary

        listing, cost = measured(control, run_engagements)
        logged_calls = {
            k: n
            for k, n in cost["hubspot_by"].items()
            if k.startswith("GET /crm/v3/objects/") or "associations" in k
        }
        results["engagements_first_run_with_logged_leg"] = {
            **{k: v for k, v in cost.items() if k != "hubspot_by"},
            "touches": listing.counts.get("hubspot.touches", 0),
            "tasks": listing.counts.get("salesforce.created", 0),
            "logged_leg_calls": logged_calls,
        }
        for _ in range(2):  # past the re-read window of the first run, then idle
            control.advance(SETTLE_S)
            run_engagements()
        control.advance(SETTLE_S)
        _, cost = measured(control, run_engagements)
        results["engagements_idle_with_logged_leg"] = cost
        contacts = [r["id"] for r in hubspot["objects"]["contacts"][: args.logged]]
        log_meetings(description, contacts, control.now())
        time.sleep(SEARCH_INDEX_WAIT_S)  # HubSpot's search shows the contacts' new summary a moment later
        logged, cost = measured(control, run_engagements)
        results["engagements_after_reps_logged_meetings"] = {
            **cost,
            "touches": logged.counts.get("hubspot.touches", 0),
            "tasks": logged.counts.get("salesforce.created", 0),
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
