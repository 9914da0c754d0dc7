"""Settings of the Salesforce connector: where to log in, with which flow, and how hard to push."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from syncd.budget import ApiBudget, DailyAllowance
from syncd.errors import ConfigError

PRODUCTION_LOGIN_URL = "https://login.salesforce.com"


@dataclass(frozen=True)
class PasswordLogin:
    """OAuth username-password flow of a connected app; the security token is appended to the password."""

    username: str
    password: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)
    security_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class ClientCredentialsLogin:
    """OAuth client-credentials flow: the connected app runs as its configured integration user."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class JwtBearerLogin:
    """OAuth JWT bearer flow: an assertion signed with the connected app's private key (RS256).

    `audience` is the login host Salesforce expects in `aud`: login.salesforce.com for production and
    My Domain orgs, https://test.salesforce.com for sandboxes, whatever host the token is posted to.
    """

    client_id: str
    username: str
    private_key_pem: str = field(repr=False)
    audience: str = PRODUCTION_LOGIN_URL


Credentials = PasswordLogin | ClientCredentialsLogin | JwtBearerLogin


@dataclass(frozen=True)
class SalesforceSettings:
    """Everything the connector needs; every vendor number is a setting because vendors change them."""

    credentials: Credentials
    login_url: str = PRODUCTION_LOGIN_URL
    api_version: str = "59.0"
    # The objects the flows sync; `check()` verifies the integration user can read each.
    objects: tuple[str, ...] = ("Lead", "Contact")
    # A CA bundle to verify the org's TLS certificate with. When given, proxy/CA environment variables
    # are ignored (REQUESTS_CA_BUNDLE would otherwise override it silently).
    ca_file: str | None = None
    timeout_seconds: float = 60.0
    # Sforce-Query-Options batchSize: Salesforce accepts 200..2000 and treats it as a hint only.
    page_size: int = 2000
    # Pull through queryAll so deletes and merges arrive as tombstones instead of silently vanishing.
    include_deleted: bool = True
    collection_size: int = 200
    retrieve_size: int = 2000
    composite_queries: int = 5
    # Bulk API 2.0 backfills: a pull with more than `bulk_threshold` records beyond its first page
    # reads the rest through a query job (Salesforce advises Bulk API 2.0 above 2,000 records);
    # records per results page, and how the job is polled.
    bulk_threshold: int = 2_000
    bulk_page_size: int = 10_000
    bulk_poll_seconds: float = 2.0
    bulk_poll_max_seconds: float = 30.0
    bulk_timeout_seconds: float = 3_600.0
    # Budget for the URL-encoded SOQL of one fetch-by-email query; GET URLs beyond ~16 kB are refused.
    max_query_chars: int = 12_000
    # syncd's share of the org's rolling 24 h allowance (which Sforce-Limit-Info reports on every
    # response): a number of calls, or a fraction of the reported limit; neither = the whole limit.
    daily_allocated: int | None = None
    daily_share: float | None = None
    # How long a flow parks after REQUEST_LIMIT_EXCEEDED before the budget asks again.
    limit_recheck_seconds: float = 900.0
    # Mapping file named in hints of per-record errors, per object.
    mapping_files: tuple[tuple[str, str], ...] = (
        ("Lead", "mappings/contacts.yaml"),
        ("Contact", "mappings/contacts.yaml"),
        ("Opportunity", "mappings/deals.yaml"),
    )

    def __post_init__(self) -> None:
        problems = []
        if not self.login_url.startswith("https://"):
            problems.append(f"salesforce.login_url must be an https:// URL (got {self.login_url!r})")
        if not 200 <= self.page_size <= 2000:
            problems.append(f"salesforce.page_size must be within 200..2000 (got {self.page_size})")
        if not 1 <= self.collection_size <= 200:
            problems.append(f"salesforce.collection_size must be within 1..200 (got {self.collection_size})")
        if not 1 <= self.retrieve_size <= 2000:
            problems.append(f"salesforce.retrieve_size must be within 1..2000 (got {self.retrieve_size})")
        if not 1 <= self.composite_queries <= 5:
            problems.append(
                f"salesforce.composite_queries must be within 1..5 (got {self.composite_queries})"
            )
        if self.bulk_threshold < 0:
            problems.append(f"salesforce.bulk_threshold must not be negative (got {self.bulk_threshold})")
        if self.bulk_page_size < 1:
            problems.append(f"salesforce.bulk_page_size must be positive (got {self.bulk_page_size})")
        if self.daily_share is not None and not 0 < self.daily_share <= 1:
            problems.append(f"salesforce.daily_share must be within (0, 1] (got {self.daily_share})")
        if self.daily_allocated is not None and self.daily_allocated < 0:
            problems.append(f"salesforce.daily_allocated must not be negative (got {self.daily_allocated})")
        if self.timeout_seconds <= 0:
            problems.append("salesforce.timeout_seconds must be positive")
        if problems:
            raise ConfigError(problems, hint="fix the salesforce section of the config file")

    def budget(self, *, clock: Callable[[], float] = time.monotonic) -> ApiBudget:
        """The client-side budget for these settings: the daily share only (Salesforce has no burst limit)."""
        return ApiBudget(
            DailyAllowance(
                "salesforce",
                allocated=self.daily_allocated,
                share=self.daily_share,
                server_recheck_after=self.limit_recheck_seconds,
                clock=clock,
            )
        )

    def mapping_file(self, object: str) -> str:
        return dict(self.mapping_files).get(object, "the flow's mapping file")
