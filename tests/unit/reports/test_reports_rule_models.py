"""Rule-based attribution: shares per model, key points and every edge rule, worked out by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from report_builders import at, deal, link, money, person, touch

from syncd.reports import (
    ConversionType,
    GroupBy,
    ModelNotApplicableError,
    Period,
    ReportError,
    RuleModel,
    TouchIndex,
    attribute,
    build_conversions,
    credit_conversion,
)
from syncd.reports.paths import Conversion

REVENUE = ConversionType.REVENUE
DEAL = ConversionType.DEAL_CREATE
CONTACT = ConversionType.CONTACT_CREATE

# One won deal of 1000.00, one contact created at day 2.5, deal created day 3.5, closed day 5.5.
# Touches t1..t6 at days 0..5, so: FT = t1, LC = t3 (last ≤ 2.5), OC = t4 (last ≤ 3.5), CW = t6;
# t2 and t5 hold no position under w_shaped; t2, t5 (and t3/t4 when unused) are "others".
SIX_TOUCHES = [
    touch("t1", "p1", at(0), "ads", "spring"),
    touch("t2", "p1", at(1), "email", None),
    touch("t3", "p1", at(2), "social", "spring"),
    touch("t4", "p1", at(3), "organic", None),
    touch("t5", "p1", at(4), "events", "expo"),
    touch("t6", "p1", at(5), "email", "nurture"),
]
PEOPLE = [person("p1", at(2, 12))]
DEALS = [deal("d1", at(3, 12), closed=at(5, 12), amount="1000.00", won=True)]
LINKS = [link("d1", "p1", primary=True)]


def only_conversion(conversion_type: ConversionType, **kw: object) -> Conversion:
    data: dict[str, object] = {
        "people": PEOPLE,
        "touches": SIX_TOUCHES,
        "deals": DEALS,
        "deal_contacts": LINKS,
    }
    data.update(kw)
    conversions = build_conversions(conversion_type, **data)  # type: ignore[arg-type]
    assert len(conversions) == 1
    return conversions[0]


def shares(conversion: Conversion, model: RuleModel, **kw: object) -> dict[str, Decimal]:
    return {c.touch_id: c.amount for c in credit_conversion(conversion, model, **kw)}  # type: ignore[arg-type]


def test_revenue_path_has_ft_lc_oc_cw_as_defined() -> None:
    kp = only_conversion(REVENUE).key_points
    assert (kp.ft, kp.lc, kp.oc, kp.cw) == (0, 2, 3, 5)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        # 100% FT.
        (
            RuleModel.FIRST,
            {"t1": "1000.00", "t2": "0.00", "t3": "0.00", "t4": "0.00", "t5": "0.00", "t6": "0.00"},
        ),
        # 100% to the last touch before the close (CW).
        (
            RuleModel.LAST,
            {"t1": "0.00", "t2": "0.00", "t3": "0.00", "t4": "0.00", "t5": "0.00", "t6": "1000.00"},
        ),
        # 1000/6 = 166.666… → 166.67 × 6 = 1000.02; the −0.02 goes to the largest share (all tie → t1).
        (
            RuleModel.LINEAR,
            {"t1": "166.65", "t2": "166.67", "t3": "166.67", "t4": "166.67", "t5": "166.67", "t6": "166.67"},
        ),
        # 40% FT (t1), 40% LC (t3), 20% over t2, t4, t5, t6 = 5% each.
        (
            RuleModel.U_SHAPED,
            {"t1": "400.00", "t2": "50.00", "t3": "400.00", "t4": "50.00", "t5": "50.00", "t6": "50.00"},
        ),
        # 30% FT t1, LC t3, OC t4; 10% over t2, t5, t6 = 33.333… → 33.33 ×3; total 999.99, +0.01 to t1.
        (
            RuleModel.W_SHAPED,
            {"t1": "300.01", "t2": "33.33", "t3": "300.00", "t4": "300.00", "t5": "33.33", "t6": "33.33"},
        ),
        # 22.5% FT t1, LC t3, OC t4, CW t6; 10% over t2, t5.
        (
            RuleModel.FULL_PATH,
            {"t1": "225.00", "t2": "50.00", "t3": "225.00", "t4": "225.00", "t5": "50.00", "t6": "225.00"},
        ),
        # 20% first t1, 60% last t6, 20% over t2..t5 = 5% each.
        (
            RuleModel.J_SHAPED,
            {"t1": "200.00", "t2": "50.00", "t3": "50.00", "t4": "50.00", "t5": "50.00", "t6": "600.00"},
        ),
        # 60% first t1, 20% last t6, 20% over t2..t5.
        (
            RuleModel.INVERSE_J,
            {"t1": "600.00", "t2": "50.00", "t3": "50.00", "t4": "50.00", "t5": "50.00", "t6": "200.00"},
        ),
    ],
)
def test_each_rule_model_splits_revenue_as_its_table_says(model: RuleModel, expected: dict[str, str]) -> None:
    got = shares(only_conversion(REVENUE), model)
    assert got == {k: money(v) for k, v in expected.items()}
    assert sum(got.values()) == money("1000.00")


def test_time_decay_halves_the_weight_per_half_life() -> None:
    # Conversion at day 3; touches aged 2, 1 and 0 days with a 1-day half-life: weights 1/4, 1/2, 1
    # → shares 1/7, 2/7, 4/7 of 700.00 = 100, 200, 400.
    touches = [
        touch("a", "p", at(1), "ads"),
        touch("b", "p", at(2), "email"),
        touch("c", "p", at(3), "social"),
    ]
    conv = build_conversions(CONTACT, people=[person("p", at(3))], touches=touches)[0]
    conv = Conversion(
        conv.conversion_id, REVENUE, conv.instant, money("700.00"), conv.path, conv.key_points, ()
    )
    assert shares(conv, RuleModel.TIME_DECAY, half_life_days=1) == {
        "a": money("100.00"),
        "b": money("200.00"),
        "c": money("400.00"),
    }


def test_time_decay_default_half_life_is_seven_days() -> None:
    # Ages 7 and 0 days → weights 1/2 and 1 → 1/3 and 2/3 of 3 contacts' worth = 0.333333 + 0.666667.
    touches = [touch("a", "p", at(0), "ads"), touch("b", "p", at(7), "email")]
    conv = build_conversions(CONTACT, people=[person("p", at(7))], touches=touches)[0]
    assert shares(conv, RuleModel.TIME_DECAY) == {"a": money("0.333333"), "b": money("0.666667")}


def test_one_touch_in_several_positions_gets_the_sum_of_their_shares() -> None:
    # a (day 0) is FT and LC (contact created day 1); b (day 2) is OC (deal created 2.5); c (day 3) is CW.
    touches = [
        touch("a", "p", at(0), "ads"),
        touch("b", "p", at(2), "email"),
        touch("c", "p", at(3), "social"),
    ]
    data = {
        "people": [person("p", at(1))],
        "touches": touches,
        "deals": [deal("d", at(2, 12), closed=at(3, 12), amount="100.00", won=True)],
        "deal_contacts": [link("d", "p")],
    }
    conv = build_conversions(REVENUE, **data)[0]  # type: ignore[arg-type]
    # w_shaped: a = FT 30 + LC 30 = 60; b = OC 30; c holds no w position → the 10% middle.
    assert shares(conv, RuleModel.W_SHAPED) == {"a": money("60.00"), "b": money("30.00"), "c": money("10.00")}
    # full_path: a = 45, b = 22.5, c = 22.5 and no other touch: the 10% goes in proportion
    # 45:22.5:22.5 → 50%, 25%, 25%.
    assert shares(conv, RuleModel.FULL_PATH) == {
        "a": money("50.00"),
        "b": money("25.00"),
        "c": money("25.00"),
    }


@pytest.mark.parametrize(
    ("model", "first", "last"),
    [
        (RuleModel.U_SHAPED, "0.50", "0.50"),  # 40:40
        (RuleModel.J_SHAPED, "0.25", "0.75"),  # 20:60
        (RuleModel.INVERSE_J, "0.75", "0.25"),  # 60:20
    ],
)
def test_two_touches_take_the_middle_share_in_proportion(model: RuleModel, first: str, last: str) -> None:
    touches = [touch("a", "p", at(0), "ads"), touch("b", "p", at(1), "email")]
    conv = build_conversions(CONTACT, people=[person("p", at(1))], touches=touches)[0]
    assert shares(conv, model) == {"a": money(first), "b": money(last)}


def test_three_distinct_touches_under_w_shaped_get_a_third_each() -> None:
    # a FT (day 0), b LC (contact created day 1.5), c OC (deal created day 2.5): no other touch.
    touches = [
        touch("a", "p", at(0), "ads"),
        touch("b", "p", at(1), "email"),
        touch("c", "p", at(2), "social"),
    ]
    data = {
        "people": [person("p", at(1, 12))],
        "touches": touches,
        "deals": [deal("d", at(2, 12), closed=at(4), amount="100.00", won=True)],
        "deal_contacts": [link("d", "p")],
    }
    deal_conv = build_conversions(DEAL, **data)[0]  # type: ignore[arg-type]
    # 1 deal = 1,000,000 millionths → 333,333 each + the remaining millionth to the first.
    assert shares(deal_conv, RuleModel.W_SHAPED) == {
        "a": money("0.333334"),
        "b": money("0.333333"),
        "c": money("0.333333"),
    }
    revenue_conv = build_conversions(REVENUE, **data)[0]  # type: ignore[arg-type]
    assert shares(revenue_conv, RuleModel.W_SHAPED) == {
        "a": money("33.34"),
        "b": money("33.33"),
        "c": money("33.33"),
    }


@pytest.mark.parametrize("model", list(RuleModel))
def test_a_single_touch_gets_everything_under_every_model(model: RuleModel) -> None:
    data = {
        "people": [person("p", at(1))],
        "touches": [touch("a", "p", at(0), "ads")],
        "deals": [deal("d", at(2), closed=at(3), amount="250.00", won=True)],
        "deal_contacts": [link("d", "p")],
    }
    conv = build_conversions(REVENUE, **data)[0]  # type: ignore[arg-type]
    assert shares(conv, model) == {"a": money("250.00")}


@pytest.mark.parametrize(
    ("model", "conversion_type", "missing"),
    [
        (RuleModel.W_SHAPED, CONTACT, "deal creation (OC)"),
        (RuleModel.FULL_PATH, CONTACT, "deal creation (OC)"),
        (RuleModel.FULL_PATH, DEAL, "closed-won (CW)"),
    ],
)
def test_model_needing_a_point_the_conversion_lacks_is_rejected(
    model: RuleModel, conversion_type: ConversionType, missing: str
) -> None:
    with pytest.raises(ModelNotApplicableError) as err:
        attribute(
            conversion_type, model, people=PEOPLE, touches=SIX_TOUCHES, deals=DEALS, deal_contacts=LINKS
        )
    message = str(err.value)
    assert model.value in message and conversion_type.value in message and missing in message


def test_w_shaped_on_a_single_contact_touch_is_still_rejected() -> None:
    conv = build_conversions(CONTACT, people=[person("p", at(1))], touches=[touch("a", "p", at(0), "ads")])[0]
    with pytest.raises(ModelNotApplicableError):
        credit_conversion(conv, RuleModel.W_SHAPED)


def test_touches_after_the_conversion_never_count() -> None:
    # Contact created at day 2.5: t4..t6 happen later and are not on the path.
    conv = only_conversion(CONTACT)
    assert [t.touch_id for t in conv.path] == ["t1", "t2", "t3"]
    # Deal created at day 3.5: the path stops at t4, which is the last touch (OC).
    assert [t.touch_id for t in only_conversion(DEAL).path] == ["t1", "t2", "t3", "t4"]


def test_lookback_days_drops_touches_older_than_the_window() -> None:
    # Close at day 5.5, 3-day window starts at day 2.5: t4, t5, t6 remain; t4 becomes FT and OC,
    # and no touch is left at or before the contact creation (LC is empty).
    conv = only_conversion(REVENUE, lookback_days=3)
    assert [t.touch_id for t in conv.path] == ["t4", "t5", "t6"]
    assert (conv.key_points.ft, conv.key_points.lc, conv.key_points.oc, conv.key_points.cw) == (0, None, 0, 2)


def test_a_key_point_without_a_touch_gives_its_share_to_the_filled_slots_in_proportion() -> None:
    # Path t4, t5, t6 (lookback 3 days), no LC: u_shaped slots FT t4 = 40, LC empty;
    # others t5, t6 share the 20% → weights 40:10:10 → 666.67, 166.67, 166.67 = 1000.01; −0.01 to t4.
    conv = only_conversion(REVENUE, lookback_days=3)
    assert shares(conv, RuleModel.U_SHAPED) == {
        "t4": money("666.66"),
        "t5": money("166.67"),
        "t6": money("166.67"),
    }


def test_equal_timestamps_are_ordered_by_source_system_then_touch_id() -> None:
    touches = [
        touch("z", "p", at(0), "ads", source="salesforce"),
        touch("y", "p", at(0), "email", source="hubspot"),
        touch("x", "p", at(0), "social", source="salesforce"),
    ]
    conv = build_conversions(CONTACT, people=[person("p", at(1))], touches=touches)[0]
    assert [t.touch_id for t in conv.path] == ["y", "x", "z"]
    assert shares(conv, RuleModel.FIRST)["y"] == money("1")


def test_deal_paths_pool_every_contact_and_lc_uses_the_oldest_contact() -> None:
    # Anna (created day 1) and Ben (created day 3) on one deal created day 4.
    # Pooled path: a1 (day 0), b1 (day 0.5), a2 (day 2), b2 (day 3.5). LC = last ≤ day 1 = b1.
    touches = [
        touch("a1", "anna", at(0), "ads"),
        touch("a2", "anna", at(2), "email"),
        touch("b1", "ben", at(0, 12), "social"),
        touch("b2", "ben", at(3, 12), "events"),
    ]
    conv = build_conversions(
        DEAL,
        people=[person("anna", at(1)), person("ben", at(3))],
        touches=touches,
        deals=[deal("d", at(4))],
        deal_contacts=[link("d", "anna"), link("d", "ben")],
    )[0]
    assert [t.touch_id for t in conv.path] == ["a1", "b1", "a2", "b2"]
    assert conv.key_points.lc == 1
    # u_shaped: a1 40%, b1 40%, a2 and b2 10% each of one deal.
    assert shares(conv, RuleModel.U_SHAPED) == {
        "a1": money("0.4"),
        "b1": money("0.4"),
        "a2": money("0.1"),
        "b2": money("0.1"),
    }


def test_rounding_remainder_goes_to_the_largest_share() -> None:
    # j_shaped over 5 touches of 1.00: first 0.20, last 0.60, three others 0.0666… → 0.07 each;
    # sum 1.01, so the largest share (the last touch, 60%) gives back a cent: 0.59.
    touches = [touch(f"t{i}", "p", at(i), "ads") for i in range(5)]
    conv = build_conversions(CONTACT, people=[person("p", at(5))], touches=touches)[0]
    conv = Conversion(
        conv.conversion_id, REVENUE, conv.instant, money("1.00"), conv.path, conv.key_points, ()
    )
    assert shares(conv, RuleModel.J_SHAPED) == {
        "t0": money("0.20"),
        "t1": money("0.07"),
        "t2": money("0.07"),
        "t3": money("0.07"),
        "t4": money("0.59"),
    }


def test_attribute_groups_by_channel_campaign_and_touch() -> None:
    kw = {"people": PEOPLE, "touches": SIX_TOUCHES, "deals": DEALS, "deal_contacts": LINKS}
    by_channel = attribute(REVENUE, RuleModel.U_SHAPED, **kw)  # type: ignore[arg-type]
    # t1 ads 400, t3 social 400, t2 + t6 email 50 + 50, t4 organic 50, t5 events 50.
    assert by_channel.credits == {
        "ads": money("400.00"),
        "email": money("100.00"),
        "events": money("50.00"),
        "organic": money("50.00"),
        "social": money("400.00"),
    }
    by_campaign = attribute(REVENUE, RuleModel.U_SHAPED, group_by=GroupBy.CAMPAIGN, **kw)  # type: ignore[arg-type]
    # spring = t1 + t3 = 800; expo t5 50; nurture t6 50; no campaign (t2, t4) 100.
    assert by_campaign.credits == {
        "expo": money("50.00"),
        "nurture": money("50.00"),
        "spring": money("800.00"),
        None: money("100.00"),
    }
    by_touch = attribute(REVENUE, RuleModel.U_SHAPED, group_by=GroupBy.TOUCH, **kw)  # type: ignore[arg-type]
    assert by_touch.credits["t3"] == money("400.00") and len(by_touch.credits) == 6


def test_conversions_without_touches_are_listed_as_unattributed() -> None:
    people = [person("p1", at(2, 12)), person("lonely", at(1))]
    report = attribute(CONTACT, RuleModel.LINEAR, people=people, touches=SIX_TOUCHES)
    assert report.conversions == 2
    assert report.unattributed == ("lonely",)
    assert report.total_value == money("2") and report.unattributed_value == money("1")
    # p1's path t1..t3: a third each of one contact.
    assert sum(report.credits.values()) == report.attributed_value == money("1")


def test_period_selects_conversions_by_their_instant() -> None:
    kw = {"people": PEOPLE, "touches": SIX_TOUCHES, "deals": DEALS, "deal_contacts": LINKS}
    closed_day = at(5, 12).date()
    inside = attribute(REVENUE, RuleModel.FIRST, period=Period(closed_day, closed_day), **kw)  # type: ignore[arg-type]
    outside = attribute(REVENUE, RuleModel.FIRST, period=Period(at(0).date(), at(4).date()), **kw)  # type: ignore[arg-type]
    # Every channel on the path is listed; under first-touch only ads earns.
    assert inside.credits["ads"] == money("1000.00") and sum(inside.credits.values()) == money("1000.00")
    assert outside.conversions == 0 and outside.credits == {}


def test_lost_and_open_deals_are_not_revenue_conversions() -> None:
    deals = [
        deal("won", at(3), closed=at(4), amount="10.00", won=True),
        deal("lost", at(3), closed=at(4), amount="99.00", won=False),
        deal("open", at(3), amount="99.00"),
    ]
    links = [link(d.deal_id, "p1") for d in deals]
    conversions = build_conversions(
        REVENUE, people=PEOPLE, touches=SIX_TOUCHES, deals=deals, deal_contacts=links
    )
    assert [c.conversion_id for c in conversions] == ["won"]


def test_email_opens_are_not_touches_unless_configured() -> None:
    touches = [
        touch("open", "p", at(0), "email", kind="email_open"),
        touch("click", "p", at(1), "ads", kind="ad_click"),
    ]
    people = [person("p", at(2))]
    default = attribute(CONTACT, RuleModel.FIRST, people=people, touches=touches)
    assert default.credits == {"ads": money("1")}
    counted = attribute(
        CONTACT, RuleModel.FIRST, people=people, touches=TouchIndex(touches, exclude_kinds=frozenset())
    )
    assert counted.credits == {"email": money("1"), "ads": money("0")}


def test_bad_parameters_are_report_errors_with_hints() -> None:
    with pytest.raises(ReportError) as err:
        attribute(CONTACT, RuleModel.LINEAR, people=PEOPLE, touches=SIX_TOUCHES, lookback_days=-1)
    assert err.value.hint
    with pytest.raises(ReportError):
        attribute(CONTACT, RuleModel.TIME_DECAY, people=PEOPLE, touches=SIX_TOUCHES, half_life_days=0)
    with pytest.raises(ReportError):
        Period(at(3).date(), at(1).date())
    with pytest.raises(ReportError) as naive:
        Period(at(0).date(), at(1).date()).contains(at(0).replace(tzinfo=None))
    assert "timezone" in str(naive.value)
