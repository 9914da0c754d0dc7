"""Load a mapping file (YAML) into a FlowMapping, reporting every problem at once with its line.

Messages read `mappings/contacts.yaml:23: field 'lifecycle': unknown rule 'to_way' (...)`. This checks the
file on its own; syncd.mapping.validate checks it against the live schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from syncd.core.normalize import Value
from syncd.core.rules import Direction, NullPolicy, Rule, SurvivorRule
from syncd.errors import ConfigError
from syncd.mapping.filters import LIST_OPS, VALUELESS, Condition, InclusionFilter, Op
from syncd.mapping.model import FieldMapping, FlowMapping, MatchSettings, OnCreate, RecordLink
from syncd.mapping.transforms import (
    DateFormat,
    Default,
    OwnerTransform,
    ParseDate,
    Round,
    TextCase,
    ToDate,
    ToDatetime,
    ToNumber,
    ToText,
    Transform,
    ValueMap,
)

_E = TypeVar("_E", Rule, Direction, NullPolicy, SurvivorRule, Op)

_TOP_KEYS = {"flow", "objects", "identity", "link", "on_create", "matching", "include", "fields"}
_SYSTEMS = ("hubspot", "salesforce")
_FIELD_KEYS = {"hubspot", "salesforce", "direction", "rule", "null_policy", "to_crm", "to_marketing"}
_MATCH_KEYS = {
    "duplicates",
    "target_candidates",
    "create_as",
    "contact_when_account_domain",
    "object_preference",
}
_BARE_TRANSFORMS: dict[str, Callable[[int], Transform]] = {
    "trim": lambda line: TextCase(line, "trim"),
    "lower": lambda line: TextCase(line, "lower"),
    "upper": lambda line: TextCase(line, "upper"),
    "to_number": ToNumber,
    "to_text": ToText,
    "to_date": ToDate,
    "to_datetime": ToDatetime,
    "owner": OwnerTransform,
}
_ARG_TRANSFORMS = ("map", "default", "date_format", "parse_date", "round")
_HINT = "edit the mapping file; mappings/README.md describes the format"


class LineMap(dict[Any, Any]):
    """A YAML mapping that remembers its own line and the line of each key (1-based)."""

    def __init__(self, line: int = 1) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}
        self.duplicate_keys: list[tuple[Any, int]] = []


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_map(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    data = LineMap(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            if key in data:
                data.duplicate_keys.append((key, line))
            data[key] = loader.construct_object(value_node, deep=True)
        except TypeError:
            data.duplicate_keys.append((str(key), line))
            continue
        data.key_lines[key] = line
    return data


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def _line(data: Any, key: Any, default: int) -> int:
    return data.key_lines.get(key, default) if isinstance(data, LineMap) else default


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self._problems: list[tuple[int, str]] = []

    @property
    def problems(self) -> list[str]:
        """In file order, so the list reads alongside the file."""
        return [message for _line, message in sorted(self._problems, key=lambda item: item[0])]

    def problem(self, line: int, message: str, entry: str | None = None) -> None:
        where = f"field {entry!r}: " if entry is not None else ""
        self._problems.append((line, f"{self.source}:{line}: {where}{message}"))

    def mapping(self, value: Any, line: int, what: str, entry: str | None = None) -> LineMap | None:
        if isinstance(value, LineMap):
            for key, dup_line in value.duplicate_keys:
                self.problem(dup_line, f"{what}: key {key!r} is given twice", entry)
            return value
        self.problem(line, f"{what} must be a mapping", entry)
        return None

    def unknown_keys(self, data: LineMap, allowed: set[str], what: str, entry: str | None = None) -> None:
        for key in data:
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                self.problem(
                    data.key_lines[key], f"unknown key {key!r} in {what} (expected {expected})", entry
                )

    def text(self, value: Any, line: int, what: str, entry: str | None = None) -> str | None:
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.problem(line, f"{what} must be a non-empty string", entry)
        return None

    def choice(self, enum: type[_E], value: Any, line: int, what: str, entry: str | None = None) -> _E | None:
        try:
            return enum(value)
        except ValueError:
            options = ", ".join(member.value for member in enum)
            self.problem(line, f"unknown {what} {value!r} (expected one of: {options})", entry)
            return None

    def parse(self, data: Any) -> FlowMapping | None:
        top = self.mapping(data, 1, "the mapping file")
        if top is None:
            return None
        self.unknown_keys(top, _TOP_KEYS, "the mapping file")
        for key in ("flow", "objects", "fields"):
            if key not in top:
                self.problem(top.line, f"missing required key {key!r}")
        # People are matched by an identity field; other records by a link of ids (exactly one of both).
        if "identity" not in top and "link" not in top:
            self.problem(top.line, "missing required key 'identity'")
        if "identity" in top and "link" in top:
            self.problem(
                top.key_lines["link"], "give either 'identity' (people) or 'link' (other records), not both"
            )
        flow = self.text(top.get("flow", "contacts"), _line(top, "flow", top.line), "flow") or "contacts"
        hubspot_object, salesforce_objects = self.objects(top)
        fields = self.fields(top, salesforce_objects)
        identity = self.identity(top, fields) if "identity" in top else ""
        link = self.link(top) if "link" in top else None
        on_create = self.on_create(top)
        matching = self.matching(top)
        include = self.include(top)
        if self._problems:
            return None
        assert identity is not None
        return FlowMapping(
            source=self.source,
            flow=flow,
            hubspot_object=hubspot_object,
            salesforce_objects=salesforce_objects,
            identity=identity,
            fields=fields,
            matching=matching,
            include=include,
            lines=dict(top.key_lines),
            link=link,
            on_create=on_create,
        )

    def link(self, top: LineMap) -> RecordLink | None:
        line = top.key_lines["link"]
        data = self.mapping(top["link"], line, "link")
        if data is None:
            return None
        self.unknown_keys(data, set(_SYSTEMS), "link")
        names: dict[str, str | None] = {}
        for system in _SYSTEMS:
            if system not in data:
                self.problem(line, f"link.{system} is missing: name the field holding the other system's id")
                continue
            names[system] = self.text(data[system], data.key_lines[system], f"link.{system}")
        if names.get("hubspot") is None or names.get("salesforce") is None:
            return None
        return RecordLink(hubspot=str(names["hubspot"]), salesforce=str(names["salesforce"]), line=line)

    def on_create(self, top: LineMap) -> OnCreate:
        if "on_create" not in top or top["on_create"] is None:
            return OnCreate()
        line = top.key_lines["on_create"]
        data = self.mapping(top["on_create"], line, "on_create")
        if data is None:
            return OnCreate()
        self.unknown_keys(data, set(_SYSTEMS), "on_create")
        values: dict[str, dict[str, Value]] = {system: {} for system in _SYSTEMS}
        lines: dict[tuple[str, str], int] = {}
        for system in _SYSTEMS:
            if data.get(system) is None:
                continue
            sys_line = data.key_lines[system]
            given = self.mapping(data[system], sys_line, f"on_create.{system}")
            if given is None:
                continue
            for name, value in given.items():
                where = given.key_lines.get(name, sys_line)
                if value is None or isinstance(value, list | dict):
                    self.problem(where, f"on_create.{system}.{name} needs a single non-null value")
                    continue
                values[system][str(name)] = value
                lines[(system, str(name))] = where
        return OnCreate(hubspot=values["hubspot"], salesforce=values["salesforce"], lines=lines)

    def objects(self, top: LineMap) -> tuple[str, tuple[str, ...]]:
        line = _line(top, "objects", top.line)
        data = self.mapping(top.get("objects", LineMap()), line, "objects")
        if data is None:
            return "contacts", ()
        self.unknown_keys(data, {"hubspot", "salesforce"}, "objects")
        hubspot = self.text(data.get("hubspot", "contacts"), _line(data, "hubspot", line), "objects.hubspot")
        raw = data.get("salesforce", ["Lead", "Contact"])
        sf_line = _line(data, "salesforce", line)
        names = raw if isinstance(raw, list) else [raw]
        salesforce = tuple(n for n in (self.text(n, sf_line, "objects.salesforce") for n in names) if n)
        if not salesforce:
            self.problem(sf_line, "objects.salesforce must name at least one Salesforce object")
        return hubspot or "contacts", salesforce

    def identity(self, top: LineMap, fields: tuple[FieldMapping, ...]) -> str | None:
        line = _line(top, "identity", top.line)
        name = self.text(top.get("identity"), line, "identity") if "identity" in top else None
        if name is not None and name not in {entry.name for entry in fields}:
            self.problem(line, f"identity field {name!r} is not defined under fields")
        return name

    def matching(self, top: LineMap) -> MatchSettings:
        if "matching" not in top:
            return MatchSettings()
        line = _line(top, "matching", top.line)
        data = self.mapping(top["matching"], line, "matching")
        if data is None:
            return MatchSettings()
        self.unknown_keys(data, _MATCH_KEYS, "matching")
        defaults = MatchSettings()
        duplicates = defaults.duplicates
        if "duplicates" in data:
            duplicates = (
                self.choice(SurvivorRule, data["duplicates"], data.key_lines["duplicates"], "survivor rule")
                or duplicates
            )
        target_candidates: SurvivorRule | None = None
        if data.get("target_candidates") is not None:
            target_candidates = self.choice(
                SurvivorRule, data["target_candidates"], data.key_lines["target_candidates"], "survivor rule"
            )
        create_as = defaults.create_as
        if "create_as" in data:
            create_as = self.text(data["create_as"], data.key_lines["create_as"], "create_as") or create_as
        by_domain = data.get("contact_when_account_domain", False)
        if not isinstance(by_domain, bool):
            self.problem(
                _line(data, "contact_when_account_domain", line),
                "contact_when_account_domain must be true or false",
            )
            by_domain = False
        preference = defaults.object_preference
        if "object_preference" in data:
            raw = data["object_preference"]
            if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
                preference = tuple(raw)
            else:
                self.problem(
                    data.key_lines["object_preference"], "object_preference must be a list of objects"
                )
        return MatchSettings(duplicates, target_candidates, create_as, by_domain, preference)

    def include(self, top: LineMap) -> InclusionFilter:
        if "include" not in top or top["include"] is None:
            return InclusionFilter()
        line = _line(top, "include", top.line)
        data = self.mapping(top["include"], line, "include")
        if data is None:
            return InclusionFilter()
        self.unknown_keys(data, {"hubspot", "salesforce"}, "include")
        per_system: dict[str, tuple[Condition, ...]] = {}
        for system in ("hubspot", "salesforce"):
            raw = data.get(system) or []
            sys_line = _line(data, system, line)
            if not isinstance(raw, list):
                self.problem(sys_line, f"include.{system} must be a list of conditions")
                continue
            conditions = [self.condition(item, sys_line, system) for item in raw]
            per_system[system] = tuple(c for c in conditions if c is not None)
        return InclusionFilter(per_system.get("hubspot", ()), per_system.get("salesforce", ()))

    def condition(self, item: Any, line: int, system: str) -> Condition | None:
        data = self.mapping(item, line, f"an include.{system} condition")
        if data is None:
            return None
        where = data.line
        self.unknown_keys(data, {"field", "op", "value"}, f"an include.{system} condition")
        name = self.text(data.get("field"), where, f"include.{system} condition field")
        op = self.choice(Op, data.get("op"), _line(data, "op", where), "operator")
        if name is None or op is None:
            return None
        value: Any = data.get("value")
        if op in VALUELESS:
            if "value" in data:
                self.problem(where, f"operator {op.value} takes no value")
            return Condition(name, op, None, where)
        if "value" not in data:
            self.problem(where, f"operator {op.value} needs a value")
            return None
        if op in LIST_OPS:
            if not isinstance(value, list):
                self.problem(_line(data, "value", where), f"operator {op.value} needs a list of values")
                return None
            return Condition(name, op, tuple(value), where)
        if isinstance(value, list | dict):
            self.problem(_line(data, "value", where), f"operator {op.value} needs a single value")
            return None
        return Condition(name, op, value, where)

    def fields(self, top: LineMap, objects: tuple[str, ...]) -> tuple[FieldMapping, ...]:
        line = _line(top, "fields", top.line)
        data = self.mapping(top.get("fields", LineMap()), line, "fields")
        if data is None:
            return ()
        result: list[FieldMapping] = []
        for name, entry in data.items():
            parsed = self.field(str(name), entry, data.key_lines.get(name, line), objects)
            if parsed is not None:
                result.append(parsed)
        return tuple(result)

    def field(self, name: str, raw: Any, line: int, objects: tuple[str, ...]) -> FieldMapping | None:
        data = self.mapping(raw, line, "the field entry", name)
        if data is None:
            return None
        self.unknown_keys(data, _FIELD_KEYS, "a field entry", name)
        ok = True
        hubspot = None
        if "hubspot" not in data:
            self.problem(line, "missing 'hubspot' (the HubSpot property)", name)
            ok = False
        else:
            hubspot = self.text(data["hubspot"], data.key_lines["hubspot"], "hubspot", name)
        salesforce = self.salesforce(data, line, name, objects)
        direction = Direction.BOTH
        if "direction" in data:
            parsed_direction = self.choice(
                Direction, data["direction"], data.key_lines["direction"], "direction", name
            )
            direction = parsed_direction or direction
            ok = ok and parsed_direction is not None
        rule = Rule.TWO_WAY
        if "rule" in data:
            parsed_rule = self.choice(Rule, data["rule"], data.key_lines["rule"], "rule", name)
            rule = parsed_rule or rule
            ok = ok and parsed_rule is not None
        null_policy = NullPolicy.IGNORE_NULLS
        if "null_policy" in data:
            parsed_nulls = self.choice(
                NullPolicy, data["null_policy"], data.key_lines["null_policy"], "null_policy", name
            )
            null_policy = parsed_nulls or null_policy
            ok = ok and parsed_nulls is not None
        to_crm = self.transforms(data, "to_crm", name)
        to_marketing = self.transforms(data, "to_marketing", name)
        if not ok or hubspot is None or salesforce is None or to_crm is None or to_marketing is None:
            return None
        return FieldMapping(
            name=name,
            line=line,
            hubspot=hubspot,
            salesforce=salesforce,
            direction=direction,
            rule=rule,
            null_policy=null_policy,
            to_crm=to_crm,
            to_marketing=to_marketing,
            lines=dict(data.key_lines),
        )

    def salesforce(
        self, data: LineMap, line: int, name: str, objects: tuple[str, ...]
    ) -> dict[str, str] | None:
        if "salesforce" not in data:
            self.problem(line, "missing 'salesforce' (a field name, or one per object)", name)
            return None
        raw = data["salesforce"]
        sf_line = data.key_lines["salesforce"]
        if isinstance(raw, str):
            text = self.text(raw, sf_line, "salesforce", name)
            return {obj: text for obj in objects} if text else None
        per_object = self.mapping(raw, sf_line, "salesforce", name)
        if per_object is None:
            return None
        result: dict[str, str] = {}
        ok = True
        for obj, field_name in per_object.items():
            obj_line = per_object.key_lines.get(obj, sf_line)
            if obj not in objects:
                self.problem(
                    obj_line, f"Salesforce object {obj!r} is not listed under objects.salesforce", name
                )
                ok = False
                continue
            if field_name is None:
                continue  # written out as absent: the field does not sync on this object
            text = self.text(field_name, obj_line, f"salesforce.{obj}", name)
            if text is None:
                ok = False
            else:
                result[str(obj)] = text
        if not result:
            self.problem(sf_line, "salesforce must map at least one object", name)
            return None
        return result if ok else None

    def transforms(self, data: LineMap, key: str, name: str) -> tuple[Transform, ...] | None:
        if key not in data or data[key] is None:
            return ()
        raw = data[key]
        line = data.key_lines[key]
        if not isinstance(raw, list):
            self.problem(line, f"{key} must be a list of transforms", name)
            return None
        result: list[Transform] = []
        ok = True
        for item in raw:
            parsed = self.transform(item, line, name)
            if parsed is None:
                ok = False
            else:
                result.append(parsed)
        return tuple(result) if ok else None

    def transform(self, item: Any, line: int, name: str) -> Transform | None:
        known = ", ".join([*_BARE_TRANSFORMS, *_ARG_TRANSFORMS])
        if isinstance(item, str):
            factory = _BARE_TRANSFORMS.get(item)
            if factory is None:
                self.problem(line, f"unknown transform {item!r} (expected one of: {known})", name)
                return None
            return factory(line)
        if not isinstance(item, LineMap):
            self.problem(line, f"a transform must be a name or a one-key mapping (one of: {known})", name)
            return None
        where = item.line
        kinds = [key for key in item if key in _ARG_TRANSFORMS]
        if len(kinds) != 1:
            self.problem(where, f"a transform must have exactly one of: {', '.join(_ARG_TRANSFORMS)}", name)
            return None
        kind = kinds[0]
        allowed = {"map", "otherwise"} if kind == "map" else {kind}
        extra = [key for key in item if key not in allowed]
        if extra:
            self.problem(where, f"unknown key {extra[0]!r} in transform {kind!r}", name)
            return None
        arg = item[kind]
        if kind == "map":
            return self.value_map(item, arg, where, name)
        if kind == "default":
            if arg is None or isinstance(arg, list | dict):
                self.problem(where, "default needs a single non-null value", name)
                return None
            return Default(where, arg)
        if kind in ("date_format", "parse_date"):
            fmt = self.text(arg, where, kind, name)
            if fmt is None:
                return None
            return DateFormat(where, fmt) if kind == "date_format" else ParseDate(where, fmt)
        if not isinstance(arg, int) or isinstance(arg, bool) or not 0 <= arg <= 10:
            self.problem(where, "round needs a number of decimals from 0 to 10", name)
            return None
        return Round(where, arg)

    def value_map(self, item: LineMap, arg: Any, where: int, name: str) -> ValueMap | None:
        if not isinstance(arg, dict) or not arg:
            self.problem(where, "map needs a non-empty mapping of values", name)
            return None
        for key, dup_line in getattr(arg, "duplicate_keys", []):
            self.problem(dup_line, f"map: value {key!r} is listed twice", name)
        pairs: list[tuple[Value, Value]] = []
        lines: list[int] = []
        for key, mapped in arg.items():
            if isinstance(mapped, list | dict) or isinstance(key, list | dict):
                self.problem(
                    _line(arg, key, where), f"map entry {key!r} must map one value to one value", name
                )
                return None
            pairs.append((key, mapped))
            lines.append(_line(arg, key, where))
        otherwise_raw = item.get("otherwise", "error")
        if otherwise_raw in ("error", "keep"):
            return ValueMap(where, tuple(pairs), str(otherwise_raw), pair_lines=tuple(lines))
        if isinstance(otherwise_raw, list | dict):
            self.problem(_line(item, "otherwise", where), "otherwise must be error, keep or one value", name)
            return None
        return ValueMap(where, tuple(pairs), "value", otherwise_raw, pair_lines=tuple(lines))


def parse_mapping(text: str, source: str) -> FlowMapping:
    """Parse mapping YAML; `source` names the file in messages. Raises ConfigError with every problem."""
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError([f"{source}:{line}: not valid YAML: {exc.problem or exc}"], hint=_HINT) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}:1: not valid YAML: {exc}"], hint=_HINT) from None
    parser = _Parser(source)
    mapping = parser.parse(data)
    if mapping is None:
        raise ConfigError(parser.problems, hint=_HINT)
    return mapping


def load_mapping(path: Path, *, display: str | None = None) -> FlowMapping:
    """Read and parse a mapping file; messages name it as `display` (default: the path as given)."""
    source = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{source}: cannot read the mapping file: {exc.strerror}"], hint=_HINT) from None
    return parse_mapping(text, source)
