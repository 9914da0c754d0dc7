"""Composition of the deals flow: its mapping validated against the live schemas and pipeline, then the flow.

`syncd check` and start-up both go through `validated_deal_mapping`, which lists every problem at once
with file and line: the generic mapping checks (with HubSpot's `dealstage` narrowed to the pipeline the
deals live in), the stage map against that pipeline and Salesforce's StageName picklist, the link fields.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from connectors.hubspot.connector import HubSpotConnector
from connectors.salesforce.connector import SalesforceConnector
from syncd.cli.compose import Runtime
from syncd.config.flows import DealsFlowConfig
from syncd.connector import ObjectSchema, Owner
from syncd.deals import Pipeline
from syncd.engine.deals import DealFlow, DealSettings
from syncd.errors import ConfigError, FatalError, RecordError
from syncd.mapping.loader import load_mapping
from syncd.mapping.model import FlowMapping
from syncd.mapping.owners import map_owners
from syncd.mapping.stages import stage_problems, with_pipeline_stages
from syncd.mapping.validate import find_problems

_HINT = "fix mappings/deals.yaml (mappings/README.md explains each check), then run `syncd check`"


def validated_deal_mapping(
    hubspot: HubSpotConnector, salesforce: SalesforceConnector, mapping_path: Path
) -> tuple[FlowMapping, dict[str, ObjectSchema], Pipeline]:
    """The deals mapping, the live schemas it fits (keyed "hubspot"/"salesforce") and the pipeline.

    Raises ConfigError listing every problem with file and line."""
    mapping = load_mapping(mapping_path)
    where = mapping.where
    problems: list[str] = []
    if mapping.link is None:
        problems.append(
            f"{where(1)}: the deals mapping needs `link:` naming the unique fields that hold the other "
            "system's id (HubSpot deal property and Salesforce Opportunity External ID field)"
        )
    if mapping.salesforce_objects != ("Opportunity",) or mapping.hubspot_object != "deals":
        problems.append(
            f"{where(mapping.lines.get('objects', 1))}: the deals flow syncs HubSpot deals with "
            "Salesforce Opportunity: objects: {hubspot: deals, salesforce: [Opportunity]}"
        )
        raise ConfigError(problems, hint=_HINT)
    if mapping.include.hubspot or mapping.include.salesforce:
        problems.append(
            f"{where(mapping.lines.get('include', 1))}: the deals flow syncs every deal of its "
            "pipeline; remove include:"
        )
    hubspot_schema = hubspot.describe("deals")
    salesforce_schema = salesforce.describe("Opportunity")
    pipeline_id = mapping.on_create.hubspot.get("pipeline")
    pipeline_line = mapping.on_create.lines.get(("hubspot", "pipeline"), mapping.lines.get("on_create", 1))
    pipeline: Pipeline | None = None
    if not pipeline_id:
        problems.append(
            f"{where(pipeline_line)}: give the pipeline deals live in as on_create.hubspot.pipeline"
        )
    else:
        try:
            pipeline = hubspot.pipeline("deals", str(pipeline_id))
        except (RecordError, FatalError, ConfigError):
            problems.append(
                f"{where(pipeline_line)}: HubSpot has no deal pipeline {pipeline_id!r}; give the id of one "
                "(GET /crm/v3/pipelines/deals lists them)"
            )
    if pipeline is not None:
        hubspot_schema = with_pipeline_stages(hubspot_schema, pipeline)
        stage_spec = salesforce_schema.fields.get("StageName")
        problems += stage_problems(mapping, pipeline, stage_spec.picklist or () if stage_spec else ())
    problems += find_problems(mapping, hubspot_schema, {"Opportunity": salesforce_schema})
    if problems or pipeline is None:
        raise ConfigError(_in_file_order(problems), hint=_HINT)
    return mapping, {"hubspot": hubspot_schema, "salesforce": salesforce_schema}, pipeline


def _in_file_order(problems: list[str]) -> list[str]:
    def line(problem: str) -> int:
        parts = problem.split(":")
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0

    return sorted(dict.fromkeys(problems), key=line)


def owner_emails(hubspot: list[Owner], salesforce: list[Owner]) -> dict[tuple[str, str], str]:
    """Owner and user emails by (system, id), for the store's `owner_email`."""
    found = {("hubspot", o.id): o.email for o in hubspot if o.email}
    found.update({("salesforce", u.id): u.email for u in salesforce if u.email})
    return {key: email.strip().lower() for key, email in found.items()}


def deal_settings(flow: DealsFlowConfig, *, dry_run: bool) -> DealSettings:
    return DealSettings(dry_run=dry_run, contact_role=flow.contact_role)


def deal_flow(
    runtime: Runtime,
    mapping_path: Path,
    *,
    settings: DealSettings | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> DealFlow:
    """The deals flow, its mapping validated against the live schemas and pipeline (every problem at once)."""
    mapping, schemas, pipeline = validated_deal_mapping(runtime.hubspot, runtime.salesforce, mapping_path)
    hubspot_owners, salesforce_users = runtime.hubspot.owners(), runtime.salesforce.owners()
    return DealFlow(
        name="deals",
        hubspot=runtime.hubspot,
        salesforce=runtime.probe,
        roles=runtime.salesforce,
        store=runtime.store,
        mapping=mapping,
        schemas=schemas,
        pipeline=pipeline,
        clock=clock,
        owners=map_owners(hubspot_owners, salesforce_users),
        owner_emails=owner_emails(hubspot_owners, salesforce_users),
        settings=settings,
    )
