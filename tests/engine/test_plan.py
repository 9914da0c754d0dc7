"""Planning a page: what is written, linked, retired and quarantined, from the page's inputs alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from syncd.connector import WriteResult
from syncd.core.issues import Issue, RecordRef
from syncd.core.match import IdentityLink, MatchPolicy
from syncd.core.normalize import NormalizedRecord
from syncd.core.resolve import FieldBase, FieldPlan
from syncd.core.rules import Side
from syncd.engine.plan import PageInput, SideSpec, finish, plan_page, quarantine_counts
from syncd.errors import IssueCategory, RecordError

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
CRM = SideSpec(Side.CRM, "salesforce", {"Lead": "Email", "Contact": "Email"})
HUB = SideSpec(Side.MARKETING, "hubspot", {"contacts": "email"})
TITLE = (FieldPlan("jobtitle", "Title", "jobtitle"),)
PLANS = {"Lead": TITLE, "Contact": TITLE}
TO_HUBSPOT = MatchPolicy(
    target_system="hubspot", create_object="contacts", object_preference=("Contact", "Lead")
)


def _sf(obj: str, id: str, email: str | None, title: str = "CTO", **kw: Any) -> NormalizedRecord:
    fields = {"Email": email, "Title": title}
    return NormalizedRecord(RecordRef("salesforce", obj, id), email, T0, fields, **kw)


def _hub(id: str, email: str, title: str = "CTO") -> NormalizedRecord:
    return NormalizedRecord(
        RecordRef("hubspot", "contacts", id), email, T0, {"email": email, "jobtitle": title}
    )


def _page(records: list[NormalizedRecord], **kw: Any) -> PageInput:
    defaults: dict[str, Any] = {
        "source": CRM,
        "target": HUB,
        "records": records,
        "links": [],
        "targets": [],
        "bases": {},
        "plans": PLANS,
        "policy": TO_HUBSPOT,
        "survivor_object": {"Lead": "Contact"},
    }
    return PageInput(**{**defaults, **kw})


def test_a_linked_target_the_lookup_did_not_return_is_tombstoned_and_nothing_is_written() -> None:
    lead = _sf("Lead", "00Q1", "ann@example.com", title="CEO")
    links = [
        IdentityLink(RecordRef("salesforce", "Lead", "00Q1"), "7"),
        IdentityLink(RecordRef("hubspot", "contacts", "501"), "7"),
    ]
    bases = {7: {"jobtitle": FieldBase(crm="CTO", marketing="CTO")}}
    plan = plan_page(_page([lead], links=links, bases=bases, targets=[]))
    assert plan.writes == []
    assert [(r.system, r.external_id, r.reason) for r in plan.record.retirements] == [
        ("hubspot", "501", "deleted")
    ]


def test_a_lead_merged_into_a_lead_is_retired_as_merged_and_a_converted_one_as_converted() -> None:
    merged = _sf("Lead", "00Q1", "ann@example.com", deleted=True, merged_into="00Q2")
    converted = _sf("Lead", "00Q3", "bob@example.com", merged_into="0033")
    plan = plan_page(_page([merged, converted]))
    retired = {(r.external_id, r.reason, r.replaced_by) for r in plan.record.retirements}
    assert retired == {("00Q1", "merged", "00Q2"), ("00Q3", "converted", "0033")}
    assert plan.writes == []


def test_a_retired_record_with_an_invalid_email_is_not_quarantined() -> None:
    def invalid(id: str) -> tuple[Issue, ...]:
        return (Issue(IssueCategory.INVALID_EMAIL, RecordRef("salesforce", "Lead", id), "bad address"),)

    converted = _sf("Lead", "00Q1", None, merged_into="0031", issues=invalid("00Q1"))
    live = _sf("Lead", "00Q2", None, issues=invalid("00Q2"))
    plan = plan_page(_page([converted, live]))
    assert {q.record_key for q in plan.record.quarantined} == {"salesforce/Lead/00Q2"}


def test_a_lead_sharing_its_email_with_a_contact_of_another_page_is_the_duplicate() -> None:
    lead = _sf("Lead", "00Q1", "ann@example.com")
    contact = _sf("Contact", "0031", "ann@example.com")
    plan = plan_page(_page([lead], peers=[contact], targets=[_hub("501", "ann@example.com")]))
    assert plan.writes == [] and plan.record.links == []
    (issue,) = plan.record.quarantined
    assert issue.category is IssueCategory.DUPLICATE and "Contact/0031" in issue.message


def test_without_the_peer_the_lead_is_matched_and_linked() -> None:
    lead = _sf("Lead", "00Q1", "ann@example.com")
    plan = plan_page(_page([lead], targets=[_hub("501", "ann@example.com")]))
    assert {(link.system, link.external_id) for link in plan.record.links} == {
        ("salesforce", "00Q1"),
        ("hubspot", "501"),
    }
    assert plan.record.quarantined == []


def test_a_first_sync_of_differing_titles_writes_the_newer_side() -> None:
    lead = NormalizedRecord(
        RecordRef("salesforce", "Lead", "00Q1"), "ann@example.com", T0, {"Email": "x", "Title": "CEO"}
    )
    older = NormalizedRecord(
        RecordRef("hubspot", "contacts", "501"),
        "ann@example.com",
        T0 - timedelta(days=1),
        {"email": "ann@example.com", "jobtitle": "CTO"},
    )
    plan = plan_page(_page([lead], targets=[older]))
    (write,) = plan.writes
    assert (write.system, write.write.id, dict(write.write.fields)) == ("hubspot", "501", {"jobtitle": "CEO"})
    assert write.bases["jobtitle"] == FieldBase(crm="CEO", marketing="CEO")


def test_finish_links_created_records_and_quarantines_rejected_writes_with_the_remotes_words() -> None:
    new_person = _sf("Lead", "00Q1", "ann@example.com", title="CEO")
    changed = _sf("Lead", "00Q2", "bob@example.com", title="CFO")
    links = [
        IdentityLink(RecordRef("salesforce", "Lead", "00Q2"), "8"),
        IdentityLink(RecordRef("hubspot", "contacts", "502"), "8"),
    ]
    bases = {8: {"jobtitle": FieldBase(crm="CTO", marketing="CTO")}}
    plan = plan_page(
        _page(
            [new_person, changed], links=links, bases=bases, targets=[_hub("502", "bob@example.com", "CTO")]
        )
    )
    assert sorted(w.write.op for w in plan.writes) == ["update", "upsert"]
    rejection = RecordError(
        "HubSpot rejected contact 502: INVALID_OPTION",
        category=IssueCategory.VALIDATION,
        remote_code="INVALID_OPTION",
        remote_message="Property values were not valid",
    )
    results = {
        i: WriteResult(w.write.ref, ok=True, id="901", created=True)
        if w.write.op == "upsert"
        else WriteResult(w.write.ref, ok=False, id="502", error=rejection)
        for i, w in enumerate(plan.writes)
    }
    record, counts = finish(plan, results)
    assert counts == {"hubspot.created": 1}
    assert ("hubspot", "contacts", "901", "ann@example.com", None) in {
        (link.system, link.object, link.external_id, link.email, link.person_id) for link in record.links
    }
    (issue,) = record.quarantined
    assert (issue.system, issue.record_key, issue.remote_code) == (
        "hubspot",
        "bob@example.com",
        "INVALID_OPTION",
    )
    assert issue.remote_message == "Property values were not valid"
    # The rejected person keeps their old bases, so the change is not mistaken for an echo later.
    assert {(b.entity_key, b.email) for b in record.bases} == {(None, "ann@example.com")}
    assert quarantine_counts(record) == {"hubspot.quarantined": 1, "quarantined": 1}
