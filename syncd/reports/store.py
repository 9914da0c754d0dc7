"""Store-backed loaders: read the closed-loop store into the report layer's input dataclasses.

SQL does the heavy filtering (time range, stage, person sets) on the store's indexes; the loaders
convert rows and nothing else, every number is computed by the pure report functions. Each
`load_*_inputs` returns exactly the rows its report needs to give the same result as over the
whole store, e.g. the touches of the people a period's conversions depend on, never all touches.

Store ids become strings (`person_id="42"`); a touch's campaign is the campaign's name; an
unknown channel is `""`. Deleted deals (tombstones) are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Connection, Engine, Select, func, select, text

from syncd.reports.stages import DEFAULT_STAGES, stage_key
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


def created_people_ids(period: Period) -> IdSelect:
    start, end = period_bounds(period)
    return select(m.Person.id).where(m.Person.created_at >= start, m.Person.created_at < end)


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
    rows = connection.execute(
        select(m.Person.id, m.Person.email, m.Person.created_at).where(m.Person.id.in_(people))
    ).all()
    return [Person(str(pid), email, created) for pid, email, created in rows]


# Rows are fetched with .all(): one fetchall instead of a fetchone per row (twice as fast on SQLite).


def _touch_select() -> Select[int, int, datetime, str | None, str, str, str]:
    return select(
        m.Touch.id,
        m.Touch.person_id,
        m.Touch.occurred_at,
        m.Touch.channel,
        m.Campaign.name,
        m.Touch.kind,
        m.Touch.source_system,
    ).outerjoin(m.Campaign, m.Campaign.id == m.Touch.campaign_id)


def load_touches(
    connection: Connection,
    *,
    people: IdSelect | None = None,
    before: datetime | None = None,
    during: Period | None = None,
    excluding: IdSelect | None = None,
) -> list[Touch]:
    """Touches of `people` (all people when None, but those `excluding` selects) before an instant
    and/or dated in a period."""
    stmt = _touch_select()
    if people is not None:
        stmt = stmt.where(m.Touch.person_id.in_(people))
    if excluding is not None:
        stmt = stmt.where(m.Touch.person_id.not_in(excluding))
    if before is not None:
        stmt = stmt.where(m.Touch.occurred_at < before)
    if during is not None:
        start, end = period_bounds(during)
        stmt = stmt.where(m.Touch.occurred_at >= start, m.Touch.occurred_at < end)
    return [
        Touch(str(tid), str(pid), at, channel or "", campaign, kind, system)
        for tid, pid, at, channel, campaign, kind, system in connection.execute(stmt).all()
    ]


def load_lifecycle(
    connection: Connection,
    spellings: Sequence[str],
    *,
    people: IdSelect,
    until: datetime | None = None,
) -> list[LifecycleEvent]:
    """Every event of the stages for `people` (at or before `until`), so first entries stay exact."""
    stmt = select(m.LifecycleEvent.person_id, m.LifecycleEvent.stage, m.LifecycleEvent.entered_at).where(
        m.LifecycleEvent.person_id.in_(people), m.LifecycleEvent.stage.in_(spellings)
    )
    if until is not None:
        stmt = stmt.where(m.LifecycleEvent.entered_at <= until)
    return [LifecycleEvent(str(pid), stage, at) for pid, stage, at in connection.execute(stmt).all()]


def load_activities(connection: Connection, *, people: IdSelect, since: datetime) -> list[Activity]:
    """Activities of `people` at or after `since` (index (person_id, occurred_at))."""
    stmt = select(
        m.Activity.id,
        m.Activity.person_id,
        m.Activity.occurred_at,
        m.Activity.kind,
        m.Activity.initiated_by,
        m.Activity.owner_email,
    ).where(m.Activity.person_id.in_(people), m.Activity.occurred_at >= since)
    return [
        Activity(str(aid), str(pid), at, kind, initiated_by, owner or "")
        for aid, pid, at, kind, initiated_by, owner in connection.execute(stmt).all()
    ]


def load_deals(connection: Connection, deals: IdSelect) -> list[Deal]:
    stmt = (
        select(
            m.Deal.id,
            m.Deal.created_at,
            m.Deal.closed_at,
            m.Deal.amount,
            m.Deal.is_won,
            m.Campaign.name,
        )
        .outerjoin(m.Campaign, m.Campaign.id == m.Deal.primary_campaign_id)
        .where(m.Deal.id.in_(deals))
    )
    return [
        Deal(str(did), created, closed, amount, bool(won), campaign)
        for did, created, closed, amount, won, campaign in connection.execute(stmt).all()
    ]


def load_deal_contacts(connection: Connection, deals: IdSelect) -> list[DealContact]:
    stmt = select(m.DealContact.deal_id, m.DealContact.person_id, m.DealContact.is_primary).where(
        m.DealContact.deal_id.in_(deals)
    )
    return [
        DealContact(str(did), str(pid), bool(primary)) for did, pid, primary in connection.execute(stmt).all()
    ]


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


def _conversions(conversion: ConversionType, period: Period) -> tuple[IdSelect, IdSelect | None]:
    """The people and the deals (None for contact creation) the period's conversions involve."""
    if conversion is ConversionType.CONTACT_CREATE:
        return created_people_ids(period), None
    deal_ids = won_deal_ids(period) if conversion is ConversionType.REVENUE else created_deal_ids(period)
    return contacts_of(deal_ids), deal_ids


def _conversion_inputs(
    connection: Connection,
    conversions: Sequence[ConversionType],
    period: Period,
    data_driven: bool,
    also: Sequence[IdSelect] = (),
) -> ReportInputs:
    """The deals and people the period's conversions involve (plus the people `also` selects),
    with those people's touches up to the period end."""
    _, end = period_bounds(period)
    people_sets, deal_sets = list(also), []
    for conversion in conversions:
        people_ids, deal_ids = _conversions(conversion, period)
        people_sets.append(people_ids)
        if deal_ids is not None:
            deal_sets.append(deal_ids)
    people = _union(*people_sets)
    touches = load_touches(connection, people=people, before=end)
    if data_driven:
        # Non-converting journeys: everyone else's touches dated in the period.
        touches += load_touches(connection, during=period, excluding=people)
    deals = _union(*deal_sets) if deal_sets else None
    return ReportInputs(
        people=tuple(load_people(connection, people)),
        touches=tuple(touches),
        deals=tuple(load_deals(connection, deals)) if deals is not None else (),
        deal_contacts=tuple(load_deal_contacts(connection, deals)) if deals is not None else (),
    )


def load_attribution_inputs(
    engine: Engine, conversion: ConversionType, period: Period, *, data_driven: bool = False
) -> ReportInputs:
    """Inputs of `attribute` (or `markov`/`shapley` with `data_driven`) for the period's conversions."""
    with engine.connect() as connection:
        return _conversion_inputs(connection, (conversion,), period, data_driven)


def load_roi_inputs(
    engine: Engine,
    period: Period,
    *,
    data_driven: bool = False,
    mql_stage: str = "mql",
    customer_stage: str = "customer",
    also_for: ConversionType | None = None,
) -> ReportInputs:
    """Inputs of `roi`: won revenue of the period, the period's leads, MQLs and customers with
    their touches (for their source), and the cost rows overlapping the period.

    With `also_for`, the rows of that conversion type's attribution are included too, so one load
    serves both reports (extra deals and people do not change either result).
    """
    _, end = period_bounds(period)
    conversions = [ConversionType.REVENUE]
    if also_for is not None and also_for is not ConversionType.REVENUE:
        conversions.append(also_for)
    with engine.connect() as connection:
        spellings = stage_spellings(connection, (mql_stage, customer_stage))
        staged = stage_people_ids(spellings, period)
        loaded = _conversion_inputs(
            connection, conversions, period, data_driven, also=(created_people_ids(period), staged)
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
    engine: Engine, period: Period, *, mql_stage: str = "mql", won_until: datetime | None = None
) -> ReportInputs:
    """Inputs of `mql_value`: the period's MQL events, the MQLs' touches up to the period end, and
    the won deals (closed at or before `won_until`) that have one of them as a contact."""
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
            touches=tuple(load_touches(connection, people=cohort, before=end)),
            lifecycle=tuple(load_lifecycle(connection, spellings, people=cohort, until=end)),
            deals=tuple(load_deals(connection, won)),
            deal_contacts=tuple(load_deal_contacts(connection, won)),
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
    "ReportInputs",
    "load_activities",
    "load_attribution_inputs",
    "load_costs",
    "load_deal_contacts",
    "load_deals",
    "load_funnel_inputs",
    "load_lifecycle",
    "load_mql_value_inputs",
    "load_people",
    "load_roi_inputs",
    "load_sla_inputs",
    "load_stage_inputs",
    "load_touches",
    "period_bounds",
    "stage_spellings",
    "store_version",
]
