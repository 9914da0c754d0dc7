"""Transforms, owner mapping and inclusion filters: pure functions, table-driven."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from syncd.core.convert import TransformError
from syncd.core.normalize import Value
from syncd.core.rules import Side
from syncd.mapping import Condition, Op, Owner, included, map_owners
from syncd.mapping.transforms import (
    DateFormat,
    Default,
    Kind,
    KindError,
    OwnerTransform,
    ParseDate,
    Round,
    TextCase,
    ToNumber,
    ToText,
    Transform,
    ValueMap,
    apply_transforms,
)

STAGES = ValueMap(1, (("lead", "Open"), ("customer", "Closed")))


@pytest.mark.parametrize(
    ("transforms", "value", "expected"),
    [
        ([TextCase(1, "trim")], "  a b  ", "a b"),
        ([TextCase(1, "trim")], "   ", None),
        ([TextCase(1, "lower")], "Jane@X.COM", "jane@x.com"),
        ([TextCase(1, "upper")], "fr", "FR"),
        ([TextCase(1, "upper")], None, None),
        ([STAGES], "lead", "Open"),
        ([STAGES], None, None),
        ([ValueMap(1, (("x", "y"),), "keep")], "other", "other"),
        ([ValueMap(1, (("x", "y"),), "value", "Other")], "other", "Other"),
        ([ValueMap(1, (("x", "y"),), "value", None)], "other", None),
        ([ValueMap(1, (("[not provided]", None),), "keep")], "[not provided]", None),
        ([ValueMap(1, ((None, "Unknown"),))], None, "Unknown"),
        ([ValueMap(1, ((True, "Yes"), (False, "No")))], False, "No"),
        ([Default(1, "[not provided]")], None, "[not provided]"),
        ([Default(1, "[not provided]")], "Acme", "Acme"),
        ([TextCase(1, "trim"), Default(2, "n/a")], "  ", "n/a"),
        ([DateFormat(1, "%d/%m/%Y")], date(2024, 3, 1), "01/03/2024"),
        ([DateFormat(1, "%Y-%m-%dT%H:%M")], datetime(2024, 3, 1, 9, 5, tzinfo=UTC), "2024-03-01T09:05"),
        ([ParseDate(1, "%d/%m/%Y")], "01/03/2024", date(2024, 3, 1)),
        ([Round(1, 0)], 41.6, 42),
        ([Round(1, 2)], 3.14159, 3.14),
        ([Round(1, 2)], 3.0, 3),
        ([ToNumber(1)], " 12.50 ", 12.5),
        ([ToNumber(1)], 7, 7),
        ([ToText(1)], True, "true"),
        ([ToText(1)], 12, "12"),
        ([ToText(1)], date(2024, 3, 1), "2024-03-01"),
    ],
)
def test_transforms_convert_values(transforms: list[Transform], value: Value, expected: Value) -> None:
    assert apply_transforms(transforms, value, Side.CRM) == expected


@pytest.mark.parametrize(
    ("transform", "value", "why"),
    [
        (STAGES, "evangelist", "not in the value map"),
        (ValueMap(1, (("1", "One"),)), 1, "not in the value map"),
        (TextCase(1, "lower"), 5, "needs text"),
        (DateFormat(1, "%Y"), "2024", "needs a date"),
        (ParseDate(1, "%d/%m/%Y"), "2024-03-01", "does not match the date format"),
        (Round(1, 0), "5", "needs a number"),
        (ToNumber(1), "lots", "to_number"),
        (OwnerTransform(1), "7", "owner map not loaded"),
    ],
)
def test_values_a_transform_cannot_convert_raise_transform_error(
    transform: Transform, value: Value, why: str
) -> None:
    with pytest.raises(TransformError, match=why):
        apply_transforms([transform], value, Side.CRM)


@pytest.mark.parametrize(
    ("transform", "kind", "out"),
    [
        (TextCase(1, "trim"), Kind.TEXT, Kind.TEXT),
        (STAGES, Kind.TEXT, Kind.TEXT),
        (ValueMap(1, (("yes", True), ("no", False))), Kind.TEXT, Kind.BOOL),
        (Default(1, 0), Kind.NUMBER, Kind.NUMBER),
        (DateFormat(1, "%Y"), Kind.DATETIME, Kind.TEXT),
        (ParseDate(1, "%Y"), Kind.TEXT, Kind.DATE),
        (Round(1, 1), Kind.NUMBER, Kind.NUMBER),
        (ToNumber(1), Kind.TEXT, Kind.NUMBER),
        (ToText(1), Kind.BOOL, Kind.TEXT),
        (OwnerTransform(1), Kind.TEXT, Kind.TEXT),
    ],
)
def test_transforms_declare_the_kind_they_produce(transform: Transform, kind: Kind, out: Kind) -> None:
    assert transform.output_kind(kind) is out


@pytest.mark.parametrize(
    ("transform", "kind"),
    [
        (TextCase(1, "upper"), Kind.NUMBER),
        (DateFormat(1, "%Y"), Kind.TEXT),
        (ParseDate(1, "%Y"), Kind.DATE),
        (Round(1, 0), Kind.TEXT),
        (Default(1, "n/a"), Kind.NUMBER),
        (ValueMap(1, (("a", "A"), ("b", 2))), Kind.TEXT),
        (ValueMap(1, (("a", True),), "keep"), Kind.TEXT),
        (OwnerTransform(1), Kind.BOOL),
    ],
)
def test_transforms_reject_kinds_they_cannot_handle(transform: Transform, kind: Kind) -> None:
    with pytest.raises(KindError):
        transform.output_kind(kind)


HUBSPOT_OWNERS = [
    Owner("h1", "Ann@Corp.com"),
    Owner("h2", "bob@corp.com"),
    Owner("h3", "carl@corp.com"),
    Owner("h4", None),
    Owner("h5", "dora@corp.com"),
    Owner("h6", "dora@corp.com", active=False),
]
SALESFORCE_USERS = [
    Owner("005A", "ann@corp.com "),
    Owner("005B", "bob@corp.com", active=False),
    Owner("005C1", "carl@corp.com"),
    Owner("005C2", "carl@corp.com"),
    Owner("005D", "dora@corp.com"),
    Owner("005E", "eve@corp.com"),
]


def test_owners_are_paired_by_normalized_email_towards_active_owners_only() -> None:
    owners = map_owners(HUBSPOT_OWNERS, SALESFORCE_USERS)
    assert owners.to_crm == {"h1": "005A", "h5": "005D", "h6": "005D"}
    assert owners.to_marketing == {"005A": "h1", "005B": "h2", "005C1": "h3", "005C2": "h3", "005D": "h5"}
    assert "HubSpot owner h2 has only an inactive matching Salesforce user" in owners.unmatched
    assert "HubSpot owner h3 has several active matching Salesforce user" in owners.unmatched
    assert "HubSpot owner h4 has no valid email" in owners.unmatched
    assert "Salesforce user 005E has no matching HubSpot owner" in owners.unmatched
    assert not any("@" in note for note in owners.unmatched)


def test_the_owner_transform_translates_ids_in_each_direction() -> None:
    owners = map_owners(HUBSPOT_OWNERS, SALESFORCE_USERS)
    assert apply_transforms([OwnerTransform(1)], "h1", Side.CRM, owners) == "005A"
    assert apply_transforms([OwnerTransform(1)], "005D", Side.MARKETING, owners) == "h5"
    assert apply_transforms([OwnerTransform(1)], None, Side.CRM, owners) is None
    with pytest.raises(TransformError, match="no counterpart"):
        apply_transforms([OwnerTransform(1)], "h3", Side.CRM, owners)


RECORD: dict[str, Value] = {
    "lifecyclestage": "lead",
    "hubspotscore": 42,
    "email": "jane@x.com",
    "company": "Acme Widgets",
    "createdate": datetime(2024, 3, 1, 12, 0, tzinfo=UTC),
    "phone": None,
    "hs_email_optout": False,
}


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        (Condition("lifecyclestage", Op.EQ, "lead"), True),
        (Condition("lifecyclestage", Op.EQ, "Lead"), False),
        (Condition("lifecyclestage", Op.NE, "customer"), True),
        (Condition("phone", Op.EQ, None), True),
        (Condition("phone", Op.NE, None), False),
        (Condition("hs_email_optout", Op.EQ, False), True),
        (Condition("hs_email_optout", Op.EQ, 0), False),
        (Condition("lifecyclestage", Op.IN, ("lead", "mql")), True),
        (Condition("lifecyclestage", Op.NOT_IN, ("lead", "mql")), False),
        (Condition("email", Op.EXISTS), True),
        (Condition("phone", Op.EXISTS), False),
        (Condition("phone", Op.NOT_EXISTS), True),
        (Condition("missing", Op.NOT_EXISTS), True),
        (Condition("company", Op.CONTAINS, "widget"), True),
        (Condition("company", Op.CONTAINS, "gadget"), False),
        (Condition("hubspotscore", Op.GT, 40), True),
        (Condition("hubspotscore", Op.GTE, 42), True),
        (Condition("hubspotscore", Op.LT, 42), False),
        (Condition("hubspotscore", Op.LTE, 42.0), True),
        (Condition("hubspotscore", Op.GT, "40"), False),
        (Condition("phone", Op.GT, 1), False),
        (Condition("createdate", Op.GTE, date(2024, 3, 1)), True),
        (Condition("createdate", Op.LT, date(2024, 3, 1)), False),
        (Condition("createdate", Op.LT, datetime(2024, 3, 2, tzinfo=UTC)), True),
        (Condition("createdate", Op.LT, datetime(2024, 3, 2)), False),
    ],
)
def test_inclusion_conditions(condition: Condition, holds: bool) -> None:
    assert included([condition], RECORD) is holds


def test_all_conditions_must_hold_and_none_means_everyone() -> None:
    assert included([], RECORD)
    both = [Condition("email", Op.EXISTS), Condition("hubspotscore", Op.GT, 50)]
    assert not included(both, RECORD)
