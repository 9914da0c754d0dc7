"""syncd: two-way HubSpot ↔ Salesforce sync with a closed-loop attribution store."""

__version__ = "0.1.0"
