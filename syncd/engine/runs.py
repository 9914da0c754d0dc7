"""A recorded run: what every flow does around its legs — start, classify a failure, finish, count.

A flow's failure never escapes a run: it is classified by how to recover (parked when an API
allowance is spent, failed otherwise) and stored with the run, with the API calls it cost and
each system's daily allowance as last seen (what `syncd status` shows).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from syncd.connector import ApiUsage
from syncd.engine import StopSignal
from syncd.engine.state import SyncState
from syncd.errors import BudgetExhaustedError, SyncdError

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    """What a run did, per system: counts of created, updated, unchanged, quarantined records."""

    run_id: int | None
    status: str = "running"
    counts: dict[str, int] = field(default_factory=dict)
    conflicts: int = 0
    pages: int = 0
    api_calls: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    # Dry runs: planned writes per "system object op", and a sample of field changes.
    planned: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    def add(self, key: str, n: int = 1) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n

    def snapshot(self) -> tuple[dict[str, int], int, int, dict[str, int], list[str]]:
        return dict(self.counts), self.conflicts, self.pages, dict(self.planned), list(self.samples)

    def restore(self, saved: tuple[dict[str, int], int, int, dict[str, int], list[str]]) -> None:
        self.counts, self.conflicts, self.pages, self.planned, self.samples = saved


class Metered(Protocol):
    """A system whose API budget a run reports."""

    system: str

    def usage(self) -> ApiUsage: ...


def api_usage(*systems: Metered) -> dict[str, dict[str, int | None]]:
    """Each system's daily API allowance as last seen."""
    usage = {}
    for system in systems:
        seen = system.usage()
        usage[system.system] = {"used": seen.used, "allocated": seen.allocated, "limit": seen.limit}
    return usage


def recorded_run(
    flow: str,
    state: SyncState,
    trigger: str,
    stop: StopSignal,
    body: Callable[[RunSummary], None],
    *,
    clock: Callable[[], datetime],
    dry_run: bool,
    systems: tuple[Metered, ...],
) -> RunSummary:
    """Run `body` as one run of `flow`; dry runs are not recorded."""
    run_id = None if dry_run else state.start_run(trigger, clock())
    summary = RunSummary(run_id)
    used_before = {s.system: s.usage().used for s in systems}
    try:
        body(summary)
        summary.status = "stopped" if stop.is_set() else "succeeded"
    except BudgetExhaustedError as exc:
        summary.status, summary.error = "parked", str(exc)
        log.warning("flow %s parked: %s", flow, exc.message)
    except SyncdError as exc:
        summary.status, summary.error = "failed", str(exc)
        log.error("flow %s failed: %s", flow, exc.message)
    except Exception as exc:
        summary.status, summary.error = "failed", f"{exc.__class__.__name__}: {exc}"
        log.exception("flow %s failed unexpectedly", flow)
    for s in systems:
        summary.api_calls[s.system] = s.usage().used - used_before[s.system]
    if run_id is not None:
        state.finish_run(
            run_id,
            clock(),
            status=summary.status,
            counts={**summary.counts, "conflicts": summary.conflicts, "pages": summary.pages},
            api_calls=summary.api_calls,
            api_usage=api_usage(*systems),
            error=summary.error,
        )
    return summary
