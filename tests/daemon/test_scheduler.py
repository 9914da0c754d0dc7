"""The daemon runs each flow on its interval, never twice at once, and stops at a page boundary."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from syncd.daemon.scheduler import Daemon, Schedule
from syncd.engine import StopSignal


class NoLock:
    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


class HeldElsewhere:
    def acquire(self) -> bool:
        return False

    def release(self) -> None:
        raise AssertionError("never acquired")


@dataclass
class PagedFlow:
    """A flow of `pages` pages that reports how far it got and how many ran at once."""

    name: str
    pages: int
    page_done: threading.Event = field(default_factory=threading.Event)
    release_page: threading.Event = field(default_factory=threading.Event)
    pages_done: int = 0
    runs: int = 0
    running: int = 0
    most_at_once: int = 0
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def run(self, trigger: str, stop: StopSignal) -> None:
        with self._guard:
            self.runs += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            for _ in range(self.pages):
                if stop.is_set():
                    return
                self.release_page.wait(timeout=30)
                self.pages_done += 1
                self.page_done.set()
        finally:
            with self._guard:
                self.running -= 1


def test_stop_lets_the_running_page_finish_and_starts_nothing_new() -> None:
    flow = PagedFlow("contacts", pages=5)
    daemon = Daemon({"contacts": Schedule(flow, interval_seconds=0.01)}, lambda _: NoLock())
    server = threading.Thread(target=daemon.serve)
    server.start()
    flow.release_page.set()
    assert flow.page_done.wait(timeout=30)
    daemon.stop()
    server.join(timeout=30)
    assert not server.is_alive()
    assert flow.running == 0
    assert flow.most_at_once == 1, "a slow run is never overlapped by the next tick"
    finished = flow.pages_done
    assert not daemon.run_flow("contacts"), "no run starts after stop"
    assert flow.pages_done == finished


def test_a_flow_running_on_another_replica_is_skipped() -> None:
    flow = PagedFlow("contacts", pages=1)
    flow.release_page.set()
    daemon = Daemon({"contacts": Schedule(flow, interval_seconds=60)}, lambda _: HeldElsewhere())
    assert daemon.run_flow("contacts") is False
    assert flow.runs == 0


def test_a_failing_flow_does_not_stop_the_daemon() -> None:
    class Broken:
        name = "deals"

        def run(self, trigger: str, stop: StopSignal) -> None:
            raise RuntimeError("boom")

    healthy = PagedFlow("contacts", pages=1)
    healthy.release_page.set()
    daemon = Daemon({"deals": Schedule(Broken(), 60), "contacts": Schedule(healthy, 60)}, lambda _: NoLock())
    assert daemon.run_flow("deals") is True
    assert daemon.run_flow("contacts") is True
    assert healthy.pages_done == 1


@dataclass
class ProbingFlow:
    """A flow that says which first pages it reads and records the order it ran in."""

    name: str
    log: list[str]
    fails: bool = False

    def salesforce_probes(self) -> list[str]:
        return [f"{self.name}:first-page"]

    def run(self, trigger: str, stop: StopSignal) -> None:
        self.log.append(self.name)
        if self.fails:
            raise RuntimeError("boom")


@dataclass
class RecordingProbe:
    prefetched: list[list[object]] = field(default_factory=list)
    discards: int = 0
    broken: bool = False

    def prefetch_for(self, flows: list[ProbingFlow]) -> None:
        if self.broken:  # SharedProbe.prefetch_for logs and carries on; so must the daemon
            self.prefetched.append([])
            return
        self.prefetched.append([pull for flow in flows for pull in flow.salesforce_probes()])

    def discard(self) -> None:
        self.discards += 1


def test_flows_sharing_an_interval_run_in_order_after_one_shared_probe() -> None:
    log: list[str] = []
    probe = RecordingProbe()
    flows = {name: ProbingFlow(name, log) for name in ("contacts", "deals", "activities")}
    daemon = Daemon(
        {
            "contacts": Schedule(flows["contacts"], 60),
            "deals": Schedule(flows["deals"], 60),
            "activities": Schedule(flows["activities"], 300),
        },
        lambda _: NoLock(),
        probe=probe,  # type: ignore[arg-type]
    )
    assert daemon.cycles() == {60: ["contacts", "deals"], 300: ["activities"]}

    assert daemon.run_cycle(["contacts", "deals"]) == ["contacts", "deals"]
    assert log == ["contacts", "deals"]
    assert probe.prefetched == [["contacts:first-page", "deals:first-page"]]
    assert probe.discards == 1, "pages nobody read are dropped at the end of the cycle"


def test_a_flow_held_elsewhere_is_skipped_and_its_probe_not_read() -> None:
    log: list[str] = []
    probe = RecordingProbe()
    locks = {"contacts": NoLock(), "deals": HeldElsewhere()}
    daemon = Daemon(
        {name: Schedule(ProbingFlow(name, log), 60) for name in ("contacts", "deals")},
        lambda name: locks[name],  # type: ignore[return-value]
        probe=probe,  # type: ignore[arg-type]
    )
    assert daemon.run_cycle(["contacts", "deals"]) == ["contacts"]
    assert probe.prefetched == [["contacts:first-page"]]


def test_a_failing_probe_or_flow_does_not_stop_the_rest_of_the_cycle() -> None:
    log: list[str] = []
    probe = RecordingProbe(broken=True)
    daemon = Daemon(
        {
            "contacts": Schedule(ProbingFlow("contacts", log, fails=True), 60),
            "deals": Schedule(ProbingFlow("deals", log), 60),
        },
        lambda _: NoLock(),
        probe=probe,  # type: ignore[arg-type]
    )
    assert daemon.run_cycle(["contacts", "deals"]) == ["contacts", "deals"]
    assert log == ["contacts", "deals"]
