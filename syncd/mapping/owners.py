"""Owner mapping: HubSpot owners and Salesforce users paired by their email address."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from syncd.connector import Owner
from syncd.core.normalize import canonical_email

__all__ = ["Owner", "OwnerMap", "map_owners"]


@dataclass(frozen=True)
class OwnerMap:
    """Owner ids across systems: HubSpot owner id → Salesforce user id, and back.

    Only active owners are ever a target (Salesforce rejects inactive users as OwnerId; archived HubSpot
    owners cannot be assigned). `unmatched` explains, without email addresses, which ids have no partner.
    """

    to_crm: Mapping[str, str]
    to_marketing: Mapping[str, str]
    unmatched: tuple[str, ...] = field(default=())


def _by_email(owners: Sequence[Owner]) -> dict[str, list[Owner]]:
    grouped: dict[str, list[Owner]] = defaultdict(list)
    for owner in sorted(owners, key=lambda o: o.id):
        email = canonical_email(owner.email)
        if email is not None:
            grouped[email].append(owner)
    return grouped


def _one_active(owners: list[Owner]) -> Owner | None:
    active = [owner for owner in owners if owner.active]
    return active[0] if len(active) == 1 else None


def map_owners(hubspot_owners: Sequence[Owner], salesforce_users: Sequence[Owner]) -> OwnerMap:
    """Pair owners whose emails are equal once normalized; several active owners with one email pair none."""
    hubspot = _by_email(hubspot_owners)
    salesforce = _by_email(salesforce_users)
    to_crm: dict[str, str] = {}
    to_marketing: dict[str, str] = {}
    unmatched: list[str] = []
    for email in sorted(hubspot.keys() | salesforce.keys()):
        hs_group, sf_group = hubspot.get(email, []), salesforce.get(email, [])
        sf_user, hs_owner = _one_active(sf_group), _one_active(hs_group)
        for owner in hs_group:
            if sf_user is not None:
                to_crm[owner.id] = sf_user.id
            else:
                unmatched.append(f"HubSpot owner {owner.id} has {_why(sf_group)} Salesforce user")
        for user in sf_group:
            if hs_owner is not None:
                to_marketing[user.id] = hs_owner.id
            else:
                unmatched.append(f"Salesforce user {user.id} has {_why(hs_group)} HubSpot owner")
    for owner in hubspot_owners:
        if canonical_email(owner.email) is None:
            unmatched.append(f"HubSpot owner {owner.id} has no valid email")
    for user in salesforce_users:
        if canonical_email(user.email) is None:
            unmatched.append(f"Salesforce user {user.id} has no valid email")
    return OwnerMap(to_crm=to_crm, to_marketing=to_marketing, unmatched=tuple(sorted(unmatched)))


def _why(group: list[Owner]) -> str:
    active = sum(owner.active for owner in group)
    if not group:
        return "no matching"
    if active == 0:
        return "only an inactive matching"
    return "several active matching"
