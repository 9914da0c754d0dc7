"""The sync engine: work units through pull, normalize, match, resolve, push, record and checkpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from syncd.engine.runs import RunSummary


class StopSignal(Protocol):
    """Set when the daemon is asked to stop; flows return at their next unit boundary."""

    def is_set(self) -> bool: ...


class Flow(Protocol):
    """What the CLI and the daemon run: one cycle of one flow, recorded as a run."""

    name: str

    def run(self, trigger: str, stop: StopSignal) -> RunSummary: ...
