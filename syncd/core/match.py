"""Match: decide, for each source record of one page, which person and which target record it is.

Order of evidence: the identity table first (system id → person), email second. Once a record is linked its
system id is the link, so an email change on one side is an update of the other, never a new person.

Rules, in the order they apply to each source record:
1. A record with `merged_into` set (Salesforce MasterRecordId or ConvertedContactId) is `merged`: the
   engine moves its links to the survivor (chains are followed). A record with `merged_from` (HubSpot's
   new id after a merge, from `hs_merged_object_ids`) takes over the links of the records it absorbed.
2. A deleted record is `deleted` (the engine writes a tombstone; propagation is its decision).
3. Several live records of one system with one email (this page plus `peers`): one survivor, chosen by
   object preference (e.g. Contact before Lead), then the survivor rule (`most_recently_modified`: latest
   `modified_at`; `oldest`: earliest `created_at`, falling back to `modified_at`), then the smallest id.
   The others are `duplicate`, each with an issue.
4. A linked record (active identity link) follows its person's active link in the target system, through
   merges and conversions: `linked`. Several live target links → object preference, then
   `target_survivor`, else `ambiguous`.
5. Otherwise the email: target candidates holding it (merged ones replaced by their survivor, deleted
   ones dropped), object preference first (a Contact beats a Lead); exactly one → `matched`; several →
   `target_survivor` when configured, else `ambiguous` (an issue, never a guess); none → `create`.
6. A source record without a usable email and without a link is `unmatchable`.

`create` is only ever decided when no live target record in the input holds the email, so callers must pass
every target record found by the page's emails.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from syncd.core.issues import Issue, RecordRef
from syncd.core.normalize import NormalizedRecord
from syncd.core.rules import SurvivorRule
from syncd.errors import IssueCategory


@dataclass(frozen=True)
class PersonRecord:
    """What matching needs to know about one record of a person in one system.

    `merged_into` is the survivor's reference: for a converted Salesforce Lead it points at the Contact.
    `merged_from` lists records merged into this one (HubSpot's `hs_merged_object_ids`): their links
    carry over to it.
    """

    ref: RecordRef
    email: str | None
    modified_at: datetime
    created_at: datetime | None = None
    merged_into: RecordRef | None = None
    deleted: bool = False
    merged_from: tuple[RecordRef, ...] = ()


def person_of(record: NormalizedRecord, *, survivor_object: str | None = None) -> PersonRecord:
    """What matching needs from a normalized record.

    Merges stay within one object type unless `survivor_object` says otherwise: pass "Contact" for a
    converted Lead, whose `merged_into` is its ConvertedContactId.
    """
    ref = record.ref
    merged_into = (
        RecordRef(ref.system, survivor_object or ref.object, record.merged_into)
        if record.merged_into
        else None
    )
    return PersonRecord(
        ref=ref,
        email=record.email,
        modified_at=record.modified_at,
        created_at=record.created_at,
        merged_into=merged_into,
        deleted=record.deleted,
        merged_from=tuple(RecordRef(ref.system, ref.object, old) for old in record.merged_from),
    )


@dataclass(frozen=True)
class IdentityLink:
    """One row of the identity table: a system record belongs to a person."""

    ref: RecordRef
    person_id: str
    active: bool = True


@dataclass(frozen=True)
class MatchPolicy:
    """How to choose among records and what to create.

    `object_preference` ranks object types, best first (`("Contact", "Lead")`); unlisted types rank last.
    `target_survivor` None means several equally ranked target candidates are ambiguous.
    `domain_object`, when set, is created instead of `create_object` if `account_domains` (given to
    `match_page`) holds the email's domain; the outcome then carries that account's id.
    """

    target_system: str
    create_object: str
    object_preference: tuple[str, ...] = ()
    survivor: SurvivorRule = SurvivorRule.MOST_RECENTLY_MODIFIED
    target_survivor: SurvivorRule | None = None
    domain_object: str | None = None


class Decision(StrEnum):
    LINKED = "linked"
    MATCHED = "matched"
    CREATE = "create"
    DUPLICATE = "duplicate"
    AMBIGUOUS = "ambiguous"
    MERGED = "merged"
    DELETED = "deleted"
    TARGET_DELETED = "target_deleted"
    UNMATCHABLE = "unmatchable"


@dataclass(frozen=True)
class MatchOutcome:
    """The decision for one source record (issue reasons name records, never their values).

    - `person_id`: the existing person, or None when the engine must create one (keyed by the email).
    - `target`: the target record to update (`linked`, `matched`, `target_deleted`).
    - `followed`: target records merged or converted into `target` on the way; their links are stale.
    - `supersedes`: other source records whose links to this person this record replaces (duplicates
      of it, or records merged into it).
    - `survivor`: for `duplicate`, the source record that stands for the person; for `merged`, the
      record this one was merged into.
    - `create_object` / `account_id`: for `create`.
    - `email_changed`: `linked` and the target's email differs: the email is updated, not re-matched.
    - `email_held_by`: the new email already belongs to another target record; do not write the email.
    """

    source: RecordRef
    decision: Decision
    person_id: str | None = None
    target: RecordRef | None = None
    followed: tuple[RecordRef, ...] = ()
    supersedes: tuple[RecordRef, ...] = ()
    survivor: RecordRef | None = None
    create_object: str | None = None
    account_id: str | None = None
    email_changed: bool = False
    email_held_by: RecordRef | None = None
    issue: Issue | None = None


@dataclass(frozen=True)
class MatchResult:
    """Outcomes in source-reference order (independent of input order), and the issues among them."""

    outcomes: tuple[MatchOutcome, ...]
    issues: tuple[Issue, ...] = field(default=())

    def by_source(self) -> dict[RecordRef, MatchOutcome]:
        return {outcome.source: outcome for outcome in self.outcomes}


def _newest_copy(records: Iterable[PersonRecord]) -> dict[RecordRef, PersonRecord]:
    # One entry per ref; if a caller passes two copies, the most recent one counts, whatever the order.
    chosen: dict[RecordRef, PersonRecord] = {}
    for record in records:
        current = chosen.get(record.ref)
        if current is None or _copy_key(record) > _copy_key(current):
            chosen[record.ref] = record
    return chosen


def _copy_key(record: PersonRecord) -> tuple[datetime, bool, str, str]:
    return (record.modified_at, record.deleted, str(record.merged_into or ""), record.email or "")


def _survivor_key(
    record: PersonRecord, rule: SurvivorRule, preference: Sequence[str]
) -> tuple[int, float, str]:
    rank = _rank(record.ref, preference)
    if rule is SurvivorRule.MOST_RECENTLY_MODIFIED:
        when = -record.modified_at.timestamp()
    else:
        when = (record.created_at or record.modified_at).timestamp()
    return (rank, when, record.ref.id)


def _rank(ref: RecordRef, preference: Sequence[str]) -> int:
    return preference.index(ref.object) if ref.object in preference else len(preference)


class _Matcher:
    """The indexes one page is decided against: records, links and emails, built in a fixed order."""

    def __init__(
        self,
        sources: Sequence[PersonRecord],
        links: Sequence[IdentityLink],
        targets: Sequence[PersonRecord],
        policy: MatchPolicy,
        peers: Sequence[PersonRecord],
        account_domains: Mapping[str, str],
    ) -> None:
        self.policy = policy
        self.account_domains = account_domains
        self.sources = _newest_copy(sources)
        self.records = _newest_copy([*peers, *targets, *sources])
        for record in sorted(self.records.values(), key=lambda item: item.ref):
            for old in record.merged_from:
                # A merge loser we only know from its survivor: gone, and pointing at the survivor.
                if old not in self.records:
                    self.records[old] = PersonRecord(
                        old, None, record.modified_at, merged_into=record.ref, deleted=True
                    )
        self.link_of: dict[RecordRef, str] = {}
        for link in sorted(links, key=lambda item: (item.ref, item.person_id)):
            if link.active:
                self.link_of.setdefault(link.ref, link.person_id)
        self.links_of_person: dict[str, list[RecordRef]] = defaultdict(list)
        for ref, person in sorted(self.link_of.items()):
            self.links_of_person[person].append(ref)
        # Live records by email (duplicates, held emails); candidates also include merge losers, whose
        # survivors may carry another email by now.
        self.by_email: dict[tuple[str, str], list[PersonRecord]] = defaultdict(list)
        self.candidates_by_email: dict[tuple[str, str], list[PersonRecord]] = defaultdict(list)
        for record in sorted(self.records.values(), key=lambda item: item.ref):
            if record.email is None:
                continue
            key = (record.ref.system, record.email)
            if _is_live(record):
                self.by_email[key].append(record)
            if record.merged_into is not None or not record.deleted:
                self.candidates_by_email[key].append(record)
        self.duplicate_of: dict[RecordRef, RecordRef] = {}
        self._find_source_duplicates()

    def _find_source_duplicates(self) -> None:
        systems = {ref.system for ref in self.sources}
        for (system, _email), group in sorted(self.by_email.items()):
            if system not in systems or len(group) < 2:
                continue
            ranked = sorted(
                group, key=lambda r: _survivor_key(r, self.policy.survivor, self.policy.object_preference)
            )
            for loser in ranked[1:]:
                self.duplicate_of[loser.ref] = ranked[0].ref

    def follow(self, ref: RecordRef) -> tuple[RecordRef, tuple[RecordRef, ...]]:
        """The survivor of `ref` through merges and conversions, and the records passed on the way."""
        chain: list[RecordRef] = []
        current = ref
        seen = {ref}
        while (record := self.records.get(current)) is not None and record.merged_into is not None:
            if record.merged_into in seen:
                break  # a merge cycle in the data: stop at the last record reached
            chain.append(current)
            current = record.merged_into
            seen.add(current)
        return current, tuple(chain)

    def is_deleted(self, ref: RecordRef) -> bool:
        record = self.records.get(ref)
        return record is not None and record.deleted and record.merged_into is None

    def choose(self, refs: Sequence[RecordRef]) -> tuple[RecordRef | None, tuple[RecordRef, ...]]:
        """The one best-ranked ref, or None with the tied refs when no rule may choose."""
        preference = self.policy.object_preference
        best_rank = min(_rank(ref, preference) for ref in refs)
        best = sorted(ref for ref in refs if _rank(ref, preference) == best_rank)
        if len(best) == 1:
            return best[0], ()
        rule = self.policy.target_survivor
        if rule is None:
            return None, tuple(best)
        known = [self.records[ref] for ref in best if ref in self.records]
        if len(known) != len(best):
            return None, tuple(best)
        return min(known, key=lambda r: _survivor_key(r, rule, preference)).ref, ()

    def decide(self, source: PersonRecord) -> MatchOutcome:
        ref = source.ref
        person = self.link_of.get(ref)
        inherited = tuple(old for old in sorted(source.merged_from) if old in self.link_of)
        if person is None and inherited:
            person = self.link_of[inherited[0]]  # identity first: the merged records' person
        if source.merged_into is not None:
            survivor, _chain = self.follow(ref)
            return MatchOutcome(ref, Decision.MERGED, person_id=person, survivor=survivor)
        if source.deleted:
            return MatchOutcome(ref, Decision.DELETED, person_id=person, target=self._linked_target(person))
        if ref in self.duplicate_of:
            survivor = self.duplicate_of[ref]
            issue = Issue(
                IssueCategory.DUPLICATE,
                ref,
                f"{ref} shares its email with {survivor}, which is kept ({self.policy.survivor.value})",
                hint="merge the duplicate records in their system",
            )
            return MatchOutcome(ref, Decision.DUPLICATE, person_id=person, survivor=survivor, issue=issue)
        if person is not None:
            linked = self._decide_linked(source, person)
            if linked is not None:
                return replace(linked, supersedes=inherited) if inherited else linked
        if source.email is None:
            issue = Issue(
                IssueCategory.INVALID_EMAIL,
                ref,
                f"{ref} has no valid email and no link, so it cannot be matched",
                hint="give the record a valid email address",
            )
            return MatchOutcome(ref, Decision.UNMATCHABLE, person_id=person, issue=issue)
        return self._decide_by_email(source, person)

    def _linked_target(self, person: str | None) -> RecordRef | None:
        if person is None:
            return None
        refs = [r for r in self.links_of_person[person] if r.system == self.policy.target_system]
        return min(refs) if refs else None

    def _decide_linked(self, source: PersonRecord, person: str) -> MatchOutcome | None:
        ref = source.ref
        linked = [r for r in self.links_of_person[person] if r.system == self.policy.target_system]
        if not linked:
            return None
        survivors: dict[RecordRef, tuple[RecordRef, ...]] = {}
        for target in linked:
            survivor, chain = self.follow(target)
            if not self.is_deleted(survivor):
                survivors[survivor] = tuple(sorted({*survivors.get(survivor, ()), *chain}))
        if not survivors:
            return MatchOutcome(ref, Decision.TARGET_DELETED, person_id=person, target=min(linked))
        chosen, tied = self.choose(list(survivors))
        if chosen is None:
            ambiguous = Issue(
                IssueCategory.AMBIGUOUS_MATCH,
                ref,
                f"{ref} is linked to several {self.policy.target_system} records: "
                + ", ".join(str(t) for t in tied),
                hint="merge the records in the target system or deactivate the wrong link",
            )
            return MatchOutcome(ref, Decision.AMBIGUOUS, person_id=person, issue=ambiguous)
        followed = survivors[chosen]
        target_record = self.records.get(chosen)
        email_changed = (
            source.email is not None
            and target_record is not None
            and target_record.email is not None
            and target_record.email != source.email
        )
        held_by: RecordRef | None = None
        issue: Issue | None = None
        if email_changed and source.email is not None:
            holders = [
                r.ref
                for r in self.by_email.get((self.policy.target_system, source.email), [])
                if self.follow(r.ref)[0] != chosen
            ]
            if holders:
                held_by = min(holders)
                issue = Issue(
                    IssueCategory.DUPLICATE,
                    ref,
                    f"{ref} changed its email to one {held_by} already holds; "
                    f"the email of {chosen} is left as it is",
                    hint="merge the two target records, then the change is synced",
                    field="email",
                )
        return MatchOutcome(
            ref,
            Decision.LINKED,
            person_id=person,
            target=chosen,
            followed=followed,
            email_changed=email_changed,
            email_held_by=held_by,
            issue=issue,
        )

    def _decide_by_email(self, source: PersonRecord, person: str | None) -> MatchOutcome:
        ref = source.ref
        assert source.email is not None
        candidates: dict[RecordRef, set[RecordRef]] = {}
        for record in self.candidates_by_email.get((self.policy.target_system, source.email), []):
            survivor, chain = self.follow(record.ref)
            if not self.is_deleted(survivor):
                candidates.setdefault(survivor, set()).update(chain)
        if not candidates:
            return self._create(source, person)
        chosen, tied = self.choose(list(candidates))
        if chosen is None:
            issue = Issue(
                IssueCategory.AMBIGUOUS_MATCH,
                ref,
                f"{ref}: several {self.policy.target_system} records hold its email: "
                + ", ".join(str(t) for t in tied),
                hint="merge them, or set a survivor rule for target candidates",
            )
            return MatchOutcome(ref, Decision.AMBIGUOUS, person_id=person, issue=issue)
        followed = tuple(sorted(candidates[chosen]))
        target_person = self.link_of.get(chosen)
        if target_person is None:
            for stale in followed:
                target_person = target_person or self.link_of.get(stale)
        if person is not None and target_person is not None and person != target_person:
            issue = Issue(
                IssueCategory.AMBIGUOUS_MATCH,
                ref,
                f"{ref} and {chosen} share an email but are linked to different people",
                hint="deactivate the wrong identity link",
            )
            return MatchOutcome(ref, Decision.AMBIGUOUS, person_id=person, issue=issue)
        supersedes: tuple[RecordRef, ...] = tuple(
            old for old in sorted(source.merged_from) if self.link_of.get(old) == (person or target_person)
        )
        if person is None and target_person is not None:
            others = [r for r in self.links_of_person[target_person] if r.system == ref.system and r != ref]
            standing = [
                r
                for r in others
                if self.duplicate_of.get(r) != ref and not self._gone(r) and r not in supersedes
            ]
            if standing:
                survivor = min(standing)
                duplicate = Issue(
                    IssueCategory.DUPLICATE,
                    ref,
                    f"{ref} shares its email with {survivor}, which is already linked",
                    hint="merge the duplicate records in their system",
                )
                return MatchOutcome(
                    ref, Decision.DUPLICATE, person_id=target_person, survivor=survivor, issue=duplicate
                )
            supersedes = tuple(sorted({*others, *supersedes}))
        return MatchOutcome(
            ref,
            Decision.MATCHED,
            person_id=person or target_person,
            target=chosen,
            followed=followed,
            supersedes=supersedes,
        )

    def _gone(self, ref: RecordRef) -> bool:
        record = self.records.get(ref)
        return record is not None and (record.deleted or record.merged_into is not None)

    def _create(self, source: PersonRecord, person: str | None) -> MatchOutcome:
        assert source.email is not None
        domain = source.email.rsplit("@", 1)[1]
        account = self.account_domains.get(domain)
        if self.policy.domain_object is not None and account is not None:
            return MatchOutcome(
                source.ref,
                Decision.CREATE,
                person_id=person,
                create_object=self.policy.domain_object,
                account_id=account,
            )
        return MatchOutcome(
            source.ref, Decision.CREATE, person_id=person, create_object=self.policy.create_object
        )


def _is_live(record: PersonRecord) -> bool:
    return not record.deleted and record.merged_into is None


def match_page(
    sources: Sequence[PersonRecord],
    links: Sequence[IdentityLink],
    targets: Sequence[PersonRecord],
    policy: MatchPolicy,
    *,
    peers: Sequence[PersonRecord] = (),
    account_domains: Mapping[str, str] | None = None,
) -> MatchResult:
    """Decide every source record of one page (see the module docstring for the rules).

    - `links`: identity links of every person the page may touch, in both systems (inactive ones are
      ignored).
    - `targets`: target-system records found by the page's emails and by linked ids, including merged and
      deleted ones so merges can be followed.
    - `peers`: other source-system records sharing the page's emails, for duplicate detection.
    - `account_domains`: email domain → account id, for `MatchPolicy.domain_object`.
    The result depends only on the inputs as sets, never on their order.
    """
    matcher = _Matcher(sources, links, targets, policy, peers, account_domains or {})
    outcomes = tuple(matcher.decide(matcher.sources[ref]) for ref in sorted(matcher.sources))
    return MatchResult(outcomes, tuple(o.issue for o in outcomes if o.issue is not None))
