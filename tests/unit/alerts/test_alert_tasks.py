"""Alert Tasks for cases the Salesforce simulator does not model (queue owners, records gone mid-way),
with a fake org that answers `fetch` and `push` from a table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime

from syncd.alerts.render import StoredAlert, TaskSettings
from syncd.alerts.tasks import TaskDelivery
from syncd.connector import RemoteRecord, Write, WriteResult
from syncd.errors import IssueCategory, RecordError

AT = datetime(2026, 3, 4, 12, tzinfo=UTC)


class FakeOrg:
    """Lead and Contact owners by id; Task saves succeed unless the Task's WhoId is in `refuse`."""

    system = "salesforce"

    def __init__(
        self, owners: Mapping[str, str | None], moved: Sequence[str] = (), refuse: Sequence[str] = ()
    ):
        self.owners = dict(owners)
        self.moved = set(moved)
        self.refuse = set(refuse)
        self.pushed: list[Write] = []

    def fetch(self, object: str, keys: Sequence[str], fields: Sequence[str]) -> list[RemoteRecord]:
        assert list(fields) == ["OwnerId"]
        return [
            RemoteRecord(
                object,
                key,
                AT,
                {"OwnerId": self.owners[key]},
                merged_into="003NEW" if key in self.moved else None,
            )
            for key in keys
            if key in self.owners
        ]

    def push(self, object: str, writes: Sequence[Write]) -> list[WriteResult]:
        assert object == "Task"
        self.pushed.extend(writes)
        results = []
        for n, write in enumerate(writes):
            if write.fields["WhoId"] in self.refuse:
                error = RecordError(
                    "Salesforce rejected Task: FIELD_CUSTOM_VALIDATION_EXCEPTION (no Tasks on this Lead)",
                    category=IssueCategory.VALIDATION,
                    remote_code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
                    remote_message="no Tasks on this Lead",
                )
                results.append(WriteResult(write.ref, ok=False, error=error))
            else:
                results.append(WriteResult(write.ref, ok=True, id=f"00T00000000000{n}", created=True))
        return results


def alert(alert_id: int, person: int) -> StoredAlert:
    return StoredAlert(
        alert_id, "demo", f"demo:hubspot:e{alert_id}", person, f"p{person}@x.io did it", None, AT, AT
    )


RECORDS = {
    1: {"Lead": "00Q000000000001", "Contact": "003000000000001"},
    2: {"Lead": "00Q000000000002"},
    3: {"Lead": "00Q000000000003"},
    4: {"Lead": "00Q000000000004"},
    5: {"Lead": "00Q000000000005"},
}


def deliver(org: FakeOrg, *alerts: StoredAlert) -> dict[int, tuple[str, str | None]]:
    delivery = TaskDelivery(
        org, lambda people: {p: RECORDS[p] for p in people if p in RECORDS}, TaskSettings()
    )  # type: ignore[arg-type]
    outcomes = delivery.deliver(list(alerts), date(2026, 3, 4))
    return {o.alert_id: (o.state, o.issue.category.value if o.issue else None) for o in outcomes}


def test_each_case_gets_its_own_outcome() -> None:
    org = FakeOrg(
        {
            "003000000000001": "005000000000001",
            "00Q000000000002": "00G000000000001",  # a queue
            "00Q000000000004": "005000000000004",
            "00Q000000000005": "005000000000005",
        },
        moved=["00Q000000000004"],
        refuse=["00Q000000000005"],
    )
    outcomes = deliver(org, alert(1, 1), alert(2, 2), alert(3, 3), alert(4, 4), alert(5, 5), alert(6, 99))
    assert outcomes == {
        1: ("sent", None),  # on the Contact, which wins over the Lead
        2: ("failed", "permission"),  # a queue cannot own a Task
        3: ("failed", "other"),  # the Lead is gone
        4: ("pending", None),  # converted: the contacts flow links the Contact, the next run uses it
        5: ("failed", "validation"),  # Salesforce refused the Task itself
        6: ("failed", "other"),  # no Salesforce record at all
    }
    assert [w.fields["WhoId"] for w in org.pushed] == ["003000000000001", "00Q000000000005"]
    assert org.pushed[0].fields["OwnerId"] == "005000000000001"
    assert org.pushed[0].id_property == "HubSpot_Engagement_Id__c"


def test_nothing_to_save_makes_no_push() -> None:
    org = FakeOrg({})
    assert deliver(org, alert(6, 99)) == {6: ("failed", "other")}
    assert org.pushed == []
