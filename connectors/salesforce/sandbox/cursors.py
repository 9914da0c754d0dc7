"""Query locators: a query's result rows kept between pages, served in batches of varying size."""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.salesforce.sandbox.errors import ApiError
from connectors.salesforce.sandbox.ids import IdGenerator
from connectors.salesforce.sandbox.query import QueryPlan
from connectors.salesforce.sandbox.settings import SalesforceSettings
from connectors.salesforce.sandbox.store import Record


@dataclass
class _Cursor:
    rows: list[Record]
    plan: QueryPlan
    version: str
    batch_size: int
    last_used: datetime


def page_size(locator: str, position: int, batch_size: int, jitter: float) -> int:
    """Up to `jitter` of the batch smaller, deterministically: clients must not expect exact batches."""
    reduction_max = int(batch_size * jitter)
    if reduction_max <= 0:
        return batch_size
    reduction = zlib.crc32(f"{locator}:{position}".encode()) % (reduction_max + 1)
    return max(batch_size - reduction, 1)


class CursorCache:
    """Open query locators, bounded in number and idle time like a real org's."""

    def __init__(self, ids: IdGenerator, settings: Callable[[], SalesforceSettings]) -> None:
        self._ids = ids
        self._settings = settings
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._lock = threading.Lock()

    def first_page(
        self, plan: QueryPlan, rows: list[Record], version: str, batch_size: int, now: datetime
    ) -> dict[str, Any]:
        settings = self._settings()
        locator = self._ids.new("01g")
        size = page_size(locator, 0, batch_size, settings.page_size_jitter)
        if len(rows) <= size:
            return self._page(locator, plan, rows, 0, len(rows), version)
        cursor = _Cursor(rows, plan, version, batch_size, now)
        with self._lock:
            self._cursors[locator] = cursor
            while len(self._cursors) > settings.max_open_cursors:
                self._cursors.popitem(last=False)
        return self._page(locator, plan, rows, 0, size, version)

    def next_page(self, locator: str, position: int, version: str, now: datetime) -> dict[str, Any]:
        settings = self._settings()
        with self._lock:
            cursor = self._cursors.get(locator)
            if cursor is not None and (now - cursor.last_used).total_seconds() > settings.cursor_idle_seconds:
                del self._cursors[locator]
                cursor = None
            if cursor is None or position < 0 or position > len(cursor.rows):
                raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            cursor.last_used = now
            self._cursors.move_to_end(locator)
        size = page_size(locator, position, cursor.batch_size, settings.page_size_jitter)
        end = min(position + size, len(cursor.rows))
        if end >= len(cursor.rows):
            with self._lock:
                self._cursors.pop(locator, None)
        return self._page(locator, cursor.plan, cursor.rows, position, end, version)

    def _page(
        self, locator: str, plan: QueryPlan, rows: list[Record], start: int, end: int, version: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows)}
        if end < len(rows):
            out["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
        project = plan.project
        out["records"] = [project(r, version) for r in rows[start:end]]
        return out

    def clear(self) -> None:
        with self._lock:
            self._cursors.clear()
