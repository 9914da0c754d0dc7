"""The contacts flow: HubSpot contacts and Salesforce Leads/Contacts kept in step, both ways.

A run is two legs — Salesforce → HubSpot, then HubSpot → Salesforce — each a sequence of work units:
pull → normalize → match → resolve → push → record → checkpoint. A unit gathers pull pages until
`unit_size` records need work (records already in step are set aside as they are read), so lookups
and writes fill the APIs' batches instead of one page's worth each. A unit's links, bases, issues and
its last page's cursor are committed together after its writes landed, so a crash replays at most
that unit, and the replay converges (creates are keyed by email; bases tell what was already
written). A unit that fails transiently is replayed in-process the same way, and writes a target
refused are retried at the start of the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import Connection, Engine

from syncd.connector import (
    Connector,
    Cursor,
    FieldType,
    ObjectSchema,
    Page,
    PullRequest,
    RemoteRecord,
    WriteResult,
)
from syncd.core.issues import RecordRef
from syncd.core.lifecycle import LifecycleSettings, Observation, lifecycle_fields, observe
from syncd.core.match import IdentityLink, MatchPolicy
from syncd.core.normalize import NormalizedRecord, canonical_email, normalize_record
from syncd.core.resolve import FieldBase, FieldPlan
from syncd.core.rules import Side
from syncd.engine import StopSignal
from syncd.engine.lifecycle_store import record_lifecycle
from syncd.engine.plan import PageInput, PagePlan, SideSpec, finish, plan_page, quarantine_counts
from syncd.engine.runs import RunSummary, recorded_run
from syncd.engine.state import CursorMove, Link, StoredCursor, SyncState, person_key
from syncd.errors import (
    RetryableError,
)
from syncd.mapping.filters import included
from syncd.mapping.model import FlowMapping
from syncd.mapping.owners import OwnerMap
from syncd.mapping.plans import field_plans, match_policy

log = logging.getLogger(__name__)

HUBSPOT, SALESFORCE = "hubspot", "salesforce"


@dataclass(frozen=True)
class FlowSettings:
    """How a contacts run behaves. `lag` re-reads a window before the cursor because both systems
    can make a change visible with a timestamp slightly in the past (HubSpot's search index lag,
    long Salesforce transactions); see `resume_point`. It must stay below a connector's own
    clock-skew margin (HubSpot backfill: 300 s) for backfill resume positions to survive."""

    lag: timedelta = timedelta(seconds=60)
    dry_run: bool = False
    sample_size: int = 5
    # Times one unit is planned and pushed before a transient failure fails the run.
    page_attempts: int = 3
    # A work unit: pages are gathered until this many records need work (lookups, writes), so
    # Salesforce's 200-record collections and 2,000-id retrieves and HubSpot's 100-input batches
    # are filled; or until `unit_read_limit` records were read, which bounds what a crash replays.
    unit_size: int = 2000
    unit_read_limit: int = 20_000
    # Funnel stages recorded from what the pulls read anyway (no extra call); None: not recorded.
    lifecycle: LifecycleSettings | None = None

    def __post_init__(self) -> None:
        if self.unit_size < 1 or self.unit_read_limit < 1:
            raise ValueError("unit_size and unit_read_limit must be positive")


Progress = Callable[[str, str, int], None]


@dataclass(frozen=True)
class _Unit:
    """Pages of one object's pull that are planned, pushed and recorded together."""

    records: tuple[NormalizedRecord, ...]  # read records that may need work, one copy per id
    cursor: Cursor | None  # where the pull resumes once the unit is recorded (None: moves nothing)
    pages: int
    read: int
    excluded: int  # left out by the mapping's include conditions
    unchanged: int  # linked records whose every mapped value equals its base
    # Every record the unit's pages read, for lifecycle (records in step included: a stage date is
    # rarely a mapped field).
    observed: tuple[Observation, ...] = ()


def resume_point(stored: StoredCursor | None, lag: timedelta) -> Cursor | None:
    """Where the next pull starts: the stored cursor, or `lag` before the previous pull started when
    the cursor is later than that (records changed then may have been invisible to that pull).

    The window is re-read once, not on every cycle: once a pull started `lag` after the cursor, the
    cursor is handed back unchanged (which also keeps a connector's own resume position, such as a
    backfill's listing). Never more than `lag` before the cursor.
    """
    if stored is None:
        return None
    cursor, observed_at = stored.cursor, stored.observed_at
    floor = cursor.modified_at - lag
    if observed_at is None:
        return Cursor(floor, None)
    settled = observed_at - lag
    if cursor.modified_at <= settled:
        return cursor
    return Cursor(max(floor, settled), None)


@dataclass(frozen=True)
class _Leg:
    source: SideSpec
    source_connector: Connector
    source_objects: tuple[str, ...]
    target: SideSpec
    target_connector: Connector
    target_objects: tuple[str, ...]
    policy: MatchPolicy
    # HubSpot's search serves an index that lags writes: changed-looking records are read again by id.
    reread_source: bool = False


class ContactFlow:
    """One flow instance, built once by the composition root with describe()d schemas."""

    def __init__(
        self,
        *,
        name: str,
        hubspot: Connector,
        salesforce: Connector,
        store: Engine,
        mapping: FlowMapping,
        schemas: Mapping[tuple[str, str], ObjectSchema],
        clock: Callable[[], datetime],
        owners: OwnerMap | None = None,
        settings: FlowSettings | None = None,
    ) -> None:
        self.name = name
        self._hubspot = hubspot
        self._salesforce = salesforce
        self._state = SyncState(store, name)
        self._mapping = mapping
        self._clock = clock
        self._settings = settings or FlowSettings()
        self._types: dict[tuple[str, str], dict[str, FieldType]] = {
            key: {name: spec.type for name, spec in schema.fields.items()} for key, schema in schemas.items()
        }
        self._plans: dict[str, tuple[FieldPlan, ...]] = {
            obj: field_plans(mapping, obj, owners) for obj in mapping.salesforce_objects
        }
        identity = mapping.identity_field()
        hub = SideSpec(Side.MARKETING, HUBSPOT, {mapping.hubspot_object: identity.hubspot})
        crm = SideSpec(
            Side.CRM,
            SALESFORCE,
            {obj: sf for obj in mapping.salesforce_objects if (sf := identity.salesforce_field(obj))},
        )
        # Salesforce first: its creates are plain creates (HubSpot's are upserts by email), so every
        # Salesforce record must be known to the store before the HubSpot leg may create one there.
        self._legs = (
            _Leg(crm, salesforce, mapping.salesforce_objects, hub, hubspot, (mapping.hubspot_object,),
                 match_policy(mapping, Side.MARKETING)),
            _Leg(hub, hubspot, (mapping.hubspot_object,), crm, salesforce, mapping.salesforce_objects,
                 match_policy(mapping, Side.CRM), reread_source=True),
        )  # fmt: skip

    # --- fields -------------------------------------------------------------------------

    def _fields(self, side: SideSpec, obj: str) -> list[str]:
        plans = self._plans.values() if side.side is Side.MARKETING else [self._plans.get(obj, ())]
        names = {plan.field_on(side.side) for group in plans for plan in group}
        names.add(side.email_field[obj])
        if self._settings.lifecycle is not None:
            names.update(lifecycle_fields(self._settings.lifecycle, side.system, obj))
        return sorted(names)

    # --- a run --------------------------------------------------------------------------

    def run(self, trigger: str, stop: StopSignal, progress: Progress | None = None) -> RunSummary:
        """One cycle of both legs. Never raises for a flow failure: the run records it.

        `progress(system, object, records)` is told after each unit is recorded."""

        def legs(summary: RunSummary) -> None:
            run_started = self._clock()
            for leg in self._legs:
                if stop.is_set():
                    return
                self._run_leg(leg, summary, stop, run_started, progress)

        return self._recorded(trigger, stop, legs)

    def resync(self, emails: Sequence[str], stop: StopSignal, *, forget_bases: bool = True) -> RunSummary:
        """Sync these people now, from both systems, whatever the cursors say; no cursor moves.

        `syncd resync` forgets their last-synced values first, so every mapped field is decided by
        its rule as on a first sync; `syncd errors retry` keeps them and simply plans the records
        again (a write refused earlier is then sent again)."""
        wanted = sorted({e for raw in emails if (e := canonical_email(raw)) is not None})
        people = self._state.people_by_email(wanted)
        if forget_bases:
            self._state.forget_bases(person_key(p) for p in people.values())

        def legs(summary: RunSummary) -> None:
            for leg in self._legs:
                started = self._clock()
                linked = self._state.links_by_person(leg.source.system, people.values())
                for obj in leg.source_objects:
                    if stop.is_set():
                        return
                    ids = [
                        link.external_id for group in linked.values() for link in group if link.object == obj
                    ]
                    records = leg.source_connector.fetch(obj, [*ids, *wanted], self._fields(leg.source, obj))
                    if records:
                        self._unit_with_replay(
                            leg, obj, self._loose_unit(leg, obj, records), summary, started
                        )

        trigger = "resync" if forget_bases else "retry"
        return self._recorded(trigger, stop, legs)

    def _recorded(self, trigger: str, stop: StopSignal, body: Callable[[RunSummary], None]) -> RunSummary:
        return recorded_run(
            self.name,
            self._state,
            trigger,
            stop,
            body,
            clock=self._clock,
            dry_run=self._settings.dry_run,
            systems=(self._hubspot, self._salesforce),
        )

    def restart(self) -> None:
        """Read everything again on the next run. Links and bases stay, so records already in step
        cost a read and no write."""
        self._state.clear_cursors()

    def pending(self) -> dict[tuple[str, str], int]:
        """How many records each object's next pull will read (one count call per object)."""
        counts = {}
        for leg in self._legs:
            for obj in leg.source_objects:
                since = resume_point(self._state.stored_cursor(leg.source.system, obj), self._settings.lag)
                counts[(leg.source.system, obj)] = leg.source_connector.count(obj, since)
        return counts

    def _run_leg(
        self,
        leg: _Leg,
        summary: RunSummary,
        stop: StopSignal,
        run_started: datetime,
        progress: Progress | None = None,
    ) -> None:
        started = self._clock()
        self._retry_rejected(leg, summary, started)
        requests = self._pull_requests(leg, run_started)
        for request, pages in zip(requests, leg.source_connector.pull_many(requests), strict=True):
            for unit in self._units(leg, request.object, pages, stop):
                self._unit_with_replay(leg, request.object, unit, summary, started, move_cursor=True)
                if progress is not None:
                    progress(leg.source.system, request.object, unit.read)
                if stop.is_set():
                    return

    def _pull_requests(self, leg: _Leg, run_started: datetime | None) -> list[PullRequest]:
        requests = []
        for obj in leg.source_objects:
            since = resume_point(self._state.stored_cursor(leg.source.system, obj), self._settings.lag)
            # The run's start lets a backfill skip what this run itself created in an earlier leg:
            # its own creates would come back as echoes (see PullRequest).
            requests.append(PullRequest(obj, since, tuple(self._fields(leg.source, obj)), run_started))
        return requests

    def salesforce_probes(self) -> list[PullRequest]:
        """The Salesforce first pages the next run reads, for the cycle's shared probe.

        Only the first leg's: it reads Salesforce before this flow writes anything there, so a page
        read a moment early is as good as one read on time (a later leg must see this run's writes)."""
        first = self._legs[0]
        if first.source.system != SALESFORCE:
            return []
        return self._pull_requests(first, None)

    def _units(self, leg: _Leg, obj: str, pages: Iterable[Page], stop: StopSignal) -> Iterator[_Unit]:
        """Pages gathered into units: a unit ends with the page that brings its records needing work to
        `unit_size`. Records already in step are counted and dropped as they are read (store reads
        only), so a unit holds about `unit_size` records in memory besides one page."""
        size, limit = self._settings.unit_size, self._settings.unit_read_limit
        work: dict[str, NormalizedRecord] = {}
        cursor: Cursor | None = None
        committed: Cursor | None = None  # the cursor the last unit handed out moves to
        pages_read = read = excluded = unchanged = 0
        observed: list[Observation] = []
        for page in pages:
            if self._settings.lifecycle is not None:
                observed.extend(observe(leg.source.system, page.records))
            live, left_out = self._screen(leg, obj, page.records)
            links = self._state.links_by_external_id(leg.source.system, [r.ref.id for r in live])
            bases = self._bases({link.person_id for link in links.values()})
            changed, same = self._changed(leg, live, links, bases)
            for record in same:
                work.pop(record.ref.id, None)  # a later copy of a record replaces an earlier one
            for record in changed:
                work.pop(record.ref.id, None)
                work[record.ref.id] = record
            cursor = page.cursor
            pages_read += 1
            read += len(page.records)
            excluded += left_out
            unchanged += len(same)
            if len(work) > 2 * size:
                # A page far larger than a unit (a Bulk API results page) is split into parts of about
                # `unit_size`; the leading parts keep the cursor already committed, so only the part
                # that ends with the page moves the pull past it.
                records = list(work.values())
                parts = -(-len(records) // size)
                bounds = [len(records) * i // parts for i in range(parts + 1)]
                for start, end in pairwise(bounds[:-1]):
                    yield _Unit(tuple(records[start:end]), committed, 0, 0, 0, 0)
                work = {r.ref.id: r for r in records[bounds[-2] :]}
            if len(work) >= size or read >= limit or stop.is_set():
                yield _Unit(
                    tuple(work.values()), cursor, pages_read, read, excluded, unchanged, tuple(observed)
                )
                committed = cursor
                work, pages_read, read, excluded, unchanged, observed = {}, 0, 0, 0, 0, []
        if pages_read and cursor is not None:
            yield _Unit(tuple(work.values()), cursor, pages_read, read, excluded, unchanged, tuple(observed))

    def _loose_unit(self, leg: _Leg, obj: str, records: Sequence[RemoteRecord]) -> _Unit:
        """Records read outside a pull (resync, retries): one unit that moves no cursor."""
        live, left_out = self._screen(leg, obj, records)
        return _Unit(tuple(live), None, 1, len(records), left_out, 0)

    def _screen(
        self, leg: _Leg, obj: str, records: Sequence[RemoteRecord]
    ) -> tuple[list[NormalizedRecord], int]:
        """Normalized records the mapping includes (retired records always), and how many it left out."""
        source = leg.source
        normalized = [
            normalize_record(
                source.system,
                r,
                self._types.get((source.system, r.object), {}),
                email_field=source.email_field[obj],
            )
            for r in records
        ]
        conditions = self._mapping.include.for_system(source.system)
        live = [r for r in normalized if r.deleted or r.merged_into or included(conditions, r.fields)]
        return live, len(normalized) - len(live)

    def _retry_rejected(self, leg: _Leg, summary: RunSummary, pulled_at: datetime) -> None:
        """Writes the target refused in earlier runs (a locked row, a rule since fixed) are tried again:
        their source records are read by email and planned like a page that moves no cursor. Bases
        did not move for them, so their changes still show."""
        if self._settings.dry_run:
            return
        emails = self._state.rejected_writes(leg.target.system)
        if not emails:
            return
        for obj in leg.source_objects:
            records = leg.source_connector.fetch(obj, emails, self._fields(leg.source, obj))
            if records:
                self._unit_with_replay(leg, obj, self._loose_unit(leg, obj, records), summary, pulled_at)

    def _unit_with_replay(
        self,
        leg: _Leg,
        obj: str,
        unit: _Unit,
        summary: RunSummary,
        pulled_at: datetime,
        *,
        move_cursor: bool = False,
    ) -> None:
        """A unit whose calls failed transiently beyond the connector's retries (or a create cut off
        in transit, which connectors never resend) is planned again from fresh reads: what landed is
        found by the target lookups and not written twice."""
        attempts = self._settings.page_attempts
        for attempt in range(1, attempts + 1):
            before = summary.snapshot()
            try:
                self._unit(leg, obj, unit, summary, pulled_at, move_cursor=move_cursor)
                return
            except RetryableError as exc:
                summary.restore(before)  # the replay counts the unit once
                if attempt == attempts:
                    raise
                log.warning(
                    "flow %s: %s unit of %d records failed (%s); replaying it (attempt %d of %d)",
                    self.name, obj, len(unit.records), exc.__class__.__name__, attempt + 1, attempts,
                )  # fmt: skip

    def _unit(
        self,
        leg: _Leg,
        obj: str,
        unit: _Unit,
        summary: RunSummary,
        pulled_at: datetime,
        *,
        move_cursor: bool,
    ) -> None:
        summary.pages += unit.pages
        source = leg.source
        live = unit.records
        summary.add(f"{source.system}.excluded", unit.excluded)
        summary.add(f"{source.system}.unchanged", unit.unchanged)
        source_links = self._state.links_by_external_id(
            source.system, [i for r in live for i in (r.ref.id, *r.merged_from)]
        )
        # Unlinked records whose email a known person holds: that person's target records are
        # fetched by id too, so a target whose stored email the remote cannot find by the normalized
        # address (stray spaces, say) is still matched instead of created a second time.
        known = self._state.people_by_email(r.email for r in live if r.email and r.ref.id not in source_links)
        person_ids = {link.person_id for link in source_links.values()} | set(known.values())
        bases = self._bases(person_ids)
        work, unchanged = self._changed(leg, live, source_links, bases)
        if leg.reread_source and work:
            fresh = self._reread(leg, obj, work, source_links, bases)
            work, echoes = self._changed(leg, fresh, source_links, bases)
            unchanged += echoes
        summary.add(f"{source.system}.unchanged", len(unchanged))
        person_ids = {source_links[r.ref.id].person_id for r in work if r.ref.id in source_links}
        person_ids |= {known[r.email] for r in work if r.ref.id not in source_links and r.email in known}
        target_links = self._state.links_by_person(leg.target.system, person_ids)
        peer_links = self._state.links_by_person(source.system, person_ids)
        targets = self._fetch_targets(leg, work, target_links, source_links, bases)
        peers = self._fetch_peers(leg, obj, work)
        links = [
            IdentityLink(RecordRef(link.system, link.object, link.external_id), str(link.person_id))
            for group in (*target_links.values(), *peer_links.values())
            for link in group
        ] + [
            IdentityLink(RecordRef(link.system, link.object, link.external_id), str(link.person_id))
            for link in source_links.values()
        ]
        plan = plan_page(
            PageInput(
                source=source,
                target=leg.target,
                records=work,
                links=list(dict.fromkeys(links)),
                targets=targets,
                bases=bases,
                plans=self._plans,
                policy=leg.policy,
                survivor_object={"Lead": "Contact"} if source.system == SALESFORCE else {},
                peers=peers,
                deleted_in_target=frozenset(self._state.deleted_in(leg.target.system, person_ids)),
            )
        )
        summary.add(f"{source.system}.unchanged", plan.unchanged)
        summary.conflicts += plan.conflicts
        if self._settings.dry_run:
            self._describe_plan(plan, summary)
            return
        results = self._push(leg, plan)
        record, counts = finish(plan, results)
        for key, n in counts.items():
            summary.add(key, n)
        for key, n in quarantine_counts(record).items():
            summary.add(key, n)
        if move_cursor and unit.cursor is not None:
            record.cursor = CursorMove(source.system, obj, unit.cursor, observed_at=pulled_at)
        if unit.observed and self._settings.lifecycle is not None:
            record.also.append(self._lifecycle_write(unit.observed, self._settings.lifecycle, summary))
        self._state.record_page(summary.run_id or 0, record, self._clock())

    def _lifecycle_write(
        self, observed: tuple[Observation, ...], settings: LifecycleSettings, summary: RunSummary
    ) -> Callable[[Connection], None]:
        """The unit's lifecycle stages, written in its transaction once its new links exist."""

        def write(connection: Connection) -> None:
            written = record_lifecycle(connection, observed, settings, self._clock())
            summary.add("lifecycle.entered", written.inserted)
            summary.add("lifecycle.moved_earlier", written.moved_earlier)

        return write

    def _bases(self, person_ids: Iterable[int]) -> dict[int, dict[str, FieldBase]]:
        stored = self._state.bases(person_key(p) for p in person_ids)
        bases: dict[int, dict[str, FieldBase]] = {}
        for key, fields in stored.items():
            person = int(key.split(":", 1)[1])
            bases[person] = {
                name: FieldBase(crm=value.get("crm"), marketing=value.get("marketing"))
                for name, value in fields.items()
                if isinstance(value, dict)
            }
        return bases

    def _changed(
        self,
        leg: _Leg,
        records: Sequence[NormalizedRecord],
        links: Mapping[str, Link],
        bases: Mapping[int, Mapping[str, FieldBase]],
    ) -> tuple[list[NormalizedRecord], list[NormalizedRecord]]:
        """Split off linked records whose every mapped value equals its base: our own writes coming
        back (echoes) and re-read records. They need no target read and no write."""
        side = leg.source.side
        paired = self._paired_objects(leg, {link.person_id for link in links.values()})
        work: list[NormalizedRecord] = []
        unchanged: list[NormalizedRecord] = []
        for record in records:
            link = links.get(record.ref.id)
            person_bases = bases.get(link.person_id) if link else None
            if link is None or record.deleted or record.merged_into or record.merged_from or not person_bases:
                work.append(record)
                continue
            plans = self._plans_for(side, record.ref.object, paired.get(link.person_id))
            same = all(
                plan.name in person_bases
                and record.fields.get(plan.field_on(side)) == person_bases[plan.name].on(side)
                for plan in plans
                if plan.field_on(side) in record.fields
            )
            (unchanged if same else work).append(record)
        return work, unchanged

    def _paired_objects(self, leg: _Leg, person_ids: Iterable[int]) -> dict[int, str]:
        """The Salesforce object each HubSpot contact's person is linked to, when it is exactly one."""
        if leg.source.side is Side.CRM:
            return {}
        linked = self._state.links_by_person(leg.target.system, person_ids)
        objects = {person: {link.object for link in group} for person, group in linked.items()}
        return {person: next(iter(objs)) for person, objs in objects.items() if len(objs) == 1}

    def _plans_for(self, side: Side, obj: str, paired: str | None = None) -> Sequence[FieldPlan]:
        if side is Side.CRM:
            return self._plans.get(obj, ())
        if paired is not None and paired in self._plans:
            # Linked to a Lead or to a Contact: only that object's fields are synced for this person
            # (a Contact carries no Company of its own, say), so only they can be out of step.
            return self._plans[paired]
        # Not linked to one object: its own fields are the union.
        seen: dict[str, FieldPlan] = {}
        for group in self._plans.values():
            for plan in group:
                seen.setdefault(plan.name, plan)
        return list(seen.values())

    def _fetch_targets(
        self,
        leg: _Leg,
        records: Sequence[NormalizedRecord],
        target_links: Mapping[int, list[Link]],
        source_links: Mapping[str, Link],
        bases: Mapping[int, Mapping[str, FieldBase]],
    ) -> list[NormalizedRecord]:
        """Every target record the page may touch: linked ones by id; by email (all objects) those of
        unlinked records, and of linked records whose email changed (it may now be held by another
        record). A linked record with its synced email needs no email lookup: one read per object."""
        if not records:
            return []
        ids_by_object: dict[str, set[str]] = {}
        for group in target_links.values():
            for link in group:
                ids_by_object.setdefault(link.object, set()).add(link.external_id)
        emails = sorted(
            {
                r.email
                for r in records
                if r.email and self._email_unsettled(r, source_links, bases, leg.source.side)
            }
        )
        target = leg.target
        found: list[NormalizedRecord] = []
        for obj in leg.target_objects:
            keys = sorted(ids_by_object.get(obj, set())) + emails
            if not keys:
                continue
            for remote in leg.target_connector.fetch(obj, keys, self._fields(target, obj)):
                found.append(
                    normalize_record(
                        target.system,
                        remote,
                        self._types.get((target.system, remote.object), {}),
                        email_field=target.email_field[remote.object],
                    )
                )
        return found

    def _email_unsettled(
        self,
        record: NormalizedRecord,
        links: Mapping[str, Link],
        bases: Mapping[int, Mapping[str, FieldBase]],
        side: Side,
    ) -> bool:
        link = links.get(record.ref.id)
        if link is None:
            return True
        base = bases.get(link.person_id, {}).get(self._mapping.identity)
        return base is None or canonical_email(base.on(side)) != record.email

    def _reread(
        self,
        leg: _Leg,
        obj: str,
        records: Sequence[NormalizedRecord],
        links: Mapping[str, Link],
        bases: Mapping[int, Mapping[str, FieldBase]],
    ) -> list[NormalizedRecord]:
        """Synced records' current values, read by id: a search index can serve a version older than
        our own latest write, which would look like a user's edit and be copied back."""
        source = leg.source
        ids = [
            r.ref.id
            for r in records
            if not (r.deleted or r.merged_into) and r.ref.id in links and links[r.ref.id].person_id in bases
        ]
        fresh: dict[str, NormalizedRecord] = {}
        for remote in leg.source_connector.fetch(obj, ids, self._fields(source, obj)) if ids else ():
            fresh[remote.id] = normalize_record(
                source.system,
                remote,
                self._types.get((source.system, remote.object), {}),
                email_field=source.email_field[obj],
            )
        # Ids not read back (archived, merged away since) keep the version the pull saw.
        return [fresh.get(r.ref.id, r) for r in records]

    def _fetch_peers(
        self, leg: _Leg, obj: str, records: Sequence[NormalizedRecord]
    ) -> list[NormalizedRecord]:
        """The source system's records of its other objects holding the page's emails."""
        emails = sorted({r.email for r in records if r.email})
        source = leg.source
        found: list[NormalizedRecord] = []
        for other in leg.source_objects:
            if other == obj or not emails:
                continue
            for remote in leg.source_connector.fetch(other, emails, self._fields(source, other)):
                found.append(
                    normalize_record(
                        source.system,
                        remote,
                        self._types.get((source.system, remote.object), {}),
                        email_field=source.email_field[remote.object],
                    )
                )
        return found

    def _push(self, leg: _Leg, plan: PagePlan) -> dict[int, WriteResult]:
        results: dict[int, WriteResult] = {}
        connectors = {leg.source.system: leg.source_connector, leg.target.system: leg.target_connector}
        # Target first: a write-back to the source only matters once the target holds the record.
        for system in (leg.target.system, leg.source.system):
            by_object: dict[str, list[int]] = {}
            for i, planned in enumerate(plan.writes):
                if planned.system == system:
                    by_object.setdefault(planned.object, []).append(i)
            for obj, indexes in by_object.items():
                pushed = connectors[system].push(obj, [plan.writes[i].write for i in indexes])
                for i, result in zip(indexes, pushed, strict=True):
                    results[i] = result
        return results

    def _describe_plan(self, plan: PagePlan, summary: RunSummary) -> None:
        for planned in plan.writes:
            key = f"{planned.system} {planned.object} {planned.write.op}"
            summary.planned[key] = summary.planned.get(key, 0) + 1
            if len(summary.samples) < self._settings.sample_size:
                who = planned.email or str(planned.source)
                changes = ", ".join(f"{k}={v!r}" for k, v in sorted(planned.write.fields.items()))
                summary.samples.append(
                    f"{planned.write.op} {planned.system} {planned.object} {who}: {changes}"
                )
        for key, n in quarantine_counts(plan.record).items():
            summary.add(key, n)
