"""Store-backed loaders: read the closed-loop store into the report layer's input dataclasses.

SQL does the heavy filtering (time range, stage, person sets) on the store's indexes; the loaders
convert rows and nothing else, every number is computed by the pure report functions. Each
`load_*_inputs` returns exactly the rows its report needs to give the same result as over the
whole store, e.g. the touches of the people a period's conversions depend on, never all touches.

Store ids become strings (`person_id="42"`); a touch's campaign is the campaign's name; an
unknown channel is `""`. Deleted deals (tombstones) are left out. Large results are converted in
chunks by `syncd.reports.store_rows` (instants read raw, repeated strings shared).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Select, and_, func, literal, select, text, union_all

from syncd.reports.stages import DEFAULT_STAGES, stage_key
from syncd.reports.store_rows import Ids, convert, instant_reader, intern
from syncd.reports.types import (
    Activity,
    ConversionType,
    Cost,
    Deal,
    DealContact,
    LifecycleEvent,
    Period,
    Person,
    Touch,
)
from syncd.store import models as m

# An id selection: a SELECT of one integer column (people.id or deals.id), used as `IN (subquery)`.
IdSelect = Select[int]
# (person_id, cutoff) rows: read each person's touches at or before their own instant.
CutoffSelect = Select[int, datetime | None]


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """Rows read from the store for one report; fields a report does not need stay empty."""

    people: tuple[Person, ...] = ()
    touches: tuple[Touch, ...] = ()
    lifecycle: tuple[LifecycleEvent, ...] = ()
    activities: tuple[Activity, ...] = ()
    deals: tuple[Deal, ...] = ()
    deal_contacts: tuple[DealContact, ...] = ()
    costs: tuple[Cost, ...] = ()


def period_bounds(period: Period) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of a period of inclusive calendar dates."""
    start = datetime.combine(period.start, time(0), tzinfo=UTC)
    end = datetime.combine(period.end + timedelta(days=1), time(0), tzinfo=UTC)
    return start, end


# --- id selections --------------------------------------------------------------------------


def _live_deals() -> Select[int]:
    return select(m.Deal.id).where(m.Deal.deleted_at.is_(None))


def won_deal_ids(period: Period) -> IdSelect:
    """Deals won with a close instant in the period (index deals.closed_at)."""
    start, end = period_bounds(period)
    return _live_deals().where(m.Deal.is_won.is_(True), m.Deal.closed_at >= start, m.Deal.closed_at < end)


def created_deal_ids(period: Period) -> IdSelect:
    """Deals created in the period (index deals.created_at)."""
    start, end = period_bounds(period)
    return _live_deals().where(m.Deal.created_at >= start, m.Deal.created_at < end)


def contacts_of(deal_ids: IdSelect) -> IdSelect:
    return select(m.DealContact.person_id).where(m.DealContact.deal_id.in_(deal_ids))


def stage_spellings(connection: Connection, stages: Iterable[str]) -> list[str]:
    """The stage values stored in lifecycle_events that mean one of `stages` (trimmed, any case).

    A loose index scan over (stage, entered_at): one index probe per distinct stage, not a table scan.
    """
    wanted = {stage_key(s) for s in stages}
    rows = connection.execute(
        text(
            "WITH RECURSIVE s(stage) AS ("
            " SELECT MIN(stage) FROM lifecycle_events"
            " UNION ALL"
            " SELECT (SELECT MIN(e.stage) FROM lifecycle_events e WHERE e.stage > s.stage)"
            " FROM s WHERE s.stage IS NOT NULL"
            ") SELECT stage FROM s WHERE stage IS NOT NULL"
        )
    )
    return sorted(str(r[0]) for r in rows if stage_key(str(r[0])) in wanted)


def stage_people_ids(spellings: Sequence[str], period: Period) -> IdSelect:
    """People with an event of one of the stages in the period (index (stage, entered_at))."""
    start, end = period_bounds(period)
    return select(m.LifecycleEvent.person_id).where(
        m.LifecycleEvent.stage.in_(spellings),
        m.LifecycleEvent.entered_at >= start,
        m.LifecycleEvent.entered_at < end,
    )


# --- row loaders ----------------------------------------------------------------------------


def load_people(connection: Connection, people: IdSelect) -> list[Person]:
    reader, ids = instant_reader(connection), Ids()
    stmt = select(m.Person.id, m.Person.email, reader.column(m.Person.created_at)).where(
        m.Person.id.in_(people)
    )
    read = reader.read
    return convert(connection, stmt, lambda rows: [Person(ids[i], email, read(at)) for i, email, at in rows])


def load_touches(
    connection: Connection,
    *,
    people: IdSelect | None = None,
    before: datetime | None = None,
    during: Period | None = None,
    excluding: IdSelect | None = None,
    until: CutoffSelect | None = None,
    exclude_kinds: Iterable[str] = (),
) -> list[Touch]:
    """Touches of `people` (all people when None, but those `excluding` selects) before an instant
    and/or dated in a period.

    `until` selects (person_id, cutoff) rows: then only those people's touches at or before their
    own cutoff are read. Touches whose kind is one of `exclude_kinds`, spelled exactly, are left
    out (`TouchIndex` also drops other spellings of them).
    """
    reader, ids = instant_reader(connection), Ids()
    stmt = select(
        m.Touch.id,
        m.Touch.person_id,
        reader.column(m.Touch.occurred_at),
        m.Touch.channel,
        m.Campaign.name,
        m.Touch.kind,
        m.Touch.source_system,
    )
    if until is not None:
        cutoffs = until.subquery()
        stmt = stmt.select_from(cutoffs).join(
            m.Touch,
            and_(m.Touch.person_id == cutoffs.c.person_id, m.Touch.occurred_at <= cutoffs.c.cutoff),
        )
    stmt = stmt.outerjoin(m.Campaign, m.Campaign.id == m.Touch.campaign_id)
    if people is not None:
        stmt = stmt.where(m.Touch.person_id.in_(people))
    if excluding is not None:
        stmt = stmt.where(m.Touch.person_id.not_in(excluding))
    if before is not None:
        stmt = stmt.where(m.Touch.occurred_at < before)
    if during is not None:
        start, end = period_bounds(during)
        stmt = stmt.where(m.Touch.occurred_at >= start, m.Touch.occurred_at < end)
    kinds = sorted({spelling for kind in exclude_kinds for spelling in (kind, kind.casefold())})
    if kinds:
        stmt = stmt.where(m.Touch.kind.not_in(kinds))
    # One person's touches side by side: grouping and sorting them in TouchIndex then touches
    # memory in order (a hash join's order scattered them and made it 3-4x slower).
    stmt = stmt.order_by(m.Touch.person_id, m.Touch.occurred_at)
    read = reader.read

    def build(rows: Sequence[Any]) -> list[Touch]:
        return [
            Touch(
                str(t),
                ids[p],
                read(at),
                intern(channel) if channel else "",
                campaign and intern(campaign),
                intern(kind),
                intern(system),
            )
            for t, p, at, channel, campaign, kind, system in rows
        ]

    return convert(connection, stmt, build)


def load_lifecycle(
    connection: Connection,
    spellings: Sequence[str],
    *,
    people: IdSelect,
    until: datetime | None = None,
) -> list[LifecycleEvent]:
    """Every event of the stages for `people` (at or before `until`), so first entries stay exact."""
    reader, ids = instant_reader(connection), Ids()
    stmt = select(
        m.LifecycleEvent.person_id, m.LifecycleEvent.stage, reader.column(m.LifecycleEvent.entered_at)
    ).where(m.LifecycleEvent.person_id.in_(people), m.LifecycleEvent.stage.in_(spellings))
    if until is not None:
        stmt = stmt.where(m.LifecycleEvent.entered_at <= until)
    read = reader.read
    return convert(
        connection,
        stmt,
        lambda rows: [LifecycleEvent(ids[p], intern(stage), read(at)) for p, stage, at in rows],
    )


def load_activities(connection: Connection, *, people: IdSelect, since: datetime) -> list[Activity]:
    """Activities of `people` at or after `since` (index (person_id, occurred_at))."""
    reader, ids = instant_reader(connection), Ids()
    stmt = select(
        m.Activity.id,
        m.Activity.person_id,
        reader.column(m.Activity.occurred_at),
        m.Activity.kind,
        m.Activity.initiated_by,
        m.Activity.owner_email,
    ).where(m.Activity.person_id.in_(people), m.Activity.occurred_at >= since)
    read = reader.read

    def build(rows: Sequence[Any]) -> list[Activity]:
        return [
            Activity(str(a), ids[p], read(at), intern(kind), intern(initiated_by), intern(owner or ""))
            for a, p, at, kind, initiated_by, owner in rows
        ]

    return convert(connection, stmt, build)


def load_deals(connection: Connection, deals: IdSelect) -> list[Deal]:
    reader = instant_reader(connection)
    stmt = (
        select(
            m.Deal.id,
            reader.column(m.Deal.created_at),
            reader.column(m.Deal.closed_at),
            m.Deal.amount,
            m.Deal.is_won,
            m.Campaign.name,
        )
        .outerjoin(m.Campaign, m.Campaign.id == m.Deal.primary_campaign_id)
        .where(m.Deal.id.in_(deals))
    )
    read, optional = reader.read, reader.optional
    return convert(
        connection,
        stmt,
        lambda rows: [
            Deal(str(did), read(created), optional(closed), amount, bool(won), campaign)
            for did, created, closed, amount, won, campaign in rows
        ],
    )


def load_deal_contacts(connection: Connection, deals: IdSelect) -> list[DealContact]:
    stmt = select(m.DealContact.deal_id, m.DealContact.person_id, m.DealContact.is_primary).where(
        m.DealContact.deal_id.in_(deals)
    )
    ids = Ids()
    return convert(
        connection,
        stmt,
        lambda rows: [DealContact(str(did), ids[p], bool(primary)) for did, p, primary in rows],
    )


def load_costs(connection: Connection, period: Period) -> list[Cost]:
    """Cost rows overlapping the period; a campaign cost without a channel takes its campaign's."""
    stmt = (
        select(m.Cost.channel, m.Campaign.channel, m.Campaign.name, m.Cost.period_start, m.Cost.period_end)
        .add_columns(m.Cost.amount)
        .outerjoin(m.Campaign, m.Campaign.id == m.Cost.campaign_id)
        .where(m.Cost.period_start <= period.end, m.Cost.period_end >= period.start)
    )
    return [
        Cost(channel or campaign_channel or "", campaign, start, end, amount)
        for channel, campaign_channel, campaign, start, end, amount in connection.execute(stmt).all()
    ]


def _union(*selections: IdSelect) -> IdSelect:
    first, *rest = selections
    if not rest:
        return first
    union = first.union(*rest).subquery()
    return select(union.c[0])


# --- inputs per report ----------------------------------------------------------------------


def _conversion_deals(conversion: ConversionType, period: Period) -> IdSelect | None:
    """The deals the period's conversions are (None for contact creation)."""
    if conversion is ConversionType.CONTACT_CREATE:
        return None
    return won_deal_ids(period) if conversion is ConversionType.REVENUE else created_deal_ids(period)


def created_instants(period: Period) -> CutoffSelect:
    """(person_id, created_at) of the people created in the period."""
    start, end = period_bounds(period)
    return select(m.Person.id, m.Person.created_at).where(
        m.Person.created_at >= start, m.Person.created_at < end
    )


def stage_instants(spellings: Sequence[str], period: Period) -> CutoffSelect:
    """(person_id, entered_at) of the events of the stages in the period."""
    start, end = period_bounds(period)
    return select(m.LifecycleEvent.person_id, m.LifecycleEvent.entered_at).where(
        m.LifecycleEvent.stage.in_(spellings),
        m.LifecycleEvent.entered_at >= start,
        m.LifecycleEvent.entered_at < end,
    )


def conversion_instants(conversion: ConversionType, period: Period) -> CutoffSelect:
    """(person_id, instant) of every conversion of the period, for each person it involves."""
    if conversion is ConversionType.CONTACT_CREATE:
        return created_instants(period)
    if conversion is ConversionType.REVENUE:
        deal_ids, instant = won_deal_ids(period), m.Deal.closed_at
    else:
        deal_ids, instant = created_deal_ids(period), m.Deal.created_at
    return (
        select(m.DealContact.person_id, instant)
        .join(m.Deal, m.Deal.id == m.DealContact.deal_id)
        .where(m.DealContact.deal_id.in_(deal_ids))
    )


def cutoffs(instants: Sequence[CutoffSelect], *, whole_period: Period | None = None) -> CutoffSelect:
    """(person_id, cutoff): each person `instants` selects, with the latest of their instants.

    A path never holds a touch after its conversion, and a source is a touch at or before the
    instant it sourced: touches after a person's cutoff cannot change a report. With
    `whole_period`, every cutoff is that period's last instant instead (data-driven models: a
    person not converting gives a journey of all their touches in the period).
    """
    rows = union_all(*instants).subquery() if len(instants) > 1 else instants[0].subquery()
    person_id, instant = rows.c[0], rows.c[1]
    if whole_period is not None:
        _, end = period_bounds(whole_period)
        last = literal(end - timedelta(microseconds=1), m.Touch.occurred_at.type)
        return select(person_id.label("person_id"), last.label("cutoff")).group_by(person_id)
    return select(person_id.label("person_id"), func.max(instant).label("cutoff")).group_by(person_id)


def _conversion_inputs(
    connection: Connection,
    conversions: Sequence[ConversionType],
    period: Period,
    data_driven: bool,
    also: Sequence[CutoffSelect] = (),
    exclude_kinds: Iterable[str] = (),
) -> ReportInputs:
    """The deals and people the period's conversions involve (plus the people `also` selects),
    with each person's touches up to their cutoff (see `cutoffs`)."""
    instants = [*(conversion_instants(c, period) for c in conversions), *also]
    # A person of a second conversion type or of `also` is a non-converting journey of the first.
    until = cutoffs(instants, whole_period=period if data_driven and len(instants) > 1 else None)
    people = select(until.subquery().c.person_id)
    touches = load_touches(connection, until=until, exclude_kinds=exclude_kinds)
    if data_driven:
        # Non-converting journeys: everyone else's touches dated in the period.
        touches += load_touches(connection, during=period, excluding=people, exclude_kinds=exclude_kinds)
    deal_sets = [deals for c in conversions if (deals := _conversion_deals(c, period)) is not None]
    deals = _union(*deal_sets) if deal_sets else None
    return ReportInputs(
        people=tuple(load_people(connection, people)),
        touches=tuple(touches),
        deals=tuple(load_deals(connection, deals)) if deals is not None else (),
        deal_contacts=tuple(load_deal_contacts(connection, deals)) if deals is not None else (),
    )


def load_attribution_inputs(
    engine: Engine,
    conversion: ConversionType,
    period: Period,
    *,
    data_driven: bool = False,
    exclude_kinds: Iterable[str] = (),
) -> ReportInputs:
    """Inputs of `attribute` (or `markov`/`shapley` with `data_driven`) for the period's conversions.

    Pass the `exclude_kinds` the report's `TouchIndex` leaves out, so those touches are not read.
    """
    with engine.connect() as connection:
        return _conversion_inputs(connection, (conversion,), period, data_driven, exclude_kinds=exclude_kinds)


def load_roi_inputs(
    engine: Engine,
    period: Period,
    *,
    data_driven: bool = False,
    mql_stage: str = "mql",
    customer_stage: str = "customer",
    also_for: Sequence[ConversionType] = (),
    exclude_kinds: Iterable[str] = (),
) -> ReportInputs:
    """Inputs of `roi`: won revenue of the period, the period's leads, MQLs and customers with
    their touches up to the instant they became one (for their source), and the cost rows
    overlapping the period.

    With `also_for`, the rows of those conversion types' attribution are included too, so one load
    serves several reports (extra deals and people do not change any result; the pipeline of the
    period needs `deal_create`). `exclude_kinds`: as for `load_attribution_inputs`.
    """
    _, end = period_bounds(period)
    conversions = [ConversionType.REVENUE, *(c for c in also_for if c is not ConversionType.REVENUE)]
    with engine.connect() as connection:
        spellings = stage_spellings(connection, (mql_stage, customer_stage))
        staged = stage_people_ids(spellings, period)
        loaded = _conversion_inputs(
            connection,
            list(dict.fromkeys(conversions)),
            period,
            data_driven,
            also=(created_instants(period), stage_instants(spellings, period)),
            exclude_kinds=exclude_kinds,
        )
        return ReportInputs(
            people=loaded.people,
            touches=loaded.touches,
            lifecycle=tuple(load_lifecycle(connection, spellings, people=staged, until=end)),
            deals=loaded.deals,
            deal_contacts=loaded.deal_contacts,
            costs=tuple(load_costs(connection, period)),
        )


def load_mql_value_inputs(
    engine: Engine,
    period: Period,
    *,
    mql_stage: str = "mql",
    won_until: datetime | None = None,
    exclude_kinds: Iterable[str] = (),
) -> ReportInputs:
    """Inputs of `mql_value`: the period's MQL events, the MQLs' touches up to their MQL events
    of the period (but `exclude_kinds`), and the won deals (closed at or before `won_until`) that
    have one of them as a contact."""
    _, end = period_bounds(period)
    with engine.connect() as connection:
        spellings = stage_spellings(connection, (mql_stage,))
        cohort = stage_people_ids(spellings, period)
        won = _live_deals().where(
            m.Deal.is_won.is_(True),
            m.Deal.closed_at.is_not(None),
            m.Deal.id.in_(select(m.DealContact.deal_id).where(m.DealContact.person_id.in_(cohort))),
        )
        if won_until is not None:
            won = won.where(m.Deal.closed_at <= won_until)
        return ReportInputs(
            touches=tuple(
                load_touches(
                    connection,
                    until=cutoffs([stage_instants(spellings, period)]),
                    exclude_kinds=exclude_kinds,
                )
            ),
            lifecycle=tuple(load_lifecycle(connection, spellings, people=cohort, until=end)),
            deals=tuple(load_deals(connection, won)),
            deal_contacts=tuple(load_deal_contacts(connection, won)),
        )


def load_pipeline_inputs(
    engine: Engine, period: Period, *, until_close: bool = False, exclude_kinds: Iterable[str] = ()
) -> ReportInputs:
    """Inputs of `pipeline`: the deals created in the period, their contacts, and the contacts'
    touches up to each deal's creation (with `until_close`, for influence up to the close: all of
    them). `exclude_kinds`: as for `load_attribution_inputs`."""
    deals = created_deal_ids(period)
    with engine.connect() as connection:
        if until_close:
            touches = load_touches(connection, people=contacts_of(deals), exclude_kinds=exclude_kinds)
        else:
            until = cutoffs([conversion_instants(ConversionType.DEAL_CREATE, period)])
            touches = load_touches(connection, until=until, exclude_kinds=exclude_kinds)
        return ReportInputs(
            touches=tuple(touches),
            deals=tuple(load_deals(connection, deals)),
            deal_contacts=tuple(load_deal_contacts(connection, deals)),
        )


def load_funnel_inputs(
    engine: Engine,
    period: Period,
    *,
    stages: Sequence[str] = DEFAULT_STAGES,
    as_of: datetime | None = None,
) -> ReportInputs:
    """Inputs of `funnel` and `sales_velocity`: every funnel-stage event (up to `as_of`) of the
    people with one in the period, and the deals created in the period."""
    with engine.connect() as connection:
        spellings = stage_spellings(connection, stages)
        people = stage_people_ids(spellings, period)
        return ReportInputs(
            lifecycle=tuple(load_lifecycle(connection, spellings, people=people, until=as_of)),
            deals=tuple(load_deals(connection, created_deal_ids(period))),
        )


def load_stage_inputs(
    engine: Engine, period: Period, *, stage: str = "mql", as_of: datetime | None = None
) -> ReportInputs:
    """Inputs of `actual_to_date` (pacing): every event of the stage for people with one in the period."""
    with engine.connect() as connection:
        spellings = stage_spellings(connection, (stage,))
        people = stage_people_ids(spellings, period)
        return ReportInputs(
            lifecycle=tuple(load_lifecycle(connection, spellings, people=people, until=as_of))
        )


def load_sla_inputs(engine: Engine, period: Period, *, mql_stage: str = "mql") -> ReportInputs:
    """Inputs of `sla`: the period's MQL events, the MQLs (for their emails) and their activities
    from the period start on (a sales touch counts only at or after the MQL instant)."""
    start, end = period_bounds(period)
    with engine.connect() as connection:
        spellings = stage_spellings(connection, (mql_stage,))
        cohort = stage_people_ids(spellings, period)
        return ReportInputs(
            people=tuple(load_people(connection, cohort)),
            lifecycle=tuple(load_lifecycle(connection, spellings, people=cohort, until=end)),
            activities=tuple(load_activities(connection, people=cohort, since=start)),
        )


# --- store version --------------------------------------------------------------------------

_VERSION_TABLES = (
    m.Run,
    m.Person,
    m.Deal,
    m.Touch,
    m.Activity,
    m.LifecycleEvent,
    m.SyncLog,
    m.Issue,
    m.DealStageChange,
    m.Cost,
    m.Campaign,
)


def store_version(engine: Engine) -> tuple[int, ...]:
    """The newest id of every table reports read: it changes whenever something new is recorded.

    Each is a MAX over a primary key (one index probe). An update in place (a deal closing) moves
    it through the sync_log row its run writes, and every run adds a runs row when it starts.
    """
    columns = [select(func.max(model.id)).scalar_subquery() for model in _VERSION_TABLES]
    with engine.connect() as connection:
        row = connection.execute(select(*columns)).one()
    return tuple(int(v or 0) for v in row)


__all__ = [
    "CutoffSelect",
    "ReportInputs",
    "conversion_instants",
    "created_instants",
    "cutoffs",
    "load_activities",
    "load_attribution_inputs",
    "load_costs",
    "load_deal_contacts",
    "load_deals",
    "load_funnel_inputs",
    "load_lifecycle",
    "load_mql_value_inputs",
    "load_people",
    "load_pipeline_inputs",
    "load_roi_inputs",
    "load_sla_inputs",
    "load_stage_inputs",
    "load_touches",
    "period_bounds",
    "stage_instants",
    "stage_spellings",
    "store_version",
]
