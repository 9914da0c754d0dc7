"""Who is on a deal: Salesforce contact roles and HubSpot deal↔contact associations kept in step.

The store's `deal_contacts` rows are the base: for each deal and person, the role's id in Salesforce
(None: no role there yet) and whether HubSpot associates them. A role added or removed in Salesforce adds
or removes the association in HubSpot, and an association added or removed in HubSpot adds or removes the
role; the primary role and role names stay as Salesforce holds them (HubSpot has neither for contacts).

- Only Salesforce Contacts can have contact roles: a HubSpot contact who is a Lead there gets a row that
  waits (an `other` issue says so) and the role is added once the Lead is converted.
- A person not linked by the contacts flow yet cannot be placed: the change waits as an issue holding it
  and is applied on a later run once the person is linked.
- Rows missing on one side although that side could now hold them (the person got a Contact, the deal
  got its Opportunity) are completed every run from a store query: an idle run costs no API call here.

Creating a role that exists already is avoided by reading the Opportunities' roles first, so a replay
never adds one twice; creating or removing an association that is already there (or gone) is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from syncd.connector import ApiUsage, RemoteRecord, Write, WriteResult
from syncd.deals import Association
from syncd.engine.deal_store import ContactRow, DealLog, DealPage, DealStore, StoredContact
from syncd.engine.runs import RunSummary
from syncd.engine.state import Link, Quarantine, SyncState
from syncd.errors import IssueCategory

log = logging.getLogger(__name__)

HUBSPOT, SALESFORCE = "hubspot", "salesforce"
ROLE = "OpportunityContactRole"
ROLE_FIELDS = ("OpportunityId", "ContactId", "Role", "IsPrimary")
WAITING_OBJECT = "deal_contact"


class Associations(Protocol):
    """HubSpot's side: deal↔contact associations (the HubSpot connector implements it)."""

    system: str

    def associations(self, from_object: str, to_object: str, ids: Sequence[str]) -> list[Association]: ...

    def associate(
        self, from_object: str, to_object: str, pairs: Sequence[Association], type_id: int
    ) -> list[Association]: ...

    def dissociate(self, from_object: str, to_object: str, pairs: Sequence[Association]) -> None: ...

    def usage(self) -> ApiUsage: ...


class Roles(Protocol):
    """Salesforce's side: contact roles (the Salesforce connector implements it)."""

    system: str

    def fetch_by(
        self, object: str, field: str, values: Sequence[str], fields: Sequence[str]
    ) -> list[RemoteRecord]: ...

    def push(self, object: str, writes: Sequence[Write]) -> list[WriteResult]: ...

    def usage(self) -> ApiUsage: ...


@dataclass(frozen=True)
class RoleChange:
    """One contact role as Salesforce holds it (or deleted)."""

    id: str
    opportunity_id: str
    contact_id: str
    role: str | None
    primary: bool
    deleted: bool = False

    @staticmethod
    def of(record: RemoteRecord) -> RoleChange:
        fields = record.fields
        return RoleChange(
            id=record.id,
            opportunity_id=str(fields.get("OpportunityId") or ""),
            contact_id=str(fields.get("ContactId") or ""),
            role=(str(fields["Role"]) if fields.get("Role") else None),
            primary=fields.get("IsPrimary") is True or str(fields.get("IsPrimary")).lower() == "true",
            deleted=record.deleted,
        )

    def payload(self) -> dict[str, Any]:
        return {
            "kind": "role",
            "id": self.id,
            "opportunity_id": self.opportunity_id,
            "contact_id": self.contact_id,
            "role": self.role,
            "primary": self.primary,
            "deleted": self.deleted,
        }


@dataclass(frozen=True)
class DealOnBothSides:
    """A deal of a HubSpot page after its writes: its ref, ids and store id (None: new in this page)."""

    ref: str
    hubspot_id: str
    salesforce_id: str | None
    store_id: int | None


@dataclass(frozen=True)
class ContactSettings:
    role: str | None = None  # the Role of contact roles syncd creates from HubSpot associations
    association_type: int = 3  # deal → contact, HubSpot-defined
    dry_run: bool = False


class DealContacts:
    """Both directions of the deal-contact sync, each filling the page the flow then records."""

    def __init__(
        self,
        *,
        hubspot: Associations,
        salesforce: Roles,
        store: DealStore,
        state: SyncState,
        settings: ContactSettings,
    ) -> None:
        self._hubspot = hubspot
        self._salesforce = salesforce
        self._store = store
        self._state = state
        self._settings = settings

    # --- Salesforce roles → store and HubSpot --------------------------------------------

    def apply_roles(self, roles: Sequence[RoleChange], page: DealPage, summary: RunSummary) -> None:
        """Record pulled roles and mirror them as HubSpot associations; unplaceable ones wait."""
        if not roles:
            return
        deals = {
            d.salesforce_id: d
            for d in self._store.deals(salesforce_ids={r.opportunity_id for r in roles})
            if d.salesforce_id
        }
        people = self._state.links_by_external_id(SALESFORCE, {r.contact_id for r in roles})
        rows = self._rows({d.id for d in deals.values()})
        hubspot_contacts = self._contact_ids(HUBSPOT, {link.person_id for link in people.values()}, ())
        adds: list[tuple[Association, ContactRow]] = []
        removes: list[Association] = []
        for role in roles:
            deal = deals.get(role.opportunity_id)
            link = people.get(role.contact_id)
            key = _role_key(role.id)
            if deal is None or link is None:
                if role.deleted:
                    page.cleared.append((SALESFORCE, key))
                    continue
                why = (
                    f"its Opportunity {role.opportunity_id} is not in the store yet"
                    if deal is None
                    else f"Contact {role.contact_id} is not linked to a person yet (the contacts flow does)"
                )
                page.quarantined.append(self._waiting(SALESFORCE, ROLE, key, role.payload(), why))
                summary.add("salesforce.roles_waiting")
                continue
            page.cleared.append((SALESFORCE, key))
            row = rows.get((deal.id, link.person_id))
            contact = hubspot_contacts.get(link.person_id)
            if role.deleted:
                if row is not None and row.salesforce_id in (role.id, None):
                    if row.in_hubspot and deal.hubspot_id and contact:
                        removes.append(Association(deal.hubspot_id, contact))
                    page.removed_contacts.append((deal.ref, link.person_id))
                    summary.add("salesforce.roles_removed")
                continue
            in_hubspot = row.in_hubspot if row is not None else False
            new = ContactRow(deal.ref, link.person_id, role.role, role.primary, role.id, in_hubspot)
            if not in_hubspot and deal.hubspot_id and contact:
                adds.append((Association(deal.hubspot_id, contact), new))
                continue
            page.contacts.append(new)
        self._associate(adds, page, summary)
        self._dissociate(removes, page, summary)

    # --- HubSpot associations → store and Salesforce -------------------------------------

    def apply_associations(
        self,
        deals: Sequence[DealOnBothSides],
        associated: Mapping[str, Iterable[str]],
        page: DealPage,
        summary: RunSummary,
    ) -> None:
        """Compare each deal's HubSpot contacts with the store and carry additions and removals to
        Salesforce roles. `associated` maps a HubSpot deal id to its contact ids (all of them)."""
        if not deals:
            return
        contact_ids = {c for d in deals for c in associated.get(d.hubspot_id, ())}
        people = self._state.links_by_external_id(HUBSPOT, contact_ids)
        rows = self._rows({d.store_id for d in deals if d.store_id is not None})
        persons = {link.person_id for link in people.values()}
        persons |= {p for (_deal, p) in rows}
        sf_contacts = self._contact_ids(SALESFORCE, persons, ("Contact",))
        leads = self._contact_ids(SALESFORCE, persons, ("Lead",))
        creates: list[tuple[DealOnBothSides, int, str, bool]] = []  # deal, person, Contact id, primary
        deletes: list[tuple[DealOnBothSides, int, str]] = []
        for deal in deals:
            current: dict[int, str] = {}
            for contact in sorted(associated.get(deal.hubspot_id, ()), key=_numeric):
                link = people.get(contact)
                if link is None:
                    page.quarantined.append(
                        self._waiting(
                            HUBSPOT,
                            "deals",
                            _association_key(deal.hubspot_id, contact),
                            {"kind": "association", "deal": deal.hubspot_id, "contact": contact},
                            f"HubSpot contact {contact} is not linked to a person yet (the contacts flow "
                            "links it)",
                        )
                    )
                    summary.add("hubspot.associations_waiting")
                    continue
                page.cleared.append((HUBSPOT, _association_key(deal.hubspot_id, contact)))
                current.setdefault(link.person_id, contact)
            stored = {p: row for (d, p), row in rows.items() if d == deal.store_id}
            has_primary = any(row.is_primary for row in stored.values())
            for person, contact in current.items():
                row = stored.get(person)
                if row is not None and row.in_hubspot:
                    continue
                if row is not None and row.salesforce_id:
                    page.contacts.append(_row(deal.ref, row, in_hubspot=True))
                    continue
                role_contact = sf_contacts.get(person)
                if deal.salesforce_id and role_contact:
                    creates.append((deal, person, role_contact, not has_primary))
                    has_primary = True
                    continue
                page.contacts.append(ContactRow(deal.ref, person, None, False, None, True))
                if deal.salesforce_id:
                    page.quarantined.append(
                        self._no_contact(deal.hubspot_id, person, contact, person in leads)
                    )
                    summary.add("salesforce.roles_waiting")
            for person, row in stored.items():
                if row.in_hubspot and person not in current:
                    if row.salesforce_id:
                        deletes.append((deal, person, row.salesforce_id))
                    else:
                        page.removed_contacts.append((deal.ref, person))
                    summary.add("hubspot.associations_removed")
        self._create_roles(creates, page, summary)
        self._delete_roles(deletes, page, summary)

    # --- rows one side could now hold (no API read) --------------------------------------

    def complete_pending(self, page: DealPage, summary: RunSummary) -> None:
        """Add the roles and associations that became possible since (a Contact, a deal, a link)."""
        pending = self._store.pending_contacts()
        if not pending:
            return
        persons = {row.person_id for _deal, row in pending}
        sf_contacts = self._contact_ids(SALESFORCE, persons, ("Contact",))
        hubspot_contacts = self._contact_ids(HUBSPOT, persons, ())
        adds: list[tuple[Association, ContactRow]] = []
        creates: list[tuple[DealOnBothSides, int, str, bool]] = []
        # A deal whose primary role exists keeps it: roles added here are never primary then.
        rows = self._rows({deal.id for deal, _row in pending})
        primaries = {deal_id for (deal_id, _person), stored in rows.items() if stored.is_primary}
        for deal, row in pending:
            both = DealOnBothSides(deal.ref, deal.hubspot_id or "", deal.salesforce_id, deal.id)
            if row.salesforce_id is None and deal.salesforce_id and row.person_id in sf_contacts:
                first = deal.id not in primaries
                primaries.add(deal.id)
                creates.append((both, row.person_id, sf_contacts[row.person_id], first))
            elif not row.in_hubspot and deal.hubspot_id and row.person_id in hubspot_contacts:
                pair = Association(deal.hubspot_id, hubspot_contacts[row.person_id])
                adds.append((pair, _row(deal.ref, row, in_hubspot=True)))
        self._associate(adds, page, summary)
        self._create_roles(creates, page, summary)

    def retry_waiting(
        self, waiting: Sequence[tuple[str, Mapping[str, Any]]], page: DealPage, summary: RunSummary
    ) -> None:
        """Changes that waited for a person: roles are applied again; an association is placed as a row
        (the next `complete_pending` adds its role)."""
        roles = [
            RoleChange(
                id=str(p["id"]),
                opportunity_id=str(p["opportunity_id"]),
                contact_id=str(p["contact_id"]),
                role=p.get("role"),
                primary=bool(p.get("primary")),
                deleted=bool(p.get("deleted")),
            )
            for _key, p in waiting
            if p.get("kind") == "role"
        ]
        self.apply_roles(roles, page, summary)
        pairs = [(str(p["deal"]), str(p["contact"])) for _key, p in waiting if p.get("kind") == "association"]
        if not pairs:
            return
        deals = {
            d.hubspot_id: d for d in self._store.deals(hubspot_ids={d for d, _ in pairs}) if d.hubspot_id
        }
        people = self._state.links_by_external_id(HUBSPOT, {c for _, c in pairs})
        for deal_id, contact in pairs:
            deal, link = deals.get(deal_id), people.get(contact)
            if deal is None or link is None:
                continue  # still waiting: the issue stays open
            page.contacts.append(ContactRow(deal.ref, link.person_id, None, False, None, True))
            page.cleared.append((HUBSPOT, _association_key(deal_id, contact)))

    # --- writes -------------------------------------------------------------------------

    def _associate(
        self, adds: Sequence[tuple[Association, ContactRow]], page: DealPage, summary: RunSummary
    ) -> None:
        if not adds:
            return
        if self._settings.dry_run:
            summary.planned["hubspot deal-contact associate"] = summary.planned.get(
                "hubspot deal-contact associate", 0
            ) + len(adds)
            return
        refused = set(
            self._hubspot.associate(
                "deals", "contacts", [a for a, _ in adds], self._settings.association_type
            )
        )
        for pair, row in adds:
            if pair in refused:
                page.contacts.append(_row(row.deal, row, in_hubspot=False))
                page.quarantined.append(
                    Quarantine(
                        system=HUBSPOT,
                        object="deals",
                        record_key=_association_key(pair.from_id, pair.to_id),
                        category=IssueCategory.VALIDATION,
                        message=(
                            f"HubSpot refused to associate deal {pair.from_id} with contact {pair.to_id}: "
                            "one of them does not exist (archived or merged); syncd tries again next run"
                        ),
                    )
                )
                continue
            page.contacts.append(row)
            page.log.append(DealLog(HUBSPOT, "deals", pair.from_id, "link", (f"contact:{pair.to_id}",)))
        summary.add("hubspot.associated", len(adds) - len(refused))

    def _dissociate(self, removes: Sequence[Association], page: DealPage, summary: RunSummary) -> None:
        if not removes:
            return
        if self._settings.dry_run:
            summary.planned["hubspot deal-contact dissociate"] = summary.planned.get(
                "hubspot deal-contact dissociate", 0
            ) + len(removes)
            return
        self._hubspot.dissociate("deals", "contacts", removes)
        for pair in removes:
            page.log.append(DealLog(HUBSPOT, "deals", pair.from_id, "unlink", (f"contact:{pair.to_id}",)))
        summary.add("hubspot.dissociated", len(removes))

    def _create_roles(
        self, creates: Sequence[tuple[DealOnBothSides, int, str, bool]], page: DealPage, summary: RunSummary
    ) -> None:
        if not creates:
            return
        if self._settings.dry_run:
            summary.planned["salesforce OpportunityContactRole create"] = summary.planned.get(
                "salesforce OpportunityContactRole create", 0
            ) + len(creates)
            return
        # Roles that exist already (created just before a crash, or by a rep meanwhile) are reused.
        opportunities = sorted({d.salesforce_id for d, *_ in creates if d.salesforce_id})
        existing = {
            (str(r.fields.get("OpportunityId")), str(r.fields.get("ContactId"))): r
            for r in self._salesforce.fetch_by(ROLE, "OpportunityId", opportunities, ROLE_FIELDS)
        }
        writes: list[Write] = []
        pending: list[tuple[DealOnBothSides, int, bool]] = []
        for deal, person, contact, primary in creates:
            assert deal.salesforce_id is not None
            found = existing.get((deal.salesforce_id, contact))
            if found is not None:
                change = RoleChange.of(found)
                page.contacts.append(
                    ContactRow(deal.ref, person, change.role, change.primary, found.id, True)
                )
                page.cleared.append((SALESFORCE, _role_issue_key(deal.hubspot_id, person)))
                continue
            fields: dict[str, Any] = {
                "OpportunityId": deal.salesforce_id,
                "ContactId": contact,
                "IsPrimary": primary,
            }
            if self._settings.role:
                fields["Role"] = self._settings.role
            writes.append(Write("create", f"{deal.salesforce_id}:{contact}", fields))
            pending.append((deal, person, primary))
        results = self._salesforce.push(ROLE, writes) if writes else []
        for write, (deal, person, primary), result in zip(writes, pending, results, strict=True):
            if result.ok and result.id:
                page.contacts.append(
                    ContactRow(deal.ref, person, self._settings.role, primary, result.id, True)
                )
                page.cleared.append((SALESFORCE, _role_issue_key(deal.hubspot_id, person)))
                page.log.append(DealLog(SALESFORCE, ROLE, result.id, "create", tuple(write.fields)))
                summary.add("salesforce.roles_created")
                continue
            page.contacts.append(ContactRow(deal.ref, person, None, False, None, True))
            error = result.error
            page.quarantined.append(
                Quarantine(
                    system=SALESFORCE,
                    object=ROLE,
                    record_key=_role_issue_key(deal.hubspot_id, person),
                    category=error.category if error else IssueCategory.OTHER,
                    message=(str(error) if error else "Salesforce did not save the contact role")
                    + "; syncd tries again next run",
                    remote_code=error.remote_code if error else None,
                    remote_message=error.remote_message if error else None,
                )
            )
            summary.add("salesforce.quarantined")

    def _delete_roles(
        self, deletes: Sequence[tuple[DealOnBothSides, int, str]], page: DealPage, summary: RunSummary
    ) -> None:
        if not deletes:
            return
        if self._settings.dry_run:
            summary.planned["salesforce OpportunityContactRole delete"] = summary.planned.get(
                "salesforce OpportunityContactRole delete", 0
            ) + len(deletes)
            return
        writes = [Write("delete", role_id, id=role_id) for _deal, _person, role_id in deletes]
        for (deal, person, role_id), result in zip(deletes, self._salesforce.push(ROLE, writes), strict=True):
            gone = result.ok or (result.error is not None and "ENTITY_IS_DELETED" in str(result.error))
            if gone:
                page.removed_contacts.append((deal.ref, person))
                page.log.append(DealLog(SALESFORCE, ROLE, role_id, "delete"))
                summary.add("salesforce.roles_deleted")
                continue
            error = result.error
            page.quarantined.append(
                Quarantine(
                    system=SALESFORCE,
                    object=ROLE,
                    record_key=_role_key(role_id),
                    category=error.category if error else IssueCategory.OTHER,
                    message=(str(error) if error else f"Salesforce did not delete contact role {role_id}")
                    + " (the contact was removed from the HubSpot deal)",
                )
            )

    # --- helpers ------------------------------------------------------------------------

    def _rows(self, deal_ids: Iterable[int]) -> dict[tuple[int, int], StoredContact]:
        return {
            (r.deal_id, r.person_id): r for group in self._store.contacts(deal_ids).values() for r in group
        }

    def _contact_ids(self, system: str, persons: Iterable[int], objects: Sequence[str]) -> dict[int, str]:
        """Each person's record id in `system` (of `objects` when given; the first linked one)."""
        found: dict[int, str] = {}
        for person, links in self._state.links_by_person(system, persons).items():
            chosen: Link | None = next(
                (link for link in links if not objects or link.object in objects), None
            )
            if chosen is not None:
                found[person] = chosen.external_id
        return found

    @staticmethod
    def _waiting(system: str, object: str, key: str, payload: Mapping[str, Any], why: str) -> Quarantine:
        return Quarantine(
            system=system,
            object=WAITING_OBJECT,
            record_key=key,
            category=IssueCategory.OTHER,
            message=f"{system} {object} {key} waits: {why}; syncd applies it on a run after that",
            payload=dict(payload),
        )

    @staticmethod
    def _no_contact(deal_id: str, person: int, contact: str, is_lead: bool) -> Quarantine:
        what = "is a Salesforce Lead" if is_lead else "has no Salesforce record yet"
        return Quarantine(
            system=SALESFORCE,
            object=ROLE,
            record_key=_role_issue_key(deal_id, person),
            category=IssueCategory.OTHER,
            message=(
                f"HubSpot contact {contact} on deal {deal_id} {what}: only Contacts can have contact roles "
                "on an Opportunity; syncd adds the role once the person is a Contact (convert the Lead)"
            ),
        )


def _row(deal: str, row: StoredContact | ContactRow, *, in_hubspot: bool) -> ContactRow:
    return ContactRow(deal, row.person_id, row.role, row.is_primary, row.salesforce_id, in_hubspot)


def _numeric(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (2**63, value)


def _role_key(role_id: str) -> str:
    return f"role:{role_id}"


def _role_issue_key(deal_id: str, person: int) -> str:
    return f"role:{deal_id}:{person}"


def _association_key(deal_id: str, contact: str) -> str:
    return f"association:{deal_id}:{contact}"
