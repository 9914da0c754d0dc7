"""Settings of the HubSpot connector: where, who, and every vendor number as a setting, not a constant."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from connectors.hubspot.errors import Waits
from syncd.budget import ApiBudget, DailyAllowance, RollingWindow
from syncd.retry import RetryPolicy


@dataclass(frozen=True)
class HubSpotConfig:
    """How to reach one HubSpot account and how hard syncd may use it.

    Budgets default to the Pro/Enterprise private-app figures (190 per 10 s, search 5 per second,
    625,000 a day); `daily_allocated` (or `daily_share`) is syncd's part of the account's daily limit,
    which all the account's apps share.
    """

    access_token: str = field(repr=False)
    base_url: str = "https://api.hubapi.com"
    ssl_ca_cert: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    burst_limit: int = 190
    burst_window: float = 10.0
    search_per_second: int = 5
    daily_limit: int | None = 625_000
    daily_allocated: int | None = None
    daily_share: float | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    waits: Waits = field(default_factory=Waits)
    batch_size: int = 100
    list_page_size: int = 100
    search_page_size: int = 200
    # Margin for clock skew between syncd and HubSpot when a backfill records its start instant.
    clock_skew: float = 300.0

    def __post_init__(self) -> None:
        if not self.access_token:
            raise ValueError("HubSpot access_token is empty")
        if not 1 <= self.batch_size <= 100:
            raise ValueError("HubSpot batch_size must be between 1 and 100")
        if not 1 <= self.list_page_size <= 100:
            raise ValueError("HubSpot list_page_size must be between 1 and 100")
        if not 2 <= self.search_page_size <= 200:
            raise ValueError("HubSpot search_page_size must be between 2 and 200")

    def budget(
        self, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> ApiBudget:
        """The limiter for these settings: the app's burst window for every call, search's own on top."""
        burst = RollingWindow(
            self.burst_limit, self.burst_window, name="hubspot burst", clock=clock, sleep=sleep
        )
        search = RollingWindow(self.search_per_second, 1.0, name="hubspot search", clock=clock, sleep=sleep)
        daily = DailyAllowance(
            "hubspot",
            allocated=self.daily_allocated,
            share=self.daily_share,
            limit=self.daily_limit,
            clock=clock,
            server_recheck_after=self.waits.daily_recheck,
        )
        # HubSpot documents search as its own bucket, outside the app's ten-second window.
        return ApiBudget(daily, {"default": [burst], "search": [search]})
