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
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from connectors.hubspot.config import HubSpotConfig  # noqa: E402
from connectors.hubspot.connector import HubSpotConnector  # noqa: E402
from connectors.salesforce.connector import SalesforceConnector  # noqa: E402
from connectors.salesforce.settings import PasswordLogin, SalesforceSettings  # noqa: E402
from syncd.budget import ApiBudget, DailyAllowance  # noqa: E402
from syncd.cli.compose import Runtime, engagement_flow  # noqa: E402
from syncd.cli.compose_activities import activity_flow, logged_engagements  # noqa: E402
from syncd.core.normalize import canonical_email  # noqa: E402
from syncd.engine.logged import LoggedSettings  # noqa: E402
from syncd.engine.runs import RunSummary  # noqa: E402
from syncd.store.db import make_engine  # noqa: E402
from syncd.store.migrate import upgrade  # noqa: E402
from syncd.store.models import Identity, Person  # noqa: E402

SETTLE_S = 400  # past the engagements flow's five-minute re-read window
SEARCH_INDEX_WAIT_S = 1.5  # the HubSpot simulator's search index lag (1 s) and a margin


class Never:
    def is_set(self) -> bool:
        return False


def serve(people: int, latency_ms: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "syncd", "sandbox", "serve", "--seed", "1", "--contacts", str(people),
         "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise SystemExit("the simulators did not start")
    return process, json.loads(line)


class Control:
    """Both simulators' control planes, and a clock for the flows that follows theirs."""

    def __init__(self, description: dict[str, Any]) -> None:
        ca = ssl.create_default_context(cafile=description["ca_file"])
        self.sf = httpx.Client(
            base_url=description["salesforce"]["control_url"], verify=ca, trust_env=False, timeout=600
        )
        self.hs = httpx.Client(base_url=description["hubspot"]["control_url"], trust_env=False, timeout=600)
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: int) -> None:
        for client in (self.sf, self.hs):
            client.post("/clock", json={"advance_seconds": seconds}).raise_for_status()
        self.offset += timedelta(seconds=seconds)

    def reset(self) -> None:
        for client in (self.sf, self.hs):
            client.delete("/counters").raise_for_status()

    def calls(self) -> dict[str, Any]:
        sf, hs = self.sf.get("/counters").json(), self.hs.get("/counters").json()
        return {"salesforce": int(sf["total"]), "hubspot": int(hs["total"]), "hubspot_by": hs["by_endpoint"]}

    def snapshot(self, system: str) -> dict[str, Any]:
        response = (self.sf if system == "salesforce" else self.hs).get("/snapshot")
        response.raise_for_status()
        return dict(response.json())


def runtime(description: dict[str, Any], store_url: str, clock: Callable[[], datetime]) -> Runtime:
    sf, hs = description["salesforce"], description["hubspot"]
    hubspot = HubSpotConnector(
        HubSpotConfig(access_token=hs["access_token"], base_url=hs["base_url"], burst_limit=190), now=clock
    )
    salesforce = SalesforceConnector(
        SalesforceSettings(
            credentials=PasswordLogin(
                username=sf["username"],
                password=sf["password"],
                client_id=sf["client_id"],
                client_secret=sf["client_secret"],
                security_token=sf["security_token"],
            ),
            login_url=sf["token_url"].split("/services/", 1)[0],
            ca_file=sf["ca_file"],
        ),
        budget=ApiBudget(DailyAllowance("salesforce", allocated=1_000_000)),
        now=clock,
    )
    return Runtime(hubspot, salesforce, make_engine(store_url))


def link_people(rt: Runtime, salesforce: dict[str, Any], hubspot: dict[str, Any]) -> int:
    """Every Lead, Contact and HubSpot contact linked to a person by its email, as a contacts cycle would."""
    now = datetime.now(UTC)
    by_email: dict[str, list[tuple[str, str, str]]] = {}
    for obj in ("Lead", "Contact"):
        for record in salesforce["objects"].get(obj, []):
            email = canonical_email(record.get("Email") or "")
            if email and not record.get("IsDeleted"):
                by_email.setdefault(email, []).append(("salesforce", obj, record["Id"]))
    for record in hubspot["objects"]["contacts"]:
        email = canonical_email(record["properties"].get("email") or "")
        if email and not record["archived"]:
            by_email.setdefault(email, []).append(("hubspot", "contacts", record["id"]))
    with rt.store.begin() as conn:
        emails = sorted(by_email)
        ids: dict[str, int] = {}
        for start in range(0, len(emails), 1000):
            rows = conn.execute(
                insert(Person).returning(Person.id, Person.email),
                [{"email": e, "created_at": now, "updated_at": now} for e in emails[start : start + 1000]],
            )
            ids.update({email: pid for pid, email in rows})
        identities = [
            {"person_id": ids[email], "system": system, "object": obj, "external_id": record_id,
             "active": True, "linked_at": now}
            for email, records in by_email.items()
            for system, obj, record_id in records
        ]  # fmt: skip
        for start in range(0, len(identities), 2000):
            conn.execute(insert(Identity), identities[start : start + 2000])
    return len(ids)


def measured(control: Control, run: Callable[[], RunSummary]) -> tuple[RunSummary, dict[str, Any]]:
    control.reset()
    wall, cpu = time.perf_counter(), time.process_time()
    summary = run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert summary.status == "succeeded", summary.error
    return summary, {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), **control.calls()}


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
