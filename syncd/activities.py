"""What marks a HubSpot engagement as syncd's own: the source-id property and its values.

Every engagement syncd writes to HubSpot (a call, email, meeting or note carrying a Salesforce sales
activity) carries `SOURCE_ID_PROPERTY`, a custom property with unique values, set to `source_key` of
the activity. HubSpot upserts are keyed by it, so a replay updates instead of duplicating, and no flow
turns an engagement that carries it into a touch: syncd's writes never echo back. (Salesforce Tasks
syncd writes are recognised by their key field instead: see `syncd.engine.task_keys`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SOURCE_ID_PROPERTY = "syncd_source_id"
"""Create it on calls, emails, meetings and notes: single-line text, "require unique values"."""

# HubSpot's engagement objects and their HubSpot-defined association type to a contact (api-facts).
ENGAGEMENT_TO_CONTACT: Mapping[str, int] = {"calls": 194, "emails": 198, "meetings": 200, "notes": 202}


def source_key(system: str, record_id: str) -> str:
    """The source-id value of the engagement carrying `record_id` of `system` (e.g. a Task id)."""
    return f"{system}:{record_id}"


def is_syncd_engagement(properties: Mapping[str, Any]) -> bool:
    """Whether an engagement's properties say syncd wrote it."""
    return bool(str(properties.get(SOURCE_ID_PROPERTY) or "").strip())
