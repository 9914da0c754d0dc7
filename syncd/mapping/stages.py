"""Check a deals mapping's stage map against the live HubSpot pipeline and Salesforce's StageName picklist.

The stage map is the `map` transforms of one field (`stage`: `dealstage` ↔ `StageName`). The generic
validation already checks what the maps write (their outputs against the receiving picklist, once the
HubSpot side is narrowed to the pipeline's stages with `with_pipeline_stages`); this adds what only a stage
map needs: every key is a stage of its side, and every stage of each side has somewhere to go, so no deal
gets stuck in a stage that cannot cross. Every problem names the file and line, like the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from syncd.connector import ObjectSchema
from syncd.deals import Pipeline
from syncd.mapping.model import FieldMapping, FlowMapping
from syncd.mapping.transforms import Transform, ValueMap

STAGE_FIELD = "stage"

Report = Callable[[int, str], None]


def with_pipeline_stages(
    schema: ObjectSchema, pipeline: Pipeline, property_name: str = "dealstage"
) -> ObjectSchema:
    """`schema` with `property_name`'s options narrowed to the stages of `pipeline` (HubSpot's
    `dealstage` lists every pipeline's stages; a deal of this flow may only use its own pipeline's)."""
    spec = schema.fields.get(property_name)
    if spec is None:
        return schema
    narrowed = replace(spec, picklist=pipeline.stage_ids, restricted_picklist=True)
    return replace(schema, fields={**schema.fields, property_name: narrowed})


def _maps(transforms: Sequence[Transform]) -> list[ValueMap]:
    return [t for t in transforms if isinstance(t, ValueMap)]


def stage_problems(
    mapping: FlowMapping,
    pipeline: Pipeline,
    salesforce_stages: Sequence[str],
    *,
    field: str = STAGE_FIELD,
) -> list[str]:
    """Every problem of the stage map in `mapping`, in file order (empty when it fits)."""
    try:
        entry = mapping.entry(field)
    except KeyError:
        return [
            f"{mapping.where(mapping.lines.get('fields', 1))}: the deals mapping needs a field {field!r} "
            "mapping HubSpot's dealstage to Salesforce's StageName"
        ]
    found: dict[str, int] = {}

    def add(line: int, message: str) -> None:
        found.setdefault(f"{mapping.where(line)}: field {entry.name!r}: {message}", line)

    hubspot_stages = pipeline.stage_ids
    shown_hubspot = ", ".join(hubspot_stages)
    _keys_known(
        entry.to_crm,
        set(hubspot_stages),
        add,
        f"is not a stage of HubSpot pipeline {pipeline.id!r} (its stages: {shown_hubspot})",
    )
    _keys_known(entry.to_marketing, set(salesforce_stages), add, "is not a Salesforce StageName value")
    _covered(
        entry,
        entry.to_crm,
        hubspot_stages,
        "to_crm",
        f"of HubSpot pipeline {pipeline.id!r}",
        "Salesforce",
        add,
    )
    _covered(
        entry,
        entry.to_marketing,
        salesforce_stages,
        "to_marketing",
        "of Salesforce's StageName",
        "HubSpot",
        add,
    )
    return [problem for problem, _line in sorted(found.items(), key=lambda item: item[1])]


def _keys_known(transforms: Sequence[Transform], known: set[str], add: Report, why: str) -> None:
    for value_map in _maps(transforms):
        for index, (key, _mapped) in enumerate(value_map.pairs):
            if key is not None and key not in known:
                add(value_map.line_of_pair(index), f"stage {key!r} {why}")


def _covered(
    entry: FieldMapping,
    transforms: Sequence[Transform],
    stages: Sequence[str],
    key: str,
    of: str,
    other: str,
    add: Report,
) -> None:
    """Every stage of the sending side reaches the other side: listed in a map, or a map's `otherwise`
    gives it a value (`keep` passes it through, which the picklist check already judges)."""
    maps = _maps(transforms)
    if not maps:
        add(
            entry.line_of(key) if transforms else entry.line,
            f"no stage map under {key}: add a map from every stage {of} to a {other} stage",
        )
        return
    first = maps[0]
    if first.otherwise != "error":
        return
    listed = {k for k, _ in first.pairs}
    missing = [stage for stage in stages if stage not in listed]
    if missing:
        add(
            first.line,
            f"stages {', '.join(repr(s) for s in missing)} {of} have no {other} stage; deals in them "
            f"cannot sync — map them under {key}",
        )
