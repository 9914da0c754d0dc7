"""The deals flow: HubSpot deals and Salesforce Opportunities kept in step, both ways, with their contacts and
stage history in the closed-loop store.

A run has two legs, Salesforce first (where deals close), then HubSpot, each a sequence of pages:
pull → normalize → link → resolve → push → record → checkpoint.

- **Salesforce leg**: one `pull_many` reads the first pages of Opportunity, OpportunityContactRole and
  OpportunityHistory in one Composite call (an idle leg costs exactly that call). Opportunities are
  resolved against their HubSpot deal and pushed; contact roles become associations (deal_contacts.py);
  history rows become stage visits in the store.
- **HubSpot leg**: one deals search on `hs_lastmodifieddate` (keyset, as for contacts); deals are resolved
  against their Opportunity and pushed; each page's deal↔contact associations (one batch read) become
  contact roles.

Identity: the store's `deals` row links the two records; each system also keeps the other's id in a
unique field (the mapping's `link:`), so a create is an upsert keyed by it — HubSpot batch upsert by the
link property, sObject Collections upsert by the External ID field — and a replay after a crash updates the
record it created instead of creating another. Deals are never matched by name.

Fields are merged per rule by the three-way merge of syncd.core.resolve against the bases stored under
`deal:<id>`; our own writes come back equal to their bases and are skipped (no read of the other side).
A page's deal rows, bases, contacts, stage visits, issues and cursor are committed in one transaction
after its writes landed; a page failing transiently is planned again from fresh reads.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine

from syncd.connector import (
    ApiUsage,
    Cursor,
    ObjectSchema,
    Page,
    PullRequest,
    RemoteRecord,
    Write,
    WriteResult,
)
from syncd.core.convert import TransformError
from syncd.core.deal_stages import StageEntry
from syncd.core.deal_status import (
    HUBSPOT_FIELDS,
    SALESFORCE_FIELDS,
)
from syncd.core.deal_status import stage_entries as hubspot_stage_entries
from syncd.core.issues import RecordRef
from syncd.core.normalize import UnreadableValue, Value, canonical_value
from syncd.core.resolve import FieldBase, FieldPlan, Resolution, SideState, resolve
from syncd.core.rules import Side
from syncd.deals import Pipeline
from syncd.engine import StopSignal
from syncd.engine.contacts import resume_point
from syncd.engine.deal_contacts import (
    ROLE,
    ROLE_FIELDS,
    WAITING_OBJECT,
    Associations,
    ContactSettings,
    DealContacts,
    DealOnBothSides,
    RoleChange,
    Roles,
)
from syncd.engine.deal_rows import DealRead, DealRows
from syncd.engine.deal_store import DealBase, DealLog, DealPage, DealStore, StoredDeal, deal_key
from syncd.engine.runs import RunSummary, recorded_run
from syncd.engine.state import CursorMove, Quarantine, SyncState
from syncd.engine.touch_store import TouchStore
from syncd.errors import IssueCategory, RecordError, RetryableError
from syncd.mapping.model import FlowMapping, RecordLink
from syncd.mapping.owners import OwnerMap
from syncd.mapping.plans import field_plans
from syncd.mapping.stages import STAGE_FIELD

log = logging.getLogger(__name__)

HUBSPOT, SALESFORCE = "hubspot", "salesforce"
DEALS, OPPORTUNITY, HISTORY = "deals", "Opportunity", "OpportunityHistory"


@dataclass(frozen=True)
class DealSettings:
    """How a deals run behaves. `lag` re-reads a window before each cursor (see contacts.resume_point)."""

    lag: timedelta = timedelta(seconds=60)
    dry_run: bool = False
    sample_size: int = 5
    page_attempts: int = 3
    # The Role of contact roles created from HubSpot associations (HubSpot has no roles); None: blank.
    contact_role: str | None = None
    association_type: int = 3  # HubSpot-defined deal → contact
    # How long a contact change waits for its person to be linked before it is given up.
    max_wait: timedelta = timedelta(days=14)


class MarketingDeals(Associations, Protocol):
    """What the flow needs from HubSpot (the HubSpot connector implements it)."""

    def pull_many(self, pulls: Sequence[PullRequest]) -> list[Iterator[Page]]: ...

    def fetch(self, object: str, keys: Sequence[str], fields: Sequence[str]) -> list[RemoteRecord]: ...

    def push(self, object: str, writes: Sequence[Write]) -> list[WriteResult]: ...


class CrmDeals(Protocol):
    """What the flow needs from Salesforce (the connector, or the cycle's shared change probe over it)."""

    system: str

    def pull_many(self, pulls: Sequence[PullRequest]) -> list[Iterator[Page]]: ...

    def fetch(self, object: str, keys: Sequence[str], fields: Sequence[str]) -> list[RemoteRecord]: ...

    def push(self, object: str, writes: Sequence[Write]) -> list[WriteResult]: ...

    def usage(self) -> ApiUsage: ...


@dataclass
class _Work:
    """One source record being synced: its counterpart and what the page plans for it."""

    source: DealRead
    deal: StoredDeal | None
    other_id: str | None
    target: DealRead | None = None
    resolution: Resolution | None = None
    to_target: Write | None = None
    to_source: dict[str, Any] = field(default_factory=dict)
    created_id: str | None = None
    failed: bool = False

    @property
    def ref(self) -> str:
        system = SALESFORCE if self.source.record.object == OPPORTUNITY else HUBSPOT
        return f"{system}:{self.source.id}"


class DealFlow:
    """One flow instance, built once by the composition root with describe()d schemas and the pipeline."""

    def __init__(
        self,
        *,
        name: str,
        hubspot: MarketingDeals,
        salesforce: CrmDeals,
        roles: Roles,
        store: Engine,
        mapping: FlowMapping,
        schemas: Mapping[str, ObjectSchema],
        pipeline: Pipeline,
        clock: Callable[[], datetime],
        owners: OwnerMap | None = None,
        owner_emails: Mapping[tuple[str, str], str] | None = None,
        settings: DealSettings | None = None,
    ) -> None:
        if mapping.link is None:
            raise ValueError("the deals mapping needs a `link:` (validated at start-up)")
        self.name = name
        self._hubspot = hubspot
        self._salesforce = salesforce
        self._engine = store
        self._state = SyncState(store, name)
        self._deals = DealStore(store, name)
        self._mapping = mapping
        self._link: RecordLink = mapping.link
        self._pipeline = pipeline
        self._clock = clock
        self._settings = settings or DealSettings()
        self._plans: tuple[FieldPlan, ...] = field_plans(mapping, OPPORTUNITY, owners)
        self._types = {
            HUBSPOT: {n: s.type for n, s in schemas[HUBSPOT].fields.items()},
            SALESFORCE: {n: s.type for n, s in schemas[SALESFORCE].fields.items()},
        }
        self._stage_plan = next((p for p in self._plans if p.name == STAGE_FIELD), None)
        campaign = next((p for p in self._plans if p.crm_field == "CampaignId"), None)
        self._campaign_property = campaign.marketing_field if campaign else None
        self._contacts = DealContacts(
            hubspot=hubspot,
            salesforce=roles,
            store=self._deals,
            state=self._state,
            settings=ContactSettings(
                role=self._settings.contact_role,
                association_type=self._settings.association_type,
                dry_run=self._settings.dry_run,
            ),
        )
        self._rows = DealRows(
            pipeline=pipeline,
            stage_name=self._stage_name,
            campaign_property=self._campaign_property,
            owner_emails=dict(owner_emails or {}),
        )
        self._fields = {
            OPPORTUNITY: sorted(
                {p.crm_field for p in self._plans}
                | set(SALESFORCE_FIELDS)
                | {self._link.salesforce, "Campaign.Name"}
            ),
            ROLE: list(ROLE_FIELDS),
            HISTORY: ["OpportunityId", "StageName"],
            DEALS: sorted(
                {p.marketing_field for p in self._plans}
                | set(HUBSPOT_FIELDS)
                | {self._link.hubspot}
                | {f"hs_date_entered_{s}" for s in pipeline.stage_ids}
                | ({self._campaign_property} if self._campaign_property else set())
            ),
        }

    # --- a run --------------------------------------------------------------------------

    def run(self, trigger: str, stop: StopSignal) -> RunSummary:
        """One cycle of both legs, then the contact rows either side could now complete."""

        def legs(summary: RunSummary) -> None:
            for leg in (self._salesforce_leg, self._hubspot_leg, self._settle_contacts):
                if stop.is_set():
                    return
                leg(summary, stop)

        return recorded_run(
            self.name,
            self._state,
            trigger,
            stop,
            legs,
            clock=self._clock,
            dry_run=self._settings.dry_run,
            systems=(self._hubspot, self._salesforce),
        )

    def restart(self) -> None:
        """Read everything again on the next run (links and bases stay: records in step cost no write)."""
        self._state.clear_cursors()

    # --- legs ---------------------------------------------------------------------------

    def salesforce_probes(self) -> list[PullRequest]:
        """The first pages the Salesforce leg reads: Opportunity, contact roles and stage history, which
        one Composite call answers (a shared change probe may bundle them with other flows')."""
        return [
            PullRequest(
                obj,
                resume_point(self._state.stored_cursor(SALESFORCE, obj), self._settings.lag),
                tuple(self._fields[obj]),
            )
            for obj in (OPPORTUNITY, ROLE, HISTORY)
        ]

    def _salesforce_leg(self, summary: RunSummary, stop: StopSignal) -> None:
        started = self._clock()
        handlers = {OPPORTUNITY: self._opportunity_page, ROLE: self._role_page, HISTORY: self._history_page}
        requests = self.salesforce_probes()
        for request, pages in zip(requests, self._salesforce.pull_many(requests), strict=True):
            for page in pages:
                move = CursorMove(SALESFORCE, request.object, page.cursor, observed_at=started)
                self._replayed(handlers[request.object], page, move, summary)
                if stop.is_set():
                    return

    def _hubspot_leg(self, summary: RunSummary, stop: StopSignal) -> None:
        started = self._clock()
        since = resume_point(self._state.stored_cursor(HUBSPOT, DEALS), self._settings.lag)
        request = PullRequest(DEALS, since, tuple(self._fields[DEALS]), run_started=started)
        (pages,) = self._hubspot.pull_many([request])
        last: Cursor | None = None
        for page in pages:
            move = CursorMove(HUBSPOT, DEALS, page.cursor, observed_at=started)
            self._replayed(self._deal_page, page, move, summary)
            last = page.cursor
            if stop.is_set():
                return
        if last is not None and last.last_id is not None and not self._settings.dry_run:
            # The pull read everything up to its last instant: the next one starts just after it with
            # one query, instead of a query finishing that instant and one after it (two calls when
            # idle). Changes made at that very millisecond later are in the re-read lag window.
            after = Cursor(last.modified_at + timedelta(milliseconds=1), None)
            self._record(DealPage(cursors=[CursorMove(HUBSPOT, DEALS, after, observed_at=started)]), summary)

    def _settle_contacts(self, summary: RunSummary, stop: StopSignal) -> None:
        """Contact changes that waited for a person, then rows either side can now complete; both are
        found in the store, so a run with nothing waiting costs no call here."""
        if self._settings.dry_run:
            return
        waiting_store = TouchStore(self._engine, self.name)
        waiting = waiting_store.waiting([WAITING_OBJECT])
        now = self._clock()
        expired = [w.record_key for w in waiting if w.first_seen_at < now - self._settings.max_wait]
        for system in (HUBSPOT, SALESFORCE):
            if expired:
                waiting_store.give_up(
                    system, expired, f"given up after waiting {self._settings.max_wait} for the person", now
                )
        live = [(w.record_key, w.payload) for w in waiting if w.record_key not in set(expired)]
        page = DealPage()
        self._contacts.retry_waiting(live, page, summary)
        if not page.empty():
            self._record(page, summary)
        page = DealPage()
        self._contacts.complete_pending(page, summary)
        if not page.empty():
            self._record(page, summary)

    def _replayed(
        self,
        handler: Callable[[Page, CursorMove | None, RunSummary], None],
        page: Page,
        move: CursorMove | None,
        summary: RunSummary,
    ) -> None:
        """A page whose calls failed transiently beyond the connectors' retries is planned again from
        fresh reads: what landed is found by its key and not written twice."""
        attempts = self._settings.page_attempts
        for attempt in range(1, attempts + 1):
            before = summary.snapshot()
            try:
                handler(page, move, summary)
                return
            except RetryableError as exc:
                summary.restore(before)
                if attempt == attempts:
                    raise
                log.warning(
                    "flow %s: a page of %d records failed (%s); replaying it (attempt %d of %d)",
                    self.name, len(page.records), exc.__class__.__name__, attempt + 1, attempts,
                )  # fmt: skip

    # --- Salesforce pages ---------------------------------------------------------------

    def _opportunity_page(self, page: Page, move: CursorMove | None, summary: RunSummary) -> None:
        summary.pages += 1
        out = DealPage(cursors=[move] if move else [])
        link = self._link
        reads = [self._read(r, SALESFORCE) for r in page.records]
        candidates = {r.id: str(r.values[link.salesforce]) for r in reads if r.values.get(link.salesforce)}
        stored = self._deals.deals(salesforce_ids=[r.id for r in reads], hubspot_ids=candidates.values())
        by_sf = {d.salesforce_id: d for d in stored if d.salesforce_id}
        by_hs = {d.hubspot_id: d for d in stored if d.hubspot_id}
        bases = self._bases(d.id for d in stored)
        work: list[_Work] = []
        for read in reads:
            deal = by_sf.get(read.id) or by_hs.get(candidates.get(read.id, ""))
            hubspot_id = (deal.hubspot_id if deal and deal.hubspot_id else None) or candidates.get(read.id)
            if read.record.deleted:
                out.deals.append(self._rows.from_salesforce(read, None, hubspot_id, deleted=True))
                summary.add("salesforce.deleted")
                continue
            if read.problems:
                out.quarantined.append(self._unreadable(SALESFORCE, OPPORTUNITY, read))
                continue
            base = bases.get(deal.id, {}) if deal else {}
            if (
                deal
                and hubspot_id
                and read.values.get(link.salesforce) == hubspot_id
                and self._echo(Side.CRM, read.values, base)
            ):
                summary.add("salesforce.unchanged")
                out.deals.append(self._rows.from_salesforce(read, None, hubspot_id))
                continue
            work.append(_Work(read, deal, hubspot_id))
        targets = self._fetch(HUBSPOT, [w.other_id for w in work if w.other_id])
        for item in work:
            self._plan_opportunity(item, targets, bases, out)
        if self._settings.dry_run:
            self._describe(work, summary, target=HUBSPOT)
            return
        self._push(work, HUBSPOT, DEALS, SALESFORCE, OPPORTUNITY, summary, out)
        for item in work:
            self._finish(item, out, source=SALESFORCE)
        self._record(out, summary)

    def _plan_opportunity(
        self,
        item: _Work,
        targets: Mapping[str, DealRead],
        bases: Mapping[int, Mapping[str, FieldBase]],
        out: DealPage,
    ) -> None:
        link, source = self._link, item.source
        target = targets.get(item.other_id) if item.other_id else None
        if item.other_id and target is None:
            item.failed = True
            out.quarantined.append(
                self._quarantine(
                    SALESFORCE,
                    OPPORTUNITY,
                    source.id,
                    IssueCategory.VALIDATION,
                    f"Opportunity {source.id} is linked to HubSpot deal {item.other_id}, which HubSpot no "
                    f"longer has (archived or merged); clear {link.salesforce} on the Opportunity to create "
                    "it in HubSpot again",
                )
            )
            out.deals.append(self._rows.from_salesforce(source, None, None))
            return
        if target is not None and not self._in_pipeline(target):
            item.failed = True
            out.quarantined.append(self._other_pipeline(target))
            return
        item.target = target
        base = bases.get(item.deal.id, {}) if item.deal else {}
        resolution = resolve(
            SideState(Side.CRM, source.values, source.record.modified_at),
            SideState(Side.MARKETING, target.values, target.record.modified_at) if target else None,
            self._plans,
            base,
            record=RecordRef(SALESFORCE, OPPORTUNITY, source.id),
        )
        item.resolution = resolution
        out.quarantined += [
            self._field_issue(issue.field, issue.reason, SALESFORCE, OPPORTUNITY, source.id)
            for issue in resolution.issues
        ]
        to_hubspot = {k: _hubspot_value(v) for k, v in resolution.marketing_writes.items()}
        item.to_source = {k: _salesforce_value(v) for k, v in resolution.crm_writes.items()}
        if target is not None:
            if target.values.get(link.hubspot) != source.id:
                to_hubspot[link.hubspot] = source.id
            if source.values.get(link.salesforce) != target.id:
                item.to_source[link.salesforce] = target.id
            if to_hubspot:
                item.to_target = Write("update", item.ref, to_hubspot, id=target.id)
        else:
            fields = {k: _hubspot_value(v) for k, v in self._mapping.on_create.hubspot.items()}
            fields.update(to_hubspot)
            fields[link.hubspot] = source.id
            item.to_target = Write("upsert", item.ref, fields, id_property=link.hubspot)

    def _role_page(self, page: Page, move: CursorMove | None, summary: RunSummary) -> None:
        summary.pages += 1
        out = DealPage(cursors=[move] if move else [])
        self._contacts.apply_roles([RoleChange.of(r) for r in page.records], out, summary)
        if not self._settings.dry_run:
            self._record(out, summary)

    def _history_page(self, page: Page, move: CursorMove | None, summary: RunSummary) -> None:
        """OpportunityHistory rows as stage visits (echoes of stages syncd carried across collapse into
        the visit they repeat; see syncd.core.deal_stages)."""
        summary.pages += 1
        out = DealPage(cursors=[move] if move else [])
        live = [r for r in page.records if not r.deleted and r.fields.get("StageName")]
        deals = {
            d.salesforce_id: d
            for d in self._deals.deals(salesforce_ids={str(r.fields.get("OpportunityId")) for r in live})
            if d.salesforce_id
        }
        for row in live:
            deal = deals.get(str(row.fields.get("OpportunityId")))
            if deal is None:
                summary.add("salesforce.history_unknown_deal")
                continue
            entered = row.created_at or row.modified_at
            out.history.append((deal.ref, StageEntry(entered, str(row.fields["StageName"]), SALESFORCE)))
        if not self._settings.dry_run:
            self._record(out, summary)

    # --- HubSpot pages ------------------------------------------------------------------

    def _deal_page(self, page: Page, move: CursorMove | None, summary: RunSummary) -> None:
        summary.pages += 1
        out = DealPage(cursors=[move] if move else [])
        link = self._link
        reads = [self._read(r, HUBSPOT) for r in page.records if not r.deleted]
        mine = [r for r in reads if self._in_pipeline(r)]
        summary.add("hubspot.excluded", len(reads) - len(mine))
        candidates = {r.id: str(r.values[link.hubspot]) for r in mine if r.values.get(link.hubspot)}
        stored = self._deals.deals(hubspot_ids=[r.id for r in mine], salesforce_ids=candidates.values())
        by_hs = {d.hubspot_id: d for d in stored if d.hubspot_id}
        by_sf = {d.salesforce_id: d for d in stored if d.salesforce_id}
        bases = self._bases(d.id for d in stored)
        # HubSpot's search serves an index that lags writes: linked deals that look changed are read
        # again by id, so a stale copy of our own write is not taken for a user's edit.
        suspects = [
            r.id
            for r in mine
            if r.id in by_hs and not self._echo(Side.MARKETING, r.values, bases.get(by_hs[r.id].id, {}))
        ]
        if suspects:
            fresh = self._fetch(HUBSPOT, suspects)
            mine = [fresh.get(r.id, r) for r in mine]
        work: list[_Work] = []
        everyone: list[tuple[DealRead, StoredDeal | None]] = []
        for read in mine:
            deal = by_hs.get(read.id) or by_sf.get(candidates.get(read.id, ""))
            everyone.append((read, deal))
            opportunity = (deal.salesforce_id if deal and deal.salesforce_id else None) or candidates.get(
                read.id
            )
            if read.problems:
                out.quarantined.append(self._unreadable(HUBSPOT, DEALS, read))
                continue
            base = bases.get(deal.id, {}) if deal else {}
            if (
                deal
                and opportunity
                and read.values.get(link.hubspot) == opportunity
                and self._echo(Side.MARKETING, read.values, base)
            ):
                summary.add("hubspot.unchanged")
                continue
            work.append(_Work(read, deal, opportunity))
        associated = self._associations([r.id for r, _ in everyone])
        targets = self._fetch(SALESFORCE, [w.other_id for w in work if w.other_id])
        latest = self._deals.latest_entries(d.id for _r, d in everyone if d is not None)
        for item in work:
            self._plan_deal(item, targets, bases, latest, out)
        if self._settings.dry_run:
            self._describe(work, summary, target=SALESFORCE)
            return
        self._push(work, SALESFORCE, OPPORTUNITY, HUBSPOT, DEALS, summary, out)
        for item in work:
            self._finish(item, out, source=HUBSPOT)
        synced = {w.source.id for w in work}
        for read, deal in everyone:
            # A HubSpot-only deal in step still refreshes its row; a linked one's row follows Salesforce.
            if read.id not in synced and (deal is None or not deal.salesforce_id) and not read.problems:
                out.deals.append(self._rows.from_hubspot(read, deal.salesforce_id if deal else None))
        self._contacts.apply_associations(self._both_sides(everyone, work), associated, out, summary)
        self._record(out, summary)

    def _plan_deal(
        self,
        item: _Work,
        targets: Mapping[str, DealRead],
        bases: Mapping[int, Mapping[str, FieldBase]],
        latest: Mapping[int, datetime],
        out: DealPage,
    ) -> None:
        link, source = self._link, item.source
        target = targets.get(item.other_id) if item.other_id else None
        if item.other_id and target is None:
            item.failed = True
            out.quarantined.append(
                self._quarantine(
                    HUBSPOT,
                    DEALS,
                    source.id,
                    IssueCategory.VALIDATION,
                    f"HubSpot deal {source.id} is linked to Opportunity {item.other_id}, which Salesforce no "
                    f"longer has (deleted or merged); clear {link.hubspot} on the deal to create it in "
                    "Salesforce again",
                )
            )
            return
        item.target = target
        base = bases.get(item.deal.id, {}) if item.deal else {}
        resolution = resolve(
            SideState(Side.MARKETING, source.values, source.record.modified_at),
            SideState(Side.CRM, target.values, target.record.modified_at) if target else None,
            self._plans,
            base,
            record=RecordRef(HUBSPOT, DEALS, source.id),
        )
        item.resolution = resolution
        out.quarantined += [
            self._field_issue(issue.field, issue.reason, HUBSPOT, DEALS, source.id)
            for issue in resolution.issues
        ]
        to_salesforce = {k: _salesforce_value(v) for k, v in resolution.crm_writes.items()}
        item.to_source = {k: _hubspot_value(v) for k, v in resolution.marketing_writes.items()}
        if target is not None:
            if target.values.get(link.salesforce) != source.id:
                to_salesforce[link.salesforce] = source.id
            if source.values.get(link.hubspot) != target.id:
                item.to_source[link.hubspot] = target.id
            if to_salesforce:
                item.to_target = Write("update", item.ref, to_salesforce, id=target.id)
        else:
            fields = {k: _salesforce_value(v) for k, v in self._mapping.on_create.salesforce.items()}
            fields.update(to_salesforce)
            fields[link.salesforce] = source.id
            item.to_target = Write("upsert", item.ref, fields, id_property=link.salesforce)
        # A stage HubSpot changed (or a deal seen the first time) brings HubSpot's stage entries.
        stage_base = base.get(STAGE_FIELD)
        if stage_base is None or source.values.get("dealstage") != stage_base.marketing:
            after = latest.get(item.deal.id) if item.deal else None
            for stage, entered in hubspot_stage_entries(source.values, self._pipeline, self._stage_name):
                if after is None or entered > after:
                    out.history.append((item.ref, StageEntry(entered, stage, HUBSPOT)))

    # --- pushes and results -------------------------------------------------------------

    def _push(
        self,
        work: Sequence[_Work],
        target_system: str,
        target_object: str,
        source_system: str,
        source_object: str,
        summary: RunSummary,
        out: DealPage,
    ) -> None:
        """Target first (creates are upserts by the link), then the write-backs to the source — including
        the link to a record just created there."""
        connectors: dict[str, MarketingDeals | CrmDeals] = {
            HUBSPOT: self._hubspot,
            SALESFORCE: self._salesforce,
        }
        planned = [w for w in work if w.to_target is not None and not w.failed]
        results = connectors[target_system].push(target_object, [w.to_target for w in planned if w.to_target])
        for item, result in zip(planned, results, strict=True):
            write = item.to_target
            assert write is not None
            if result.ok and result.id:
                if write.op == "upsert":
                    item.created_id = result.id
                    item.to_source[self._link_field(source_system)] = result.id
                verb = "created" if result.created else "updated"
                summary.add(f"{target_system}.{verb}")
                out.log.append(
                    DealLog(
                        target_system,
                        target_object,
                        result.id,
                        "create" if result.created else "update",
                        tuple(write.fields),
                    )
                )
                continue
            item.failed = True
            out.quarantined.append(self._rejected(target_system, target_object, item, result))
        backs = [w for w in work if w.to_source and not w.failed]
        writes = [Write("update", w.ref, w.to_source, id=w.source.id) for w in backs]
        results = connectors[source_system].push(source_object, writes) if writes else []
        for item, write, result in zip(backs, writes, results, strict=True):
            if result.ok:
                summary.add(f"{source_system}.updated")
                out.log.append(
                    DealLog(source_system, source_object, item.source.id, "update", tuple(write.fields))
                )
                continue
            item.failed = True
            out.quarantined.append(self._rejected(source_system, source_object, item, result))

    def _finish(self, item: _Work, out: DealPage, *, source: str) -> None:
        """The page's record of one synced deal: its row, and its new bases when every write landed."""
        other = item.created_id or (item.target.id if item.target else None)
        if source == SALESFORCE:
            row = self._rows.from_salesforce(
                item.source,
                item.target,
                other,
                written=item.to_source,
                pushed=item.to_target.fields if item.to_target else {},
            )
        elif item.target is not None or item.created_id:
            row = self._rows.from_pair(
                item.source,
                item.target,
                written=item.to_source,
                pushed=dict(item.to_target.fields) if item.to_target else {},
                created_id=item.created_id,
            )
        else:
            row = self._rows.from_hubspot(item.source, None)
        out.deals.append(row)
        if item.failed or item.resolution is None:
            return
        out.cleared.append((source, item.source.id))
        for name, base in item.resolution.bases.items():
            out.bases.append(DealBase(row.ref, name, base.crm, base.marketing))

    def _rejected(self, system: str, object: str, item: _Work, result: WriteResult) -> Quarantine:
        error = result.error
        fix = self._mapping_line(error)
        message = str(error) if error else f"{system} did not save {object} for {item.ref}"
        return Quarantine(
            system=SALESFORCE if item.source.record.object == OPPORTUNITY else HUBSPOT,
            object=item.source.record.object,
            record_key=item.source.id,
            category=error.category if error else IssueCategory.OTHER,
            message=f"{message}{fix}; syncd tries again when the deal changes",
            remote_code=error.remote_code if error else None,
            remote_message=error.remote_message if error else None,
        )

    def _mapping_line(self, error: RecordError | None) -> str:
        """` — fix field 'x' at mappings/deals.yaml:N` for the mapped field a rejection names, if any."""
        if error is None:
            return ""
        text = f"{error.message} {error.remote_message or ''}"
        for entry in self._mapping.fields:
            names = [entry.hubspot, *entry.salesforce.values()]
            if any(re.search(rf"\b{re.escape(name)}\b", text) for name in names):
                return f" — check field {entry.name!r} at {self._mapping.where(entry.line)}"
        return f" — check {self._mapping.source}"

    def _both_sides(
        self, everyone: Sequence[tuple[DealRead, StoredDeal | None]], work: Sequence[_Work]
    ) -> list[DealOnBothSides]:
        synced = {w.source.id: w for w in work}
        found: list[DealOnBothSides] = []
        for read, deal in everyone:
            item = synced.get(read.id)
            salesforce_id = deal.salesforce_id if deal else None
            if item is not None:
                salesforce_id = item.created_id or (item.target.id if item.target else salesforce_id)
            ref = f"salesforce:{salesforce_id}" if salesforce_id else f"hubspot:{read.id}"
            found.append(DealOnBothSides(ref, read.id, salesforce_id, deal.id if deal else None))
        return found

    # --- reads and helpers ----------------------------------------------------------------

    def _read(self, record: RemoteRecord, system: str) -> DealRead:
        types = self._types[system]
        values: dict[str, Value] = {}
        problems: list[str] = []
        for name, raw in record.fields.items():
            type_ = types.get(name)
            if type_ is None:
                values[name] = raw if isinstance(raw, str | int | float | bool) or raw is None else str(raw)
                continue
            try:
                values[name] = canonical_value(raw, type_)
            except UnreadableValue as exc:
                problems.append(f"{name}: {exc}")
        return DealRead(record, values, tuple(problems))

    def _fetch(self, system: str, ids: Iterable[str]) -> dict[str, DealRead]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        if system == HUBSPOT:
            records = self._hubspot.fetch(DEALS, wanted, self._fields[DEALS])
        else:
            # A read by id cannot follow relationships (Campaign.Name): those come with pulls only.
            plain = [f for f in self._fields[OPPORTUNITY] if "." not in f]
            records = self._salesforce.fetch(OPPORTUNITY, wanted, plain)
        return {r.id: self._read(r, system) for r in records if not r.deleted}

    def _associations(self, deal_ids: Sequence[str]) -> dict[str, list[str]]:
        if not deal_ids:
            return {}
        found: dict[str, list[str]] = {}
        for pair in self._hubspot.associations(DEALS, "contacts", deal_ids):
            found.setdefault(pair.from_id, []).append(pair.to_id)
        return found

    def _bases(self, deal_ids: Iterable[int]) -> dict[int, dict[str, FieldBase]]:
        stored = self._state.bases(deal_key(i) for i in deal_ids)
        plans = {p.name: p for p in self._plans}
        found: dict[int, dict[str, FieldBase]] = {}
        for key, fields in stored.items():
            deal_id = int(key.split(":", 1)[1])
            for name, value in fields.items():
                plan = plans.get(name)
                if plan is None or not isinstance(value, dict):
                    continue
                found.setdefault(deal_id, {})[name] = FieldBase(
                    crm=self._typed(SALESFORCE, plan.crm_field, value.get("crm")),
                    marketing=self._typed(HUBSPOT, plan.marketing_field, value.get("marketing")),
                )
        return found

    def _typed(self, system: str, name: str, value: Any) -> Value:
        """A base read back from JSON in its field's canonical type (dates are stored as text)."""
        type_ = self._types[system].get(name)
        if value is None or type_ is None:
            return value  # type: ignore[no-any-return]
        try:
            return canonical_value(value, type_)
        except UnreadableValue:
            return value  # type: ignore[no-any-return]

    def _echo(self, side: Side, values: Mapping[str, Value], base: Mapping[str, FieldBase]) -> bool:
        """Every mapped value equals its base: our own write coming back, or a change of unmapped fields."""
        if not base:
            return False
        for plan in self._plans:
            name = plan.field_on(side)
            if name not in values:
                continue
            if plan.name not in base or values[name] != base[plan.name].on(side):
                return False
        return True

    def _in_pipeline(self, read: DealRead) -> bool:
        return str(read.values.get("pipeline") or "") == self._pipeline.id

    def _stage_name(self, stage_id: str) -> str:
        """A HubSpot stage in the store's vocabulary (Salesforce StageName) through the stage map."""
        if self._stage_plan is None:
            return stage_id
        try:
            converted = self._stage_plan.to_crm(stage_id)
        except TransformError:
            return f"hubspot:{stage_id}"
        return str(converted) if converted else f"hubspot:{stage_id}"

    def _link_field(self, system: str) -> str:
        return self._link.salesforce if system == SALESFORCE else self._link.hubspot

    def _record(self, page: DealPage, summary: RunSummary) -> None:
        summary.add("quarantined", len(page.quarantined))
        self._deals.record(summary.run_id or 0, page, self._clock())

    def _describe(self, work: Sequence[_Work], summary: RunSummary, *, target: str) -> None:
        source = SALESFORCE if target == HUBSPOT else HUBSPOT
        objects = {HUBSPOT: DEALS, SALESFORCE: OPPORTUNITY}
        for item in work:
            for system, write in (
                (target, item.to_target),
                (source, Write("update", item.ref, item.to_source) if item.to_source else None),
            ):
                if write is None or item.failed:
                    continue
                key = f"{system} {objects[system]} {write.op}"
                summary.planned[key] = summary.planned.get(key, 0) + 1
                if len(summary.samples) < self._settings.sample_size:
                    changes = ", ".join(f"{k}={v!r}" for k, v in sorted(write.fields.items()))
                    summary.samples.append(f"{write.op} {system} {objects[system]} for {item.ref}: {changes}")

    def _unreadable(self, system: str, object: str, read: DealRead) -> Quarantine:
        return self._quarantine(
            system,
            object,
            read.id,
            IssueCategory.VALIDATION,
            f"{system} {object} {read.id}: unreadable values ({'; '.join(read.problems)}) — correct them on "
            f"the record or change their mapping in {self._mapping.source}",
        )

    def _other_pipeline(self, read: DealRead) -> Quarantine:
        return self._quarantine(
            HUBSPOT,
            DEALS,
            read.id,
            IssueCategory.VALIDATION,
            f"HubSpot deal {read.id} is in pipeline {read.values.get('pipeline')!r}, not "
            f"{self._pipeline.id!r} (on_create.hubspot.pipeline in {self._mapping.source}); it is not synced",
        )

    def _field_issue(
        self, name: str | None, reason: str, system: str, object: str, record_id: str
    ) -> Quarantine:
        where = ""
        if name:
            try:
                entry = self._mapping.entry(name)
                where = f" — extend its transforms at {self._mapping.where(entry.line)}"
            except KeyError:
                where = ""
        return self._quarantine(system, object, record_id, IssueCategory.PICKLIST, f"{reason}{where}")

    @staticmethod
    def _quarantine(system: str, object: str, key: str, category: IssueCategory, message: str) -> Quarantine:
        return Quarantine(system=system, object=object, record_key=key, category=category, message=message)


def _hubspot_value(value: Value) -> Any:
    """A value as HubSpot's API takes it: instants in ISO 8601 UTC, days as YYYY-MM-DD."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _salesforce_value(value: Value) -> Any:
    """A value as Salesforce's JSON takes it."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value
