"""The replication resources: getUpdated (30 days) and getDeleted (15 days), minute precision."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.salesforce.sandbox import SalesforceSandbox

from .conftest import control, token_login


def _now(sandbox: SalesforceSandbox) -> datetime:
    return datetime.fromisoformat(control(sandbox, "GET", "/clock")["now"])


@pytest.fixture
def org(fresh: SalesforceSandbox) -> tuple[SalesforceSandbox, Salesforce]:
    control(fresh, "POST", "/clock", json={"freeze": True})
    return fresh, token_login(fresh)


def test_updated_lists_changed_ids_and_the_latest_minute_covered(
    org: tuple[SalesforceSandbox, Salesforce],
) -> None:
    sandbox, sf = org
    start = _now(sandbox) - timedelta(minutes=10)
    lead_id = sf.Lead.create({"LastName": "Replicated", "Company": "Repl"})["id"]
    control(sandbox, "POST", "/clock", json={"advance_seconds": 120})
    end = _now(sandbox) + timedelta(hours=1)
    result = sf.Lead.updated(start, end)
    assert lead_id in result["ids"]
    latest = result["latestDateCovered"]
    assert latest.endswith(":00.000+0000")  # seconds are truncated
    assert latest <= _now(sandbox).strftime("%Y-%m-%dT%H:%M:59.999+0000")


def test_updated_window_is_limited_to_30_days(org: tuple[SalesforceSandbox, Salesforce]) -> None:
    sandbox, sf = org
    now = _now(sandbox)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.updated(now - timedelta(days=31), now)
    assert caught.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_system_touch_shows_up_in_updated(org: tuple[SalesforceSandbox, Salesforce]) -> None:
    sandbox, sf = org
    contact_id = sf.query("SELECT Id FROM Contact ORDER BY SystemModstamp LIMIT 1")["records"][0]["Id"]
    control(sandbox, "POST", "/clock", json={"advance_seconds": 120})
    start = _now(sandbox) - timedelta(minutes=1)
    control(sandbox, "POST", "/records/Contact/touch", json={"ids": [contact_id]})
    control(sandbox, "POST", "/clock", json={"advance_seconds": 120})
    assert sf.Contact.updated(start, _now(sandbox))["ids"] == [contact_id]


def test_deleted_lists_deleted_ids_with_their_dates(org: tuple[SalesforceSandbox, Salesforce]) -> None:
    sandbox, sf = org
    start = _now(sandbox) - timedelta(minutes=5)
    lead_id = sf.Lead.create({"LastName": "Deleted", "Company": "Repl"})["id"]
    sf.Lead.delete(lead_id)
    control(sandbox, "POST", "/clock", json={"advance_seconds": 120})
    result = sf.Lead.deleted(start, _now(sandbox))
    assert [d["id"] for d in result["deletedRecords"]] == [lead_id]
    assert result["deletedRecords"][0]["deletedDate"].endswith("+0000")
    assert result["earliestDateAvailable"] <= result["latestDateCovered"]


def test_deleted_window_is_limited_to_15_days(org: tuple[SalesforceSandbox, Salesforce]) -> None:
    sandbox, sf = org
    now = _now(sandbox)
    sf.Lead.deleted(now - timedelta(days=14), now)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.deleted(now - timedelta(days=16), now)
    assert caught.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_purged_deletion_log_forces_a_full_resync(org: tuple[SalesforceSandbox, Salesforce]) -> None:
    sandbox, sf = org
    start = _now(sandbox) - timedelta(hours=1)
    control(sandbox, "POST", "/deleted-log/purge")
    control(sandbox, "POST", "/clock", json={"advance_seconds": 120})
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.deleted(start, _now(sandbox))
    assert caught.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_updated_refuses_more_ids_than_the_limit(org: tuple[SalesforceSandbox, Salesforce]) -> None:
    sandbox, sf = org
    control(sandbox, "POST", "/settings", json={"updated_max_ids": 1})
    start = _now(sandbox) - timedelta(minutes=5)
    sf.Lead.create({"LastName": "A", "Company": "Limit"})
    sf.Lead.create({"LastName": "B", "Company": "Limit"})
    control(sandbox, "POST", "/clock", json={"advance_seconds": 120})
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.updated(start, _now(sandbox))
    assert caught.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
