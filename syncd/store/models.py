"""The store's tables: identity, sync state, and the closed loop (touches to revenue).

Every instant is a UTC `UTCDateTime`; every amount is exact `Money`. Indexes follow the
reports' access paths (closed-loop.md): time-range scans per person, per deal, per stage,
per owner. Event tables are append-only and keyed by the source system's event id so a
replayed page never writes an event twice.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from syncd.store.types import Money, UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit keys.
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        Decimal: Money(),
        dict[str, Any]: JSON(),
    }


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model, for the set-based statements the flows' stores run."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


# --- identity -------------------------------------------------------------------------------


class Person(Base):
    """One human, keyed by normalized email. `created_at` is the contact-creation conversion instant."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]  # tombstone: deleted in every system we know of


class Identity(Base):
    """A record in one system that stands for a person. Inactive rows keep the history of merges,
    conversions and deletes (`reason`, `replaced_by`)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("system", "object", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    system: Mapped[str] = mapped_column(String(20))  # hubspot | salesforce
    object: Mapped[str] = mapped_column(String(40))  # contact | Lead | Contact
    external_id: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    linked_at: Mapped[datetime]
    deactivated_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(20))  # merged | converted | deleted
    replaced_by: Mapped[str | None] = mapped_column(String(64))  # the surviving external id


# --- sync state -----------------------------------------------------------------------------


class FieldState(Base):
    """The last-synced value of one mapped field of one entity: the base of the three-way merge."""

    __tablename__ = "field_state"

    flow: Mapped[str] = mapped_column(String(40), primary_key=True)
    entity_key: Mapped[str] = mapped_column(String(80), primary_key=True)  # e.g. "person:42", "deal:7"
    field: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)  # canonical JSON of the value
    synced_at: Mapped[datetime]


class Cursor(Base):
    """Where a flow's pull of one object resumes; moved in the transaction that records the page."""

    __tablename__ = "cursors"

    flow: Mapped[str] = mapped_column(String(40), primary_key=True)
    system: Mapped[str] = mapped_column(String(20), primary_key=True)
    object: Mapped[str] = mapped_column(String(40), primary_key=True)
    position_at: Mapped[datetime]
    position_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class Run(Base):
    """One execution of one flow (scheduled, once, backfill, resync)."""

    __tablename__ = "runs"
    __table_args__ = (Index(None, "flow", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    flow: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(20))  # schedule | once | backfill | resync | demo
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))  # running | succeeded | failed | parked
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # per system: created/updated/...
    api_calls: Mapped[dict[str, Any]] = mapped_column(default=dict)  # per system
    # Per system at the run's end: {"used", "allocated", "limit"} of the daily API allowance.
    api_usage: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    error: Mapped[str | None] = mapped_column(Text)


class SyncLog(Base):
    """What a run wrote, per record: ids and field names, never values."""

    __tablename__ = "sync_log"
    __table_args__ = (Index(None, "person_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    system: Mapped[str] = mapped_column(String(20))
    object: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    action: Mapped[str] = mapped_column(String(20))  # create | update | delete | link | unlink
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"names": [...]}
    at: Mapped[datetime]


class Issue(Base):
    """A quarantined record (dead letter): why, the remote's own words, and enough to retry it."""

    __tablename__ = "issues"
    __table_args__ = (
        Index(None, "status", "category"),
        Index(None, "flow", "system", "record_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    flow: Mapped[str] = mapped_column(String(40))
    system: Mapped[str] = mapped_column(String(20))
    object: Mapped[str] = mapped_column(String(40))
    record_key: Mapped[str] = mapped_column(String(320))  # external id or email
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    category: Mapped[str] = mapped_column(String(30))  # syncd.errors.IssueCategory
    message: Mapped[str] = mapped_column(Text)
    remote_code: Mapped[str | None] = mapped_column(String(80))
    remote_message: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the rejected write, for retry
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | resolved | ignored
    retry_count: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))


# --- closed loop ----------------------------------------------------------------------------


class Campaign(Base):
    """A marketing campaign from either system, with its hierarchy and costs."""

    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("system", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    system: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str | None] = mapped_column(String(80))
    channel: Mapped[str | None] = mapped_column(String(80), index=True)
    status: Mapped[str | None] = mapped_column(String(40))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    budgeted_cost: Mapped[Decimal | None]
    actual_cost: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    updated_at: Mapped[datetime]


class CampaignMember(Base):
    __tablename__ = "campaign_members"
    __table_args__ = (UniqueConstraint("campaign_id", "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    # The Salesforce CampaignMember id, by which a re-read member is found (a merge may move it).
    external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str | None] = mapped_column(String(40))
    has_responded: Mapped[bool] = mapped_column(Boolean, default=False)
    first_responded_at: Mapped[datetime | None]
    added_at: Mapped[datetime]


class Touch(Base):
    """One marketing interaction of one person at one instant (page view, form, email click, ...)."""

    __tablename__ = "touches"
    __table_args__ = (
        UniqueConstraint("source_system", "source_event_id"),
        Index(None, "person_id", "occurred_at"),
        Index(None, "occurred_at"),
        Index(None, "channel", "occurred_at"),
        Index(None, "campaign_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    source_system: Mapped[str] = mapped_column(String(20))
    source_event_id: Mapped[str] = mapped_column(String(128))
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))  # page_view | form_submission | email_click | ...
    channel: Mapped[str | None] = mapped_column(String(80))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)  # url, form, email name, utm_*
    recorded_at: Mapped[datetime]


class TouchTask(Base):
    """The Salesforce Task that carries a touch, written once the Task is saved: a replay skips it.

    `task_key` is the Task's external id (one touch, or one person's day in digest mode), so a Task
    saved just before a crash is found again by upsert instead of created twice.
    """

    __tablename__ = "touch_tasks"

    touch_id: Mapped[int] = mapped_column(ForeignKey("touches.id"), primary_key=True)
    task_key: Mapped[str] = mapped_column(String(40), index=True)
    salesforce_id: Mapped[str] = mapped_column(String(18))
    recorded_at: Mapped[datetime]


class Alert(Base):
    """One alert occurrence in the outbox: what a rule saw about a person, and each channel's delivery.

    `occurrence_key` makes an occurrence fire once: re-evaluating a rule inserts nothing new.
    A channel's state is None when the rule does not use it, else pending | sent | failed.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        Index(None, "task_state"),
        Index(None, "webhook_state"),
        Index(None, "person_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule: Mapped[str] = mapped_column(String(40))
    occurrence_key: Mapped[str] = mapped_column(String(200), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    what: Mapped[str] = mapped_column(Text)  # one line: who did what
    link: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)  # facts and every link, for the messages
    occurred_at: Mapped[datetime]  # when it happened (a missed SLA: when the deadline passed)
    created_at: Mapped[datetime]
    task_state: Mapped[str | None] = mapped_column(String(20))
    task_id: Mapped[str | None] = mapped_column(String(18))
    task_attempts: Mapped[int] = mapped_column(Integer, default=0)
    webhook_state: Mapped[str | None] = mapped_column(String(20))
    webhook_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class Activity(Base):
    """One sales activity (call, 1:1 email, meeting, note) by a rep or by automation."""

    __tablename__ = "activities"
    __table_args__ = (
        UniqueConstraint("source_system", "source_event_id"),
        Index(None, "person_id", "occurred_at"),
        Index(None, "owner_email", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    source_system: Mapped[str] = mapped_column(String(20))
    source_event_id: Mapped[str] = mapped_column(String(128))
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20))  # call | email | meeting | note | task
    initiated_by: Mapped[str] = mapped_column(String(20))  # rep | automation | syncd
    direction: Mapped[str | None] = mapped_column(String(20))  # inbound | outbound
    owner_email: Mapped[str | None] = mapped_column(String(320))
    outcome: Mapped[str | None] = mapped_column(String(80))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    subject: Mapped[str | None] = mapped_column(String(255))
    # What a HubSpot engagement needs besides the columns: description, the source object, times.
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    recorded_at: Mapped[datetime]


class ActivityEngagement(Base):
    """The HubSpot engagement that carries a sales activity, written once HubSpot saved it and linked
    it to the contact: a rerun skips the activity. The engagement itself is an upsert keyed by its
    source-id property, so one saved just before a crash is updated, not created twice, on the replay.
    """

    __tablename__ = "activity_engagements"

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), primary_key=True)
    hubspot_object: Mapped[str] = mapped_column(String(20))  # calls | emails | meetings | notes
    hubspot_id: Mapped[str] = mapped_column(String(64), index=True)
    contact_id: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime]


class LifecycleEvent(Base):
    """A person entering a funnel stage at an instant (subscriber, lead, mql, sql, opportunity, customer),
    as one source system states it: two systems may state the same instant."""

    __tablename__ = "lifecycle_events"
    __table_args__ = (
        UniqueConstraint("person_id", "stage", "source_system", "entered_at"),
        Index(None, "stage", "entered_at"),
        Index(None, "person_id", "entered_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    stage: Mapped[str] = mapped_column(String(40))
    entered_at: Mapped[datetime]
    source_system: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime]


class Deal(Base):
    """A deal/opportunity, linked to its record in each system."""

    __tablename__ = "deals"
    __table_args__ = (
        CheckConstraint("hubspot_id IS NOT NULL OR salesforce_id IS NOT NULL", name="linked"),
        Index(None, "created_at"),
        Index(None, "closed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hubspot_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    salesforce_id: Mapped[str | None] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    stage: Mapped[str] = mapped_column(String(80))
    amount: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime]
    close_date: Mapped[date | None] = mapped_column(Date)  # expected close (Salesforce CloseDate)
    closed_at: Mapped[datetime | None]  # the instant it was won or lost
    is_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    is_won: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_email: Mapped[str | None] = mapped_column(String(320))
    primary_campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class DealContact(Base):
    __tablename__ = "deal_contacts"

    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, index=True)
    role: Mapped[str | None] = mapped_column(String(80))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where the pair exists as last synced: the OpportunityContactRole's id in Salesforce (None: no
    # role there yet), and whether HubSpot associates the contact with the deal.
    salesforce_id: Mapped[str | None] = mapped_column(String(18))
    in_hubspot: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class DealStageChange(Base):
    """A deal entering a stage at an instant."""

    __tablename__ = "deal_stage_history"
    __table_args__ = (
        UniqueConstraint("deal_id", "stage", "entered_at"),
        Index(None, "deal_id", "entered_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"))
    stage: Mapped[str] = mapped_column(String(80))
    entered_at: Mapped[datetime]
    source_system: Mapped[str] = mapped_column(String(20))


class Cost(Base):
    """Money spent on a channel or a campaign over a period (Campaign ActualCost or a cost file)."""

    __tablename__ = "costs"
    __table_args__ = (
        CheckConstraint("channel IS NOT NULL OR campaign_id IS NOT NULL", name="target"),
        CheckConstraint("period_end >= period_start", name="period"),
        UniqueConstraint("source", "source_key"),
        Index(None, "period_start", "period_end"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str | None] = mapped_column(String(80))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal]
    currency: Mapped[str | None] = mapped_column(String(3))
    source: Mapped[str] = mapped_column(String(40))  # salesforce_campaign | cost_file
    source_key: Mapped[str] = mapped_column(String(255))  # idempotent re-import
