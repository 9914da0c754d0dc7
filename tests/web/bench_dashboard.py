"""Page load times of the dashboard over a large generated store (not part of the test run).

    python -m tests.web.bench_dashboard [--people 10000] [--url sqlite:///path/store.db]

Seeds the store when it is empty (10,000 people ≈ 100,000 touches), serves the dashboard on
loopback and times every page twice over HTTP: the first load computes, the second is cached.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select

from connectors.sandbox_core.server import SandboxServer
from syncd.store import models as m
from syncd.store.db import make_engine
from syncd.store.migrate import upgrade
from syncd.web import DashboardSettings, create_app
from tests.reports_store.seed import seed_generated

NOW = datetime(2026, 4, 30, 12, tzinfo=UTC)
QUERIES = [
    ("/attribution", {"model": "linear"}),
    ("/attribution", {"model": "w_shaped", "by": "campaign"}),
    ("/attribution", {"model": "markov"}),
    ("/attribution", {"model": "shapley"}),
    ("/attribution", {"model": "u_shaped", "conversion": "contact_create"}),
    ("/funnel", {}),
    ("/sla", {}),
    ("/pacing", {"goal": "900"}),
    ("/sync", {}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--url", default=f"sqlite:///{tempfile.mkdtemp()}/store.db")
    parser.add_argument("--from", dest="start", default="2026-02-01")
    parser.add_argument("--to", dest="end", default="2026-03-31")
    args = parser.parse_args()
    upgrade(args.url)
    engine = make_engine(args.url)
    with engine.connect() as connection:
        touches = connection.execute(select(func.count()).select_from(m.Touch)).scalar_one()
    if not touches:
        started = time.perf_counter()
        seed_generated(engine, people=args.people)
        print(f"seeded {args.people} people in {time.perf_counter() - started:.1f} s")
    with engine.connect() as connection:
        counts = {
            model.__tablename__: connection.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (m.Person, m.Touch, m.LifecycleEvent, m.Activity, m.Deal)
        }
    print("store:", ", ".join(f"{k} {v:,}" for k, v in counts.items()), f"({engine.dialect.name})")
    app = create_app(engine, token=None, clock=lambda: NOW, settings=DashboardSettings(cache_size=64))
    period = {"from": args.start, "to": args.end}
    with SandboxServer(app) as server, httpx.Client(base_url=server.base_url, timeout=600) as client:
        print(f"{'page':<55} {'first':>8} {'cached':>8}")
        for path, params in QUERIES:
            timings = []
            for _ in range(2):
                started = time.perf_counter()
                response = client.get(path, params={**period, **params})
                timings.append(time.perf_counter() - started)
                if response.status_code != 200:
                    print(f"{path} {params}: HTTP {response.status_code}")
            label = path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
            print(f"{label:<55} {timings[0]:>7.2f}s {timings[1]:>7.3f}s")
    engine.dispose()


if __name__ == "__main__":
    main()
