"""Validate a mapping against the live schemas of both systems, listing every problem with file and line.

Checks, per field: the HubSpot property and each Salesforce field exist; the types fit in every direction
the field flows, through its transforms; values a transform can emit (map outputs, `otherwise`, defaults)
and picklist options passed through are accepted by a restricted picklist on the receiving side; nothing is
written into a field the receiving system does not let us update; `most_restrictive` joins two booleans
without transforms; the identity field is text on both sides, or, for records that are not people, the link
fields are unique text fields syncd may write. Per object: every field required on create is mapped into it
or given under `on_create` (whose values must fit their fields). Per inclusion condition: its field exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from syncd.connector import FieldSpec, ObjectSchema
from syncd.core.convert import TransformError
from syncd.core.normalize import Value
from syncd.core.rules import Rule, Side
from syncd.errors import ConfigError
from syncd.mapping.model import FieldMapping, FlowMapping
from syncd.mapping.transforms import (
    Kind,
    KindError,
    Transform,
    ValueMap,
    accepts,
    apply_transforms,
    kind_of_type,
    kind_of_value,
)

_HINT = "fix the mapping file (mappings/README.md lists what each check means), then run `syncd check`"


class _Checker:
    def __init__(
        self, mapping: FlowMapping, hubspot: ObjectSchema, salesforce: Mapping[str, ObjectSchema]
    ) -> None:
        self.mapping = mapping
        self.hubspot = hubspot
        self.salesforce = salesforce
        self.problems: dict[str, int] = {}

    def add(self, line: int, message: str, entry: FieldMapping | None = None) -> None:
        where = f"field {entry.name!r}: " if entry is not None else ""
        self.problems.setdefault(f"{self.mapping.where(line)}: {where}{message}", line)

    def run(self) -> list[str]:
        top_line = self.mapping.lines.get("objects", 1)
        for obj in self.mapping.salesforce_objects:
            if obj not in self.salesforce:
                self.add(top_line, f"no schema for the Salesforce object {obj!r} (was it described?)")
        for entry in self.mapping.fields:
            self.check_field(entry)
        if self.mapping.identity:
            self.check_identity()
        if self.mapping.link is not None:
            self.check_link()
        self.check_on_create()
        self.check_required()
        self.check_filters()
        # File order, so the list reads top to bottom alongside the file.
        return [problem for problem, _line in sorted(self.problems.items(), key=lambda item: item[1])]

    def check_field(self, entry: FieldMapping) -> None:
        hs_spec = self.hubspot.fields.get(entry.hubspot)
        if hs_spec is None:
            self.add(
                entry.line_of("hubspot"),
                f"unknown HubSpot property {entry.hubspot!r} on {self.hubspot.object}",
                entry,
            )
        for obj, name in sorted(entry.salesforce.items()):
            schema = self.salesforce.get(obj)
            if schema is None:
                continue
            sf_spec = schema.fields.get(name)
            if sf_spec is None:
                self.add(entry.line_of("salesforce"), f"unknown Salesforce field {obj}.{name}", entry)
            elif hs_spec is not None:
                self.check_pair(entry, hs_spec, obj, sf_spec)

    def check_pair(self, entry: FieldMapping, hs_spec: FieldSpec, obj: str, sf_spec: FieldSpec) -> None:
        if entry.rule is Rule.NONE:
            return
        if entry.rule is Rule.MOST_RESTRICTIVE:
            kinds = {kind_of_type(hs_spec.type), kind_of_type(sf_spec.type)}
            if kinds != {Kind.BOOL}:
                self.add(
                    entry.line_of("rule"),
                    f"most_restrictive needs boolean fields on both sides "
                    f"(HubSpot {hs_spec.type.value}, Salesforce {obj}.{sf_spec.name} {sf_spec.type.value})",
                    entry,
                )
            if entry.to_crm or entry.to_marketing:
                self.add(entry.line_of("rule"), "most_restrictive takes no transforms", entry)
        for to in (Side.CRM, Side.MARKETING):
            if not entry.direction.allows(to):
                continue
            if to is Side.CRM:
                source, target = hs_spec, sf_spec
                target_name, transforms = f"Salesforce {obj}.{sf_spec.name}", entry.to_crm
            else:
                source, target = sf_spec, hs_spec
                target_name, transforms = f"HubSpot property {hs_spec.name}", entry.to_marketing
            self.check_writable(entry, target, target_name, to)
            self.check_types(entry, source, target, target_name, transforms, to)
            self.check_picklist(entry, source, target, target_name, transforms, to)

    def check_writable(self, entry: FieldMapping, target: FieldSpec, target_name: str, to: Side) -> None:
        if not target.updateable:
            other = "to_marketing" if to is Side.CRM else "to_crm"
            self.add(
                entry.line_of("direction"),
                f"{target_name} is read-only (not updateable); set direction: {other} or rule: none",
                entry,
            )

    def check_types(
        self,
        entry: FieldMapping,
        source: FieldSpec,
        target: FieldSpec,
        target_name: str,
        transforms: Sequence[Transform],
        to: Side,
    ) -> None:
        kind = kind_of_type(source.type)
        for transform in transforms:
            try:
                kind = transform.output_kind(kind)
            except KindError as exc:
                self.add(transform.line, f"transform {transform.label}: {exc}", entry)
                return
        wanted = kind_of_type(target.type)
        if not accepts(wanted, kind):
            key = "to_crm" if to is Side.CRM else "to_marketing"
            self.add(
                entry.line_of(key) if transforms else entry.line,
                f"incompatible types: {kind.value} values cannot be written into {target_name} "
                f"({target.type.value}); add a transform under {key}",
                entry,
            )

    def check_picklist(
        self,
        entry: FieldMapping,
        source: FieldSpec,
        target: FieldSpec,
        target_name: str,
        transforms: Sequence[Transform],
        to: Side,
    ) -> None:
        if not target.restricted_picklist or target.picklist is None:
            return
        allowed = set(target.picklist)
        for transform in transforms:
            for literal, line in _literal_lines(transform):
                if literal is not None and literal not in allowed:
                    self.add(
                        line,
                        f"{transform.label} value {literal!r} is not accepted by the restricted picklist "
                        f"of {target_name}",
                        entry,
                    )
        literals = {literal for transform in transforms for literal in transform.literals()}
        rejected: list[str] = []
        for option in source.picklist or ():
            try:
                out = apply_transforms(transforms, option, to)
            except TransformError:
                continue  # unmapped options are a per-record issue at run time, not a mapping error
            if out is not None and out not in allowed and out not in literals:
                rejected.append(repr(option))
        if rejected:
            key = "to_crm" if to is Side.CRM else "to_marketing"
            self.add(
                entry.line_of(key) if transforms else entry.line,
                f"picklist values {', '.join(rejected)} reach {target_name} unmapped, and its restricted "
                f"picklist rejects them; map them under {key}",
                entry,
            )

    def check_identity(self) -> None:
        entry = self.mapping.identity_field()
        specs = [self.hubspot.fields.get(entry.hubspot)]
        for obj, name in entry.salesforce.items():
            schema = self.salesforce.get(obj)
            specs.append(schema.fields.get(name) if schema else None)
        for spec in specs:
            if spec is not None and kind_of_type(spec.type) is not Kind.TEXT:
                self.add(
                    self.mapping.lines.get("identity", entry.line),
                    f"the identity field must be text (an email) on both sides, not {spec.type.value}",
                    entry,
                )
        missing = [obj for obj in self.mapping.salesforce_objects if obj not in entry.salesforce]
        if missing:
            self.add(
                entry.line, f"the identity field must map every Salesforce object; missing {missing}", entry
            )

    def check_link(self) -> None:
        link = self.mapping.link
        assert link is not None
        where = link.line or self.mapping.lines.get("link", 1)
        targets = [(f"HubSpot property {link.hubspot}", self.hubspot.fields.get(link.hubspot))]
        for obj in self.mapping.salesforce_objects:
            schema = self.salesforce.get(obj)
            if schema is not None:
                targets.append((f"Salesforce {obj}.{link.salesforce}", schema.fields.get(link.salesforce)))
        for name, spec in targets:
            if spec is None:
                self.add(
                    where, f"link: unknown {name}; create it as a unique text field for the other system's id"
                )
                continue
            problems = []
            if kind_of_type(spec.type) is not Kind.TEXT:
                problems.append(f"is {spec.type.value}, not text")
            if not spec.unique:
                problems.append("is not unique (Salesforce: External ID and Unique; HubSpot: unique values)")
            if not (spec.createable and spec.updateable):
                problems.append("is read-only")
            if problems:
                self.add(
                    where,
                    f"link: {name} {'; '.join(problems)} — creates are upserts keyed by it, so a replay "
                    "after a crash finds the record it created instead of creating another",
                )

    def check_on_create(self) -> None:
        on_create = self.mapping.on_create
        schemas = [("hubspot", f"HubSpot {self.hubspot.object} property ", self.hubspot)]
        schemas += [
            ("salesforce", f"Salesforce {obj}.", self.salesforce[obj])
            for obj in self.mapping.salesforce_objects
            if obj in self.salesforce
        ]
        for system, label, schema in schemas:
            for name, value in on_create.for_system(system).items():
                line = on_create.lines.get((system, name), self.mapping.lines.get("on_create", 1))
                shown = f"{label}{name}"
                spec = schema.fields.get(name)
                if spec is None:
                    self.add(line, f"on_create: unknown {shown}")
                    continue
                if not spec.createable:
                    self.add(line, f"on_create: {shown} is read-only (not createable)")
                own = kind_of_value(value)
                if own is not None and not accepts(kind_of_type(spec.type), own):
                    self.add(line, f"on_create: {shown} is {spec.type.value}; {value!r} does not fit it")
                if spec.restricted_picklist and spec.picklist is not None and value not in spec.picklist:
                    self.add(
                        line, f"on_create: {value!r} is not accepted by the restricted picklist of {shown}"
                    )

    def check_required(self) -> None:
        line = self.mapping.lines.get("fields", 1)
        for obj in self.mapping.salesforce_objects:
            schema = self.salesforce.get(obj)
            if schema is None:
                continue
            written = {
                entry.salesforce_field(obj)
                for entry in self.mapping.fields
                if entry.rule is not Rule.NONE and entry.direction.allows(Side.CRM)
            } | set(self.mapping.on_create.salesforce)
            for name, spec in sorted(schema.fields.items()):
                if spec.required_on_create and spec.createable and name not in written:
                    self.add(
                        line,
                        f"Salesforce {obj}.{name} is required on create but nothing is mapped into it; "
                        f"add a field for it with a `default` transform under to_crm",
                    )
        hubspot_written = {
            entry.hubspot
            for entry in self.mapping.fields
            if entry.rule is not Rule.NONE and entry.direction.allows(Side.MARKETING)
        } | set(self.mapping.on_create.hubspot)
        for name, spec in sorted(self.hubspot.fields.items()):
            if spec.required_on_create and spec.createable and name not in hubspot_written:
                self.add(
                    line,
                    f"HubSpot {self.hubspot.object} property {name} is required on create but nothing is "
                    "mapped into it; map a field into it or give a value under on_create.hubspot",
                )

    def check_filters(self) -> None:
        for condition in self.mapping.include.hubspot:
            if condition.field not in self.hubspot.fields:
                self.add(condition.line, f"include: unknown HubSpot property {condition.field!r}")
        schemas = [self.salesforce[obj] for obj in self.mapping.salesforce_objects if obj in self.salesforce]
        for condition in self.mapping.include.salesforce:
            if schemas and not any(condition.field in schema.fields for schema in schemas):
                self.add(condition.line, f"include: unknown Salesforce field {condition.field!r}")


def _literal_lines(transform: Transform) -> list[tuple[Value, int]]:
    """The values a transform can emit, each with its line (a map's outputs on their own lines)."""
    if isinstance(transform, ValueMap):
        lines = [(mapped, transform.line_of_pair(i)) for i, (_key, mapped) in enumerate(transform.pairs)]
        if transform.otherwise == "value":
            lines.append((transform.fallback, transform.line))
        return lines
    return [(literal, transform.line) for literal in transform.literals()]


def find_problems(
    mapping: FlowMapping, hubspot: ObjectSchema, salesforce: Mapping[str, ObjectSchema]
) -> list[str]:
    """Every problem of `mapping` against the schemas (`salesforce` keyed by object name), in file order."""
    return _Checker(mapping, hubspot, salesforce).run()


def validate_mapping(
    mapping: FlowMapping, hubspot: ObjectSchema, salesforce: Mapping[str, ObjectSchema]
) -> None:
    """Raise ConfigError listing every problem, or return when the mapping fits the live schemas."""
    problems = find_problems(mapping, hubspot, salesforce)
    if problems:
        raise ConfigError(problems, hint=_HINT)
