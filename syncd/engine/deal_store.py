"""The store side of the deals flow: deal rows, their bases, contacts, stage history, in one page transaction.

A page names its deals by a `ref` (`salesforce:<id>` or `hubspot:<id>`) because a deal seen for the first
time has no store id yet; `record` resolves refs to ids (finding the row by either system's id, or
inserting it) and writes everything the page changed — deal rows, field bases (`deal:<id>`), contact rows,
new stage visits, sync log, issues and cursors — in ONE transaction, like `SyncState.record_page` does for
people. Stage visits go through `syncd.core.deal_stages.new_visits` against the rows already stored, so a
replayed page adds none twice; `closed_at` follows from the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, delete, insert, or_, select, tuple_, update

from syncd.core.deal_stages import StageEntry, closed_at, new_visits
from syncd.engine.state import (
    CursorMove,
    Quarantine,
    chunks,
    clear_issues,
    encode_value,
    move_cursor,
    quarantine_all,
)
from syncd.store.models import (
    Campaign,
    Deal,
    DealContact,
    DealStageChange,
    FieldState,
    Identity,
    SyncLog,
    table_of,
)

_CHUNK = 500


_DEALS = table_of(Deal)
_CONTACTS = table_of(DealContact)
_HISTORY = table_of(DealStageChange)
_BASES = table_of(FieldState)
_CAMPAIGNS = table_of(Campaign)
_IDENTITIES = table_of(Identity)
_LOG = table_of(SyncLog)


# One statement per page for every deal row it updates (executemany); bound names differ from the
# column names, which SQLAlchemy reserves for the SET clause.
_UPDATE_DEAL = (
    update(_DEALS)
    .where(_DEALS.c.id == bindparam("b_id"))
    .values(
        {
            name: bindparam(f"b_{name}")
            for name in (
                "name",
                "stage",
                "amount",
                "close_date",
                "is_closed",
                "is_won",
                "owner_email",
                "updated_at",
                "deleted_at",
                "hubspot_id",
                "salesforce_id",
                "primary_campaign_id",
                "created_at",
            )
        }
    )
)


_REWRITE_BASE = (
    update(_BASES)
    .where(
        _BASES.c.flow == bindparam("b_flow"),
        _BASES.c.entity_key == bindparam("b_entity_key"),
        _BASES.c.field == bindparam("b_field"),
    )
    .values(value=bindparam("b_value"), synced_at=bindparam("b_now"))
)
_CLOSE_DEAL = (
    update(_DEALS).where(_DEALS.c.id == bindparam("b_id")).values(closed_at=bindparam("b_closed_at"))
)
_THIS_CONTACT = (_CONTACTS.c.deal_id == bindparam("b_deal"), _CONTACTS.c.person_id == bindparam("b_person"))
_DELETE_CONTACT = delete(_CONTACTS).where(*_THIS_CONTACT)
_UPDATE_CONTACT = (
    update(_CONTACTS)
    .where(*_THIS_CONTACT)
    .values({name: bindparam(f"b_{name}") for name in ("role", "is_primary", "salesforce_id", "in_hubspot")})
)
_ONE_PRIMARY = (
    update(_CONTACTS)
    .where(
        _CONTACTS.c.deal_id == bindparam("b_deal"),
        _CONTACTS.c.person_id != bindparam("b_person"),
        _CONTACTS.c.is_primary.is_(True),
    )
    .values(is_primary=False)
)


def deal_key(deal_id: int) -> str:
    """The entity key of a deal's field bases."""
    return f"deal:{deal_id}"


@dataclass(frozen=True)
class StoredDeal:
    """A deal row as the flow reads it before a page."""

    id: int
    hubspot_id: str | None
    salesforce_id: str | None
    stage: str
    is_closed: bool

    @property
    def ref(self) -> str:
        return f"salesforce:{self.salesforce_id}" if self.salesforce_id else f"hubspot:{self.hubspot_id}"


@dataclass(frozen=True)
class StoredContact:
    """One person on one deal as last synced (see DealContact)."""

    deal_id: int
    person_id: int
    role: str | None
    is_primary: bool
    salesforce_id: str | None
    in_hubspot: bool


@dataclass(frozen=True)
class DealRow:
    """A deal as a page saw it: both ids it knows and the values the reports read.

    `campaign_id` is the Salesforce Campaign id; `campaign_name` its name when the page read it (a
    campaign the store does not hold yet is added under that name). `closed_hint` is when it closed
    according to the source, used when the stage history holds no entry for its closed stage."""

    ref: str
    hubspot_id: str | None
    salesforce_id: str | None
    name: str
    stage: str
    amount: Decimal | None
    close_date: date | None
    is_closed: bool
    is_won: bool
    created_at: datetime
    owner_email: str | None = None
    campaign_id: str | None = None
    campaign_name: str | None = None
    closed_hint: datetime | None = None
    deleted: bool = False


@dataclass(frozen=True)
class DealBase:
    """The last-synced value of one mapped field of one deal on each side."""

    deal: str  # ref
    field: str
    crm: Any
    marketing: Any


@dataclass(frozen=True)
class ContactRow:
    """One person on one deal, as it now stands in both systems."""

    deal: str  # ref
    person_id: int
    role: str | None
    is_primary: bool
    salesforce_id: str | None
    in_hubspot: bool


@dataclass(frozen=True)
class DealLog:
    system: str
    object: str
    external_id: str | None
    action: str  # create | update | delete | link | unlink
    fields: tuple[str, ...] = ()


@dataclass
class DealPage:
    """Everything one page changes, written atomically by `DealStore.record`."""

    deals: list[DealRow] = field(default_factory=list)
    bases: list[DealBase] = field(default_factory=list)
    contacts: list[ContactRow] = field(default_factory=list)
    removed_contacts: list[tuple[str, int]] = field(default_factory=list)  # (deal ref, person id)
    history: list[tuple[str, StageEntry]] = field(default_factory=list)  # (deal ref, entry)
    log: list[DealLog] = field(default_factory=list)
    quarantined: list[Quarantine] = field(default_factory=list)
    cleared: list[tuple[str, str]] = field(default_factory=list)
    cursors: list[CursorMove] = field(default_factory=list)

    def empty(self) -> bool:
        return not (
            self.deals
            or self.bases
            or self.contacts
            or self.removed_contacts
            or self.history
            or self.quarantined
            or self.cleared
            or self.cursors
        )


class DealStore:
    """Store access for the deals flow. Connections are short: one per read, one per recorded page."""

    def __init__(self, engine: Engine, flow: str) -> None:
        self._engine = engine
        self.flow = flow

    # --- reads --------------------------------------------------------------------------

    def deals(
        self, *, hubspot_ids: Iterable[str] = (), salesforce_ids: Iterable[str] = ()
    ) -> list[StoredDeal]:
        """Deals holding any of these ids (tombstones included: a deleted deal keeps its row)."""
        c = _DEALS.c
        found: dict[int, StoredDeal] = {}
        with self._engine.connect() as conn:
            for column, ids in ((c.hubspot_id, hubspot_ids), (c.salesforce_id, salesforce_ids)):
                for chunk in chunks(sorted(set(ids)), _CHUNK):
                    rows = conn.execute(
                        select(c.id, c.hubspot_id, c.salesforce_id, c.stage, c.is_closed).where(
                            column.in_(chunk)
                        )
                    )
                    for deal_id, hubspot_id, salesforce_id, stage, is_closed in rows:
                        found[deal_id] = StoredDeal(
                            deal_id, hubspot_id, salesforce_id, stage, bool(is_closed)
                        )
        return list(found.values())

    def contacts(self, deal_ids: Iterable[int]) -> dict[int, list[StoredContact]]:
        c = _CONTACTS.c
        found: dict[int, list[StoredContact]] = {}
        with self._engine.connect() as conn:
            for chunk in chunks(sorted(set(deal_ids)), _CHUNK):
                rows = conn.execute(
                    select(c.deal_id, c.person_id, c.role, c.is_primary, c.salesforce_id, c.in_hubspot)
                    .where(c.deal_id.in_(chunk))
                    .order_by(c.deal_id, c.person_id)
                )
                for deal_id, person_id, role, primary, sf_id, in_hubspot in rows:
                    found.setdefault(deal_id, []).append(
                        StoredContact(deal_id, person_id, role, bool(primary), sf_id, bool(in_hubspot))
                    )
        return found

    def latest_entries(self, deal_ids: Iterable[int]) -> dict[int, datetime]:
        """The instant of each deal's newest stored stage entry."""
        c = _HISTORY.c
        with self._engine.connect() as conn:
            found: dict[int, datetime] = {}
            for chunk in chunks(sorted(set(deal_ids)), _CHUNK):
                for deal_id, newest in conn.execute(
                    select(c.deal_id, c.entered_at)
                    .where(c.deal_id.in_(chunk))
                    .order_by(c.deal_id, c.entered_at)
                ):
                    found[deal_id] = newest
            return found

    def pending_contacts(self) -> list[tuple[StoredDeal, StoredContact]]:
        """Contact rows missing on one side although the other side could now hold them: a role whose
        person has a Salesforce Contact and whose deal has an Opportunity, or an association whose
        person has a HubSpot contact and whose deal a HubSpot deal (store-only: no API call)."""
        d, c, i = _DEALS.c, _CONTACTS.c, _IDENTITIES.c
        has_contact = (
            select(i.id)
            .where(i.person_id == c.person_id, i.system == "salesforce", i.object == "Contact", i.active)
            .exists()
        )
        in_hubspot = select(i.id).where(i.person_id == c.person_id, i.system == "hubspot", i.active).exists()
        stmt = (
            select(
                d.id,
                d.hubspot_id,
                d.salesforce_id,
                d.stage,
                d.is_closed,
                c.person_id,
                c.role,
                c.is_primary,
                c.salesforce_id,
                c.in_hubspot,
            )
            .join(_DEALS, d.id == c.deal_id)
            .where(d.deleted_at.is_(None))
            .where(
                or_(
                    and_(c.salesforce_id.is_(None), d.salesforce_id.is_not(None), has_contact),
                    and_(c.in_hubspot.is_(False), d.hubspot_id.is_not(None), in_hubspot),
                )
            )
            .order_by(d.id, c.person_id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [
            (
                StoredDeal(row[0], row[1], row[2], row[3], bool(row[4])),
                StoredContact(row[0], row[5], row[6], bool(row[7]), row[8], bool(row[9])),
            )
            for row in rows
        ]

    # --- the page transaction -----------------------------------------------------------

    def record(self, run_id: int, page: DealPage, now: datetime) -> dict[str, int]:
        """Write one page atomically; returns the store id of every deal ref the page named."""
        with self._engine.begin() as conn:
            ids = self._write_deals(conn, page.deals, now)
            refs = {ref for ref, _ in page.history} | {c.deal for c in page.contacts}
            refs |= {b.deal for b in page.bases} | {ref for ref, _ in page.removed_contacts}
            ids.update(self._resolve(conn, refs - ids.keys()))
            self._write_bases(conn, page.bases, ids, now)
            self._write_contacts(conn, page.contacts, page.removed_contacts, ids)
            touched = self._write_history(conn, page.history, ids)
            self._refresh_closed(conn, {ids[d.ref]: d for d in page.deals if d.ref in ids}, touched)
            self._write_log(conn, run_id, page.log, now)
            clear_issues(conn, self.flow, page.cleared, now)
            quarantine_all(conn, self.flow, run_id, page.quarantined, now)
            for move in page.cursors:
                move_cursor(conn, self.flow, move, now)
            return ids

    def _resolve(self, conn: Connection, refs: Iterable[str]) -> dict[str, int]:
        c = _DEALS.c
        found: dict[str, int] = {}
        by_system: dict[str, set[str]] = {}
        for ref in refs:
            system, _, external = ref.partition(":")
            by_system.setdefault(system, set()).add(external)
        for system, externals in by_system.items():
            column = c.salesforce_id if system == "salesforce" else c.hubspot_id
            for chunk in chunks(sorted(externals), _CHUNK):
                for deal_id, external in conn.execute(select(c.id, column).where(column.in_(chunk))):
                    found[f"{system}:{external}"] = deal_id
        return found

    def _write_deals(self, conn: Connection, rows: Sequence[DealRow], now: datetime) -> dict[str, int]:
        """Update the rows of deals the store holds and insert the others, a statement per kind."""
        if not rows:
            return {}
        c = _DEALS.c
        stored: dict[int, tuple[str | None, str | None, int | None, datetime]] = {}
        by_hubspot: dict[str, int] = {}
        by_salesforce: dict[str, int] = {}
        for column, wanted in (
            (c.hubspot_id, {r.hubspot_id for r in rows if r.hubspot_id}),
            (c.salesforce_id, {r.salesforce_id for r in rows if r.salesforce_id}),
        ):
            for chunk in chunks(sorted(wanted), _CHUNK):
                for deal_id, hubspot_id, salesforce_id, campaign, created in conn.execute(
                    select(c.id, c.hubspot_id, c.salesforce_id, c.primary_campaign_id, c.created_at).where(
                        column.in_(chunk)
                    )
                ):
                    stored[deal_id] = (hubspot_id, salesforce_id, campaign, created)
                    if hubspot_id:
                        by_hubspot[hubspot_id] = deal_id
                    if salesforce_id:
                        by_salesforce[salesforce_id] = deal_id
        campaigns = self._ensure_campaigns(conn, rows, now)
        updates: dict[int, dict[str, Any]] = {}
        inserts: dict[str, dict[str, Any]] = {}
        refs: dict[str, list[str]] = {}
        for row in rows:
            names = [
                f"{s}:{i}" for s, i in (("hubspot", row.hubspot_id), ("salesforce", row.salesforce_id)) if i
            ]
            values: dict[str, Any] = {
                "name": (row.name or "(no name)")[:255],
                "stage": row.stage[:80],
                "amount": row.amount,
                "close_date": row.close_date,
                "is_closed": row.is_closed,
                "is_won": row.is_won,
                "owner_email": row.owner_email,
                "updated_at": now,
                "deleted_at": now if row.deleted else None,
            }
            existing = by_salesforce.get(row.salesforce_id or "") or by_hubspot.get(row.hubspot_id or "")
            if existing is None:
                key = next((n for n in names if n in inserts), names[0] if names else row.ref)
                earlier = inserts.get(key, {})
                values.update(
                    hubspot_id=row.hubspot_id or earlier.get("hubspot_id"),
                    salesforce_id=row.salesforce_id or earlier.get("salesforce_id"),
                    created_at=min(row.created_at, earlier.get("created_at", row.created_at)),
                    primary_campaign_id=campaigns.get(row.campaign_id) if row.campaign_id else None,
                )
                inserts[key] = values
                refs.setdefault(key, []).extend([row.ref, *names])
                continue
            hubspot_id, salesforce_id, campaign, created = stored[existing]
            # A row holding the other system's id already (a rare crossed link) keeps it: ids are unique.
            if row.hubspot_id and by_hubspot.get(row.hubspot_id, existing) == existing:
                hubspot_id = row.hubspot_id
            if row.salesforce_id and by_salesforce.get(row.salesforce_id, existing) == existing:
                salesforce_id = row.salesforce_id
            if row.campaign_id is None:
                campaign = None
            elif row.campaign_id in campaigns:
                campaign = campaigns[row.campaign_id]
            # A deal is as old as its oldest record.
            created = min(created, row.created_at)
            stored[existing] = (hubspot_id, salesforce_id, campaign, created)
            updates[existing] = {
                **{f"b_{k}": v for k, v in values.items()},
                "b_id": existing,
                "b_hubspot_id": hubspot_id,
                "b_salesforce_id": salesforce_id,
                "b_primary_campaign_id": campaign,
                "b_created_at": created,
            }
            refs.setdefault(f"id:{existing}", []).extend([row.ref, *names])
        if updates:
            conn.execute(_UPDATE_DEAL, list(updates.values()))
        ids: dict[str, int] = {}
        for key, deal_refs in refs.items():
            if key.startswith("id:"):
                for ref in deal_refs:
                    ids.setdefault(ref, int(key[3:]))
        if inserts:
            keys = list(inserts)
            created_ids = conn.execute(
                insert(_DEALS).returning(c.id, sort_by_parameter_order=True), [inserts[k] for k in keys]
            ).scalars()
            for key, deal_id in zip(keys, created_ids, strict=True):
                for ref in refs[key]:
                    ids.setdefault(ref, deal_id)
        return ids

    def _ensure_campaigns(self, conn: Connection, rows: Sequence[DealRow], now: datetime) -> dict[str, int]:
        """Store ids of the deals' Salesforce campaigns; a campaign the store lacks is added when the page
        read its name (the campaigns flow fills in the rest)."""
        wanted = {r.campaign_id: r.campaign_name for r in rows if r.campaign_id}
        if not wanted:
            return {}
        c = _CAMPAIGNS.c
        found: dict[str, int] = {}
        for chunk in chunks(sorted(wanted), _CHUNK):
            for campaign_id, external in conn.execute(
                select(c.id, c.external_id).where(c.system == "salesforce", c.external_id.in_(chunk))
            ):
                found[external] = campaign_id
        for external, name in sorted(wanted.items()):
            if external in found or not name:
                continue
            found[external] = conn.execute(
                insert(_CAMPAIGNS)
                .values(system="salesforce", external_id=external, name=name[:255], updated_at=now)
                .returning(c.id)
            ).scalar_one()
        return found

    def _write_bases(
        self, conn: Connection, bases: Sequence[DealBase], ids: Mapping[str, int], now: datetime
    ) -> None:
        values: dict[tuple[str, str], str] = {}
        for base in bases:
            if base.deal in ids:
                encoded = encode_value({"crm": base.crm, "marketing": base.marketing})
                values[(deal_key(ids[base.deal]), base.field)] = encoded
        if not values:
            return
        c = _BASES.c
        stored: set[tuple[str, str]] = set()
        for chunk in chunks(sorted({key for key, _ in values}), _CHUNK):
            for entity_key, name in conn.execute(
                select(c.entity_key, c.field).where(c.flow == self.flow, c.entity_key.in_(chunk))
            ):
                stored.add((entity_key, name))
        rewrites = [
            {"b_flow": self.flow, "b_entity_key": key, "b_field": name, "b_value": value, "b_now": now}
            for (key, name), value in values.items()
            if (key, name) in stored
        ]
        if rewrites:
            conn.execute(_REWRITE_BASE, rewrites)
        firsts = [
            {"flow": self.flow, "entity_key": key, "field": name, "value": value, "synced_at": now}
            for (key, name), value in values.items()
            if (key, name) not in stored
        ]
        if firsts:
            conn.execute(insert(_BASES), firsts)

    def _write_contacts(
        self,
        conn: Connection,
        rows: Sequence[ContactRow],
        removed: Sequence[tuple[str, int]],
        ids: Mapping[str, int],
    ) -> None:
        c = _CONTACTS.c
        gone = [{"b_deal": ids[ref], "b_person": person} for ref, person in removed if ref in ids]
        if gone:
            conn.execute(_DELETE_CONTACT, gone)
        latest: dict[tuple[int, int], ContactRow] = {}
        for row in rows:
            if row.deal in ids:
                latest[(ids[row.deal], row.person_id)] = row
        if not latest:
            return
        stored: set[tuple[int, int]] = set()
        for chunk in chunks(sorted(latest), _CHUNK):
            for deal_id, person_id in conn.execute(
                select(c.deal_id, c.person_id).where(tuple_(c.deal_id, c.person_id).in_(chunk))
            ):
                stored.add((deal_id, person_id))
        values = {
            key: {
                "role": row.role,
                "is_primary": row.is_primary,
                "salesforce_id": row.salesforce_id,
                "in_hubspot": row.in_hubspot,
            }
            for key, row in latest.items()
        }
        updates = [
            {"b_deal": deal, "b_person": person, **{f"b_{k}": v for k, v in values[(deal, person)].items()}}
            for deal, person in latest
            if (deal, person) in stored
        ]
        inserts = [
            {"deal_id": deal, "person_id": person, **values[(deal, person)]}
            for deal, person in latest
            if (deal, person) not in stored
        ]
        if updates:
            conn.execute(_UPDATE_CONTACT, updates)
        if inserts:
            conn.execute(insert(_CONTACTS), inserts)
        # One primary contact per deal: the last one the page marked wins.
        primaries = {deal_id: person_id for (deal_id, person_id), row in latest.items() if row.is_primary}
        if primaries:
            conn.execute(_ONE_PRIMARY, [{"b_deal": d, "b_person": p} for d, p in primaries.items()])

    def _write_history(
        self, conn: Connection, history: Sequence[tuple[str, StageEntry]], ids: Mapping[str, int]
    ) -> dict[int, list[StageEntry]]:
        """New stage visits per deal; returns every affected deal's full history."""
        observed: dict[int, list[StageEntry]] = {}
        for ref, entry in history:
            if ref in ids:
                observed.setdefault(ids[ref], []).append(entry)
        if not observed:
            return {}
        stored = self._history(conn, observed)
        rows = []
        for deal_id, entries in observed.items():
            fresh = new_visits(stored.get(deal_id, []), entries)
            stored.setdefault(deal_id, []).extend(fresh)
            rows += [
                {
                    "deal_id": deal_id,
                    "stage": e.stage[:80],
                    "entered_at": e.entered_at,
                    "source_system": e.source_system,
                }
                for e in fresh
            ]
        if rows:
            conn.execute(insert(_HISTORY), rows)
        return stored

    @staticmethod
    def _history(conn: Connection, deal_ids: Iterable[int]) -> dict[int, list[StageEntry]]:
        c = _HISTORY.c
        found: dict[int, list[StageEntry]] = {}
        for chunk in chunks(sorted(set(deal_ids)), _CHUNK):
            for deal_id, stage, entered_at, system in conn.execute(
                select(c.deal_id, c.stage, c.entered_at, c.source_system).where(c.deal_id.in_(chunk))
            ):
                found.setdefault(deal_id, []).append(StageEntry(entered_at, stage, system))
        return found

    def _refresh_closed(
        self, conn: Connection, rows: Mapping[int, DealRow], touched: Mapping[int, list[StageEntry]]
    ) -> None:
        """closed_at of every deal the page changed or added history to: when its closed stage was entered."""
        wanted = set(rows) | set(touched)
        if not wanted:
            return
        c = _DEALS.c
        missing = [deal_id for deal_id in wanted if deal_id not in touched]
        history = dict(touched)
        history.update(self._history(conn, missing))
        changed: list[dict[str, Any]] = []
        for chunk in chunks(sorted(wanted), _CHUNK):
            for deal_id, stage, is_closed, current in conn.execute(
                select(c.id, c.stage, c.is_closed, c.closed_at).where(c.id.in_(chunk))
            ):
                when = closed_at(history.get(deal_id, []), stage, bool(is_closed))
                if when is None and is_closed:
                    hint = rows[deal_id].closed_hint if deal_id in rows else None
                    when = hint or current
                if when != current:
                    changed.append({"b_id": deal_id, "b_closed_at": when})
        if changed:
            conn.execute(_CLOSE_DEAL, changed)

    def _write_log(self, conn: Connection, run_id: int, entries: Sequence[DealLog], now: datetime) -> None:
        if entries:
            conn.execute(
                insert(_LOG),
                [
                    {
                        "run_id": run_id,
                        "system": entry.system,
                        "object": entry.object,
                        "external_id": entry.external_id,
                        "person_id": None,
                        "action": entry.action,
                        "fields": {"names": list(entry.fields)},
                        "at": now,
                    }
                    for entry in entries
                ],
            )
