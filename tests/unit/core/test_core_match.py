"""Match: identity before email, Contact before Lead, duplicates, ambiguity, merges and email changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncd.connector import FieldType, RemoteRecord
from syncd.core.issues import RecordRef
from syncd.core.match import (
    Decision,
    IdentityLink,
    MatchOutcome,
    MatchPolicy,
    PersonRecord,
    match_page,
    person_of,
)
from syncd.core.normalize import normalize_record
from syncd.core.rules import SurvivorRule
from syncd.errors import IssueCategory

T0 = datetime(2024, 5, 1, tzinfo=UTC)
TO_SALESFORCE = MatchPolicy(
    target_system="salesforce", create_object="Lead", object_preference=("Contact", "Lead")
)
TO_HUBSPOT = MatchPolicy(
    target_system="hubspot", create_object="contacts", object_preference=("Contact", "Lead")
)


def hs(
    id_: str, email: str | None, *, minutes: int = 0, created: int | None = None, **kw: object
) -> PersonRecord:
    return _record("hubspot", "contacts", id_, email, minutes, created, **kw)


def lead(
    id_: str, email: str | None, *, minutes: int = 0, created: int | None = None, **kw: object
) -> PersonRecord:
    return _record("salesforce", "Lead", id_, email, minutes, created, **kw)


def contact(
    id_: str, email: str | None, *, minutes: int = 0, created: int | None = None, **kw: object
) -> PersonRecord:
    return _record("salesforce", "Contact", id_, email, minutes, created, **kw)


def _record(
    system: str, obj: str, id_: str, email: str | None, minutes: int, created: int | None, **kw: object
) -> PersonRecord:
    return PersonRecord(
        ref=RecordRef(system, obj, id_),
        email=email,
        modified_at=T0 + timedelta(minutes=minutes),
        created_at=T0 + timedelta(minutes=created) if created is not None else None,
        **kw,  # type: ignore[arg-type]
    )


def link(record: PersonRecord, person: str, *, active: bool = True) -> IdentityLink:
    return IdentityLink(record.ref, person, active)


def one(outcomes: tuple[MatchOutcome, ...], source: PersonRecord) -> MatchOutcome:
    return next(o for o in outcomes if o.source == source.ref)


def test_identity_link_beats_an_email_match() -> None:
    source = hs("1", "jane@x.com")
    linked_lead = lead("00Q1", "old@x.com")
    email_contact = contact("0031", "jane@x.com")
    result = match_page(
        [source], [link(source, "p1"), link(linked_lead, "p1")], [linked_lead, email_contact], TO_SALESFORCE
    )
    outcome = one(result.outcomes, source)
    assert outcome.decision is Decision.LINKED
    assert outcome.target == linked_lead.ref and outcome.person_id == "p1"


def test_unlinked_record_is_matched_by_email_and_joins_the_target_person() -> None:
    source = hs("1", "jane@x.com")
    target = lead("00Q1", "jane@x.com")
    result = match_page([source], [link(target, "p7")], [target], TO_SALESFORCE)
    outcome = one(result.outcomes, source)
    assert (outcome.decision, outcome.target, outcome.person_id) == (Decision.MATCHED, target.ref, "p7")


def test_an_existing_contact_wins_over_a_lead_with_the_same_email() -> None:
    source = hs("1", "jane@x.com")
    result = match_page(
        [source], [], [lead("00Q1", "jane@x.com"), contact("0031", "jane@x.com")], TO_SALESFORCE
    )
    outcome = one(result.outcomes, source)
    assert outcome.decision is Decision.MATCHED
    assert outcome.target == RecordRef("salesforce", "Contact", "0031")
    assert outcome.person_id is None


def test_no_candidate_means_create_the_configured_object() -> None:
    source = hs("1", "new@x.com")
    result = match_page([source], [], [lead("00Q1", "other@x.com")], TO_SALESFORCE)
    outcome = one(result.outcomes, source)
    assert (outcome.decision, outcome.create_object, outcome.target) == (Decision.CREATE, "Lead", None)


def test_create_as_contact_when_an_account_matches_the_email_domain() -> None:
    policy = MatchPolicy("salesforce", "Lead", ("Contact", "Lead"), domain_object="Contact")
    known, unknown = hs("1", "a@acme.com"), hs("2", "b@other.com")
    result = match_page([known, unknown], [], [], policy, account_domains={"acme.com": "001A"})
    by_source = result.by_source()
    assert (by_source[known.ref].create_object, by_source[known.ref].account_id) == ("Contact", "001A")
    assert (by_source[unknown.ref].create_object, by_source[unknown.ref].account_id) == ("Lead", None)


def test_a_linked_person_without_a_target_record_is_created_for_that_person() -> None:
    source = hs("1", "jane@x.com")
    result = match_page([source], [link(source, "p1")], [], TO_SALESFORCE)
    outcome = one(result.outcomes, source)
    assert (outcome.decision, outcome.person_id) == (Decision.CREATE, "p1")


@pytest.mark.parametrize(
    ("rule", "survivor"),
    [
        (SurvivorRule.MOST_RECENTLY_MODIFIED, "00Q2"),  # modified at +30
        (SurvivorRule.OLDEST, "00Q3"),  # created at -60
    ],
)
def test_duplicates_inside_one_system_keep_a_deterministic_survivor(
    rule: SurvivorRule, survivor: str
) -> None:
    policy = MatchPolicy("hubspot", "contacts", ("Contact", "Lead"), survivor=rule)
    records = [
        lead("00Q1", "dup@x.com", minutes=10, created=-10),
        lead("00Q2", "dup@x.com", minutes=30, created=-5),
        lead("00Q3", "dup@x.com", minutes=20, created=-60),
    ]
    result = match_page(records, [], [], policy)
    by_source = result.by_source()
    kept = RecordRef("salesforce", "Lead", survivor)
    assert by_source[kept].decision is Decision.CREATE
    losers = [o for o in result.outcomes if o.source != kept]
    assert all(o.decision is Decision.DUPLICATE and o.survivor == kept for o in losers)
    assert sorted(i.category for i in result.issues) == [IssueCategory.DUPLICATE] * 2
    assert all(kept.id in i.reason for i in result.issues)


@pytest.mark.parametrize("rule", list(SurvivorRule))
def test_duplicate_ties_are_broken_by_the_smallest_id(rule: SurvivorRule) -> None:
    policy = MatchPolicy("hubspot", "contacts", survivor=rule)
    records = [lead("00Q9", "dup@x.com", created=0), lead("00Q5", "dup@x.com", created=0)]
    result = match_page(records, [], [], policy)
    assert result.by_source()[records[1].ref].decision is Decision.CREATE
    assert result.by_source()[records[0].ref].survivor == records[1].ref


def test_a_duplicate_outside_the_page_is_found_through_peers() -> None:
    page = [lead("00Q1", "dup@x.com", minutes=1)]
    peer = lead("00Q2", "dup@x.com", minutes=5)
    result = match_page(page, [], [], TO_HUBSPOT, peers=[peer])
    outcome = result.outcomes[0]
    assert (outcome.decision, outcome.survivor) == (Decision.DUPLICATE, peer.ref)


def test_in_the_source_a_contact_survives_over_a_newer_lead_with_the_same_email() -> None:
    older_contact = contact("0031", "jane@x.com", minutes=0)
    newer_lead = lead("00Q1", "jane@x.com", minutes=50)
    result = match_page([older_contact, newer_lead], [], [], TO_HUBSPOT)
    assert result.by_source()[newer_lead.ref].decision is Decision.DUPLICATE
    assert result.by_source()[older_contact.ref].decision is Decision.CREATE


def test_several_target_candidates_without_a_rule_are_ambiguous_never_a_guess() -> None:
    source = hs("1", "jane@x.com")
    targets = [lead("00Q1", "jane@x.com"), lead("00Q2", "jane@x.com")]
    result = match_page([source], [], targets, TO_SALESFORCE)
    outcome = one(result.outcomes, source)
    assert outcome.decision is Decision.AMBIGUOUS
    assert outcome.target is None and outcome.create_object is None
    assert outcome.issue is not None and outcome.issue.category is IssueCategory.AMBIGUOUS_MATCH
    assert "00Q1" in outcome.issue.reason and "00Q2" in outcome.issue.reason


def test_several_target_candidates_with_a_rule_pick_the_survivor() -> None:
    policy = MatchPolicy("salesforce", "Lead", ("Contact", "Lead"), target_survivor=SurvivorRule.OLDEST)
    source = hs("1", "jane@x.com")
    targets = [lead("00Q1", "jane@x.com", created=5), lead("00Q2", "jane@x.com", created=1)]
    outcome = match_page([source], [], targets, policy).outcomes[0]
    assert (outcome.decision, outcome.target) == (Decision.MATCHED, targets[1].ref)


def test_a_converted_lead_is_followed_to_its_contact() -> None:
    source = hs("1", "jane@x.com")
    converted_contact = contact("0031", "jane@x.com")
    converted = lead("00Q1", "jane@x.com", merged_into=converted_contact.ref)
    result = match_page(
        [source], [link(source, "p1"), link(converted, "p1")], [converted, converted_contact], TO_SALESFORCE
    )
    outcome = one(result.outcomes, source)
    assert (outcome.decision, outcome.target, outcome.followed) == (
        Decision.LINKED,
        converted_contact.ref,
        (converted.ref,),
    )


def test_merge_chains_are_followed_for_email_candidates() -> None:
    source = hs("1", "jane@x.com")
    master = contact("0033", "jane@x.com")
    middle = contact("0032", "jane@x.com", merged_into=master.ref, deleted=True)
    loser = contact("0031", "jane@x.com", merged_into=middle.ref, deleted=True)
    outcome = match_page([source], [], [loser, middle, master], TO_SALESFORCE).outcomes[0]
    assert (outcome.decision, outcome.target) == (Decision.MATCHED, master.ref)
    assert outcome.followed == (loser.ref, middle.ref)


def test_a_merged_source_record_points_at_its_survivor() -> None:
    survivor = hs("9", "jane@x.com")
    merged = hs("1", "jane@x.com", merged_into=survivor.ref)
    result = match_page([merged], [link(merged, "p1")], [], TO_SALESFORCE, peers=[survivor])
    outcome = result.outcomes[0]
    assert (outcome.decision, outcome.survivor, outcome.person_id) == (Decision.MERGED, survivor.ref, "p1")


def test_a_deleted_source_record_is_reported_with_its_person_and_target() -> None:
    gone = hs("1", "jane@x.com", deleted=True)
    target = lead("00Q1", "jane@x.com")
    outcome = match_page([gone], [link(gone, "p1"), link(target, "p1")], [target], TO_SALESFORCE).outcomes[0]
    assert (outcome.decision, outcome.person_id, outcome.target) == (Decision.DELETED, "p1", target.ref)


def test_a_deleted_linked_target_is_reported_not_recreated() -> None:
    source = hs("1", "jane@x.com")
    target = lead("00Q1", "jane@x.com", deleted=True)
    outcome = match_page(
        [source], [link(source, "p1"), link(target, "p1")], [target], TO_SALESFORCE
    ).outcomes[0]
    assert (outcome.decision, outcome.target) == (Decision.TARGET_DELETED, target.ref)


def test_an_email_change_on_a_linked_record_updates_instead_of_creating() -> None:
    source = hs("1", "jane.new@x.com")
    target = lead("00Q1", "jane.old@x.com")
    outcome = match_page(
        [source], [link(source, "p1"), link(target, "p1")], [target], TO_SALESFORCE
    ).outcomes[0]
    assert (outcome.decision, outcome.target, outcome.email_changed) == (Decision.LINKED, target.ref, True)
    assert outcome.email_held_by is None and outcome.issue is None


def test_an_email_change_onto_an_address_another_target_holds_is_flagged() -> None:
    source = hs("1", "taken@x.com")
    target = lead("00Q1", "old@x.com")
    holder = contact("0039", "taken@x.com")
    result = match_page([source], [link(source, "p1"), link(target, "p1")], [target, holder], TO_SALESFORCE)
    outcome = result.outcomes[0]
    assert (outcome.decision, outcome.target, outcome.email_held_by) == (
        Decision.LINKED,
        target.ref,
        holder.ref,
    )
    assert outcome.issue is not None and outcome.issue.category is IssueCategory.DUPLICATE


def test_a_record_without_email_or_link_is_unmatchable() -> None:
    outcome = match_page([hs("1", None)], [], [], TO_SALESFORCE).outcomes[0]
    assert outcome.decision is Decision.UNMATCHABLE
    assert outcome.issue is not None and outcome.issue.category is IssueCategory.INVALID_EMAIL


def test_a_linked_record_without_email_still_follows_its_link() -> None:
    source = hs("1", None)
    target = lead("00Q1", "jane@x.com")
    outcome = match_page(
        [source], [link(source, "p1"), link(target, "p1")], [target], TO_SALESFORCE
    ).outcomes[0]
    assert (outcome.decision, outcome.target, outcome.email_changed) == (Decision.LINKED, target.ref, False)


def test_inactive_links_are_history_and_do_not_link() -> None:
    source = hs("1", "jane@x.com")
    old_target = lead("00Q1", "jane@x.com")
    result = match_page(
        [source],
        [link(source, "p1", active=False), link(old_target, "p1", active=False)],
        [old_target],
        TO_SALESFORCE,
    )
    outcome = result.outcomes[0]
    assert (outcome.decision, outcome.person_id) == (Decision.MATCHED, None)


def test_a_new_record_sharing_a_linked_persons_email_is_a_duplicate_not_a_second_link() -> None:
    existing = lead("00Q1", "old-linked@x.com")
    target = hs("1", "jane@x.com")
    newcomer = lead("00Q2", "jane@x.com")
    outcome = match_page(
        [newcomer], [link(existing, "p1"), link(target, "p1")], [target], TO_HUBSPOT
    ).outcomes[0]
    assert (outcome.decision, outcome.survivor, outcome.person_id) == (Decision.DUPLICATE, existing.ref, "p1")


def test_a_duplicate_survivor_takes_over_the_losers_link() -> None:
    loser = lead("00Q1", "jane@x.com", minutes=0)
    winner = lead("00Q2", "jane@x.com", minutes=9)
    target = hs("1", "jane@x.com")
    links = [link(loser, "p1"), link(target, "p1")]
    result = match_page([loser, winner], links, [target], TO_HUBSPOT)
    by_source = result.by_source()
    assert by_source[loser.ref].decision is Decision.DUPLICATE
    won = by_source[winner.ref]
    assert (won.decision, won.target, won.person_id, won.supersedes) == (
        Decision.MATCHED,
        target.ref,
        "p1",
        (loser.ref,),
    )


def test_source_and_target_linked_to_different_people_is_ambiguous() -> None:
    source = hs("1", "jane@x.com")
    target = lead("00Q1", "jane@x.com")
    outcome = match_page(
        [source], [link(source, "p1"), link(target, "p2")], [target], TO_SALESFORCE
    ).outcomes[0]
    assert outcome.decision is Decision.AMBIGUOUS


def test_a_person_linked_to_two_live_leads_is_ambiguous() -> None:
    source = hs("1", "jane@x.com")
    a, b = lead("00Q1", "jane@x.com"), lead("00Q2", "jane@x.com")
    links = [link(source, "p1"), link(a, "p1"), link(b, "p1")]
    outcome = match_page([source], links, [a, b], TO_SALESFORCE).outcomes[0]
    assert outcome.decision is Decision.AMBIGUOUS


def test_create_is_never_planned_when_the_target_holds_the_email() -> None:
    sources = [hs(str(i), f"p{i % 3}@x.com") for i in range(6)]
    targets = [lead("00Q0", "p0@x.com"), contact("0031", "p1@x.com")]
    result = match_page(sources, [], targets, TO_SALESFORCE)
    held = {t.email for t in targets}
    created = [s for s in sources if result.by_source()[s.ref].decision is Decision.CREATE]
    assert {s.email for s in created}.isdisjoint(held)
    assert len(created) <= 1  # p2 only, once: its duplicates are reported, not created


def test_issue_reasons_name_records_but_never_emails() -> None:
    sources = [hs("1", "jane@x.com"), lead("00Q1", "dup@x.com"), lead("00Q2", "dup@x.com")]
    ambiguous = match_page(
        sources[:1], [], [lead("00Q8", "jane@x.com"), lead("00Q9", "jane@x.com")], TO_SALESFORCE
    )
    duplicates = match_page(sources[1:], [], [], TO_HUBSPOT)
    issues = [*ambiguous.issues, *duplicates.issues]
    assert len(issues) == 2
    assert all("@" not in issue.reason for issue in issues)
    assert all(str(issue.record) in issue.reason for issue in issues)


def test_a_hubspot_merge_survivor_takes_over_the_links_of_the_merged_contacts() -> None:
    old_a, old_b = RecordRef("hubspot", "contacts", "1"), RecordRef("hubspot", "contacts", "2")
    merged = hs("9", "jane@x.com", merged_from=(old_b, old_a))
    target = lead("00Q1", "jane@x.com")
    links = [IdentityLink(old_a, "p1"), IdentityLink(target.ref, "p1")]
    outcome = match_page([merged], links, [target], TO_SALESFORCE).outcomes[0]
    assert (outcome.decision, outcome.target, outcome.person_id) == (Decision.LINKED, target.ref, "p1")
    assert outcome.supersedes == (old_a,)


def test_person_of_turns_a_converted_lead_into_a_pointer_at_its_contact() -> None:
    remote = RemoteRecord("Lead", "00Q1", T0, {"Email": "Jane@X.com"}, merged_into="0031")
    normalized = normalize_record("salesforce", remote, {"Email": FieldType.EMAIL}, email_field="Email")
    record = person_of(normalized, survivor_object="Contact")
    assert record.ref == RecordRef("salesforce", "Lead", "00Q1")
    assert (record.email, record.merged_into) == ("jane@x.com", RecordRef("salesforce", "Contact", "0031"))
    hubspot = RemoteRecord("contacts", "9", T0, {"email": "jane@x.com"}, merged_from=("1", "2"))
    merged = person_of(normalize_record("hubspot", hubspot, {}, email_field="email"))
    assert merged.merged_from == (
        RecordRef("hubspot", "contacts", "1"),
        RecordRef("hubspot", "contacts", "2"),
    )
    assert merged.merged_into is None
