"""First-order Markov attribution by removal effect, solved exactly (no simulation).

States: start, one per channel, conv, null. Transition probabilities come from the transitions
counted over all journeys, converting or not. P(conv) is the absorption probability in conv from
start; removing channel c sends every transition into c to null. RE_c = (P − P_without_c) / P and
credit_c = total value × RE_c / Σ RE (global normalisation, as the ChannelAttribution package).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from syncd.reports.data_driven import DataDrivenReport
from syncd.reports.linear_solve import solve_exact
from syncd.reports.money import fraction_weights, split_units, to_units
from syncd.reports.paths import Journey, TouchIndex, build_journeys
from syncd.reports.rule_models import default_quantum
from syncd.reports.types import ConversionType, Deal, DealContact, Period, Person, Touch


class _Chain:
    """Transition counts between channel states, plus counts into conv and null."""

    def __init__(self, journeys: Sequence[Journey]) -> None:
        names = sorted({c for j in journeys for c in j.channels})
        self.channels = names
        index = {c: i for i, c in enumerate(names)}
        k = len(names)
        self.start = [0] * k
        self.counts = [dict[int, int]() for _ in range(k)]
        self.to_conv = [0] * k
        self.totals = [0] * k
        for journey in journeys:
            if not journey.channels:
                continue
            states = [index[c] for c in journey.channels]
            self.start[states[0]] += 1
            for a, b in itertools.pairwise(states):
                row = self.counts[a]
                row[b] = row.get(b, 0) + 1
                self.totals[a] += 1
            self.totals[states[-1]] += 1
            if journey.converted:
                self.to_conv[states[-1]] += 1

    def _system(self, keep: list[int]) -> tuple[list[list[int]], dict[int, int]]:
        """Rows T_i·x_i − Σ_j n_ij·x_j over the kept states (a dropped j contributes x_j = 0)."""
        position = {state: n for n, state in enumerate(keep)}
        matrix: list[list[int]] = []
        for i in keep:
            row = [0] * len(keep)
            row[position[i]] = self.totals[i]
            for j, n in self.counts[i].items():
                if j in position:
                    row[position[j]] -= n
            matrix.append(row)
        return matrix, position

    def conversion_probability(self, removed: int | None = None) -> Fraction:
        """Absorption probability in conv from start, with one channel optionally removed (→ null).

        This is the definition, one linear solve per removal; `removal_effects` gets the same
        numbers for every channel from a single inversion.
        """
        keep = [i for i in range(len(self.channels)) if i != removed]
        started = sum(self.start)
        if not keep or not started:
            return Fraction(0)
        matrix, position = self._system(keep)
        x = solve_exact(matrix, [[self.to_conv[i]] for i in keep])
        return Fraction(sum(self.start[i] * x[position[i]][0] for i in keep), started)

    def removal_effects(self) -> tuple[Fraction, list[Fraction]]:
        """P(conv) and RE_c for every channel, exactly, from one inversion of the system.

        Paths from start either avoid c or reach it (with probability f_c) and then convert with
        probability x_c, so P_without_c = P − f_c·x_c. With A the system matrix (A = D(I − Q),
        D = diag(T)), the fundamental matrix is N = A⁻¹D and f_c = Σ_j p_j·N_jc / N_cc.
        """
        k = len(self.channels)
        started = sum(self.start)
        if not k or not started:
            return Fraction(0), [Fraction(0)] * k
        matrix, _ = self._system(list(range(k)))
        right = [[self.to_conv[i]] + [1 if j == i else 0 for j in range(k)] for i in range(k)]
        solved = solve_exact(matrix, right)
        x = [row[0] for row in solved]
        inverse = [row[1:] for row in solved]
        p_conv = Fraction(sum(self.start[j] * x[j] for j in range(k)), started)
        if not p_conv:
            return p_conv, [Fraction(0)] * k
        effects = []
        for c in range(k):
            # N_jc = inverse[j][c]·T_c; T_c cancels in the ratio Σ_j p_j·N_jc / N_cc.
            reach = Fraction(sum(self.start[j] * inverse[j][c] for j in range(k)), started) / inverse[c][c]
            effects.append(reach * x[c] / p_conv)
        return p_conv, effects


def markov_from_journeys(
    journeys: Sequence[Journey],
    conversion_type: ConversionType,
    *,
    quantum: Decimal | None = None,
    unattributed: Sequence[tuple[str, Decimal]] = (),
) -> DataDrivenReport:
    """Markov removal-effect credits per channel from journeys (see `build_journeys`)."""
    q = quantum if quantum is not None else default_quantum(conversion_type)
    chain = _Chain(journeys)
    converting = [j for j in journeys if j.converted and j.channels]
    total_units = sum(to_units(j.value, q) for j in converting)
    p_conv, per_channel = chain.removal_effects()
    effects = dict(zip(chain.channels, per_channel, strict=True))
    sum_effects = sum(effects.values(), Fraction(0))
    exact: dict[str, Fraction] = {}
    credits: dict[str, Decimal] = {c: Decimal(0) * q for c in chain.channels}
    if sum_effects > 0:
        exact = {c: Fraction(total_units) * Fraction(q) * re / sum_effects for c, re in effects.items()}
        parts = split_units(total_units, fraction_weights([effects[c] for c in chain.channels]))
        credits = {c: units * q for c, units in zip(chain.channels, parts, strict=True)}
    else:
        exact = {c: Fraction(0) for c in chain.channels}
    return DataDrivenReport(
        model="markov",
        conversion_type=conversion_type,
        credits=credits,
        exact=exact,
        total_value=total_units * q,
        journeys=len(journeys),
        converting_journeys=len(converting),
        unattributed=tuple(sorted(cid for cid, _ in unattributed)),
        unattributed_value=sum((to_units(v, q) * q for _, v in unattributed), Decimal(0)),
        removal_effects=effects,
        conversion_probability=p_conv,
    )


def markov(
    conversion_type: ConversionType,
    *,
    people: Sequence[Person],
    touches: Sequence[Touch] | TouchIndex,
    deals: Sequence[Deal] = (),
    deal_contacts: Sequence[DealContact] = (),
    lookback_days: int | None = None,
    period: Period | None = None,
    quantum: Decimal | None = None,
) -> DataDrivenReport:
    """Markov removal-effect attribution per channel, with non-converting journeys included."""
    journeys, unattributed = build_journeys(
        conversion_type,
        people=people,
        touches=touches,
        deals=deals,
        deal_contacts=deal_contacts,
        lookback_days=lookback_days,
        period=period,
    )
    return markov_from_journeys(
        journeys,
        conversion_type,
        quantum=quantum,
        unattributed=[(c.conversion_id, c.value) for c in unattributed],
    )
