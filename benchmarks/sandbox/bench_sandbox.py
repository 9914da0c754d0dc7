"""Benchmark of the API simulators: records/s served on list/query paging, and added latency honoured.

Run:  /work/venv/bin/python benchmarks/sandbox/bench_sandbox.py [--contacts 20000] [--latency-ms 20]

Starts both simulators with `python -m syncd sandbox serve` in a child process (so the clients here
and the servers there do not share one interpreter), then, through the official SDKs unmodified:
- HubSpot: pages GET /crm/v3/objects/contacts?limit=100 with hubspot-api-client (`_preload_content=False`
  and json parsing, as the connector does for bulk reads);
- Salesforce: pages a SOQL query over Lead and Contact with simple-salesforce (`query` + `query_more`);
- latency: alternates the simulator's added latency between 0 and --latency-ms on every sample and
  compares the medians of a cheap call, side by side in one run.
Prints a markdown table. Exits 1 if a target is missed (>= 20,000 records/s; latency within 5%).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from hubspot import HubSpot
from simple_salesforce import Salesforce

ROOT = Path(__file__).resolve().parents[2]
TARGET_RECORDS_PER_SECOND = 20_000
LATENCY_TOLERANCE = 0.05
SOQL = {
    "Lead": "SELECT Id, FirstName, LastName, Email, Company, Status, SystemModstamp FROM Lead",
    "Contact": "SELECT Id, FirstName, LastName, Email, AccountId, SystemModstamp FROM Contact",
}


def start_simulators(contacts: int, seed: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    command = [
        sys.executable,
        "-m",
        "syncd",
        "sandbox",
        "serve",
        "--contacts",
        str(contacts),
        "--seed",
        str(seed),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line:
        child.wait(10)
        raise SystemExit(f"the simulators did not start (exit status {child.returncode})")
    return child, json.loads(line)


def stop_simulators(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGTERM)
    child.wait(30)


def control(session: requests.Session, base_url: str, path: str, body: dict[str, Any]) -> None:
    session.post(f"{base_url}/__sandbox/{path}", json=body, timeout=30).raise_for_status()


def hubspot_paging(base_url: str, token: str) -> tuple[int, float, int]:
    client = HubSpot(access_token=token, host=base_url)
    records = pages = 0
    after: str | None = None
    started = time.perf_counter()
    while True:
        response = client.crm.contacts.basic_api.get_page(limit=100, after=after, _preload_content=False)
        page = json.loads(response.data)
        records += len(page["results"])
        pages += 1
        after = page.get("paging", {}).get("next", {}).get("after")
        if not after:
            return records, time.perf_counter() - started, pages


def salesforce_login(info: dict[str, Any], session: requests.Session) -> Salesforce:
    response = session.post(
        info["token_url"],
        data={
            "grant_type": "password",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "username": info["username"],
            "password": info["password"] + info["security_token"],
        },
        timeout=30,
    )
    response.raise_for_status()
    token = response.json()
    return Salesforce(instance_url=token["instance_url"], session_id=token["access_token"], session=session)


def salesforce_paging(sf: Salesforce) -> tuple[int, float, int]:
    records = pages = 0
    started = time.perf_counter()
    for soql in SOQL.values():
        result = sf.query(soql)
        while True:
            records += len(result["records"])
            pages += 1
            if result["done"]:
                break
            result = sf.query_more(result["nextRecordsUrl"], identifier_is_url=True)
    return records, time.perf_counter() - started, pages


def added_latency(
    call: Callable[[], None], set_latency: Callable[[float], None], latency_ms: float, samples: int
) -> tuple[float, float]:
    """Median call time (ms) without and with the added latency, sampled alternately."""
    base: list[float] = []
    slow: list[float] = []
    for _ in range(samples):
        for value, bucket in ((0.0, base), (latency_ms, slow)):
            set_latency(value)
            started = time.perf_counter()
            call()
            bucket.append((time.perf_counter() - started) * 1000)
    set_latency(0.0)
    return statistics.median(base), statistics.median(slow)


def best_of(rounds: int, run: Callable[[], tuple[int, float, int]]) -> tuple[int, float, int]:
    results = [run() for _ in range(rounds)]
    return max(results, key=lambda r: r[0] / r[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000, help="size of the shared population")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--samples", type=int, default=40, help="latency samples per setting")
    parser.add_argument("--rounds", type=int, default=3, help="paging rounds per system (best is reported)")
    args = parser.parse_args()

    started = time.perf_counter()
    child, info = start_simulators(args.contacts, args.seed)
    startup = time.perf_counter() - started
    hubspot, salesforce = info["hubspot"], info["salesforce"]
    rows: list[tuple[str, str, str, bool]] = []
    try:
        plain = requests.Session()
        plain.trust_env = False
        tls = requests.Session()
        tls.trust_env = False  # REQUESTS_CA_BUNDLE would override verify=
        tls.verify = salesforce["ca_file"]

        # The benchmark measures serving speed, not HubSpot's 10-second burst limit.
        control(plain, hubspot["base_url"], "settings", {"ten_secondly_limit": 10**9, "daily_limit": 10**9})

        records, seconds, pages = best_of(
            args.rounds, lambda: hubspot_paging(hubspot["base_url"], hubspot["access_token"])
        )
        rate = records / seconds
        rows.append(
            (
                "HubSpot contacts list paging (limit=100, hubspot-api-client)",
                f"{rate:,.0f} records/s ({records:,} records, {pages} pages, {seconds:.2f} s)",
                f">= {TARGET_RECORDS_PER_SECOND:,}",
                rate >= TARGET_RECORDS_PER_SECOND,
            )
        )

        sf = salesforce_login(salesforce, tls)
        records, seconds, pages = best_of(args.rounds, lambda: salesforce_paging(sf))
        rate = records / seconds
        rows.append(
            (
                "Salesforce SOQL query paging (Lead + Contact, simple-salesforce)",
                f"{rate:,.0f} records/s ({records:,} records, {pages} pages, {seconds:.2f} s)",
                f">= {TARGET_RECORDS_PER_SECOND:,}",
                rate >= TARGET_RECORDS_PER_SECOND,
            )
        )

        hs_client = HubSpot(access_token=hubspot["access_token"], host=hubspot["base_url"])
        checks = [
            (
                "HubSpot",
                lambda: hs_client.crm.contacts.basic_api.get_page(limit=1, _preload_content=False).data,
                lambda ms: control(plain, hubspot["base_url"], "latency", {"latency_ms": ms}),
            ),
            (
                "Salesforce",
                lambda: sf.query("SELECT Id FROM Lead LIMIT 1"),
                lambda ms: control(tls, salesforce["instance_url"], "latency", {"latency_ms": ms}),
            ),
        ]
        for name, call, set_latency in checks:
            base, slow = added_latency(call, set_latency, args.latency_ms, args.samples)
            added = slow - base
            how = f"{args.samples} samples each, alternating 0 / {args.latency_ms:g} ms"
            rows.append(
                (
                    f"{name} added latency ({how})",
                    f"{added:.2f} ms added (baseline {base:.2f} ms, with latency {slow:.2f} ms)",
                    f"{args.latency_ms:g} ms ± {LATENCY_TOLERANCE:.0%}",
                    abs(added - args.latency_ms) <= args.latency_ms * LATENCY_TOLERANCE,
                )
            )
    finally:
        stop_simulators(child)

    load = os.getloadavg()[0]
    print(
        f"\nSimulators: seed {args.seed}, population {args.contacts:,}, started in {startup:.1f} s; "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.2f}\n"
    )
    print("| measurement | result | target | met |")
    print("|---|---|---|---|")
    for name, result, target, met in rows:
        print(f"| {name} | {result} | {target} | {'yes' if met else 'NO'} |")
    return 0 if all(met for *_, met in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
