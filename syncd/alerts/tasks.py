"""Delivering alerts as high-priority Salesforce Tasks for the owner of the person's Lead or Contact.

Per batch of up to 200 alerts: the owners of the records the Tasks go on are read (one sObject
Collections retrieve per object), then every Task is upserted in one sObject Collections call by
the alert's key in the Task external-id field, so a Task sent again after a crash is updated, not
created twice. Alerts that cannot become a Task (no Salesforce record, an owner that is a queue)
fail with an issue and are not tried again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

from syncd.alerts.render import StoredAlert, TaskSettings, task_fields
from syncd.alerts.store import FAILED, PENDING, SENT, DeliveryOutcome
from syncd.connector import Connector, Write
from syncd.engine.state import Quarantine
from syncd.engine.task_keys import alert_task_key
from syncd.errors import IssueCategory

SALESFORCE = "salesforce"
USER_PREFIX = "005"  # Task owners must be users; queues (00G) own Leads but cannot own Tasks


def _issue(alert: StoredAlert, category: IssueCategory, message: str, **remote: str | None) -> Quarantine:
    return Quarantine(
        system=SALESFORCE,
        object="Task",
        record_key=alert.key,
        category=category,
        message=f"alert {alert.rule} for {alert.detail.get('email', f'person {alert.person_id}')}: {message}",
        remote_code=remote.get("remote_code"),
        remote_message=remote.get("remote_message"),
    )


def _failed(
    alert: StoredAlert, category: IssueCategory, message: str, **remote: str | None
) -> DeliveryOutcome:
    return DeliveryOutcome(alert.id, FAILED, error=message, issue=_issue(alert, category, message, **remote))


class TaskDelivery:
    """Turns a batch of pending alerts into Tasks; transient failures propagate to the caller."""

    def __init__(
        self,
        salesforce: Connector,
        records: Callable[[Sequence[int]], Mapping[int, Mapping[str, str]]],
        settings: TaskSettings,
    ) -> None:
        self._salesforce = salesforce
        self._records = records  # person id -> {object: id} of active Salesforce records
        self._settings = settings

    def deliver(self, batch: Sequence[StoredAlert], today: date) -> list[DeliveryOutcome]:
        settings = self._settings
        records = self._records([a.person_id for a in batch])
        outcomes: dict[int, DeliveryOutcome] = {}
        who: dict[int, tuple[str, str]] = {}
        for alert in batch:
            found = records.get(alert.person_id, {})
            obj = next((o for o in settings.who_objects if o in found), None)
            if obj is None:
                outcomes[alert.id] = _failed(
                    alert,
                    IssueCategory.OTHER,
                    "the person has no Salesforce Lead or Contact to put the Task on — the alert went to "
                    "its other channels only; link the person (contacts flow) for Tasks on later alerts",
                )
            else:
                who[alert.id] = (obj, found[obj])
        owners: dict[str, str | None] = {}
        moved: set[str] = set()
        by_object: dict[str, list[str]] = {}
        for obj, record_id in who.values():
            by_object.setdefault(obj, []).append(record_id)
        for obj, ids in by_object.items():
            for record in self._salesforce.fetch(obj, sorted(set(ids)), ["OwnerId"]):
                if record.deleted or record.merged_into:
                    moved.add(record.id)
                else:
                    owner = record.fields.get("OwnerId")
                    owners[record.id] = str(owner) if owner else None
        writes: list[Write] = []
        sent: list[StoredAlert] = []
        for alert in batch:
            if alert.id in outcomes:
                continue
            obj, record_id = who[alert.id]
            if record_id in moved:
                # The contacts flow follows merges and conversions; the next cycle finds the survivor.
                outcomes[alert.id] = DeliveryOutcome(
                    alert.id,
                    PENDING,
                    error=f"Salesforce {obj} {record_id} was merged or converted; trying again",
                )
            elif record_id not in owners:
                outcomes[alert.id] = _failed(
                    alert, IssueCategory.OTHER, f"Salesforce {obj} {record_id} no longer exists (deleted)"
                )
            elif not (owner := owners[record_id]) or not owner.startswith(USER_PREFIX):
                outcomes[alert.id] = _failed(
                    alert,
                    IssueCategory.PERMISSION,
                    f"Salesforce {obj} {record_id} is owned by {owner or 'nobody'}, not a user, and "
                    "Tasks need a user as owner — assign the record to a rep",
                )
            else:
                fields = task_fields(alert, who_id=record_id, owner_id=owner, settings=settings, today=today)
                writes.append(
                    Write("upsert", alert_task_key(alert.key), fields, id_property=settings.key_field)
                )
                sent.append(alert)
        if writes:
            for alert, result in zip(sent, self._salesforce.push("Task", writes), strict=True):
                if result.ok and result.id:
                    outcomes[alert.id] = DeliveryOutcome(
                        alert.id, SENT, salesforce_id=result.id, created=result.created
                    )
                    continue
                error = result.error
                outcomes[alert.id] = _failed(
                    alert,
                    error.category if error else IssueCategory.OTHER,
                    f"Salesforce did not save the Task: {error.message if error else 'no reason given'}",
                    remote_code=error.remote_code if error else None,
                    remote_message=error.remote_message if error else None,
                )
        return [outcomes[a.id] for a in batch]
