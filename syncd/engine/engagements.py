"""The engagements flow: HubSpot marketing touches into the closed-loop store and onto Salesforce as Tasks.

An event flow: append-only and idempotent by the source's event id. A run has three legs:

1. **email** — the legacy email-events feed, read by time window from a cursor; each page's touches,
   campaigns, issues and cursor are committed together.
2. **web** — page views and form submissions, read per linked HubSpot contact (HubSpot offers no
   portal-wide listing), each contact with its own cursor; then the calls, meetings and notes reps
   logged in HubSpot on the contacts that changed (`syncd.engine.logged`).
3. **tasks** — touches of the kinds sales should see and whose person has a Salesforce Lead/Contact
   become Tasks, one per touch or one digest per person and day. A Task is an upsert keyed by an
   external-id field of Task (`task_key_field`), so a Task saved just before a crash is updated, not
   created twice, on the replay; the store remembers which touches have one so a rerun pushes nothing.

Events whose person the contacts flow has not linked yet wait as open `other` issues holding the
event; every run tries them again, stores them once the person is linked and resolves the issue.
The cursor never waits for them: one recipient who never becomes a contact must not stop the feed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import Engine

from syncd.connector import ApiUsage, Connector, Cursor, Page, RemoteRecord, Write, WriteResult
from syncd.core.channels import ChannelTaxonomy, web_channel
from syncd.core.normalize import canonical_email
from syncd.engine import StopSignal
from syncd.engine.logged import LOGGED_FEED, LOGGED_KINDS, SIGNAL_PROPERTIES, LoggedEngagements, logged_touch
from syncd.engine.runs import RunSummary, recorded_run
from syncd.engine.state import CursorMove, Link, Quarantine, SyncState
from syncd.engine.touch_store import NewCampaign, NewTouch, StoredTouch, TaskLink, TouchPage, TouchStore
from syncd.errors import IssueCategory
from syncd.events import EmailCampaignInfo, EventPage, TouchEvent

log = logging.getLogger(__name__)

HUBSPOT, SALESFORCE = "hubspot", "salesforce"
EMAIL_CURSOR = "email_events"
WEB_CURSOR_PREFIX = "web:"
WAITING_OBJECTS = ("email_event", "web_event", f"{LOGGED_FEED}_event")

EMAIL_KINDS = ("email_send", "email_delivered", "email_open", "email_click", "email_bounce", "unsubscribe")
WEB_KINDS = ("page_view", "form_submission")
# Calls, meetings and notes reps logged in HubSpot (syncd.engine.logged).
LOGGED_TOUCH_KINDS = tuple(LOGGED_KINDS.values())
KINDS = (*EMAIL_KINDS, *WEB_KINDS, *LOGGED_TOUCH_KINDS)
# The instant of the last complete web read (in the cursors table, beside the per-contact cursors).
WEB_ACTIVE_CURSOR = "webscan"
# Privacy proxies open every email they receive: opens, like sends and deliveries, say little to sales.
DEFAULT_TASK_EXCLUDE = frozenset({"email_send", "email_delivered", "email_open"})


class EventSource(Protocol):
    """What the flow needs from the marketing system (the HubSpot connector implements it)."""

    system: str

    def email_events(self, since: Cursor | None, until: datetime | None = None) -> Iterator[EventPage]: ...

    def web_events(
        self, contact_id: str, since: datetime | None, event_types: Sequence[str] = ()
    ) -> list[TouchEvent]: ...

    def email_campaign(self, campaign_id: str) -> EmailCampaignInfo | None: ...

    def pull(self, object: str, since: Cursor | None, fields: Sequence[str]) -> Iterator[Page]: ...

    def usage(self) -> ApiUsage: ...


# --- the taxonomy (pure) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Taxonomy:
    """How source events become touch kinds and channels. Every name is a setting: HubSpot's own
    `e_*` event names beyond `e_visited_page` are not documented."""

    email_types: Mapping[str, str] = field(
        default_factory=lambda: {
            "SENT": "email_send",
            "DELIVERED": "email_delivered",
            "OPEN": "email_open",
            "CLICK": "email_click",
            "BOUNCE": "email_bounce",
        }
    )
    page_view_types: tuple[str, ...] = ("e_visited_page",)
    form_types: tuple[str, ...] = ("e_submitted_form",)
    # Channels of touches (the `channels:` section): UTM values, HubSpot source, Campaign Type.
    channels: ChannelTaxonomy = field(default_factory=ChannelTaxonomy)

    @property
    def email_channel(self) -> str:
        return self.channels.email

    @property
    def web_types(self) -> tuple[str, ...]:
        return (*self.page_view_types, *self.form_types)


def classify(event: TouchEvent, taxonomy: Taxonomy) -> tuple[str, str] | None:
    """(kind, channel) of an event, or None for events that are not touches (DEFERRED, PROCESSED, ...)."""
    if event.feed == LOGGED_FEED:
        return logged_touch(event)
    if event.feed == "email":
        if event.type == "STATUSCHANGE":
            statuses = event.properties.get("subscription_statuses") or ()
            unsubscribed = (
                event.properties.get("portalSubscriptionStatus") == "UNSUBSCRIBED"
                or "UNSUBSCRIBED" in statuses
            )
            return ("unsubscribe", taxonomy.email_channel) if unsubscribed else None
        kind = taxonomy.email_types.get(event.type)
        return (kind, taxonomy.email_channel) if kind else None
    if event.type in taxonomy.page_view_types:
        return "page_view", web_channel(event.properties, taxonomy.channels)
    if event.type in taxonomy.form_types:
        return "form_submission", web_channel(event.properties, taxonomy.channels)
    return None


_DETAIL_FIELDS = {
    "url": ("hs_url", "url"),
    "page_title": ("hs_page_title",),
    "form": ("hs_form_title",),
    "form_id": ("hs_form_id",),
    "utm_campaign": ("hs_utm_campaign",),
    "utm_medium": ("hs_utm_medium",),
    "utm_source": ("hs_utm_source",),
    "bounce_category": ("category",),
    "title": ("title",),
    "outcome": ("outcome",),
    "duration": ("duration",),
    "logged_by": ("owner",),
    "notes": ("body",),
}


def touch_detail(event: TouchEvent, email_name: str | None) -> dict[str, Any]:
    """What a touch keeps about its event: url, page title, form, UTM values, the email's name."""
    detail: dict[str, Any] = {"event_type": event.type}
    for name, sources in _DETAIL_FIELDS.items():
        for source in sources:
            value = event.properties.get(source)
            if value not in (None, ""):
                detail[name] = str(value)
                break
    if email_name:
        detail["email"] = email_name
    return detail


# --- Tasks (pure) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskSettings:
    """How touches become Salesforce Tasks: one per touch, or, for the kinds in `digest_kinds` (every
    kind when `mode` is "digest"), one digest per person and day that spares API calls."""

    mode: Literal["per_touch", "digest"] = "per_touch"
    exclude: frozenset[str] = DEFAULT_TASK_EXCLUDE
    digest_kinds: frozenset[str] = frozenset()
    # A Text(40) External ID, Unique field on Task; upserts by it make a replay update, not duplicate.
    key_field: str = "HubSpot_Engagement_Id__c"
    batch_size: int = 200
    # A person's Task goes on their Contact when they have one, else on their Lead.
    who_objects: tuple[str, ...] = ("Contact", "Lead")

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(k for k in KINDS if k not in self.exclude)

    @property
    def digested(self) -> tuple[str, ...]:
        """The kinds summarised per person and day (the others get a Task each)."""
        return self.kinds if self.mode == "digest" else tuple(k for k in self.kinds if k in self.digest_kinds)


_SUBJECTS = {
    "email_send": "Email sent",
    "email_delivered": "Email delivered",
    "email_open": "Email opened",
    "email_click": "Email clicked",
    "email_bounce": "Email bounced",
    "unsubscribe": "Unsubscribed from email",
    "page_view": "Visited page",
    "form_submission": "Submitted form",
    "call": "Call",
    "meeting": "Meeting",
    "note": "Note",
    "sales_email": "Sales email",
}


# Digest subjects count touches: (one, several).
_NOUNS = {
    "email_send": ("email sent", "emails sent"),
    "email_delivered": ("email delivered", "emails delivered"),
    "email_open": ("email open", "email opens"),
    "email_click": ("email click", "email clicks"),
    "email_bounce": ("bounce", "bounces"),
    "unsubscribe": ("unsubscribe", "unsubscribes"),
    "page_view": ("page view", "page views"),
    "form_submission": ("form submission", "form submissions"),
    "call": ("call", "calls"),
    "meeting": ("meeting", "meetings"),
    "note": ("note", "notes"),
    "sales_email": ("sales email", "sales emails"),
}
# The Task Type of a touch logged as a sales engagement in HubSpot; every other touch is Email or Other.
_LOGGED_TASK_TYPES = {"call": "Call", "meeting": "Meeting", "sales_email": "Email"}


def task_key(touch: StoredTouch) -> str:
    """The Task's external id for one touch: stable across stores, 40 characters."""
    digest = hashlib.sha1(f"{touch.source_system}:{touch.source_event_id}".encode()).hexdigest()
    return f"syncd:t:{digest[:32]}"


def digest_key(person_id: int, day: date) -> str:
    return f"syncd:d:{person_id}:{day:%Y%m%d}"


def task_subject(touch: StoredTouch) -> str:
    label = _SUBJECTS.get(touch.kind, touch.kind)
    detail = touch.detail
    if touch.kind == "page_view":
        what = detail.get("url") or detail.get("page_title")
    elif touch.kind == "form_submission":
        what = detail.get("form") or detail.get("form_id")
    elif touch.kind in LOGGED_TOUCH_KINDS:
        what = detail.get("title")
    else:
        what = detail.get("email") or touch.campaign_name
    return (f"{label}: {what}" if what else label)[:255]


def _touch_lines(touch: StoredTouch) -> list[str]:
    detail = touch.detail
    lines = [f"When: {touch.occurred_at:%Y-%m-%d %H:%M} UTC", f"Channel: {touch.channel or 'unknown'}"]
    if touch.campaign_name:
        lines.append(f"Campaign: {touch.campaign_name}")
    for name, label in (
        ("url", "URL"),
        ("page_title", "Page"),
        ("form", "Form"),
        ("bounce_category", "Bounce"),
        ("utm_source", "UTM source"),
        ("utm_medium", "UTM medium"),
        ("utm_campaign", "UTM campaign"),
        ("title", "Title"),
        ("outcome", "Outcome"),
        ("duration", "Duration"),
        ("logged_by", "Logged in HubSpot by"),
        ("notes", "Notes"),
    ):
        if detail.get(name):
            lines.append(f"{label}: {detail[name]}")
    return lines


def task_fields(touch: StoredTouch, who_id: str, settings: TaskSettings) -> dict[str, Any]:
    """One touch's Task. TaskSubtype is left to its default: Salesforce refuses it on an update, and
    a replay's upsert may be one."""
    lines = [*_touch_lines(touch), f"HubSpot event: {touch.source_event_id}", "Logged by syncd."]
    return {
        settings.key_field: task_key(touch),
        "WhoId": who_id,
        "Subject": task_subject(touch),
        "ActivityDate": touch.occurred_at.date().isoformat(),
        "Status": "Completed",
        "Priority": "Normal",
        "Type": _LOGGED_TASK_TYPES.get(touch.kind) or ("Email" if touch.kind in EMAIL_KINDS else "Other"),
        "Description": "\n".join(lines)[:32000],
    }


def digest_fields(
    person_id: int, day: date, touches: Sequence[StoredTouch], who_id: str, settings: TaskSettings
) -> dict[str, Any]:
    """One person's day of touches as one Task, in time order."""
    counts: dict[str, int] = {}
    for touch in touches:
        counts[touch.kind] = counts.get(touch.kind, 0) + 1
    summary = ", ".join(
        f"{n} {_NOUNS.get(kind, (kind, kind))[0 if n == 1 else 1]}" for kind, n in counts.items()
    )
    lines = [f"{t.occurred_at:%H:%M} UTC — {task_subject(t)} ({t.channel or 'unknown'})" for t in touches]
    lines.append("Logged by syncd.")
    only_email = all(t.kind in EMAIL_KINDS for t in touches)
    return {
        settings.key_field: digest_key(person_id, day),
        "WhoId": who_id,
        "Subject": f"Marketing activity: {summary}"[:255],
        "ActivityDate": day.isoformat(),
        "Status": "Completed",
        "Priority": "Normal",
        "Type": "Email" if only_email else "Other",
        "Description": "\n".join(lines)[:32000],
    }


# --- events as issue payloads ----------------------------------------------------------------


def event_payload(event: TouchEvent) -> dict[str, Any]:
    return {
        "source_system": event.source_system,
        "feed": event.feed,
        "id": event.id,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "contact_id": event.contact_id,
        "email": event.email,
        "campaign_id": event.campaign_id,
        "properties": dict(event.properties),
    }


def event_from_payload(payload: Mapping[str, Any]) -> TouchEvent:
    return TouchEvent(
        source_system=str(payload["source_system"]),
        feed=str(payload["feed"]),
        id=str(payload["id"]),
        type=str(payload["type"]),
        occurred_at=datetime.fromisoformat(str(payload["occurred_at"])),
        contact_id=payload.get("contact_id"),
        email=payload.get("email"),
        campaign_id=payload.get("campaign_id"),
        properties=dict(payload.get("properties") or {}),
    )


def _waiting_key(event: TouchEvent) -> str:
    return f"{event.feed}:{event.id}"


# --- the flow --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngagementSettings:
    """How an engagements run behaves. `lag` re-reads a short window before each cursor: HubSpot can
    make an event visible after later ones; re-read events are recognised by id and cost nothing."""

    taxonomy: Taxonomy = field(default_factory=Taxonomy)
    tasks: TaskSettings = field(default_factory=TaskSettings)
    lag: timedelta = timedelta(minutes=5)
    # How long an event waits for the contacts flow to link its person (people its include filter
    # leaves out never are) before its issue is marked ignored and no longer retried.
    max_wait: timedelta = timedelta(days=14)
    contacts_per_page: int = 50
    hubspot_objects: tuple[str, ...] = ("contacts",)
    dry_run: bool = False


class EngagementFlow:
    """One flow instance, built once by the composition root."""

    def __init__(
        self,
        *,
        name: str,
        hubspot: EventSource,
        salesforce: Connector,
        store: Engine,
        clock: Callable[[], datetime],
        settings: EngagementSettings | None = None,
        logged: LoggedEngagements | None = None,
    ) -> None:
        self.name = name
        self._hubspot = hubspot
        self._logged = logged
        self._salesforce = salesforce
        self._state = SyncState(store, name)
        self._touches = TouchStore(store, name)
        self._clock = clock
        self._settings = settings or EngagementSettings()
        self._email_names: dict[str, str] = {}

    def run(self, trigger: str, stop: StopSignal) -> RunSummary:
        """One cycle of the three legs. Never raises for a flow failure: the run records it."""

        def legs(summary: RunSummary) -> None:
            self._retry_waiting(summary)
            if not self._settings.dry_run:
                # People the contacts flow merged away: their touches go to the surviving person.
                summary.add("touches.followed_merges", self._touches.follow_merges())
            for leg in (self._email_leg, self._web_leg, self._task_leg, self._expire_waiting):
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

    # --- legs ---------------------------------------------------------------------------

    def _retry_waiting(self, summary: RunSummary) -> None:
        waiting = self._touches.waiting(WAITING_OBJECTS)
        for start in range(0, len(waiting), 500):
            events = [event_from_payload(w.payload) for w in waiting[start : start + 500]]
            self._record(events, summary, cursors=[], retrying=True)

    def _expire_waiting(self, summary: RunSummary, stop: StopSignal) -> None:
        """Give up on events that waited longer than `max_wait`. Runs last, once this run's feeds
        were read: an event re-read in the lag window is not set aside again after it."""
        if self._settings.dry_run:
            return
        now = self._clock()
        expired = [
            w.record_key
            for w in self._touches.waiting(WAITING_OBJECTS)
            if w.first_seen_at < now - self._settings.max_wait
        ]
        if expired:
            reason = f"given up after waiting {self._settings.max_wait}: no touch is stored for it"
            self._touches.give_up(HUBSPOT, expired, reason, now)
            summary.add(f"{HUBSPOT}.gave_up", len(expired))

    def _email_leg(self, summary: RunSummary, stop: StopSignal) -> None:
        started = self._clock()
        stored = self._state.cursor(HUBSPOT, EMAIL_CURSOR)
        since = None if stored is None else Cursor(stored.modified_at - self._settings.lag, None)
        for page in self._hubspot.email_events(since, started):
            self._record(
                list(page.events),
                summary,
                cursors=[CursorMove(HUBSPOT, EMAIL_CURSOR, page.cursor, observed_at=started)],
            )
            if stop.is_set():
                return

    def _web_leg(self, summary: RunSummary, stop: StopSignal) -> None:
        # HubSpot's web-analytics API answers per contact. Asking about every linked contact each
        # cycle would spend the daily allowance on a large portal, so only contacts HubSpot modified
        # since the last web read are asked: a page view or form submission updates the contact's
        # analytics properties, which moves its lastmodifieddate.
        started = self._clock()
        linked = self._touches.linked_contacts(HUBSPOT, self._settings.hubspot_objects)
        stored = self._touches.cursors(HUBSPOT, [WEB_ACTIVE_CURSOR]).get(WEB_ACTIVE_CURSOR)
        changed: list[RemoteRecord] | None = None
        if stored is not None:
            modified_since = Cursor(stored.modified_at - self._settings.lag, None)
            # The activity summary properties tell syncd.engine.logged whose engagements to read.
            changed = [
                record
                for page in self._hubspot.pull(
                    self._settings.hubspot_objects[0], modified_since, ["hs_object_id", *SIGNAL_PROPERTIES]
                )
                for record in page.records
            ]
            active = {record.id for record in changed}
            linked = [(contact, person) for contact, person in linked if contact in active]
        contacts = linked
        types = self._settings.taxonomy.web_types
        size = self._settings.contacts_per_page
        for start in range(0, len(contacts), size):
            chunk = contacts[start : start + size]
            # Per-contact cursors note when their chunk was read; the leg's own mark stays the
            # leg's start, so a contact modified while the leg ran is asked about next cycle.
            chunk_started = self._clock()
            events: list[TouchEvent] = []
            people: dict[str, int] = {}
            cursors: list[CursorMove] = []
            known = self._touches.cursors(HUBSPOT, (f"{WEB_CURSOR_PREFIX}{c}" for c, _ in chunk))
            for contact_id, person_id in chunk:
                object_key = f"{WEB_CURSOR_PREFIX}{contact_id}"
                stored = known.get(object_key)
                since = None if stored is None else stored.modified_at - self._settings.lag
                found = self._hubspot.web_events(contact_id, since, types)
                for event in found:
                    people[event.id] = person_id
                events.extend(found)
                if found:
                    last = found[-1]
                    if stored is None or last.occurred_at > stored.modified_at:
                        moved = Cursor(last.occurred_at, last.id)
                        cursors.append(CursorMove(HUBSPOT, object_key, moved, observed_at=chunk_started))
            # A merged-away contact's events come back under the survivor's id: the contact asked
            # about names the person.
            self._record(events, summary, cursors=cursors, people=people)
            if stop.is_set():
                return
        # Calls, meetings and notes logged in HubSpot on the contacts that changed (syncd.engine.logged).
        for logged_events, logged_cursors in self._logged.batches(changed) if self._logged else ():
            self._record(logged_events, summary, cursors=logged_cursors)
            if stop.is_set():
                return
        # Every active contact was read: the next cycle asks only about contacts modified after now.
        done = CursorMove(HUBSPOT, WEB_ACTIVE_CURSOR, Cursor(started, None), observed_at=started)
        self._record([], summary, cursors=[done])

    def _task_leg(self, summary: RunSummary, stop: StopSignal) -> None:
        settings = self._settings.tasks
        after = 0
        while not stop.is_set():
            batch = self._touches.pending_tasks(
                settings.kinds, after_id=after, limit=settings.batch_size, crm_system=SALESFORCE
            )
            if not batch:
                return
            after = batch[-1].id
            summary.pages += 1
            self._push_tasks(batch, summary)

    # --- a page of events ---------------------------------------------------------------

    def _record(
        self,
        events: Sequence[TouchEvent],
        summary: RunSummary,
        *,
        cursors: list[CursorMove],
        people: Mapping[str, int] | None = None,
        retrying: bool = False,
    ) -> None:
        """Resolve, classify and store one page of events with its cursors, in one transaction."""
        summary.pages += 1
        taxonomy = self._settings.taxonomy
        resolved = dict(people or {})
        by_contact = self._state.links_by_external_id(
            HUBSPOT, {e.contact_id for e in events if e.contact_id and e.id not in resolved}
        )
        emails = {e.id: canonical_email(e.email) for e in events if e.email}
        by_email = self._state.people_by_email(email for email in emails.values() if email)
        page = TouchPage(cursors=cursors)
        campaigns = self._campaigns(e.campaign_id for e in events if e.campaign_id)
        for event in events:
            classified = classify(event, taxonomy)
            if classified is None:
                summary.add(f"{HUBSPOT}.ignored")
                if retrying:
                    page.cleared.append((HUBSPOT, _waiting_key(event)))
                continue
            person = resolved.get(event.id)
            if person is None and event.contact_id and event.contact_id in by_contact:
                person = by_contact[event.contact_id].person_id
            email = emails.get(event.id)
            if person is None and email:
                person = by_email.get(email)
            if person is None:
                summary.add(f"{HUBSPOT}.waiting")
                page.quarantined.append(self._waiting(event))
                continue
            kind, channel = classified
            info = campaigns.get(event.campaign_id) if event.campaign_id else None
            page.touches.append(
                NewTouch(
                    person_id=person,
                    source_system=event.source_system,
                    source_event_id=event.id,
                    occurred_at=event.occurred_at,
                    kind=kind,
                    channel=channel,
                    detail=touch_detail(event, info.name if info else None),
                    campaign=event.campaign_id if info else None,
                )
            )
            if info is not None:
                page.campaigns.append(
                    NewCampaign(HUBSPOT, info.id, info.name, channel=taxonomy.email_channel, type="email")
                )
            if retrying:
                page.cleared.append((HUBSPOT, _waiting_key(event)))
        if self._settings.dry_run:
            summary.planned["store touches (new or replayed)"] = summary.planned.get(
                "store touches (new or replayed)", 0
            ) + len(page.touches)
            return
        inserted = self._touches.record_events(summary.run_id or 0, page, self._clock())
        summary.add(f"{HUBSPOT}.touches", inserted)
        summary.add("quarantined", len(page.quarantined))

    def _waiting(self, event: TouchEvent) -> Quarantine:
        who = f"contact {event.contact_id}" if event.contact_id else f"recipient {event.email}"
        return Quarantine(
            system=HUBSPOT,
            object=f"{event.feed}_event",
            record_key=_waiting_key(event),
            category=IssueCategory.OTHER,
            message=(
                f"HubSpot {event.feed} event {event.id} waits for its person: no person is linked to {who} "
                "yet — the contacts flow links them; syncd stores the touch on the next run after that"
            ),
            payload=event_payload(event),
        )

    def _campaigns(self, ids: Iterable[str]) -> dict[str, EmailCampaignInfo]:
        """Email campaigns by id: names from the store, else one lookup each (cached per flow)."""
        wanted = sorted(set(ids))
        missing = [i for i in wanted if i not in self._email_names]
        if missing:
            self._email_names.update(self._touches.campaign_names(HUBSPOT, missing))
        for campaign_id in wanted:
            if campaign_id not in self._email_names:
                info = self._hubspot.email_campaign(campaign_id)
                self._email_names[campaign_id] = info.name if info else f"HubSpot email {campaign_id}"
        return {i: EmailCampaignInfo(i, self._email_names[i]) for i in wanted}

    # --- Tasks --------------------------------------------------------------------------

    def _push_tasks(self, batch: Sequence[StoredTouch], summary: RunSummary) -> None:
        settings = self._settings.tasks
        links = self._state.links_by_person(SALESFORCE, {t.person_id for t in batch})
        who = {person: _preferred(group, settings.who_objects) for person, group in links.items()}
        # One write per Task: its touches ride along to be linked once Salesforce saved it.
        writes: list[Write] = []
        carried: list[list[StoredTouch]] = []
        digested = settings.digested
        days: dict[tuple[int, date], None] = {}
        for touch in batch:
            who_id = who.get(touch.person_id)
            if not who_id:
                continue
            if touch.kind in digested:
                days.setdefault((touch.person_id, touch.occurred_at.date()), None)
                continue
            fields = task_fields(touch, who_id, settings)
            writes.append(Write("upsert", task_key(touch), fields, id_property=settings.key_field))
            carried.append([touch])
        for person, day in days:
            # The whole day of the digested kinds: the digest is rewritten as the day fills up.
            touches = self._touches.day_touches(person, day, digested)
            fields = digest_fields(person, day, touches, who[person] or "", settings)
            writes.append(Write("upsert", digest_key(person, day), fields, id_property=settings.key_field))
            carried.append(touches)
        if not writes:
            return
        if self._settings.dry_run:
            summary.planned["salesforce Task upsert"] = summary.planned.get(
                "salesforce Task upsert", 0
            ) + len(writes)
            return
        results = self._salesforce.push("Task", writes)
        self._record_tasks(writes, carried, results, summary)

    def _record_tasks(
        self,
        writes: Sequence[Write],
        carried: Sequence[Sequence[StoredTouch]],
        results: Sequence[WriteResult],
        summary: RunSummary,
    ) -> None:
        links: list[TaskLink] = []
        quarantined: list[Quarantine] = []
        cleared: list[tuple[str, str]] = []
        for write, touches, result in zip(writes, carried, results, strict=True):
            if result.ok and result.id:
                summary.add(f"{SALESFORCE}.{'created' if result.created else 'updated'}")
                links.extend(TaskLink(t.id, write.ref, result.id) for t in touches)
                cleared.append((SALESFORCE, write.ref))
                continue
            error = result.error
            quarantined.append(
                Quarantine(
                    system=SALESFORCE,
                    object="Task",
                    record_key=write.ref,
                    category=error.category if error else IssueCategory.OTHER,
                    message=(f"{error}" if error else f"Salesforce did not save Task {write.ref}")
                    + f" (touches {', '.join(str(t.id) for t in touches)}; syncd tries again next run)",
                    remote_code=error.remote_code if error else None,
                    remote_message=error.remote_message if error else None,
                )
            )
        summary.add(f"{SALESFORCE}.quarantined", len(quarantined))
        summary.add("quarantined", len(quarantined))
        self._touches.record_tasks(summary.run_id or 0, links, quarantined, cleared, self._clock())


def _preferred(links: Sequence[Link], objects: Sequence[str]) -> str | None:
    """The id a person's Task goes on: the first of `objects` they have an active record of."""
    for obj in objects:
        for link in links:
            if link.object == obj:
                return link.external_id
    return None
