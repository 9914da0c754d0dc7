"""The campaigns flow's settings, the lifecycle section and the channels section in the config file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from syncd.config.flows import CampaignsFlowConfig
from syncd.config.lifecycle import LifecycleConfig
from syncd.core.lifecycle import HubSpotScore, SalesforceCondition


def test_the_cost_file_must_exist_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "costs.csv").write_text("channel,period_start,period_end,amount\n", encoding="utf-8")
    flow = CampaignsFlowConfig.model_validate(
        {"cost_file": "costs.csv", "currency": "EUR"}, context={"base_dir": tmp_path}
    )
    assert flow.cost_file == tmp_path / "costs.csv" and flow.response_touches
    with pytest.raises(ValidationError, match="does not exist"):
        CampaignsFlowConfig.model_validate({"cost_file": "missing.csv"}, context={"base_dir": tmp_path})
    with pytest.raises(ValidationError, match="currency"):
        CampaignsFlowConfig.model_validate({"currency": "euro"})


def test_the_mql_defaults_to_the_hubspot_stage() -> None:
    settings = LifecycleConfig().settings()
    assert settings is not None
    assert settings.mql.stage == "marketingqualifiedlead"
    assert settings.hubspot_map()["marketingqualifiedlead"] == "mql"


def test_the_mql_may_be_a_score_or_a_salesforce_field() -> None:
    scored = LifecycleConfig.model_validate({"mql": {"hubspot_score": {"at_least": 60}}}).settings()
    assert scored is not None and scored.mql.score == HubSpotScore(60.0, "hubspotscore")
    assert "marketingqualifiedlead" not in scored.hubspot_map()
    field = LifecycleConfig.model_validate(
        {"mql": {"salesforce_field": {"field": "Rating", "equals": "Hot"}}}
    ).settings()
    assert field is not None and field.mql.condition == SalesforceCondition("Lead", "Rating", ("Hot",))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mql": {"stage": "lead", "hubspot_score": {"at_least": 1}}}, "one definition"),
        ({"mql": {"salesforce_field": {"field": "Rating"}}}, "exactly one of equals"),
        ({"hubspot_stages": {"marketingqualifiedlead": "mql"}}, "lifecycle.mql only"),
        ({"lead_status_stages": {"Working - Contacted": "qualified"}}, "not a funnel stage"),
        ({"converted": "won"}, "not a funnel stage"),
    ],
)
def test_lifecycle_mistakes_are_named(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LifecycleConfig.model_validate(data)


def test_lifecycle_can_be_switched_off() -> None:
    assert LifecycleConfig.model_validate({"enabled": False}).settings() is None
