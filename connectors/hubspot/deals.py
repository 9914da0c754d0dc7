"""HubSpot deal support beyond the objects API: pipeline JSON, associations v4 requests and replies (pure).

Raw JSON is turned into `syncd.deals` dataclasses here; the HTTP calls come in as functions so the shapes
are tested against the simulator and fakes alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from syncd.deals import Association, Pipeline, PipelineStage
from syncd.errors import FatalError

# Associations v4 batch limits (api-facts): read <= 1,000 inputs, create/archive <= 2,000.
READ_MAX = 1_000
WRITE_MAX = 2_000

Send = Callable[[str, Mapping[str, Any]], Any]
"""(operation, body) -> the reply body of one associations batch call."""


def _truthy(value: object) -> bool:
    return value is True or str(value).strip().lower() == "true"


def _probability(value: object) -> float | None:
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None


def pipeline_from(body: Any) -> Pipeline:
    """`GET /crm/v3/pipelines/deals/{id}` as a Pipeline; archived stages are left out."""
    if not isinstance(body, Mapping) or not body.get("id"):
        raise FatalError("HubSpot answered a pipeline request without a pipeline")
    stages = []
    raw_stages = body.get("stages")
    for raw in raw_stages if isinstance(raw_stages, list) else ():
        if not isinstance(raw, Mapping) or raw.get("archived") or not raw.get("id"):
            continue
        metadata = raw.get("metadata")
        meta = metadata if isinstance(metadata, Mapping) else {}
        stages.append(
            PipelineStage(
                id=str(raw["id"]),
                label=str(raw.get("label") or raw["id"]),
                is_closed=_truthy(meta.get("isClosed")),
                probability=_probability(meta.get("probability")),
            )
        )
    return Pipeline(id=str(body["id"]), label=str(body.get("label") or body["id"]), stages=tuple(stages))


def read_associations(send: Send, ids: Sequence[str]) -> list[Association]:
    """Every association of the records `ids`, in batches; a record with none is simply absent (HubSpot
    reports it as a 207 error `NO_ASSOCIATIONS_FOUND`, which is not a failure here)."""
    found: list[Association] = []
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), READ_MAX):
        chunk = unique[start : start + READ_MAX]
        body = send("read", {"inputs": [{"id": i} for i in chunk]})
        results = body.get("results") if isinstance(body, Mapping) else None
        for result in results if isinstance(results, list) else ():
            if not isinstance(result, Mapping):
                continue
            source = result.get("from")
            from_id = str(source.get("id")) if isinstance(source, Mapping) else ""
            targets = result.get("to")
            for target in targets if isinstance(targets, list) else ():
                if isinstance(target, Mapping) and target.get("toObjectId") is not None and from_id:
                    found.append(Association(from_id, str(target["toObjectId"])))
    return found


def create_associations(send: Send, pairs: Sequence[Association], type_id: int) -> list[Association]:
    """Associate each pair with the HubSpot-defined type `type_id` (creating an existing one is a no-op);
    returns the pairs HubSpot refused (a 207 naming records that do not exist)."""
    spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
    refused: list[Association] = []
    for start in range(0, len(pairs), WRITE_MAX):
        chunk = pairs[start : start + WRITE_MAX]
        body = send(
            "create",
            {"inputs": [{"from": {"id": p.from_id}, "to": {"id": p.to_id}, "types": [spec]} for p in chunk]},
        )
        missing = _missing_ids(body)
        refused += [p for p in chunk if p.from_id in missing or p.to_id in missing]
    return refused


def _missing_ids(body: Any) -> set[str]:
    errors = body.get("errors") if isinstance(body, Mapping) else None
    found: set[str] = set()
    for error in errors if isinstance(errors, list) else ():
        context = error.get("context") if isinstance(error, Mapping) else None
        for values in context.values() if isinstance(context, Mapping) else ():
            if isinstance(values, list):
                found.update(str(v) for v in values)
    return found


def archive_associations(send: Send, pairs: Sequence[Association]) -> None:
    """Remove every association between each pair (removing one that is gone already is a no-op)."""
    by_source: dict[str, list[str]] = {}
    for pair in pairs:
        by_source.setdefault(pair.from_id, []).append(pair.to_id)
    inputs = [
        {"from": {"id": source}, "to": [{"id": t} for t in targets]} for source, targets in by_source.items()
    ]
    for start in range(0, len(inputs), WRITE_MAX):
        send("archive", {"inputs": inputs[start : start + WRITE_MAX]})
