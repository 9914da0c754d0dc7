"""Contact-sync benchmark: backfill throughput, API calls per record, idle cycles, latency, memory.

Run:  /work/venv/bin/python benchmarks/sync/bench_sync.py [--people 10000] [--latency-ms 50]
      [--edits 20] [--interval 15] [--memory-scales 10000,50000,100000] [--mapping FILE]
      [--only backfill,idle,realtime-idle,latency,memory] [--json results.json]
      /work/venv/bin/python benchmarks/sync/bench_sync.py --quick   (smoke run: tiny scales, seconds per part)

The simulators run in their own process (`python -m syncd.cli.sandbox serve`), and every measured
backfill runs the engine in a child process of this script, so the peak RSS reported is syncd's alone.
Rate limits in force: HubSpot Pro (190 calls / 10 s, search 5 / s, both enforced by the simulator and
syncd's own limiter); Salesforce's daily allocation (org limit and syncd's share, see the options).
Every call pays `--latency-ms` of added latency on the simulator side.

Definitions (BENCHMARKS.md explains them at length):
- ideal calls: the source records read at the maximum page size (Salesforce 2,000 with both objects'
  first pages in one composite call; HubSpot list 100), one batched email lookup per unlinked source
  record in the other system (HubSpot batch read 100; Salesforce `Email IN (...)` queries as long as
  the connector allows, per object), writes at the maximum batch size (HubSpot 100, Salesforce 200).
- API-bound ceiling: the time those ideal calls take issued one after another (one sync worker, as
  the engine runs), each paying the added latency, HubSpot's calls never faster than 190 / 10 s, with
  zero time spent in syncd itself. Throughput ratio = ceiling time / measured time.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import json
import math
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from connectors.hubspot.config import HubSpotConfig  # noqa: E402
from connectors.hubspot.connector import HubSpotConnector  # noqa: E402
from connectors.salesforce.connector import SalesforceConnector  # noqa: E402
from connectors.salesforce.settings import PasswordLogin, SalesforceSettings  # noqa: E402
from connectors.salesforce.soql import in_predicates  # noqa: E402
from syncd.cli.compose import Runtime, contact_flow  # noqa: E402
from syncd.engine.contacts import ContactFlow  # noqa: E402
from syncd.engine.runs import RunSummary  # noqa: E402
from syncd.store.db import make_engine  # noqa: E402
from syncd.store.migrate import upgrade  # noqa: E402

# The shipped mapping; contacts.yaml here drops the four fields older simulators lacked (--mapping).
SHIPPED_MAPPING = ROOT / "mappings" / "contacts.yaml"
REDUCED_MAPPING = Path(__file__).resolve().parent / "contacts.yaml"
HUBSPOT_BURST, HUBSPOT_WINDOW_S, HUBSPOT_SEARCH_PER_S = 190, 10.0, 5
HUBSPOT_PAGE, HUBSPOT_BATCH = 100, 100
SALESFORCE_PAGE, SALESFORCE_BATCH, SALESFORCE_QUERY_CHARS = 2000, 200, 12_000
TARGETS = {"throughput_ratio": 0.9, "calls_ratio": 1.1, "idle_salesforce": 1, "idle_hubspot": 2}
SEARCH_INDEX_WAIT_S = 1.5  # the HubSpot simulator's search index lag (1 s) and a margin
LAG_SETTLE_S = 400.0  # past the flow's 60 s re-read lag and the backfill's 300 s clock-skew margin


# ----------------------------------------------------------------------------- simulators


class Simulators:
    """Both simulators in a separate process; control-plane helpers (never counted by the simulators)."""

    def __init__(self, people: int, latency_ms: float, seed: int, sf_daily_limit: int, workdir: Path) -> None:
        self.log = (workdir / f"sandbox-{people}.log").open("w")
        command = [
            sys.executable,
            "-m",
            "syncd",
            "sandbox",
            "serve",
            "--contacts",
            str(people),
            "--latency-ms",
            str(latency_ms),
            "--seed",
            str(seed),
            "--tls-dir",
            str(workdir / "tls"),
        ]
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=self.log, text=True, start_new_session=True
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line:
            self.close()
            raise RuntimeError(f"the simulators did not start; see {self.log.name}")
        self.seed_seconds = time.perf_counter() - started
        self.info: dict[str, Any] = json.loads(line)
        self.hub_url = self.info["hubspot"]["base_url"]
        self.sf_url = self.info["salesforce"]["instance_url"]
        self.ca = self.info["ca_file"]
        self._post(
            self.hub_url,
            "/__sandbox/settings",
            {
                "ten_secondly_limit": HUBSPOT_BURST,
                "search_per_second": HUBSPOT_SEARCH_PER_S,
            },
        )
        self._post(self.sf_url, "/__sandbox/settings", {"api_daily_limit": sf_daily_limit})

    def _client(self, base: str) -> httpx.Client:
        verify: str | bool = self.ca if base.startswith("https") else False
        return httpx.Client(base_url=base, verify=verify, trust_env=False, timeout=600)

    def _post(self, base: str, path: str, body: dict[str, Any]) -> Any:
        with self._client(base) as client:
            reply = client.post(path, json=body)
            reply.raise_for_status()
            return reply.json()

    def _get(self, base: str, path: str) -> Any:
        with self._client(base) as client:
            reply = client.get(path)
            reply.raise_for_status()
            return reply.json()

    def counters(self) -> dict[str, dict[str, int]]:
        return {
            "hubspot": self._get(self.hub_url, "/__sandbox/counters")["by_endpoint"],
            "salesforce": self._get(self.sf_url, "/__sandbox/counters")["by_endpoint"],
        }

    def reset_counters(self) -> None:
        for base in (self.hub_url, self.sf_url):
            with self._client(base) as client:
                client.delete("/__sandbox/counters").raise_for_status()

    def advance_clock(self, seconds: float) -> None:
        # One clock serves both simulators (syncd.cli.sandbox shares it).
        self._post(self.hub_url, "/__sandbox/clock", {"advance_seconds": seconds})

    def edit_hubspot(self, contact_id: str, properties: dict[str, str]) -> None:
        self._post(
            self.hub_url, f"/__sandbox/objects/contacts/{contact_id}/properties", {"properties": properties}
        )

    def edit_salesforce(self, sobject: str, record_id: str, fields: dict[str, str]) -> None:
        self._post(self.sf_url, f"/__sandbox/records/{sobject}/{record_id}/edit", {"fields": fields})

    def population(self) -> dict[str, list[str]]:
        """Live records' emails per object, read from the control-plane snapshots."""
        hub = self._get(self.hub_url, "/__sandbox/snapshot")["objects"]["contacts"]
        sf = self._get(self.sf_url, "/__sandbox/snapshot")["objects"]
        out = {
            "hubspot.contacts": [
                str((r.get("properties") or {}).get("email") or "") for r in hub if not r.get("archived")
            ]
        }
        for obj in ("Lead", "Contact"):
            out[f"salesforce.{obj}"] = [
                str(r.get("Email") or "") for r in sf.get(obj, []) if not r.get("IsDeleted")
            ]
        return out

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.log.close()


@contextmanager
def simulators(
    people: int, args: argparse.Namespace, workdir: Path, latency_ms: float
) -> Iterator[Simulators]:
    sims = Simulators(people, latency_ms, args.seed, args.sf_daily_limit, workdir)
    try:
        yield sims
    finally:
        sims.close()


# ----------------------------------------------------------------------------- syncd side


class _Never:
    def is_set(self) -> bool:
        return False


def build_runtime(info: dict[str, Any], store_url: str, sf_allocation: int) -> Runtime:
    h, s = info["hubspot"], info["salesforce"]
    hubspot = HubSpotConnector(
        HubSpotConfig(
            access_token=h["access_token"],
            base_url=h["base_url"],
            burst_limit=HUBSPOT_BURST,
            search_per_second=HUBSPOT_SEARCH_PER_S,
        )
    )
    settings = SalesforceSettings(
        credentials=PasswordLogin(
            username=s["username"],
            password=s["password"],
            client_id=s["client_id"],
            client_secret=s["client_secret"],
            security_token=s["security_token"],
        ),
        login_url=s["token_url"].split("/services/", 1)[0],
        ca_file=s["ca_file"],
        daily_allocated=sf_allocation,
    )
    salesforce = SalesforceConnector(settings, budget=settings.budget())
    return Runtime(hubspot, salesforce, make_engine(store_url))


def peak_rss_mb() -> dict[str, float]:
    """Peak resident set of this process: getrusage's ru_maxrss and /proc's VmHWM (both in MiB)."""
    out = {"ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                out["vmhwm_mb"] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


def summary_json(summary: RunSummary) -> dict[str, Any]:
    return {
        "status": summary.status,
        "error": summary.error,
        "counts": summary.counts,
        "pages": summary.pages,
        "api_calls": summary.api_calls,
    }


def child_main(args: argparse.Namespace) -> None:
    """The syncd process: builds the flow, then runs one cycle per `run <clock offset s>` line on stdin."""
    info = json.loads(Path(args.child).read_text())
    offset = [0.0]
    runtime = build_runtime(info, info["store_url"], info["sf_allocation"])
    mapping = Path(info.get("mapping") or REDUCED_MAPPING)
    flow = contact_flow(runtime, mapping, clock=lambda: datetime.now(UTC) + timedelta(seconds=offset[0]))
    print(json.dumps({"ready": True, **peak_rss_mb()}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] != "run":
            break
        offset[0] = float(words[1]) if len(words) > 1 else offset[0]
        usage0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        if info.get("profile"):
            profiler = cProfile.Profile(time.process_time)  # CPU time: the machine is shared
            summary = profiler.runcall(flow.run, "benchmark", _Never())
            profiler.dump_stats(info["profile"])
            info["profile"] = None  # the first cycle (the backfill) only
        else:
            summary = flow.run("benchmark", _Never())
        wall, usage = time.perf_counter() - wall0, resource.getrusage(resource.RUSAGE_SELF)
        cpu = (usage.ru_utime - usage0.ru_utime) + (usage.ru_stime - usage0.ru_stime)
        print(
            json.dumps({**summary_json(summary), "wall_s": wall, "cpu_s": cpu, **peak_rss_mb()}), flush=True
        )
    runtime.close()


class SyncdProcess:
    """A child process running the engine, driven one cycle at a time."""

    def __init__(
        self, sims: Simulators, workdir: Path, sf_allocation: int, mapping: Path, profile: str | None = None
    ) -> None:
        store_url = f"sqlite:///{workdir / f'store-{time.monotonic_ns()}.db'}"
        upgrade(store_url)
        spec = workdir / f"child-{time.monotonic_ns()}.json"
        spec.write_text(
            json.dumps(
                {
                    **sims.info,
                    "store_url": store_url,
                    "sf_allocation": sf_allocation,
                    "mapping": str(mapping),
                    "profile": profile,
                }
            )
        )
        self.store_url = store_url
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--child", str(spec)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the syncd process exited with {self.proc.wait()}")
        result: dict[str, Any] = json.loads(line)
        return result

    def run(self, clock_offset_s: float = 0.0) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"run {clock_offset_s}\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


# ----------------------------------------------------------------------------- ideal and ceiling


def _emails(values: list[str]) -> set[str]:
    return {e.strip().lower() for e in values if "@" in e}


@dataclass(frozen=True)
class Ideal:
    """The fewest calls the backfill needs, per system and kind, and the time they take at best."""

    calls: dict[str, dict[str, int]]
    ceiling_s: float

    def total(self, system: str | None = None) -> int:
        systems = [system] if system else list(self.calls)
        return sum(sum(self.calls[s].values()) for s in systems)


def ideal_backfill(population: dict[str, list[str]], counts: dict[str, int], latency_s: float) -> Ideal:
    leads, contacts = population["salesforce.Lead"], population["salesforce.Contact"]
    hub = population["hubspot.contacts"]
    # Both objects' first pages come in one composite call; later pages one call each.
    sf_reads = 1 + sum(max(0, math.ceil(len(rows) / SALESFORCE_PAGE) - 1) for rows in (leads, contacts))
    hub_reads = max(1, math.ceil(len(hub) / HUBSPOT_PAGE))
    sf_emails = _emails(leads) | _emails(contacts)
    hub_only = sorted(_emails(hub) - sf_emails)
    hub_lookups = math.ceil(len(sf_emails) / HUBSPOT_BATCH)  # leg 1: SF people looked up in HubSpot by email
    per_object = (
        len(in_predicates("Email", hub_only, max_encoded_chars=SALESFORCE_QUERY_CHARS)) if hub_only else 0
    )
    sf_lookups = 2 * per_object  # leg 2: HubSpot-only people looked up in Lead and in Contact
    hub_writes = sum(
        math.ceil(counts.get(f"hubspot.{op}", 0) / HUBSPOT_BATCH) for op in ("created", "updated")
    )
    sf_writes = sum(
        math.ceil(counts.get(f"salesforce.{op}", 0) / SALESFORCE_BATCH) for op in ("created", "updated")
    )
    calls = {
        "hubspot": {"reads": hub_reads, "lookups": hub_lookups, "writes": hub_writes},
        "salesforce": {"reads": sf_reads, "lookups": sf_lookups, "writes": sf_writes},
    }
    n_hub, n_sf = sum(calls["hubspot"].values()), sum(calls["salesforce"].values())
    # One call at a time; HubSpot's rolling window lets 190 through at once, then 19 a second.
    hub_rate_floor = max(0, n_hub - HUBSPOT_BURST) * HUBSPOT_WINDOW_S / HUBSPOT_BURST
    ceiling = n_sf * latency_s + max(n_hub * latency_s, hub_rate_floor)
    return Ideal(calls, ceiling)


def calls_by_kind(counters: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Server-side counts of one run, grouped by system and endpoint."""
    return {system: {k: v for k, v in by.items() if v} for system, by in counters.items()}


# ----------------------------------------------------------------------------- benchmarks


@dataclass
class Results:
    machine: str
    options: dict[str, Any]
    backfill: dict[str, Any] = field(default_factory=dict)
    idle: dict[str, Any] = field(default_factory=dict)
    latency: dict[str, Any] = field(default_factory=dict)
    memory: list[dict[str, Any]] = field(default_factory=list)
    realtime_idle: dict[str, Any] = field(default_factory=dict)


def bench_backfill_and_idle(args: argparse.Namespace, workdir: Path, res: Results, want_idle: bool) -> None:
    latency_s = args.latency_ms / 1000
    with simulators(args.people, args, workdir, args.latency_ms) as sims:
        population = sims.population()
        syncd = SyncdProcess(sims, workdir, args.sf_allocation, args.mapping, args.profile)
        try:
            sims.reset_counters()
            run = syncd.run()
            served = calls_by_kind(sims.counters())
            measured = {s: sum(v.values()) for s, v in served.items()}
            ideal = ideal_backfill(population, run["counts"], latency_s)
            records = sum(len(v) for v in population.values())
            res.backfill = {
                "people": args.people,
                "records_read": records,
                "population": {k: len(v) for k, v in population.items()},
                "seed_s": sims.seed_seconds,
                "run": run,
                "served_calls": served,
                "measured_calls": measured,
                "ideal_calls": ideal.calls,
                "ideal_total": {s: ideal.total(s) for s in ideal.calls},
                "calls_ratio": (sum(measured.values()) / ideal.total()) if ideal.total() else None,
                "calls_ratio_by_system": {
                    s: measured[s] / ideal.total(s) for s in ideal.calls if ideal.total(s)
                },
                "ceiling_s": ideal.ceiling_s,
                "throughput_ratio": ideal.ceiling_s / run["wall_s"],
                "records_per_s": records / run["wall_s"],
                "ceiling_records_per_s": records / ideal.ceiling_s if ideal.ceiling_s else None,
                "profile": args.profile,
                "api_wait_share": sum(measured.values()) * latency_s / run["wall_s"],
                "synced_records": sum(
                    run["counts"].get(k, 0)
                    for k in run["counts"]
                    if k.endswith(("created", "updated", "unchanged"))
                ),
            }
            if want_idle:
                res.idle = idle_cycles(sims, syncd, args)
        finally:
            syncd.close()


def idle_cycles(sims: Simulators, syncd: SyncdProcess, args: argparse.Namespace) -> dict[str, Any]:
    """Let the backfill's re-read windows pass (both clocks moved on), settle, then count idle cycles."""
    offset, settle = 0.0, []
    for _ in range(6):
        offset += LAG_SETTLE_S
        sims.advance_clock(LAG_SETTLE_S)
        sims.reset_counters()
        run = syncd.run(offset)
        settle.append({"served": sims.counters(), "pages": run["pages"], "counts": run["counts"]})
        quiet = not any(k.endswith(("created", "updated")) for k in run["counts"])
        if quiet and len(settle) > 1 and settle[-1]["served"] == settle[-2]["served"]:
            break
    cycles = []
    for _ in range(args.idle_cycles):
        offset += args.interval
        sims.advance_clock(args.interval)
        sims.reset_counters()
        run = syncd.run(offset)
        served = calls_by_kind(sims.counters())
        cycles.append(
            {
                "served": served,
                "calls": {s: sum(v.values()) for s, v in served.items()},
                "wall_s": run["wall_s"],
                "status": run["status"],
                "counts": run["counts"],
            }
        )
    return {
        "settle_cycles": len(settle),
        "cycles": cycles,
        "single_edits": single_edit_cycles(sims, syncd, args, offset),
        "max_calls": {s: max(c["calls"].get(s, 0) for c in cycles) for s in ("hubspot", "salesforce")},
    }


def single_edit_cycles(
    sims: Simulators, syncd: SyncdProcess, args: argparse.Namespace, offset: float
) -> list[dict[str, Any]]:
    """Calls of the cycle that carries one user edit across, and of the cycle after it (which re-reads
    the flow's lag window once), for an edit on each side."""
    people = linked_people(syncd.store_url)
    out = []
    for n, to_crm in enumerate((True, False)):
        person = people[(len(people) * (n + 1)) // 3]
        (obj, rid), hub_id = person["salesforce"], person["hubspot"][1]
        if to_crm:
            sims.edit_hubspot(hub_id, {"jobtitle": f"Single edit {n}"})
        else:
            sims.edit_salesforce(obj, rid, {"Title": f"Single edit {n}"})
        # HubSpot's search index shows a write after a lag in real time, as the real one does.
        time.sleep(SEARCH_INDEX_WAIT_S)
        row: dict[str, Any] = {"direction": "hubspot->salesforce" if to_crm else "salesforce->hubspot"}
        for label in ("carrying", "next"):
            offset += args.interval
            sims.advance_clock(args.interval)
            sims.reset_counters()
            run = syncd.run(offset)
            served = calls_by_kind(sims.counters())
            row[label] = {
                "served": served,
                "calls": {s: sum(v.values()) for s, v in served.items()},
                "counts": run["counts"],
            }
        out.append(row)
    return out


def bench_realtime_idle(args: argparse.Namespace, workdir: Path, res: Results) -> None:
    """Idle cycles as a daemon sees them: a backfill, then cycles `--interval` apart in real time,
    no clock moved and no edit made; calls per cycle from the simulators' counters."""
    with simulators(args.latency_people, args, workdir, args.latency_ms) as sims:
        syncd = SyncdProcess(sims, workdir, args.sf_allocation, args.mapping)
        try:
            backfill = syncd.run()
            cycles = []
            for _ in range(args.realtime_cycles):
                time.sleep(args.interval)
                sims.reset_counters()
                run = syncd.run()
                served = calls_by_kind(sims.counters())
                cycles.append(
                    {
                        "calls": {s: sum(v.values()) for s, v in served.items()},
                        "served": served,
                        "counts": run["counts"],
                        "status": run["status"],
                    }
                )
        finally:
            syncd.close()
    res.realtime_idle = {
        "people": args.latency_people,
        "backfill_status": backfill["status"],
        "cycles": cycles,
    }


class _SoleReplica:
    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        return None


class _Watched:
    """The flow, with an event set after each of its runs (to know the daemon's first sync is done)."""

    def __init__(self, flow: ContactFlow) -> None:
        self.name = flow.name
        self._flow = flow
        self.runs: list[RunSummary] = []
        self.ran = threading.Event()

    def run(self, trigger: str, stop: Any) -> RunSummary:
        summary = self._flow.run(trigger, stop)
        self.runs.append(summary)
        self.ran.set()
        return summary


def linked_people(store_url: str) -> list[dict[str, tuple[str, str]]]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from syncd.store.models import Identity

    engine = make_engine(store_url)
    with Session(engine) as session:
        rows = session.execute(
            select(Identity.system, Identity.object, Identity.external_id, Identity.person_id).where(
                Identity.active
            )
        ).all()
    engine.dispose()
    by_person: dict[int, dict[str, tuple[str, str]]] = {}
    for system, obj, external_id, person in rows:
        by_person.setdefault(person, {})[system] = (obj, external_id)
    return [ids for _, ids in sorted(by_person.items()) if len(ids) == 2]


def bench_latency(args: argparse.Namespace, workdir: Path, res: Results) -> None:
    """Edits at seeded random moments, alternately in HubSpot and Salesforce, while the daemon runs."""
    from syncd.daemon.scheduler import Daemon, Schedule

    rng = random.Random(args.seed)
    with simulators(args.latency_people, args, workdir, args.latency_ms) as sims:
        store_url = f"sqlite:///{workdir / 'latency-store.db'}"
        upgrade(store_url)
        runtime = build_runtime(sims.info, store_url, args.sf_allocation)
        probe = build_runtime(sims.info, f"sqlite:///{workdir / 'probe.db'}", args.sf_allocation)
        watched = _Watched(contact_flow(runtime, args.mapping))
        daemon = Daemon({"contacts": Schedule(watched, args.interval)}, lambda name: _SoleReplica())
        thread = threading.Thread(target=daemon.serve, name="daemon", daemon=True)
        thread.start()
        samples: list[dict[str, Any]] = []
        try:
            if not watched.ran.wait(1800):
                raise RuntimeError("the daemon's first sync did not finish in 30 minutes")
            people = linked_people(store_url)
            for k in range(args.edits):
                time.sleep(rng.uniform(0, args.interval))
                person = rng.choice(people)
                value = f"Bench title {args.seed}-{k}"
                to_crm = k % 2 == 0
                (obj, rid), hub_id = person["salesforce"], person["hubspot"][1]
                edited_at = time.perf_counter()
                if to_crm:
                    sims.edit_hubspot(hub_id, {"jobtitle": value})
                    read = functools.partial(_sf_value, probe, obj, rid)
                else:
                    sims.edit_salesforce(obj, rid, {"Title": value})
                    read = functools.partial(_hub_value, probe, hub_id)
                seen = _wait_for(read, value, args.visible_timeout)
                samples.append(
                    {
                        "edit": k,
                        "direction": "hubspot->salesforce" if to_crm else "salesforce->hubspot",
                        "seconds": None if seen is None else seen - edited_at,
                    }
                )
        finally:
            daemon.stop()
            thread.join(120)
            runtime.close()
            probe.close()
    seen_s = sorted(s["seconds"] for s in samples if s["seconds"] is not None)
    res.latency = {
        "interval_s": args.interval,
        "people": args.latency_people,
        "edits": len(samples),
        "not_visible": sum(1 for s in samples if s["seconds"] is None),
        "p50_s": statistics.median(seen_s) if seen_s else None,
        "p95_s": _percentile(seen_s, 0.95),
        "max_s": max(seen_s) if seen_s else None,
        "samples": samples,
        "daemon_runs": len(watched.runs),
        # The last run may end "stopped" when the daemon stops mid-cycle: not a failure.
        "failed_runs": sum(1 for r in watched.runs if r.status in ("failed", "parked")),
        "failures": [r.error for r in watched.runs if r.status in ("failed", "parked")][:5],
        "run_calls": [r.api_calls for r in watched.runs],
    }


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    # Nearest rank: the smallest value with at least q of the samples at or below it.
    return values[max(0, math.ceil(q * len(values)) - 1)]


def _sf_value(probe: Runtime, obj: str, rid: str) -> Any:
    found = probe.salesforce.fetch(obj, [rid], ["Title"])
    return found[0].fields.get("Title") if found else None


def _hub_value(probe: Runtime, contact_id: str) -> Any:
    found = probe.hubspot.fetch("contacts", [contact_id], ["jobtitle"])
    return found[0].fields.get("jobtitle") if found else None


def _wait_for(read: Callable[[], Any], value: str, timeout: float) -> float | None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if read() == value:
            return time.perf_counter()
        time.sleep(0.2)
    return None


def bench_memory(args: argparse.Namespace, workdir: Path, res: Results) -> None:
    """Peak RSS of the syncd process over a full backfill at each scale (a fresh process per scale)."""
    for people in args.memory_scales:
        with simulators(people, args, workdir, args.memory_latency_ms) as sims:
            syncd = SyncdProcess(sims, workdir, args.sf_allocation, args.mapping)
            try:
                run = syncd.run()
            finally:
                syncd.close()
            row = {
                "people": people,
                "seed_s": sims.seed_seconds,
                "ready_rss_mb": syncd.ready.get("vmhwm_mb"),
                "status": run["status"],
                "wall_s": run["wall_s"],
                "cpu_s": run["cpu_s"],
                "ru_maxrss_mb": run["ru_maxrss_mb"],
                "vmhwm_mb": run.get("vmhwm_mb"),
                "pages": run["pages"],
                "counts": run["counts"],
            }
            res.memory.append(row)
            print(json.dumps({"memory": row}), flush=True)
            if args.json:
                Path(args.json).write_text(json.dumps(asdict(res), indent=1, default=str))


# ----------------------------------------------------------------------------- report


def report(res: Results) -> str:
    lines = [f"machine: {res.machine}", f"options: {json.dumps(res.options, default=str)}", ""]
    b = res.backfill
    if b:
        lines += [
            "| backfill | value | target |",
            "|---|---|---|",
            f"| people seeded / records read | {b['people']} / {b['records_read']} | |",
            f"| run status | {b['run']['status']} | succeeded |",
            f"| measured wall time | {b['run']['wall_s']:.1f} s (syncd CPU {b['run']['cpu_s']:.1f} s) | |",
            f"| API-bound ceiling time | {b['ceiling_s']:.1f} s | |",
            f"| throughput (records read / s) | {b['records_per_s']:.0f} "
            f"vs ceiling {_fmt(b['ceiling_records_per_s'])} | |",
            f"| **throughput ratio** (ceiling / measured) | **{b['throughput_ratio']:.2f}** | >= 0.9 |",
            f"| measured calls (simulator counters) | HubSpot {b['measured_calls']['hubspot']}, "
            f"Salesforce {b['measured_calls']['salesforce']} | |",
            f"| ideal calls | HubSpot {b['ideal_total']['hubspot']} {b['ideal_calls']['hubspot']}, "
            f"Salesforce {b['ideal_total']['salesforce']} {b['ideal_calls']['salesforce']} | |",
            f"| **calls ratio** (measured / ideal) | **{b['calls_ratio']:.2f}** "
            f"(HubSpot {b['calls_ratio_by_system'].get('hubspot', 0):.2f}, "
            f"Salesforce {b['calls_ratio_by_system'].get('salesforce', 0):.2f}) | <= 1.1 |",
            f"| calls per record read | {sum(b['measured_calls'].values()) / b['records_read']:.4f} "
            f"(ideal {sum(b['ideal_total'].values()) / b['records_read']:.4f}) | |",
            f"| share of wall time waiting on added latency | {b['api_wait_share']:.2f} | |",
            "",
        ]
    if res.idle:
        i = res.idle
        lines += ["| idle cycle | HubSpot calls | Salesforce calls | endpoints |", "|---|---|---|---|"]
        for n, c in enumerate(i["cycles"], 1):
            lines.append(
                f"| {n} | {c['calls'].get('hubspot', 0)} | {c['calls'].get('salesforce', 0)} | "
                f"{json.dumps(c['served'])} |"
            )
        lines += [
            f"| **max** | **{i['max_calls']['hubspot']}** (target <= 2) | "
            f"**{i['max_calls']['salesforce']}** (target <= 1) | |",
            "",
            "| one edit | cycle | HubSpot calls | Salesforce calls | counts |",
            "|---|---|---|---|---|",
        ]
        for e in i["single_edits"]:
            for label in ("carrying", "next"):
                c = e[label]
                lines.append(
                    f"| {e['direction']} | {label} | {c['calls'].get('hubspot', 0)} | "
                    f"{c['calls'].get('salesforce', 0)} | {json.dumps(c['counts'])} |"
                )
        lines.append("")
    if res.realtime_idle:
        lines += [
            f"| real-time cycle ({res.realtime_idle['people']} people, after the backfill) | HubSpot calls "
            "| Salesforce calls | records re-read |",
            "|---|---|---|---|",
        ]
        for n, c in enumerate(res.realtime_idle["cycles"], 1):
            reread = sum(v for k, v in c["counts"].items() if k.endswith("unchanged"))
            lines.append(
                f"| {n} | {c['calls'].get('hubspot', 0)} | {c['calls'].get('salesforce', 0)} | {reread} |"
            )
        lines.append("")
    if res.latency:
        la = res.latency
        lines += [
            "| change-to-visible | value | target |",
            "|---|---|---|",
            f"| edits (not visible in time) | {la['edits']} ({la['not_visible']}) | >= 20 |",
            f"| p50 | {_fmt(la['p50_s'])} s | |",
            f"| **p95** | **{_fmt(la['p95_s'])} s** | <= {la['interval_s'] + 5:.0f} s (interval + 5 s) |",
            f"| max | {_fmt(la['max_s'])} s | |",
            f"| daemon runs (failed) | {la['daemon_runs']} ({la['failed_runs']}) | |",
            "",
        ]
    if res.memory:
        lines += [
            "| people | syncd peak RSS (VmHWM) | ru_maxrss | backfill wall | syncd CPU | status |",
            "|---|---|---|---|---|---|",
        ]
        for m in res.memory:
            lines.append(
                f"| {m['people']} | {_fmt(m['vmhwm_mb'])} MiB | {m['ru_maxrss_mb']:.0f} MiB | "
                f"{m['wall_s']:.0f} s | {m['cpu_s']:.0f} s | {m['status']} |"
            )
        if len(res.memory) >= 2:
            a, z = res.memory[0], res.memory[-1]
            slope = (z["ru_maxrss_mb"] - a["ru_maxrss_mb"]) / (z["people"] - a["people"]) * 10_000
            at_1m = z["ru_maxrss_mb"] + slope * (1_000_000 - z["people"]) / 10_000
            lines += [
                "",
                f"growth {slope:.1f} MiB per 10k people between {a['people']} and {z['people']}; "
                f"EXTRAPOLATION (not a measurement) to 1,000,000 people: ~{at_1m:.0f} MiB (target <= 300 MB)",
            ]
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--people", "--scale", type=int, default=10_000, help="people seeded for backfill/idle")
    p.add_argument("--latency-ms", type=float, default=50.0, help="latency added to every API call")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--mapping", type=Path, default=SHIPPED_MAPPING, help="contacts mapping file")
    p.add_argument("--interval", type=float, default=15.0, help="daemon poll interval (s)")
    p.add_argument("--edits", type=int, default=20)
    p.add_argument("--latency-people", type=int, default=2000, help="people seeded for the latency run")
    p.add_argument("--visible-timeout", type=float, default=120.0)
    p.add_argument("--idle-cycles", type=int, default=3)
    p.add_argument("--realtime-cycles", type=int, default=8, help="idle cycles in real time")
    p.add_argument(
        "--memory-scales",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[10_000, 50_000, 100_000],
    )
    p.add_argument("--memory-latency-ms", type=float, default=0.0, help="latency for the memory runs")
    p.add_argument("--sf-daily-limit", type=int, default=100_000, help="the org's daily API requests")
    p.add_argument("--sf-allocation", type=int, default=100_000, help="syncd's share of them")
    p.add_argument("--only", default="backfill,idle,realtime-idle,latency,memory")
    p.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    p.add_argument("--json", help="write all results to this file as JSON")
    p.add_argument("--profile", help="write a cProfile of the backfill cycle (syncd process) to this file")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.people, args.latency_ms, args.interval, args.edits = 300, 30.0, 3.0, 3
        args.latency_people, args.memory_scales, args.idle_cycles, args.visible_timeout = (
            200,
            [200, 400],
            2,
            30.0,
        )
        args.realtime_cycles = 2
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    # SIGTERM unwinds like Ctrl-C, so the simulators' process and the temporary files are cleaned up.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if args.child:
        child_main(args)
        return 0
    only = set(args.only.split(","))
    res = Results(
        machine=f"{os.cpu_count()} cores, {sys.platform}, Python {sys.version.split()[0]}",
        options={k: v for k, v in vars(args).items() if k != "child"},
    )
    with tempfile.TemporaryDirectory(prefix="syncd-bench-") as tmp:
        workdir = Path(tmp)
        if only & {"backfill", "idle"}:
            bench_backfill_and_idle(args, workdir, res, want_idle="idle" in only)
            print(report(res), flush=True)
        if "realtime-idle" in only:
            bench_realtime_idle(args, workdir, res)
        if "latency" in only:
            bench_latency(args, workdir, res)
        if "memory" in only:
            bench_memory(args, workdir, res)
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(res), indent=1, default=str))
    print(report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
