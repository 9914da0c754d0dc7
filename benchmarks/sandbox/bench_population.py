"""Benchmark of the shared population generator: people built per second.

Run:  /work/venv/bin/python benchmarks/sandbox/bench_population.py [--people 200000] [--rounds 3]

Prints a markdown table (best of --rounds per size). Exits 1 below the target of 100,000 people/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from connectors.sandbox_core.population import build_population

TARGET_PEOPLE_PER_SECOND = 100_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    now = datetime(2026, 11, 20, tzinfo=UTC)
    rows = []
    for size in (10_000, args.people):
        wall, cpu = min(_timed(size, now) for _ in range(args.rounds))
        rows.append((size, size / wall, wall, size / cpu))
    load = os.getloadavg()[0]
    print(f"\nPython {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.2f}\n")
    # CPU time is shown beside wall time: on a shared machine the wall clock includes waiting for a core.
    print("| people | people/s (wall) | seconds | people/s (CPU time) | target | met |")
    print("|---|---|---|---|---|---|")
    for size, rate, seconds, cpu_rate in rows:
        met = "yes" if rate >= TARGET_PEOPLE_PER_SECOND else "NO"
        target = f">= {TARGET_PEOPLE_PER_SECOND:,}"
        print(f"| {size:,} | {rate:,.0f} | {seconds:.3f} | {cpu_rate:,.0f} | {target} | {met} |")
    return 0 if all(rate >= TARGET_PEOPLE_PER_SECOND for _, rate, _, _ in rows) else 1


def _timed(size: int, now: datetime) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    build_population(1, size, now=now)
    return time.perf_counter() - wall, time.process_time() - cpu


if __name__ == "__main__":
    sys.exit(main())
