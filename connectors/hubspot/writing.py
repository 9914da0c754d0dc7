"""How a HubSpot push turns writes into batch calls and results, in input order (pure).

Writes are grouped by operation into batches of at most 100 (a batch never holds the same key twice:
HubSpot rejects the whole batch for that). A batch HubSpot rejects as a whole (one bad input fails
everything, e.g. a 400 or a 409 naming only the first conflict) is bisected until the bad records stand
alone; 207 multi-status replies are mapped input by input. The HTTP call comes in as a function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.hubspot.errors import RejectedRequest, RemoteError, record_rejection
from connectors.hubspot.objects import ObjectSpec
from syncd.connector import Write, WriteResult
from syncd.errors import IssueCategory, RecordError

# Write.op → HubSpot batch operation.
BATCH_OPERATION = {"create": "create", "update": "update", "upsert": "upsert", "delete": "archive"}

# (batch operation, writes) → one result per write, in order; raises RejectedRequest when all are refused.
Send = Callable[[str, Sequence[Write]], list[WriteResult]]


@dataclass(frozen=True)
class Batch:
    """Writes sent in one call, with their positions in the caller's list."""

    operation: str
    positions: tuple[int, ...]
    writes: tuple[Write, ...]


def record_name(spec: ObjectSpec, write: Write) -> str:
    """How messages name a record: its email (the person's identity), else its HubSpot id, and the ref."""
    shown = upsert_key(write) if write.op == "upsert" else None
    if shown is None and spec.display_property:
        value = write.fields.get(spec.display_property)
        shown = str(value) if value else None
    if shown is None and write.id:
        shown = f"id {write.id}"
    return f"{shown} (ref {write.ref})" if shown else f"ref {write.ref}"


def upsert_key(write: Write) -> str | None:
    if write.id:
        return write.id
    if write.id_property:
        value = write.fields.get(write.id_property)
        return str(value) if value not in (None, "") else None
    return None


def _key(write: Write) -> str | None:
    """What HubSpot treats as the same input twice within one batch."""
    if write.op == "upsert":
        key = upsert_key(write)
        return f"{write.id_property}:{key.strip().lower()}" if key else None
    if write.op in ("update", "delete"):
        return f"id:{write.id}"
    return None


def _invalid(spec: ObjectSpec, write: Write) -> RecordError | None:
    problem: str | None = None
    if write.op not in BATCH_OPERATION:
        problem = f"unknown operation {write.op!r}"
    elif write.op in ("update", "delete") and not write.id:
        problem = f"a {write.op} needs the HubSpot id"
    elif write.op == "upsert" and not spec.accepts_key(write.id_property):
        allowed = ", ".join(spec.id_properties) or "none"
        problem = (
            f"an upsert needs id_property set to a unique property ({allowed}), not {write.id_property!r}"
        )
    elif write.op == "upsert" and upsert_key(write) is None:
        problem = f"an upsert by {write.id_property} needs a value for it"
    if problem is None:
        return None
    return RecordError(
        f"cannot push {spec.label} {record_name(spec, write)} to HubSpot: {problem}",
        category=IssueCategory.VALIDATION,
        record_key=write.ref,
        hint="this is a bug in the flow that built the write; report it with the log line",
    )


def plan(
    spec: ObjectSpec, writes: Sequence[Write], batch_size: int
) -> tuple[list[Batch], dict[int, WriteResult]]:
    """Batches to send (input order kept within each operation), and results for writes refused up front."""
    refused: dict[int, WriteResult] = {}
    open_batches: dict[str, tuple[list[int], list[Write], set[str]]] = {}
    batches: list[Batch] = []
    for position, write in enumerate(writes):
        error = _invalid(spec, write)
        if error is not None:
            refused[position] = WriteResult(ref=write.ref, ok=False, error=error)
            continue
        operation = BATCH_OPERATION[write.op]
        key = _key(write)
        current = open_batches.get(operation)
        if current is not None and (len(current[0]) >= batch_size or (key is not None and key in current[2])):
            batches.append(Batch(operation, tuple(current[0]), tuple(current[1])))
            current = None
        if current is None:
            current = ([], [], set())
            open_batches[operation] = current
        current[0].append(position)
        current[1].append(write)
        if key is not None:
            current[2].add(key)
    for operation, (positions, batch_writes, _) in open_batches.items():
        if positions:
            batches.append(Batch(operation, tuple(positions), tuple(batch_writes)))
    # Same-key writes land in successive batches of one operation; sending batches in the order of their
    # first position keeps such writes in input order.
    batches.sort(key=lambda b: b.positions[0])
    return batches, refused


def push_all(spec: ObjectSpec, writes: Sequence[Write], send: Send, *, batch_size: int) -> list[WriteResult]:
    """One result per write, in input order."""
    batches, results = plan(spec, writes, batch_size)
    for batch in batches:
        for position, result in zip(
            batch.positions, isolate(spec, batch.operation, batch.writes, send), strict=True
        ):
            results[position] = result
    return [results[i] for i in range(len(writes))]


def isolate(spec: ObjectSpec, operation: str, writes: Sequence[Write], send: Send) -> list[WriteResult]:
    """Send `writes`; when HubSpot refuses them all, bisect until each refusal names one record."""
    try:
        return send(operation, writes)
    except RejectedRequest as rejected:
        if len(writes) == 1:
            write = writes[0]
            error = record_rejection(
                rejected.remote,
                object_label=spec.label,
                record=record_name(spec, write),
                record_key=write.id or upsert_key(write) or write.ref,
            )
            return [WriteResult(ref=write.ref, ok=False, error=error)]
        middle = len(writes) // 2
        return isolate(spec, operation, writes[:middle], send) + isolate(
            spec, operation, writes[middle:], send
        )


# ---------------------------------------------------------------------- request and reply shapes


def request_body(operation: str, writes: Sequence[Write]) -> dict[str, Any]:
    """The JSON body of one batch call."""
    inputs: list[dict[str, Any]]
    if operation == "archive":
        inputs = [{"id": w.id} for w in writes]
    elif operation == "update":
        inputs = [{"id": w.id, "properties": _properties(w)} for w in writes]
    elif operation == "upsert":
        inputs = [
            {"id": upsert_key(w), "idProperty": w.id_property, "properties": _properties(w)} for w in writes
        ]
    else:
        # A trace id on every input makes HubSpot report failures per input (207) instead of failing all.
        inputs = [{"objectWriteTraceId": str(i), "properties": _properties(w)} for i, w in enumerate(writes)]
    return {"inputs": inputs}


def _properties(write: Write) -> dict[str, Any]:
    """HubSpot takes property values as strings; None clears a property and is sent as an empty string."""
    out: dict[str, Any] = {}
    for name, value in write.fields.items():
        if value is None:
            out[name] = ""
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out


def _entry_error(entry: Mapping[str, Any]) -> RemoteError:
    category = str(entry.get("category") or "")
    status = 409 if category == "CONFLICT" else 404 if category == "OBJECT_NOT_FOUND" else 400
    details = entry.get("errors")
    codes = (
        tuple(str(d["code"]) for d in details if isinstance(d, Mapping) and d.get("code"))
        if isinstance(details, list)
        else ()
    )
    message = str(entry.get("message") or "")
    return RemoteError(status=status, message=message, category=category, codes=codes)


def _context_values(entry: Mapping[str, Any], name: str) -> list[str]:
    context = entry.get("context")
    if isinstance(context, Mapping) and isinstance(context.get(name), list):
        return [str(v) for v in context[name]]
    return []


def map_reply(spec: ObjectSpec, operation: str, writes: Sequence[Write], body: Any) -> list[WriteResult]:
    """One result per write from a 200/201/204/207 batch reply. Results are matched by trace id, id or
    key, not by position: HubSpot does not promise to keep input order."""
    data: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    raw_results = data.get("results")
    results = [r for r in raw_results if isinstance(r, Mapping)] if isinstance(raw_results, list) else []
    raw_errors = data.get("errors")
    errors = [e for e in raw_errors if isinstance(e, Mapping)] if isinstance(raw_errors, list) else []

    if operation == "archive":
        return [WriteResult(ref=w.ref, ok=True, id=w.id) for w in writes]

    def key_of(write: Write, index: int) -> str:
        if operation == "create":
            return str(index)
        if operation == "upsert":
            return (upsert_key(write) or "").strip().lower()
        return str(write.id)

    by_key: dict[str, Mapping[str, Any]] = {}
    for item in results:
        if operation == "create":
            key = str(item.get("objectWriteTraceId") or "")
        elif operation == "upsert":
            props = item.get("properties")
            value = props.get(writes[0].id_property or "") if isinstance(props, Mapping) else None
            key = str(value or "").strip().lower()
        else:
            key = str(item.get("id") or "")
        if key:
            by_key[key] = item
    failed: dict[str, RemoteError] = {}
    context_name = "objectWriteTraceId" if operation == "create" else "ids"
    for entry in errors:
        for value in _context_values(entry, context_name):
            failed[value.strip().lower() if operation == "upsert" else value] = _entry_error(entry)
    # Without keys to match on (no trace ids echoed, say) a reply with one result per input is positional.
    positional = len(by_key) < len(results) and len(results) == len(writes) and not errors

    out: list[WriteResult] = []
    for index, write in enumerate(writes):
        key = key_of(write, index)
        result: Mapping[str, Any] | None = results[index] if positional else by_key.get(key)
        if result is None and operation == "upsert":
            # An upsert that changes the key property comes back under its new value.
            new_value = write.fields.get(write.id_property or "")
            result = by_key.get(str(new_value or "").strip().lower())
        if result is not None:
            out.append(
                WriteResult(
                    ref=write.ref,
                    ok=True,
                    id=str(result.get("id")) if result.get("id") is not None else write.id,
                    created=bool(result.get("new")) if operation == "upsert" else operation == "create",
                )
            )
            continue
        remote = failed.get(key) or RemoteError(
            status=500, message="HubSpot's reply did not mention this record", category="UNREPORTED"
        )
        error = record_rejection(
            remote,
            object_label=spec.label,
            record=record_name(spec, write),
            record_key=write.id or upsert_key(write) or write.ref,
        )
        out.append(WriteResult(ref=write.ref, ok=False, error=error))
    return out
