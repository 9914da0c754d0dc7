"""The campaigns flow: Salesforce Campaigns and members, campaign costs and the cost file, into the store.

A run has four legs, each page committed with its cursor in one transaction:

1. **salesforce** — Campaigns (type, status, dates, budgeted and actual cost, parent) and CampaignMembers
   (Lead/Contact, status, responded), incrementally by SystemModstamp through `queryAll` (deletes
   arrive too). Both first pages travel in ONE composite call, so an idle cycle costs one Salesforce
   call and no HubSpot call. A campaign's ActualCost over its dates is a `costs` row (source
   salesforce_campaign); a responded member is a `campaign_response` touch with its campaign's channel.
2. **cost file** — an optional CSV of costs per channel or campaign and period, imported when its
   content changed: lines by target and period (a re-import updates amounts, lines removed from the
   file are removed from the store), bad lines reported as issues with file:line and skipped.
3. **touches** — touches recorded since the last scan that name a campaign only by their UTM campaign
   value, or whose HubSpot campaign has a Salesforce namesake, are pointed at that campaign.
4. Members whose Lead/Contact the contacts flow has not linked yet wait as open issues holding the
   member, tried again every run, given up after `max_wait`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from syncd.connector import Connector, Cursor, Page, PullRequest
from syncd.core.campaigns import (
    CAMPAIGN_FIELDS,
    COST_FILE,
    MEMBER_FIELDS,
    SALESFORCE_CAMPAIGN,
    CostLine,
    LineProblem,
    MemberRow,
    campaign_cost,
    campaign_row,
    member_from_payload,
    member_payload,
    member_row,
    name_key,
    parse_cost_file,
)
from syncd.core.channels import ChannelTaxonomy, campaign_channel
from syncd.engine import StopSignal
from syncd.engine.campaign_store import (
    ResponseTouches,
    Written,
    campaign_ids,
    campaigns_by_reference,
    cost_keys,
    delete_costs,
    link_touches,
    upsert_campaigns,
    upsert_costs,
    upsert_members,
)
from syncd.engine.contacts import resume_point
from syncd.engine.lifecycle_store import linked_people
from syncd.engine.runs import Metered, RunSummary, recorded_run
from syncd.engine.state import CursorMove, Quarantine, SyncState, clear_issues, move_cursor, quarantine_all
from syncd.engine.touch_store import TouchStore
from syncd.errors import IssueCategory
from syncd.store.models import Issue

log = logging.getLogger(__name__)

SALESFORCE = "salesforce"
CAMPAIGN, MEMBER = "Campaign", "CampaignMember"
STORE, TOUCHES = "store", "touches"  # the touch scan's cursor: the last touch id it settled


@dataclass(frozen=True)
class CampaignSettings:
    """How a campaigns run behaves. `lag` re-reads a short window before each Salesforce cursor once,
    and keeps the touch scan behind touches still being committed by other flows."""

    channels: ChannelTaxonomy = field(default_factory=ChannelTaxonomy)
    # Responded members become `campaign_response` touches (None: they do not).
    responses: ResponseTouches | None = field(default_factory=ResponseTouches)
    cost_file: Path | None = None
    # The currency of Salesforce campaign costs (a single-currency org's), if known.
    currency: str | None = None
    lag: timedelta = timedelta(seconds=60)
    max_wait: timedelta = timedelta(days=14)
    touch_batch: int = 5000
    dry_run: bool = False


class CampaignFlow:
    """One flow instance, built once by the composition root."""

    def __init__(
        self,
        *,
        name: str = "campaigns",
        salesforce: Connector,
        store: Engine,
        clock: Callable[[], datetime],
        settings: CampaignSettings | None = None,
        metered: Sequence[Metered] = (),
    ) -> None:
        self.name = name
        self._salesforce = salesforce
        self._engine = store
        self._state = SyncState(store, name)
        self._issues = TouchStore(store, name)
        self._clock = clock
        self._settings = settings or CampaignSettings()
        self._metered = tuple(metered)

    def salesforce_probes(self) -> list[PullRequest]:
        """The first pages the next run reads, so a cycle can fetch them with other flows' probes."""
        lag = self._settings.lag
        return [
            PullRequest(obj, resume_point(self._state.stored_cursor(SALESFORCE, obj), lag), fields)
            for obj, fields in ((CAMPAIGN, CAMPAIGN_FIELDS), (MEMBER, MEMBER_FIELDS))
        ]

    def run(self, trigger: str, stop: StopSignal) -> RunSummary:
        """One cycle of the legs. Never raises for a flow failure: the run records it."""

        def legs(summary: RunSummary) -> None:
            self._retry_waiting(summary)
            for leg in (self._salesforce_leg, self._cost_file_leg, self._touch_leg, self._expire_waiting):
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
            systems=(self._salesforce, *self._metered),
        )

    # --- Salesforce ---------------------------------------------------------------------

    def _salesforce_leg(self, summary: RunSummary, stop: StopSignal) -> None:
        started = self._clock()
        requests = self.salesforce_probes()
        for request, pages in zip(requests, self._salesforce.pull_many(requests), strict=True):
            for page in pages:
                summary.pages += 1
                summary.add(f"{SALESFORCE}.read", len(page.records))
                cursor = CursorMove(SALESFORCE, request.object, page.cursor, observed_at=started)
                if request.object == CAMPAIGN:
                    self._campaign_page(page, cursor, summary)
                else:
                    self._members([member_row(r) for r in page.records], summary, cursor=cursor)
                if stop.is_set():
                    return

    def _campaign_page(self, page: Page, cursor: CursorMove, summary: RunSummary) -> None:
        settings = self._settings
        rows = [campaign_row(r) for r in page.records]
        channels = {row.external_id: campaign_channel(row.type, settings.channels) for row in rows}
        costs: list[CostLine] = []
        without: list[str] = []
        problems: list[Quarantine] = []
        cleared: list[tuple[str, str]] = []
        for row in rows:
            cost = campaign_cost(row, settings.currency)
            if isinstance(cost, CostLine):
                costs.append(cost)
            else:
                without.append(row.external_id)
            if isinstance(cost, str):
                problems.append(
                    Quarantine(SALESFORCE, CAMPAIGN, row.external_id, IssueCategory.VALIDATION, cost)
                )
            else:
                cleared.append((SALESFORCE, row.external_id))
        if settings.dry_run:
            summary.planned["store campaigns (new or changed)"] = summary.planned.get(
                "store campaigns (new or changed)", 0
            ) + len(rows)
            return
        now = self._clock()
        written = Written()
        with self._engine.begin() as conn:
            ids = upsert_campaigns(conn, rows, channels, now, written)
            upsert_costs(conn, [(line, ids[line.source_key]) for line in costs], written)
            delete_costs(conn, SALESFORCE_CAMPAIGN, without, written)
            clear_issues(conn, self.name, cleared, now)
            quarantine_all(conn, self.name, summary.run_id or 0, problems, now)
            move_cursor(conn, self.name, cursor, now)
        self._count(summary, written)
        summary.add("quarantined", len(problems))

    def _members(self, rows: Sequence[MemberRow], summary: RunSummary, *, cursor: CursorMove | None) -> None:
        """Store members (with their people) and move the cursor, in one transaction; members whose
        Lead/Contact nobody is linked to yet wait as issues."""
        if self._settings.dry_run:
            summary.planned["store campaign members (new or changed)"] = summary.planned.get(
                "store campaign members (new or changed)", 0
            ) + len(rows)
            return
        now = self._clock()
        written = Written()
        with self._engine.begin() as conn:
            keys = {(SALESFORCE, i) for row in rows for i in (row.contact_id, row.lead_id) if i}
            people = linked_people(conn, keys)
            resolved: list[tuple[MemberRow, int]] = []
            waiting: list[Quarantine] = []
            cleared: list[tuple[str, str]] = []
            for row in rows:
                person = people.get((SALESFORCE, row.contact_id or "")) or people.get(
                    (SALESFORCE, row.lead_id or "")
                )
                if person is None and not row.deleted:
                    waiting.append(self._waiting(row))
                    continue
                resolved.append((row, person or 0))
                cleared.append((SALESFORCE, row.external_id))
            ids = campaign_ids(conn, SALESFORCE, {row.campaign_external_id for row, _ in resolved}, now)
            upsert_members(conn, resolved, ids, self._settings.responses, now, written)
            clear_issues(conn, self.name, cleared, now)
            quarantine_all(conn, self.name, summary.run_id or 0, waiting, now)
            if cursor is not None:
                move_cursor(conn, self.name, cursor, now)
        self._count(summary, written)
        summary.add(f"{SALESFORCE}.waiting", len(waiting))

    def _waiting(self, row: MemberRow) -> Quarantine:
        records = (("Contact", row.contact_id), ("Lead", row.lead_id))
        who = " / ".join(f"{kind} {record_id}" for kind, record_id in records if record_id)
        return Quarantine(
            system=SALESFORCE,
            object=MEMBER,
            record_key=row.external_id,
            category=IssueCategory.OTHER,
            message=(
                f"Salesforce CampaignMember {row.external_id} waits for its person: no person is linked to "
                f"{who or 'its Lead/Contact'} yet — the contacts flow links them; syncd stores the member "
                "on the next run after that"
            ),
            payload=member_payload(row),
        )

    def _retry_waiting(self, summary: RunSummary) -> None:
        if self._settings.dry_run:
            return
        waiting = self._issues.waiting((MEMBER,))
        for start in range(0, len(waiting), 500):
            rows = [member_from_payload(w.payload) for w in waiting[start : start + 500]]
            self._members(rows, summary, cursor=None)

    def _expire_waiting(self, summary: RunSummary, stop: StopSignal) -> None:
        if self._settings.dry_run:
            return
        now = self._clock()
        oldest = now - self._settings.max_wait
        expired = [w.record_key for w in self._issues.waiting((MEMBER,)) if w.first_seen_at < oldest]
        if expired:
            reason = f"given up after waiting {self._settings.max_wait}: its Lead/Contact was never linked"
            self._issues.give_up(SALESFORCE, expired, reason, now)
            summary.add(f"{SALESFORCE}.gave_up", len(expired))

    # --- the cost file ------------------------------------------------------------------

    def _cost_file_leg(self, summary: RunSummary, stop: StopSignal) -> None:
        path = self._settings.cost_file
        if path is None or self._settings.dry_run:
            return
        now = self._clock()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problem = Quarantine(
                COST_FILE,
                COST_FILE,
                str(path),
                IssueCategory.VALIDATION,
                f"cost file {path} cannot be read ({exc.__class__.__name__}: {exc}) — fix the file or "
                "flows.campaigns.cost_file; its last import stays in the store",
            )
            with self._engine.begin() as conn:
                quarantine_all(conn, self.name, summary.run_id or 0, [problem], now)
            summary.add("quarantined")
            return
        digest = hashlib.sha256(text.encode()).hexdigest()
        stored = self._state.cursor(COST_FILE, COST_FILE)
        if stored is not None and stored.last_id == digest:
            return  # unchanged since its last import
        lines, problems = parse_cost_file(text)
        written = Written()
        with self._engine.begin() as conn:
            references = campaigns_by_reference(conn)
            resolved: list[tuple[CostLine, int | None]] = []
            unknown = False
            for line in lines:
                campaign_id = None
                if line.campaign is not None:
                    campaign_id = references.get(line.campaign) or references.get(name_key(line.campaign))
                    if campaign_id is None:
                        unknown = True
                        problems.append(
                            LineProblem(
                                line.line,
                                f"campaign {line.campaign!r} is not in the store — name a Salesforce "
                                "campaign by its Id or name (the line is imported once it is synced)",
                            )
                        )
                        continue
                resolved.append((line, campaign_id))
            kept = {line.source_key for line, _ in resolved}
            upsert_costs(conn, resolved, written)
            delete_costs(conn, COST_FILE, cost_keys(conn, COST_FILE) - kept, written)
            # The issues of the previous import are replaced by this one's.
            previous = [(COST_FILE, key) for key in self._open_keys(conn, COST_FILE)]
            clear_issues(conn, self.name, previous, now)
            quarantine_all(
                conn,
                self.name,
                summary.run_id or 0,
                [
                    Quarantine(
                        COST_FILE,
                        COST_FILE,
                        f"{path.name}:{p.line}",
                        IssueCategory.VALIDATION,
                        f"{path}:{p.line}: {p.message} — the line was skipped; fix it and syncd imports the "
                        "file again",
                    )
                    for p in sorted(problems, key=lambda p: p.line)
                ],
                now,
            )
            # A line naming a campaign not synced yet is tried again next run; otherwise the file
            # is read again only when its content changes.
            imported = CursorMove(COST_FILE, COST_FILE, Cursor(now, None if unknown else digest))
            move_cursor(conn, self.name, imported, now)
        self._count(summary, written)
        summary.add("cost_file.lines", len(resolved))
        summary.add("quarantined", len(problems))

    def _open_keys(self, conn: Connection, system: str) -> list[str]:
        c = Issue.__table__.c
        rows = conn.execute(
            select(c.record_key).where(c.flow == self.name, c.system == system, c.status == "open")
        )
        return [key for (key,) in rows]

    # --- touches ------------------------------------------------------------------------

    def _touch_leg(self, summary: RunSummary, stop: StopSignal) -> None:
        if self._settings.dry_run:
            return
        started = self._clock()
        stored = self._state.cursor(STORE, TOUCHES)
        after = int(stored.last_id) if stored is not None and stored.last_id else 0
        while not stop.is_set():
            with self._engine.begin() as conn:
                linked = link_touches(
                    conn, after, started - self._settings.lag, self._clock(), limit=self._settings.touch_batch
                )
                if linked.last_id != after:
                    moved = CursorMove(STORE, TOUCHES, Cursor(started, str(linked.last_id)))
                    move_cursor(conn, self.name, moved, started)
            summary.add("touches.linked", linked.linked)
            summary.add("campaigns.from_utm", linked.created_campaigns)
            if linked.last_id == after or linked.read < self._settings.touch_batch:
                return
            after = linked.last_id

    @staticmethod
    def _count(summary: RunSummary, written: Written) -> None:
        for key, n in written.counts.items():
            summary.add(key, n)
