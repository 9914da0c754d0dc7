"""DML on the simulated org: create, update, upsert and delete with a real org's validation and stamps."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from connectors.salesforce.sandbox.errors import FieldError
from connectors.salesforce.sandbox.ids import IdGenerator, normalize_id
from connectors.salesforce.sandbox.schema import (
    CLOSED_TASK_STATUSES,
    OPPORTUNITY_STAGES,
    RESPONDED_MEMBER_STATUSES,
    ObjectDef,
    OrgSchema,
)
from connectors.salesforce.sandbox.settings import SalesforceSettings
from connectors.salesforce.sandbox.store import Deletion, OrgStore, Record, sf_datetime
from connectors.salesforce.sandbox.validation import (
    check_field,
    check_reference,
    coerce,
    read_only_error,
    required_error,
    split_input,
)
from connectors.sandbox_core.clock import SimClock

# Deleting a parent deletes these children (object, lookup field), like the real cascade rules.
_CASCADE: Mapping[str, tuple[tuple[str, str], ...]] = {
    "Account": (("Contact", "AccountId"), ("Opportunity", "AccountId")),
    "Contact": (
        ("OpportunityContactRole", "ContactId"),
        ("CampaignMember", "ContactId"),
        ("Task", "WhoId"),
        ("Event", "WhoId"),
    ),
    "Lead": (("CampaignMember", "LeadId"), ("Task", "WhoId"), ("Event", "WhoId")),
    "Opportunity": (
        ("OpportunityContactRole", "OpportunityId"),
        ("OpportunityHistory", "OpportunityId"),
        ("Task", "WhatId"),
        ("Event", "WhatId"),
    ),
    "Campaign": (("CampaignMember", "CampaignId"),),
}


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one record's DML, in the shape collections report it."""

    id: str | None
    success: bool
    errors: tuple[FieldError, ...] = ()
    created: bool | None = None

    def as_collection(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "success": self.success,
            "errors": [e.as_collection() for e in self.errors],
        }
        if self.created is not None:
            out["created"] = self.created
        return out


def failed(*errors: FieldError) -> WriteResult:
    return WriteResult(None, False, tuple(errors))


@dataclass(frozen=True)
class WriteContext:
    """Who writes and how: the acting user, and whether duplicate rules may be bypassed."""

    user_id: str
    allow_duplicates: bool = False


class RecordWriter:
    """Applies writes to the store; callers hold `store.lock` for multi-record operations."""

    def __init__(
        self,
        schema: OrgSchema,
        store: OrgStore,
        ids: IdGenerator,
        clock: SimClock,
        settings: Callable[[], SalesforceSettings],
        seed: int = 0,
    ) -> None:
        self.schema = schema
        self.store = store
        self.ids = ids
        self.clock = clock
        self._settings = settings
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        """Forget locked rows and restart the lock-contention dice."""
        self._rng = random.Random(f"{seed}:row-locks")
        self.locked: dict[str, int] = {}

    def lock(self, record_ids: list[str], times: int) -> None:
        """The next `times` writes to each record fail with UNABLE_TO_LOCK_ROW, as if another job held it."""
        for record_id in record_ids:
            self.locked[record_id] = times

    def _lock_error(self, record_id: str | None) -> FieldError | None:
        remaining = self.locked.get(record_id or "", 0)
        if remaining > 0:
            self.locked[record_id or ""] = remaining - 1
        elif not (
            self._settings().lock_row_failure_rate > 0
            and self._rng.random() < self._settings().lock_row_failure_rate
        ):
            return None
        return FieldError(
            "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records"
        )

    # ---- create ----
    def create(self, sobject: str, values: Mapping[str, Any], ctx: WriteContext) -> WriteResult:
        obj = self.schema.objects[sobject]
        inputs = split_input(obj, values)
        coerced = {name: coerce(f, v) for name, (f, v) in inputs.items()}
        errors: list[FieldError] = []
        if "Id" in coerced:
            return failed(FieldError("INVALID_FIELD", "cannot specify Id in an insert call", ("Id",)))
        read_only = [n for n, (f, _) in inputs.items() if not f.createable]
        if read_only:
            errors.append(read_only_error(read_only))
        errors += self._check_values(obj, coerced)
        missing = [
            f.name for f in obj.fields.values() if f.required_on_create and coerced.get(f.name) is None
        ]
        if sobject == "CampaignMember" and not coerced.get("LeadId") and not coerced.get("ContactId"):
            missing.append("LeadId")
        if missing:
            errors.append(required_error(missing))
        if errors:
            return failed(*errors)
        lock_error = self._lock_error(None)
        if lock_error is not None:
            return failed(lock_error)
        now = sf_datetime(self.clock.now())
        record: Record = {}
        for f in obj.fields.values():
            record[f.name] = f.default_value if f.defaulted_on_create else None
        record.update(coerced)
        record["Id"] = self.ids.new(obj.key_prefix)
        for stamp in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
            if stamp in obj.fields:
                record[stamp] = now
        for by in ("CreatedById", "LastModifiedById"):
            if by in obj.fields:
                record[by] = ctx.user_id
        if "OwnerId" in obj.fields and record.get("OwnerId") is None:
            record["OwnerId"] = ctx.user_id
        if "IsDeleted" in obj.fields:
            record["IsDeleted"] = False
        self._derive(obj, record, None)
        conflict = self._rules(obj, record) or self._conflicts(obj, record, ctx)
        if conflict is not None:
            return failed(conflict)
        self.store.put(sobject, record)
        if sobject in ("Task", "Event"):
            self._roll_up_activity(record)
        if sobject == "Opportunity":
            self._track_history(record, None, ctx.user_id)
        return WriteResult(record["Id"], True, (), True)

    # ---- update ----
    def update(
        self, sobject: str, record_id: str, values: Mapping[str, Any], ctx: WriteContext
    ) -> WriteResult:
        obj = self.schema.objects[sobject]
        inputs = split_input(obj, values)
        inputs.pop("Id", None)
        coerced = {name: coerce(f, v) for name, (f, v) in inputs.items()}
        current = self.store.get(sobject, record_id)
        if current is None:
            return failed(FieldError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"))
        if current.get("IsDeleted"):
            return failed(FieldError("ENTITY_IS_DELETED", "entity is deleted"))
        if sobject == "Lead" and current.get("IsConverted"):
            return failed(FieldError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead"))
        errors: list[FieldError] = []
        read_only = [n for n, (f, _) in inputs.items() if not f.updateable]
        if read_only:
            errors.append(read_only_error(read_only))
        errors += self._check_values(obj, coerced)
        missing = [
            n
            for n, v in coerced.items()
            if v is None and not obj.fields[n].nillable and obj.fields[n].type != "boolean"
        ]
        if missing:
            errors.append(required_error(missing))
        if errors:
            return WriteResult(record_id, False, tuple(errors))
        lock_error = self._lock_error(record_id)
        if lock_error is not None:
            return WriteResult(record_id, False, (lock_error,))
        record = dict(current)
        record.update(coerced)
        self.touch_fields(obj, record, ctx.user_id)
        self._derive(obj, record, current)
        conflict = self._rules(obj, record) or self._conflicts(obj, record, ctx)
        if conflict is not None:
            return WriteResult(record_id, False, (conflict,))
        self.store.put(sobject, record)
        if sobject in ("Task", "Event"):
            self._roll_up_activity(record)
        if sobject == "Opportunity":
            self._track_history(record, current, ctx.user_id)
        return WriteResult(record_id, True)

    def _track_history(self, opportunity: Record, before: Record | None, user_id: str) -> None:
        """The platform's OpportunityHistory row: on create, and when stage, amount, close date or
        probability change (the same save, so it carries the Opportunity's new SystemModstamp)."""
        if before is not None and all(opportunity.get(f) == before.get(f) for f in HISTORY_FIELDS):
            return
        self.store.put("OpportunityHistory", history_row(self.ids.new("008"), opportunity, user_id))

    def _roll_up_activity(self, task: Record) -> None:
        """A completed task or a past event moves LastActivityDate on its Who and What; the platform
        does that as a system update, so only SystemModstamp moves with it."""
        when = task.get("ActivityDate") or (task.get("CompletedDateTime") or "")[:10]
        if "EventSubtype" in task:
            if not when or when > self.clock.now().date().isoformat():
                return
        elif not task.get("IsClosed") or not when:
            return
        for lookup in ("WhoId", "WhatId"):
            parent_id = task.get(lookup)
            parent = self.store.lookup(parent_id) if parent_id else None
            obj = self.schema.object_for_id(parent_id) if parent_id else None
            if parent is None or obj is None or "LastActivityDate" not in obj.fields:
                continue
            if (parent.get("LastActivityDate") or "") >= when:
                continue
            updated = dict(parent, LastActivityDate=when, SystemModstamp=sf_datetime(self.clock.now()))
            self.store.put(obj.name, updated)

    def touch_fields(self, obj: ObjectDef, record: Record, user_id: str | None) -> None:
        """A user edit: LastModifiedDate and SystemModstamp move together."""
        now = sf_datetime(self.clock.now())
        if "LastModifiedDate" in obj.fields:
            record["LastModifiedDate"] = now
            record["SystemModstamp"] = now
        if user_id is not None and "LastModifiedById" in obj.fields:
            record["LastModifiedById"] = user_id

    def system_touch(self, sobject: str, record_id: str) -> bool:
        """A system process (recalculation, sharing, workflow) touches the row: SystemModstamp only."""
        current = self.store.get(sobject, record_id)
        if current is None:
            return False
        record = dict(current)
        record["SystemModstamp"] = sf_datetime(self.clock.now())
        self.store.put(sobject, record)
        return True

    # ---- upsert ----
    def upsert(
        self, sobject: str, ext_field: str, ext_value: str, values: Mapping[str, Any], ctx: WriteContext
    ) -> WriteResult | list[str]:
        """Create or update by external id; several matches → the matching ids (HTTP 300, nothing written)."""
        if ext_field == "Id":
            record_id = normalize_id(ext_value) if ext_value else None
            if record_id is None or self.store.get(sobject, record_id) is None:
                body = dict(values)
                body.pop("Id", None)
                if ext_value:
                    return failed(
                        FieldError(
                            "NOT_FOUND",
                            f"Provided external ID field does not exist or is not accessible: {ext_value}",
                        )
                    )
                return self.create(sobject, body, ctx)
            body = {k: v for k, v in values.items() if k.lower() != "id"}
            return replace(self.update(sobject, record_id, body, ctx), created=False)
        matches = [
            i
            for i in self.store.find_by(sobject, ext_field, ext_value)
            if not self.store.tables[sobject][i].get("IsDeleted")
        ]
        body = {k: v for k, v in values.items() if k.lower() != ext_field.lower()}
        if len(matches) > 1:
            return matches
        if matches:
            return replace(self.update(sobject, matches[0], body, ctx), created=False)
        body[ext_field] = ext_value
        return self.create(sobject, body, ctx)

    # ---- delete ----
    def delete(self, record_id: str, ctx: WriteContext) -> WriteResult:
        obj = self.schema.object_for_id(record_id)
        current = self.store.get(obj.name, record_id) if obj is not None else None
        if obj is None or current is None:
            return WriteResult(
                record_id, False, (FieldError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"),)
            )
        if current.get("IsDeleted"):
            return WriteResult(record_id, False, (FieldError("ENTITY_IS_DELETED", "entity is deleted"),))
        if not obj.deletable:
            return WriteResult(record_id, False, (FieldError("CANNOT_DELETE_OWNER", "cannot delete users"),))
        lock_error = self._lock_error(record_id)
        if lock_error is not None:
            return WriteResult(record_id, False, (lock_error,))
        self._soft_delete(obj, current, ctx.user_id)
        return WriteResult(record_id, True)

    def _soft_delete(
        self, obj: ObjectDef, current: Record, user_id: str, master_id: str | None = None
    ) -> None:
        now = sf_datetime(self.clock.now())
        record = dict(current)
        record["IsDeleted"] = True
        record["SystemModstamp"] = now
        record["LastModifiedDate"] = now
        record["LastModifiedById"] = user_id
        if master_id is not None:
            record["MasterRecordId"] = master_id
        self.store.put(obj.name, record)
        self.store.log_deletion(Deletion(obj.name, record["Id"], now))
        for child, field in _CASCADE.get(obj.name, ()):
            child_obj = self.schema.objects[child]
            for row in list(self.store.tables[child].values()):
                if row.get(field) == record["Id"] and not row.get("IsDeleted"):
                    self._soft_delete(child_obj, row, user_id)

    def soft_delete_as_merge_loser(
        self, obj: ObjectDef, record_id: str, master_id: str, user_id: str
    ) -> None:
        current = self.store.get(obj.name, record_id)
        assert current is not None
        record = dict(current)
        now = sf_datetime(self.clock.now())
        record.update(
            IsDeleted=True,
            MasterRecordId=master_id,
            SystemModstamp=now,
            LastModifiedDate=now,
            LastModifiedById=user_id,
        )
        self.store.put(obj.name, record)
        self.store.log_deletion(Deletion(obj.name, record_id, now))

    # ---- helpers ----
    def _check_values(self, obj: ObjectDef, coerced: dict[str, Any]) -> list[FieldError]:
        errors: list[FieldError] = []
        for name, value in list(coerced.items()):
            f = obj.fields[name]
            if value is None:
                continue
            if f.type == "reference":
                normalized, error = check_reference(self.schema, self.store, f, value)
                if error is not None:
                    errors.append(error)
                else:
                    coerced[name] = normalized
                continue
            error = check_field(f, value)
            if error is not None:
                errors.append(error)
        return errors

    def _derive(self, obj: ObjectDef, record: Record, before: Record | None) -> None:
        """Fields a real org computes on save."""
        name = obj.name
        if name in ("Lead", "Contact", "User"):
            record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)
        elif name == "Opportunity":
            stage = OPPORTUNITY_STAGES.get(record.get("StageName") or "")
            if stage is not None:
                probability, closed, won, forecast = stage
                stage_changed = before is None or before.get("StageName") != record.get("StageName")
                if before is None:
                    if record.get("Probability") is None:
                        record["Probability"] = probability
                elif stage_changed and record.get("Probability") == before.get("Probability"):
                    record["Probability"] = probability
                record["IsClosed"] = closed
                record["IsWon"] = won
                if stage_changed or record.get("ForecastCategoryName") is None:
                    record["ForecastCategoryName"] = forecast
        elif name == "Task":
            closed = record.get("Status") in CLOSED_TASK_STATUSES
            record["IsClosed"] = closed
            if closed and not record.get("CompletedDateTime"):
                record["CompletedDateTime"] = record.get("LastModifiedDate")
            if not closed:
                record["CompletedDateTime"] = None
            if record.get("Type") is None and record.get("TaskSubtype") in ("Call", "Email"):
                record["Type"] = record["TaskSubtype"]
        elif name == "Event":
            _derive_event_times(record, before)
        elif name == "CampaignMember":
            # The status implies the flag (it follows every status change); the date of the first
            # responded status stays.
            record["HasResponded"] = record.get("Status") in RESPONDED_MEMBER_STATUSES
            if record["HasResponded"] and not record.get("FirstRespondedDate"):
                record["FirstRespondedDate"] = (record.get("LastModifiedDate") or "")[:10] or None

    def _rules(self, obj: ObjectDef, record: Record) -> FieldError | None:
        """The org's validation rules (switchable): a lead closed as not converted needs a reason.
        An event needs a start and an end (or a duration), like every org."""
        if obj.name == "Event":
            # All-day events get both from ActivityDate (see _derive_event_times).
            missing = [name for name in ("ActivityDateTime", "DurationInMinutes") if record.get(name) is None]
            if missing:
                return required_error(missing)
            if (record.get("DurationInMinutes") or 0) < 0:
                return FieldError(
                    "FIELD_INTEGRITY_EXCEPTION",
                    "End Date Time cannot be earlier than Start Date Time",
                    ("EndDateTime",),
                )
        if (
            self._settings().disqualification_rule
            and obj.name == "Lead"
            and record.get("Status") == "Closed - Not Converted"
            and not record.get("Disqualification_Reason__c")
        ):
            return FieldError(
                "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                "Choose a Disqualification Reason before closing a lead as not converted.",
            )
        return None

    def _conflicts(self, obj: ObjectDef, record: Record, ctx: WriteContext) -> FieldError | None:
        """Unique external ids, one membership per campaign, and (when enabled) duplicate rules."""
        for f in obj.fields.values():
            if f.unique and f.external_id and isinstance(record.get(f.name), str):
                others = [
                    i for i in self.store.find_by(obj.name, f.name, record[f.name]) if i != record["Id"]
                ]
                if others:
                    return FieldError(
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {f.name} duplicates value on record with id: {others[0]}",
                        (),
                    )
        if obj.name == "CampaignMember":
            for row in self.store.tables["CampaignMember"].values():
                if (
                    row["Id"] != record["Id"]
                    and not row.get("IsDeleted")
                    and row.get("CampaignId") == record.get("CampaignId")
                    and (
                        (record.get("LeadId") and row.get("LeadId") == record.get("LeadId"))
                        or (record.get("ContactId") and row.get("ContactId") == record.get("ContactId"))
                    )
                ):
                    return FieldError("DUPLICATE_VALUE", "Already a campaign member.", ())
        if (
            self._settings().duplicate_rules
            and not ctx.allow_duplicates
            and obj.name in ("Lead", "Contact")
            and isinstance(record.get("Email"), str)
        ):
            targets = ("Lead", "Contact") if obj.name == "Lead" else ("Contact",)
            matches = []
            for target in targets:
                for other_id in self.store.find_by(target, "Email", record["Email"]):
                    other = self.store.tables[target][other_id]
                    if (
                        other_id != record["Id"]
                        and not other.get("IsDeleted")
                        and not other.get("IsConverted")
                    ):
                        matches.append((target, other_id))
            if matches:
                return FieldError(
                    "DUPLICATES_DETECTED",
                    "Use one of these records?",
                    (),
                    (
                        (
                            "duplicateResult",
                            {
                                "allowSave": True,
                                "duplicateRule": f"Standard_{obj.name}_Duplicate_Rule",
                                "duplicateRuleEntityType": obj.name,
                                "errorMessage": "Use one of these records?",
                                "matchResults": [
                                    {
                                        "entityType": target,
                                        "errors": [],
                                        "matchEngine": "ExactMatchEngine",
                                        "matchRecords": [
                                            {
                                                "additionalInformation": [],
                                                "fieldDiffs": [],
                                                "matchConfidence": 100.0,
                                                "record": {"attributes": {"type": target}, "Id": other_id},
                                            }
                                        ],
                                        "rule": f"Standard_Rule_for_{obj.name}s_with_Duplicate_{target}s",
                                        "size": 1,
                                        "success": True,
                                    }
                                    for target, other_id in matches
                                ],
                            },
                        ),
                    ),
                )
        return None


# Changes to these Opportunity fields write an OpportunityHistory row.
HISTORY_FIELDS = ("StageName", "Amount", "CloseDate", "Probability")


def history_row(row_id: str, opportunity: Record, user_id: str) -> Record:
    """One OpportunityHistory row for the Opportunity as it is now, stamped with its SystemModstamp."""
    stage = OPPORTUNITY_STAGES.get(opportunity.get("StageName") or "")
    probability = opportunity.get("Probability")
    amount = opportunity.get("Amount")
    expected = amount * probability / 100 if amount is not None and probability is not None else None
    stamp = opportunity.get("SystemModstamp")
    return {
        "Id": row_id,
        "OpportunityId": opportunity["Id"],
        "CreatedDate": stamp,
        "CreatedById": user_id,
        "StageName": opportunity.get("StageName"),
        "Amount": amount,
        "ExpectedRevenue": expected,
        "CloseDate": opportunity.get("CloseDate"),
        "Probability": probability,
        # Forecast categories are spelled without spaces here (BestCase), unlike ForecastCategoryName.
        "ForecastCategory": (stage[3] if stage else None),
        "IsDeleted": False,
        "SystemModstamp": stamp,
    }


def _derive_event_times(record: Record, before: Record | None) -> None:
    """An event's times as the platform completes them: start and ActivityDateTime are one instant,
    the end follows from the duration or the duration from the end (whichever the write changed)."""
    start = record.get("StartDateTime") or record.get("ActivityDateTime")
    if before is not None and record.get("ActivityDateTime") != before.get("ActivityDateTime"):
        start = record.get("ActivityDateTime")
    if record.get("IsAllDayEvent") and not start and record.get("ActivityDate"):
        start = f"{record['ActivityDate']}T00:00:00.000+0000"
    if not start:
        return
    record["StartDateTime"] = record["ActivityDateTime"] = start
    begins = _parse_sf(start)
    end_changed = before is None or record.get("EndDateTime") != before.get("EndDateTime")
    duration = record.get("DurationInMinutes")
    if record.get("IsAllDayEvent"):
        duration = 1440
    elif record.get("EndDateTime") and (end_changed or duration is None):
        duration = int((_parse_sf(record["EndDateTime"]) - begins).total_seconds() // 60)
    if duration is None:
        return
    record["DurationInMinutes"] = duration
    record["EndDateTime"] = sf_datetime(begins + timedelta(minutes=duration))
    record["ActivityDate"] = start[:10]


def _parse_sf(text: str) -> datetime:
    return datetime.fromisoformat(text)
