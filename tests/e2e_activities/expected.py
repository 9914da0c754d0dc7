"""What the simulators hold that the flows must have carried over: the expected side of the e2e proofs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from connectors.salesforce.sandbox.org import API_USER_ID
from syncd.activities import SOURCE_ID_PROPERTY
from syncd.core.activities import task_kind
from syncd.engine.activity_store import ActivityStore
from syncd.engine.logged import LOGGED_KINDS

from .conftest import World


@dataclass(frozen=True)
class Expected:
    """A Salesforce Task or Event that is a sales activity."""

    id: str
    who_id: str
    kind: str
    initiated_by: str


def crm_activities(world: World, *, automation_users: Iterable[str] = (API_USER_ID,)) -> list[Expected]:
    """Every Task and Event a rep or automation logged on a Lead or Contact (never syncd's own Tasks)."""
    objects = world.snapshot("salesforce")["objects"]
    automation = set(automation_users)
    found: list[Expected] = []
    for name in ("Task", "Event"):
        for row in objects.get(name, []):
            who = row.get("WhoId") or ""
            key = str(row.get("HubSpot_Engagement_Id__c") or "")
            if (
                row.get("IsDeleted")
                or not who.startswith(("00Q", "003"))
                or key.startswith(("syncd:", "alert:"))
            ):
                continue
            if name == "Task" and not row.get("IsClosed"):
                continue
            kind = "meeting" if name == "Event" else task_kind(row.get("TaskSubtype") or "", row.get("Type"))
            automated = row.get("TaskSubtype") == "ListEmail" or row.get("OwnerId") in automation
            found.append(Expected(row["Id"], who, kind, "automation" if automated else "rep"))
    return found


def hubspot_contact_of_person(world: World) -> dict[int, str]:
    return {i.person_id: i.external_id for i in world.identities() if i.system == "hubspot"}


def person_of_record(world: World, ids: Iterable[str]) -> dict[str, int]:
    return ActivityStore(world.store, "activities").people_for("salesforce", ids)


def syncd_engagements(world: World) -> dict[str, tuple[str, str, set[str]]]:
    """HubSpot engagements syncd wrote, by source id: (object, id, contacts it is associated with)."""
    snapshot = world.snapshot("hubspot")
    contacts: dict[tuple[str, str], set[str]] = {}
    for link in snapshot["associations"]:
        if link["toType"] == "contacts":
            contacts.setdefault((link["fromType"], link["fromId"]), set()).add(link["toId"])
    found: dict[str, tuple[str, str, set[str]]] = {}
    for obj in ("calls", "emails", "meetings", "notes"):
        for record in snapshot["objects"][obj]:
            key = record["properties"].get(SOURCE_ID_PROPERTY)
            if key and not record["archived"]:
                assert key not in found, f"two engagements carry {key}"
                found[key] = (obj, record["id"], contacts.get((obj, record["id"]), set()))
    return found


def logged_engagements(world: World, objects: Iterable[str] = ("meetings", "calls", "notes")) -> set[str]:
    """Touch ids of every engagement reps logged in HubSpot (not syncd) on a linked contact."""
    snapshot = world.snapshot("hubspot")
    linked = {i.external_id for i in world.identities() if i.system == "hubspot"}
    wanted = set(objects)
    own = {
        (obj, r["id"])
        for obj in wanted
        for r in snapshot["objects"][obj]
        if r["properties"].get(SOURCE_ID_PROPERTY) or r["archived"]
    }
    return {
        f"{link['fromType']}:{link['fromId']}:{link['toId']}"
        for link in snapshot["associations"]
        if link["fromType"] in wanted
        and link["toType"] == "contacts"
        and link["toId"] in linked
        and (link["fromType"], link["fromId"]) not in own
    }


def logged_kind(touch_id: str) -> str:
    return LOGGED_KINDS[touch_id.split(":", 1)[0]]


def writes(counters: dict[str, int]) -> dict[str, int]:
    """Calls that write (no reads, no logins)."""
    return {
        k: n
        for k, n in counters.items()
        if k.split(" ")[0] in ("POST", "PATCH", "DELETE", "PUT")
        and "token" not in k
        and not k.endswith(("/search", "/batch/read"))
        and "/composite " not in f"{k} "
    }
