"""What the closed-loop benchmarks share: the simulators in their own process, their control planes,
a runtime on them, and people linked straight into the store (so a flow is measured alone)."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from connectors.hubspot.config import HubSpotConfig
from connectors.hubspot.connector import HubSpotConnector
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.settings import PasswordLogin, SalesforceSettings
from syncd.budget import ApiBudget, DailyAllowance
from syncd.cli.compose import Runtime
from syncd.core.normalize import canonical_email
from syncd.engine.runs import RunSummary
from syncd.store.db import make_engine
from syncd.store.models import Identity, Person

ROOT = Path(__file__).resolve().parents[2]


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
