"""CRM search semantics: request validation, filter groups, sorting and paging over indexed records (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.hubspot.sandbox.errors import ErrorDetail, HubSpotError, validation
from connectors.hubspot.sandbox.schema import ObjectType, PropertyDef
from connectors.hubspot.sandbox.values import datetime_value_ms, number_value

OPERATORS = frozenset(
    {
        "LT",
        "LTE",
        "GT",
        "GTE",
        "EQ",
        "NEQ",
        "BETWEEN",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
        "CONTAINS_TOKEN",
        "NOT_CONTAINS_TOKEN",
    }
)
_TOKEN_SPLIT = re.compile(r"[\s,;:/()\[\]\"']+")
Props = Mapping[str, str]
Predicate = Callable[[Props], bool]


@dataclass(frozen=True)
class SearchLimits:
    max_groups: int = 5
    max_filters_per_group: int = 6
    max_filters_total: int = 18
    max_limit: int = 200
    max_results: int = 10_000


@dataclass(frozen=True)
class SearchRequest:
    predicate: Predicate
    sort_property: str | None
    descending: bool
    query: str | None
    properties: tuple[str, ...]
    limit: int
    after: int


def _bad(message: str, code: str = "INVALID_SEARCH") -> HubSpotError:
    return validation(message, [ErrorDetail(message, code)])


def _comparable(prop: PropertyDef, value: str) -> float | str | None:
    if prop.type in ("datetime", "date"):
        return datetime_value_ms(value)
    if prop.type == "number":
        return number_value(value)
    return value.lower()


def _tokens(value: str) -> list[str]:
    return [t for t in _TOKEN_SPLIT.split(value.lower()) if t]


def _token_match(pattern: str, value: str) -> bool:
    pat = pattern.lower().strip()
    if "*" in pat:
        rx = re.compile("^" + ".*".join(re.escape(p) for p in pat.split("*")) + "$")
        return bool(rx.match(value.lower())) or any(rx.match(t) for t in _tokens(value))
    return pat == value.lower() or pat in _tokens(value)


def _compile_filter(t: ObjectType, raw: Mapping[str, Any]) -> Predicate:
    name = raw.get("propertyName")
    operator = raw.get("operator")
    if not isinstance(name, str) or not isinstance(operator, str):
        raise _bad("Each filter needs propertyName and operator")
    if operator not in OPERATORS:
        raise _bad(f"Unknown operator {operator}; expected one of {', '.join(sorted(OPERATORS))}")
    prop = t.properties.get(name)
    if prop is None:
        raise validation(
            f"There was a problem with the request: property {name} does not exist on {t.singular}",
            [
                ErrorDetail(
                    f'Property "{name}" does not exist', "PROPERTY_DOESNT_EXIST", {"propertyName": [name]}
                )
            ],
        )
    if operator == "HAS_PROPERTY":
        return lambda p: bool(p.get(name))
    if operator == "NOT_HAS_PROPERTY":
        return lambda p: not p.get(name)
    if operator in ("IN", "NOT_IN"):
        values = raw.get("values")
        if not isinstance(values, list) or not values:
            raise _bad(f"{operator} on {name} needs a non-empty values list")
        wanted = {_comparable(prop, str(v)) for v in values}
        if operator == "IN":
            return lambda p: name in p and _comparable(prop, p[name]) in wanted
        return lambda p: name not in p or _comparable(prop, p[name]) not in wanted
    value = raw.get("value")
    if value is None:
        raise _bad(f"{operator} on {name} needs a value")
    text = str(value)
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        if operator == "CONTAINS_TOKEN":
            return lambda p: name in p and _token_match(text, p[name])
        return lambda p: name not in p or not _token_match(text, p[name])
    target = _comparable(prop, text)
    if target is None:
        raise _bad(f"{text} is not a valid value for {name}")
    if operator == "BETWEEN":
        high_raw = raw.get("highValue")
        high = _comparable(prop, str(high_raw)) if high_raw is not None else None
        if high is None:
            raise _bad(f"BETWEEN on {name} needs a valid highValue")

        def between(p: Props) -> bool:
            v = _comparable(prop, p[name]) if name in p else None
            return v is not None and type(v) is type(target) and target <= v <= high  # type: ignore[operator]

        return between
    if operator == "EQ":
        return lambda p: name in p and _comparable(prop, p[name]) == target
    if operator == "NEQ":
        return lambda p: name not in p or _comparable(prop, p[name]) != target

    def compare(p: Props) -> bool:
        v = _comparable(prop, p[name]) if name in p else None
        if v is None or type(v) is not type(target):
            return False
        if operator == "LT":
            return v < target  # type: ignore[operator]
        if operator == "LTE":
            return v <= target  # type: ignore[operator]
        if operator == "GT":
            return v > target  # type: ignore[operator]
        return v >= target  # type: ignore[operator]

    return compare


def parse_request(t: ObjectType, body: Mapping[str, Any], limits: SearchLimits) -> SearchRequest:
    """Validate a search body against HubSpot's documented limits and compile its filters."""
    groups_raw = body.get("filterGroups") or []
    if not isinstance(groups_raw, list):
        raise _bad("filterGroups must be a list")
    if len(groups_raw) > limits.max_groups:
        raise _bad(
            f"Too many filter groups: {len(groups_raw)} (maximum {limits.max_groups})",
            "TOO_MANY_FILTER_GROUPS",
        )
    total = 0
    groups: list[list[Predicate]] = []
    for g in groups_raw:
        filters = g.get("filters") if isinstance(g, dict) else None
        if not isinstance(filters, list):
            raise _bad("Each filter group needs a filters list")
        if len(filters) > limits.max_filters_per_group:
            raise _bad(
                f"Too many filters in a group: {len(filters)} (maximum {limits.max_filters_per_group})",
                "TOO_MANY_FILTERS",
            )
        total += len(filters)
        groups.append([_compile_filter(t, f) for f in filters if isinstance(f, dict)])
    if total > limits.max_filters_total:
        raise _bad(f"Too many filters: {total} (maximum {limits.max_filters_total})", "TOO_MANY_FILTERS")

    sorts = body.get("sorts") or []
    if not isinstance(sorts, list) or len(sorts) > 1:
        raise _bad("Only one sort is supported")
    sort_property: str | None = None
    descending = False
    if sorts:
        s = sorts[0]
        if isinstance(s, dict):
            sort_property = s.get("propertyName")
            descending = str(s.get("direction", "ASCENDING")).upper() == "DESCENDING"
        elif isinstance(s, str):
            descending = s.startswith("-")
            sort_property = s.lstrip("-")
        if not sort_property or sort_property not in t.properties:
            raise validation(
                f"Cannot sort on {sort_property!r}: no such property",
                [ErrorDetail(f'Property "{sort_property}" does not exist', "PROPERTY_DOESNT_EXIST")],
            )

    limit = body.get("limit", 10)
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        raise _bad("limit must be an integer") from None
    if limit < 1 or limit > limits.max_limit:
        raise _bad(f"limit must be between 1 and {limits.max_limit}")
    after_raw = body.get("after") or 0
    try:
        after = int(after_raw)
    except (TypeError, ValueError):
        raise _bad(f"after must be an integer offset, got {after_raw!r}") from None
    if after < 0:
        raise _bad("after must not be negative")
    if after + limit > limits.max_results:
        raise _bad(
            f"Search results are limited to {limits.max_results}; after={after} with limit={limit} "
            "goes beyond it",
            "SEARCH_RESULT_LIMIT",
        )
    props = body.get("properties") or []
    query = body.get("query")

    def predicate(p: Props) -> bool:
        if not groups:
            return True
        return any(all(f(p) for f in group) for group in groups)

    return SearchRequest(
        predicate=predicate,
        sort_property=sort_property,
        descending=descending,
        query=str(query) if query else None,
        properties=tuple(str(x) for x in props),
        limit=limit,
        after=after,
    )


_QUERY_FIELDS = {
    "contacts": ("firstname", "lastname", "email", "phone", "company", "hs_additional_emails"),
    "companies": ("name", "domain", "phone", "website"),
    "deals": ("dealname",),
}


def run(
    t: ObjectType, req: SearchRequest, candidates: Iterable[tuple[int, Props]]
) -> tuple[int, list[tuple[int, Props]]]:
    """Filter, sort and page: (total matches, this page)."""
    matches = [(rid, p) for rid, p in candidates if req.predicate(p)]
    if req.query:
        fields = _QUERY_FIELDS.get(t.name, ())
        q = req.query.lower()
        matches = [(rid, p) for rid, p in matches if any(q in (p.get(f) or "").lower() for f in fields)]
    if req.sort_property:
        prop = t.properties[req.sort_property]
        name = req.sort_property

        def key(item: tuple[int, Props]) -> Any:
            return _comparable(prop, item[1][name])

        # Candidates arrive in id order and sort is stable, so ids break ties ascending either way;
        # records without a comparable value come last.
        present = [m for m in matches if m[1].get(name) and key(m) is not None]
        absent = [m for m in matches if not (m[1].get(name) and key(m) is not None)]
        present.sort(key=key, reverse=req.descending)
        matches = present + absent
    return len(matches), matches[req.after : req.after + req.limit]
