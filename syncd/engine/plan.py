"""Plan one work unit of a record leg: what to write where, which links and bases follow, what to quarantine.

Pure: takes the unit's normalized records (one or more pull pages; "page" below), the identity links
and bases from the store and the target records fetched for it; returns a `PagePlan`. The flow pushes
the plan's writes and turns the results into the store records of `finish` (bases and links only for
writes that landed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncd.connector import Write, WriteResult
from syncd.core.issues import Issue, RecordRef
from syncd.core.match import (
    Decision,
    IdentityLink,
    MatchOutcome,
    MatchPolicy,
    PersonRecord,
    match_page,
    person_of,
)
from syncd.core.normalize import NormalizedRecord, Value
from syncd.core.resolve import FieldBase, FieldPlan, Resolution, SideState, resolve
from syncd.core.rules import Side
from syncd.engine.state import (
    BaseWrite,
    LogEntry,
    NewLink,
    PageRecord,
    Quarantine,
    Retirement,
    person_key,
)
from syncd.errors import IssueCategory


@dataclass(frozen=True)
class SideSpec:
    """One system as a leg sees it: which side it is and how its records name the email."""

    side: Side
    system: str
    email_field: Mapping[str, str]  # object -> its email field


@dataclass(frozen=True)
class PlannedWrite:
    """A write plus what to record once it lands."""

    system: str
    object: str
    write: Write
    email: str | None
    person_id: int | None
    source: RecordRef
    fields: tuple[str, ...]
    # Bases to store when this write (and its partner, if any) succeeded.
    bases: Mapping[str, FieldBase] = field(default_factory=dict)


@dataclass
class PagePlan:
    """Everything one page intends; `record` collects what is known before any push."""

    writes: list[PlannedWrite] = field(default_factory=list)
    record: PageRecord = field(default_factory=PageRecord)
    unchanged: int = 0
    conflicts: int = 0
    # Source records fully in step (no write needed): their links and bases are recorded as is.
    in_step: list[tuple[RecordRef, str, int | None]] = field(default_factory=list)


@dataclass(frozen=True)
class PageInput:
    """What the flow gathered for one page before planning it."""

    source: SideSpec
    target: SideSpec
    records: Sequence[NormalizedRecord]
    links: Sequence[IdentityLink]  # both systems, for every person the page may touch
    targets: Sequence[NormalizedRecord]  # target records found by the page's emails and linked ids
    bases: Mapping[int, Mapping[str, FieldBase]]  # person id -> field -> base
    plans: Mapping[str, Sequence[FieldPlan]]  # Salesforce object -> field plans
    policy: MatchPolicy
    survivor_object: Mapping[str, str] = field(default_factory=dict)  # e.g. Lead -> Contact (conversion)
    # Source-system records of other objects sharing the page's emails (a Contact for a Lead page):
    # duplicates across objects are decided by the survivor rule, not by which page came first.
    peers: Sequence[NormalizedRecord] = ()
    # People whose target record was deleted there: deletes are not undone by creating it again.
    deleted_in_target: frozenset[int] = frozenset()


def _quarantine(issue: Issue, email: str | None, payload: Mapping[str, Any] | None = None) -> Quarantine:
    return Quarantine(
        system=issue.record.system,
        object=issue.record.object,
        record_key=email or str(issue.record),
        category=issue.category,
        message=str(issue),
        payload=dict(payload) if payload is not None else None,
    )


def _crm_object(outcome: MatchOutcome, source: SideSpec, source_ref: RecordRef) -> str:
    if source.side is Side.CRM:
        return source_ref.object
    if outcome.target is not None:
        return outcome.target.object
    return outcome.create_object or "Lead"


def _person(outcome: MatchOutcome) -> int | None:
    return int(outcome.person_id) if outcome.person_id is not None else None


def plan_page(page: PageInput) -> PagePlan:
    """Match, then resolve every matched or new record of the page into writes on both sides."""
    plan = PagePlan()
    by_ref = {record.ref: record for record in page.records}
    targets_by_ref = {record.ref: record for record in page.targets}
    for record in page.records:
        if record.deleted or record.merged_into:
            continue  # retired records (converted, merged, deleted) are tombstones, not bad data
        for issue in record.issues:
            plan.record.quarantined.append(_quarantine(issue, record.email))
    people = [_person_of(r, page.survivor_object) for r in page.records]
    candidates = [_person_of(r, page.survivor_object) for r in page.targets]
    peers = [_person_of(r, page.survivor_object) for r in page.peers if r.ref not in by_ref]
    result = match_page(people, page.links, candidates, page.policy, peers=peers)
    for outcome in result.outcomes:
        _plan_outcome(plan, page, outcome, by_ref[outcome.source], targets_by_ref)
    return plan


def _person_of(record: NormalizedRecord, survivor_object: Mapping[str, str]) -> PersonRecord:
    # Only a live record points across object types (a converted Lead at its Contact); a merge
    # loser is deleted and its survivor is of its own type (a Lead merged into a Lead).
    crosses = record.merged_into is not None and not record.deleted
    return person_of(record, survivor_object=survivor_object.get(record.ref.object) if crosses else None)


def _plan_outcome(
    plan: PagePlan,
    page: PageInput,
    outcome: MatchOutcome,
    record: NormalizedRecord,
    targets: Mapping[RecordRef, NormalizedRecord],
) -> None:
    source, target_side = page.source, page.target
    ref = record.ref
    person_id = _person(outcome)
    decision = outcome.decision
    explained = decision is Decision.UNMATCHABLE and any(
        i.category is IssueCategory.INVALID_EMAIL for i in record.issues
    )  # the record's own issue already says what is wrong with its email
    if outcome.issue is not None and not explained:
        plan.record.quarantined.append(_quarantine(outcome.issue, record.email))
    if decision in (Decision.DUPLICATE, Decision.AMBIGUOUS, Decision.UNMATCHABLE):
        return
    if decision is Decision.MERGED:
        survivor = outcome.survivor
        reason = "converted" if survivor is not None and survivor.object != ref.object else "merged"
        plan.record.retirements.append(
            Retirement(ref.system, ref.object, ref.id, reason, survivor.id if survivor else None)
        )
        return
    if decision is Decision.DELETED:
        plan.record.retirements.append(Retirement(ref.system, ref.object, ref.id, "deleted"))
        plan.record.log.append(LogEntry(ref.system, ref.object, ref.id, "unlink", email=record.email))
        return
    for stale in (*outcome.followed, *outcome.supersedes):
        plan.record.retirements.append(Retirement(stale.system, stale.object, stale.id, "merged"))
    if decision is Decision.TARGET_DELETED:
        # The person's record on the other side was deleted there; we do not resurrect it.
        if outcome.target is not None:
            t = outcome.target
            plan.record.retirements.append(Retirement(t.system, t.object, t.id, "deleted"))
        return
    email = record.email
    if email is None and person_id is None:
        return
    crm_object = _crm_object(outcome, source, ref)
    plans = page.plans.get(crm_object, ())
    bases = page.bases.get(person_id, {}) if person_id is not None else {}
    source_state = SideState(source.side, record.fields, record.modified_at)
    target_record = targets.get(outcome.target) if outcome.target is not None else None
    if decision in (Decision.LINKED, Decision.MATCHED) and target_record is None:
        # Every linked target is fetched by id (merge survivors come back under their new id and
        # are followed by match): one that did not come back was deleted there. Tombstone it; the
        # delete is not propagated and nothing is written.
        if outcome.target is not None:
            t = outcome.target
            plan.record.retirements.append(Retirement(t.system, t.object, t.id, "deleted"))
            plan.record.log.append(LogEntry(t.system, t.object, t.id, "unlink", email=email))
        plan.unchanged += 1
        return
    target_state = (
        SideState(target_side.side, target_record.fields, target_record.modified_at)
        if target_record
        else None
    )
    resolution = resolve(source_state, target_state, plans, bases, record=ref)
    for issue in resolution.issues:
        plan.record.quarantined.append(_quarantine(issue, email))
    plan.conflicts += len(resolution.conflicts)
    link_email = email or (target_record.email if target_record else None) or ""
    plan.record.links.append(
        NewLink(ref.system, ref.object, ref.id, link_email, person_id, record.created_at)
    )
    if target_record is not None:
        t = target_record.ref
        plan.record.links.append(
            NewLink(t.system, t.object, t.id, link_email, person_id, target_record.created_at)
        )
    target_writes = dict(resolution.writes(target_side.side))
    source_writes = dict(resolution.writes(source.side))
    if outcome.email_held_by is not None:
        for spec, writes, obj in (
            (target_side, target_writes, outcome.target.object if outcome.target else crm_object),
            (source, source_writes, ref.object),
        ):
            writes.pop(spec.email_field.get(obj, ""), None)
    if not target_writes and not source_writes:
        plan.unchanged += 1
        _record_bases(plan, resolution, person_id, link_email)
        plan.in_step.append((ref, link_email, person_id))
        return
    if decision is Decision.CREATE and person_id in page.deleted_in_target:
        plan.unchanged += 1
        return
    if decision is Decision.CREATE:
        _plan_create(plan, page, outcome, ref, link_email, person_id, crm_object, target_writes, resolution)
    elif target_writes and outcome.target is not None:
        plan.writes.append(
            PlannedWrite(
                system=target_side.system,
                object=outcome.target.object,
                write=Write(op="update", ref=str(ref), id=outcome.target.id, fields=target_writes),
                email=link_email,
                person_id=person_id,
                source=ref,
                fields=tuple(sorted(target_writes)),
                bases=resolution.bases,
            )
        )
    if source_writes:
        plan.writes.append(
            PlannedWrite(
                system=source.system,
                object=ref.object,
                write=Write(op="update", ref=f"{ref}#back", id=ref.id, fields=source_writes),
                email=link_email,
                person_id=person_id,
                source=ref,
                fields=tuple(sorted(source_writes)),
                bases=resolution.bases,
            )
        )


def _plan_create(
    plan: PagePlan,
    page: PageInput,
    outcome: MatchOutcome,
    ref: RecordRef,
    email: str,
    person_id: int | None,
    crm_object: str,
    writes: dict[str, Value],
    resolution: Resolution,
) -> None:
    target = page.target
    obj = crm_object if target.side is Side.CRM else (outcome.create_object or "contacts")
    email_field = target.email_field.get(obj)
    if email_field is not None:
        writes.setdefault(email_field, email)
    if outcome.account_id is not None:
        writes["AccountId"] = outcome.account_id
    # HubSpot creates are upserts keyed by email, so a replayed page never makes a second contact;
    # on Salesforce the page's email lookup found no record, so a plain create is safe.
    write = (
        Write(op="upsert", ref=str(ref), id=email, id_property="email", fields=writes)
        if target.system == "hubspot"
        else Write(op="create", ref=str(ref), fields=writes)
    )
    plan.writes.append(
        PlannedWrite(
            system=target.system,
            object=obj,
            write=write,
            email=email,
            person_id=person_id,
            source=ref,
            fields=tuple(sorted(writes)),
            bases=resolution.bases,
        )
    )


def _record_bases(plan: PagePlan, resolution: Resolution, person_id: int | None, email: str) -> None:
    for name, base in resolution.bases.items():
        plan.record.bases.append(_base_write(person_id, email, name, base))


def _base_write(person_id: int | None, email: str, name: str, base: FieldBase) -> BaseWrite:
    value = {"crm": base.crm, "marketing": base.marketing}
    if person_id is not None:
        return BaseWrite(person_key(person_id), name, value)
    return BaseWrite(None, name, value, email=email)


def finish(plan: PagePlan, results: Mapping[int, WriteResult]) -> tuple[PageRecord, dict[str, int]]:
    """The page's store record once its writes were pushed; `results` is keyed by index in plan.writes.

    `counts` are the writes that landed per "system.created" / "system.updated"; rejected writes join
    the record's quarantine (see `quarantine_counts`).

    Bases move only when every write of a source record landed: a half-applied record keeps its
    old bases, so the next change retries the rest instead of mistaking it for an echo.
    """
    record = plan.record
    counts: dict[str, int] = {}
    failed_sources = {plan.writes[i].source for i, r in results.items() if not r.ok}
    written_bases: set[RecordRef] = set()
    for i, planned in enumerate(plan.writes):
        result = results.get(i)
        if result is None:
            continue
        system = planned.system
        if not result.ok:
            error = result.error
            record.quarantined.append(
                Quarantine(
                    system=system,
                    object=planned.object,
                    record_key=planned.email or str(planned.source),
                    category=error.category if error else IssueCategory.OTHER,
                    message=str(error) if error else f"{system} rejected {planned.object} {planned.email}",
                    remote_code=error.remote_code if error else None,
                    remote_message=error.remote_message if error else None,
                    payload={
                        "op": planned.write.op,
                        "id": planned.write.id,
                        "fields": dict(planned.write.fields),
                    },
                )
            )
            continue
        created = planned.write.op in ("create", "upsert") and (
            result.created or planned.write.op == "create"
        )
        action = "create" if created else "update"
        counts[f"{system}.{action}d"] = counts.get(f"{system}.{action}d", 0) + 1
        if result.id and planned.write.op in ("create", "upsert"):
            record.links.append(
                NewLink(system, planned.object, result.id, planned.email or "", planned.person_id)
            )
        record.log.append(
            LogEntry(
                system, planned.object, result.id or planned.write.id, action, planned.fields, planned.email
            )
        )
        if planned.source not in failed_sources and planned.source not in written_bases:
            written_bases.add(planned.source)
            for name, base in planned.bases.items():
                record.bases.append(_base_write(planned.person_id, planned.email or "", name, base))
            if planned.email:
                record.cleared.append((system, planned.email))
                record.cleared.append((planned.source.system, planned.email))
    return record, counts


def quarantine_counts(record: PageRecord) -> dict[str, int]:
    """Records set aside (each once, whatever number of reasons) per "system.quarantined" (the system
    holding the record or refusing the write), and in all as "quarantined"."""
    counts: dict[str, int] = {}
    for system, _key in dict.fromkeys((item.system, item.record_key) for item in record.quarantined):
        for name in (f"{system}.quarantined", "quarantined"):
            counts[name] = counts.get(name, 0) + 1
    return counts
