"""The `teams:` section: which sales team each owner (by email) belongs to, for SLA reports by team.

```yaml
teams:
  inbound: [rita@example.com, sam@example.com]
  enterprise: [ada@example.com]
```

Owner emails compare trimmed and case-insensitively, like every email in syncd. An owner belongs to
at most one team; an owner in no team is reported under "no team".
"""

from __future__ import annotations

from pydantic import ConfigDict, RootModel, field_validator
from pydantic_core import PydanticCustomError

from syncd.core.normalize import canonical_email, email_problem


class TeamsConfig(RootModel[dict[str, list[str]]]):
    """Team name → the emails of the owners in it."""

    model_config = ConfigDict(frozen=True)
    root: dict[str, list[str]] = {}

    @field_validator("root")
    @classmethod
    def _one_team_per_owner(cls, teams: dict[str, list[str]]) -> dict[str, list[str]]:
        seen: dict[str, str] = {}
        for team, owners in teams.items():
            if not team.strip():
                raise PydanticCustomError("team_name", "a team needs a name — write it before the colon")
            for owner in owners:
                problem = email_problem(owner)
                if problem is not None:
                    raise PydanticCustomError(
                        "team_owner",
                        "team {team}: '{owner}' is not an email ({problem}) — list owners by the email "
                        "their sales activities carry",
                        {"team": team, "owner": owner, "problem": problem},
                    )
                key = canonical_email(owner) or owner
                if seen.get(key, team) != team:
                    raise PydanticCustomError(
                        "team_owner_twice",
                        "{owner} is in teams {first} and {second} — keep each owner in one team",
                        {"owner": owner, "first": seen[key], "second": team},
                    )
                seen[key] = team
        return {team.strip(): owners for team, owners in teams.items()}


__all__ = ["TeamsConfig"]
