"""Fixtures: the live-like schemas of HubSpot contacts and Salesforce Lead/Contact."""

from __future__ import annotations

import pytest
from mapping_schemas import hubspot_contacts, salesforce_contact, salesforce_lead

from syncd.connector import ObjectSchema


@pytest.fixture
def hubspot_schema() -> ObjectSchema:
    return hubspot_contacts()


@pytest.fixture
def salesforce_schemas() -> dict[str, ObjectSchema]:
    return {"Lead": salesforce_lead(), "Contact": salesforce_contact()}
