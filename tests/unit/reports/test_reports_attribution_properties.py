"""Properties of attribution that must hold for any data: exact sums and order independence."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from report_builders import T0, deal, link, person, touch

from syncd.reports import (
    ConversionType,
    GroupBy,
    ModelNotApplicableError,
    RuleModel,
    attribute,
    build_conversions,
    credit_conversion,
    markov,
    shapley,
)
from syncd.reports.rule_models import check_model

CHANNELS = ["ads", "email", "social", "organic", "events"]


@st.composite
def datasets(draw: st.DrawFn) -> dict[str, list[object]]:
    n_people = draw(st.integers(1, 5))
    people = [person(f"p{i}", T0 + timedelta(hours=draw(st.integers(0, 200)))) for i in range(n_people)]
    touches = []
    for i in range(draw(st.integers(0, 25))):
        touches.append(
            touch(
                f"t{i}",
                f"p{draw(st.integers(0, n_people - 1))}",
                # Coarse hours so equal timestamps (tie-breaks) happen often.
                T0 + timedelta(hours=draw(st.integers(0, 300)) // 10 * 10),
                draw(st.sampled_from(CHANNELS)),
                draw(st.sampled_from([None, "c1", "c2"])),
                source=draw(st.sampled_from(["hubspot", "salesforce"])),
            )
        )
    deals, links = [], []
    for d in range(draw(st.integers(0, 4))):
        created = T0 + timedelta(hours=draw(st.integers(0, 250)))
        cents = draw(st.integers(0, 10_000_000))
        deals.append(
            deal(
                f"d{d}",
                created,
                closed=created + timedelta(hours=draw(st.integers(0, 100))),
                amount=str(Decimal(cents) / 100),
                won=draw(st.booleans()),
            )
        )
        for pid in draw(st.sets(st.integers(0, n_people - 1), min_size=1, max_size=3)):
            links.append(link(f"d{d}", f"p{pid}"))
    return {"people": people, "touches": touches, "deals": deals, "deal_contacts": links}


def applicable(model: RuleModel, conversion_type: ConversionType) -> bool:
    try:
        check_model(model, conversion_type)
    except ModelNotApplicableError:
        return False
    return True


@settings(max_examples=100, deadline=None)
@given(
    data=datasets(),
    conversion_type=st.sampled_from(list(ConversionType)),
    model=st.sampled_from(list(RuleModel)),
)
def test_credits_of_each_conversion_sum_exactly_to_its_value(
    data: dict[str, list[object]], conversion_type: ConversionType, model: RuleModel
) -> None:
    if not applicable(model, conversion_type):
        return
    for conversion in build_conversions(conversion_type, **data):  # type: ignore[arg-type]
        if not conversion.path:
            continue
        credits = credit_conversion(conversion, model)
        assert sum(c.amount for c in credits) == conversion.value
        assert all(c.amount >= 0 for c in credits)
        assert all(t.occurred_at <= conversion.instant for t in conversion.path)


def shuffled(data: dict[str, list[object]], seed: int) -> dict[str, list[object]]:
    rng = random.Random(seed)
    out = {}
    for key, items in data.items():
        copy = list(items)
        rng.shuffle(copy)
        out[key] = copy
    return out


@settings(max_examples=100, deadline=None)
@given(
    data=datasets(),
    seed=st.integers(0, 10_000),
    conversion_type=st.sampled_from(list(ConversionType)),
    model=st.sampled_from(list(RuleModel)),
    group_by=st.sampled_from(list(GroupBy)),
)
def test_permuting_input_order_changes_no_rule_based_result(
    data: dict[str, list[object]],
    seed: int,
    conversion_type: ConversionType,
    model: RuleModel,
    group_by: GroupBy,
) -> None:
    if not applicable(model, conversion_type):
        return
    first = attribute(conversion_type, model, group_by=group_by, **data)  # type: ignore[arg-type]
    again = attribute(conversion_type, model, group_by=group_by, **shuffled(data, seed))  # type: ignore[arg-type]
    assert first == again
    assert sum(first.credits.values()) == first.attributed_value


@settings(max_examples=40, deadline=None)
@given(data=datasets(), seed=st.integers(0, 10_000), conversion_type=st.sampled_from(list(ConversionType)))
def test_permuting_input_order_changes_no_data_driven_result(
    data: dict[str, list[object]], seed: int, conversion_type: ConversionType
) -> None:
    for model in (markov, shapley):
        first = model(conversion_type, **data)  # type: ignore[operator]
        again = model(conversion_type, **shuffled(data, seed))  # type: ignore[operator]
        assert first == again
        # Rounded credits always add up to the value credited.
        assert sum(first.credits.values(), Decimal(0)) == first.total_value
