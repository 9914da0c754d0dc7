"""Sales teams for SLA reports by team: which team each owner belongs to, matched by email.

Owners are the owner emails activities carry; they match a team member trimmed and
case-insensitively (`Rita@Example.com ` is rita@example.com). An owner belongs to at most one team.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from syncd.reports.errors import ReportError


@dataclass(frozen=True, slots=True)
class TeamMember:
    """One owner in one team (a row of teams.csv)."""

    team: str
    owner: str


def owner_key(owner: str) -> str:
    return owner.strip().casefold()


class OwnerTeams(Mapping[str, str]):
    """Owner → team, looked up by the owner's email trimmed and case-folded; pass it as `sla(teams=)`."""

    def __init__(self, members: Iterable[TeamMember]) -> None:
        self._teams: dict[str, str] = {}
        for member in members:
            key = owner_key(member.owner)
            known = self._teams.setdefault(key, member.team)
            if known != member.team:
                raise ReportError(
                    f"owner {member.owner} is in teams {known} and {member.team}",
                    hint="keep each owner in one team",
                )

    def __getitem__(self, owner: str) -> str:
        return self._teams[owner_key(owner)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._teams)

    def __len__(self) -> int:
        return len(self._teams)

    @property
    def teams(self) -> tuple[str, ...]:
        """Every team name, sorted (also those whose owners had no MQL)."""
        return tuple(sorted(set(self._teams.values())))


def team_members(teams: Mapping[str, Iterable[str]]) -> list[TeamMember]:
    """`TeamMember`s of a team → owner emails mapping (the `teams:` section of the config)."""
    return [TeamMember(team, owner) for team, owners in teams.items() for owner in owners]


__all__ = ["OwnerTeams", "TeamMember", "owner_key", "team_members"]
