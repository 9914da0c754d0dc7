"""The portal's CRM records: per-object tables, validation, writes, merges and associations (not thread-safe
by itself; the owning state object serialises access)."""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from connectors.hubspot.sandbox.errors import ErrorDetail, HubSpotError, not_found, validation
from connectors.hubspot.sandbox.schema import (
    DEAL_STAGES,
    DEFAULT_ASSOCIATION_TYPES,
    LIFECYCLE_STAGES,
    ObjectType,
    PropertyDef,
)
from connectors.hubspot.sandbox.values import (
    datetime_value_ms,
    email_key,
    from_epoch_ms,
    is_valid_email,
    iso_ms,
    number_value,
)

Props = dict[str, str]
_STAGE_META = {s[0]: (s[2], s[3]) for s in DEAL_STAGES}
_LIFECYCLE_ORDER = {stage: i for i, stage in enumerate(LIFECYCLE_STAGES)}
_SEEDED = float("-inf")  # seeded versions are indexed from the start
# Engagements that count as sales activity on a contact, and those that count as contacting them.
SALES_ENGAGEMENT_TYPES = frozenset({"calls", "emails", "meetings", "notes"})
CONTACTING_ENGAGEMENT_TYPES = frozenset({"calls", "emails", "meetings"})


class Record:
    """One CRM record. `properties` is replaced on every write (never mutated in place), so the search
    index's older versions can keep references to earlier dicts."""

    __slots__ = (
        "archived",
        "archived_at",
        "created_at",
        "created_iso",
        "history",
        "id",
        "json_cache",
        "origin",
        "properties",
        "updated_at",
        "updated_iso",
        "versions",
    )

    def __init__(self, id_: int, properties: Props, created_at: datetime, written_mono: float) -> None:
        self.id = id_
        self.properties = properties
        self.created_at = created_at
        self.created_iso = iso_ms(created_at)  # rendered on every read: format once
        self.updated_at = created_at
        self.updated_iso = self.created_iso
        self.origin = "INTEGRATION"  # sourceType of the values the record was created with
        # property -> [(value, timestamp, sourceType)] oldest first; only for properties written since
        self.history: dict[str, list[tuple[str | None, str, str]]] | None = None
        self.archived = False
        self.archived_at: datetime | None = None
        # (monotonic time written, properties, archived): what the search index may still show
        self.versions: list[tuple[float, Props, bool]] = [(written_mono, properties, False)]
        # (property names, properties dict, archived, JSON text) of the last plain render
        self.json_cache: tuple[tuple[str, ...], Props, bool, str] | None = None

    def touch(self, when: datetime) -> None:
        self.updated_at = when
        self.updated_iso = iso_ms(when)


@dataclass(frozen=True)
class Owner:
    id: str
    email: str
    first_name: str
    last_name: str
    user_id: int
    created_at: datetime


@dataclass(frozen=True)
class WriteResult:
    record: Record
    created: bool


class Table:
    """The records of one object type in id order (ids only grow, so appends keep `ids` sorted)."""

    def __init__(self, object_type: ObjectType) -> None:
        self.type = object_type
        self.records: dict[int, Record] = {}
        self.ids: list[int] = []

    def add(self, record: Record) -> None:
        self.records[record.id] = record
        self.ids.append(record.id)

    def remove(self, record_id: int) -> None:
        del self.records[record_id]
        self.ids.pop(bisect_left(self.ids, record_id))


class CrmStore:
    """Every CRM object of one simulated portal, with HubSpot's validation rules."""

    def __init__(
        self,
        types: MappingProxyType[str, ObjectType],
        *,
        now: Callable[[], datetime],
        monotonic: Callable[[], float],
        case_insensitive_email: bool = True,
        lifecycle_forward_only: bool = True,
        search_lag_s: float = 0.0,
    ) -> None:
        self.types = types
        self.tables = {name: Table(t) for name, t in types.items()}
        self.now = now
        self.monotonic = monotonic
        self.case_insensitive_email = case_insensitive_email
        self.lifecycle_forward_only = lifecycle_forward_only
        self.search_lag_s = search_lag_s
        self.owners: dict[str, Owner] = {}
        self.email_index: dict[str, int] = {}
        self.merged_into: dict[int, int] = {}
        # (from type, from id) -> to type -> to id -> association type ids
        self.associations: dict[tuple[str, int], dict[str, dict[int, set[int]]]] = {}
        # Custom unique properties (not contacts' email): (object, property) -> value -> record id.
        self.unique_props: dict[str, tuple[str, ...]] = {
            name: tuple(p.name for p in t.properties.values() if p.has_unique_value and p.name != "email")
            for name, t in types.items()
        }
        self.unique_index: dict[tuple[str, str], dict[str, int]] = {}
        self._next_id = 1001
        self._names_cache: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}

    # ------------------------------------------------------------------ ids and lookups

    def new_id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    def table(self, object_name: str) -> Table:
        return self.tables[object_name]

    def key_for_email(self, value: str) -> str:
        """The email index key for an address (case-folded unless configured otherwise)."""
        return email_key(value, case_insensitive=self.case_insensitive_email)

    def find(
        self, object_name: str, raw_id: str, *, id_property: str | None = None, archived: bool = False
    ) -> Record | None:
        """A record by id (following merges) or by a unique property; None if absent."""
        table = self.tables[object_name]
        if id_property and id_property not in ("hs_object_id",):
            if object_name == "contacts" and id_property == "email":
                found = self.email_index.get(self.key_for_email(raw_id))
                return table.records.get(found) if found is not None and not archived else None
            if id_property in self.unique_props[object_name]:
                found = self.unique_index.get((object_name, id_property), {}).get(raw_id)
                return table.records.get(found) if found is not None and not archived else None
            raise validation(
                f"Unable to find unique property {id_property} on {table.type.singular}",
                [
                    ErrorDetail(
                        f'Property "{id_property}" does not exist or is not unique', "PROPERTY_DOESNT_EXIST"
                    )
                ],
            )
        try:
            record_id = int(raw_id)
        except ValueError:
            return None
        while record_id in self.merged_into:
            record_id = self.merged_into[record_id]
        record = table.records.get(record_id)
        if record is None or record.archived != archived:
            return None
        return record

    # ------------------------------------------------------------------ validation

    def normalise(
        self, object_name: str, properties: Mapping[str, Any], *, internal: bool = False
    ) -> tuple[dict[str, str | None], list[tuple[str, ErrorDetail]]]:
        """Coerce input values to HubSpot's stored strings; report (property, problem) pairs."""
        t = self.types[object_name]
        out: dict[str, str | None] = {}
        problems: list[tuple[str, ErrorDetail]] = []
        for name, raw in properties.items():
            prop = t.properties.get(name)
            if prop is None:
                problems.append(
                    (
                        name,
                        ErrorDetail(
                            f'Property "{name}" does not exist',
                            "PROPERTY_DOESNT_EXIST",
                            {"propertyName": [name]},
                        ),
                    )
                )
                continue
            if prop.read_only and not internal:
                problems.append(
                    (
                        name,
                        ErrorDetail(
                            f"{name} is a read only property; its value cannot be set.",
                            "READ_ONLY_VALUE",
                            {"propertyName": [name]},
                        ),
                    )
                )
                continue
            value, problem = self._coerce(object_name, prop, raw)
            if problem is not None:
                problems.append((name, problem))
            else:
                out[name] = value
        return out, problems

    def _coerce(self, object_name: str, prop: PropertyDef, raw: Any) -> tuple[str | None, ErrorDetail | None]:
        if raw is None:
            return None, None
        if isinstance(raw, bool):
            text = "true" if raw else "false"
        elif isinstance(raw, (int, float)):
            text = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw)
        elif isinstance(raw, str):
            text = raw
        else:
            return None, ErrorDetail(
                f"{raw!r} is not a valid value for {prop.name}",
                "INVALID_VALUE",
                {"propertyName": [prop.name]},
            )
        if text == "":
            return None, None
        ctx = {"propertyName": [prop.name]}
        if prop.type == "number":
            if number_value(text) is None:
                return None, ErrorDetail(
                    f"{text} is not a valid number for {prop.name}", "INVALID_DECIMAL", ctx
                )
        elif prop.type in ("datetime", "date"):
            ms = datetime_value_ms(text)
            if ms is None:
                return None, ErrorDetail(f"{text} is not a valid date for {prop.name}", "INVALID_DATE", ctx)
            text = iso_ms(from_epoch_ms(ms))
        elif prop.type == "bool":
            if text.lower() not in ("true", "false"):
                return None, ErrorDetail(
                    f"{text} is not a valid boolean for {prop.name}", "INVALID_BOOLEAN", ctx
                )
            text = text.lower()
        elif prop.type == "enumeration":
            allowed = self._allowed_options(prop)
            values = text.split(";") if prop.field_type == "checkbox" else [text]
            bad = [v for v in values if allowed is not None and v not in allowed]
            if bad and allowed is not None:
                shown = ", ".join(sorted(allowed)[:20])
                return None, ErrorDetail(
                    f"{bad[0]} was not one of the allowed options: [{shown}]", "INVALID_OPTION", ctx
                )
        if object_name == "contacts" and prop.name == "email" and not is_valid_email(text):
            return None, ErrorDetail(f"Email address {text} is invalid", "INVALID_EMAIL", ctx)
        return text, None

    def _allowed_options(self, prop: PropertyDef) -> set[str] | None:
        if prop.name == "hubspot_owner_id":
            return set(self.owners)
        if prop.name in ("hs_merged_object_ids", "hs_additional_emails"):
            return None  # free-form lists of ids / addresses
        return {o.value for o in prop.options}

    def raise_if_invalid(self, object_name: str, problems: Sequence[tuple[str, ErrorDetail]]) -> None:
        if not problems:
            return
        summary = [
            {
                "isValid": False,
                "message": d.message,
                "error": d.code,
                "name": name,
                "localizedErrorMessage": d.message,
            }
            for name, d in problems
        ]
        raise validation(
            "Property values were not valid: " + json.dumps(summary),
            [d for _, d in problems],
        )

    def check_required(
        self, object_name: str, values: Mapping[str, str | None]
    ) -> list[tuple[str, ErrorDetail]]:
        t = self.types[object_name]
        return [
            (
                name,
                ErrorDetail(
                    f"Property {name} is required to create a {t.singular}",
                    "REQUIRED_PROPERTY",
                    {"propertyName": [name]},
                ),
            )
            for name in t.required_on_create
            if not values.get(name)
        ]

    def email_owner(self, email: str) -> int | None:
        return self.email_index.get(self.key_for_email(email))

    def conflict(self, existing_id: int) -> HubSpotError:
        return HubSpotError(409, f"Contact already exists. Existing ID: {existing_id}", category="CONFLICT")

    # ------------------------------------------------------------------ writes

    def _index_emails(self, record: Record, props: Mapping[str, str]) -> None:
        if props.get("email"):
            self.email_index[self.key_for_email(props["email"])] = record.id
        for extra in (props.get("hs_additional_emails") or "").split(";"):
            if extra:
                self.email_index[self.key_for_email(extra)] = record.id

    def _unindex_emails(self, record: Record) -> None:
        props = record.properties
        keys = [props.get("email") or "", *(props.get("hs_additional_emails") or "").split(";")]
        for value in keys:
            if value and self.email_index.get(self.key_for_email(value)) == record.id:
                del self.email_index[self.key_for_email(value)]

    def _derive(
        self, object_name: str, current: Mapping[str, str], changes: dict[str, str | None], *, user_edit: bool
    ) -> None:
        """HubSpot's own reactions to a write: forward-only lifecycle, stage dates, deal stage flags."""
        if "lifecyclestage" in changes and object_name in ("contacts", "companies"):
            new, old = changes["lifecyclestage"], current.get("lifecyclestage")
            if (
                self.lifecycle_forward_only
                and not user_edit
                and new
                and old
                and _LIFECYCLE_ORDER.get(new, 0) < _LIFECYCLE_ORDER.get(old, 0)
            ):
                # Backward moves are silently ignored unless the stage was cleared first.
                del changes["lifecyclestage"]
            elif new and new != old and object_name == "contacts":
                # "Became a ... Date": set when the record first enters the stage.
                date_prop = f"hs_lifecyclestage_{new}_date"
                if not current.get(date_prop) and not changes.get(date_prop):
                    changes[date_prop] = iso_ms(self.now())
        stage = changes.get("dealstage")
        if object_name == "deals" and stage:
            probability, closed = _STAGE_META.get(stage, (0.0, False))
            changes["hs_is_closed"] = "true" if closed else "false"
            changes["hs_is_closed_won"] = "true" if stage == "closedwon" else "false"
            changes["hs_deal_stage_probability"] = str(probability)
            if stage != current.get("dealstage") and not changes.get(f"hs_date_entered_{stage}"):
                changes[f"hs_date_entered_{stage}"] = iso_ms(self.now())
            if closed and not current.get("closedate") and not changes.get("closedate"):
                changes["closedate"] = iso_ms(self.now())

    def _push_version(self, record: Record, written: float) -> None:
        versions = record.versions
        versions.append((written, record.properties, record.archived))
        horizon = written - self.search_lag_s
        # Keep only the newest version already visible to the index and anything newer.
        while len(versions) > 1 and versions[1][0] <= horizon:
            versions.pop(0)

    def insert(
        self,
        object_name: str,
        values: Mapping[str, str | None],
        *,
        created_at: datetime | None = None,
        seeded: bool = False,
        record_id: int | None = None,
        source: str = "INTEGRATION",
    ) -> Record:
        """Store a new record from already-validated values."""
        t = self.types[object_name]
        now = self.now()
        created = created_at or now
        rid = record_id if record_id is not None else self.new_id()
        # Ids only grow: a record given its id (seeded deals) moves the counter past it.
        self._next_id = max(self._next_id, rid + 1)
        props: Props = {k: v for k, v in values.items() if v is not None}
        changes: dict[str, str | None] = dict(props)
        self._derive(object_name, {}, changes, user_edit=True)
        props = {k: v for k, v in changes.items() if v is not None}
        props["hs_object_id"] = str(rid)
        props[t.created_property] = iso_ms(created)
        props[t.modified_property] = iso_ms(created if seeded else now)
        record = Record(rid, props, created, _SEEDED if seeded else self.monotonic())
        record.origin = "IMPORT" if seeded else source
        record.touch(created if seeded else now)
        self.tables[object_name].add(record)
        if object_name == "contacts":
            self._index_emails(record, props)
        self._index_unique(object_name, record)
        return record

    def apply(
        self,
        object_name: str,
        record: Record,
        values: Mapping[str, str | None],
        *,
        user_edit: bool = False,
        source: str = "INTEGRATION",
    ) -> None:
        """Apply validated changes to a record and bump its modification time."""
        t = self.types[object_name]
        changes = dict(values)
        self._derive(object_name, record.properties, changes, user_edit=user_edit)
        now = self.now()
        stamp = iso_ms(now)
        history = record.history if record.history is not None else {}
        for k, v in changes.items():
            if v != record.properties.get(k):
                entries = history.get(k)
                if entries is None:
                    entries = history[k] = self._base_history(record, k)
                entries.append((v, stamp, source))
        record.history = history
        props = dict(record.properties)
        for k, v in changes.items():
            if v is None:
                props.pop(k, None)
            else:
                props[k] = v
        props[t.modified_property] = iso_ms(now)
        if object_name == "contacts":
            self._unindex_emails(record)
        self._unindex_unique(object_name, record)
        record.properties = props
        record.touch(now)
        if object_name == "contacts":
            self._index_emails(record, props)
        self._index_unique(object_name, record)
        self._push_version(record, self.monotonic())

    def _base_history(self, record: Record, name: str) -> list[tuple[str | None, str, str]]:
        """What a property's history was before any tracked write: its stage dates or its first value."""
        props = record.properties
        if name == "lifecyclestage":
            stages = [
                (stage, props[f"hs_lifecyclestage_{stage}_date"])
                for stage in LIFECYCLE_STAGES
                if props.get(f"hs_lifecyclestage_{stage}_date")
            ]
            if stages:
                return [(stage, when, record.origin) for stage, when in sorted(stages, key=lambda s: s[1])]
        value = props.get(name)
        return [(value, record.created_iso, record.origin)] if value is not None else []

    def property_history(self, record: Record, name: str) -> list[dict[str, Any]]:
        """`propertiesWithHistory` entries for one property, newest first."""
        tracked = record.history.get(name) if record.history else None
        entries = tracked if tracked is not None else self._base_history(record, name)
        return [
            {"value": value if value is not None else "", "timestamp": when, "sourceType": source}
            for value, when, source in reversed(entries)
        ]

    def amend_seeded(self, record: Record, values: Mapping[str, str]) -> None:
        """Fold values into a record while seeding, before anyone has read it (no modification bump)."""
        record.properties = {**record.properties, **values}
        record.versions = [(_SEEDED, record.properties, record.archived)]

    def record_touch(self, contact: Record, kind: str, when: datetime) -> None:
        """HubSpot's own bookkeeping after a page view or marketing email event on a contact."""
        props = contact.properties
        stamp = iso_ms(when)

        def bumped(name: str) -> str:
            return str(int(float(props.get(name) or "0")) + 1)

        counters = {
            "PAGE_VIEW": ("hs_analytics_num_page_views", "hs_analytics_last_timestamp"),
            "DELIVERED": ("hs_email_delivered", "hs_email_last_send_date"),
            "OPEN": ("hs_email_open", "hs_email_last_open_date"),
            "CLICK": ("hs_email_click", "hs_email_last_click_date"),
        }
        if kind not in counters:
            return
        counter, last = counters[kind]
        changes: dict[str, str | None] = {counter: bumped(counter), last: max(stamp, props.get(last) or "")}
        self.apply("contacts", contact, changes, user_edit=True, source="ANALYTICS")

    def archive(self, object_name: str, record: Record) -> None:
        now = self.now()
        if object_name == "contacts":
            self._unindex_emails(record)
        self._unindex_unique(object_name, record)
        record.archived = True
        record.archived_at = now
        record.touch(now)
        self._push_version(record, self.monotonic())

    def check_email_free(
        self, email: str | None, *, self_id: int | None, pending: dict[str, int] | None = None
    ) -> None:
        """409 if another live contact (or an earlier input of the same batch) holds this email."""
        if not email:
            return
        key = self.key_for_email(email)
        holder = self.email_index.get(key)
        if holder is not None and holder != self_id:
            raise self.conflict(holder)
        if pending is not None:
            if key in pending and pending[key] != self_id:
                raise self.conflict(pending[key])
            pending[key] = self_id if self_id is not None else -1

    # ------------------------------------------------------------------ custom unique properties

    def _index_unique(self, object_name: str, record: Record) -> None:
        for name in self.unique_props[object_name]:
            value = record.properties.get(name)
            if value:
                self.unique_index.setdefault((object_name, name), {})[value] = record.id

    def _unindex_unique(self, object_name: str, record: Record) -> None:
        for name in self.unique_props[object_name]:
            index = self.unique_index.get((object_name, name), {})
            value = record.properties.get(name)
            if value and index.get(value) == record.id:
                del index[value]

    def unique_holder(self, object_name: str, name: str, value: str) -> int | None:
        """The live record holding `value` in the unique property `name`, if any."""
        return self.unique_index.get((object_name, name), {}).get(value)

    def check_unique_free(
        self,
        object_name: str,
        values: Mapping[str, str | None],
        *,
        self_id: int | None,
        pending: dict[tuple[str, str], int] | None = None,
    ) -> None:
        """409 if another live record (or an earlier input of the same batch) holds a unique value."""
        t = self.types[object_name]
        for name in self.unique_props[object_name]:
            value = values.get(name)
            if not value:
                continue
            holder = self.unique_holder(object_name, name, value)
            if pending is not None and holder is None:
                holder = pending.get((name, value))
            if holder is not None and holder != self_id:
                raise HubSpotError(
                    409,
                    f"A {t.singular} with {name} {value!r} already exists. Existing ID: {holder}",
                    category="CONFLICT",
                )
            if pending is not None:
                pending[(name, value)] = self_id if self_id is not None else -1

    # ------------------------------------------------------------------ merge

    def merge_contacts(self, primary_id: str, secondary_id: str) -> Record:
        """HubSpot's contact merge: a new record replaces both; their ids redirect to it."""
        primary = self.find("contacts", primary_id)
        secondary = self.find("contacts", secondary_id)
        if primary is None:
            raise not_found("contact", primary_id)
        if secondary is None:
            raise not_found("contact", secondary_id)
        if primary.id == secondary.id:
            raise validation(
                "Cannot merge a contact with itself",
                [ErrorDetail("The two object ids must differ", "INVALID_MERGE")],
            )
        table = self.tables["contacts"]
        merged_props: Props = dict(secondary.properties)
        merged_props.update(primary.properties)
        extra = [
            e
            for e in (
                (primary.properties.get("hs_additional_emails") or "").split(";")
                + (secondary.properties.get("hs_additional_emails") or "").split(";")
                + [secondary.properties.get("email") or ""]
            )
            if e and e != merged_props.get("email")
        ]
        old_ids = [
            i
            for i in (primary.properties.get("hs_merged_object_ids") or "").split(";")
            + (secondary.properties.get("hs_merged_object_ids") or "").split(";")
            + [str(primary.id), str(secondary.id)]
            if i
        ]
        stage_a = primary.properties.get("lifecyclestage")
        stage_b = secondary.properties.get("lifecyclestage")
        if stage_a and stage_b:
            merged_props["lifecyclestage"] = max(stage_a, stage_b, key=lambda s: _LIFECYCLE_ORDER.get(s, 0))
        for record in (primary, secondary):
            self._unindex_emails(record)
            table.remove(record.id)
        values: dict[str, str | None] = {
            k: v
            for k, v in merged_props.items()
            if k not in ("hs_object_id", "createdate", "lastmodifieddate")
        }
        values["hs_additional_emails"] = ";".join(dict.fromkeys(extra)) or None
        values["hs_merged_object_ids"] = ";".join(sorted(set(old_ids), key=int))
        created = min(primary.created_at, secondary.created_at)
        new = self.insert("contacts", values, created_at=created)
        for old in (primary.id, secondary.id):
            self.merged_into[old] = new.id
            self._move_associations("contacts", old, new.id)
        self._recount_sales_activity(new)
        return new

    # ------------------------------------------------------------------ associations

    def associate(
        self,
        from_type: str,
        from_id: int,
        to_type: str,
        to_id: int,
        type_id: int,
        *,
        seeded: bool = False,
        roll_up: bool = True,
    ) -> None:
        """Link two records both ways. A sales engagement newly linked to a contact updates the
        contact's activity summary (while seeding: without a modification bump)."""
        new = to_id not in self.associations.get((from_type, from_id), {}).get(to_type, {})
        self._link_both_ways(from_type, from_id, to_type, to_id, type_id)
        if new and roll_up:
            self._roll_up_sales_activity(from_type, from_id, to_type, to_id, seeded=seeded)
        if new and not seeded:
            self._recount_deal_contacts(from_type, from_id, to_type, to_id)

    def dissociate(self, from_type: str, from_id: int, to_type: str, to_id: int) -> bool:
        """Remove every association between two records (both directions); False if there was none."""
        forward = self.associations.get((from_type, from_id), {}).get(to_type, {})
        backward = self.associations.get((to_type, to_id), {}).get(from_type, {})
        found = forward.pop(to_id, None) is not None
        found = backward.pop(from_id, None) is not None or found
        if found:
            self._recount_deal_contacts(from_type, from_id, to_type, to_id)
        return found

    def _recount_deal_contacts(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        """HubSpot's calculated `num_associated_contacts` on a deal whose contacts changed: an internal
        write, so the deal's hs_lastmodifieddate moves and an incremental search finds it."""
        ends = {from_type: from_id, to_type: to_id}
        if set(ends) != {"deals", "contacts"}:
            return
        deal = self.tables["deals"].records.get(ends["deals"])
        if deal is None or deal.archived:
            return
        count = str(len(self.associated("deals", deal.id, "contacts")))
        self.apply("deals", deal, {"num_associated_contacts": count}, user_edit=True, source="CALCULATED")

    def _link_both_ways(self, from_type: str, from_id: int, to_type: str, to_id: int, type_id: int) -> None:
        reverse = DEFAULT_ASSOCIATION_TYPES.get((to_type, from_type), type_id)
        if DEFAULT_ASSOCIATION_TYPES.get((from_type, to_type)) != type_id:
            reverse = type_id  # labelled/custom types are stored symmetric
        self.associations.setdefault((from_type, from_id), {}).setdefault(to_type, {}).setdefault(
            to_id, set()
        ).add(type_id)
        self.associations.setdefault((to_type, to_id), {}).setdefault(from_type, {}).setdefault(
            from_id, set()
        ).add(reverse)

    def _roll_up_sales_activity(
        self, from_type: str, from_id: int, to_type: str, to_id: int, *, seeded: bool
    ) -> None:
        ends = {from_type: from_id, to_type: to_id}
        kind = next((t for t in ends if t in SALES_ENGAGEMENT_TYPES), None)
        if kind is None or "contacts" not in ends:
            return
        contact = self.tables["contacts"].records.get(ends["contacts"])
        engagement = self.tables[kind].records.get(ends[kind])
        if contact is None or engagement is None or contact.archived:
            return
        props = contact.properties
        when = engagement.properties.get("hs_timestamp") or engagement.created_iso

        def counted(name: str) -> str:
            return str(int(float(props.get(name) or "0")) + 1)

        changes: dict[str, str | None] = {
            "notes_last_updated": max(when, props.get("notes_last_updated") or ""),
            "num_notes": counted("num_notes"),
        }
        if kind in CONTACTING_ENGAGEMENT_TYPES:
            changes["notes_last_contacted"] = max(when, props.get("notes_last_contacted") or "")
            changes["num_contacted_notes"] = counted("num_contacted_notes")
        if seeded:
            self.amend_seeded(contact, {k: v for k, v in changes.items() if v is not None})
        else:
            self.apply("contacts", contact, changes, user_edit=True, source="CALCULATED")

    def _recount_sales_activity(self, contact: Record) -> None:
        """The activity summary of a contact from every engagement linked to it (after a merge)."""
        last: dict[str, str] = {}
        counts = {"num_notes": 0, "num_contacted_notes": 0}
        for kind in sorted(SALES_ENGAGEMENT_TYPES):
            for engagement_id, _ in self.associated("contacts", contact.id, kind):
                engagement = self.tables[kind].records[engagement_id]
                when = engagement.properties.get("hs_timestamp") or engagement.created_iso
                last["notes_last_updated"] = max(when, last.get("notes_last_updated", ""))
                counts["num_notes"] += 1
                if kind in CONTACTING_ENGAGEMENT_TYPES:
                    last["notes_last_contacted"] = max(when, last.get("notes_last_contacted", ""))
                    counts["num_contacted_notes"] += 1
        if counts["num_notes"]:
            changes: dict[str, str | None] = {**last, **{k: str(v) for k, v in counts.items()}}
            self.apply("contacts", contact, changes, user_edit=True, source="CALCULATED")

    def associated(self, from_type: str, from_id: int, to_type: str) -> list[tuple[int, list[int]]]:
        """Live associated records of `to_type`, in id order, with their association type ids."""
        targets = self.associations.get((from_type, from_id), {}).get(to_type, {})
        live = self.tables[to_type].records
        return [
            (tid, sorted(types))
            for tid, types in sorted(targets.items())
            if tid in live and not live[tid].archived
        ]

    def _move_associations(self, object_name: str, old_id: int, new_id: int) -> None:
        links = self.associations.pop((object_name, old_id), {})
        for to_type, targets in links.items():
            for to_id, type_ids in targets.items():
                for type_id in type_ids:
                    # The merge recounts the survivor's activity summary once every link has moved.
                    self.associate(object_name, new_id, to_type, to_id, type_id, roll_up=False)
                back = self.associations.get((to_type, to_id), {}).get(object_name, {})
                back.pop(old_id, None)

    # ------------------------------------------------------------------ reading

    def page(
        self, object_name: str, after: int, limit: int, archived: bool
    ) -> tuple[list[Record], int | None]:
        """Up to `limit` records with id >= after, and the id to continue from (None at the end)."""
        table = self.tables[object_name]
        ids, records = table.ids, table.records
        out: list[Record] = []
        i = bisect_left(ids, after)
        n = len(ids)
        while i < n:
            record = records[ids[i]]
            i += 1
            if record.archived != archived:
                continue
            if len(out) == limit:
                return out, record.id
            out.append(record)
        return out, None

    def indexed(self, object_name: str, cutoff: float) -> Iterator[tuple[int, Props]]:
        """What the search index shows at monotonic time `cutoff`: (id, properties) of live records."""
        table = self.tables[object_name]
        for rid in table.ids:
            record = table.records[rid]
            versions = record.versions
            if versions[-1][0] <= cutoff:
                _, props, archived = versions[-1]
            else:
                visible = [v for v in versions if v[0] <= cutoff]
                if not visible:
                    continue
                _, props, archived = visible[-1]
            if not archived:
                yield rid, props

    def output_names(self, object_name: str, requested: Sequence[str] | None) -> tuple[str, ...]:
        """The properties a read returns: the requested known ones (or the defaults) plus the system ones."""
        key = (object_name, tuple(requested or ()))
        names = self._names_cache.get(key)
        if names is None:
            t = self.types[object_name]
            wanted = [n for n in (requested or t.default_properties) if n in t.properties]
            names = tuple(dict.fromkeys([*wanted, "hs_object_id", t.created_property, t.modified_property]))
            if len(self._names_cache) > 1024:
                self._names_cache.clear()
            self._names_cache[key] = names
        return names

    def render_json(self, object_name: str, record: Record, names: tuple[str, ...]) -> str:
        """`render` as JSON text, cached per record until its next write (full scans repeat a lot)."""
        cache = record.json_cache
        if (
            cache is not None
            and cache[0] is names
            and cache[1] is record.properties
            and cache[2] == record.archived
        ):
            return cache[3]
        get = record.properties.get
        out: dict[str, Any] = {
            "id": str(record.id),
            "properties": {n: get(n) for n in names},
            "createdAt": record.created_iso,
            "updatedAt": record.updated_iso,
            "archived": record.archived,
        }
        if record.archived_at is not None:
            out["archivedAt"] = iso_ms(record.archived_at)
        text = json.dumps(out, separators=(",", ":"))
        record.json_cache = (names, record.properties, record.archived, text)
        return text

    def render(
        self,
        object_name: str,
        record: Record,
        properties: Sequence[str] | None = None,
        *,
        all_properties: bool = False,
        associations: Sequence[str] = (),
        props_override: Props | None = None,
        with_history: Sequence[str] = (),
    ) -> dict[str, Any]:
        """A record as HubSpot's v3 JSON (`SimplePublicObject`)."""
        t = self.types[object_name]
        source = props_override if props_override is not None else record.properties
        if all_properties:
            props: dict[str, str | None] = dict(source)
        else:
            get = source.get
            props = {n: get(n) for n in self.output_names(object_name, properties)}
        out: dict[str, Any] = {
            "id": str(record.id),
            "properties": props,
            "createdAt": record.created_iso,
            "updatedAt": record.updated_iso,
            "archived": record.archived,
        }
        if record.archived_at is not None:
            out["archivedAt"] = iso_ms(record.archived_at)
        if with_history:
            out["propertiesWithHistory"] = {
                n: self.property_history(record, n) for n in with_history if n in t.properties
            }
        if associations:
            assoc: dict[str, Any] = {}
            for to_type in associations:
                links = self.associated(object_name, record.id, to_type)
                if links:
                    label = f"{t.singular}_to_{self.types[to_type].singular}"
                    assoc[to_type] = {"results": [{"id": str(tid), "type": label} for tid, _ in links]}
            if assoc:
                out["associations"] = assoc
        return out
