"""Resolve: the three-way merge per field, rule by rule, with directions and null policies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from syncd.core.convert import TransformError, UnmappedValue
from syncd.core.issues import RecordRef
from syncd.core.normalize import Value
from syncd.core.resolve import FieldBase, FieldPlan, Resolution, SideState, resolve
from syncd.core.rules import Direction, NullPolicy, Rule, Side
from syncd.errors import IssueCategory

CRM, MKT = Side.CRM, Side.MARKETING
T0 = datetime(2024, 5, 1, tzinfo=UTC)
REF = RecordRef("hubspot", "contacts", "1")
NO = object()  # "nothing written"
SAME = object()  # "base unchanged"
IGNORE, PROPAGATE = NullPolicy.IGNORE_NULLS, NullPolicy.PROPAGATE_NULLS


def plan(
    rule: Rule, direction: Direction = Direction.BOTH, nulls: NullPolicy = IGNORE, **kw: object
) -> FieldPlan:
    return FieldPlan("f", "C", "M", rule, direction, nulls, **kw)  # type: ignore[arg-type]


def run(
    field_plan: FieldPlan,
    *,
    source: Side,
    src: Value,
    tgt: Value,
    base: tuple[Value, Value] | None,
    newer: Side | None = None,
) -> Resolution:
    """`base` is (crm, marketing); `newer` is the side modified later (None: same instant)."""
    other = source.other
    stamps = {CRM: T0, MKT: T0}
    if newer is not None:
        stamps[newer] = T0 + timedelta(minutes=5)
    source_state = SideState(source, {field_plan.field_on(source): src}, stamps[source])
    target_state = SideState(other, {field_plan.field_on(other): tgt}, stamps[other])
    bases = {} if base is None else {"f": FieldBase(*base)}
    return resolve(source_state, target_state, [field_plan], bases, record=REF)


def written(resolution: Resolution, side: Side) -> object:
    writes = resolution.writes(side)
    return writes[next(iter(writes))] if writes else NO


@dataclass(frozen=True)
class Case:
    name: str
    rule: Rule
    source: Side
    src: Value
    tgt: Value
    base: tuple[Value, Value] | None
    crm: object  # value written to the CRM, or NO
    mkt: object  # value written to marketing, or NO
    new_base: object  # (crm, marketing), or SAME
    newer: Side | None = None
    direction: Direction = Direction.BOTH
    nulls: NullPolicy = IGNORE
    conflict: bool | None = None  # True/False: a note with that flag; None: no note


CASES = [
    # Source equals base: nothing, whatever the target did and whatever the rule.
    *[
        Case(f"source-equals-base-{rule.value}", rule, MKT, "a", "z", ("x", "a"), NO, NO, SAME)
        for rule in Rule
    ],
    Case("source-equals-base-blank", Rule.TWO_WAY, CRM, None, "z", (None, "q"), NO, NO, SAME),
    # One-sided edits flow both ways.
    *[
        Case(f"edit-marketing-to-crm-{rule.value}", rule, MKT, "b", "a", ("a", "a"), "b", NO, ("b", "b"))
        for rule in (Rule.TWO_WAY, Rule.PREFER_CRM_UNLESS_BLANK, Rule.CRM_WINS, Rule.MARKETING_WINS)
    ],
    *[
        Case(f"edit-crm-to-marketing-{rule.value}", rule, CRM, "b", "a", ("a", "a"), NO, "b", ("b", "b"))
        for rule in (Rule.TWO_WAY, Rule.PREFER_CRM_UNLESS_BLANK, Rule.CRM_WINS, Rule.MARKETING_WINS)
    ],
    Case("edit-to-what-target-has", Rule.TWO_WAY, MKT, "c", "c", ("a", "a"), NO, NO, ("c", "c")),
    Case("edit-rule-none", Rule.NONE, MKT, "b", "a", ("a", "a"), NO, NO, SAME),
    # write_once only fills a blank target.
    Case("write-once-target-set", Rule.WRITE_ONCE, MKT, "b", "a", ("a", "a"), NO, NO, ("a", "b")),
    Case("write-once-target-blank", Rule.WRITE_ONCE, MKT, "b", None, (None, None), "b", NO, ("b", "b")),
    Case("write-once-source-blanked", Rule.WRITE_ONCE, CRM, None, "a", ("a", "a"), NO, NO, (None, "a")),
    # Conflicts: both sides changed since the base; the rule decides.
    Case(
        "conflict-two-way-marketing-newer",
        Rule.TWO_WAY,
        MKT,
        "m",
        "c",
        ("a", "a"),
        "m",
        NO,
        ("m", "m"),
        MKT,
        conflict=True,
    ),
    Case(
        "conflict-two-way-crm-newer",
        Rule.TWO_WAY,
        MKT,
        "m",
        "c",
        ("a", "a"),
        NO,
        "c",
        ("c", "c"),
        CRM,
        conflict=True,
    ),
    Case(
        "conflict-two-way-tie-crm-wins",
        Rule.TWO_WAY,
        MKT,
        "m",
        "c",
        ("a", "a"),
        NO,
        "c",
        ("c", "c"),
        None,
        conflict=True,
    ),
    Case(
        "conflict-two-way-tie-from-crm",
        Rule.TWO_WAY,
        CRM,
        "c",
        "m",
        ("a", "a"),
        NO,
        "c",
        ("c", "c"),
        None,
        conflict=True,
    ),
    Case(
        "conflict-prefer-crm",
        Rule.PREFER_CRM_UNLESS_BLANK,
        MKT,
        "m",
        "c",
        ("a", "a"),
        NO,
        "c",
        ("c", "c"),
        MKT,
        conflict=True,
    ),
    Case(
        "conflict-prefer-crm-blank",
        Rule.PREFER_CRM_UNLESS_BLANK,
        MKT,
        "m",
        None,
        ("a", "a"),
        "m",
        NO,
        ("m", "m"),
        conflict=True,
    ),
    Case(
        "conflict-crm-wins", Rule.CRM_WINS, MKT, "m", "c", ("a", "a"), NO, "c", ("c", "c"), MKT, conflict=True
    ),
    Case(
        "conflict-marketing-wins",
        Rule.MARKETING_WINS,
        CRM,
        "c",
        "m",
        ("a", "a"),
        "m",
        NO,
        ("m", "m"),
        CRM,
        conflict=True,
    ),
    Case(
        "conflict-write-once-keeps-both",
        Rule.WRITE_ONCE,
        MKT,
        "m",
        "c",
        ("a", "a"),
        NO,
        NO,
        ("c", "m"),
        conflict=True,
    ),
    Case(
        "conflict-write-once-fills-blank",
        Rule.WRITE_ONCE,
        MKT,
        "m",
        None,
        ("a", "a"),
        "m",
        NO,
        ("m", "m"),
        conflict=True,
    ),
    Case("conflict-values-agree", Rule.CRM_WINS, MKT, "n", "n", ("a", "a"), NO, NO, ("n", "n")),
    # First sync (no base): the rule decides as in a conflict, noted as not a conflict.
    Case("first-two-way", Rule.TWO_WAY, MKT, "m", "c", None, "m", NO, ("m", "m"), MKT, conflict=False),
    Case(
        "first-prefer-crm",
        Rule.PREFER_CRM_UNLESS_BLANK,
        MKT,
        "m",
        "c",
        None,
        NO,
        "c",
        ("c", "c"),
        conflict=False,
    ),
    Case(
        "first-prefer-crm-blank",
        Rule.PREFER_CRM_UNLESS_BLANK,
        MKT,
        "m",
        None,
        None,
        "m",
        NO,
        ("m", "m"),
        conflict=False,
    ),
    Case("first-crm-wins", Rule.CRM_WINS, MKT, "m", "c", None, NO, "c", ("c", "c"), conflict=False),
    Case(
        "first-marketing-wins", Rule.MARKETING_WINS, MKT, "m", "c", None, "m", NO, ("m", "m"), conflict=False
    ),
    Case("first-write-once", Rule.WRITE_ONCE, MKT, "m", "c", None, NO, NO, ("c", "m"), conflict=False),
    Case(
        "first-write-once-blank-source",
        Rule.WRITE_ONCE,
        MKT,
        None,
        "c",
        None,
        NO,
        "c",
        ("c", "c"),
        conflict=False,
    ),
    Case("first-equal", Rule.TWO_WAY, MKT, "same", "same", None, NO, NO, ("same", "same")),
    Case("first-both-blank", Rule.CRM_WINS, MKT, None, None, None, NO, NO, (None, None)),
    # Null policies.
    Case(
        "ignore-nulls-blank-source-never-blanks",
        Rule.TWO_WAY,
        MKT,
        None,
        "a",
        ("a", "a"),
        NO,
        NO,
        ("a", None),
    ),
    Case(
        "propagate-nulls-blank-source-blanks",
        Rule.TWO_WAY,
        MKT,
        None,
        "a",
        ("a", "a"),
        None,
        NO,
        (None, None),
        nulls=PROPAGATE,
    ),
    Case(
        "ignore-nulls-blank-winner-loses",
        Rule.CRM_WINS,
        MKT,
        "m",
        None,
        ("a", "a"),
        "m",
        NO,
        ("m", "m"),
        conflict=True,
    ),
    Case(
        "propagate-nulls-blank-winner-wins",
        Rule.CRM_WINS,
        MKT,
        "m",
        None,
        ("a", "a"),
        NO,
        None,
        (None, None),
        nulls=PROPAGATE,
        conflict=True,
    ),
    Case(
        "ignore-nulls-first-sync-blank-newer",
        Rule.TWO_WAY,
        MKT,
        None,
        "c",
        None,
        NO,
        "c",
        ("c", "c"),
        MKT,
        conflict=False,
    ),
    Case(
        "propagate-nulls-first-sync-blank-newer",
        Rule.TWO_WAY,
        MKT,
        None,
        "c",
        None,
        None,
        NO,
        (None, None),
        MKT,
        nulls=PROPAGATE,
        conflict=False,
    ),
    Case(
        "propagate-prefer-crm-blank",
        Rule.PREFER_CRM_UNLESS_BLANK,
        CRM,
        None,
        "m",
        ("a", "a"),
        "m",
        NO,
        ("m", "m"),
        nulls=PROPAGATE,
        conflict=True,
    ),
    # Opt-out (most_restrictive) both ways.
    Case(
        "optout-from-marketing",
        Rule.MOST_RESTRICTIVE,
        MKT,
        True,
        False,
        (False, False),
        True,
        NO,
        (True, True),
    ),
    Case("optout-from-crm", Rule.MOST_RESTRICTIVE, CRM, True, False, (False, False), NO, True, (True, True)),
    Case(
        "optin-on-one-side-is-reverted",
        Rule.MOST_RESTRICTIVE,
        MKT,
        False,
        True,
        (True, True),
        NO,
        True,
        (True, True),
    ),
    Case(
        "optin-from-crm-is-reverted",
        Rule.MOST_RESTRICTIVE,
        CRM,
        False,
        True,
        (True, True),
        True,
        NO,
        (True, True),
    ),
    Case(
        "optout-conflict",
        Rule.MOST_RESTRICTIVE,
        MKT,
        True,
        False,
        (None, None),
        True,
        NO,
        (True, True),
        CRM,
        conflict=True,
    ),
    Case(
        "optout-conflict-from-crm",
        Rule.MOST_RESTRICTIVE,
        CRM,
        False,
        True,
        (None, None),
        True,
        NO,
        (True, True),
        CRM,
        conflict=True,
    ),
    Case(
        "optout-first-sync-crm-set",
        Rule.MOST_RESTRICTIVE,
        MKT,
        None,
        True,
        None,
        NO,
        True,
        (True, True),
        conflict=False,
    ),
    Case(
        "optout-first-sync-false-fills-blank",
        Rule.MOST_RESTRICTIVE,
        MKT,
        False,
        None,
        None,
        False,
        NO,
        (False, False),
        conflict=False,
    ),
    Case("optout-first-sync-both-blank", Rule.MOST_RESTRICTIVE, MKT, None, None, None, NO, NO, (None, None)),
    # Directions.
    Case(
        "to-crm-blocks-crm-edit",
        Rule.TWO_WAY,
        CRM,
        "b",
        "a",
        ("a", "a"),
        NO,
        NO,
        ("b", "a"),
        direction=Direction.TO_CRM,
    ),
    Case(
        "to-crm-passes-marketing-edit",
        Rule.TWO_WAY,
        MKT,
        "b",
        "a",
        ("a", "a"),
        "b",
        NO,
        ("b", "b"),
        direction=Direction.TO_CRM,
    ),
    Case(
        "to-crm-sender-wins-conflict",
        Rule.CRM_WINS,
        MKT,
        "m",
        "c",
        ("a", "a"),
        "m",
        NO,
        ("m", "m"),
        CRM,
        direction=Direction.TO_CRM,
        conflict=True,
    ),
    Case(
        "to-marketing-sender-wins-conflict",
        Rule.TWO_WAY,
        MKT,
        "m",
        "c",
        ("a", "a"),
        NO,
        "c",
        ("c", "c"),
        MKT,
        direction=Direction.TO_MARKETING,
        conflict=True,
    ),
    Case(
        "to-marketing-write-once",
        Rule.WRITE_ONCE,
        CRM,
        "c",
        None,
        None,
        NO,
        "c",
        ("c", "c"),
        direction=Direction.TO_MARKETING,
        conflict=False,
    ),
    Case(
        "to-marketing-optout-stays-on-crm",
        Rule.MOST_RESTRICTIVE,
        MKT,
        True,
        False,
        (False, False),
        NO,
        NO,
        (False, True),
        direction=Direction.TO_MARKETING,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_resolve_rules(case: Case) -> None:
    field_plan = plan(case.rule, case.direction, case.nulls)
    resolution = run(
        field_plan, source=case.source, src=case.src, tgt=case.tgt, base=case.base, newer=case.newer
    )
    assert written(resolution, CRM) == case.crm if case.crm is not NO else written(resolution, CRM) is NO
    assert written(resolution, MKT) == case.mkt if case.mkt is not NO else written(resolution, MKT) is NO
    if case.new_base is SAME:
        expected_base = None if case.base is None else FieldBase(*case.base)
        assert resolution.bases.get("f") == expected_base
    else:
        assert resolution.bases["f"] == FieldBase(*case.new_base)  # type: ignore[misc]
    if case.conflict is None:
        assert resolution.notes == ()
    else:
        assert [note.conflict for note in resolution.notes] == [case.conflict]
        assert bool(resolution.conflicts) is case.conflict


def test_written_values_are_exactly_what_the_rule_chose_including_false_and_zero() -> None:
    zero = run(plan(Rule.TWO_WAY), source=MKT, src=0, tgt=5, base=(5, 5))
    assert zero.crm_writes == {"C": 0}
    false = run(plan(Rule.TWO_WAY), source=CRM, src=False, tgt=True, base=(True, True))
    assert false.marketing_writes == {"M": False}


def test_conflict_notes_name_the_rule_and_winner_but_no_values() -> None:
    resolution = run(
        plan(Rule.TWO_WAY), source=MKT, src="secret-m", tgt="secret-c", base=("a", "a"), newer=MKT
    )
    (note,) = resolution.notes
    assert (note.field, note.rule, note.winner, note.conflict) == ("f", Rule.TWO_WAY, MKT, True)
    assert "secret" not in note.reason and "marketing modified later" in note.reason


def test_transforms_convert_between_vocabularies_and_equal_meanings_agree() -> None:
    upper = plan(Rule.TWO_WAY, to_crm=lambda v: v.upper() if isinstance(v, str) else v)
    first = run(upper, source=MKT, src="hot", tgt="HOT", base=None)
    assert (first.crm_writes, first.marketing_writes, first.notes) == ({}, {}, ())
    edit = run(upper, source=MKT, src="cold", tgt="HOT", base=("HOT", "hot"))
    assert edit.crm_writes == {"C": "COLD"}
    assert edit.bases["f"] == FieldBase("COLD", "cold")


def test_a_value_that_converts_to_blank_never_blanks_the_target_under_ignore_nulls() -> None:
    drop_placeholder = plan(Rule.TWO_WAY, to_marketing=lambda v: None if v == "[not provided]" else v)
    resolution = run(drop_placeholder, source=CRM, src="[not provided]", tgt="Acme", base=("Acme", "Acme"))
    assert resolution.marketing_writes == {}


def _unmapped(value: Value) -> Value:
    raise TransformError("value 'x' is not in the value map")


def test_a_value_the_transforms_cannot_convert_skips_the_field_with_an_issue() -> None:
    fields = [plan(Rule.TWO_WAY, to_crm=_unmapped), FieldPlan("g", "G", "GM")]
    source = SideState(MKT, {"M": "x", "GM": "new"}, T0)
    target = SideState(CRM, {"C": "y", "G": "old"}, T0)
    bases = {"f": FieldBase("y", "w"), "g": FieldBase("old", "old")}
    resolution = resolve(source, target, fields, bases, record=REF)
    assert resolution.crm_writes == {"G": "new"}
    assert resolution.bases["f"] == FieldBase("y", "w")
    (issue,) = resolution.issues
    assert issue.category is IssueCategory.VALIDATION and issue.field == "f" and str(REF) in issue.reason


def test_fields_missing_from_either_side_are_left_alone() -> None:
    source = SideState(MKT, {"M": "b"}, T0)
    target = SideState(CRM, {}, T0)
    resolution = resolve(source, target, [plan(Rule.TWO_WAY)], {"f": FieldBase("a", "a")}, record=REF)
    assert resolution.crm_writes == {} and resolution.bases == {"f": FieldBase("a", "a")}


def test_creating_the_target_writes_converted_values_and_defaults_for_blanks() -> None:
    def company_default(value: Value) -> Value:
        return "[not provided]" if value is None else value

    fields = [
        FieldPlan("company", "Company", "company", to_crm=company_default),
        FieldPlan("title", "Title", "jobtitle"),
        FieldPlan("rating", "Rating", "rating", direction=Direction.TO_MARKETING),
        FieldPlan("skip", "Skip", "skip", rule=Rule.NONE),
    ]
    source = SideState(MKT, {"company": None, "jobtitle": "CTO", "rating": "Hot", "skip": "x"}, T0)
    resolution = resolve(source, None, fields, {}, record=REF)
    assert resolution.crm_writes == {"Company": "[not provided]", "Title": "CTO"}
    assert resolution.marketing_writes == {}
    assert resolution.bases == {
        "company": FieldBase("[not provided]", None),
        "title": FieldBase("CTO", "CTO"),
        "rating": FieldBase(None, "Hot"),
    }


def test_an_echo_of_our_own_write_changes_nothing() -> None:
    first = run(plan(Rule.TWO_WAY), source=MKT, src="b", tgt="a", base=("a", "a"))
    assert first.crm_writes == {"C": "b"}
    echo = run(
        plan(Rule.TWO_WAY),
        source=CRM,
        src="b",
        tgt="b",
        base=(first.bases["f"].crm, first.bases["f"].marketing),
    )
    assert (echo.crm_writes, echo.marketing_writes) == ({}, {})


def _unmapped_picklist(value: Value) -> Value:
    raise UnmappedValue("value 'evangelist' is not in the value map")


def test_a_value_missing_from_a_value_map_is_a_picklist_issue() -> None:
    resolution = run(
        plan(Rule.TWO_WAY, to_crm=_unmapped_picklist), source=MKT, src="x", tgt="y", base=("y", "w")
    )
    (issue,) = resolution.issues
    assert issue.category is IssueCategory.PICKLIST


def test_values_agree_when_one_conversion_reads_them_even_if_the_other_cannot() -> None:
    one_way_map = plan(Rule.TWO_WAY, to_crm=_unmapped_picklist, to_marketing=lambda v: "x" if v == "X" else v)
    resolution = run(one_way_map, source=MKT, src="x", tgt="X", base=None)
    assert (resolution.crm_writes, resolution.marketing_writes, resolution.issues) == ({}, {}, ())
    assert resolution.bases["f"] == FieldBase("X", "x")
