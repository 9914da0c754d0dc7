"""One change probe shared by the flows of a cycle: their first pages read together, as cheaply as possible.

Each flow reads the first page of each of its Salesforce objects to learn whether anything changed.
Read flow by flow, an idle cycle of four flows would cost four composite calls; fetched together, the
connector packs up to five queries per composite call (eight objects: two calls). `SharedProbe` wraps
the connector every flow of the cycle uses: `prefetch()` reads the first pages of all the cycle's pulls
at once, and a flow's own `pull`/`pull_many` with the same (object, since, fields) is served from them.
Any other call goes to the connector unchanged.

A prefetched page may be a few seconds older than the flow's run. That is safe when the flow reads it
before writing to those records itself (a flow only moves its cursor over what it has read, so a
change made after the prefetch is read by the next cycle) — so a flow declares in `salesforce_probes()`
only the pulls it makes before its own writes to Salesforce: a later leg must see the run's writes,
or it would take its own stale read for a new edit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence

from syncd.connector import (
    ApiUsage,
    Connector,
    Cursor,
    ObjectSchema,
    Owner,
    Page,
    PullRequest,
    RemoteRecord,
    Write,
    WriteResult,
)

log = logging.getLogger(__name__)

PullKey = tuple[str, Cursor | None, tuple[str, ...]]


def pull_key(object: str, since: Cursor | None, fields: Sequence[str]) -> PullKey:
    return (object, since, tuple(fields))


def probes_of(flow: object) -> list[PullRequest]:
    """The Salesforce first pages a flow's next run reads, if the flow says (`salesforce_probes()`)."""
    probes = getattr(flow, "salesforce_probes", None)
    return list(probes()) if callable(probes) else []


class SharedProbe:
    """A connector whose first pages for a cycle's pulls are fetched in one go (see the module doc)."""

    def __init__(self, connector: Connector) -> None:
        self._connector = connector
        self.system = connector.system
        self._ready: dict[PullKey, Iterator[Page]] = {}

    def prefetch(self, pulls: Sequence[PullRequest]) -> None:
        """Read the first pages of every pull now; flows pick them up by asking for the same pull."""
        self.discard()
        wanted: dict[PullKey, PullRequest] = {}
        for pull in pulls:
            wanted.setdefault(pull_key(pull.object, pull.since, pull.fields), pull)
        if not wanted:
            return
        pages = self._connector.pull_many(list(wanted.values()))
        self._ready = dict(zip(wanted, pages, strict=True))
        log.debug("prefetched first pages of %d pulls", len(wanted))

    def prefetch_for(self, flows: Iterable[object]) -> None:
        """Prefetch every first page the flows say they read; on failure each flow reads on its own
        (and records whatever went wrong in its own run)."""
        try:
            self.prefetch([pull for flow in flows for pull in probes_of(flow)])
        except Exception:
            log.warning("shared change probe failed; the flows read on their own", exc_info=True)
            self.discard()

    def discard(self) -> None:
        """Forget prefetched pages no flow asked for (a flow that was skipped or failed)."""
        self._ready.clear()

    def pull_many(self, pulls: Sequence[PullRequest]) -> list[Iterator[Page]]:
        ready = [self._ready.pop(pull_key(p.object, p.since, p.fields), None) for p in pulls]
        missing = [pull for pull, pages in zip(pulls, ready, strict=True) if pages is None]
        fetched = iter(self._connector.pull_many(missing) if missing else ())
        return [pages if pages is not None else next(fetched) for pages in ready]

    def pull(self, object: str, since: Cursor | None, fields: Sequence[str]) -> Iterator[Page]:
        ready = self._ready.pop(pull_key(object, since, fields), None)
        return ready if ready is not None else self._connector.pull(object, since, fields)

    # The rest of the protocol is the connector's own.

    def check(self) -> None:
        self._connector.check()

    def describe(self, object: str) -> ObjectSchema:
        return self._connector.describe(object)

    def fetch(self, object: str, keys: Sequence[str], fields: Sequence[str]) -> list[RemoteRecord]:
        return self._connector.fetch(object, keys, fields)

    def count(self, object: str, since: Cursor | None) -> int:
        return self._connector.count(object, since)

    def push(self, object: str, writes: Sequence[Write]) -> list[WriteResult]:
        return self._connector.push(object, writes)

    def owners(self) -> list[Owner]:
        return self._connector.owners()

    def usage(self) -> ApiUsage:
        return self._connector.usage()

    def close(self) -> None:
        self._connector.close()
