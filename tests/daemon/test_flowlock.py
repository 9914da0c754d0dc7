"""Replicas sharing a store never run one flow at once, and take over from a dead one."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from syncd.daemon.flowlock import FlowLock
from syncd.store.db import make_engine


def test_second_runner_of_a_flow_is_refused_until_the_first_releases(store_url: str) -> None:
    first_engine, second_engine = make_engine(store_url), make_engine(store_url)
    first, second = FlowLock(first_engine, "contacts"), FlowLock(second_engine, "contacts")
    try:
        assert first.acquire()
        assert not second.acquire()
        first.release()
        assert second.acquire()
    finally:
        first.release()
        second.release()
        first_engine.dispose()
        second_engine.dispose()


def test_different_flows_run_side_by_side(store_url: str) -> None:
    engine = make_engine(store_url)
    contacts, deals = FlowLock(engine, "contacts"), FlowLock(engine, "deals")
    try:
        assert contacts.acquire()
        assert deals.acquire()
    finally:
        contacts.release()
        deals.release()
        engine.dispose()


def test_a_dead_replica_lock_is_taken_over(store_url: str) -> None:
    # A separate process takes the lock and is killed without releasing it.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from syncd.daemon.flowlock import FlowLock
                from syncd.store.db import make_engine
                lock = FlowLock(make_engine({store_url!r}), "contacts")
                assert lock.acquire()
                print("held", flush=True)
                time.sleep(600)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    engine = make_engine(store_url)
    lock = FlowLock(engine, "contacts")
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        assert not lock.acquire()
        holder.kill()
        holder.wait(timeout=30)
        # The server (or kernel) releases a dead holder's lock once its connection is gone;
        # PostgreSQL notices the closed socket promptly but not synchronously, so poll briefly.
        import time

        deadline = time.monotonic() + 10
        while not lock.acquire() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lock.held
    finally:
        holder.kill()
        lock.release()
        engine.dispose()
