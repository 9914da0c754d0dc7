"""The HubSpot connector against the HubSpot simulator over real loopback sockets, SDK unmodified."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Control, RecordedSleep, make_connector

from connectors.hubspot.connector import HubSpotConnector
from connectors.hubspot.sandbox import HubSpotSandbox
from connectors.sandbox_core.server import make_tls
from syncd.connector import Cursor, FieldType, Page, PullRequest, Write
from syncd.errors import AuthError, BudgetExhaustedError, ConfigError, IssueCategory, RetryableError

LIST = "GET /crm/v3/objects/{object}"
SEARCH = "POST /crm/v3/objects/{object}/search"
BATCH_UPSERT = "POST /crm/v3/objects/{object}/batch/{op}"
LONG_AGO = Cursor(datetime(2000, 1, 1, tzinfo=UTC))


def live_contacts(control: Control) -> dict[str, dict[str, str]]:
    return {row["id"]: row["properties"] for row in control.contacts() if not row.get("archived")}


def flatten(pages: list[Page]) -> list[str]:
    return [r.id for p in pages for r in p.records]


def assert_ordered_with_exact_cursors(pages: list[Page]) -> None:
    keys = [(r.modified_at, int(r.id)) for p in pages for r in p.records]
    assert keys == sorted(keys)
    for page in pages:
        assert page.cursor == Cursor(page.records[-1].modified_at, page.records[-1].id)


# ---------------------------------------------------------------------- check and describe


def test_check_passes_with_a_valid_token(connector: HubSpotConnector) -> None:
    connector.check()


def test_check_with_a_wrong_token_raises_auth_error_with_a_hint(
    sandbox: HubSpotSandbox, slept: RecordedSleep
) -> None:
    conn = make_connector(sandbox, slept, access_token="pat-na1-wrong")
    with pytest.raises(AuthError) as raised:
        conn.check()
    assert "401" in str(raised.value)
    assert raised.value.hint and "token" in raised.value.hint
    assert slept.waits == []  # never retried


def test_check_with_a_missing_scope_names_it(connector: HubSpotConnector, control: Control) -> None:
    control.fault(
        path="^/crm/v3/objects/contacts$",
        kind="status",
        status=403,
        body={
            "status": "error",
            "message": "This app hasn't been granted all required scopes to make this call.",
            "category": "MISSING_SCOPES",
            "errors": [{"message": "missing", "context": {"requiredScopes": ["crm.objects.contacts.read"]}}],
        },
        count=1,
    )
    with pytest.raises(AuthError, match=r"crm\.objects\.contacts\.read"):
        connector.check()


def test_describe_maps_types_picklists_and_read_only_properties(connector: HubSpotConnector) -> None:
    schema = connector.describe("contacts")
    assert schema.object == "contacts"
    fields = schema.fields
    assert fields["email"].type is FieldType.EMAIL
    assert fields["hs_object_id"].type is FieldType.ID
    assert not fields["hs_object_id"].updateable and not fields["hs_object_id"].createable
    assert fields["lastmodifieddate"].type is FieldType.DATETIME
    assert not fields["lastmodifieddate"].updateable
    stage = fields["lifecyclestage"]
    assert stage.type is FieldType.ENUM
    assert stage.picklist is not None and "customer" in stage.picklist
    assert stage.restricted_picklist
    assert fields["firstname"].type is FieldType.STRING and fields["firstname"].updateable


# ---------------------------------------------------------------------- pull


def test_backfill_returns_every_live_contact_once_with_values_as_held(
    connector: HubSpotConnector, control: Control
) -> None:
    pages = list(connector.pull("contacts", None, ["firstname", "lifecyclestage"]))
    expected = live_contacts(control)
    got = {r.id: r for p in pages for r in p.records}
    assert len(flatten(pages)) == len(expected) == len(got)
    assert set(got) == set(expected)
    for record_id, record in got.items():
        assert record.fields["email"] == expected[record_id].get("email")  # not normalised here
        assert record.modified_at.tzinfo is not None
        assert not record.deleted
    final = pages[-1].cursor
    assert final.last_id is None
    assert final.modified_at <= datetime.now(UTC)


def test_a_backfill_opened_by_a_run_leaves_contacts_created_since_to_the_next_pull(
    sandbox: HubSpotSandbox, control: Control, slept: RecordedSleep
) -> None:
    connector = make_connector(sandbox, slept, list_page_size=50)
    before = live_contacts(control)
    run_started = datetime.now(UTC)
    control.clock(advance_seconds=2)
    created = connector.push(
        "contacts",
        [Write(op="upsert", ref=str(i), id=f"new{i}@example.com", id_property="email") for i in range(70)],
    )
    assert all(r.ok for r in created)
    lists, searches = control.calls(LIST), control.calls(SEARCH)

    (pull,) = connector.pull_many([PullRequest("contacts", None, ["email"], run_started)])
    pages = list(pull)

    listed = set(flatten(pages))
    assert listed >= set(before)
    assert len(listed - set(before)) < 50  # at most the rest of the page that reached the last old id
    assert control.calls(LIST) - lists == -(-len(before) // 50)
    assert control.calls(SEARCH) - searches == 1  # the last id created before the run
    # The next incremental pull starts before the run began: it reads the new contacts.
    final = pages[-1].cursor
    assert final.last_id is None and final.modified_at <= run_started - timedelta(seconds=300)
    later = {r.id for p in connector.pull("contacts", final, ["email"]) for r in p.records}
    assert {r.id for r in created} <= later


def test_incremental_pull_after_backfill_returns_what_changed(
    connector: HubSpotConnector, control: Control
) -> None:
    pages = list(connector.pull("contacts", None, ["firstname"]))
    some = flatten(pages)[:3]
    results = connector.push(
        "contacts", [Write(op="update", ref=i, id=i, fields={"firstname": f"Changed{i}"}) for i in some]
    )
    assert all(r.ok for r in results)
    changed = list(connector.pull("contacts", pages[-1].cursor, ["firstname"]))
    got = {r.id: r.fields["firstname"] for p in changed for r in p.records}
    assert {i: f"Changed{i}" for i in some}.items() <= got.items()


def test_search_pull_returns_pages_in_order_past_a_lowered_result_ceiling(
    sandbox: HubSpotSandbox, control: Control, slept: RecordedSleep
) -> None:
    control.settings(max_search_results=40)
    conn = make_connector(sandbox, slept, search_page_size=20)
    pages = list(conn.pull("contacts", LONG_AGO, ["firstname"]))
    assert len(flatten(pages)) == len(set(flatten(pages))) == len(live_contacts(control)) > 40
    assert_ordered_with_exact_cursors(pages)
    assert slept.waits == []  # no 400 from the ceiling, no retries


def test_resuming_from_a_page_cursor_loses_and_repeats_nothing(
    sandbox: HubSpotSandbox, control: Control, slept: RecordedSleep
) -> None:
    conn = make_connector(sandbox, slept, search_page_size=20)
    pages = list(conn.pull("contacts", LONG_AGO, []))
    assert len(pages) > 3
    resumed = list(conn.pull("contacts", pages[1].cursor, []))
    assert flatten(pages[:2]) + flatten(resumed) == flatten(pages)


def test_contacts_written_at_one_instant_are_walked_by_id(
    sandbox: HubSpotSandbox, control: Control, slept: RecordedSleep
) -> None:
    control.clock(freeze=True)
    conn = make_connector(sandbox, slept, search_page_size=20)
    writes = [
        Write(op="upsert", ref=str(i), id_property="email", fields={"email": f"same.instant.{i}@example.com"})
        for i in range(70)
    ]
    assert all(r.ok for r in conn.push("contacts", writes))
    frozen_at = datetime.fromisoformat(control.client.get("/clock").json()["now"].replace("Z", "+00:00"))
    pages = list(conn.pull("contacts", Cursor(frozen_at - timedelta(milliseconds=1)), ["email"]))
    emails = [r.fields["email"] for p in pages for r in p.records]
    assert sorted(emails) == sorted(w.fields["email"] for w in writes)
    assert_ordered_with_exact_cursors(pages)


def test_archived_contacts_come_back_as_deletions(connector: HubSpotConnector, control: Control) -> None:
    victims = sorted(live_contacts(control), key=int)[:4]
    before = datetime.now(UTC) - timedelta(seconds=5)
    results = connector.push("contacts", [Write(op="delete", ref=v, id=v) for v in victims])
    assert all(r.ok for r in results)
    deleted = [r for p in connector.pull_deleted("contacts", before) for r in p.records]
    assert sorted(r.id for r in deleted) == victims
    assert all(r.deleted for r in deleted)
    assert not set(victims) & set(flatten(list(connector.pull("contacts", LONG_AGO, []))))


# ---------------------------------------------------------------------- fetch


def test_fetch_by_id_and_email_leaves_unknown_keys_out(connector: HubSpotConnector, control: Control) -> None:
    contacts = live_contacts(control)
    first, second = sorted(contacts, key=int)[:2]
    email = contacts[second]["email"]
    records = connector.fetch(
        "contacts", [first, "999999999", email, "nobody@nowhere.example"], ["firstname"]
    )
    assert sorted(r.id for r in records) == sorted([first, second])
    assert all("firstname" in r.fields for r in records)


def test_fetch_of_merged_away_ids_returns_the_survivor_with_its_history(
    connector: HubSpotConnector, control: Control
) -> None:
    a, b = sorted(live_contacts(control), key=int)[:2]
    control.client.post("/merge", json={"primaryObjectId": a, "objectIdToMerge": b}).raise_for_status()
    (record,) = connector.fetch("contacts", [a, b], [])
    assert record.id not in (a, b)  # HubSpot merges create a new id
    assert set(record.merged_from) == {a, b}


# ---------------------------------------------------------------------- push


def test_push_reports_every_write_in_order(connector: HubSpotConnector, control: Control) -> None:
    existing_id = sorted(live_contacts(control), key=int)[0]
    existing_email = live_contacts(control)[existing_id]["email"]
    writes = [
        Write(
            op="upsert",
            ref="new",
            id_property="email",
            fields={"email": "fresh.person@example.com", "firstname": "F"},
        ),
        Write(op="update", ref="upd", id=existing_id, fields={"firstname": "Updated"}),
        Write(op="create", ref="dup", fields={"email": existing_email}),
        Write(op="update", ref="gone", id="999999999", fields={"firstname": "X"}),
        Write(
            op="upsert", ref="again", id_property="email", fields={"email": existing_email, "lastname": "L"}
        ),
    ]
    results = connector.push("contacts", writes)
    assert [r.ref for r in results] == ["new", "upd", "dup", "gone", "again"]
    new, upd, dup, gone, again = results
    assert new.ok and new.created and new.id
    assert upd.ok and upd.id == existing_id and not upd.created
    assert not dup.ok and dup.error is not None and dup.error.category is IssueCategory.DUPLICATE
    assert existing_id in str(dup.error)  # "Existing ID: N" parsed into the advice
    assert not gone.ok and gone.error is not None and "999999999" in gone.error.message
    assert again.ok and again.id == existing_id and not again.created
    stored = live_contacts(control)
    assert stored[existing_id]["firstname"] == "Updated"
    assert stored[new.id or ""]["email"] == "fresh.person@example.com"


def test_bisect_isolates_the_one_bad_record_in_a_full_batch(
    connector: HubSpotConnector, control: Control
) -> None:
    writes = [
        Write(
            op="upsert",
            ref=f"r{i}",
            id_property="email",
            fields={"email": f"bulk{i}@example.com", "lifecyclestage": "not-a-stage" if i == 61 else "lead"},
        )
        for i in range(100)
    ]
    before = control.calls(BATCH_UPSERT)
    results = connector.push("contacts", writes)
    calls = control.calls(BATCH_UPSERT) - before
    assert [r.ok for r in results] == [i != 61 for i in range(100)]
    error = results[61].error
    assert error is not None and error.category is IssueCategory.PICKLIST
    assert "bulk61@example.com" in error.message and "lifecyclestage" in error.message
    emails = {p.get("email") for p in live_contacts(control).values()}
    assert {f"bulk{i}@example.com" for i in range(100) if i != 61} <= emails
    assert "bulk61@example.com" not in emails
    assert calls <= 15


# ---------------------------------------------------------------------- faults and budgets


TEN_SECONDLY = {
    "status": "error",
    "message": "You have reached your ten_secondly_rolling limit.",
    "policyName": "TEN_SECONDLY_ROLLING",
}


@pytest.mark.parametrize(
    ("status", "body", "headers", "waits"),
    [
        (429, TEN_SECONDLY, {}, [10.0, 20.0]),  # HubSpot's ten-second window, × attempt
        (429, TEN_SECONDLY, {"Retry-After": "15"}, [15.0, 20.0]),
        (423, None, {}, [2.0, 4.0]),  # locked: at least 2 s
        (477, None, {"Retry-After": "3"}, [3.0, 3.0]),  # migration: as long as HubSpot says
        (500, None, {}, None),
        (502, None, {}, None),
        (503, None, {}, None),
    ],
)
def test_transient_failures_on_writes_are_retried_and_nothing_is_lost_or_doubled(
    connector: HubSpotConnector,
    control: Control,
    slept: RecordedSleep,
    status: int,
    body: object,
    headers: dict[str, str],
    waits: list[float] | None,
) -> None:
    control.fault(
        method="POST",
        path="/batch/upsert$",
        kind="status",
        status=status,
        body=body,
        headers=headers,
        count=2,
    )
    writes = [
        Write(op="upsert", ref=str(i), id_property="email", fields={"email": f"retry{i}@example.com"})
        for i in range(30)
    ]
    results = connector.push("contacts", writes)
    assert all(r.ok for r in results)
    assert len(slept.waits) == 2
    if waits is not None:
        assert slept.waits == waits
    emails = [p.get("email") for p in live_contacts(control).values()]
    for i in range(30):
        assert emails.count(f"retry{i}@example.com") == 1


def test_connection_resets_during_a_backfill_recover_without_losing_records(
    connector: HubSpotConnector, control: Control, slept: RecordedSleep
) -> None:
    control.fault(method="GET", path="^/crm/v3/objects/contacts$", kind="reset", count=3)
    pages = list(connector.pull("contacts", None, []))
    assert sorted(flatten(pages), key=int) == sorted(live_contacts(control), key=int)
    assert len(slept.waits) == 3


def test_search_secondly_limit_waits_a_second_per_attempt(
    connector: HubSpotConnector, control: Control, slept: RecordedSleep
) -> None:
    control.fault(
        method="POST",
        path="/search$",
        kind="status",
        status=429,
        body={
            "status": "error",
            "message": "You have reached your secondly limit.",
            "policyName": "SECONDLY",
        },
        count=2,
    )
    pages = list(connector.pull("contacts", LONG_AGO, []))
    assert len(flatten(pages)) == len(live_contacts(control))
    assert slept.waits == [1.0, 2.0]


def test_a_timeout_is_retried(sandbox: HubSpotSandbox, control: Control, slept: RecordedSleep) -> None:
    conn = make_connector(sandbox, slept, read_timeout=0.2)
    control.fault(method="GET", path="^/crm/v3/properties/contacts$", kind="timeout", latency_ms=600, count=1)
    assert "email" in conn.describe("contacts").fields
    assert len(slept.waits) == 1


def test_the_sdk_itself_never_retries(
    connector: HubSpotConnector, control: Control, slept: RecordedSleep
) -> None:
    # urllib3's default Retry would silently repeat a GET answered 429 with Retry-After.
    control.fault(
        method="GET",
        path="^/crm/v3/objects/contacts$",
        kind="status",
        status=429,
        headers={"Retry-After": "1"},
        count=1,
    )
    before = control.calls(LIST)
    connector.check()
    assert control.calls(LIST) - before == 2  # the 429 and our own single retry
    assert slept.waits == [10.0]


def test_daily_limit_raises_budget_exhausted_without_retrying(
    connector: HubSpotConnector, control: Control, slept: RecordedSleep
) -> None:
    control.fault(
        path="/search$",
        kind="status",
        status=429,
        body={
            "status": "error",
            "message": "You have reached your daily limit.",
            "errorType": "RATE_LIMIT",
            "policyName": "DAILY",
        },
        count=5,
    )
    before = control.calls(SEARCH)
    with pytest.raises(BudgetExhaustedError) as raised:
        list(connector.pull("contacts", LONG_AGO, []))
    assert raised.value.resume_after is not None and raised.value.resume_after > 0
    assert control.calls(SEARCH) - before == 1
    assert slept.waits == []
    with pytest.raises(BudgetExhaustedError):  # parked locally: no further call reaches HubSpot
        connector.describe("contacts")


def test_retries_that_run_out_surface_as_retryable(
    sandbox: HubSpotSandbox, control: Control, slept: RecordedSleep
) -> None:
    control.fault(method="GET", path="^/crm/v3/properties/contacts$", kind="status", status=503, count=10)
    conn = make_connector(sandbox, slept)
    with pytest.raises(RetryableError):
        conn.describe("contacts")
    assert len(slept.waits) == 4  # five attempts


def test_usage_reflects_what_hubspot_reports(connector: HubSpotConnector, control: Control) -> None:
    connector.check()
    connector.describe("contacts")
    usage = connector.usage()
    budget = control.counters()["budget"]["daily"]
    assert usage.system == "hubspot"
    assert usage.limit == budget["max"]
    assert usage.used == budget["used"]


def test_client_side_window_keeps_syncd_under_the_burst_limit(
    control: Control, sandbox: HubSpotSandbox, slept: RecordedSleep
) -> None:
    control.settings(ten_secondly_limit=8, ten_second_window_ms=400)
    conn = make_connector(sandbox, slept, real_time_budget=True, burst_limit=8, burst_window=0.4)
    for _ in range(20):
        conn.check()
    assert slept.waits == []  # never a 429 to retry: the limiter waited instead


@pytest.mark.parametrize(("kind", "status"), [("status", 502), ("status", 500), ("reset", 500)])
def test_a_create_that_may_have_happened_is_not_repeated(
    connector: HubSpotConnector, control: Control, slept: RecordedSleep, kind: str, status: int
) -> None:
    control.fault(method="POST", path="/batch/create$", kind=kind, status=status, count=1)
    before = control.calls(BATCH_UPSERT)
    writes = [Write(op="create", ref="c", fields={"email": "maybe.created@example.com"})]
    with pytest.raises(RetryableError, match="not repeated"):
        connector.push("contacts", writes)
    assert control.calls(BATCH_UPSERT) - before == 1
    assert slept.waits == []


def test_a_create_refused_before_it_ran_is_retried(
    connector: HubSpotConnector, control: Control, slept: RecordedSleep
) -> None:
    control.fault(method="POST", path="/batch/create$", kind="status", status=429, body=TEN_SECONDLY, count=1)
    (result,) = connector.push(
        "contacts", [Write(op="create", ref="c", fields={"email": "later@example.com"})]
    )
    assert result.ok and result.created
    assert slept.waits == [10.0]
    emails = [p.get("email") for p in live_contacts(control).values()]
    assert emails.count("later@example.com") == 1


def test_https_with_the_configured_ca_works_and_an_untrusted_server_is_a_config_error(
    tmp_path: Path, slept: RecordedSleep
) -> None:
    with HubSpotSandbox(seed=7, contacts=20, tls=make_tls(tmp_path / "tls")) as secure:
        assert secure.base_url.startswith("https://")
        trusting = make_connector(secure, slept, ssl_ca_cert=secure.ca_file)
        trusting.check()
        trusting.close()
        other_ca = make_tls(tmp_path / "other")
        distrusting = make_connector(secure, slept, ssl_ca_cert=str(other_ca.ca_pem))
        with pytest.raises(ConfigError, match="ssl_ca_cert"):
            distrusting.check()
        distrusting.close()
    assert slept.waits == []
