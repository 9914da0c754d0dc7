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

from sqlalchemy import func, insert, select  # noqa: E402

from connectors.hubspot.config import HubSpotConfig  # noqa: E402
from connectors.hubspot.connector import HubSpotConnector  # noqa: E402
from connectors.salesforce.connector import SalesforceConnector  # noqa: E402
from connectors.salesforce.settings import PasswordLogin, SalesforceSettings  # noqa: E402
from syncd.budget import ApiBudget, DailyAllowance  # noqa: E402
from syncd.cli.compose import Runtime  # noqa: E402
from syncd.cli.compose_deals import deal_flow  # noqa: E402
from syncd.core.normalize import canonical_email  # noqa: E402
from syncd.engine.deals import DealSettings  # noqa: E402
from syncd.engine.runs import RunSummary  # noqa: E402
from syncd.mapping.defaults import default_mapping  # noqa: E402
from syncd.store.db import make_engine  # noqa: E402
from syncd.store.migrate import upgrade  # noqa: E402
from syncd.store.models import Deal, DealContact, DealStageChange, Identity, Person  # noqa: E402

SETTLE_S = 90  # past the flow's 60 s re-read window
INDEX_LAG_S = 1.5


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
    """Both simulators' control planes, and a clock for the flow that follows theirs."""

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
        return {
            "salesforce": int(sf["total"]),
            "hubspot": int(hs["total"]),
            "salesforce_by": sf["by_endpoint"],
            "hubspot_by": hs["by_endpoint"],
        }

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
            if email and not record.get("IsDeleted") and not record.get("IsConverted"):
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
