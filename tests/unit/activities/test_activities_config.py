"""The activities flow's settings and the engagements flow's logged leg, from the configuration file."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from syncd.activities import SOURCE_ID_PROPERTY
from syncd.cli.compose_activities import activity_settings, logged_settings, require_activity_fields
from syncd.config import parse_config
from syncd.config.flows import ActivitiesFlowConfig, EngagementsFlowConfig
from syncd.connector import FieldSpec, FieldType, ObjectSchema
from syncd.engine.activities import EVENT_FIELDS, TASK_FIELDS, ActivitySettings
from syncd.errors import ConfigError

ENV = {"HUBSPOT_ACCESS_TOKEN": "pat-test", "SF_CLIENT_SECRET": "s3cret"}
BASE = """\
hubspot:
  access_token: ${HUBSPOT_ACCESS_TOKEN}
salesforce:
  login_url: https://acme.my.salesforce.com
  auth:
    flow: client_credentials
    client_id: 3MVG9abc
    client_secret: ${SF_CLIENT_SECRET}
flows:
"""


def parse(flows: str):  # type: ignore[no-untyped-def]
    return parse_config(BASE + flows, source="config.yaml", base_dir=Path("/nonexistent"), env=ENV)


def problems(flows: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(flows)
    return caught.value.problems


def test_the_defaults_store_every_kind_push_rep_calls_emails_and_meetings_and_log_sales_touches() -> None:
    config = parse("  activities: {}\n  engagements: {}\n")
    activities, engagements = config.flows.activities, config.flows.engagements
    assert isinstance(activities, ActivitiesFlowConfig) and isinstance(engagements, EngagementsFlowConfig)
    settings = activity_settings(activities)
    assert settings.rules.automated_subtypes == frozenset({"ListEmail"})
    assert settings.rules.kinds == frozenset({"call", "email", "meeting", "task"})
    assert dict(settings.engagements.objects) == {"call": "calls", "email": "emails", "meeting": "meetings"}
    assert not settings.engagements.push_automated
    logged = logged_settings(engagements)
    assert (logged.objects, logged.channel) == (("meetings", "calls", "notes"), "sales")


def test_every_setting_reaches_the_flows() -> None:
    config = parse(
        "  activities:\n"
        "    automation_users: [integration@acme.example, 005000000000009]\n"
        "    automated_subtypes: [ListEmail, Cadence]\n"
        "    store_kinds: [call, task]\n"
        "    push_kinds: [task]\n"
        "    push_automated: true\n"
        "    call_outcomes: {Connected: f240bbac-87c9-4f6e-bf70-924b57d47db7}\n"
        "  engagements:\n"
        "    logged_objects: [meetings]\n"
        "    logged_channel: field_sales\n"
    )
    assert config.flows.activities is not None and config.flows.engagements is not None
    settings = activity_settings(config.flows.activities, dry_run=True)
    assert settings.rules.automation_users == frozenset({"integration@acme.example", "005000000000009"})
    assert settings.rules.automated_subtypes == frozenset({"ListEmail", "Cadence"})
    assert dict(settings.engagements.objects) == {"task": "notes"}
    assert settings.engagements.push_automated and settings.dry_run
    assert settings.engagements.call_outcomes == {"Connected": "f240bbac-87c9-4f6e-bf70-924b57d47db7"}
    assert logged_settings(config.flows.engagements).objects == ("meetings",)


def test_pushing_a_kind_that_is_not_stored_is_refused_with_the_fix() -> None:
    [problem] = problems("  activities:\n    store_kinds: [call]\n    push_kinds: [call, meeting]\n")
    assert "flows.activities" in problem and "push_kinds ['meeting'] are not in store_kinds" in problem


def test_unknown_kinds_objects_and_keys_are_named() -> None:
    found = problems(
        "  activities:\n    store_kinds: [fax]\n    no_such_key: 1\n"
        "  engagements:\n    logged_objects: [tasks]\n"
    )
    assert any("flows.activities.store_kinds" in p for p in found)
    assert any("flows.activities.no_such_key" in p for p in found)
    assert any("flows.engagements.logged_objects" in p for p in found)


class _Describes:
    """A system that describes objects from a table of field specs."""

    def __init__(self, fields: dict[str, dict[str, FieldSpec]]) -> None:
        self._fields = fields

    def describe(self, object: str) -> ObjectSchema:
        return ObjectSchema(object, self._fields.get(object, {}))


def _spec(name: str, *, unique: bool = False) -> FieldSpec:
    return FieldSpec(name, FieldType.STRING, unique=unique)


def test_missing_task_event_fields_and_source_id_properties_are_listed_at_once() -> None:
    task_fields = {n: _spec(n) for n in TASK_FIELDS}  # no HubSpot_Engagement_Id__c
    event_fields = {n: _spec(n) for n in EVENT_FIELDS if n != "DurationInMinutes"}
    salesforce = _Describes({"Task": task_fields, "Event": event_fields})
    hubspot = _Describes(
        {
            "calls": {SOURCE_ID_PROPERTY: _spec(SOURCE_ID_PROPERTY, unique=True)},
            "emails": {SOURCE_ID_PROPERTY: _spec(SOURCE_ID_PROPERTY)},  # not unique
        }
    )
    runtime = SimpleNamespace(salesforce=salesforce, hubspot=hubspot)
    with pytest.raises(ConfigError) as refused:
        require_activity_fields(runtime, ActivitySettings())  # type: ignore[arg-type]
    found = refused.value.problems
    assert any("Task has no field HubSpot_Engagement_Id__c" in p and "External ID" in p for p in found)
    assert any("Event has no field DurationInMinutes" in p for p in found)
    assert any("HubSpot emails has a property that does not require unique values" in p for p in found)
    assert any("HubSpot meetings has no property syncd_source_id" in p for p in found)
    assert not any("HubSpot calls" in p for p in found)
