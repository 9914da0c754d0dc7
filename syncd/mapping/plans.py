"""Turn a FlowMapping into what the pure core consumes: field plans for resolve, a policy for match."""

from __future__ import annotations

from collections.abc import Mapping

from syncd.core.match import MatchPolicy
from syncd.core.normalize import Value
from syncd.core.resolve import FieldPlan
from syncd.core.rules import Side
from syncd.mapping.model import FlowMapping
from syncd.mapping.owners import OwnerMap
from syncd.mapping.transforms import apply_transforms, chain


def field_plans(
    mapping: FlowMapping, salesforce_object: str, owners: OwnerMap | None = None
) -> tuple[FieldPlan, ...]:
    """The field plans for HubSpot ↔ `salesforce_object`; fields that object does not map are left out.

    `owners` is needed by fields with the `owner` transform (without it their values fail to convert).
    """
    plans: list[FieldPlan] = []
    for entry in mapping.fields:
        crm_field = entry.salesforce_field(salesforce_object)
        if crm_field is None:
            continue
        plans.append(
            FieldPlan(
                name=entry.name,
                crm_field=crm_field,
                marketing_field=entry.hubspot,
                rule=entry.rule,
                direction=entry.direction,
                null_policy=entry.null_policy,
                to_crm=chain(entry.to_crm, Side.CRM, owners),
                to_marketing=chain(entry.to_marketing, Side.MARKETING, owners),
            )
        )
    return tuple(plans)


def match_policy(mapping: FlowMapping, target: Side) -> MatchPolicy:
    """The match policy for the leg that writes into `target`."""
    settings = mapping.matching
    if target is Side.CRM:
        return MatchPolicy(
            target_system="salesforce",
            create_object=settings.create_as,
            object_preference=settings.object_preference,
            survivor=settings.duplicates,
            target_survivor=settings.target_candidates,
            domain_object="Contact" if settings.contact_when_account_domain else None,
        )
    return MatchPolicy(
        target_system="hubspot",
        create_object=mapping.hubspot_object,
        object_preference=settings.object_preference,
        survivor=settings.duplicates,
        target_survivor=settings.target_candidates,
    )


def translate(
    mapping: FlowMapping,
    values: Mapping[str, Value],
    *,
    to: Side,
    salesforce_object: str,
    owners: OwnerMap | None = None,
) -> dict[str, Value]:
    """Another side's record in `to`'s field names and vocabulary (fields the direction lets into `to`).

    Raises TransformError for a value the transforms cannot convert; used for previews and dry runs.
    """
    result: dict[str, Value] = {}
    for entry in mapping.fields:
        crm_field = entry.salesforce_field(salesforce_object)
        if crm_field is None or not entry.direction.allows(to):
            continue
        source_name, target_name = (
            (entry.hubspot, crm_field) if to is Side.CRM else (crm_field, entry.hubspot)
        )
        if source_name not in values:
            continue
        transforms = entry.to_crm if to is Side.CRM else entry.to_marketing
        result[target_name] = apply_transforms(transforms, values[source_name], to, owners)
    return result
