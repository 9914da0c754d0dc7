"""A HubSpot API simulator the official SDK talks to unmodified: `HubSpotSandbox` serves one seeded portal."""

from connectors.hubspot.sandbox.app import HubSpotSandbox, build_app
from connectors.hubspot.sandbox.settings import HubSpotSettings
from connectors.hubspot.sandbox.state import HubSpotState

__all__ = ["HubSpotSandbox", "HubSpotSettings", "HubSpotState", "build_app"]
