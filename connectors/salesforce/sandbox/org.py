"""The simulated org's whole state: schema, records, sessions, budget, cursors, jobs and settings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.salesforce.sandbox.auth import SessionAuthority
from connectors.salesforce.sandbox.budget import ApiBudget
from connectors.salesforce.sandbox.cursors import CursorCache
from connectors.salesforce.sandbox.ids import IdGenerator, to_18
from connectors.salesforce.sandbox.query import QueryCompiler
from connectors.salesforce.sandbox.schema import OrgSchema, build_schema
from connectors.salesforce.sandbox.seed import seed_org
from connectors.salesforce.sandbox.settings import SalesforceSettings
from connectors.salesforce.sandbox.store import OrgStore
from connectors.salesforce.sandbox.writes import RecordWriter
from connectors.sandbox_core.clock import SimClock
from connectors.sandbox_core.control import ControlError
from connectors.sandbox_core.counters import CallCounters
from connectors.sandbox_core.faults import FaultInjector
from connectors.sandbox_core.population import build_population

ORG_ID = to_18("00D5g000004SbxQ")
# The integration user the API credentials belong to (a fixed id, so it survives reseeding).
API_USER_ID = to_18("0055g000004IntG")


class SalesforceOrg:
    """Everything the simulator knows; implements the core control plane's SimulatorControl."""

    def __init__(
        self,
        *,
        seed: int = 1,
        people: int = 200,
        latency_ms: float = 0.0,
        clock: SimClock | None = None,
        settings: SalesforceSettings | None = None,
    ) -> None:
        self.clock = clock or SimClock()
        self.injector = FaultInjector(seed)
        self.counters = CallCounters()
        self.latency_ms = latency_ms
        self.settings = settings or SalesforceSettings()
        self._initial_settings = self.settings
        self.schema: OrgSchema = build_schema()
        self.store = OrgStore(self.schema)
        self.seed = seed
        self.people = people
        self.ids = IdGenerator(seed)
        self.writer = RecordWriter(
            self.schema, self.store, self.ids, self.clock, self._current_settings, seed
        )
        self.compiler = QueryCompiler(self.schema, self.store)
        self.cursors = CursorCache(self.ids, self._current_settings)
        self.api_budget = ApiBudget(self.clock, lambda: self.settings.api_daily_limit)
        self.auth = SessionAuthority(self.clock, self._current_settings, ORG_ID, lambda: API_USER_ID)
        self.org_id = ORG_ID
        self.api_user_id = API_USER_ID
        self.deleted_log_start: datetime | None = None
        # Bulk API 2.0 jobs live here (owned by the bulk module); reset clears them.
        self.bulk_jobs: dict[str, Any] = {}
        self.seed_counts: Mapping[str, int] = {}
        self.activity_batches = 0
        self._seed_now()

    def _current_settings(self) -> SalesforceSettings:
        return self.settings

    def _seed_now(self) -> None:
        with self.store.lock:
            self.store.clear()
            self.cursors.clear()
            self.bulk_jobs.clear()
            self.ids = IdGenerator(self.seed)
            self.writer.ids = self.ids
            self.writer.reseed(self.seed)
            self.cursors = CursorCache(self.ids, self._current_settings)
            population = build_population(self.seed, self.people, now=self.clock.now())
            self.seed_counts = seed_org(
                self.schema,
                self.store,
                self.ids,
                population,
                api_user_id=API_USER_ID,
                api_username=self.settings.username,
                org_id=ORG_ID,
                edition=self.settings.edition,
            )
            # No purge yet: the whole 15-day window of the deletion log is available.
            self.deleted_log_start = None
            self.activity_batches = 0

    # ---- SimulatorControl ----
    def reset(self, options: Mapping[str, Any]) -> None:
        """Reseed: {"seed": n, "people": n, "settings": {...}} (each optional).

        Settings go back to what the org started with, plus the given changes; sessions stay valid so
        connected clients keep working across a reset."""
        unknown = sorted(set(options) - {"seed", "people", "settings"})
        if unknown:
            raise ControlError(f"unknown reset options {unknown}; use seed, people, settings")
        self.settings = self._initial_settings.updated(dict(options.get("settings") or {}))
        if "seed" in options:
            self.seed = int(options["seed"])
        if "people" in options:
            people = options["people"]
            if isinstance(people, bool) or not isinstance(people, int) or people < 0:
                raise ControlError(f"people must be a non-negative integer, got {people!r}")
            self.people = people
        self.api_budget.reset()
        self._seed_now()

    def snapshot(self) -> dict[str, Any]:
        with self.store.lock:
            return {
                "objects": {name: list(table.values()) for name, table in self.store.tables.items()},
                "deleted": [
                    {"sobject": d.sobject, "id": d.record_id, "deletedDate": d.deleted_at}
                    for d in self.store.deletions
                ],
                "now": self.clock.now().astimezone(UTC).isoformat(),
            }

    def budget(self) -> dict[str, Any]:
        return {
            "api_usage": self.api_budget.used(),
            "api_limit": self.api_budget.limit,
            "window_hours": 24,
            "open_sessions": self.auth.session_count(),
        }
