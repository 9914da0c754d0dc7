"""Schemas shaped like the live describe() of HubSpot contacts and Salesforce Lead/Contact, and paths."""

from __future__ import annotations

from pathlib import Path

from syncd.connector import FieldSpec, FieldType, ObjectSchema

ROOT = Path(__file__).resolve().parents[3]
CONTACTS_YAML = ROOT / "mappings" / "contacts.yaml"

LIFECYCLE = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
LEAD_STATUS = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted")
HS_LEAD_STATUS = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)
SOURCES = (
    "ORGANIC_SEARCH",
    "PAID_SEARCH",
    "EMAIL_MARKETING",
    "SOCIAL_MEDIA",
    "REFERRALS",
    "OTHER_CAMPAIGNS",
    "DIRECT_TRAFFIC",
    "OFFLINE",
    "PAID_SOCIAL",
)
LEAD_SOURCE = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
DISQUALIFICATION_REASONS = (
    "No Budget",
    "No Authority",
    "No Need",
    "Bad Timing",
    "Competitor",
    "Unresponsive",
)


def spec(name: str, type_: FieldType = FieldType.STRING, **kw: object) -> FieldSpec:
    return FieldSpec(name=name, type=type_, **kw)  # type: ignore[arg-type]


def schema(obj: str, *specs: FieldSpec) -> ObjectSchema:
    return ObjectSchema(obj, {s.name: s for s in specs})


def hubspot_contacts() -> ObjectSchema:
    return schema(
        "contacts",
        spec("email"),
        spec("firstname"),
        spec("lastname"),
        spec("company"),
        spec("jobtitle"),
        spec("phone"),
        spec("city"),
        spec("country"),
        spec("lifecyclestage", FieldType.ENUM, picklist=LIFECYCLE, restricted_picklist=True),
        spec("hs_lead_status", FieldType.ENUM, picklist=HS_LEAD_STATUS, restricted_picklist=True),
        spec("hubspotscore", FieldType.NUMBER, updateable=False, createable=False),
        spec("hs_email_optout", FieldType.BOOL),
        spec("hubspot_owner_id", FieldType.ENUM),
        spec(
            "salesforce_lead_rating",
            FieldType.ENUM,
            picklist=("Hot", "Warm", "Cold"),
            restricted_picklist=True,
        ),
        spec("salesforce_lead_status", FieldType.ENUM, picklist=LEAD_STATUS, restricted_picklist=True),
        spec(
            "salesforce_disqualification_reason",
            FieldType.ENUM,
            picklist=DISQUALIFICATION_REASONS,
            restricted_picklist=True,
        ),
        spec(
            "hs_analytics_source",
            FieldType.ENUM,
            picklist=SOURCES,
            restricted_picklist=True,
            updateable=False,
        ),
        spec("createdate", FieldType.DATETIME, updateable=False),
    )


def salesforce_lead() -> ObjectSchema:
    return schema(
        "Lead",
        spec("Id", FieldType.ID, createable=False, updateable=False, nillable=False),
        spec("Email", FieldType.EMAIL),
        spec("FirstName"),
        spec("LastName", required_on_create=True, nillable=False),
        spec("Company", required_on_create=True, nillable=False),
        spec("Title"),
        spec("Phone"),
        spec("City"),
        spec("Country"),
        spec("Status", FieldType.ENUM, picklist=LEAD_STATUS, restricted_picklist=True),
        spec("HubSpot_Lead_Status__c"),
        spec("HubSpot_Score__c", FieldType.NUMBER),
        spec("HasOptedOutOfEmail", FieldType.BOOL),
        spec("OwnerId", FieldType.REFERENCE),
        spec("Rating", FieldType.ENUM, picklist=("Hot", "Warm", "Cold")),
        spec(
            "Disqualification_Reason__c",
            FieldType.ENUM,
            picklist=DISQUALIFICATION_REASONS,
            restricted_picklist=True,
        ),
        spec("LeadSource", FieldType.ENUM, picklist=LEAD_SOURCE),
        spec("IsConverted", FieldType.BOOL, updateable=False),
        spec("ConvertedDate", FieldType.DATE, updateable=False, createable=False),
        spec("AnnualRevenue", FieldType.NUMBER),
    )


def salesforce_contact() -> ObjectSchema:
    return schema(
        "Contact",
        spec("Id", FieldType.ID, createable=False, updateable=False, nillable=False),
        spec("Email", FieldType.EMAIL),
        spec("FirstName"),
        spec("LastName", required_on_create=True, nillable=False),
        spec("Title"),
        spec("Phone"),
        spec("MailingCity"),
        spec("MailingCountry"),
        spec("HasOptedOutOfEmail", FieldType.BOOL),
        spec("OwnerId", FieldType.REFERENCE),
        spec("LeadSource", FieldType.ENUM, picklist=LEAD_SOURCE),
    )
