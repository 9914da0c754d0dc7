"""The store side of the campaigns flow: campaigns, members, costs, response touches, touch links.

Every function runs inside the caller's transaction (one per page), so a page's rows, issues and
cursor commit together. Writes are upserts on natural keys: campaigns by (system, external id),
costs by (source, source key), members by (campaign, person) — a replayed page changes nothing.
A member whose Lead/Contact now stands for another person (a merge re-parented it) moves there, with
its response touch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, tuple_, update

from syncd.core.campaigns import CampaignRow, CostLine, MemberRow, name_key
from syncd.engine.state import chunks
from syncd.store.absent import insert_absent
from syncd.store.models import Campaign, CampaignMember, Cost, Touch, table_of

SALESFORCE, UTM = "salesforce", "utm"
RESPONSE_KIND = "campaign_response"
_CHUNK = 500


_CAMPAIGNS = table_of(Campaign)
_MEMBERS = table_of(CampaignMember)
_COSTS = table_of(Cost)
_TOUCHES = table_of(Touch)


_UPDATE_MEMBER = (
    update(_MEMBERS)
    .where(_MEMBERS.c.id == bindparam("b_id"))
    .values(
        external_id=bindparam("b_external_id"),
        status=bindparam("b_status"),
        has_responded=bindparam("b_responded"),
        first_responded_at=bindparam("b_first"),
    )
)


@dataclass
class Written:
    """What one page changed, per kind of row."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int = 1) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n


# --- campaigns ------------------------------------------------------------------------------


def upsert_campaigns(
    connection: Connection,
    rows: Sequence[CampaignRow],
    channels: Mapping[str, str | None],
    now: datetime,
    written: Written,
) -> dict[str, int]:
    """Salesforce campaigns by external id (parents first as placeholders when not stored yet);
    returns every stored id by external id. Touches of same-named campaigns of other systems move
    to a campaign stored or renamed here."""
    wanted = {row.external_id: row for row in rows}
    parents = {row.parent_external_id for row in rows if row.parent_external_id}
    ids = campaign_ids(connection, SALESFORCE, [*wanted, *parents], now)
    c = _CAMPAIGNS.c
    stored: dict[str, tuple[Any, ...]] = {}
    for chunk in chunks(sorted(wanted), _CHUNK):
        for found in connection.execute(
            select(
                c.external_id,
                c.name,
                c.type,
                c.channel,
                c.status,
                c.parent_id,
                c.start_date,
                c.end_date,
                c.budgeted_cost,
                c.actual_cost,
            ).where(c.system == SALESFORCE, c.external_id.in_(chunk))
        ):
            stored[found[0]] = tuple(found[1:])
    renamed: list[tuple[int, str]] = []
    for external_id, row in wanted.items():
        values = (
            row.name[:255],
            row.type,
            channels.get(external_id),
            "Deleted" if row.deleted else row.status,
            ids.get(row.parent_external_id) if row.parent_external_id else None,
            row.start_date,
            row.end_date,
            row.budgeted_cost,
            row.actual_cost,
        )
        before = stored.get(external_id)
        if before == values:
            continue
        connection.execute(
            update(_CAMPAIGNS)
            .where(c.id == ids[external_id])
            .values(
                name=values[0],
                type=values[1],
                channel=values[2],
                status=values[3],
                parent_id=values[4],
                start_date=values[5],
                end_date=values[6],
                budgeted_cost=values[7],
                actual_cost=values[8],
                updated_at=now,
            )
        )
        written.add("campaigns")
        if before is None or name_key(before[0]) != name_key(row.name):
            renamed.append((ids[external_id], row.name))
    if renamed:
        written.add("touches.relinked", _adopt_namesakes(connection, renamed))
    return ids


def campaign_ids(
    connection: Connection, system: str, external_ids: Iterable[str], now: datetime
) -> dict[str, int]:
    """Store ids of campaigns by external id; campaigns not stored yet get a placeholder row that
    their own record fills in when it is read (a member or child can arrive before its campaign)."""
    wanted = sorted(set(external_ids))
    c = _CAMPAIGNS.c
    found: dict[str, int] = {}
    for chunk in chunks(wanted, _CHUNK):
        for row_id, external_id in connection.execute(
            select(c.id, c.external_id).where(c.system == system, c.external_id.in_(chunk))
        ):
            found[external_id] = row_id
    missing = [
        {"system": system, "external_id": e, "name": f"Salesforce campaign {e}", "updated_at": now}
        for e in wanted
        if e not in found
    ]
    if missing:
        insert_absent(connection, _CAMPAIGNS, missing, ["system", "external_id"])
        for names in chunks([str(m["external_id"]) for m in missing], _CHUNK):
            for row_id, external_id in connection.execute(
                select(c.id, c.external_id).where(c.system == system, c.external_id.in_(names))
            ):
                found[external_id] = row_id
    return found


def _adopt_namesakes(connection: Connection, campaigns: Sequence[tuple[int, str]]) -> int:
    """Touches of other systems' campaigns named like these Salesforce campaigns move to them."""
    keys = {name_key(name): row_id for row_id, name in campaigns}
    c = _CAMPAIGNS.c
    moved = 0
    for row_id, name in connection.execute(select(c.id, c.name).where(c.system != SALESFORCE)):
        target = keys.get(name_key(name))
        if target is not None:
            result = connection.execute(
                update(_TOUCHES).where(_TOUCHES.c.campaign_id == row_id).values(campaign_id=target)
            )
            moved += result.rowcount or 0
    return moved


# --- costs ----------------------------------------------------------------------------------


def upsert_costs(
    connection: Connection,
    lines: Sequence[tuple[CostLine, int | None]],
    written: Written,
) -> None:
    """Cost lines (with their campaign's store id) by (source, source key): new ones inserted,
    changed amounts or periods updated."""
    c = _COSTS.c
    by_source: dict[str, dict[str, tuple[CostLine, int | None]]] = {}
    for line, campaign_id in lines:
        by_source.setdefault(line.source, {})[line.source_key] = (line, campaign_id)
    for source, wanted in by_source.items():
        stored: dict[str, tuple[Any, ...]] = {}
        for chunk in chunks(sorted(wanted), _CHUNK):
            for row in connection.execute(
                select(
                    c.source_key,
                    c.id,
                    c.channel,
                    c.campaign_id,
                    c.period_start,
                    c.period_end,
                    c.amount,
                    c.currency,
                ).where(c.source == source, c.source_key.in_(chunk))
            ):
                stored[row[0]] = tuple(row[1:])
        for key, (line, campaign_id) in wanted.items():
            values = (
                line.channel,
                campaign_id,
                line.period_start,
                line.period_end,
                line.amount,
                line.currency,
            )
            before = stored.get(key)
            if before is None:
                connection.execute(
                    insert(_COSTS).values(
                        source=source,
                        source_key=key,
                        channel=values[0],
                        campaign_id=values[1],
                        period_start=values[2],
                        period_end=values[3],
                        amount=values[4],
                        currency=values[5],
                    )
                )
                written.add("costs.created")
            elif tuple(before[1:]) != values:
                connection.execute(
                    update(_COSTS)
                    .where(c.id == before[0])
                    .values(
                        channel=values[0],
                        campaign_id=values[1],
                        period_start=values[2],
                        period_end=values[3],
                        amount=values[4],
                        currency=values[5],
                    )
                )
                written.add("costs.updated")


def delete_costs(connection: Connection, source: str, keys: Iterable[str], written: Written) -> None:
    c = _COSTS.c
    for chunk in chunks(sorted(set(keys)), _CHUNK):
        result = connection.execute(delete(_COSTS).where(c.source == source, c.source_key.in_(chunk)))
        written.add("costs.deleted", result.rowcount or 0)


def cost_keys(connection: Connection, source: str) -> set[str]:
    c = _COSTS.c
    return {key for (key,) in connection.execute(select(c.source_key).where(c.source == source))}


def campaigns_by_reference(connection: Connection) -> dict[str, int]:
    """Every campaign by the ways a cost file or a UTM value may name it: Salesforce id (15 and 18
    characters) and folded name (a Salesforce campaign wins over a namesake of another system)."""
    c = _CAMPAIGNS.c
    found: dict[str, int] = {}
    rows = connection.execute(select(c.id, c.system, c.external_id, c.name).order_by(c.id)).all()
    for row_id, system, external_id, name in sorted(rows, key=lambda r: (r[1] == SALESFORCE, -r[0])):
        found[name_key(name)] = row_id
        if system == SALESFORCE:
            found[external_id] = row_id
            found[external_id[:15]] = row_id
    return found


# --- members --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseTouches:
    """Responded members become touches of this kind, with their campaign's channel."""

    kind: str = RESPONSE_KIND


def upsert_members(
    connection: Connection,
    members: Sequence[tuple[MemberRow, int]],
    campaign_ids_by_external: Mapping[str, int],
    responses: ResponseTouches | None,
    now: datetime,
    written: Written,
) -> None:
    """Members (with their person) by (campaign, person); deleted ones removed. A member read again
    for another person (a merge re-parented it) moves to that person."""
    m = _MEMBERS.c
    live = [(row, person) for row, person in members if not row.deleted]
    gone = [row.external_id for row, _ in members if row.deleted]
    for chunk in chunks(sorted(set(gone)), _CHUNK):
        result = connection.execute(delete(_MEMBERS).where(m.external_id.in_(chunk)))
        written.add("members.deleted", result.rowcount or 0)
    if not live:
        return
    by_external: dict[str, tuple[int, int, int]] = {}  # external id -> (row id, campaign, person)
    for chunk in chunks(sorted({row.external_id for row, _ in live}), _CHUNK):
        for row_id, external_id, campaign_id, person_id in connection.execute(
            select(m.id, m.external_id, m.campaign_id, m.person_id).where(m.external_id.in_(chunk))
        ):
            by_external[external_id] = (row_id, campaign_id, person_id)
    keys = {(campaign_ids_by_external[row.campaign_external_id], person) for row, person in live}
    by_key: dict[tuple[int, int], tuple[Any, ...]] = {}
    for pairs in chunks(sorted(keys), 300):
        for stored_row in connection.execute(
            select(
                m.campaign_id,
                m.person_id,
                m.id,
                m.external_id,
                m.status,
                m.has_responded,
                m.first_responded_at,
            ).where(tuple_(m.campaign_id, m.person_id).in_(pairs))
        ):
            by_key[(stored_row[0], stored_row[1])] = tuple(stored_row[2:])
    # Decided in memory, written set-wise: deletes, one executemany of inserts, one of updates.
    # State per (campaign, person): [row id or None (to insert), external id, status, responded, first].
    state: dict[tuple[int, int], list[Any]] = {key: [*values] for key, values in by_key.items()}
    stored_state = {key: tuple(values) for key, values in state.items()}
    doomed: set[int] = set()
    for row, person in live:
        key = (campaign_ids_by_external[row.campaign_external_id], person)
        earlier = by_external.get(row.external_id)
        if earlier is not None and (earlier[1], earlier[2]) != key:
            # Re-parented (merge, conversion into another person): the old row gives way.
            old = state.pop((earlier[1], earlier[2]), None)
            if old is not None and old[0] is not None:
                doomed.add(old[0])
            written.add("members.moved")
        current = state.get(key)
        if current is None:
            state[key] = [None, row.external_id, row.status, row.has_responded, row.first_responded_at]
            by_external[row.external_id] = (0, *key)
            continue
        # One person can be a campaign's member twice (as a Lead and as a Contact): one row, the
        # earliest first response; the same member's status decides, another member's response counts.
        first = min((t for t in (current[4], row.first_responded_at) if t is not None), default=None)
        same = current[1] == row.external_id
        responded = row.has_responded if same else bool(current[3]) or row.has_responded
        current[1:] = [row.external_id, row.status, responded, first]
        by_external[row.external_id] = (current[0] or 0, *key)
    if doomed:
        for ids in chunks(sorted(doomed), _CHUNK):
            connection.execute(delete(_MEMBERS).where(m.id.in_(ids)))
    added = {row.external_id: row.added_at for row, _ in live}
    inserts = [
        {
            "campaign_id": key[0],
            "person_id": key[1],
            "external_id": values[1],
            "status": values[2],
            "has_responded": bool(values[3]),
            "first_responded_at": values[4],
            "added_at": added[values[1]],
        }
        for key, values in state.items()
        if values[0] is None
    ]
    updates = [
        {
            "b_id": values[0],
            "b_external_id": values[1],
            "b_status": values[2],
            "b_responded": bool(values[3]),
            "b_first": values[4],
        }
        for key, values in state.items()
        if values[0] is not None and tuple(values) != stored_state.get(key)
    ]
    for batch in chunks(inserts, _CHUNK):
        connection.execute(insert(_MEMBERS), list(batch))
    if updates:
        connection.execute(_UPDATE_MEMBER, updates)
    written.add("members.created", len(inserts))
    written.add("members.updated", len(updates))
    if responses is not None:
        _response_touches(connection, live, campaign_ids_by_external, responses, now, written)


def _response_touches(
    connection: Connection,
    members: Sequence[tuple[MemberRow, int]],
    campaign_ids_by_external: Mapping[str, int],
    responses: ResponseTouches,
    now: datetime,
    written: Written,
) -> None:
    # A response happened once its date is set, whatever the member's status is now.
    responded = [(row, person) for row, person in members if row.first_responded_at is not None]
    if not responded:
        return
    c, t = _CAMPAIGNS.c, _TOUCHES.c
    campaigns: dict[int, tuple[str, str | None]] = {}
    for ids in chunks(
        sorted({campaign_ids_by_external[r.campaign_external_id] for r, _ in responded}), _CHUNK
    ):
        for row_id, name, channel in connection.execute(select(c.id, c.name, c.channel).where(c.id.in_(ids))):
            campaigns[row_id] = (name, channel)
    stored: dict[str, tuple[int, int]] = {}
    for chunk in chunks(sorted({r.external_id for r, _ in responded}), _CHUNK):
        for touch_id, event_id, person_id in connection.execute(
            select(t.id, t.source_event_id, t.person_id).where(
                t.source_system == SALESFORCE, t.source_event_id.in_(chunk)
            )
        ):
            stored[event_id] = (touch_id, person_id)
    new_rows: list[dict[str, Any]] = []
    for row, person in responded:
        known = stored.get(row.external_id)
        if known is not None:
            if known[1] != person:
                connection.execute(update(_TOUCHES).where(t.id == known[0]).values(person_id=person))
                written.add("touches.moved")
            continue
        campaign_id = campaign_ids_by_external[row.campaign_external_id]
        name, channel = campaigns.get(campaign_id, ("", None))
        assert row.first_responded_at is not None
        new_rows.append(
            {
                "person_id": person,
                "source_system": SALESFORCE,
                "source_event_id": row.external_id,
                "occurred_at": row.first_responded_at,
                "kind": responses.kind,
                "channel": channel,
                "campaign_id": campaign_id,
                "detail": {"campaign": name, "member_status": row.status or ""},
                "recorded_at": now,
            }
        )
        stored[row.external_id] = (0, person)
    insert_absent(connection, _TOUCHES, new_rows, ["source_system", "source_event_id"])
    written.add("touches.created", len(new_rows))


# --- touches named by UTM values ------------------------------------------------------------


@dataclass(frozen=True)
class LinkedTouches:
    """How far the touch scan got: the last touch id settled, how many it read, what it changed."""

    last_id: int
    read: int
    linked: int
    created_campaigns: int


def link_touches(
    connection: Connection, after_id: int, settled_before: datetime, now: datetime, *, limit: int = 5000
) -> LinkedTouches:
    """Touches recorded after `after_id` whose campaign another one stands for (a namesake Salesforce
    campaign), or that name a campaign only by their UTM campaign value, are pointed at that campaign;
    a UTM value no campaign carries becomes a campaign of its own (system "utm").

    `last_id` moves only over touches recorded before `settled_before`: one being committed by another
    flow right now may carry a smaller id and is read on the next scan."""
    t, c = _TOUCHES.c, _CAMPAIGNS.c
    rows = connection.execute(
        select(t.id, t.campaign_id, t.channel, t.detail, t.recorded_at)
        .where(t.id > after_id)
        .order_by(t.id)
        .limit(limit)
    ).all()
    if not rows:
        return LinkedTouches(after_id, 0, 0, 0)
    campaigns = connection.execute(select(c.id, c.system, c.name)).all()
    salesforce_by_name = {
        name_key(name): row_id
        for row_id, system, name in sorted(campaigns, key=lambda r: -int(r[0]))
        if system == SALESFORCE
    }
    alias = {
        row_id: salesforce_by_name[name_key(name)]
        for row_id, system, name in campaigns
        if system != SALESFORCE and name_key(name) in salesforce_by_name
    }
    by_reference = campaigns_by_reference(connection)
    moves: dict[int, int] = {}
    created = 0
    last = after_id
    settled = True
    for touch_id, campaign_id, channel, detail, recorded_at in rows:
        target: int | None = None
        if campaign_id is not None:
            target = alias.get(campaign_id)
        else:
            value = str((detail or {}).get("utm_campaign") or "").strip()
            if value:
                target = by_reference.get(value) or by_reference.get(name_key(value))
                if target is None:
                    target = _utm_campaign(connection, value, channel, now)
                    by_reference[name_key(value)] = target
                    created += 1
        if target is not None and target != campaign_id:
            moves[touch_id] = target
        settled = settled and recorded_at < settled_before
        if settled:
            last = touch_id
    for touch_id, target in moves.items():
        connection.execute(update(_TOUCHES).where(t.id == touch_id).values(campaign_id=target))
    return LinkedTouches(last, len(rows), len(moves), created)


def _utm_campaign(connection: Connection, value: str, channel: str | None, now: datetime) -> int:
    key = name_key(value)[:64]
    rows = [{"system": UTM, "external_id": key, "name": value[:255], "channel": channel, "updated_at": now}]
    insert_absent(connection, _CAMPAIGNS, rows, ["system", "external_id"])
    c = _CAMPAIGNS.c
    return int(connection.execute(select(c.id).where(c.system == UTM, c.external_id == key)).scalar_one())


__all__ = [
    "LinkedTouches",
    "ResponseTouches",
    "Written",
    "campaign_ids",
    "campaigns_by_reference",
    "cost_keys",
    "delete_costs",
    "link_touches",
    "upsert_campaigns",
    "upsert_costs",
    "upsert_members",
]
