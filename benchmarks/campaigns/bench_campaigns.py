"""Campaigns-flow benchmark: records per second on a first load, and the API calls of an idle cycle.

Run:  .venv/bin/python benchmarks/campaigns/bench_campaigns.py [--people 20000] [--latency-ms 0]
      [--store sqlite|URL] [--json results.json]

The simulators run in their own process (`python -m syncd sandbox serve`). The people behind the
campaign members are linked straight into the store from the Salesforce simulator's snapshot (Lead and
Contact ids by email), so the measurement is the campaigns flow alone, not the contacts flow before it.
API calls are the simulators' own counters, reset right before each measured cycle.

Measured (the flow's re-read window set to `--lag-seconds`, 5 s, instead of 60 s so the run can wait it
out): the first run (every Campaign and CampaignMember read through the composite probe and
`nextRecordsUrl` paging, stored with costs and response touches), records per second of wall time and of
syncd's CPU time; then idle cycles (nothing changed: one composite call, no HubSpot call); then one cycle
after a rep edited a few members.
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
from syncd.cli.compose import Runtime  # noqa: E402
from syncd.cli.compose_campaigns import campaign_flow  # noqa: E402
from syncd.core.normalize import canonical_email  # noqa: E402
from syncd.engine.campaigns import CampaignSettings  # noqa: E402
from syncd.store.db import make_engine  # noqa: E402
from syncd.store.migrate import upgrade  # noqa: E402
from syncd.store.models import Identity, Person  # noqa: E402


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


def runtime(description: dict[str, Any], store_url: str) -> Runtime:
    sf = description["salesforce"]
    hs = description["hubspot"]
    hubspot = HubSpotConnector(
        HubSpotConfig(access_token=hs["access_token"], base_url=hs["base_url"], burst_limit=190)
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
        budget=ApiBudget(DailyAllowance("salesforce", allocated=100_000)),
    )
    return Runtime(hubspot, salesforce, make_engine(store_url))


class Control:
    def __init__(self, description: dict[str, Any]) -> None:
        ca = ssl.create_default_context(cafile=description["ca_file"])
        self.sf = httpx.Client(
            base_url=description["salesforce"]["control_url"], verify=ca, trust_env=False, timeout=300
        )
        self.hs = httpx.Client(base_url=description["hubspot"]["control_url"], trust_env=False, timeout=300)

    def reset(self) -> None:
        for client in (self.sf, self.hs):
            client.delete("/counters").raise_for_status()

    def calls(self) -> tuple[int, int]:
        return int(self.sf.get("/counters").json()["total"]), int(self.hs.get("/counters").json()["total"])

    def snapshot(self) -> dict[str, Any]:
        response = self.sf.get("/snapshot")
        response.raise_for_status()
        return dict(response.json()["objects"])


def link_people(rt: Runtime, objects: dict[str, Any]) -> int:
    """Every Lead and Contact linked to a person by its email, as a contacts cycle would have."""
    now = datetime.now(UTC)
    by_email: dict[str, list[tuple[str, str]]] = {}
    for obj in ("Lead", "Contact"):
        for record in objects.get(obj, []):
            email = canonical_email(record.get("Email") or "")
            if email and not record.get("IsDeleted"):
                by_email.setdefault(email, []).append((obj, record["Id"]))
    with rt.store.begin() as conn:
        emails = sorted(by_email)
        ids = {}
        for start in range(0, len(emails), 1000):
            chunk = emails[start : start + 1000]
            rows = conn.execute(
                insert(Person).returning(Person.id, Person.email),
                [{"email": e, "created_at": now, "updated_at": now} for e in chunk],
            )
            ids.update({email: pid for pid, email in rows})
        identities = [
            {"person_id": ids[email], "system": "salesforce", "object": obj, "external_id": record_id,
             "active": True, "linked_at": now}
            for email, records in by_email.items()
            for obj, record_id in records
        ]  # fmt: skip
        for start in range(0, len(identities), 2000):
            conn.execute(insert(Identity), identities[start : start + 2000])
    return len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--store", default="sqlite", help="sqlite (a temporary file) or a database URL")
    parser.add_argument("--idle-cycles", type=int, default=5)
    parser.add_argument(
        "--lag-seconds",
        type=float,
        default=5,
        help="the flow's re-read window; idle cycles start once the first run's rows are older than it",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-campaigns-"))
    store_url = f"sqlite:///{tmp / 'store.db'}" if args.store == "sqlite" else args.store
    upgrade(store_url)
    started = time.monotonic()
    process, description = serve(args.people, args.latency_ms)
    results: dict[str, Any] = {"people": args.people, "latency_ms": args.latency_ms, "store": args.store}
    try:
        results["simulators_start_s"] = round(time.monotonic() - started, 1)
        control = Control(description)
        objects = control.snapshot()
        members = [m for m in objects.get("CampaignMember", []) if not m.get("IsDeleted")]
        campaigns = [c for c in objects.get("Campaign", []) if not c.get("IsDeleted")]
        rt = runtime(description, store_url)
        results["people_linked"] = link_people(rt, objects)
        flow = campaign_flow(rt, CampaignSettings(lag=timedelta(seconds=args.lag_seconds)))

        control.reset()
        wall, cpu = time.perf_counter(), time.process_time()
        first = flow.run("once", Never())
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert first.status == "succeeded", first.error
        read = first.counts.get("salesforce.read", 0)
        sf_calls, hs_calls = control.calls()
        results["first_run"] = {
            "campaigns": len(campaigns),
            "members_in_salesforce": len(members),
            "records_read": read,
            "members_stored": first.counts.get("members.created", 0),
            "response_touches": first.counts.get("touches.created", 0),
            "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2),
            "records_per_s": round(read / wall),
            "records_per_cpu_s": round(read / cpu),
            "salesforce_calls": sf_calls,
            "hubspot_calls": hs_calls,
        }
        # The touch scan does not pass touches younger than the lag (another flow may still be committing
        # one with a smaller id), and the first re-read of each Salesforce cursor covers the lag too.
        time.sleep(args.lag_seconds + 1)
        flow.run("once", Never())
        idle = []
        for _ in range(args.idle_cycles):
            time.sleep(0.2)
            control.reset()
            t0 = time.perf_counter()
            summary = flow.run("once", Never())
            elapsed = time.perf_counter() - t0
            assert summary.status == "succeeded", summary.error
            idle.append(
                {"salesforce": control.calls()[0], "hubspot": control.calls()[1], "ms": round(elapsed * 1000)}
            )
        results["idle_cycles"] = idle
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
