"""SOQL parsing and evaluation, table-driven against a small in-memory org (no HTTP)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.salesforce.sandbox import soql
from connectors.salesforce.sandbox.errors import ApiError
from connectors.salesforce.sandbox.ids import IdGenerator
from connectors.salesforce.sandbox.query import QueryCompiler, date_range
from connectors.salesforce.sandbox.schema import build_schema
from connectors.salesforce.sandbox.settings import SalesforceSettings
from connectors.salesforce.sandbox.store import OrgStore
from connectors.salesforce.sandbox.writes import RecordWriter, WriteContext
from connectors.sandbox_core.clock import SimClock

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # a Wednesday
TODAY = NOW.date()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT Id FROM Lead", soql.Query((soql.FieldPath(("Id",), 8),), "Lead", 16, None, (), None, None)),
        (
            "select id from lead limit 5 offset 10",
            soql.Query((soql.FieldPath(("id",), 8),), "lead", 16, None, (), 5, 10),
        ),
    ],
)
def test_parser_builds_the_syntax_tree(text: str, expected: soql.Query) -> None:
    assert soql.parse(text) == expected


def test_parser_reads_relationship_paths_and_operator_precedence() -> None:
    query = soql.parse(
        "SELECT Owner.Email, ConvertedContact.Email FROM Lead "
        "WHERE A = 1 OR B = 2 AND NOT C = 3 ORDER BY Name DESC NULLS FIRST, Id"
    )
    assert [item.parts for item in query.select if isinstance(item, soql.FieldPath)] == [
        ("Owner", "Email"),
        ("ConvertedContact", "Email"),
    ]
    assert isinstance(query.where, soql.Or)
    assert isinstance(query.where.items[1], soql.And)
    assert isinstance(query.where.items[1].items[1], soql.Not)
    assert query.order_by[0] == soql.OrderItem(soql.FieldPath(("Name",), 98), True, True)
    assert query.order_by[1].nulls_first is True and query.order_by[1].descending is False


def test_parser_reads_aggregates_and_group_by() -> None:
    query = soql.parse("SELECT Rating, COUNT(Id) n, MAX(CreatedDate) FROM Lead GROUP BY Rating, OwnerId")
    assert query.select[1] == soql.AggregateItem("COUNT", soql.FieldPath(("Id",), 22), "n", 16)
    assert query.select[2] == soql.AggregateItem("MAX", soql.FieldPath(("CreatedDate",), 33), None, 29)
    assert [fp.parts for fp in query.group_by] == [("Rating",), ("OwnerId",)]


def test_parser_reads_child_subqueries() -> None:
    query = soql.parse(
        "SELECT Id, (SELECT Id FROM Contacts WHERE Email != null ORDER BY Id LIMIT 2) FROM Account"
    )
    sub = query.select[1]
    assert isinstance(sub, soql.SubQuery)
    assert (sub.query.sobject, sub.query.limit, len(sub.query.order_by)) == ("Contacts", 2, 1)
    assert isinstance(sub.query.where, soql.Comparison)


@pytest.mark.parametrize(
    ("literal", "kind", "value"),
    [
        ("'it\\'s'", "string", "it's"),
        ("42", "number", 42.0),
        ("-1.5", "number", -1.5),
        ("true", "boolean", True),
        ("FALSE", "boolean", False),
        ("null", "null", None),
        ("2026-01-31", "date", date(2026, 1, 31)),
        ("2026-01-31T10:00:00Z", "datetime", datetime(2026, 1, 31, 10, tzinfo=UTC)),
        ("2026-01-31T12:00:00+02:00", "datetime", datetime(2026, 1, 31, 10, tzinfo=UTC)),
        ("2026-01-31T10:00:00.250Z", "datetime", datetime(2026, 1, 31, 10, 0, 0, 250000, tzinfo=UTC)),
    ],
)
def test_parser_reads_literals(literal: str, kind: str, value: object) -> None:
    where = soql.parse(f"SELECT Id FROM Lead WHERE X = {literal}").where
    assert isinstance(where, soql.Comparison)
    assert isinstance(where.value, soql.Literal)
    assert (where.value.kind, where.value.value) == (kind, value)


def test_parser_reads_relative_date_literals() -> None:
    where = soql.parse("SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS:30").where
    assert isinstance(where, soql.Comparison)
    assert where.value == soql.DateRange("LAST_N_DAYS", 30, 41)


@pytest.mark.parametrize(
    ("text", "column", "reason"),
    [
        ("SELECT Id FRM Lead", 11, "unexpected token: FRM"),
        ("SELECT FROM Lead", 8, "unexpected token: FROM"),
        ("SELECT Id FROM Lead WHERE", 26, "unexpected token: <EOF>"),
        ("SELECT Id FROM Lead WHERE Email = 'open", 35, "unexpected token: <EOF>"),
        ("SELECT Id FROM Lead WHERE (A = 1", 33, "unexpected token: <EOF>"),
        ("SELECT Id FROM Lead LIMIT x", 27, "unexpected token: x"),
        ("SELECT Id FROM Lead WHERE A ~ 1", 29, "no viable alternative at character '~'"),
        ("SELECT Rating, COUNT(Id) FROM Lead GROUP BY Rating HAVING COUNT(Id) > 1", 52, "HAVING"),
        ("SELECT SUM() FROM Opportunity", 12, "unexpected token: )"),
        (
            "SELECT Id FROM Lead WHERE Id IN (SELECT Id FROM Lead WHERE Id IN (SELECT Id FROM Lead))",
            67,
            "semi-joins cannot be nested",
        ),
        ("SELECT Id FROM Lead WHERE A > 2026-01-01T00:00:00.123456Z", 31, "invalid dateTime literal"),
        ("SELECT Id, (SELECT Id, (SELECT Id FROM Tasks) FROM Tasks) FROM Lead", 24, "cannot be nested"),
        ("SELECT Id, (SELECT Id FROM Tasks FROM Lead", 34, "unexpected token: FROM"),
    ],
)
def test_parser_reports_salesforce_style_positions(text: str, column: int, reason: str) -> None:
    with pytest.raises(soql.SoqlSyntaxError) as caught:
        soql.parse(text)
    assert caught.value.position == column
    message = caught.value.salesforce_message()
    assert f"ERROR at Row:1:Column:{column}" in message
    assert reason in message


@pytest.mark.parametrize(
    ("name", "n", "start", "end"),
    [
        ("TODAY", None, date(2026, 3, 18), date(2026, 3, 19)),
        ("YESTERDAY", None, date(2026, 3, 17), date(2026, 3, 18)),
        ("LAST_N_DAYS", 7, date(2026, 3, 11), date(2026, 3, 19)),
        ("NEXT_N_DAYS", 2, date(2026, 3, 19), date(2026, 3, 21)),
        ("N_DAYS_AGO", 3, date(2026, 3, 15), date(2026, 3, 16)),
        ("THIS_WEEK", None, date(2026, 3, 15), date(2026, 3, 22)),
        ("THIS_MONTH", None, date(2026, 3, 1), date(2026, 4, 1)),
        ("LAST_MONTH", None, date(2026, 2, 1), date(2026, 3, 1)),
        ("LAST_N_MONTHS", 2, date(2026, 1, 1), date(2026, 3, 1)),
        ("THIS_YEAR", None, date(2026, 1, 1), date(2027, 1, 1)),
    ],
)
def test_relative_date_literals_cover_salesforce_ranges(
    name: str, n: int | None, start: date, end: date
) -> None:
    assert date_range(name, n, TODAY) == (start, end)


# ---- evaluation against a tiny org ----------------------------------------------------------------


@pytest.fixture(scope="module")
def org() -> tuple[QueryCompiler, dict[str, str]]:
    schema = build_schema()
    store = OrgStore(schema)
    clock = SimClock(NOW, frozen=True)
    ids = IdGenerator(1)
    writer = RecordWriter(schema, store, ids, clock, SalesforceSettings)
    user = ids.new("005")
    store.put(
        "User",
        {f: None for f in schema.objects["User"].fields}
        | {"Id": user, "LastName": "Owner", "Email": "owner@example.com", "Username": "o@example.com"},
    )
    ctx = WriteContext(user)
    names: dict[str, str] = {}
    rows = [
        ("Ada", "Lovelace", "Analytical", "ada@example.com", 90.0, "Hot", "2026-03-18T08:00:00Z"),
        ("Grace", "Hopper", "Navy", "GRACE@example.com", 75.0, "Warm", "2026-03-10T08:00:00Z"),
        ("Alan", "Turing", "Bletchley", None, 40.0, None, "2026-01-05T08:00:00Z"),
        (None, "Nobody", "Acme 100%", "nobody@acme.example", None, "Cold", "2025-12-31T23:00:00Z"),
    ]
    for first, last, company, email, score, rating, created in rows:
        clock.set(datetime.fromisoformat(created))
        result = writer.create(
            "Lead",
            {
                "FirstName": first,
                "LastName": last,
                "Company": company,
                "Email": email,
                "HubSpot_Score__c": score,
                "Rating": rating,
            },
            ctx,
        )
        assert result.success, result.errors
        assert result.id is not None
        names[last] = result.id
    clock.set(NOW)
    return QueryCompiler(schema, store), names


def _names(compiler: QueryCompiler, where: str, order: str = "LastName") -> list[str]:
    plan = compiler.compile(f"SELECT LastName FROM Lead {where} ORDER BY {order}", TODAY)
    return [r["LastName"] for r in compiler.execute(plan, include_deleted=False)]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("WHERE Email = 'grace@EXAMPLE.com'", ["Hopper"]),  # text comparison ignores case
        ("WHERE Email = null", ["Turing"]),
        ("WHERE Email = ''", ["Turing"]),  # text fields hold no empty strings: '' means null
        ("WHERE Email != null", ["Hopper", "Lovelace", "Nobody"]),
        ("WHERE Rating != 'Hot'", ["Hopper", "Nobody", "Turing"]),  # != keeps nulls, as in SOQL
        ("WHERE HubSpot_Score__c > 50", ["Hopper", "Lovelace"]),
        ("WHERE HubSpot_Score__c >= 75 AND Rating = 'Warm'", ["Hopper"]),
        ("WHERE Rating IN ('Hot', 'Cold')", ["Lovelace", "Nobody"]),
        ("WHERE Rating NOT IN ('Hot', 'Cold')", ["Hopper", "Turing"]),
        ("WHERE Company LIKE 'a%'", ["Lovelace", "Nobody"]),
        ("WHERE Company LIKE '%100\\%'", ["Nobody"]),
        ("WHERE Company LIKE 'N_vy'", ["Hopper"]),
        ("WHERE NOT (Rating = 'Hot' OR Rating = 'Warm')", ["Nobody", "Turing"]),
        ("WHERE CreatedDate = TODAY", ["Lovelace"]),
        ("WHERE CreatedDate = LAST_N_DAYS:10", ["Hopper", "Lovelace"]),
        ("WHERE CreatedDate < 2026-01-01T00:00:00Z", ["Nobody"]),
        ("WHERE CreatedDate >= 2026-01-05T09:00:00+01:00", ["Hopper", "Lovelace", "Turing"]),
        ("WHERE CreatedDate < THIS_YEAR", ["Nobody"]),
        (
            "WHERE IsConverted = false AND Owner.Email = 'OWNER@example.com'",
            ["Hopper", "Lovelace", "Nobody", "Turing"],
        ),
    ],
)
def test_where_clauses_select_like_soql(
    org: tuple[QueryCompiler, dict[str, str]], where: str, expected: list[str]
) -> None:
    compiler, _ = org
    assert _names(compiler, where) == expected


def test_where_accepts_15_character_ids(org: tuple[QueryCompiler, dict[str, str]]) -> None:
    compiler, names = org
    assert _names(compiler, f"WHERE Id = '{names['Hopper'][:15]}'") == ["Hopper"]
    assert _names(compiler, f"WHERE Id IN ('{names['Hopper']}', '{names['Turing'][:15]}')") == [
        "Hopper",
        "Turing",
    ]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("Rating", ["Turing", "Nobody", "Lovelace", "Hopper"]),  # ASC puts nulls first
        ("Rating NULLS LAST", ["Nobody", "Lovelace", "Hopper", "Turing"]),
        ("Rating DESC", ["Hopper", "Lovelace", "Nobody", "Turing"]),  # DESC puts nulls last
        ("Rating DESC NULLS FIRST", ["Turing", "Hopper", "Lovelace", "Nobody"]),
        ("HubSpot_Score__c DESC, LastName", ["Lovelace", "Hopper", "Turing", "Nobody"]),
        ("Email", ["Turing", "Lovelace", "Hopper", "Nobody"]),  # case-insensitive text order
    ],
)
def test_order_by_sorts_with_null_placement(
    org: tuple[QueryCompiler, dict[str, str]], order: str, expected: list[str]
) -> None:
    compiler, _ = org
    assert _names(compiler, "", order) == expected


@pytest.mark.parametrize(
    ("text", "code", "detail"),
    [
        ("SELECT Id, Nope FROM Lead", "INVALID_FIELD", "No such column 'Nope' on entity 'Lead'"),
        ("SELECT Owner.Nope FROM Lead", "INVALID_FIELD", "No such column 'Nope' on entity 'User'"),
        ("SELECT Boss.Email FROM Lead", "INVALID_FIELD", "Didn't understand relationship 'Boss'"),
        ("SELECT Id FROM Leed", "INVALID_TYPE", "sObject type 'Leed' is not supported"),
        ("SELECT Id FROM Lead WHERE Email = 5", "INVALID_FIELD", "must be of type string"),
        ("SELECT Id FROM Lead WHERE HubSpot_Score__c = '5'", "INVALID_FIELD", "must be of type double"),
        ("SELECT Id FROM Lead WHERE CreatedDate > 2026-01-01", "INVALID_FIELD", "must be of type dateTime"),
        ("SELECT Id FROM Lead WHERE Id = 'nonsense'", "INVALID_QUERY_FILTER_OPERATOR", "invalid ID field"),
        ("SELECT Id, COUNT() FROM Lead", "MALFORMED_QUERY", "Field must be grouped or aggregated"),
        (
            "SELECT Id FROM Lead OFFSET 2001",
            "NUMBER_OUTSIDE_VALID_RANGE",
            "Maximum SOQL offset allowed is 2000",
        ),
    ],
)
def test_semantic_errors_use_salesforce_codes(
    org: tuple[QueryCompiler, dict[str, str]], text: str, code: str, detail: str
) -> None:
    compiler, _ = org
    with pytest.raises(ApiError) as caught:
        compiler.compile(text, TODAY)
    assert caught.value.code == code
    assert detail in caught.value.message


def test_projection_nests_relationship_fields(org: tuple[QueryCompiler, dict[str, str]]) -> None:
    compiler, names = org
    plan = compiler.compile(
        f"SELECT Id, owner.email, LASTNAME FROM Lead WHERE Id = '{names['Hopper']}'", TODAY
    )
    [row] = compiler.execute(plan, include_deleted=False)
    out = plan.project(row, "59.0")
    assert list(out) == ["attributes", "Id", "Owner", "LastName"]  # canonical names, select order
    assert out["attributes"] == {
        "type": "Lead",
        "url": f"/services/data/v59.0/sobjects/Lead/{names['Hopper']}",
    }
    assert out["Owner"]["Email"] == "owner@example.com"
    assert out["Owner"]["attributes"]["type"] == "User"


_SOQL_PIECES = st.sampled_from(
    [
        "SELECT",
        "Id",
        "Email",
        "Owner.Email",
        "COUNT()",
        ",",
        "FROM",
        "Lead",
        "Contact",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "(",
        ")",
        "=",
        "!=",
        "<",
        ">=",
        "LIKE",
        "IN",
        "NOT IN",
        "'x'",
        "'%a_'",
        "5",
        "-1.5",
        "null",
        "true",
        "2026-01-01",
        "2026-01-01T00:00:00Z",
        "TODAY",
        "LAST_N_DAYS:3",
        "ORDER BY",
        "DESC",
        "NULLS LAST",
        "LIMIT",
        "OFFSET",
        "10",
        "'unterminated",
        "\\",
        "~",
        ":",
        "(SELECT Id FROM Tasks)",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SOQL_PIECES, max_size=14).map(" ".join) | st.text(max_size=60))
def test_any_text_either_compiles_or_fails_with_a_salesforce_error(
    org: tuple[QueryCompiler, dict[str, str]], text: str
) -> None:
    compiler, _ = org
    try:
        plan = compiler.compile(text, TODAY)
    except ApiError as exc:
        assert exc.status == 400 and exc.code
        return
    compiler.execute(plan, include_deleted=True)


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["2026-01-01", "2026-01-01T10:00:00Z", "00Q5g000000XZDvEAO", "a@b.co", "Hot"]),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=4,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*sorted(build_schema().objects["Lead"].fields), "Nope__c"]), _JSON_VALUES, max_size=6
    )
)
def test_any_json_body_either_writes_or_fails_with_a_salesforce_error(values: dict[str, object]) -> None:
    schema = build_schema()
    store = OrgStore(schema)
    writer = RecordWriter(schema, store, IdGenerator(2), SimClock(NOW, frozen=True), SalesforceSettings)
    try:
        result = writer.create("Lead", values, WriteContext("0055g000004IntGAAS"))
    except ApiError as exc:
        assert exc.status == 400 and exc.code in ("INVALID_FIELD", "JSON_PARSER_ERROR")
        return
    assert result.success == (result.id is not None)
    assert all(e.code.isupper() for e in result.errors)
