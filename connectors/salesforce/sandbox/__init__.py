"""A Salesforce API simulator simple-salesforce talks to unmodified: `SalesforceSandbox` serves one org."""

from connectors.salesforce.sandbox.app import build_app
from connectors.salesforce.sandbox.org import SalesforceOrg
from connectors.salesforce.sandbox.sandbox import SalesforceSandbox
from connectors.salesforce.sandbox.settings import SalesforceSettings

__all__ = ["SalesforceOrg", "SalesforceSandbox", "SalesforceSettings", "build_app"]
