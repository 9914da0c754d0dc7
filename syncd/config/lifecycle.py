"""The `lifecycle:` section: where funnel stage entries come from, and what makes an MQL."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from syncd.config.base import Section
from syncd.core.lifecycle import (
    DEFAULT_HUBSPOT_STAGES,
    DEFAULT_LEAD_STATUS_STAGES,
    MQL,
    STAGES,
    HubSpotScore,
    LifecycleSettings,
    MqlDefinition,
    SalesforceCondition,
)

_STAGE_LIST = ", ".join(STAGES)


def _funnel_stage(value: str | None, *, mql_allowed: bool = False) -> str | None:
    if value is None:
        return None
    stage = value.strip().lower()
    if stage not in STAGES:
        raise PydanticCustomError(
            "funnel_stage",
            "'{value}' is not a funnel stage — use one of {stages}",
            {"value": value, "stages": _STAGE_LIST},
        )
    if stage == MQL and not mql_allowed:
        raise PydanticCustomError(
            "mql_elsewhere",
            "the MQL comes from lifecycle.mql only — define it there "
            "(a stage, a HubSpot score or a Salesforce field)",
        )
    return stage


class HubSpotScoreConfig(Section):
    """MQL when the HubSpot score first reaches a threshold."""

    at_least: float
    property: str = Field(default="hubspotscore", min_length=1)


class SalesforceFieldConfig(Section):
    """MQL when a Salesforce field first holds one of `equals` (or a number of at least `at_least`)."""

    object: str = Field(default="Lead", min_length=1)
    field: str = Field(min_length=1)
    equals: str | list[str] | None = None
    at_least: float | None = None

    @model_validator(mode="after")
    def _one_test(self) -> SalesforceFieldConfig:
        if (self.equals is None) == (self.at_least is None):
            raise PydanticCustomError(
                "one_test", "give exactly one of equals (a value or a list) and at_least (a number)"
            )
        return self


class MqlConfig(Section):
    """Exactly one definition; none given means the HubSpot stage `marketingqualifiedlead`."""

    stage: str | None = None
    hubspot_score: HubSpotScoreConfig | None = None
    salesforce_field: SalesforceFieldConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_stage(cls, data: Any) -> Any:
        if isinstance(data, dict) and not any(
            data.get(k) is not None for k in ("stage", "hubspot_score", "salesforce_field")
        ):
            return {**data, "stage": "marketingqualifiedlead"}
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> MqlConfig:
        given = [k for k in ("stage", "hubspot_score", "salesforce_field") if getattr(self, k) is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "one_mql",
                "the MQL has one definition, got {given} — "
                "keep one of stage, hubspot_score, salesforce_field",
                {"given": " and ".join(given)},
            )
        return self

    def definition(self) -> MqlDefinition:
        if self.hubspot_score is not None:
            score = HubSpotScore(at_least=self.hubspot_score.at_least, property=self.hubspot_score.property)
            return MqlDefinition(stage=None, score=score)
        if self.salesforce_field is not None:
            f = self.salesforce_field
            equals = [f.equals] if isinstance(f.equals, str) else (f.equals or [])
            condition = SalesforceCondition(f.object, f.field, tuple(equals), f.at_least)
            return MqlDefinition(stage=None, condition=condition)
        return MqlDefinition(stage=self.stage)


class LifecycleConfig(Section):
    """Where lifecycle_events come from: HubSpot stage dates, Salesforce Lead status and conversion."""

    enabled: bool = True
    mql: MqlConfig = MqlConfig(stage="marketingqualifiedlead")
    # HubSpot lifecyclestage value -> funnel stage.
    hubspot_stages: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_HUBSPOT_STAGES))
    # The stage a Salesforce Lead's creation enters (null: none).
    lead_created: str | None = "lead"
    # Salesforce Lead Status value -> funnel stage, from when the status is first seen.
    lead_status_stages: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_LEAD_STATUS_STAGES))
    # Lead conversion (ConvertedDate), and a conversion that created an Opportunity.
    converted: str | None = "sql"
    converted_with_opportunity: str | None = "opportunity"

    @field_validator("lead_created", "converted", "converted_with_opportunity")
    @classmethod
    def _stage(cls, value: str | None) -> str | None:
        return _funnel_stage(value)

    @field_validator("hubspot_stages", "lead_status_stages")
    @classmethod
    def _stages(cls, value: dict[str, str]) -> dict[str, str]:
        return {key: _funnel_stage(stage) or stage for key, stage in value.items()}

    def settings(self) -> LifecycleSettings | None:
        """The settings lifecycle derivation runs with; None when switched off."""
        if not self.enabled:
            return None
        return LifecycleSettings(
            mql=self.mql.definition(),
            hubspot_stages=dict(self.hubspot_stages),
            lead_created=self.lead_created,
            lead_status_stages=dict(self.lead_status_stages),
            converted=self.converted,
            converted_with_opportunity=self.converted_with_opportunity,
        )
