"""Benchmark of `syncd report` end to end (store load + compute) on SQLite and PostgreSQL stores.

Run:  .venv/bin/python benchmarks/reports/bench_reports.py [--scale 1.0] [--backends sqlite,postgresql]
          [--pg-admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--only WORDS]
          [--sqlite-file PATH] [--pg-url URL]

Generates (deterministically, from --seed) 1,000,000 touches, 100,000 people and 20,000 deals with
their lifecycle events, sales activities and costs over 2026, times --scale; loads them into a fresh
SQLite file and a fresh PostgreSQL database (created per run, dropped after) with bulk inserts; then
runs each report over the whole of 2026 in a child process and measures the time from the command's
start to its last output line (store load + compute + formatting, interpreter start-up excluded),
the child's CPU seconds over the same span, and its peak resident memory (VmHWM). Every report must
print the same JSON on both backends. Prints a markdown table; exits 1 when a target is missed or
the backends disagree.

`--sqlite-file` / `--pg-url` keep the loaded stores for later runs (and for
`benchmarks/reports/bench_dashboard.py`): a store that already holds touches is used as it is
(it must have been loaded with the same --scale and --seed). `--only` runs the reports whose
label contains one of the comma-separated words.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Table, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from syncd.store import models as m  # noqa: E402
from syncd.store.db import make_engine  # noqa: E402
from syncd.store.migrate import upgrade  # noqa: E402

PEOPLE, TOUCHES, DEALS = 100_000, 1_000_000, 20_000
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_SECONDS = 365 * 86_400
CHANNELS = ("ads", "email", "organic", "social", "referral", "events", "direct", "partner")
KINDS = ("page_view", "page_view", "form_submission", "email_click", "email_open", "ad_click", "cta_click")
RULE_TARGET, MARKOV_TARGET, OPS_TARGET = 10.0, 30.0, 5.0
PERIOD = ["--from", "2026-01-01", "--to", "2026-12-31"]
CHUNK = 20_000

# (label, report arguments, target seconds)
CASES: list[tuple[str, list[str], float]] = [
    *[
        (f"attribution {model} (revenue)", ["attribution", "--model", model], RULE_TARGET)
        for model in (
            "first",
            "last",
            "linear",
            "u_shaped",
            "w_shaped",
            "full_path",
            "time_decay",
            "j_shaped",
            "inverse_j",
        )
    ],
    ("attribution linear (contact_create)", ["attribution", "--conversion", "contact_create"], RULE_TARGET),
    (
        "attribution u_shaped (deal_create)",
        ["attribution", "--model", "u_shaped", "--conversion", "deal_create"],
        RULE_TARGET,
    ),
    ("attribution markov (revenue)", ["attribution", "--model", "markov"], MARKOV_TARGET),
    # The issue sets no target for these: data-driven like Markov, rule-based like the rule models,
    # cohort reads like SLA and funnel.
    ("attribution shapley (revenue)", ["attribution", "--model", "shapley"], MARKOV_TARGET),
    ("roi linear (leads, MQLs, customers)", ["roi"], RULE_TARGET),
    ("pipeline (sourced, influenced)", ["pipeline"], RULE_TARGET),
    ("mql-value", ["mql-value"], OPS_TARGET),
    (
        "sla (24 h, business hours)",
        ["sla", "--within-hours", "24", "--business-hours", "Mon-Fri 09:00-17:00"],
        OPS_TARGET,
    ),
    ("funnel + sales velocity", ["funnel"], OPS_TARGET),
    ("pacing (goal 30,000)", ["pacing", "--goal", "30000", "--as-of", "2026-12-31"], OPS_TARGET),
]


@dataclass(frozen=True, slots=True)
class Generated:
    """Rows per table, as dicts keyed by column name, in insert order."""

    tables: dict[str, list[dict[str, Any]]]

    def count(self, table: str) -> int:
        return len(self.tables[table])


def _at(rng: random.Random, base: datetime, low_days: float, high_days: float) -> datetime:
    return base + timedelta(seconds=int(rng.uniform(low_days, high_days) * 86_400))


def generate(scale: float, seed: int) -> Generated:
    """The closed loop of one synthetic year, deterministic for a seed."""
    rng = random.Random(seed)
    now = datetime(2027, 1, 15, tzinfo=UTC)
    n_people, n_touches, n_deals = int(PEOPLE * scale), int(TOUCHES * scale), int(DEALS * scale)
    campaigns = [
        {
            "id": i,
            "system": "salesforce",
            "external_id": f"701C{i:06d}",
            "name": f"campaign-{i}",
            "updated_at": now,
        }
        for i in range(1, 41)
    ]
    campaign_channel = {i: CHANNELS[i % len(CHANNELS)] for i in range(1, 41)}
    created = [YEAR_START + timedelta(seconds=rng.randrange(YEAR_SECONDS)) for _ in range(n_people)]
    people = [
        {"id": i + 1, "email": f"person{i + 1}@example.com", "created_at": at, "updated_at": now}
        for i, at in enumerate(created)
    ]
    touches = []
    for i in range(1, n_touches + 1):
        person = rng.randrange(n_people)
        campaign = rng.randrange(1, 41) if rng.random() < 0.5 else None
        channel = campaign_channel[campaign] if campaign else CHANNELS[rng.randrange(len(CHANNELS))]
        touches.append(
            {
                "id": i,
                "person_id": person + 1,
                "source_system": "hubspot",
                "source_event_id": f"e{i}",
                "occurred_at": _at(rng, created[person], -60, 120),
                "kind": KINDS[rng.randrange(len(KINDS))],
                "channel": channel,
                "campaign_id": campaign,
                "detail": {},
                "recorded_at": now,
            }
        )
    lifecycle: list[dict[str, Any]] = []
    activities: list[dict[str, Any]] = []
    stages = ("mql", "sql", "opportunity", "customer")
    odds = (0.3, 0.4, 0.5, 0.3)
    for person in range(n_people):
        at = created[person]
        pid = person + 1
        lifecycle.append({"person_id": pid, "stage": "lead", "entered_at": at})
        for stage, chance in zip(stages, odds, strict=True):
            if rng.random() >= chance:
                break
            at = _at(rng, at, 0.1, 30)
            lifecycle.append({"person_id": pid, "stage": stage, "entered_at": at})
            if stage == "mql":
                mql_at = at
                activities.append(
                    {"person_id": pid, "kind": "email", "initiated_by": "automation", "occurred_at": mql_at}
                )
                if rng.random() < 0.85:
                    first = mql_at + timedelta(seconds=rng.randrange(72 * 3600))
                    owner = f"rep{rng.randrange(20)}@example.com"
                    for k in range(rng.randrange(1, 7)):
                        activities.append(
                            {
                                "person_id": pid,
                                "kind": ("call", "email", "meeting")[rng.randrange(3)],
                                "initiated_by": "rep",
                                "occurred_at": _at(rng, first, 0, 4 * k) if k else first,
                                "owner_email": owner,
                            }
                        )
    for i, row in enumerate(lifecycle, 1):
        row |= {"id": i, "source_system": "hubspot", "recorded_at": now}
    for i, row in enumerate(activities, 1):
        row |= {
            "id": i,
            "source_system": "salesforce",
            "source_event_id": f"a{i}",
            "owner_email": row.get("owner_email"),
            "recorded_at": now,
        }
    deals, deal_contacts = [], []
    for i in range(1, n_deals + 1):
        opened = YEAR_START + timedelta(seconds=rng.randrange(YEAR_SECONDS))
        closed = _at(rng, opened, 5, 90) if rng.random() < 0.6 else None
        won = closed is not None and rng.random() < 0.4
        deals.append(
            {
                "id": i,
                "hubspot_id": f"d{i}",
                "name": f"deal {i}",
                "stage": "closedwon" if won else ("closedlost" if closed else "open"),
                "amount": Decimal(rng.randrange(100_000, 5_000_000)) / 100,
                "created_at": opened,
                "closed_at": closed,
                "is_closed": closed is not None,
                "is_won": won,
                "updated_at": now,
            }
        )
        for k, person in enumerate(rng.sample(range(1, n_people + 1), rng.randrange(1, 4))):
            deal_contacts.append({"deal_id": i, "person_id": person, "is_primary": k == 0})
    costs = []
    for month in range(1, 13):
        end = date(2026, month + 1, 1) - timedelta(days=1) if month < 12 else date(2026, 12, 31)
        for channel in CHANNELS:
            costs.append(
                {
                    "channel": channel,
                    "period_start": date(2026, month, 1),
                    "period_end": end,
                    "amount": Decimal(rng.randrange(100_000, 2_000_000)) / 100,
                    "source": "cost_file",
                    "source_key": f"{channel}-{month}",
                }
            )
    return Generated(
        {
            "people": people,
            "campaigns": campaigns,
            "touches": touches,
            "lifecycle_events": lifecycle,
            "activities": activities,
            "deals": deals,
            "deal_contacts": deal_contacts,
            "costs": costs,
        }
    )


def _table(name: str) -> Table:
    return m.Base.metadata.tables[name]


def load_sqlite(url: str, data: Generated) -> None:
    """DBAPI executemany in chunks, each value converted by its column type's own bind processor
    (so instants and money are stored exactly as the store writes them)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            dialect = connection.dialect
            for name, rows in data.tables.items():
                if not rows:
                    continue
                columns = [c for c in _table(name).columns if c.name in rows[0]]
                names = [c.name for c in columns]
                processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
                sql = f"INSERT INTO {name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
                for start in range(0, len(rows), CHUNK):
                    chunk = [
                        tuple(
                            process(row.get(n)) if process else row.get(n)
                            for n, process in zip(names, processors, strict=True)
                        )
                        for row in rows[start : start + CHUNK]
                    ]
                    connection.exec_driver_sql(sql, chunk)
    finally:
        engine.dispose()


def load_postgresql(url: str, data: Generated) -> None:
    """COPY FROM STDIN through psycopg, one table after the other (foreign keys in order)."""
    engine = make_engine(url)
    raw = engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
        for name, rows in data.tables.items():
            if not rows:
                continue
            columns = [c.name for c in _table(name).columns if c.name in rows[0]]
            with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(
                        [json.dumps(v) if isinstance(v, dict) else v for v in map(row.get, columns)]
                    )
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


@contextlib.contextmanager
def postgresql_database(admin_url: str) -> Iterator[str]:
    name = f"syncd_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True, slots=True)
class Measured:
    """One report run: wall and CPU seconds inside the command, peak RSS in KiB, the JSON it printed."""

    seconds: float
    cpu_seconds: float
    peak_kib: int
    document: str


def run_child(url: str, args: Sequence[str]) -> Measured:
    """One report in a fresh process."""
    completed = subprocess.run(
        [sys.executable, __file__, "--child", *args, *PERIOD, "--url", url, "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if completed.returncode != 0:
        raise SystemExit(f"report {' '.join(args)} failed: {completed.stderr}")
    measures, _, document = completed.stdout.partition("\n")
    seconds, cpu, peak = measures.split()
    return Measured(float(seconds), float(cpu), int(peak), document)


def child(args: Sequence[str]) -> int:
    """Run one report in this process; print its wall and CPU seconds and this process's peak RSS,
    then its output."""
    from syncd.cli.report import report

    buffer = io.StringIO()
    started, cpu_started = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(buffer):
        report.main(list(args), prog_name="syncd report", standalone_mode=False)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    sys.stdout.write(f"{seconds:.3f} {cpu:.3f} {peak_rss_kib()}\n{buffer.getvalue()}")
    return 0


def peak_rss_kib() -> int:
    """This process's peak resident memory since exec (VmHWM). getrusage's maxrss would also count
    the forking parent's memory, which Linux carries over an exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def has_touches(url: str) -> bool:
    """Whether the store at `url` exists, is migrated and holds touches (a kept store to reuse)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        return False
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT EXISTS (SELECT 1 FROM touches)")).scalar_one() in (1, True)
    finally:
        engine.dispose()


def prepare_stores(
    stack: contextlib.ExitStack,
    folder: Path,
    backends: Sequence[str],
    *,
    scale: float,
    seed: int,
    pg_admin_url: str,
    sqlite_file: Path | None = None,
    pg_url: str | None = None,
) -> tuple[dict[str, str], dict[str, float], Generated | None]:
    """A loaded store URL per backend, the bulk-load seconds of those loaded now, and the data set
    (None when every store was kept from an earlier run)."""
    urls: dict[str, str] = {}
    if "sqlite" in backends:
        urls["sqlite"] = f"sqlite:///{sqlite_file or folder / 'bench.db'}"
    if "postgresql" in backends:
        urls["postgresql"] = pg_url or stack.enter_context(postgresql_database(pg_admin_url))
    data: Generated | None = None
    loads: dict[str, float] = {}
    for backend, url in urls.items():
        if has_touches(url):
            print(
                f"{backend}: using the store already loaded at {make_url(url).render_as_string()}", flush=True
            )
            continue
        if data is None:
            started = time.perf_counter()
            data = generate(scale, seed)
            sizes = ", ".join(f"{n:,} {t}" for t, n in ((t, data.count(t)) for t in data.tables))
            print(f"generated in {time.perf_counter() - started:.1f} s: {sizes}", flush=True)
        started = time.perf_counter()
        (load_sqlite if backend == "sqlite" else load_postgresql)(url, data)
        loads[backend] = time.perf_counter() - started
        print(f"{backend}: loaded in {loads[backend]:.1f} s", flush=True)
    return urls, loads, data


def store_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
                for table in ("touches", "people", "deals", "lifecycle_events", "activities")
            }
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Fraction of the full data size (e.g. 0.1).")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sqlite-file", type=Path, help="Keep (or reuse) the SQLite store in this file.")
    parser.add_argument(
        "--pg-url", help="Use (or reuse) this PostgreSQL database instead of a temporary one."
    )
    parser.add_argument("--only", help="Run only the reports whose label contains one of these words.")
    options = parser.parse_args()
    backends = [b.strip() for b in options.backends.split(",") if b.strip()]
    words = [w.strip() for w in (options.only or "").split(",") if w.strip()]
    cases = [case for case in CASES if not words or any(w in case[0] for w in words)]

    results: dict[str, dict[str, Measured]] = {}
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        urls, loads, _ = prepare_stores(
            stack,
            Path(folder),
            backends,
            scale=options.scale,
            seed=options.seed,
            pg_admin_url=options.pg_admin_url,
            sqlite_file=options.sqlite_file,
            pg_url=options.pg_url,
        )
        counts = store_counts(next(iter(urls.values())))
        for backend, url in urls.items():
            results[backend] = {}
            for label, args, _ in cases:
                run = results[backend][label] = run_child(url, args)
                print(
                    f"  {backend} {label}: {run.seconds:.2f} s (CPU {run.cpu_seconds:.2f} s), "
                    f"{run.peak_kib / 1024:.0f} MiB",
                    flush=True,
                )

    failures = []
    print(
        f"\nscale {options.scale} ({counts['touches']:,} touches, {counts['people']:,} people, "
        f"{counts['deals']:,} deals, {counts['lifecycle_events']:,} lifecycle events, "
        f"{counts['activities']:,} activities); period 2026-01-01..2026-12-31; "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}\n"
    )
    header = (
        "| report | target | " + " | ".join(f"{b} s | {b} CPU s | {b} peak MiB" for b in results) + " | met |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for label, _, target in cases:
        cells = []
        met = True
        for backend in results:
            run = results[backend][label]
            cells += [f"{run.seconds:.2f}", f"{run.cpu_seconds:.2f}", f"{run.peak_kib / 1024:.0f}"]
            met = met and run.seconds <= target
        documents = {results[b][label].document for b in results}
        if len(documents) > 1:
            failures.append(f"{label}: the backends disagree")
        if not met:
            failures.append(f"{label}: slower than {target:.0f} s")
        print(f"| {label} | ≤ {target:.0f} s | " + " | ".join(cells) + f" | {'yes' if met else 'NO'} |")
    if loads:
        print("\nbulk load: " + ", ".join(f"{b} {s:.1f} s" for b, s in loads.items()))
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.exit(child(sys.argv[2:]))
    sys.exit(main())
