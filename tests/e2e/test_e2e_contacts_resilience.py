"""The contact sync under crashes, API faults, rejected records, a spent Salesforce allowance and dry runs.

Every test reseeds both simulators with a few hundred people and starts from an empty store.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.cli.compose import contact_flow
from syncd.core.normalize import canonical_email
from syncd.engine.contacts import FlowSettings
from syncd.engine.runs import RunSummary
from syncd.engine.state import CursorMove, PageRecord, SyncState
from syncd.errors import ConfigError
from syncd.store.models import Cursor, Run

from .conftest import FAST_RETRY, MAPPING, Never, World

PEOPLE = 250


def _email(record: dict[str, Any]) -> str | None:
    raw = record["properties"].get("email") if "properties" in record else record.get("Email")
    return canonical_email(raw)


def _assert_everyone_once_on_both_sides(world: World, salesforce_before: list[dict[str, Any]]) -> None:
    hubspot = Counter(e for c in world.hubspot_contacts() if (e := _email(c)))
    assert [e for e, n in hubspot.items() if n > 1] == []
    salesforce = world.salesforce_people()
    salesforce_emails = {_email(p) for p in salesforce} - {None}
    assert set(hubspot) == salesforce_emails
    old_ids = {p["Id"] for p in salesforce_before}
    new = Counter(_email(p) for p in salesforce if p["Id"] not in old_ids)
    assert [e for e, n in new.items() if n > 1] == [], "a replay created a Lead twice"
    held = {e for p in salesforce_before if (e := _email(p))}
    assert [e for e in new if e in held] == [], "a Lead was created for someone Salesforce already had"


def _assert_quiet(world: World) -> None:
    world.let_time_pass(120)
    summary = world.run()
    assert summary.status == "succeeded", summary.error
    assert not [k for k in summary.counts if k.endswith(("created", "updated"))], summary.counts


@pytest.fixture
def fresh(world: World) -> World:
    world.reseed(seed=23, people=PEOPLE)
    return world


def test_a_crash_between_push_and_record_replays_the_page_without_duplicates(
    fresh: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    salesforce_before = fresh.salesforce_people()
    record_page = SyncState.record_page
    crashed: list[str] = []

    def crash_once_per_system(self: SyncState, run_id: int, page: PageRecord, now: Any) -> dict[str, int]:
        # Die after the first page that created records in a system was pushed, before it is recorded.
        created = {entry.system for entry in page.log if entry.action == "create"}
        for system in sorted(created - set(crashed)):
            crashed.append(system)
            raise KeyboardInterrupt(f"process killed after pushing creates in {system}")
        return record_page(self, run_id, page, now)

    monkeypatch.setattr(SyncState, "record_page", crash_once_per_system)
    runs: list[RunSummary] = []
    for _ in range(3):
        try:
            runs.append(fresh.run())
        except KeyboardInterrupt:
            fresh.let_time_pass(30)
            continue
        break
    assert sorted(crashed) == ["hubspot", "salesforce"]
    assert runs and runs[-1].status == "succeeded", runs[-1].error if runs else "no run completed"
    _assert_everyone_once_on_both_sides(fresh, salesforce_before)
    _assert_quiet(fresh)


RATE_LIMITED = {
    "status": "error",
    "message": "You have reached your ten_secondly_rolling limit.",
    "errorType": "RATE_LIMIT",
    "correlationId": "5a1e0b1c-0000-4000-8000-000000000000",
    "policyName": "TEN_SECONDLY_ROLLING",
    "requestId": "0f1e2d3c-0000-4000-8000-000000000000",
}


def test_rate_limits_server_errors_and_resets_on_both_sides_lose_nothing(
    fresh: World, caplog: pytest.LogCaptureFixture
) -> None:
    salesforce_before = fresh.salesforce_people()
    hubspot_api, salesforce_api = r"^/crm/", r"^/services/data/"
    # A create cut off in transit is never resent by the connector (it may have landed): the flow
    # replays the page, whose lookups decide what still needs creating.
    fresh.fault("salesforce", method="POST", path=r"/composite/sobjects$", kind="reset", count=1)
    fresh.fault("hubspot", path=hubspot_api, kind="status", status=429, body=RATE_LIMITED, probability=0.12)
    for status in (500, 502, 503):
        fresh.fault("hubspot", path=hubspot_api, kind="status", status=status, probability=0.04)
        fresh.fault("salesforce", path=salesforce_api, kind="status", status=status, probability=0.05)
    fresh.fault("hubspot", path=hubspot_api, kind="reset", probability=0.04)
    fresh.fault("salesforce", path=salesforce_api, kind="reset", probability=0.06)
    try:
        summary = fresh.run()
        faults = {s: fresh.get(s, "/__sandbox/faults")["faults"] for s in ("hubspot", "salesforce")}
    finally:
        fresh.clear_faults()
    assert summary.status == "succeeded", summary.error
    assert all(faults.values()), "the faults stayed armed for the whole run"
    assert "replaying it" in caplog.text
    _assert_everyone_once_on_both_sides(fresh, salesforce_before)
    _assert_quiet(fresh)


def test_rejected_records_are_quarantined_with_the_remotes_words_while_the_rest_sync(fresh: World) -> None:
    first = fresh.run()
    assert first.status == "succeeded", first.error
    fresh.post("salesforce", "/__sandbox/settings", {"disqualification_rule": True})
    people = _linked_leads(fresh)
    too_long, disqualified, locked, fine = people[:4]
    _edit_hubspot(fresh, too_long, {"jobtitle": "Head of " + "Very " * 40 + "Important Things"})
    _edit_hubspot(fresh, disqualified, {"lifecyclestage": "other"})
    _edit_hubspot(fresh, locked, {"city": "Lisbon"})
    _edit_hubspot(fresh, fine, {"city": "Porto"})
    # Locked for as many writes as the connector tries within one run.
    times = FAST_RETRY.max_attempts
    fresh.post("salesforce", "/__sandbox/records/lock", {"ids": [locked["salesforce"][1]], "times": times})
    fresh.let_time_pass(60)
    summary = fresh.run()
    assert summary.status == "succeeded", summary.error
    assert summary.counts.get("salesforce.updated") == 1
    assert _salesforce(fresh, fine)["City"] == "Porto"
    issues = {i.payload["id"] if i.payload else None: i for i in fresh.issues() if i.system == "salesforce"}
    expected = {
        too_long["salesforce"][1]: ("validation", "STRING_TOO_LONG"),
        disqualified["salesforce"][1]: ("validation", "FIELD_CUSTOM_VALIDATION_EXCEPTION"),
        locked["salesforce"][1]: ("other", "UNABLE_TO_LOCK_ROW"),  # no category for transient ones yet
    }
    for record_id, (category, code) in expected.items():
        issue = issues[record_id]
        assert (issue.category, issue.remote_code) == (category, code), issue.message
        assert code in issue.message and issue.remote_message, issue.message
    # The next run tries the refused writes again: the lock is gone, the invalid values still fail.
    fresh.let_time_pass(60)
    retry = fresh.run()
    assert retry.status == "succeeded", retry.error
    assert _salesforce(fresh, locked)["City"] == "Lisbon"
    still_open = {i.payload["id"]: i for i in fresh.issues() if i.system == "salesforce" and i.payload}
    assert set(still_open) == {too_long["salesforce"][1], disqualified["salesforce"][1]}
    assert all(i.retry_count == 1 for i in still_open.values())


def test_an_exhausted_salesforce_allowance_parks_the_run_and_a_later_run_completes(fresh: World) -> None:
    salesforce_before = fresh.salesforce_people()
    budget = fresh.get("salesforce", "/__sandbox/counters")["budget"]
    # Other integrations spent the org's allowance but for a handful of calls.
    fresh.post("salesforce", "/__sandbox/api-usage", {"calls": budget["api_limit"] - budget["api_usage"] - 4})
    parked = fresh.run()
    assert parked.status == "parked", parked.error
    assert "daily API limit" in (parked.error or ""), parked.error
    with Session(fresh.store) as session:
        run = session.get(Run, parked.run_id)
        assert run is not None and run.status == "parked"
        cursors = {(c.system, c.object): c for c in session.scalars(select(Cursor))}
    # Every Salesforce record at or before a stored cursor was recorded (linked or quarantined).
    snapshot = fresh.get("salesforce", "/__sandbox/snapshot")["objects"]
    known = {i.external_id for i in fresh.identities()} | {i.record_key for i in fresh.issues()}
    unrecorded = []
    for (system, sobject), cursor in cursors.items():
        if system != "salesforce":
            continue
        position = (cursor.position_at, cursor.position_id or "")
        for row in snapshot[sobject]:
            stamp = datetime.fromisoformat(row["SystemModstamp"].replace("+0000", "+00:00"))
            if (stamp, row["Id"]) > position or row.get("IsConverted") or row.get("IsDeleted"):
                continue
            if not {row["Id"], f"salesforce/{sobject}/{row['Id']}", _email(row)} & known:
                unrecorded.append(row["Id"])
    assert unrecorded == []
    # ...and the page it parked in was not recorded: something is left for the next run.
    assert len(cursors) < 3
    # The rolling window frees the allowance; the connector asks Salesforce again after its recheck delay.
    fresh.delete("salesforce", "/__sandbox/api-usage")
    fresh.let_time_pass(901)
    resumed = fresh.run()
    assert resumed.status == "succeeded", resumed.error
    _assert_everyone_once_on_both_sides(fresh, salesforce_before)


def test_a_dry_run_writes_nothing_moves_no_cursor_and_reports_planned_writes(fresh: World) -> None:
    hubspot_before = {c["id"]: c["updatedAt"] for c in fresh.hubspot_contacts()}
    salesforce_before = {p["Id"]: p["SystemModstamp"] for p in fresh.salesforce_people()}
    fresh.reset_counters()
    summary = fresh.run(fresh.flow(FlowSettings(dry_run=True, lag=timedelta(seconds=30))))
    assert summary.status == "succeeded", summary.error
    assert summary.planned.get("hubspot contacts upsert", 0) > 0, summary.planned
    assert summary.planned.get("salesforce Lead create", 0) > 0, summary.planned
    assert len(summary.samples) == 5 and all(
        s.split()[0] in {"create", "upsert", "update"} for s in summary.samples
    )
    assert {c["id"]: c["updatedAt"] for c in fresh.hubspot_contacts()} == hubspot_before
    assert {p["Id"]: p["SystemModstamp"] for p in fresh.salesforce_people()} == salesforce_before
    assert not [k for k in fresh.counters("salesforce") if k.endswith("/composite/sobjects")]
    with Session(fresh.store) as session:
        assert list(session.scalars(select(Cursor))) == []
        assert list(session.scalars(select(Run))) == []


def test_a_bad_mapping_is_reported_with_every_problem_and_its_line(fresh: World, tmp_path: Path) -> None:
    text = MAPPING.read_text()
    text = text.replace("hubspot: jobtitle", "hubspot: job_title_typo")
    text = text.replace("salesforce: Phone", "salesforce: Phone_Typo__c")
    text = text.replace(
        "  email_optout:\n",
        "  created:\n    hubspot: createdate\n    salesforce: CreatedDate\n    direction: to_crm\n"
        "    rule: crm_wins\n\n  email_optout:\n",
    )
    text = text.replace("other: Closed - Not Converted", "other: Gone Fishing")
    bad = tmp_path / "contacts.yaml"
    bad.write_text(text)
    lines = bad.read_text().splitlines()

    def block(field: str) -> range:
        """The lines of one field's entry in the mapping file."""
        start = lines.index(f"  {field}:") + 1
        end = next(
            (
                i
                for i, line in enumerate(lines[start:], start + 1)
                if line.startswith("  ") and line[2] != " "
            ),
            len(lines) + 1,
        )
        return range(start, end)

    assert fresh.runtime is not None
    with pytest.raises(ConfigError) as caught:
        contact_flow(fresh.runtime, bad)
    problems = caught.value.problems
    expected = {  # what each problem names, and the field entry it must point into
        "unknown HubSpot property 'job_title_typo'": block("jobtitle"),
        "unknown Salesforce field Lead.Phone_Typo__c": block("phone"),
        "Lead.CreatedDate is read-only": block("created"),
        "'Gone Fishing' is not accepted by the restricted picklist": block("lifecycle"),
    }
    for what, where in expected.items():
        found = [p for p in problems if what in p]
        assert found, (what, problems)
        line = int(found[0].split(f"{bad}:", 1)[1].split(":", 1)[0])
        assert line in where, (what, line, where)


def _linked_leads(world: World) -> list[dict[str, tuple[str, str]]]:
    people: dict[int, dict[str, tuple[str, str]]] = {}
    for identity in world.identities():
        if identity.active:
            people.setdefault(identity.person_id, {})[identity.system] = (
                identity.object,
                identity.external_id,
            )
    return [ids for ids in people.values() if len(ids) == 2 and ids["salesforce"][0] == "Lead"]


def _edit_hubspot(world: World, ids: dict[str, tuple[str, str]], properties: dict[str, Any]) -> None:
    world.post(
        "hubspot", f"/__sandbox/objects/contacts/{ids['hubspot'][1]}/properties", {"properties": properties}
    )


def _salesforce(world: World, ids: dict[str, tuple[str, str]]) -> dict[str, Any]:
    sobject, record_id = ids["salesforce"]
    snapshot = world.get("salesforce", "/__sandbox/snapshot")
    return next(r for r in snapshot["objects"][sobject] if r["Id"] == record_id)


def test_a_backfill_counts_what_it_will_read(fresh: World) -> None:
    flow = fresh.flow()
    pending = flow.pending()
    read: Counter[tuple[str, str]] = Counter()

    summary = flow.run("backfill", Never(), progress=lambda system, obj, n: read.update({(system, obj): n}))

    assert summary.status == "succeeded", summary.error
    salesforce = {key for key in pending if key[0] == "salesforce"}
    assert {k: read[k] for k in salesforce} == {k: pending[k] for k in salesforce}
    # The HubSpot leg runs second; its listing ends with the page reaching the last contact created
    # before the run, so the contacts the Salesforce leg just created are not read back (but for the
    # rest of that page).
    created = summary.counts.get("hubspot.created", 0)
    hubspot = ("hubspot", "contacts")
    assert created > 0
    assert pending[hubspot] <= read[hubspot] < pending[hubspot] + created


def test_a_backfill_stopped_at_a_page_boundary_resumes_where_it_stopped(fresh: World) -> None:
    salesforce_before = fresh.salesforce_people()
    flow = fresh.flow()
    to_read = sum(flow.pending().values())
    stop = threading.Event()
    pages: list[int] = []

    def stop_after_the_first_page(system: str, obj: str, n: int) -> None:
        pages.append(n)
        stop.set()

    stopped = flow.run("backfill", stop, progress=stop_after_the_first_page)
    assert stopped.status == "stopped"
    assert len(pages) == 1
    left = sum(flow.pending().values())
    # The committed page is not read again; the contacts it created in HubSpot are still to come.
    assert 0 < left <= to_read - pages[0] + stopped.counts.get("hubspot.created", 0)

    resumed = flow.run("backfill", Never())

    assert resumed.status == "succeeded", resumed.error
    _assert_everyone_once_on_both_sides(fresh, salesforce_before)
    _assert_quiet(fresh)


def _calls(world: World, system: str, *fragments: str) -> int:
    """Calls served by `system` whose endpoint contains every fragment."""
    return sum(n for endpoint, n in world.counters(system).items() if all(f in endpoint for f in fragments))


def test_a_backfill_gathers_pages_into_units_and_batches_calls_to_the_api_maxima(world: World) -> None:
    world.reseed(seed=31, people=1000)
    salesforce_before = world.salesforce_people()
    hubspot_before = len(world.hubspot_contacts())
    flow = world.flow()  # its describe calls are not the backfill's
    world.reset_counters()

    summary = world.run(flow)

    assert summary.status == "succeeded", summary.error
    c = summary.counts
    created, updated = c.get("salesforce.created", 0), c.get("salesforce.updated", 0)
    assert created > 100, c  # page by page, they took one collection per HubSpot page
    salesforce = sum(world.counters("salesforce").values())
    # The probe of both objects; lookups in Lead and Contact by email for each leg, five queries
    # per Composite call; collections of 200. With a unit per page (unit_size=1) it took 27 here.
    assert salesforce <= 1 + 4 + -(-created // 200) + -(-updated // 200), world.counters("salesforce")
    # HubSpot: the listing in pages of 100 (the contacts the first leg created are not listed back)
    # and one search bounding it; batch reads and writes of 100, a partial batch per unit at most.
    assert _calls(world, "hubspot", "GET ") == -(-hubspot_before // 100)
    assert _calls(world, "hubspot", "/search") == 1
    batches = -(-len(salesforce_before) // 100) + sum(
        -(-c.get(f"hubspot.{op}", 0) // 100) for op in ("created", "updated")
    )
    assert _calls(world, "hubspot", "/batch/") <= batches + 2, world.counters("hubspot")
    _assert_everyone_once_on_both_sides(world, salesforce_before)
    _assert_quiet(world)


def test_a_crash_inside_a_later_unit_replays_that_unit_only_without_duplicates(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.reseed(seed=23, people=400)
    salesforce_before = world.salesforce_people()
    hubspot_before = len(world.hubspot_contacts())
    # Small units: the HubSpot leg's listing (pages of 100) makes several of them.
    flow = world.flow(FlowSettings(lag=timedelta(seconds=30), unit_size=20))
    record_page = SyncState.record_page
    moved: list[CursorMove] = []

    def crash_in_a_later_unit_creating_leads(
        self: SyncState, run_id: int, page: PageRecord, now: Any
    ) -> dict[str, int]:
        if page.cursor is not None and page.cursor.system == "hubspot":
            if moved and any(e.system == "salesforce" and e.action == "create" for e in page.log):
                raise KeyboardInterrupt("process killed after pushing a unit's creates")
            moved.append(page.cursor)
        return record_page(self, run_id, page, now)

    monkeypatch.setattr(SyncState, "record_page", crash_in_a_later_unit_creating_leads)
    with pytest.raises(KeyboardInterrupt):
        flow.run("backfill", Never())
    # The earlier units' listing position was committed with them; the crashed unit's was not.
    cursor = SyncState(world.store, flow.name).cursor("hubspot", "contacts")
    assert cursor is not None and cursor == moved[-1].cursor
    assert cursor.last_id is not None and cursor.last_id.startswith("backfill:")
    read: Counter[str] = Counter()

    resumed = flow.run("backfill", Never(), progress=lambda system, obj, n: read.update({system: n}))

    assert resumed.status == "succeeded", resumed.error
    # A full listing reads every contact there was (and the rest of its last page): the replay
    # starts after the first unit's pages instead.
    assert 0 < read["hubspot"] < hubspot_before
    _assert_everyone_once_on_both_sides(world, salesforce_before)
    _assert_quiet(world)


def test_a_large_salesforce_pull_reads_through_bulk_api_and_syncs_as_soql_paging_would(world: World) -> None:
    outcomes = {}
    for threshold in (10_000_000, 100):
        # SOQL pages of 200; past the threshold, what follows the first page comes from a query job.
        world.reseed(
            seed=37, people=700, salesforce_connector={"page_size": 200, "bulk_threshold": threshold}
        )
        salesforce_before = world.salesforce_people()
        # Small units with Bulk API: its results page is split into several units.
        unit_size = 2000 if threshold > 100 else 50
        flow = world.flow(FlowSettings(lag=timedelta(seconds=30), unit_size=unit_size))
        world.reset_counters()
        summary = world.run(flow)
        assert summary.status == "succeeded", summary.error
        jobs = _calls(world, "salesforce", "POST ", "/jobs/query")
        outcomes[threshold] = (summary.counts, jobs)
        _assert_everyone_once_on_both_sides(world, salesforce_before)
        _assert_quiet(world)
    (soql, soql_jobs), (bulk, bulk_jobs) = outcomes[10_000_000], outcomes[100]
    assert (soql_jobs, bulk_jobs) == (0, 1)  # only Lead has more than 100 records beyond its first page
    assert bulk == soql
