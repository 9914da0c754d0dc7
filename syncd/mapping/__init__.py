"""Field mappings: the YAML files ops edit, their loader, transforms, owner mapping, filters and validation.

Typical use: `load_mapping(path)` at start-up, `validate_mapping(mapping, hubspot_schema, salesforce_schemas)`
against the live `describe()` results, then `field_plans(...)` and `match_policy(...)` for the pure core.
"""

from syncd.mapping.filters import Condition, InclusionFilter, Op, included
from syncd.mapping.loader import load_mapping, parse_mapping
from syncd.mapping.model import FieldMapping, FlowMapping, MatchSettings
from syncd.mapping.owners import Owner, OwnerMap, map_owners
from syncd.mapping.plans import field_plans, match_policy, translate
from syncd.mapping.validate import find_problems, validate_mapping

__all__ = [
    "Condition",
    "FieldMapping",
    "FlowMapping",
    "InclusionFilter",
    "MatchSettings",
    "Op",
    "Owner",
    "OwnerMap",
    "field_plans",
    "find_problems",
    "included",
    "load_mapping",
    "map_owners",
    "match_policy",
    "parse_mapping",
    "translate",
    "validate_mapping",
]
