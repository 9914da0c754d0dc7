"""The store loaders read exactly what each report needs: reports over the loaded rows equal the same
reports over the whole store, and the hand-made March gives the known answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import product
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from syncd.reports import (
    ConversionType,
    GroupBy,
    Period,
    RuleModel,
    actual_to_date,
    attribute,
    funnel,
    markov,
    mql_value,
    roi,
    sales_velocity,
    shapley,
    sla,
)
from syncd.reports.paths import DEFAULT_EXCLUDED_KINDS
from syncd.reports.pipeline import InfluencedUntil, pipeline
from syncd.reports.store import (
    ReportInputs,
    load_activities,
    load_attribution_inputs,
    load_costs,
    load_deal_contacts,
    load_deals,
    load_funnel_inputs,
    load_lifecycle,
    load_mql_value_inputs,
    load_people,
    load_pipeline_inputs,
    load_roi_inputs,
    load_sla_inputs,
    load_stage_inputs,
    load_touches,
    stage_spellings,
    store_version,
)
from syncd.store import models as m
from tests.reports_store.seed import MARCH, STAGES, at, seed_generated, seed_small

MARCH_P = Period(*MARCH)
PERIODS = [
    Period(date(2026, 1, 1), date(2026, 1, 31)),
    Period(date(2026, 2, 10), date(2026, 3, 20)),
    Period(date(2026, 1, 1), date(2026, 4, 30)),
]


def everything(engine: Engine) -> ReportInputs:
    """The whole store, unfiltered: what a report would read without the loaders' SQL filters."""
    with engine.connect() as c:
        people = select(m.Person.id)
        deals = select(m.Deal.id).where(m.Deal.deleted_at.is_(None))
        spellings = stage_spellings(c, (*STAGES, "MQL"))
        return ReportInputs(
            people=tuple(load_people(c, people)),
            touches=tuple(load_touches(c)),
            lifecycle=tuple(load_lifecycle(c, spellings, people=people)),
            activities=tuple(load_activities(c, people=people, since=datetime(1970, 1, 1, tzinfo=UTC))),
            deals=tuple(load_deals(c, deals)),
            deal_contacts=tuple(load_deal_contacts(c, deals)),
            costs=tuple(load_costs(c, Period(date(2000, 1, 1), date(2100, 1, 1)))),
        )


# --- the hand-made March ----------------------------------------------------------------------


def test_revenue_inputs_hold_the_won_deals_of_the_period_and_their_contacts_touches(engine: Engine) -> None:
    small = seed_small(engine)
    inputs = load_attribution_inputs(engine, ConversionType.REVENUE, MARCH_P)
    assert {d.deal_id for d in inputs.deals} == {str(small.deals["D1"]), str(small.deals["D5"])}
    names = {str(v): k for k, v in small.people.items()}
    assert {names[t.person_id] for t in inputs.touches} == {"ann", "bob", "dan"}
    assert all(t.occurred_at < datetime(2026, 4, 1, tzinfo=UTC) for t in inputs.touches)
    assert {t.campaign for t in inputs.touches} == {"Search ads Q1", "Spring webinar", None}
    assert {names[p.person_id] for p in inputs.people} == {"ann", "bob", "dan"}


def test_linear_revenue_credits_computed_from_the_store(engine: Engine) -> None:
    seed_small(engine)
    inputs = load_attribution_inputs(engine, ConversionType.REVENUE, MARCH_P)
    report = attribute(
        ConversionType.REVENUE,
        RuleModel.LINEAR,
        people=inputs.people,
        touches=inputs.touches,
        deals=inputs.deals,
        deal_contacts=inputs.deal_contacts,
        period=MARCH_P,
    )
    # D1 (10,000): ann and bob's five touches up to the close, 2,000 each; D5 (2,500): dan's ad click.
    assert report.credits == {
        "email": Decimal("2000.00"),
        "organic": Decimal("2000.00"),
        "paid_search": Decimal("6500.00"),
        "webinar": Decimal("2000.00"),
    }


def test_roi_costs_are_the_rows_overlapping_the_period_prorated(engine: Engine) -> None:
    seed_small(engine)
    inputs = load_roi_inputs(engine, MARCH_P)
    assert sorted((c.channel, c.campaign, c.amount) for c in inputs.costs) == [
        ("paid_search", None, Decimal("3100.0000")),
        ("webinar", "Spring webinar", Decimal("3000.0000")),
    ]
    report = roi(
        "first",
        people=inputs.people,
        touches=inputs.touches,
        deals=inputs.deals,
        deal_contacts=inputs.deal_contacts,
        lifecycle=inputs.lifecycle,
        costs=inputs.costs,
        period=MARCH_P,
    )
    rows = {r.key: r for r in report.rows}
    assert rows["paid_search"].attributed_revenue == Decimal("12500.00")
    assert rows["paid_search"].cost == Decimal("3100.00")
    assert rows["webinar"].cost == Decimal("1600.00")  # 16 of the row's 30 days are in March


def test_mql_cohort_has_first_time_mqls_only_whatever_the_stage_spelling(engine: Engine) -> None:
    small = seed_small(engine)
    inputs = load_mql_value_inputs(engine, MARCH_P)
    report = mql_value(
        lifecycle=inputs.lifecycle,
        touches=inputs.touches,
        deals=inputs.deals,
        deal_contacts=inputs.deal_contacts,
        period=MARCH_P,
    )
    # ann, bob, cat and eve ("MQL") became MQLs in March; dan was one in February already.
    assert sum(r.mqls for r in report.rows) == 4
    rows = {r.source: r for r in report.rows}
    assert rows["paid_search"].won_revenue == Decimal("10000.0000")  # D1, ann's source is her Feb ad click
    # eve's D2 counts too (won deals of cohort MQLs, any close date); dan's D5 does not.
    assert {r.source: r.won_revenue for r in report.rows if r.won_revenue} == {
        "paid_search": Decimal("10000"),
        "email": Decimal("5000"),
    }
    assert str(small.people["fay"]) not in {e.person_id for e in inputs.lifecycle}  # never an MQL


def test_sla_inputs_give_speed_to_lead_and_the_uncontacted(engine: Engine) -> None:
    small = seed_small(engine)
    inputs = load_sla_inputs(engine, MARCH_P)
    report = sla(lifecycle=inputs.lifecycle, activities=inputs.activities, period=MARCH_P, within_hours=24)
    speeds = {r.person_id: r.calendar_speed for r in report.mqls}
    assert speeds == {
        str(small.people["ann"]): timedelta(hours=2),  # the automated email at +1 h does not count
        str(small.people["bob"]): timedelta(hours=51),
        str(small.people["cat"]): None,
        str(small.people["eve"]): timedelta(minutes=30),
    }
    assert report.overall.uncontacted == (str(small.people["cat"]),)
    emails = {p.email for p in inputs.people}
    assert {"ann@example.com", "bob@example.com", "cat@example.com", "eve@example.com"} <= emails
    assert "fay@example.com" not in emails  # never an MQL


def test_store_version_moves_when_a_touch_is_recorded(engine: Engine) -> None:
    small = seed_small(engine)
    before = store_version(engine)
    with Session(engine) as s:
        s.add(
            m.Touch(
                person_id=small.people["fay"],
                source_system="hubspot",
                source_event_id="new",
                occurred_at=at(3, 20),
                kind="page_view",
                channel="organic",
                recorded_at=at(3, 20),
            )
        )
        s.commit()
    assert store_version(engine) != before
    assert store_version(engine) == store_version(engine)


def _add_touches(engine: Engine, person_id: int, *touches: tuple[datetime, str]) -> None:
    with Session(engine) as s:
        for i, (when, kind) in enumerate(touches):
            s.add(
                m.Touch(
                    person_id=person_id,
                    source_system="hubspot",
                    source_event_id=f"extra-{person_id}-{i}",
                    occurred_at=when,
                    kind=kind,
                    channel="social",
                    recorded_at=when,
                )
            )
        s.commit()


def test_a_touch_at_the_conversion_instant_is_read_and_one_a_microsecond_later_is_not(engine: Engine) -> None:
    small = seed_small(engine)
    fay, bob = (
        small.people["fay"],
        small.people["bob"],
    )  # fay created 12 March 10:00; D1 closed 18 March 10:00
    tick = timedelta(microseconds=1)
    _add_touches(engine, fay, (at(3, 12), "page_view"), (at(3, 12) + tick, "page_view"))
    _add_touches(engine, bob, (at(3, 18), "page_view"), (at(3, 18) + tick, "page_view"))
    created = load_attribution_inputs(engine, ConversionType.CONTACT_CREATE, MARCH_P)
    assert [t.occurred_at for t in created.touches if t.person_id == str(fay)] == [at(3, 12)]
    revenue = load_attribution_inputs(engine, ConversionType.REVENUE, MARCH_P)
    bob_touches = sorted(t.occurred_at for t in revenue.touches if t.person_id == str(bob))
    assert bob_touches == [at(3, 1), at(3, 4), at(3, 18)]  # none after D1's close, his only conversion
    # ROI under a data-driven model: bob's touches after the close are part of his journey as a
    # March lead (created on 3 March), so everything up to the period's end is read.
    roi_inputs = load_roi_inputs(engine, MARCH_P, data_driven=True)
    assert at(3, 18) + tick in {t.occurred_at for t in roi_inputs.touches if t.person_id == str(bob)}
    assert at(3, 18) + tick not in {t.occurred_at for t in load_roi_inputs(engine, MARCH_P).touches}


def test_instants_are_read_as_utc_datetimes_whatever_offset_they_were_written_with(engine: Engine) -> None:
    small = seed_small(engine)
    berlin = timezone(timedelta(hours=2))
    written = datetime(2026, 3, 12, 11, 59, 59, 999_999, tzinfo=berlin)  # 09:59:59.999999 UTC
    _add_touches(engine, small.people["fay"], (written, "form_submission"))
    inputs = load_attribution_inputs(engine, ConversionType.CONTACT_CREATE, MARCH_P)
    (touch,) = [t for t in inputs.touches if t.person_id == str(small.people["fay"])]
    assert touch.occurred_at == written and touch.occurred_at.tzinfo is UTC
    everything_read = [
        *(p.created_at for p in inputs.people),
        *(t.occurred_at for t in inputs.touches),
        *(d.created_at for d in load_attribution_inputs(engine, ConversionType.REVENUE, MARCH_P).deals),
        *(e.entered_at for e in load_sla_inputs(engine, MARCH_P).lifecycle),
        *(a.occurred_at for a in load_sla_inputs(engine, MARCH_P).activities),
    ]
    assert everything_read and all(instant.tzinfo is UTC for instant in everything_read)


def test_excluded_kinds_are_not_read_and_the_report_is_unchanged(engine: Engine) -> None:
    small = seed_small(engine)
    fay = small.people["fay"]
    _add_touches(
        engine, fay, (at(3, 10), "email_open"), (at(3, 11), "Email_Open"), (at(3, 11, 12, 30), "page_view")
    )
    kept = load_attribution_inputs(engine, ConversionType.CONTACT_CREATE, MARCH_P)
    dropped = load_attribution_inputs(
        engine, ConversionType.CONTACT_CREATE, MARCH_P, exclude_kinds=DEFAULT_EXCLUDED_KINDS
    )
    assert sorted(t.kind for t in kept.touches if t.person_id == str(fay)) == [
        "Email_Open",
        "email_open",
        "page_view",
    ]
    # Exact spellings are left out in SQL; TouchIndex drops the other spellings.
    assert sorted(t.kind for t in dropped.touches if t.person_id == str(fay)) == ["Email_Open", "page_view"]
    for model in (RuleModel.LINEAR, RuleModel.U_SHAPED):
        assert _attribute(kept, ConversionType.CONTACT_CREATE, model, GroupBy.CHANNEL, MARCH_P) == _attribute(
            dropped, ConversionType.CONTACT_CREATE, model, GroupBy.CHANNEL, MARCH_P
        )


# --- loaded rows give the same reports as the whole store ------------------------------------


@pytest.fixture
def generated(engine: Engine) -> tuple[Engine, ReportInputs]:
    seed_generated(engine, people=160, touches_per_person=6)
    return engine, everything(engine)


def _attribute(
    data: ReportInputs, conversion: ConversionType, model: RuleModel, by: GroupBy, period: Period
) -> object:
    return attribute(
        conversion,
        model,
        people=data.people,
        touches=data.touches,
        deals=data.deals,
        deal_contacts=data.deal_contacts,
        group_by=by,
        period=period,
    )


def _data_driven(data: ReportInputs, model: Any, conversion: ConversionType, period: Period) -> object:
    return model(
        conversion,
        people=data.people,
        touches=data.touches,
        deals=data.deals,
        deal_contacts=data.deal_contacts,
        period=period,
    )


def _roi(data: ReportInputs, model: str, period: Period) -> object:
    return roi(
        model,
        people=data.people,
        touches=data.touches,
        deals=data.deals,
        deal_contacts=data.deal_contacts,
        lifecycle=data.lifecycle,
        costs=data.costs,
        period=period,
    )


def test_rule_attribution_over_loaded_rows_equals_the_whole_store(
    generated: tuple[Engine, ReportInputs],
) -> None:
    engine, full = generated
    for period, conversion in product(PERIODS, ConversionType):
        inputs = load_attribution_inputs(engine, conversion, period)
        assert len(inputs.touches) < len(full.touches)
        for model, by in product(
            (RuleModel.LINEAR, RuleModel.U_SHAPED, RuleModel.TIME_DECAY), (GroupBy.CHANNEL, GroupBy.CAMPAIGN)
        ):
            assert _attribute(inputs, conversion, model, by, period) == _attribute(
                full, conversion, model, by, period
            )


def test_data_driven_attribution_over_loaded_rows_equals_the_whole_store(
    generated: tuple[Engine, ReportInputs],
) -> None:
    engine, full = generated
    for period, conversion in product(PERIODS, (ConversionType.REVENUE, ConversionType.CONTACT_CREATE)):
        inputs = load_attribution_inputs(engine, conversion, period, data_driven=True)
        for model in (markov, shapley):
            assert _data_driven(inputs, model, conversion, period) == _data_driven(
                full, model, conversion, period
            )


def test_roi_over_loaded_rows_equals_the_whole_store(generated: tuple[Engine, ReportInputs]) -> None:
    engine, full = generated
    for period, model in product(PERIODS, ("w_shaped", "markov")):
        inputs = load_roi_inputs(engine, period, data_driven=model == "markov")
        assert _roi(inputs, model, period) == _roi(full, model, period), (period, model)
        combined = load_roi_inputs(
            engine, period, data_driven=model == "markov", also_for=(ConversionType.DEAL_CREATE,)
        )
        assert _roi(combined, model, period) == _roi(full, model, period), (period, model)


def _pipeline(
    data: ReportInputs, period: Period, until: InfluencedUntil, by: GroupBy, as_of: datetime
) -> object:
    return pipeline(
        deals=data.deals,
        deal_contacts=data.deal_contacts,
        touches=data.touches,
        period=period,
        group_by=by,
        influenced_until=until,
        as_of=as_of,
    )


def test_pipeline_over_loaded_rows_equals_the_whole_store(generated: tuple[Engine, ReportInputs]) -> None:
    engine, full = generated
    as_of = datetime(2026, 4, 15, tzinfo=UTC)
    for period, until, by in product(PERIODS, InfluencedUntil, (GroupBy.CHANNEL, GroupBy.CAMPAIGN)):
        inputs = load_pipeline_inputs(engine, period, until_close=until is InfluencedUntil.CLOSED)
        assert inputs.deals and len(inputs.touches) < len(full.touches)
        assert _pipeline(inputs, period, until, by, as_of) == _pipeline(full, period, until, by, as_of)


def test_cohort_reports_over_loaded_rows_equal_the_whole_store(
    generated: tuple[Engine, ReportInputs],
) -> None:
    engine, full = generated
    as_of = datetime(2026, 4, 15, tzinfo=UTC)
    for period in PERIODS:
        v = load_mql_value_inputs(engine, period)
        assert mql_value(
            lifecycle=v.lifecycle,
            touches=v.touches,
            deals=v.deals,
            deal_contacts=v.deal_contacts,
            period=period,
        ) == mql_value(
            lifecycle=full.lifecycle,
            touches=full.touches,
            deals=full.deals,
            deal_contacts=full.deal_contacts,
            period=period,
        )
        f = load_funnel_inputs(engine, period, as_of=as_of)
        assert funnel(f.lifecycle, period=period, as_of=as_of) == funnel(
            full.lifecycle, period=period, as_of=as_of
        )
        assert sales_velocity(f.deals, period=period) == sales_velocity(full.deals, period=period)
        s = load_sla_inputs(engine, period)
        assert sla(lifecycle=s.lifecycle, activities=s.activities, period=period, within_hours=24) == sla(
            lifecycle=full.lifecycle, activities=full.activities, period=period, within_hours=24
        )
        p = load_stage_inputs(engine, period, as_of=as_of)
        assert actual_to_date(p.lifecycle, period=period, as_of=as_of) == actual_to_date(
            full.lifecycle, period=period, as_of=as_of
        )
        assert len(s.activities) < len(full.activities)
