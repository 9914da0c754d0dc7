"""Resolve: the three-way merge of one record pair, field by field, against the last-synced bases.

Each field has a base per side: the value that side held when the field was last reconciled. Values and
bases are canonical (see normalize) and each side's are in its own vocabulary; a field plan's conversions
carry a value across.

For every mapped field, with S the side the record was pulled from and T the other side:
1. Rule `none`, or the field absent from either side's values → not resolved, base unchanged.
2. S equals its base → nothing to do, base unchanged. This stops echoes: our own writes come back equal
   to the base. (A change on T alone is handled when T is pulled.)
3. S changed, T equals its base → a one-sided edit: S's value is written to T when the direction allows
   it and the rule and null policy do not forbid it (`write_once` only fills a blank T;
   `most_restrictive` makes both sides the union of their opt-outs).
4. Both changed (a conflict), or no base yet (first sync): if the values already agree nothing is written;
   otherwise the rule decides and a `FieldNote` records it:
   - `two_way`: the side modified later wins; on equal timestamps the CRM wins.
   - `prefer_crm_unless_blank`: the CRM's value, or the marketing value when the CRM's is blank.
   - `crm_wins` / `marketing_wins`: that side's value.
   - `write_once`: blanks are filled from the other side; two non-blank values both stay.
   - `most_restrictive` (booleans such as opt-outs): True on either side wins; then False; then blank.
   With a one-way direction the sending side always wins (`write_once` and `most_restrictive` still only
   write where they would).
5. Null policy: with `ignore_nulls` (the default) a blank value — before or after conversion — never
   overwrites anything and never wins a conflict; with `propagate_nulls` blanks are values like any other.
   `prefer_crm_unless_blank` counts a CRM value that converts to blank (a placeholder) as blank.

After the writes, each resolved field's new base is the value each side then holds.

Creating the target (`target=None`): every field the direction lets into T gets S's converted value, when
that is not blank (conversions may supply a default, e.g. Lead Company).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from syncd.core.convert import Convert, TransformError, UnmappedValue, identity
from syncd.core.issues import Issue, RecordRef
from syncd.core.normalize import Value, is_blank
from syncd.core.rules import Direction, NullPolicy, Rule, Side
from syncd.errors import IssueCategory


@dataclass(frozen=True)
class FieldPlan:
    """One mapped field as resolve sees it: its name on each side, its rule and its conversions."""

    name: str
    crm_field: str
    marketing_field: str
    rule: Rule = Rule.TWO_WAY
    direction: Direction = Direction.BOTH
    null_policy: NullPolicy = NullPolicy.IGNORE_NULLS
    to_crm: Convert = identity
    to_marketing: Convert = identity

    def field_on(self, side: Side) -> str:
        return self.crm_field if side is Side.CRM else self.marketing_field

    def convert_to(self, side: Side, value: Value) -> Value:
        return self.to_crm(value) if side is Side.CRM else self.to_marketing(value)


@dataclass(frozen=True)
class FieldBase:
    """The last-synced value of one field on each side."""

    crm: Value
    marketing: Value

    def on(self, side: Side) -> Value:
        return self.crm if side is Side.CRM else self.marketing


@dataclass(frozen=True)
class SideState:
    """One side's record as pulled or fetched: canonical values keyed by that system's field names."""

    side: Side
    values: Mapping[str, Value]
    modified_at: datetime


@dataclass(frozen=True)
class FieldNote:
    """How a conflict or a first-sync difference was decided (no values: notes are logged)."""

    field: str
    rule: Rule
    conflict: bool
    winner: Side | None
    reason: str


@dataclass(frozen=True)
class Resolution:
    """What to write on each side (keyed by that system's field names) and the new bases (by field name)."""

    crm_writes: Mapping[str, Value]
    marketing_writes: Mapping[str, Value]
    bases: Mapping[str, FieldBase]
    notes: tuple[FieldNote, ...] = field(default=())
    issues: tuple[Issue, ...] = field(default=())

    def writes(self, side: Side) -> Mapping[str, Value]:
        return self.crm_writes if side is Side.CRM else self.marketing_writes

    @property
    def conflicts(self) -> tuple[FieldNote, ...]:
        return tuple(note for note in self.notes if note.conflict)


@dataclass
class _Field:
    """The working state of one field while it is resolved."""

    plan: FieldPlan
    values: dict[Side, Value]
    modified: dict[Side, datetime]
    writes: dict[Side, Value] = field(default_factory=dict)

    def can_write(self, side: Side) -> bool:
        return self.plan.direction.allows(side)

    def final(self, side: Side) -> Value:
        return self.writes.get(side, self.values[side])

    def send(self, origin: Side) -> None:
        """Write `origin`'s value into the other side, when the direction and null policy allow it."""
        to = origin.other
        if not self.can_write(to):
            return
        value = self.values[origin]
        converted = self.plan.convert_to(to, value)
        if self.plan.null_policy is NullPolicy.IGNORE_NULLS and (is_blank(value) or is_blank(converted)):
            return
        if converted != self.values[to]:
            self.writes[to] = converted

    def blank(self, side: Side) -> bool:
        """Blank as a value to send: blank itself, or blank once converted (a placeholder such as
        "[not provided]" that the other side's transforms drop)."""
        value = self.values[side]
        if is_blank(value):
            return True
        if not self.can_write(side.other):
            return False
        try:
            return is_blank(self.plan.convert_to(side.other, value))
        except TransformError:
            return False  # not blank; the conversion error surfaces when the value is sent

    def agree(self) -> bool:
        """Whether the two values mean the same, read through either allowed conversion."""
        for to in Side:
            if not self.can_write(to):
                continue
            try:
                if self.plan.convert_to(to, self.values[to.other]) == self.values[to]:
                    return True
            except TransformError:
                continue  # the other conversion may still read it; a winner's value is converted later
        return False

    def restrict(self) -> None:
        merged = _most_restrictive(self.values[Side.CRM], self.values[Side.MARKETING])
        for side in Side:
            if self.values[side] != merged and self.can_write(side) and merged is not None:
                self.writes[side] = merged

    def fill_blanks(self, origins: Sequence[Side]) -> None:
        for origin in origins:
            if is_blank(self.values[origin.other]) and not is_blank(self.values[origin]):
                self.send(origin)

    def winner(self) -> tuple[Side | None, str]:
        rule = self.plan.rule
        senders = [side for side in Side if self.can_write(side.other)]
        if len(senders) == 1:
            chosen, why = senders[0], f"direction {self.plan.direction.value}"
        elif rule is Rule.TWO_WAY:
            crm_at, marketing_at = self.modified[Side.CRM], self.modified[Side.MARKETING]
            if crm_at == marketing_at:
                chosen, why = Side.CRM, "modified at the same time: the CRM wins ties"
            else:
                chosen = Side.CRM if crm_at > marketing_at else Side.MARKETING
                why = f"{chosen.value} modified later"
        elif rule is Rule.PREFER_CRM_UNLESS_BLANK:
            blank = self.blank(Side.CRM)
            chosen = Side.MARKETING if blank else Side.CRM
            why = "the CRM value is blank" if blank else "the CRM value is set"
        elif rule is Rule.MARKETING_WINS:
            chosen, why = Side.MARKETING, "marketing wins"
        else:
            chosen, why = Side.CRM, "crm wins"
        if self.plan.null_policy is NullPolicy.IGNORE_NULLS and self.blank(chosen):
            other = chosen.other
            if other in senders and not self.blank(other):
                return other, f"{why}, but its value is blank and blanks never win (ignore_nulls)"
            return None, f"{why}, but its value is blank and blanks never win (ignore_nulls)"
        return chosen, why


def _most_restrictive(a: Value, b: Value) -> Value:
    if a is True or b is True:
        return True
    if a is False or b is False:
        return False
    return None


def resolve(
    source: SideState,
    target: SideState | None,
    plans: Sequence[FieldPlan],
    bases: Mapping[str, FieldBase],
    *,
    record: RecordRef,
) -> Resolution:
    """Merge one source record into its target (None when the target is to be created).

    `bases` holds the last-synced values by field name; a field without one is on its first sync.
    `record` names the source record in issues. A conversion failure skips that field (base unchanged)
    and reports an issue; the other fields are resolved as usual.
    """
    writes: dict[Side, dict[str, Value]] = {Side.CRM: {}, Side.MARKETING: {}}
    new_bases: dict[str, FieldBase] = dict(bases)
    notes: list[FieldNote] = []
    issues: list[Issue] = []
    for plan in plans:
        try:
            outcome = _resolve_field(plan, source, target, bases.get(plan.name))
        except TransformError as exc:
            issues.append(
                Issue(
                    category=(
                        IssueCategory.PICKLIST if isinstance(exc, UnmappedValue) else IssueCategory.VALIDATION
                    ),
                    record=record,
                    reason=f"{record}: field {plan.name!r} could not be converted: {exc}",
                    hint=f"extend the transforms of {plan.name!r} in the mapping",
                    field=plan.name,
                )
            )
            continue
        if outcome is None:
            continue
        state, note = outcome
        for side, value in state.writes.items():
            writes[side][plan.field_on(side)] = value
        new_bases[plan.name] = FieldBase(crm=state.final(Side.CRM), marketing=state.final(Side.MARKETING))
        if note is not None:
            notes.append(note)
    return Resolution(
        crm_writes=writes[Side.CRM],
        marketing_writes=writes[Side.MARKETING],
        bases=new_bases,
        notes=tuple(notes),
        issues=tuple(issues),
    )


def _resolve_field(
    plan: FieldPlan, source: SideState, target: SideState | None, base: FieldBase | None
) -> tuple[_Field, FieldNote | None] | None:
    if plan.rule is Rule.NONE:
        return None
    origin, to = source.side, source.side.other
    name = plan.field_on(origin)
    if name not in source.values:
        return None
    value = source.values[name]
    if target is None:
        return _create(plan, source, value), None
    if plan.field_on(to) not in target.values:
        return None
    if base is not None and value == base.on(origin):
        return None
    state = _Field(
        plan,
        values={origin: value, to: target.values[plan.field_on(to)]},
        modified={origin: source.modified_at, to: target.modified_at},
    )
    target_changed = base is None or state.values[to] != base.on(to)
    if not target_changed:
        _one_sided(state, origin)
        return state, None
    if state.agree():
        return state, None
    conflict = base is not None
    what = "both sides changed since the last sync" if conflict else "first sync, the values differ"
    if plan.rule is Rule.MOST_RESTRICTIVE:
        state.restrict()
        return state, FieldNote(plan.name, plan.rule, conflict, None, f"{what}: the most restrictive wins")
    if plan.rule is Rule.WRITE_ONCE:
        state.fill_blanks([origin, to])
        return state, FieldNote(plan.name, plan.rule, conflict, None, f"{what}: only blanks are filled")
    winner, why = state.winner()
    if winner is not None:
        state.send(winner)
    return state, FieldNote(plan.name, plan.rule, conflict, winner, f"{what}: {why}")


def _one_sided(state: _Field, origin: Side) -> None:
    if state.plan.rule is Rule.MOST_RESTRICTIVE:
        state.restrict()
    elif state.plan.rule is Rule.WRITE_ONCE:
        state.fill_blanks([origin])
    else:
        state.send(origin)


def _create(plan: FieldPlan, source: SideState, value: Value) -> _Field:
    origin, to = source.side, source.side.other
    state = _Field(plan, values={origin: value, to: None}, modified={origin: source.modified_at})
    if plan.direction.allows(to):
        converted = plan.convert_to(to, value)
        if not is_blank(converted):
            state.writes[to] = converted
    return state
