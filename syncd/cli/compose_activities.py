"""Wiring the activities flow, and the engagements flow's discovery of HubSpot-logged engagements.

Both systems are checked for what the flows rely on before a run: the Task and Event fields the pull
reads (and the Task key field that marks syncd's own Tasks), and the unique `syncd_source_id` property
on every HubSpot engagement object written to. Every problem is listed at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from syncd.activities import SOURCE_ID_PROPERTY
from syncd.cli.compose import Runtime
from syncd.config.flows import ActivitiesFlowConfig, EngagementsFlowConfig
from syncd.core.activities import ActivityRules, EngagementSettings
from syncd.engine.activities import EVENT_FIELDS, TASK_FIELDS, ActivityFlow, ActivitySettings
from syncd.engine.logged import LoggedEngagements, LoggedSettings
from syncd.errors import ConfigError

# A stored kind → the HubSpot engagement object it is written as.
ENGAGEMENT_OBJECTS = {"call": "calls", "email": "emails", "meeting": "meetings", "task": "notes"}


def activity_settings(flow: ActivitiesFlowConfig, *, dry_run: bool = False) -> ActivitySettings:
    """The activities flow's settings from its section of the configuration."""
    return ActivitySettings(
        rules=ActivityRules(
            automated_subtypes=frozenset(flow.automated_subtypes),
            automation_users=frozenset(flow.automation_users),
            kinds=frozenset(flow.store_kinds),
        ),
        engagements=EngagementSettings(
            objects={kind: ENGAGEMENT_OBJECTS[kind] for kind in flow.push_kinds},
            push_automated=flow.push_automated,
            call_outcomes=dict(flow.call_outcomes),
        ),
        dry_run=dry_run,
    )


def logged_settings(flow: EngagementsFlowConfig) -> LoggedSettings:
    return LoggedSettings(objects=tuple(flow.logged_objects), channel=flow.logged_channel)


def require_activity_fields(runtime: Runtime, settings: ActivitySettings) -> None:
    """Refuse systems that lack what the activities flow reads and writes (every problem at once)."""
    problems: list[str] = []
    key_field = settings.rules.task_key_field
    wanted = {"Task": (*TASK_FIELDS, key_field), "Event": EVENT_FIELDS}
    for obj in settings.objects:
        fields = runtime.salesforce.describe(obj).fields
        for name in wanted.get(obj, ()):
            if name == key_field and name not in fields:
                problems.append(
                    f"flows.activities: Salesforce Task has no field {key_field} — create it as Text(40), "
                    "External ID, Unique: syncd's own Tasks carry their key there, never read as activity"
                )
            elif name not in fields:
                problems.append(
                    f"flows.activities: Salesforce {obj} has no field {name} (check the user's access)"
                )
    for obj in sorted(set(settings.engagements.objects.values())):
        spec = runtime.hubspot.describe(obj).fields.get(SOURCE_ID_PROPERTY)
        if spec is None or not spec.unique:
            what = "no property" if spec is None else "a property that does not require unique values:"
            problems.append(
                f"flows.activities: HubSpot {obj} has {what} {SOURCE_ID_PROPERTY} — create it as single-line "
                "text, 'require unique values': engagements are upserted by it, a replay never duplicates"
            )
    if problems:
        raise ConfigError(problems, hint="fix the fields named above, then run `syncd check`")


def activity_flow(
    runtime: Runtime,
    *,
    settings: ActivitySettings | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ActivityFlow:
    """The activities flow, once both systems hold the fields it relies on."""
    settings = settings or ActivitySettings()
    require_activity_fields(runtime, settings)
    return ActivityFlow(
        name="activities",
        salesforce=runtime.probe,
        hubspot=runtime.hubspot,
        store=runtime.store,
        clock=clock,
        settings=settings,
    )


def logged_engagements(
    runtime: Runtime,
    settings: LoggedSettings,
    *,
    flow: str = "engagements",
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> LoggedEngagements | None:
    """Discovery of HubSpot-logged engagements for the engagements flow (None when no object is read)."""
    if not settings.objects:
        return None
    return LoggedEngagements(
        source=runtime.hubspot, store=runtime.store, flow=flow, clock=clock, settings=settings
    )
