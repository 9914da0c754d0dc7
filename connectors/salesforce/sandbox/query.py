"""SOQL execution: compiles a parsed query into predicates, sort keys and projectors over the store."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from connectors.salesforce.sandbox import soql
from connectors.salesforce.sandbox.errors import ApiError
from connectors.salesforce.sandbox.ids import normalize_id
from connectors.salesforce.sandbox.schema import (
    ID_TYPES,
    NUMBER_TYPES,
    STRING_TYPES,
    FieldDef,
    ObjectDef,
    OrgSchema,
)
from connectors.salesforce.sandbox.store import OrgStore, Record, sf_datetime_literal

Getter = Callable[[Record], Any]
Predicate = Callable[[Record], bool]


@dataclass(frozen=True)
class ResolvedField:
    """A field path resolved against the schema: lookups to follow, then the field to read."""

    path: tuple[str, ...]  # canonical names, e.g. ("Owner", "Email")
    refs: tuple[str, ...]  # lookup fields followed, e.g. ("OwnerId",)
    field: FieldDef


@dataclass(frozen=True)
class SortKey:
    get: Getter
    descending: bool
    nulls_first: bool


@dataclass(frozen=True)
class QueryPlan:
    """A query ready to run many times (bulk jobs, cursors) without parsing or resolving again."""

    sobject: ObjectDef
    predicate: Predicate | None
    sort_keys: tuple[SortKey, ...]
    limit: int | None
    offset: int | None
    count_only: bool
    aggregates: tuple[Aggregate, ...]
    fields: tuple[ResolvedField, ...]
    project: Callable[[Record, str], dict[str, Any]]
    columns: tuple[tuple[str, Getter], ...]
    has_subqueries: bool = False
    group_by: tuple[Getter, ...] = ()
    group_output: tuple[tuple[str, Getter], ...] = ()

    @property
    def grouped(self) -> bool:
        """An aggregate query answered with AggregateResult rows (COUNT() alone is not one)."""
        return bool(self.aggregates or self.group_by)


@dataclass(frozen=True)
class Aggregate:
    alias: str
    function: str
    get: Getter | None


@dataclass(frozen=True)
class _ChildPlan:
    """A child relationship subquery: rows of `child` whose `field` points at the parent row."""

    name: str
    child: str
    field: str
    predicate: Predicate | None
    sort_keys: tuple[SortKey, ...]
    limit: int | None
    project: Callable[[Record, str], dict[str, Any]]


def _error(code: str, text: str, position: int, detail: str) -> ApiError:
    return ApiError(400, code, soql.format_error(text, position, detail))


class QueryCompiler:
    """Turns SOQL text into a QueryPlan for one org (schema + store + today's date)."""

    def __init__(self, schema: OrgSchema, store: OrgStore) -> None:
        self.schema = schema
        self.store = store

    def compile(self, text: str, today: date) -> QueryPlan:
        try:
            query = soql.parse(text)
        except soql.SoqlSyntaxError as exc:
            raise ApiError(400, "MALFORMED_QUERY", exc.salesforce_message()) from None
        obj = self.schema.object_named(query.sobject)
        if obj is None:
            raise _error(
                "INVALID_TYPE",
                text,
                query.sobject_position,
                f"sObject type '{query.sobject}' is not supported. If you are attempting to use a custom "
                "object, be sure to append the '__c' after the entity name. Please reference your WSDL or "
                "the describe call for the appropriate names.",
            )
        ctx = _Ctx(self, obj, text, today)
        aggregate_items = [item for item in query.select if isinstance(item, soql.AggregateItem)]
        plain = [item for item in query.select if isinstance(item, soql.FieldPath)]
        children = [
            self._child_plan(obj, item, text, today)
            for item in query.select
            if isinstance(item, soql.SubQuery)
        ]
        count_only = False
        aggregates: list[Aggregate] = []
        group_by = [ctx.resolve(fp) for fp in query.group_by]
        grouped_paths = {tuple(p.lower() for p in rf.path) for rf in group_by}
        if aggregate_items or group_by:
            for fp in plain:
                if tuple(p.lower() for p in ctx.resolve(fp).path) not in grouped_paths:
                    raise _error(
                        "MALFORMED_QUERY",
                        text,
                        fp.position,
                        f"Field must be grouped or aggregated: {'.'.join(fp.parts)}",
                    )
            for item in query.order_by:
                if tuple(p.lower() for p in ctx.resolve(item.field).path) not in grouped_paths:
                    raise _error(
                        "MALFORMED_QUERY",
                        text,
                        item.field.position,
                        "Ordered field must be grouped or aggregated: " + ".".join(item.field.parts),
                    )
            if any(a.field is None for a in aggregate_items):
                if len(query.select) > 1 or group_by:
                    raise _error(
                        "MALFORMED_QUERY",
                        text,
                        aggregate_items[0].position,
                        "COUNT() must be the only element of the SELECT list",
                    )
                count_only = True
            unnamed = 0
            for agg_item in aggregate_items if not count_only else ():
                assert agg_item.field is not None
                rf = ctx.resolve(agg_item.field)
                if agg_item.function in ("SUM", "AVG") and rf.field.type not in NUMBER_TYPES:
                    raise _error(
                        "MALFORMED_QUERY",
                        text,
                        agg_item.position,
                        f"field {'.'.join(agg_item.field.parts)} does not support aggregate operator "
                        f"{agg_item.function}",
                    )
                alias = agg_item.alias
                if alias is None:
                    alias, unnamed = f"expr{unnamed}", unnamed + 1
                aggregates.append(Aggregate(alias, agg_item.function, ctx.getter(rf)))
        fields: list[ResolvedField] = []
        seen: set[tuple[str, ...]] = set()
        for fp in plain if not (aggregate_items or group_by) else ():
            rf = ctx.resolve(fp)
            key = tuple(p.lower() for p in rf.path)
            if key in seen:
                raise _error(
                    "MALFORMED_QUERY", text, fp.position, f"duplicate field selected: {'.'.join(fp.parts)}"
                )
            seen.add(key)
            fields.append(rf)
        predicate = ctx.condition(query.where) if query.where is not None else None
        sort_keys = tuple(
            SortKey(ctx.sort_getter(ctx.resolve(item.field)), item.descending, item.nulls_first)
            for item in query.order_by
        )
        if query.offset is not None and query.offset > 2000:
            raise ApiError(400, "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
        return QueryPlan(
            sobject=obj,
            predicate=predicate,
            sort_keys=sort_keys,
            limit=query.limit,
            offset=query.offset,
            count_only=count_only,
            aggregates=tuple(aggregates),
            group_by=tuple(ctx.getter(rf) for rf in group_by),
            group_output=tuple(
                (rf.path[-1], ctx.getter(rf)) for rf in (ctx.resolve(fp) for fp in plain) if group_by
            ),
            fields=tuple(fields),
            project=_with_children(self.store, _projector(self.schema, self.store, obj, fields), children),
            columns=tuple((".".join(rf.path), ctx.getter(rf)) for rf in fields),
            has_subqueries=bool(children),
        )

    def _child_plan(self, parent: ObjectDef, sub: soql.SubQuery, text: str, today: date) -> _ChildPlan:
        name = sub.query.sobject
        relation = next(
            (
                r
                for r in self.schema.children_of(parent.name)
                if r.relationship_name and r.relationship_name.lower() == name.lower()
            ),
            None,
        )
        if relation is None:
            raise _error(
                "INVALID_TYPE",
                text,
                sub.query.sobject_position,
                f"Didn't understand relationship '{name}' in FROM part of query call. If you are attempting "
                "to use a custom relationship, be sure to append the '__r' after the custom relationship "
                "name. Please reference your WSDL or the describe call for the appropriate names.",
            )
        child = self.schema.objects[relation.child]
        ctx = _Ctx(self, child, text, today)
        fields = []
        for item in sub.query.select:
            if not isinstance(item, soql.FieldPath):
                raise _error("MALFORMED_QUERY", text, item.position, "unexpected token: COUNT")
            fields.append(ctx.resolve(item))
        return _ChildPlan(
            name=str(relation.relationship_name),
            child=child.name,
            field=relation.field,
            predicate=ctx.condition(sub.query.where) if sub.query.where is not None else None,
            sort_keys=tuple(
                SortKey(ctx.sort_getter(ctx.resolve(i.field)), i.descending, i.nulls_first)
                for i in sub.query.order_by
            ),
            limit=sub.query.limit,
            project=_projector(self.schema, self.store, child, fields),
        )

    def execute(self, plan: QueryPlan, include_deleted: bool) -> list[Record]:
        """The matching rows in result order, after OFFSET and LIMIT."""
        rows: Iterable[Record] = self.store.tables[plan.sobject.name].values()
        if not include_deleted and "IsDeleted" in plan.sobject.fields:
            rows = (r for r in rows if not r["IsDeleted"])
        if plan.predicate is not None:
            rows = filter(plan.predicate, rows)
        result = list(rows)
        if plan.grouped:
            return result  # ordered and limited per group by `aggregate`
        for key in reversed(plan.sort_keys):
            result = _sorted(result, key)
        start = plan.offset or 0
        end = start + plan.limit if plan.limit is not None else None
        if start or end is not None:
            result = result[start:end]
        return result


def aggregate(plan: QueryPlan, rows: list[Record]) -> list[dict[str, Any]]:
    """AggregateResult rows: one per group (one overall without GROUP BY), ordered and limited."""
    groups: dict[tuple[Any, ...], list[Record]] = {}
    for row in rows:
        groups.setdefault(tuple(get(row) for get in plan.group_by), []).append(row)
    if not plan.group_by and not groups:
        groups[()] = []
    ordered = list(groups.values())
    for key in reversed(plan.sort_keys):
        ordered = _sorted_groups(ordered, key)
    start = plan.offset or 0
    ordered = ordered[start : start + plan.limit if plan.limit is not None else None]
    out = []
    for members in ordered:
        record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        for name, get in plan.group_output:
            record[name] = get(members[0]) if members else None
        for agg in plan.aggregates:
            record[agg.alias] = _apply_aggregate(agg, members)
        out.append(record)
    return out


def _apply_aggregate(agg: Aggregate, members: list[Record]) -> Any:
    assert agg.get is not None
    values = [v for v in map(agg.get, members) if v is not None]
    if agg.function == "COUNT":
        return len(values)
    if agg.function == "COUNT_DISTINCT":
        return len({v.lower() if isinstance(v, str) else v for v in values})
    if not values:
        return None
    if agg.function == "SUM":
        return sum(values)
    if agg.function == "AVG":
        return sum(values) / len(values)
    return min(values) if agg.function == "MIN" else max(values)


def _sorted_groups(groups: list[list[Record]], key: SortKey) -> list[list[Record]]:
    firsts = _sorted([g[0] for g in groups if g], key)
    by_first = {id(g[0]): g for g in groups if g}
    return [by_first[id(r)] for r in firsts]


def _sorted(rows: list[Record], key: SortKey) -> list[Record]:
    get = key.get
    nulls = [r for r in rows if get(r) is None]
    values = [r for r in rows if get(r) is not None]
    values.sort(key=get, reverse=key.descending)
    return nulls + values if key.nulls_first else values + nulls


class _Ctx:
    def __init__(self, compiler: QueryCompiler, obj: ObjectDef, text: str, today: date) -> None:
        self.compiler = compiler
        self.schema = compiler.schema
        self.store = compiler.store
        self.obj = obj
        self.text = text
        self.today = today

    # ---- names ----
    def resolve(self, fp: soql.FieldPath) -> ResolvedField:
        parts = list(fp.parts)
        if (
            len(parts) > 1
            and parts[0].lower() == self.obj.name.lower()
            and self.obj.relationship(parts[0]) is None
        ):
            parts = parts[1:]
        current: list[ObjectDef] = [self.obj]
        path: list[str] = []
        refs: list[str] = []
        for part in parts[:-1]:
            ref = next((o.relationship(part) for o in current if o.relationship(part) is not None), None)
            if ref is None:
                raise _error(
                    "INVALID_FIELD",
                    self.text,
                    fp.position,
                    f"Didn't understand relationship '{part}' in field path. If you are attempting to use a "
                    "custom relationship, be sure to append the '__r' after the custom relationship name. "
                    "Please reference your WSDL or the describe call for the appropriate names.",
                )
            assert ref.relationship_name is not None
            path.append(ref.relationship_name)
            refs.append(ref.name)
            current = [self.schema.objects[t] for t in ref.reference_to if t in self.schema.objects]
        last = parts[-1]
        f = next((o.field_named(last) for o in current if o.field_named(last) is not None), None)
        if f is None:
            entity = current[0].name if len(current) == 1 else "Name"
            raise _error(
                "INVALID_FIELD",
                self.text,
                fp.position,
                f"No such column '{last}' on entity '{entity}'. If you are attempting to use a custom field, "
                "be sure to append the '__c' after the custom field name. Please reference your WSDL or the "
                "describe call for the appropriate names.",
            )
        path.append(f.name)
        return ResolvedField(tuple(path), tuple(refs), f)

    def getter(self, rf: ResolvedField) -> Getter:
        name = rf.field.name
        if not rf.refs:
            return lambda r: r.get(name)
        refs = rf.refs
        lookup = self.store.lookup

        def get(r: Record) -> Any:
            current: Record | None = r
            for ref in refs:
                assert current is not None
                parent_id = current.get(ref)
                if parent_id is None:
                    return None
                current = lookup(parent_id)
                if current is None:
                    return None
            assert current is not None
            return current.get(name)

        return get

    def sort_getter(self, rf: ResolvedField) -> Getter:
        get = self.getter(rf)
        if rf.field.type in STRING_TYPES:
            return lambda r: v.lower() if (v := get(r)) is not None else None
        return get

    # ---- conditions ----
    def condition(self, cond: soql.Condition) -> Predicate:
        if isinstance(cond, soql.And):
            parts = [self.condition(c) for c in cond.items]
            return lambda r: all(p(r) for p in parts)
        if isinstance(cond, soql.Or):
            parts = [self.condition(c) for c in cond.items]
            return lambda r: any(p(r) for p in parts)
        if isinstance(cond, soql.Not):
            inner = self.condition(cond.item)
            return lambda r: not inner(r)
        return self.comparison(cond)

    def comparison(self, cmp: soql.Comparison) -> Predicate:
        rf = self.resolve(cmp.field)
        f = rf.field
        get = self.getter(rf)
        text_field = f.type in STRING_TYPES
        if text_field:
            raw = get

            def lowered(r: Record) -> Any:
                v = raw(r)
                return v.lower() if v is not None else None

            get = lowered
        op = cmp.op
        if isinstance(cmp.value, soql.SemiJoin):
            ids = self.semi_join(f, cmp.field, cmp.value)
            if op == "IN":
                return lambda r: get(r) in ids
            return lambda r: get(r) not in ids
        if op in ("IN", "NOT IN"):
            assert isinstance(cmp.value, tuple)
            values = set()
            for item in cmp.value:
                if isinstance(item, soql.DateRange):
                    raise _error(
                        "MALFORMED_QUERY", self.text, item.position, f"unexpected token: {item.name}"
                    )
                values.add(self.literal(f, item))
            if op == "IN":
                return lambda r: get(r) in values
            return lambda r: get(r) not in values
        value = cmp.value
        assert not isinstance(value, tuple)
        if op == "LIKE":
            if not text_field:
                raise _error(
                    "INVALID_FIELD",
                    self.text,
                    cmp.field.position,
                    f"invalid operator on {f.type} field: LIKE",
                )
            assert isinstance(value, soql.Literal) and isinstance(value.value, str)
            pattern = _like_regex(value.value)
            return lambda r: (v := get(r)) is not None and pattern.fullmatch(v) is not None
        if isinstance(value, soql.DateRange):
            return self.date_range_predicate(f, get, op, value)
        lit = self.literal(f, value)
        if lit is None:
            if op == "=":
                return lambda r: get(r) is None
            if op == "!=":
                return lambda r: get(r) is not None
            return lambda r: False
        if op == "=":
            return lambda r: get(r) == lit
        if op == "!=":
            return lambda r: get(r) != lit
        if f.type == "boolean":
            raise _error(
                "INVALID_FIELD", self.text, cmp.field.position, f"invalid operator on boolean field: {op}"
            )
        if op == "<":
            return lambda r: (v := get(r)) is not None and v < lit
        if op == "<=":
            return lambda r: (v := get(r)) is not None and v <= lit
        if op == ">":
            return lambda r: (v := get(r)) is not None and v > lit
        return lambda r: (v := get(r)) is not None and v >= lit

    def semi_join(self, f: FieldDef, fp: soql.FieldPath, join: soql.SemiJoin) -> frozenset[Any]:
        """The ids a semi-join selects, read once when the query compiles."""
        if f.type not in ID_TYPES:
            raise _error(
                "MALFORMED_QUERY",
                self.text,
                fp.position,
                f"semi-join field {'.'.join(fp.parts)} must be an Id or a lookup",
            )
        inner = join.query
        obj = self.schema.object_named(inner.sobject)
        if obj is None:
            raise _error(
                "INVALID_TYPE",
                self.text,
                inner.sobject_position,
                f"sObject type '{inner.sobject}' is not supported.",
            )
        selected = inner.select[0] if len(inner.select) == 1 else None
        if not isinstance(selected, soql.FieldPath):
            raise _error(
                "MALFORMED_QUERY",
                self.text,
                join.position,
                "a semi-join subquery must select exactly one Id or lookup field",
            )
        ctx = _Ctx(self.compiler, obj, self.text, self.today)
        rf = ctx.resolve(selected)
        if rf.field.type not in ID_TYPES:
            raise _error(
                "MALFORMED_QUERY",
                self.text,
                selected.position,
                "a semi-join subquery must select an Id or lookup field",
            )
        predicate = ctx.condition(inner.where) if inner.where is not None else None
        get = ctx.getter(rf)
        return frozenset(
            get(row)
            for row in self.store.tables[obj.name].values()
            if not row.get("IsDeleted") and (predicate is None or predicate(row))
        )

    def literal(self, f: FieldDef, lit: soql.Value) -> Any:
        """The literal in the stored form of `f` (lower-cased for text), or an INVALID_FIELD error."""
        assert isinstance(lit, soql.Literal)
        if lit.kind == "null":
            return None
        t = f.type
        expected: str
        if t in STRING_TYPES:
            if lit.kind == "string":
                assert isinstance(lit.value, str)
                # Text fields store "" as null, so '' in a filter means null.
                return lit.value.lower() if lit.value != "" else None
            expected = "string and should be enclosed in quotes"
        elif t in ID_TYPES:
            if lit.kind == "string":
                assert isinstance(lit.value, str)
                normalized = normalize_id(lit.value)
                if normalized is None:
                    raise _error(
                        "INVALID_QUERY_FILTER_OPERATOR",
                        self.text,
                        lit.position,
                        f"invalid ID field: {lit.value}",
                    )
                return normalized
            expected = "id and should be enclosed in quotes"
        elif t == "boolean":
            if lit.kind == "boolean":
                return lit.value
            expected = "boolean and should not be enclosed in quotes"
        elif t in NUMBER_TYPES:
            if lit.kind == "number":
                assert isinstance(lit.value, float)
                return int(lit.value) if t == "int" and lit.value == int(lit.value) else lit.value
            expected = (
                "double and should not be enclosed in quotes"
                if t != "int"
                else "int and should not be enclosed in quotes"
            )
        elif t == "date":
            if lit.kind == "date":
                assert isinstance(lit.value, date)
                return lit.value.isoformat()
            expected = "date and should not be enclosed in quotes"
        elif t == "datetime":
            if lit.kind == "datetime":
                assert isinstance(lit.value, datetime)
                return sf_datetime_literal(lit.value)
            expected = "dateTime and should not be enclosed in quotes"
        else:
            expected = t
        raise _error(
            "INVALID_FIELD",
            self.text,
            lit.position,
            f"value of filter criterion for field '{f.name}' must be of type {expected}",
        )

    def date_range_predicate(self, f: FieldDef, get: Getter, op: str, value: soql.DateRange) -> Predicate:
        if f.type not in ("date", "datetime"):
            raise _error(
                "INVALID_FIELD",
                self.text,
                value.position,
                f"value of filter criterion for field '{f.name}' must be of type {f.type}",
            )
        start_day, end_day = date_range(value.name, value.n, self.today)
        if f.type == "date":
            start: str = start_day.isoformat()
            end: str = end_day.isoformat()
        else:
            start = start_day.isoformat() + "T00:00:00.000+0000"
            end = end_day.isoformat() + "T00:00:00.000+0000"
        if op == "=":
            return lambda r: (v := get(r)) is not None and start <= v < end
        if op == "!=":
            return lambda r: (v := get(r)) is None or not (start <= v < end)
        if op == "<":
            return lambda r: (v := get(r)) is not None and v < start
        if op == "<=":
            return lambda r: (v := get(r)) is not None and v < end
        if op == ">":
            return lambda r: (v := get(r)) is not None and v >= end
        return lambda r: (v := get(r)) is not None and v >= start


def _like_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "%_":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _add_months(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def date_range(name: str, n: int | None, today: date) -> tuple[date, date]:
    """[start, end) of a relative date literal in the org's time zone (UTC here); weeks start on Sunday."""
    one = timedelta(days=1)
    week_start = today - timedelta(days=(today.weekday() + 1) % 7)
    month_start = today.replace(day=1)
    year_start = today.replace(month=1, day=1)
    k = n or 0
    ranges: dict[str, tuple[date, date]] = {
        "TODAY": (today, today + one),
        "YESTERDAY": (today - one, today),
        "TOMORROW": (today + one, today + 2 * one),
        "THIS_WEEK": (week_start, week_start + 7 * one),
        "LAST_WEEK": (week_start - 7 * one, week_start),
        "NEXT_WEEK": (week_start + 7 * one, week_start + 14 * one),
        "THIS_MONTH": (month_start, _add_months(month_start, 1)),
        "LAST_MONTH": (_add_months(month_start, -1), month_start),
        "NEXT_MONTH": (_add_months(month_start, 1), _add_months(month_start, 2)),
        "THIS_YEAR": (year_start, year_start.replace(year=year_start.year + 1)),
        "LAST_YEAR": (year_start.replace(year=year_start.year - 1), year_start),
        "NEXT_YEAR": (
            year_start.replace(year=year_start.year + 1),
            year_start.replace(year=year_start.year + 2),
        ),
        "LAST_90_DAYS": (today - 90 * one, today + one),
        "NEXT_90_DAYS": (today + one, today + 91 * one),
        "LAST_N_DAYS": (today - k * one, today + one),
        "NEXT_N_DAYS": (today + one, today + (k + 1) * one),
        "N_DAYS_AGO": (today - k * one, today - (k - 1) * one),
        "LAST_N_WEEKS": (week_start - 7 * k * one, week_start),
        "NEXT_N_WEEKS": (week_start + 7 * one, week_start + 7 * (k + 1) * one),
        "N_WEEKS_AGO": (week_start - 7 * k * one, week_start - 7 * (k - 1) * one),
        "LAST_N_MONTHS": (_add_months(month_start, -k), month_start),
        "NEXT_N_MONTHS": (_add_months(month_start, 1), _add_months(month_start, k + 1)),
        "N_MONTHS_AGO": (_add_months(month_start, -k), _add_months(month_start, -k + 1)),
    }
    return ranges[name]


# ---- projection ---------------------------------------------------------------------------------


def _with_children(
    store: OrgStore, project: Callable[[Record, str], dict[str, Any]], children: list[_ChildPlan]
) -> Callable[[Record, str], dict[str, Any]]:
    """Adds child subquery results ({totalSize, done, records} or null) to each projected row."""
    if not children:
        return project
    # Built on first use and kept with the plan, so every page of one query sees the same children.
    groups: dict[str, dict[str, list[Record]]] = {}

    def grouped(plan: _ChildPlan) -> dict[str, list[Record]]:
        found = groups.get(plan.name)
        if found is None:
            found = {}
            for row in store.tables[plan.child].values():
                parent_id = row.get(plan.field)
                if parent_id is None or row.get("IsDeleted"):
                    continue
                if plan.predicate is None or plan.predicate(row):
                    found.setdefault(parent_id, []).append(row)
            for key, rows in found.items():
                for sort_key in reversed(plan.sort_keys):
                    rows = _sorted(rows, sort_key)
                found[key] = rows[: plan.limit] if plan.limit is not None else rows
            groups[plan.name] = found
        return found

    def project_with_children(record: Record, version: str) -> dict[str, Any]:
        out = project(record, version)
        for plan in children:
            rows = grouped(plan).get(record["Id"])
            out[plan.name] = (
                {"totalSize": len(rows), "done": True, "records": [plan.project(r, version) for r in rows]}
                if rows
                else None
            )
        return out

    return project_with_children


@dataclass
class _Node:
    entries: list[tuple[str, str, _Node | None]]  # (output name, field or lookup field, child node)


def _projector(
    schema: OrgSchema, store: OrgStore, obj: ObjectDef, fields: list[ResolvedField]
) -> Callable[[Record, str], dict[str, Any]]:
    root = _Node([])
    for rf in fields:
        node = root
        for rel, ref in zip(rf.path[:-1], rf.refs, strict=True):
            child = next((c for name, _, c in node.entries if name == rel and c is not None), None)
            if child is None:
                child = _Node([])
                node.entries.append((rel, ref, child))
            node = child
        node.entries.append((rf.path[-1], rf.path[-1], None))
    by_prefix = {o.key_prefix: o.name for o in schema.objects.values()}
    lookup = store.lookup
    sobject = obj.name

    def project_node(record: Record, node: _Node, sobject_name: str, version: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "attributes": {
                "type": sobject_name,
                "url": f"/services/data/v{version}/sobjects/{sobject_name}/{record['Id']}",
            }
        }
        for name, source, child in node.entries:
            if child is None:
                out[name] = record.get(source)
            else:
                parent_id = record.get(source)
                parent = lookup(parent_id) if parent_id is not None else None
                out[name] = (
                    project_node(parent, child, by_prefix[parent_id[:3]], version)
                    if parent is not None and parent_id is not None
                    else None
                )
        return out

    if all(child is None for _, _, child in root.entries):
        names = [name for name, _, _ in root.entries]

        def project_flat(record: Record, version: str) -> dict[str, Any]:
            out: dict[str, Any] = {
                "attributes": {
                    "type": sobject,
                    "url": f"/services/data/v{version}/sobjects/{sobject}/{record['Id']}",
                }
            }
            for name in names:
                out[name] = record.get(name)
            return out

        return project_flat
    return lambda record, version: project_node(record, root, sobject, version)
