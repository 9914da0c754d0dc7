"""One simulated HubSpot portal: records, events, budgets, settings and control-plane hooks, behind a lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from connectors.hubspot.sandbox.events import EventLog
from connectors.hubspot.sandbox.ratelimit import RateLimiter
from connectors.hubspot.sandbox.schema import build_object_types
from connectors.hubspot.sandbox.seed import seed_portal
from connectors.hubspot.sandbox.settings import HubSpotSettings
from connectors.hubspot.sandbox.store import CrmStore
from connectors.hubspot.sandbox.values import iso_ms
from connectors.sandbox_core.clock import SimClock
from connectors.sandbox_core.control import ControlError
from connectors.sandbox_core.counters import CallCounters
from connectors.sandbox_core.faults import FaultInjector
from connectors.sandbox_core.population import build_population


class HubSpotState:
    """Everything one portal holds. Handlers and control actions take `lock` around every read and write."""

    def __init__(
        self,
        *,
        seed: int,
        contacts: int,
        settings: HubSpotSettings,
        clock: SimClock,
        access_token: str,
        latency_ms: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.injector = FaultInjector(seed)
        self.counters = CallCounters()
        self.latency_ms = latency_ms
        self.settings = settings
        self.access_token = access_token
        self.monotonic = monotonic
        self.types = build_object_types()
        self.limiter = RateLimiter(lambda: self.settings, now=clock.now, monotonic=monotonic)
        self.seed = seed
        self.contacts = contacts
        self.store, self.events, self.portal_created = self._build(seed, contacts)

    def _build(self, seed: int, people: int) -> tuple[CrmStore, EventLog, datetime]:
        s = self.settings
        now = self.clock.now()
        store = CrmStore(
            self.types,
            now=self.clock.now,
            monotonic=self.monotonic,
            case_insensitive_email=s.case_insensitive_email,
            lifecycle_forward_only=s.lifecycle_forward_only,
            search_lag_s=s.search_index_lag_ms / 1000,
        )
        events = EventLog(s.portal_id)
        population = build_population(seed, people, now=now)
        seed_portal(store, events, population, seed=seed, now=now)
        return store, events, now - timedelta(days=730)

    # ------------------------------------------------------------------ SimulatorControl

    def reset(self, options: Mapping[str, Any]) -> None:
        """Reseed from scratch: {"seed": n, "contacts": people, "settings": {...}} (all optional)."""
        with self.lock:
            try:
                settings = self.settings
                if "settings" in options:
                    changes = options["settings"]
                    if not isinstance(changes, dict):
                        raise ValueError("settings must be an object of setting names to values")
                    settings = settings.updated(changes)
                seed = int(options.get("seed", self.seed))
                contacts = int(options.get("contacts", self.contacts))
            except (TypeError, ValueError) as exc:
                raise ControlError(f"cannot reset the HubSpot sandbox: {exc}") from exc
            self.settings, self.seed, self.contacts = settings, seed, contacts
            self.store, self.events, self.portal_created = self._build(self.seed, self.contacts)
            self.limiter.reset()

    def update_settings(self, changes: Mapping[str, Any]) -> HubSpotSettings:
        with self.lock:
            self.settings = self.settings.updated(dict(changes))
            self.store.search_lag_s = self.settings.search_index_lag_ms / 1000
            self.store.case_insensitive_email = self.settings.case_insensitive_email
            self.store.lifecycle_forward_only = self.settings.lifecycle_forward_only
            return self.settings

    def budget(self) -> dict[str, Any]:
        return self.limiter.budget()

    def snapshot(self) -> dict[str, Any]:
        """Every record of every object (archived included), associations, merges, owners and events."""
        with self.lock:
            store = self.store
            objects = {
                name: [store.render(name, table.records[rid], all_properties=True) for rid in table.ids]
                for name, table in store.tables.items()
            }
            associations = [
                {"fromType": ft, "fromId": str(fid), "toType": tt, "toId": str(tid), "typeIds": sorted(types)}
                for (ft, fid), by_type in sorted(store.associations.items())
                for tt, targets in sorted(by_type.items())
                for tid, types in sorted(targets.items())
            ]
            return {
                "portalId": self.settings.portal_id,
                "now": iso_ms(self.clock.now()),
                "objects": objects,
                "associations": associations,
                "merged": {str(old): str(new) for old, new in sorted(store.merged_into.items())},
                "owners": [
                    {"id": o.id, "email": o.email, "firstName": o.first_name, "lastName": o.last_name}
                    for o in store.owners.values()
                ],
                "webEvents": [e.to_json() for _, _, e in self.events.web],
                "emailEvents": [e.to_json() for _, _, e in self.events.email],
                "emailCampaigns": [c.to_json() for c in self.events.campaigns.values()],
            }
