"""The configuration schema: what a valid, fully resolved syncd config looks like.

Every model forbids unknown keys and is frozen. Secrets are `SecretStr`, so they never
print; `store.url` is left out of reprs and masked in dumps because it may carry a password.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from syncd.config.base import Section, existing_file
from syncd.config.channels import ChannelsConfig
from syncd.config.flows import FlowConfig, FlowsConfig
from syncd.config.lifecycle import LifecycleConfig
from syncd.config.teams import TeamsConfig

DEFAULT_STORE_URL = "sqlite:///syncd.db"
"""A SQLite file named syncd.db in the working directory: no database server needed."""


# Salesforce's generic login hosts cannot serve the client-credentials flow: it needs the org's My Domain.
_GENERIC_LOGIN_HOSTS = ("login.salesforce.com", "test.salesforce.com")


_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def _https_url(value: str) -> str:
    # Tokens travel in headers: plain http would leak them, except to a test server on this machine.
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        host = None
    if not host or not (parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK_HOSTS)):
        raise PydanticCustomError(
            "https_url",
            "expected an https:// URL, got '{value}' — write it like https://api.example.com "
            "(plain http only to localhost)",
            {"value": value},
        )
    return value.rstrip("/")


class StoreConfig(Section):
    url: str = Field(default=DEFAULT_STORE_URL, repr=False)

    @field_validator("url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise PydanticCustomError(
                "store_url",
                "not a database URL — use sqlite:///path/to/syncd.db or postgresql+psycopg://user@host/db",
            ) from None
        if url.drivername in ("postgresql", "postgres"):
            # psycopg 3 is the driver we ship; SQLAlchemy's bare `postgresql` would look for psycopg2.
            return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        if url.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
            raise PydanticCustomError(
                "store_url",
                "unsupported database '{driver}' — use sqlite:///path/to/syncd.db or postgresql+psycopg://user@host/db",
                {"driver": url.drivername},
            )
        return value

    @field_serializer("url")
    def _mask_in_dumps(self, value: str) -> str:
        # Dumps are for display and logs, like reprs: they never carry the password.
        return mask_url(value)

    @property
    def display_url(self) -> str:
        """The URL with any password masked, for messages and logs."""
        return mask_url(self.url)


def mask_url(url: str) -> str:
    """`url` with its password replaced by ***; unparseable input is returned unchanged."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


class HubSpotLimits(Section):
    burst_per_10s: int = Field(default=100, ge=1)
    daily: int = Field(default=250_000, ge=1)
    search_per_second: int = Field(default=5, ge=1)


class HubSpotConfig(Section):
    access_token: SecretStr
    base_url: str = "https://api.hubapi.com"
    # A CA bundle to verify the API's TLS certificate (a TLS-intercepting proxy, a test server).
    ca_file: Path | None = None
    limits: HubSpotLimits = HubSpotLimits()

    _ca_file_exists = field_validator("ca_file")(existing_file)

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return _https_url(value)


class PasswordAuth(Section):
    """OAuth username-password flow: it needs the connected app's id and secret as well as the user's."""

    flow: Literal["password"]
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    username: str = Field(min_length=1)
    password: SecretStr
    # Not needed when the org trusts syncd's IP range.
    security_token: SecretStr | None = None


class ClientCredentialsAuth(Section):
    flow: Literal["client_credentials"]
    client_id: str = Field(min_length=1)
    client_secret: SecretStr


class JwtAuth(Section):
    flow: Literal["jwt"]
    client_id: str = Field(min_length=1)
    username: str = Field(min_length=1)
    private_key: SecretStr


SalesforceAuth = Annotated[PasswordAuth | ClientCredentialsAuth | JwtAuth, Field(discriminator="flow")]


class SalesforceLimits(Section):
    daily_allocation: int = Field(default=5000, ge=1)


class SalesforceConfig(Section):
    login_url: str = "https://login.salesforce.com"
    api_version: str = "62.0"
    auth: SalesforceAuth
    # A CA bundle to verify the org's TLS certificate (a TLS-intercepting proxy, a test server).
    ca_file: Path | None = None
    limits: SalesforceLimits = SalesforceLimits()

    _ca_file_exists = field_validator("ca_file")(existing_file)

    @field_validator("login_url")
    @classmethod
    def _check_login_url(cls, value: str) -> str:
        return _https_url(value)

    @field_validator("api_version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        # An unquoted 62.0 in YAML arrives as a float.
        if isinstance(value, float | int) and not isinstance(value, bool):
            return f"{float(value):.1f}"
        return value

    @field_validator("api_version")
    @classmethod
    def _version_shape(cls, value: str) -> str:
        major, dot, minor = value.partition(".")
        if not (major.isdigit() and dot and minor == "0"):
            raise PydanticCustomError(
                "api_version",
                "expected a Salesforce API version, got '{value}' — write it quoted, e.g. \"62.0\"",
                {"value": value},
            )
        return value

    @model_validator(mode="after")
    def _client_credentials_need_my_domain(self) -> SalesforceConfig:
        host = (urlsplit(self.login_url).hostname or "").lower()
        if isinstance(self.auth, ClientCredentialsAuth) and host in _GENERIC_LOGIN_HOSTS:
            raise PydanticCustomError(
                "my_domain_required",
                "the client_credentials flow cannot log in through {host} — set salesforce.login_url "
                "to your org's My Domain URL (https://<your-domain>.my.salesforce.com)",
                {"host": host},
            )
        return self


class DaemonConfig(Section):
    # Where the daemon serves its dashboard and /healthz.
    health_bind: str = "127.0.0.1:8080"
    # Required to serve the dashboard on a non-loopback address; readers send it as a Bearer token.
    dashboard_token: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("health_bind", mode="before")
    @classmethod
    def _host_port(cls, value: Any) -> Any:
        host, sep, port = str(value).rpartition(":")
        if (
            not isinstance(value, str)
            or not sep
            or not host
            or not port.isdigit()
            or not 1 <= int(port) <= 65535
        ):
            raise PydanticCustomError(
                "host_port",
                "expected host:port, got '{value}' — write it like 127.0.0.1:8080 "
                "(0.0.0.0:8080 for all interfaces)",
                {"value": value},
            )
        return value

    @property
    def health_host(self) -> str:
        return self.health_bind.rpartition(":")[0].strip("[]")

    @property
    def health_port(self) -> int:
        return int(self.health_bind.rpartition(":")[2])


class Config(Section):
    """The whole resolved configuration."""

    store: StoreConfig = StoreConfig()
    hubspot: HubSpotConfig
    salesforce: SalesforceConfig
    flows: FlowsConfig = FlowsConfig()
    daemon: DaemonConfig = DaemonConfig()
    lifecycle: LifecycleConfig = LifecycleConfig()
    channels: ChannelsConfig = ChannelsConfig()
    teams: TeamsConfig = TeamsConfig()  # sales teams by owner email, for SLA reports by team

    def enabled_flows(self) -> dict[str, FlowConfig]:
        """The flows that should run, in the order they run in (FLOW_NAMES)."""
        return {name: flow for name, flow in self.flows.configured().items() if flow.enabled}
