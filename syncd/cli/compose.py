"""The composition root: the one place that knows the concrete connectors and wires flows from config.

Everything else in syncd sees systems only through `syncd.connector.Connector`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine

from connectors.hubspot.config import HubSpotConfig as HubSpotSettings
from connectors.hubspot.connector import HubSpotConnector
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.settings import (
    ClientCredentialsLogin,
    Credentials,
    JwtBearerLogin,
    PasswordLogin,
    SalesforceSettings,
)
from syncd.config.model import ClientCredentialsAuth, Config, JwtAuth, PasswordAuth
from syncd.connector import ObjectSchema
from syncd.engine.contacts import ContactFlow, FlowSettings
from syncd.engine.engagements import EngagementFlow, EngagementSettings
from syncd.engine.logged import LoggedEngagements
from syncd.engine.probe import SharedProbe
from syncd.errors import ConfigError
from syncd.mapping.loader import load_mapping
from syncd.mapping.model import FlowMapping
from syncd.mapping.owners import map_owners
from syncd.mapping.validate import validate_mapping
from syncd.store.db import make_engine
from syncd.store.migrate import require_head


def hubspot_from_config(config: Config) -> HubSpotConnector:
    section = config.hubspot
    return HubSpotConnector(
        HubSpotSettings(
            access_token=section.access_token.get_secret_value(),
            base_url=section.base_url,
            ssl_ca_cert=str(section.ca_file) if section.ca_file else None,
            burst_limit=section.limits.burst_per_10s,
            search_per_second=section.limits.search_per_second,
            daily_limit=section.limits.daily,
        )
    )


def _credentials(config: Config) -> Credentials:
    auth = config.salesforce.auth
    if isinstance(auth, PasswordAuth):
        return PasswordLogin(
            username=auth.username,
            password=auth.password.get_secret_value(),
            client_id=auth.client_id,
            client_secret=auth.client_secret.get_secret_value(),
            security_token=auth.security_token.get_secret_value() if auth.security_token else "",
        )
    if isinstance(auth, ClientCredentialsAuth):
        return ClientCredentialsLogin(
            client_id=auth.client_id, client_secret=auth.client_secret.get_secret_value()
        )
    assert isinstance(auth, JwtAuth)
    # The JWT audience is Salesforce's login service itself, never a My Domain URL.
    return JwtBearerLogin(
        client_id=auth.client_id, username=auth.username, private_key_pem=auth.private_key.get_secret_value()
    )


def salesforce_from_config(config: Config) -> SalesforceConnector:
    section = config.salesforce
    settings = SalesforceSettings(
        credentials=_credentials(config),
        login_url=section.login_url,
        api_version=section.api_version,
        ca_file=str(section.ca_file) if section.ca_file else None,
        daily_allocated=section.limits.daily_allocation,
    )
    return SalesforceConnector(settings, budget=settings.budget())


@dataclass
class Runtime:
    """Open connections to both systems and the store; close() releases them.

    Flows read Salesforce through `probe`, which serves a cycle's first pages from one shared
    prefetch (syncd/engine/probe.py); `salesforce` is the connector itself (describe, validation).
    """

    hubspot: HubSpotConnector
    salesforce: SalesforceConnector
    store: Engine
    # The configuration the runtime was opened from (flows read top-level sections such as channels).
    config: Config | None = None
    # What every flow built on this runtime reads the time from (benchmarks and tests move it).
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    probe: SharedProbe = field(init=False)

    def __post_init__(self) -> None:
        self.probe = SharedProbe(self.salesforce)

    def close(self) -> None:
        self.hubspot.close()
        self.salesforce.close()
        self.store.dispose()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_runtime(config: Config) -> Runtime:
    """Connect to the store (refusing one that is not migrated) and build both connectors."""
    store = make_engine(config.store.url)
    try:
        require_head(store)
    except BaseException:
        store.dispose()
        raise
    return Runtime(hubspot_from_config(config), salesforce_from_config(config), store, config)


def contact_schemas(
    hubspot: HubSpotConnector, salesforce: SalesforceConnector, salesforce_objects: tuple[str, ...]
) -> dict[tuple[str, str], ObjectSchema]:
    schemas = {("hubspot", "contacts"): hubspot.describe("contacts")}
    for obj in salesforce_objects:
        schemas[("salesforce", obj)] = salesforce.describe(obj)
    return schemas


def validated_mapping(
    hubspot: HubSpotConnector, salesforce: SalesforceConnector, mapping_path: Path
) -> tuple[FlowMapping, dict[tuple[str, str], ObjectSchema]]:
    """The mapping at `mapping_path` and the live schemas it was validated against.

    Raises ConfigError listing every problem (file and line) when the mapping does not fit.
    """
    mapping = load_mapping(mapping_path)
    schemas = contact_schemas(hubspot, salesforce, mapping.salesforce_objects)
    validate_mapping(
        mapping,
        schemas[("hubspot", mapping.hubspot_object)],
        {obj: schemas[("salesforce", obj)] for obj in mapping.salesforce_objects},
    )
    return mapping, schemas


def contact_flow(
    runtime: Runtime,
    mapping_path: Path,
    *,
    settings: FlowSettings | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ContactFlow:
    """The contacts flow, its mapping validated against the live schemas (every problem at once)."""
    mapping, schemas = validated_mapping(runtime.hubspot, runtime.salesforce, mapping_path)
    owners = None
    if any(t.label == "owner" for entry in mapping.fields for t in (*entry.to_crm, *entry.to_marketing)):
        owners = map_owners(runtime.hubspot.owners(), runtime.salesforce.owners())
    return ContactFlow(
        name=mapping.flow,
        owners=owners,
        hubspot=runtime.hubspot,
        salesforce=runtime.probe,
        store=runtime.store,
        mapping=mapping,
        schemas=schemas,
        clock=clock,
        settings=settings,
    )


def require_task_key(salesforce: SalesforceConnector, settings: EngagementSettings) -> None:
    """Refuse an org whose Task lacks the external-id field engagement Tasks are keyed by."""
    key_field = settings.tasks.key_field
    if key_field not in salesforce.describe("Task").fields:
        raise ConfigError(
            [f"flows.engagements: Salesforce Task has no field {key_field}"],
            hint=f"create a Text(40) External ID, Unique field {key_field} on Task: marketing touches "
            "are saved as Tasks keyed by it, so a replay never creates a Task twice",
        )


def engagement_flow(
    runtime: Runtime,
    *,
    settings: EngagementSettings | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    logged: LoggedEngagements | None = None,
) -> EngagementFlow:
    """The engagements flow, once Salesforce's Task has the external-id field its Tasks are keyed by.
    `logged` adds the calls, meetings and notes reps log in HubSpot (syncd/cli/compose_activities.py)."""
    settings = settings or EngagementSettings()
    require_task_key(runtime.salesforce, settings)
    return EngagementFlow(
        name="engagements",
        hubspot=runtime.hubspot,
        salesforce=runtime.probe,
        store=runtime.store,
        clock=clock,
        settings=settings,
        logged=logged,
    )
