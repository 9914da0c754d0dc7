"""The activities flow: Salesforce sales activities into the store and onto HubSpot as engagements.

An event flow: append-only and idempotent by the Salesforce record id. A run has two legs:

1. **pull** — Tasks and Events changed since their cursors, read together (one composite call for an
   idle cycle: `salesforce_probes` says which, so a shared probe can bundle them with other flows'
   first pages). Each becomes a sales activity (`syncd.core.activities`) on the person its Lead or
   Contact stands for; each page's activities, waiting issues and cursor are committed together.
2. **push** — stored rep activities (calls, 1:1 emails, meetings) whose person has a HubSpot contact
   become engagements: a batch upsert keyed by the unique `syncd_source_id` property (a replay after a
   crash updates, never duplicates), then one batch of associations to the contacts. The store
   remembers which activities have their engagement, so a rerun writes nothing.

Activities whose Lead/Contact the contacts flow has not linked yet wait as open issues holding the
activity; every run tries them again and gives up after `max_wait`. Tasks syncd wrote (touch Tasks,
alert Tasks) are never activities, and its engagements are never read back as touches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine

from syncd.activities import ENGAGEMENT_TO_CONTACT, SOURCE_ID_PROPERTY
from syncd.connector import ApiUsage, Owner, PullRequest, RemoteRecord, Write, WriteResult
from syncd.core.activities import (
    AUTOMATION,
    REP,
    ActivityRules,
    EngagementSettings,
    SalesActivity,
    Skipped,
    StoredActivityView,
    engagement_properties,
    read_activity,
)
from syncd.deals import Association
from syncd.engine import StopSignal
from syncd.engine.activity_store import (
    ActivityPage,
    ActivityStore,
    EngagementLink,
    NewActivity,
    StoredActivity,
)
from syncd.engine.contacts import resume_point
from syncd.engine.runs import RunSummary, recorded_run
from syncd.engine.state import CursorMove, Quarantine, SyncState
from syncd.engine.touch_store import TouchStore
from syncd.errors import IssueCategory

log = logging.getLogger(__name__)

HUBSPOT, SALESFORCE = "hubspot", "salesforce"
WAITING_OBJECT = "sales_activity"

TASK_FIELDS = (
    "WhoId",
    "WhatId",
    "OwnerId",
    "Subject",
    "ActivityDate",
    "Status",
    "Priority",
    "Type",
    "TaskSubtype",
    "Description",
    "CallType",
    "CallDurationInSeconds",
    "CallDisposition",
    "IsClosed",
    "CompletedDateTime",
)
EVENT_FIELDS = (
    "WhoId",
    "WhatId",
    "OwnerId",
    "Subject",
    "StartDateTime",
    "EndDateTime",
    "ActivityDateTime",
    "ActivityDate",
    "DurationInMinutes",
    "IsAllDayEvent",
    "Type",
    "Description",
    "Location",
)


class ActivitySource(Protocol):
    """What the flow needs from the CRM (the Salesforce connector implements it)."""

    system: str

    def pull_many(self, pulls: Sequence[PullRequest]) -> list[Any]: ...

    def owners(self) -> list[Owner]: ...

    def usage(self) -> ApiUsage: ...


class EngagementSink(Protocol):
    """What the flow needs from the marketing system (the HubSpot connector implements it)."""

    system: str

    def push(self, object: str, writes: Sequence[Write]) -> list[WriteResult]: ...

    def associate(
        self, from_object: str, to_object: str, pairs: Sequence[Association], type_id: int
    ) -> list[Association]:
        """Link each pair; returns the pairs refused because a record does not exist."""
        ...

    def owners(self) -> list[Owner]: ...

    def usage(self) -> ApiUsage: ...


@dataclass(frozen=True)
class ActivitySettings:
    """How an activities run behaves. `lag` re-reads a short window before each cursor once:
    Salesforce can make a change visible with a SystemModstamp slightly in the past."""

    rules: ActivityRules = field(default_factory=ActivityRules)
    engagements: EngagementSettings = field(default_factory=EngagementSettings)
    lag: timedelta = timedelta(seconds=60)
    # How long an activity waits for the contacts flow to link its person before its issue is ignored.
    max_wait: timedelta = timedelta(days=14)
    objects: tuple[str, ...] = ("Task", "Event")
    # The HubSpot identity object a person's engagements go on.
    contact_object: str = "contacts"
    dry_run: bool = False


def activity_payload(activity: SalesActivity) -> dict[str, Any]:
    return {
        "source_system": activity.source_system,
        "source_id": activity.source_id,
        "who_id": activity.who_id,
        "occurred_at": activity.occurred_at.isoformat(),
        "kind": activity.kind,
        "initiated_by": activity.initiated_by,
        "direction": activity.direction,
        "owner_id": activity.owner_id,
        "owner_email": activity.owner_email,
        "outcome": activity.outcome,
        "duration_seconds": activity.duration_seconds,
        "subject": activity.subject,
        "detail": dict(activity.detail),
    }


def activity_from_payload(payload: Mapping[str, Any]) -> SalesActivity:
    return SalesActivity(
        source_system=str(payload["source_system"]),
        source_id=str(payload["source_id"]),
        who_id=str(payload["who_id"]),
        occurred_at=datetime.fromisoformat(str(payload["occurred_at"])),
        kind=str(payload["kind"]),
        initiated_by=str(payload["initiated_by"]),
        direction=payload.get("direction"),
        owner_id=payload.get("owner_id"),
        owner_email=payload.get("owner_email"),
        outcome=payload.get("outcome"),
        duration_seconds=payload.get("duration_seconds"),
        subject=payload.get("subject"),
        detail=dict(payload.get("detail") or {}),
    )


def _view(activity: StoredActivity) -> StoredActivityView:
    return StoredActivityView(
        source_system=activity.source_system,
        source_event_id=activity.source_event_id,
        occurred_at=activity.occurred_at,
        kind=activity.kind,
        direction=activity.direction,
        owner_email=activity.owner_email,
        outcome=activity.outcome,
        duration_seconds=activity.duration_seconds,
        subject=activity.subject,
        detail=activity.detail,
    )


class ActivityFlow:
    """One flow instance, built once by the composition root."""

    def __init__(
        self,
        *,
        name: str,
        salesforce: ActivitySource,
        hubspot: EngagementSink,
        store: Engine,
        clock: Callable[[], datetime],
        settings: ActivitySettings | None = None,
    ) -> None:
        self.name = name
        self._salesforce = salesforce
        self._hubspot = hubspot
        self._state = SyncState(store, name)
        self._activities = ActivityStore(store, name)
        self._waiting = TouchStore(store, name)
        self._clock = clock
        self._settings = settings or ActivitySettings()
        self._user_emails: dict[str, str] = {}
        self._hubspot_owners: dict[str, str] | None = None

    def salesforce_probes(self) -> list[PullRequest]:
        """The first pages the next run reads: Tasks and Events after their cursors (one composite)."""
        fields = {"Task": (*TASK_FIELDS, self._settings.rules.task_key_field), "Event": EVENT_FIELDS}
        return [
            PullRequest(
                obj,
                resume_point(self._state.stored_cursor(SALESFORCE, obj), self._settings.lag),
                fields.get(obj, ()),
            )
            for obj in self._settings.objects
        ]

    def run(self, trigger: str, stop: StopSignal) -> RunSummary:
        """One cycle: waiting activities, the pull, the push. Never raises for a flow failure."""

        def legs(summary: RunSummary) -> None:
            self._hubspot_owners = None  # owners can change between runs: read once per run at most
            self._retry_waiting(summary)
            for leg in (self._pull_leg, self._push_leg, self._expire_waiting):
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
            systems=(self._salesforce, self._hubspot),
        )

    # --- the pull -----------------------------------------------------------------------

    def _pull_leg(self, summary: RunSummary, stop: StopSignal) -> None:
        started = self._clock()
        requests = self.salesforce_probes()
        for request, pages in zip(requests, self._salesforce.pull_many(requests), strict=True):
            for page in pages:
                move = CursorMove(SALESFORCE, request.object, page.cursor, observed_at=started)
                self._record(page.records, summary, cursors=[move])
                if stop.is_set():
                    return

    def _retry_waiting(self, summary: RunSummary) -> None:
        waiting = self._waiting.waiting((WAITING_OBJECT,))
        for start in range(0, len(waiting), 500):
            activities = [activity_from_payload(w.payload) for w in waiting[start : start + 500]]
            self._store(activities, summary, cursors=[], retrying=True)

    def _expire_waiting(self, summary: RunSummary, stop: StopSignal) -> None:
        if self._settings.dry_run:
            return
        now = self._clock()
        expired = [
            w.record_key
            for w in self._waiting.waiting((WAITING_OBJECT,))
            if w.first_seen_at < now - self._settings.max_wait
        ]
        if expired:
            reason = f"given up after waiting {self._settings.max_wait}: no activity is stored for it"
            self._waiting.give_up(SALESFORCE, expired, reason, now)
            summary.add(f"{SALESFORCE}.gave_up", len(expired))

    def _record(
        self, records: Sequence[RemoteRecord], summary: RunSummary, *, cursors: list[CursorMove]
    ) -> None:
        """Classify and store one page of Tasks or Events with its cursor, in one transaction."""
        rules = self._settings.rules
        self._learn_users(r.fields.get("OwnerId") for r in records)
        activities: list[SalesActivity] = []
        skipped: dict[str, int] = {}
        for record in records:
            read = read_activity(record, rules, self._user_emails)
            if isinstance(read, Skipped):
                skipped[read.reason] = skipped.get(read.reason, 0) + 1
                continue
            activities.append(read)
        for reason, count in skipped.items():
            summary.add(f"{SALESFORCE}.skipped_{reason}", count)
        self._store(activities, summary, cursors=cursors)

    def _store(
        self,
        activities: Sequence[SalesActivity],
        summary: RunSummary,
        *,
        cursors: list[CursorMove],
        retrying: bool = False,
    ) -> None:
        summary.pages += 1
        found = self._activities.people_for(SALESFORCE, {a.who_id for a in activities})
        page = ActivityPage(cursors=cursors)
        for activity in activities:
            person = found.get(activity.who_id)
            key = _waiting_key(activity)
            if person is None:
                summary.add(f"{SALESFORCE}.waiting")
                page.quarantined.append(self._waiting_issue(activity))
                continue
            page.activities.append(_new(activity, person))
            if retrying:
                page.cleared.append((SALESFORCE, key))
        if self._settings.dry_run:
            summary.planned["store activities (new or replayed)"] = summary.planned.get(
                "store activities (new or replayed)", 0
            ) + len(page.activities)
            return
        outcome = self._activities.record_page(summary.run_id or 0, page, self._clock())
        summary.add(f"{SALESFORCE}.activities", outcome.inserted)
        summary.add(f"{SALESFORCE}.moved", outcome.moved)
        summary.add("quarantined", len(page.quarantined))

    def _waiting_issue(self, activity: SalesActivity) -> Quarantine:
        return Quarantine(
            system=SALESFORCE,
            object=WAITING_OBJECT,
            record_key=_waiting_key(activity),
            category=IssueCategory.OTHER,
            message=(
                f"Salesforce {activity.detail.get('object', 'activity')} {activity.source_id} waits for its "
                f"person: no person is linked to {activity.who_id} yet — the contacts flow links them; syncd "
                "stores the activity on the next run after that"
            ),
            payload=activity_payload(activity),
        )

    def _learn_users(self, owner_ids: Iterable[Any]) -> None:
        """User emails by id, read once per flow and again only when an unknown owner shows up."""
        wanted = {str(i) for i in owner_ids if i}
        if wanted - self._user_emails.keys():
            for owner in self._salesforce.owners():
                if owner.email:
                    self._user_emails[owner.id] = owner.email
                    self._user_emails.setdefault(owner.id[:15], owner.email)

    # --- the push -----------------------------------------------------------------------

    def _push_leg(self, summary: RunSummary, stop: StopSignal) -> None:
        """Pending activities one engagement object at a time, so every batch call is full (100)."""
        settings = self._settings.engagements
        initiators = (REP, AUTOMATION) if settings.push_automated else (REP,)
        for obj in sorted(set(settings.objects.values())):
            kinds = [kind for kind, target in settings.objects.items() if target == obj]
            after = 0
            while not stop.is_set():
                batch = self._activities.pending_engagements(
                    kinds,
                    initiators,
                    after_id=after,
                    limit=settings.batch_size,
                    marketing_system=HUBSPOT,
                    contact_objects=(self._settings.contact_object,),
                )
                if not batch:
                    break
                after = batch[-1].id
                summary.pages += 1
                self._push(batch, summary)

    def _push(self, batch: Sequence[StoredActivity], summary: RunSummary) -> None:
        settings = self._settings.engagements
        links = self._state.links_by_person(HUBSPOT, {a.person_id for a in batch})
        contacts = {
            person: next(
                (link.external_id for link in group if link.object == self._settings.contact_object), None
            )
            for person, group in links.items()
        }
        owners = self._owner_ids()
        now = self._clock()
        by_object: dict[str, list[tuple[Write, StoredActivity, str]]] = {}
        for activity in batch:
            contact = contacts.get(activity.person_id)
            if contact is None:
                continue
            owner = owners.get((activity.owner_email or "").casefold())
            obj, props = engagement_properties(_view(activity), owner, settings, now)
            write = Write("upsert", str(activity.id), props, id_property=SOURCE_ID_PROPERTY)
            by_object.setdefault(obj, []).append((write, activity, contact))
        if self._settings.dry_run:
            for obj, items in by_object.items():
                key = f"hubspot {obj} upsert"
                summary.planned[key] = summary.planned.get(key, 0) + len(items)
            return
        saved: list[EngagementLink] = []
        quarantined: list[Quarantine] = []
        cleared: list[tuple[str, str]] = []
        for obj, items in by_object.items():
            results = self._hubspot.push(obj, [write for write, _, _ in items])
            landed: list[tuple[StoredActivity, str, str]] = []
            for (_, activity, contact), result in zip(items, results, strict=True):
                if result.ok and result.id:
                    summary.add(f"{HUBSPOT}.{'created' if result.created else 'updated'}")
                    landed.append((activity, result.id, contact))
                    continue
                quarantined.append(self._rejected(obj, activity, result))
            if not landed:
                continue
            # Linking an engagement that is linked already changes nothing: a replay is safe.
            refused = set(
                self._hubspot.associate(
                    obj,
                    "contacts",
                    [Association(engagement, contact) for _, engagement, contact in landed],
                    ENGAGEMENT_TO_CONTACT[obj],
                )
            )
            for activity, engagement, contact in landed:
                if Association(engagement, contact) in refused:
                    quarantined.append(self._unlinked(obj, activity, engagement, contact))
                    continue
                saved.append(EngagementLink(activity.id, obj, engagement, contact))
                cleared.append((HUBSPOT, _push_key(activity)))
        summary.add(f"{HUBSPOT}.quarantined", len(quarantined))
        summary.add("quarantined", len(quarantined))
        self._activities.record_engagements(summary.run_id or 0, saved, quarantined, cleared, self._clock())

    def _rejected(self, obj: str, activity: StoredActivity, result: WriteResult) -> Quarantine:
        error = result.error
        return Quarantine(
            system=HUBSPOT,
            object=obj,
            record_key=_push_key(activity),
            category=error.category if error else IssueCategory.OTHER,
            message=(f"{error}" if error else f"HubSpot did not save the {obj[:-1]}")
            + f" (Salesforce {activity.source_event_id}; syncd tries again next run)",
            remote_code=error.remote_code if error else None,
            remote_message=error.remote_message if error else None,
        )

    def _unlinked(self, obj: str, activity: StoredActivity, engagement: str, contact: str) -> Quarantine:
        return Quarantine(
            system=HUBSPOT,
            object=obj,
            record_key=_push_key(activity),
            category=IssueCategory.OTHER,
            message=(
                f"HubSpot {obj[:-1]} {engagement} (Salesforce {activity.source_event_id}) could not be "
                f"linked to contact {contact}: HubSpot does not know the contact (deleted or merged since) "
                "— syncd links it again once the contacts flow has relinked the person"
            ),
        )

    def _owner_ids(self) -> dict[str, str]:
        """HubSpot owner ids by lower-cased email, read at most once per run (only when pushing)."""
        if self._hubspot_owners is None:
            self._hubspot_owners = {
                owner.email.casefold(): owner.id
                for owner in self._hubspot.owners()
                if owner.email and owner.active
            }
        return self._hubspot_owners


def _new(activity: SalesActivity, person_id: int) -> NewActivity:
    return NewActivity(
        person_id=person_id,
        source_system=activity.source_system,
        source_event_id=activity.source_id,
        occurred_at=activity.occurred_at,
        kind=activity.kind,
        initiated_by=activity.initiated_by,
        direction=activity.direction,
        owner_email=activity.owner_email,
        outcome=activity.outcome,
        duration_seconds=activity.duration_seconds,
        subject=activity.subject,
        detail=activity.detail,
    )


def _waiting_key(activity: SalesActivity) -> str:
    return f"{activity.detail.get('object', 'activity')}:{activity.source_id}"


def _push_key(activity: StoredActivity) -> str:
    return f"activity:{activity.id}"
