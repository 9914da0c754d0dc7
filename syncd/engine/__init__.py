"""The sync engine: one page at a time through pull, normalize, match, resolve, push, record, checkpoint."""

from typing import Protocol


class StopSignal(Protocol):
    """Set when the daemon is asked to stop; flows return at their next page boundary."""

    def is_set(self) -> bool: ...
