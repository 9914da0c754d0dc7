"""Benchmark of the alerts flow's rule evaluation over a large store, on SQLite and PostgreSQL.

Run:  .venv/bin/python benchmarks/alerts/bench_alerts.py [--touches 1000000] [--backends sqlite,postgresql]
          [--pg-admin-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--new 10000]

Generates (deterministically) a store of --touches touches over a year ending now, people (a tenth of
the touch count, two thirds with a Salesforce Lead), their lifecycle events (MQLs included) and rep
activities; loads it with bulk inserts into a fresh SQLite file and a fresh PostgreSQL database
(created per run, dropped after). Then runs the alerts flow (four rules: a demo form, a pricing visit
by an MQL, a return after 30 days of silence, an MQL not contacted within 4 business hours) through
its public API with an injected clock, webhook posts answered in-process (no network), and measures:

- the first cycle (every rule new: each looks back over its 72-hour max age),
- an idle cycle (nothing new; median of 5) — its API calls must be 0,
- a busy cycle after --new touches and a tenth as many MQL events arrive: seconds and touches/s.

Prints a markdown table; exits 1 when an idle cycle costs an API call or more than 1 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import Engine, create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from syncd.alerts.flow import AlertFlow, AlertSettings  # noqa: E402
from syncd.alerts.rules import Channel, SilenceRule, SlaRule, TouchRule  # noqa: E402
from syncd.alerts.webhook import WebhookSender  # noqa: E402
from syncd.connector import ApiUsage  # noqa: E402
from syncd.reports.business_hours import BusinessHours  # noqa: E402
from syncd.store import models as m  # noqa: E402
from syncd.store.db import make_engine  # noqa: E402
from syncd.store.migrate import upgrade  # noqa: E402

NOW = datetime(2026, 6, 10, 15, 0, tzinfo=UTC)  # a Wednesday afternoon
KINDS = ("page_view", "page_view", "page_view", "form_submission", "email_click", "email_open", "email_send")
PAGES = ("/", "/pricing", "/product", "/blog/a", "/blog/b", "/customers", "/demo", "/contact")
FORMS = ("Request a demo", "Newsletter", "Contact us", "Webinar signup")
CHUNK = 20_000
HOOK = frozenset({Channel.WEBHOOK})
RULES = (
    TouchRule("demo", "form_submission", HOOK, forms=frozenset({"request a demo"})),
    TouchRule("pricing-mql", "page_view", HOOK, url="*/pricing*", min_stage="mql"),
    SilenceRule("back", HOOK, silence=timedelta(days=30)),
    SlaRule(
        "sla",
        HOOK,
        within=timedelta(hours=4),
        business_hours=BusinessHours(timezone="Europe/Berlin", opens=clock_time(9), closes=clock_time(17)),
    ),
)


class Never:
    def is_set(self) -> bool:
        return False


class NoSalesforce:
    """Alerts evaluate from the store alone: any Salesforce call here is a bug."""

    system = "salesforce"

    def usage(self) -> ApiUsage:
        return ApiUsage("salesforce", 0, None)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _rows(n_touches: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(seed)
    n_people = max(10, n_touches // 10)
    people = [
        {"id": i, "email": f"p{i}@example.com", "created_at": NOW - timedelta(days=400), "updated_at": NOW}
        for i in range(1, n_people + 1)
    ]
    identities = [
        {
            "person_id": i,
            "system": "salesforce",
            "object": "Lead",
            "external_id": f"00Q{i:015d}",
            "active": True,
            "linked_at": NOW,
        }
        for i in range(1, n_people + 1)
        if i % 3
    ]
    touches = []
    for i in range(1, n_touches + 1):
        kind = KINDS[rng.randrange(len(KINDS))]
        at = NOW - timedelta(seconds=rng.randrange(365 * 86_400))
        detail: dict[str, Any] = {"url": f"https://www.example.com{PAGES[rng.randrange(len(PAGES))]}"}
        if kind == "form_submission":
            detail["form"] = FORMS[rng.randrange(len(FORMS))]
        touches.append(
            {
                "id": i,
                "person_id": rng.randrange(1, n_people + 1),
                "source_system": "hubspot",
                "source_event_id": f"e{i}",
                "occurred_at": at,
                "kind": kind,
                "channel": "direct",
                "detail": detail,
                "recorded_at": at + timedelta(minutes=10),
            }
        )
    lifecycle, activities = [], []
    for pid in range(1, n_people + 1):
        if rng.random() < 0.3:
            at = NOW - timedelta(seconds=rng.randrange(365 * 86_400))
            lifecycle.append({"person_id": pid, "stage": "mql", "entered_at": at})
            if rng.random() < 0.8:
                activities.append({"person_id": pid, "occurred_at": at + timedelta(hours=rng.uniform(0, 48))})
    for i, row in enumerate(lifecycle, 1):
        row |= {"id": i, "source_system": "hubspot", "recorded_at": row["entered_at"]}
    for i, row in enumerate(activities, 1):
        row |= {
            "id": i,
            "source_system": "salesforce",
            "source_event_id": f"a{i}",
            "kind": "call",
            "initiated_by": "rep",
            "recorded_at": row["occurred_at"],
        }
    return {
        "people": people,
        "identities": identities,
        "touches": touches,
        "lifecycle_events": lifecycle,
        "activities": activities,
    }


def _load(engine: Engine, rows: dict[str, list[dict[str, Any]]]) -> None:
    tables = {t.name: t for t in m.Base.metadata.sorted_tables}
    with engine.begin() as conn:
        for name, items in rows.items():
            for start in range(0, len(items), CHUNK):
                conn.execute(insert(tables[name]), items[start : start + CHUNK])
        if engine.dialect.name == "postgresql":
            for name in rows:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"
                    )
                )
            conn.execute(text("ANALYZE"))


def _arrivals(engine: Engine, n_new: int, clock: Clock, seed: int) -> None:
    """--new touches and a tenth as many MQL events recorded now, for people already in the store."""
    rng = random.Random(seed + 1)
    with engine.connect() as conn:
        n_people = int(conn.execute(text("SELECT max(id) FROM people")).scalar_one())
        next_touch = int(conn.execute(text("SELECT max(id) FROM touches")).scalar_one()) + 1
    now = clock()
    touches = []
    for i in range(n_new):
        kind = KINDS[rng.randrange(len(KINDS))]
        detail: dict[str, Any] = {"url": f"https://www.example.com{PAGES[rng.randrange(len(PAGES))]}"}
        if kind == "form_submission":
            detail["form"] = FORMS[rng.randrange(len(FORMS))]
        at = now - timedelta(seconds=rng.randrange(3600))
        touches.append(
            {
                "id": next_touch + i,
                "person_id": rng.randrange(1, n_people + 1),
                "source_system": "hubspot",
                "source_event_id": f"new{next_touch + i}",
                "occurred_at": at,
                "kind": kind,
                "channel": "direct",
                "detail": detail,
                "recorded_at": now,
            }
        )
    mqls = [
        {
            "person_id": rng.randrange(1, n_people + 1),
            "stage": "mql",
            "entered_at": now - timedelta(hours=rng.uniform(0, 30)),
            "source_system": "hubspot",
            "recorded_at": now,
        }
        for _ in range(n_new // 10)
    ]
    with engine.begin() as conn:
        conn.execute(insert(m.Touch), touches)
        conn.execute(insert(m.LifecycleEvent), mqls)


@contextmanager
def _store(backend: str, pg_admin_url: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'alerts-bench.db'}"
        return
    name = f"syncd_alerts_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _flow(engine: Engine, clock: Clock, posts: list[int], *, dry_run: bool = False) -> AlertFlow:
    def answer(request: httpx.Request) -> httpx.Response:
        posts[0] += 1
        return httpx.Response(200, text="ok")

    client = httpx.Client(transport=httpx.MockTransport(answer))
    return AlertFlow(
        name="alerts",
        salesforce=NoSalesforce(),  # type: ignore[arg-type]
        store=engine,
        clock=clock,
        settings=AlertSettings(rules=RULES, dry_run=dry_run),
        webhook=WebhookSender("https://hooks.example.com/services/bench", client),
    )


def _timed(flow: AlertFlow) -> tuple[float, dict[str, int], dict[str, int]]:
    started = time.perf_counter()
    summary = flow.run("once", Never())
    elapsed = time.perf_counter() - started
    if summary.status not in ("succeeded",):
        raise SystemExit(f"alerts run {summary.status}: {summary.error}")
    return elapsed, {**summary.counts, **summary.planned}, summary.api_calls


def bench(backend: str, args: argparse.Namespace, tmp: Path) -> list[tuple[str, str, str]]:
    results: list[tuple[str, str, str]] = []
    with _store(backend, args.pg_admin_url, tmp) as url:
        upgrade(url)
        engine = make_engine(url)
        rows = _rows(args.touches, args.seed)
        started = time.perf_counter()
        _load(engine, rows)
        loaded = time.perf_counter() - started
        counts = ", ".join(f"{len(v):,} {k}" for k, v in rows.items())
        print(f"{backend}: loaded {counts} in {loaded:.1f} s", file=sys.stderr)
        del rows
        clock, posts = Clock(), [0]
        flow = _flow(engine, clock, posts)

        elapsed, summary, calls = _timed(flow)
        results.append(
            (
                backend,
                "first cycle (4 new rules, 72 h look-back)",
                f"{elapsed:.2f} s, {summary.get('alerts.fired', 0)} fired, API calls {calls}",
            )
        )
        idle = []
        for _ in range(5):
            clock.now += timedelta(minutes=10)
            elapsed, summary, calls = _timed(flow)
            idle.append(elapsed)
            if calls.get("salesforce") or summary.get("alerts.fired"):
                raise SystemExit(f"idle cycle fired or called an API: {summary} {calls}")
        results.append(
            (backend, "idle cycle (median of 5)", f"{statistics.median(idle) * 1000:.0f} ms, API calls 0")
        )

        clock.now += timedelta(minutes=10)
        _arrivals(engine, args.new, clock, args.seed)
        clock.now += timedelta(minutes=10)  # past the lag: the cursors can move beyond the new rows
        # The same cycle as a dry run first: reads and evaluation only, nothing written or posted.
        elapsed, summary, calls = _timed(_flow(engine, clock, [0], dry_run=True))
        would = sum(n for key, n in summary.items() if key.startswith("alerts fire"))
        results.append(
            (
                backend,
                f"busy cycle, evaluation only ({args.new:,} new touches, {args.new // 10:,} new MQLs)",
                f"{elapsed:.2f} s = {args.new / elapsed:,.0f} touches/s, {would} would fire",
            )
        )
        before = posts[0]
        elapsed, summary, calls = _timed(flow)
        results.append(
            (
                backend,
                "busy cycle, whole (outbox inserts, a post and a commit per alert)",
                f"{elapsed:.2f} s, {summary.get('alerts.fired', 0)} fired, {posts[0] - before} posts, "
                f"API calls {calls}",
            )
        )
        clock.now += timedelta(minutes=10)
        elapsed, summary, calls = _timed(flow)
        results.append((backend, "idle cycle after it", f"{elapsed * 1000:.0f} ms"))
        engine.dispose()
        if statistics.median(idle) > 1.0:
            results.append((backend, "TARGET MISSED", "idle cycle > 1 s"))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--touches", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            rows.extend(bench(backend.strip(), args, Path(tmp)))
    print("| backend | measurement | result |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if any(r[1] == "TARGET MISSED" for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
