"""Org-side actions the REST API does not offer: lead conversion, merges, user edits and system touches."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from connectors.salesforce.sandbox.errors import ApiError
from connectors.salesforce.sandbox.ids import normalize_id
from connectors.salesforce.sandbox.store import Record, sf_datetime
from connectors.salesforce.sandbox.writes import WriteContext, WriteResult

if TYPE_CHECKING:
    from connectors.salesforce.sandbox.org import SalesforceOrg

_MERGEABLE = ("Lead", "Contact", "Account")


@dataclass(frozen=True)
class Conversion:
    lead_id: str
    account_id: str
    contact_id: str
    opportunity_id: str | None


def _live(org: SalesforceOrg, sobject: str, raw_id: Any) -> Record:
    record_id = normalize_id(str(raw_id or ""))
    record = org.store.get(sobject, record_id) if record_id else None
    if record is None or record.get("IsDeleted"):
        raise ApiError(404, "NOT_FOUND", f"no live {sobject} with id {raw_id}")
    return record


def _ok(result: WriteResult, what: str) -> str:
    if not result.success or result.id is None:
        detail = "; ".join(f"{e.code}: {e.message}" for e in result.errors)
        raise ApiError(
            400, result.errors[0].code if result.errors else "UNKNOWN_EXCEPTION", f"{what}: {detail}"
        )
    return result.id


def _reparent(
    org: SalesforceOrg, old_id: str, new_id: str, user_id: str, skip: tuple[tuple[str, str], ...] = ()
) -> int:
    """Point every live child lookup at `old_id` to `new_id`, stamping the children as edited."""
    moved = 0
    old_obj = org.schema.object_for_id(old_id)
    assert old_obj is not None
    for obj in org.schema.objects.values():
        refs = [
            f.name
            for f in obj.fields.values()
            if f.type == "reference"
            and old_obj.name in f.reference_to
            and f.name not in ("MasterRecordId", "CreatedById", "LastModifiedById")
            and (obj.name, f.name) not in skip
            and not f.name.startswith("Converted")
        ]
        if not refs:
            continue
        for row in list(org.store.tables[obj.name].values()):
            hits = [name for name in refs if row.get(name) == old_id]
            if not hits or row.get("IsDeleted"):
                continue
            record = dict(row)
            for name in hits:
                record[name] = new_id
            org.writer.touch_fields(obj, record, user_id)
            org.store.put(obj.name, record)
            moved += 1
    return moved


def convert_lead(org: SalesforceOrg, lead_id: str, options: Mapping[str, Any]) -> Conversion:
    """Convert a lead the way the Lead Convert button does; all or nothing."""
    user_id = str(options.get("user_id") or org.api_user_id)
    write_ctx = WriteContext(user_id=user_id, allow_duplicates=True)
    with org.store.transaction() as tx:
        try:
            lead = _live(org, "Lead", lead_id)
            if lead.get("IsConverted"):
                raise ApiError(400, "CANNOT_UPDATE_CONVERTED_LEAD", "This lead was already converted.")
            if options.get("account_id"):
                account_id = _live(org, "Account", options["account_id"])["Id"]
            else:
                account_id = _ok(
                    org.writer.create(
                        "Account",
                        {
                            "Name": lead.get("Company") or lead.get("Name"),
                            "OwnerId": lead.get("OwnerId"),
                            "BillingCity": lead.get("City"),
                            "BillingCountry": lead.get("Country"),
                            "Website": lead.get("Website"),
                            "Industry": lead.get("Industry"),
                            "Phone": lead.get("Phone"),
                        },
                        write_ctx,
                    ),
                    "creating the Account",
                )
            if options.get("contact_id"):
                contact_id = _live(org, "Contact", options["contact_id"])["Id"]
            else:
                contact_id = _ok(
                    org.writer.create(
                        "Contact",
                        {
                            "AccountId": account_id,
                            "FirstName": lead.get("FirstName"),
                            "LastName": lead.get("LastName"),
                            "Salutation": lead.get("Salutation"),
                            "Email": lead.get("Email"),
                            "Phone": lead.get("Phone"),
                            "MobilePhone": lead.get("MobilePhone"),
                            "Title": lead.get("Title"),
                            "LeadSource": lead.get("LeadSource"),
                            "HasOptedOutOfEmail": lead.get("HasOptedOutOfEmail"),
                            "DoNotCall": lead.get("DoNotCall"),
                            "MailingCity": lead.get("City"),
                            "MailingCountry": lead.get("Country"),
                            "OwnerId": lead.get("OwnerId"),
                            "HubSpot_Score__c": lead.get("HubSpot_Score__c"),
                            "Lifecycle_Stage__c": lead.get("Lifecycle_Stage__c"),
                            "Description": lead.get("Description"),
                        },
                        write_ctx,
                    ),
                    "creating the Contact",
                )
            opportunity_id = None
            if options.get("create_opportunity", False):
                close = (org.clock.now() + timedelta(days=30)).date().isoformat()
                opportunity_id = _ok(
                    org.writer.create(
                        "Opportunity",
                        {
                            "Name": options.get("opportunity_name") or f"{lead.get('Company')}-",
                            "AccountId": account_id,
                            "StageName": options.get("stage", "Prospecting"),
                            "CloseDate": close,
                            "OwnerId": lead.get("OwnerId"),
                            "LeadSource": lead.get("LeadSource"),
                            "ContactId": contact_id,
                        },
                        write_ctx,
                    ),
                    "creating the Opportunity",
                )
                _ok(
                    org.writer.create(
                        "OpportunityContactRole",
                        {
                            "OpportunityId": opportunity_id,
                            "ContactId": contact_id,
                            "IsPrimary": True,
                        },
                        write_ctx,
                    ),
                    "creating the contact role",
                )
            # Activities and campaign memberships follow the person to the new Contact.
            for activity_object in ("Task", "Event"):
                for task in list(org.store.tables[activity_object].values()):
                    if task.get("WhoId") == lead["Id"] and not task.get("IsDeleted"):
                        moved = dict(task, WhoId=contact_id)
                        org.writer.touch_fields(org.schema.objects[activity_object], moved, user_id)
                        org.store.put(activity_object, moved)
            for member in list(org.store.tables["CampaignMember"].values()):
                if (
                    member.get("LeadId") == lead["Id"]
                    and not member.get("IsDeleted")
                    and not member.get("ContactId")
                ):
                    moved = dict(member, ContactId=contact_id)
                    org.writer.touch_fields(org.schema.objects["CampaignMember"], moved, user_id)
                    org.store.put("CampaignMember", moved)
            converted = dict(lead)
            converted.update(
                IsConverted=True,
                ConvertedDate=org.clock.now().date().isoformat(),
                ConvertedAccountId=account_id,
                ConvertedContactId=contact_id,
                ConvertedOpportunityId=opportunity_id,
                Status=options.get("converted_status", "Closed - Converted"),
            )
            org.writer.touch_fields(org.schema.objects["Lead"], converted, user_id)
            org.store.put("Lead", converted)
        except ApiError:
            tx.rollback()
            raise
    return Conversion(lead["Id"], account_id, contact_id, opportunity_id)


def merge(
    org: SalesforceOrg, sobject: str, master_id: str, loser_ids: list[str], user_id: str | None
) -> dict[str, Any]:
    """Merge up to two records into a master: children move, losers are deleted with MasterRecordId."""
    if sobject not in _MERGEABLE:
        raise ApiError(400, "INVALID_TYPE", f"merge supports {', '.join(_MERGEABLE)}, not {sobject}")
    if not 1 <= len(loser_ids) <= 2:
        raise ApiError(400, "INVALID_OPERATION", "a merge takes one master and one or two other records")
    acting = user_id or org.api_user_id
    with org.store.transaction() as tx:
        try:
            master = _live(org, sobject, master_id)
            losers = [_live(org, sobject, i) for i in loser_ids]
            if any(loser["Id"] == master["Id"] for loser in losers):
                raise ApiError(400, "INVALID_OPERATION", "cannot merge a record with itself")
            moved = 0
            for loser in losers:
                moved += _reparent(org, loser["Id"], master["Id"], acting)
                org.writer.soft_delete_as_merge_loser(
                    org.schema.objects[sobject], loser["Id"], master["Id"], acting
                )
            touched = dict(org.store.get(sobject, master["Id"]) or master)
            org.writer.touch_fields(org.schema.objects[sobject], touched, acting)
            org.store.put(sobject, touched)
        except ApiError:
            tx.rollback()
            raise
    return {"masterId": master["Id"], "mergedIds": [loser["Id"] for loser in losers], "reparented": moved}


def edit_as_user(
    org: SalesforceOrg, sobject: str, record_id: str, fields: Mapping[str, Any], user_id: str | None
) -> dict[str, Any]:
    """A person edits a record in the UI: API validation applies; LastModifiedDate and SystemModstamp move."""
    obj = org.schema.object_named(sobject)
    if obj is None:
        raise ApiError(404, "NOT_FOUND", f"unknown object {sobject}")
    record = _live(org, obj.name, record_id)
    with org.store.lock:
        result = org.writer.update(
            obj.name, record["Id"], fields, WriteContext(user_id or org.api_user_id, True)
        )
    if not result.success:
        return {"id": record["Id"], "success": False, "errors": [e.as_rest() for e in result.errors]}
    updated = org.store.get(obj.name, record["Id"]) or {}
    return {
        "id": record["Id"],
        "success": True,
        "LastModifiedDate": updated.get("LastModifiedDate"),
        "SystemModstamp": updated.get("SystemModstamp"),
    }


def system_touch(org: SalesforceOrg, sobject: str, ids: list[str]) -> dict[str, Any]:
    obj = org.schema.object_named(sobject)
    if obj is None:
        raise ApiError(404, "NOT_FOUND", f"unknown object {sobject}")
    touched = []
    with org.store.lock:
        for raw in ids:
            record_id = normalize_id(raw)
            if record_id is not None and org.writer.system_touch(obj.name, record_id):
                touched.append(record_id)
    return {"touched": touched, "SystemModstamp": sf_datetime(org.clock.now())}


_TITLES = ("VP Marketing", "Head of Growth", "Marketing Manager", "CTO", "Sales Director", "Founder")
_RATINGS = ("Hot", "Warm", "Cold")


def simulate_activity(org: SalesforceOrg, options: Mapping[str, Any]) -> dict[str, list[str]]:
    """Reps and the platform at work, deterministically: edits, new leads, conversions, deletes, touches,
    and sales activities (a rep logs a call, an email or a meeting on a live Lead or Contact).

    Options (counts, all optional): edits, new_leads, conversions, deletes, touches, activities; `seed`
    picks the dice (default: the org seed and how many batches ran before)."""
    counts = {
        name: options.get(name, 0)
        for name in ("edits", "new_leads", "conversions", "deletes", "touches", "activities")
    }
    for name, count in counts.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ApiError(400, "INVALID_OPTION", f"{name} must be a non-negative integer, got {count!r}")
    org.activity_batches += 1
    rng = random.Random(f"{options.get('seed', org.seed)}:activity:{org.activity_batches}")
    users = sorted(u["Id"] for u in org.store.tables["User"].values() if u["Id"] != org.api_user_id)
    users = users or [org.api_user_id]
    out: dict[str, list[str]] = {
        "edited": [],
        "created": [],
        "converted": [],
        "deleted": [],
        "touched": [],
        "logged": [],
    }

    def live(sobject: str) -> list[Record]:
        return [
            r
            for r in org.store.tables[sobject].values()
            if not r.get("IsDeleted") and not r.get("IsConverted")
        ]

    with org.store.lock:
        people = live("Lead") + live("Contact")
        for record in rng.sample(people, min(counts["edits"], len(people))):
            sobject = "Lead" if record["Id"].startswith("00Q") else "Contact"
            change: dict[str, Any] = {
                "Title": rng.choice(_TITLES),
                "Phone": f"+1 555 {rng.randrange(10**6):06d}",
            }
            if sobject == "Lead":
                change["Rating"] = rng.choice(_RATINGS)
            if rng.random() < 0.1:
                change["HasOptedOutOfEmail"] = True
            result = org.writer.update(
                sobject, record["Id"], change, WriteContext(record.get("OwnerId") or rng.choice(users), True)
            )
            if result.success:
                out["edited"].append(record["Id"])
        for _ in range(counts["new_leads"]):
            n = rng.randrange(10**9)
            owner = rng.choice(users)
            result = org.writer.create(
                "Lead",
                {
                    "FirstName": "New",
                    "LastName": f"Prospect {n}",
                    "Company": f"Prospect Co {n % 997}",
                    "Email": f"prospect{n}@example.com",
                    "LeadSource": "Web",
                    "OwnerId": owner,
                },
                WriteContext(owner, True),
            )
            if result.success and result.id:
                out["created"].append(result.id)
        leads = live("Lead")
        for lead in rng.sample(leads, min(counts["conversions"], len(leads))):
            convert_lead(
                org, lead["Id"], {"create_opportunity": rng.random() < 0.5, "user_id": lead.get("OwnerId")}
            )
            out["converted"].append(lead["Id"])
        leads = live("Lead")
        for lead in rng.sample(leads, min(counts["deletes"], len(leads))):
            if org.writer.delete(lead["Id"], WriteContext(lead.get("OwnerId") or org.api_user_id)).success:
                out["deleted"].append(lead["Id"])
        contacts = live("Contact")
        for contact in rng.sample(contacts, min(counts["touches"], len(contacts))):
            if org.writer.system_touch("Contact", contact["Id"]):
                out["touched"].append(contact["Id"])
        people = live("Lead") + live("Contact")
        for _ in range(counts["activities"] if people else 0):
            activity = _rep_activity(org, rng, rng.choice(people))
            if activity is not None:
                out["logged"].append(activity)
    return out


def _rep_activity(org: SalesforceOrg, rng: random.Random, who: Record) -> str | None:
    """A rep logs a call, a 1:1 email or a meeting that starts now on `who`; the new record's id."""
    rep = who.get("OwnerId") or org.api_user_id
    now = org.clock.now()
    roll = rng.random()
    sobject = "Task"
    values: dict[str, Any] = {
        "WhoId": who["Id"],
        "OwnerId": rep,
        "Status": "Completed",
        "ActivityDate": now.date().isoformat(),
    }
    if roll < 0.45:
        values.update(
            Subject="Call",
            TaskSubtype="Call",
            CallType="Outbound",
            CallDurationInSeconds=rng.choice((0, 45, 120, 300)),
            CallDisposition=rng.choice(("Connected", "Left voicemail", "No answer")),
        )
    elif roll < 0.8:
        values.update(Subject="Email: Following up", TaskSubtype="Email")
    else:
        sobject = "Event"
        values = {
            "WhoId": who["Id"],
            "OwnerId": rep,
            "Subject": "Product demo",
            "Type": "Meeting",
            "StartDateTime": sf_datetime(now),
            "DurationInMinutes": rng.choice((30, 45, 60)),
        }
    result = org.writer.create(sobject, values, WriteContext(rep, True))
    return result.id if result.success else None
