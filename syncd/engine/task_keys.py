"""External-id keys of the Salesforce Tasks syncd writes itself, so no flow mistakes one for a rep's.

Every Task syncd saves carries a key in the Task external-id field (`HubSpot_Engagement_Id__c` by
default, Text(40)). A flow reading Tasks back from Salesforce (sales activities) must skip any Task
whose key starts with one of `SYNCD_TASK_KEY_PREFIXES`: echoing it would turn syncd's own writes
into sales activity.
"""

from __future__ import annotations

import hashlib

ALERT_TASK_KEY_PREFIX = "alert:"
"""Tasks raised by alert rules for the person's owner (syncd.alerts)."""

TOUCH_TASK_KEY_PREFIX = "syncd:"
"""Tasks carrying marketing touches, one per touch or a daily digest (syncd.engine.engagements)."""

SYNCD_TASK_KEY_PREFIXES: tuple[str, ...] = (ALERT_TASK_KEY_PREFIX, TOUCH_TASK_KEY_PREFIX)

TASK_KEY_LENGTH = 40
"""The external-id field's length: every key fits it."""


def is_syncd_task_key(key: str | None) -> bool:
    """Whether a Task's external-id value says syncd wrote the Task."""
    return bool(key) and str(key).startswith(SYNCD_TASK_KEY_PREFIXES)


def alert_task_key(occurrence_key: str) -> str:
    """The Task key of one alert occurrence: stable for the occurrence, 38 characters."""
    digest = hashlib.sha1(occurrence_key.encode("utf-8")).hexdigest()
    return f"{ALERT_TASK_KEY_PREFIX}{digest[:32]}"
