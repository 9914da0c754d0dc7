"""Benchmark of the dashboard's pages on the 1M-touch closed-loop benchmark store, SQLite and PostgreSQL.

Run:  .venv/bin/python benchmarks/reports/bench_dashboard.py [--scale 1.0] [--backends sqlite,postgresql]
          [--sqlite-file PATH] [--pg-url URL] [--pg-admin-url URL] [--periods default,year]

The store is the one `bench_reports.py` generates and loads (1,000,000 touches, 100,000 people,
20,000 deals over 2026, times --scale; same loader, same seed; `--sqlite-file` / `--pg-url` reuse a
store kept by either script). For each backend a fresh child process serves the dashboard on
loopback (uvicorn, the app `syncd run` serves) with its clock on 2026-12-31 12:00 UTC, and requests
every page twice over HTTP: the first load computes the page from the store, the second is served
from the figures cache. Periods: `default` (no dates: the last 30 days, pacing the current month)
and `year` (2026-01-01..2026-12-31). The child prints its peak resident memory (VmHWM). Prints a
markdown table; exits 1 when a cached load takes more than 1 s or a page does not answer 200.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_reports import ROOT, peak_rss_kib, prepare_stores, store_counts

NOW = datetime(2026, 12, 31, 12, tzinfo=UTC)
CACHED_TARGET = 1.0
YEAR = {"from": "2026-01-01", "to": "2026-12-31"}
GOALS = {"default": "2500", "year": "30000"}  # MQLs: about 30,000 a year in the benchmark store
# (label, path, query parameters)
PAGES: list[tuple[str, str, dict[str, str]]] = [
    ("attribution, linear by channel", "/attribution", {"model": "linear"}),
    ("attribution, w_shaped by campaign", "/attribution", {"model": "w_shaped", "by": "campaign"}),
    (
        "attribution, time_decay, deals created",
        "/attribution",
        {"model": "time_decay", "conversion": "deal_create"},
    ),
    (
        "attribution, u_shaped, contacts created",
        "/attribution",
        {"model": "u_shaped", "conversion": "contact_create"},
    ),
    ("attribution, markov", "/attribution", {"model": "markov"}),
    ("attribution, shapley", "/attribution", {"model": "shapley"}),
    ("MQL value & funnel", "/funnel", {}),
    ("SLA", "/sla", {}),
    ("pacing", "/pacing", {}),  # goal: GOALS
    ("sync health", "/sync", {}),
]


def child(url: str, periods: list[str]) -> int:
    """Serve the dashboard over `url` in this process and time every page twice; print JSON."""
    import httpx

    from connectors.sandbox_core.server import SandboxServer
    from syncd.store.db import make_engine
    from syncd.web import DashboardSettings, create_app

    engine = make_engine(url)
    app = create_app(engine, token=None, clock=lambda: NOW, settings=DashboardSettings(cache_size=64))
    results: list[dict[str, Any]] = []
    with SandboxServer(app) as server, httpx.Client(base_url=server.base_url, timeout=900) as client:
        for period in periods:
            for label, path, params in PAGES:
                query = {**(YEAR if period == "year" else {}), **params}
                if path == "/pacing":
                    query["goal"] = GOALS[period]
                timings, statuses, cpu = [], [], []
                for _ in range(2):
                    started, cpu_started = time.perf_counter(), time.process_time()
                    response = client.get(path, params=query)
                    timings.append(time.perf_counter() - started)
                    cpu.append(time.process_time() - cpu_started)
                    statuses.append(response.status_code)
                results.append(
                    {
                        "period": period,
                        "page": label,
                        "first": timings[0],
                        "cached": timings[1],
                        "first_cpu": cpu[0],
                        "statuses": statuses,
                        "bytes": len(response.content),
                    }
                )
                print(
                    f"  {period:7} {label}: {timings[0]:.2f} s (CPU {cpu[0]:.2f} s) / {timings[1]:.3f} s",
                    file=sys.stderr,
                    flush=True,
                )
    engine.dispose()
    print(json.dumps({"pages": results, "peak_kib": peak_rss_kib()}))
    return 0


def run_child(url: str, periods: list[str]) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", url, ",".join(periods)],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if completed.returncode != 0:
        raise SystemExit(f"the dashboard child failed on {url}")
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


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
    parser.add_argument("--periods", default="default,year", help="default (last 30 days) and/or year.")
    options = parser.parse_args()
    backends = [b.strip() for b in options.backends.split(",") if b.strip()]
    periods = [p.strip() for p in options.periods.split(",") if p.strip()]

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        urls, loads, data = prepare_stores(
            stack,
            Path(folder),
            backends,
            scale=options.scale,
            seed=options.seed,
            pg_admin_url=options.pg_admin_url,
            sqlite_file=options.sqlite_file,
            pg_url=options.pg_url,
        )
        del data  # the children read the stores; the generated rows are not needed any more
        counts = store_counts(next(iter(urls.values())))
        for backend, url in urls.items():
            print(f"{backend}: serving the dashboard", flush=True)
            results[backend] = run_child(url, periods)

    print(
        f"\n{counts['touches']:,} touches, {counts['people']:,} people, {counts['deals']:,} deals, "
        f"{counts['lifecycle_events']:,} lifecycle events, {counts['activities']:,} activities; clock "
        f"{NOW.isoformat()}; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}\n"
    )
    failures = []
    header = "| period | page | " + " | ".join(f"{b} first s | {b} cached s" for b in results) + " |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for i, (label, _, _) in enumerate(PAGES * len(periods)):
        period = results[backends[0]]["pages"][i]["period"]
        cells = []
        for backend, result in results.items():
            page = result["pages"][i]
            cells += [f"{page['first']:.2f}", f"{page['cached']:.3f}"]
            if page["cached"] > CACHED_TARGET:
                failures.append(f"{backend} {period} {label}: cached load {page['cached']:.2f} s")
            if page["statuses"] != [200, 200]:
                failures.append(f"{backend} {period} {label}: HTTP {page['statuses']}")
        print(f"| {period} | {label} | " + " | ".join(cells) + " |")
    print(
        "\npeak memory of the dashboard process: "
        + ", ".join(f"{b} {r['peak_kib'] / 1024:.0f} MiB" for b, r in results.items())
    )
    if loads:
        print("bulk load: " + ", ".join(f"{b} {s:.1f} s" for b, s in loads.items()))
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.exit(child(sys.argv[2], sys.argv[3].split(",")))
    sys.exit(main())
