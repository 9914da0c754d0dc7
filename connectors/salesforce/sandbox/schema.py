"""The simulated org's objects and fields, and their describe() shapes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Describe "type" → SOAP type, as the real describe reports it.
_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "string": "xsd:string",
    "email": "xsd:string",
    "phone": "xsd:string",
    "url": "xsd:string",
    "textarea": "xsd:string",
    "picklist": "xsd:string",
    "combobox": "xsd:string",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
}
STRING_TYPES = frozenset({"string", "email", "phone", "url", "textarea", "picklist", "combobox"})
NUMBER_TYPES = frozenset({"double", "currency", "percent", "int"})
ID_TYPES = frozenset({"id", "reference"})


@dataclass(frozen=True)
class FieldDef:
    """One field of one object, as describe() reports it."""

    name: str
    type: str
    label: str = ""
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    default_value: Any = None
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    external_id: bool = False
    unique: bool = False
    custom: bool = False
    calculated: bool = False
    precision: int = 0
    scale: int = 0
    name_field: bool = False

    @property
    def required_on_create(self) -> bool:
        return self.createable and not self.nillable and not self.defaulted_on_create


@dataclass(frozen=True)
class ObjectDef:
    """One sObject type: its key prefix and fields, in describe order."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: Mapping[str, FieldDef]
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    has_owner: bool = True
    lower_names: Mapping[str, str] = field(default_factory=dict)
    relationships: Mapping[str, str] = field(default_factory=dict)  # lower relationship name → field name

    def field_named(self, name: str) -> FieldDef | None:
        """Case-insensitive lookup, as the API does it."""
        canonical = self.lower_names.get(name.lower())
        return self.fields[canonical] if canonical is not None else None

    def relationship(self, name: str) -> FieldDef | None:
        canonical = self.relationships.get(name.lower())
        return self.fields[canonical] if canonical is not None else None


def _label(name: str) -> str:
    base = name.removesuffix("__c").removesuffix("Id") if name != "Id" else "Id"
    out = []
    for i, ch in enumerate(base.replace("_", " ")):
        if i and ch.isupper() and base[i - 1].islower():
            out.append(" ")
        out.append(ch)
    return "".join(out).strip() or name


def _f(name: str, type_: str, length: int = 0, **kw: Any) -> FieldDef:
    if type_ in ("id", "reference") and not length:
        length = 18
    if "label" not in kw:
        kw["label"] = _label(name)
    return FieldDef(name=name, type=type_, length=length, custom=name.endswith("__c"), **kw)


def _ro(name: str, type_: str, length: int = 0, **kw: Any) -> FieldDef:
    return _f(name, type_, length, createable=False, updateable=False, **kw)


def _ref(name: str, to: tuple[str, ...], rel: str, **kw: Any) -> FieldDef:
    return _f(name, "reference", reference_to=to, relationship_name=rel, **kw)


def _pick(name: str, values: tuple[str, ...], *, restricted: bool = False, **kw: Any) -> FieldDef:
    return _f(name, "picklist", 255, picklist=values, restricted=restricted, **kw)


def _system_fields(*, owner: bool, owner_to: tuple[str, ...] = ("User",)) -> list[FieldDef]:
    out = [
        _ro("IsDeleted", "boolean", nillable=False, defaulted_on_create=True, default_value=False),
        _ro("CreatedDate", "datetime", nillable=False, defaulted_on_create=True),
        _ro(
            "CreatedById",
            "reference",
            nillable=False,
            defaulted_on_create=True,
            reference_to=("User",),
            relationship_name="CreatedBy",
        ),
        _ro("LastModifiedDate", "datetime", nillable=False, defaulted_on_create=True),
        _ro(
            "LastModifiedById",
            "reference",
            nillable=False,
            defaulted_on_create=True,
            reference_to=("User",),
            relationship_name="LastModifiedBy",
        ),
        _ro("SystemModstamp", "datetime", nillable=False, defaulted_on_create=True),
    ]
    if owner:
        out.append(_ref("OwnerId", owner_to, "Owner", nillable=False, defaulted_on_create=True))
    return out


LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Advertisement", "Other")
INDUSTRIES = (
    "Agriculture",
    "Banking",
    "Communications",
    "Consulting",
    "Education",
    "Energy",
    "Finance",
    "Healthcare",
    "Manufacturing",
    "Media",
    "Retail",
    "Technology",
    "Other",
)
SALUTATIONS = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")
DISQUALIFICATION_REASONS = (
    "No Budget",
    "No Authority",
    "No Need",
    "Bad Timing",
    "Competitor",
    "Unresponsive",
)

# StageName → (probability, IsClosed, IsWon, ForecastCategoryName), as in a default org.
OPPORTUNITY_STAGES: Mapping[str, tuple[float, bool, bool, str]] = {
    "Prospecting": (10.0, False, False, "Pipeline"),
    "Qualification": (10.0, False, False, "Pipeline"),
    "Needs Analysis": (20.0, False, False, "Pipeline"),
    "Value Proposition": (50.0, False, False, "Pipeline"),
    "Id. Decision Makers": (60.0, False, False, "Pipeline"),
    "Perception Analysis": (70.0, False, False, "Pipeline"),
    "Proposal/Price Quote": (75.0, False, False, "Pipeline"),
    "Negotiation/Review": (90.0, False, False, "Pipeline"),
    "Closed Won": (100.0, True, True, "Closed"),
    "Closed Lost": (0.0, True, False, "Omitted"),
}
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
CLOSED_TASK_STATUSES = frozenset({"Completed"})
CAMPAIGN_TYPES = (
    "Email",
    "Webinar",
    "Paid Search",
    "Social",
    "Content",
    "Trade Show",
    "Referral",
    "Conference",
    "Advertisement",
    "Direct Mail",
    "Partners",
    "Other",
)
CAMPAIGN_MEMBER_STATUSES = ("Sent", "Responded")
RESPONDED_MEMBER_STATUSES = frozenset({"Responded"})


def _lead() -> list[FieldDef]:
    return [
        _f("Id", "id", createable=False, updateable=False, nillable=False, defaulted_on_create=True),
        *_system_fields(owner=True, owner_to=("Group", "User"))[:1],
        _ro("MasterRecordId", "reference", reference_to=("Lead",), relationship_name="MasterRecord"),
        _f("LastName", "string", 80, nillable=False),
        _f("FirstName", "string", 40),
        _pick("Salutation", SALUTATIONS),
        _ro(
            "Name",
            "string",
            121,
            name_field=True,
            nillable=False,
            defaulted_on_create=True,
            label="Full Name",
        ),
        _f("Title", "string", 128),
        _f("Company", "string", 255, nillable=False),
        _f("Street", "textarea", 255),
        _f("City", "string", 40),
        _f("State", "string", 80, label="State/Province"),
        _f("PostalCode", "string", 20, label="Zip/Postal Code"),
        _f("Country", "string", 80),
        _f("Phone", "phone", 40),
        _f("MobilePhone", "phone", 40),
        _f("Email", "email", 80),
        _f("Website", "url", 255),
        _f("Description", "textarea", 32000),
        _pick("LeadSource", LEAD_SOURCES),
        _pick(
            "Status",
            LEAD_STATUSES,
            restricted=True,
            nillable=False,
            defaulted_on_create=True,
            default_value="Open - Not Contacted",
        ),
        _pick("Industry", INDUSTRIES),
        _pick("Rating", ("Hot", "Warm", "Cold")),
        _f("AnnualRevenue", "currency", precision=18, scale=0),
        _f("NumberOfEmployees", "int", precision=8, label="Employees"),
        *_system_fields(owner=True, owner_to=("Group", "User"))[6:],
        _f(
            "HasOptedOutOfEmail",
            "boolean",
            nillable=False,
            defaulted_on_create=True,
            default_value=False,
            label="Email Opt Out",
        ),
        _f("DoNotCall", "boolean", nillable=False, defaulted_on_create=True, default_value=False),
        _ro(
            "IsConverted",
            "boolean",
            nillable=False,
            defaulted_on_create=True,
            default_value=False,
            label="Converted",
        ),
        _ro("ConvertedDate", "date"),
        _ro(
            "ConvertedAccountId", "reference", reference_to=("Account",), relationship_name="ConvertedAccount"
        ),
        _ro(
            "ConvertedContactId", "reference", reference_to=("Contact",), relationship_name="ConvertedContact"
        ),
        _ro(
            "ConvertedOpportunityId",
            "reference",
            reference_to=("Opportunity",),
            relationship_name="ConvertedOpportunity",
        ),
        _f("IsUnreadByOwner", "boolean", nillable=False, defaulted_on_create=True, default_value=True),
        *_system_fields(owner=False)[1:],
        _ro("LastActivityDate", "date"),
        _f("HubSpot_Score__c", "double", precision=18, scale=0, label="HubSpot Score"),
        _f("HubSpot_Lead_Status__c", "string", 255, label="HubSpot Lead Status"),
        _pick(
            "Disqualification_Reason__c",
            DISQUALIFICATION_REASONS,
            restricted=True,
            label="Disqualification Reason",
        ),
        _f("HubSpot_Contact_Id__c", "string", 40, external_id=True, unique=True, label="HubSpot Contact ID"),
        _pick(
            "Lifecycle_Stage__c",
            ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"),
            label="Lifecycle Stage",
        ),
    ]


def _contact() -> list[FieldDef]:
    return [
        _f("Id", "id", createable=False, updateable=False, nillable=False, defaulted_on_create=True),
        *_system_fields(owner=False)[:1],
        _ro("MasterRecordId", "reference", reference_to=("Contact",), relationship_name="MasterRecord"),
        _ref("AccountId", ("Account",), "Account", label="Account ID"),
        _f("LastName", "string", 80, nillable=False),
        _f("FirstName", "string", 40),
        _pick("Salutation", SALUTATIONS),
        _ro(
            "Name",
            "string",
            121,
            name_field=True,
            nillable=False,
            defaulted_on_create=True,
            label="Full Name",
        ),
        _f("MailingStreet", "textarea", 255),
        _f("MailingCity", "string", 40),
        _f("MailingCountry", "string", 80),
        _f("Phone", "phone", 40, label="Business Phone"),
        _f("MobilePhone", "phone", 40),
        _f("Email", "email", 80),
        _f("Title", "string", 128),
        _f("Department", "string", 80),
        _pick("LeadSource", LEAD_SOURCES),
        _f("Birthdate", "date"),
        _f("Description", "textarea", 32000),
        *_system_fields(owner=True)[6:],
        _f(
            "HasOptedOutOfEmail",
            "boolean",
            nillable=False,
            defaulted_on_create=True,
            default_value=False,
            label="Email Opt Out",
        ),
        _f("DoNotCall", "boolean", nillable=False, defaulted_on_create=True, default_value=False),
        *_system_fields(owner=False)[1:],
        _ro("LastActivityDate", "date"),
        _f("HubSpot_Score__c", "double", precision=18, scale=0, label="HubSpot Score"),
        _f("HubSpot_Contact_Id__c", "string", 40, external_id=True, unique=True, label="HubSpot Contact ID"),
        _pick(
            "Lifecycle_Stage__c",
            ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"),
            label="Lifecycle Stage",
        ),
    ]


def _account() -> list[FieldDef]:
    return [
        _f("Id", "id", createable=False, updateable=False, nillable=False, defaulted_on_create=True),
        *_system_fields(owner=False)[:1],
        _ro("MasterRecordId", "reference", reference_to=("Account",), relationship_name="MasterRecord"),
        _f("Name", "string", 255, nillable=False, name_field=True, label="Account Name"),
        _pick(
            "Type",
            (
                "Prospect",
                "Customer - Direct",
                "Customer - Channel",
                "Channel Partner / Reseller",
                "Installation Partner",
                "Technology Partner",
                "Other",
            ),
            label="Account Type",
        ),
        _ref("ParentId", ("Account",), "Parent", label="Parent Account ID"),
        _f("BillingCity", "string", 40),
        _f("BillingCountry", "string", 80),
        _f("Phone", "phone", 40, label="Account Phone"),
        _f("Website", "url", 255),
        _pick("Industry", INDUSTRIES),
        _f("AnnualRevenue", "currency", precision=18, scale=0),
        _f("NumberOfEmployees", "int", precision=8, label="Employees"),
        _f("Description", "textarea", 32000, label="Account Description"),
        *_system_fields(owner=True)[6:],
        *_system_fields(owner=False)[1:],
        _ro("LastActivityDate", "date"),
        _f("HubSpot_Company_Id__c", "string", 40, external_id=True, unique=True, label="HubSpot Company ID"),
    ]


def _opportunity() -> list[FieldDef]:
    return [
        _f("Id", "id", createable=False, updateable=False, nillable=False, defaulted_on_create=True),
        *_system_fields(owner=False)[:1],
        _ref("AccountId", ("Account",), "Account", label="Account ID"),
        _f("Name", "string", 120, nillable=False, name_field=True),
        _f("Description", "textarea", 32000),
        _pick("StageName", tuple(OPPORTUNITY_STAGES), restricted=True, nillable=False, label="Stage"),
        _f("Amount", "currency", precision=18, scale=2),
        _f("Probability", "percent", precision=3, scale=0, defaulted_on_create=True, label="Probability (%)"),
        _f("CloseDate", "date", nillable=False),
        _pick(
            "Type",
            (
                "Existing Customer - Upgrade",
                "Existing Customer - Replacement",
                "Existing Customer - Downgrade",
                "New Customer",
            ),
            label="Opportunity Type",
        ),
        _pick("LeadSource", LEAD_SOURCES),
        _ro(
            "IsClosed",
            "boolean",
            nillable=False,
            defaulted_on_create=True,
            default_value=False,
            label="Closed",
        ),
        _ro("IsWon", "boolean", nillable=False, defaulted_on_create=True, default_value=False, label="Won"),
        _pick(
            "ForecastCategoryName",
            ("Omitted", "Pipeline", "Best Case", "Commit", "Closed"),
            label="Forecast Category",
        ),
        _ref("CampaignId", ("Campaign",), "Campaign", label="Campaign ID"),
        _ref("ContactId", ("Contact",), "Contact", label="Contact ID"),
        *_system_fields(owner=True)[6:],
        *_system_fields(owner=False)[1:],
        _ro("LastActivityDate", "date"),
        _f("HubSpot_Deal_Id__c", "string", 40, external_id=True, unique=True, label="HubSpot Deal ID"),
    ]


def _opportunity_contact_role() -> list[FieldDef]:
    return [
        _f("Id", "id", createable=False, updateable=False, nillable=False, defaulted_on_create=True),
        _ref(
            "OpportunityId",
            ("Opportunity",),
            "Opportunity",
            nillable=False,
            updateable=False,
            label="Opportunity ID",
        ),
        _ref("ContactId", ("Contact",), "Contact", nillable=False, label="Contact ID"),
        _pick(
            "Role",
            (
                "Business User",
                "Decision Maker",
                "Economic Buyer",
                "Economic Decision Maker",
                "Evaluator",
                "Executive Sponsor",
                "Influencer",
                "Technical Buyer",
                "Other",
            ),
        ),
        _f(
            "IsPrimary",
            "boolean",
            nillable=False,
            defaulted_on_create=True,
            default_value=False,
            label="Primary",
        ),
        *_system_fields(owner=False),
    ]


def _opportunity_history() -> list[FieldDef]:
    """A row the platform writes when an Opportunity is created and whenever its stage, amount, close
    date or probability changes: the stage history. Read-only through the API."""
    system = _system_fields(owner=False)
    return [
        _ro("Id", "id", nillable=False, defaulted_on_create=True),
        _ro(
            "OpportunityId",
            "reference",
            nillable=False,
            reference_to=("Opportunity",),
            relationship_name="Opportunity",
            label="Opportunity ID",
        ),
        *system[1:3],
        _ro("StageName", "picklist", 255, picklist=tuple(OPPORTUNITY_STAGES), label="Stage"),
        _ro("Amount", "currency", precision=18, scale=2),
        _ro("ExpectedRevenue", "currency", precision=18, scale=2, label="Expected Revenue"),
        _ro("CloseDate", "date"),
        _ro("Probability", "percent", precision=3, scale=0, label="Probability (%)"),
        _ro(
            "ForecastCategory",
            "picklist",
            40,
            picklist=("Omitted", "Pipeline", "BestCase", "Forecast", "Closed"),
            label="Forecast Category",
        ),
        system[0],
        system[5],
    ]


def _task() -> list[FieldDef]:
    return [
        _f("Id", "id", createable=False, updateable=False, nillable=False, defaulted_on_create=True),
        _ref("WhoId", ("Contact", "Lead"), "Who", label="Name ID"),
        _ref("WhatId", ("Account", "Opportunity", "Campaign"), "What", label="Related To ID"),
        _f("Subject", "combobox", 255),
        _f("ActivityDate", "date", label="Due Date Only"),
        _pick(
            "Status",
            TASK_STATUSES,
            restricted=True,
            nillable=False,
            defaulted_on_create=True,
            default_value="Not Started",
        ),
        _pick(
            "Priority",
            ("High", "Normal", "Low"),
            restricted=True,
            nillable=False,
            defaulted_on_create=True,
            default_value="Normal",
        ),
        *_system_fields(owner=True)[6:],
        _f("Description", "textarea", 32000, label="Comments"),
        _pick("Type", ("Call", "Email", "Meeting", "Other")),
        _f(
            "TaskSubtype",
            "picklist",
            40,
            picklist=("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"),
            restricted=True,
            updateable=False,
            defaulted_on_create=True,
            default_value="Task",
        ),
        _ro(
            "IsClosed",
            "boolean",
            nillable=False,
            defaulted_on_create=True,
            default_value=False,
            label="Closed",
        ),
        _ro("CompletedDateTime", "datetime"),
        *_system_fields(owner=False),
        _f("CallDurationInSeconds", "int", precision=8, label="Call Duration"),
        _pick("CallType", ("Internal", "Inbound", "Outbound")),
        _f("CallDisposition", "string", 255, label="Call Result"),
        _f("CallObject", "string", 255, label="Call Object Identifier"),
        _f(
            "HubSpot_Engagement_Id__c",
            "string",
            40,
            external_id=True,
            unique=True,
            label="HubSpot Engagement ID",
        ),
    ]


def _event() -> list[FieldDef]:
    """A calendar event (a meeting): times as either start and end or start and duration."""
    return [
        _f("Id", "id", createable=False, updateable=False, nillable=False, defaulted_on_create=True),
        _ref("WhoId", ("Contact", "Lead"), "Who", label="Name ID"),
        _ref("WhatId", ("Account", "Opportunity", "Campaign"), "What", label="Related To ID"),
        _f("Subject", "combobox", 255),
        _f("Location", "string", 255),
        _f(
            "IsAllDayEvent",
            "boolean",
            nillable=False,
            defaulted_on_create=True,
            default_value=False,
            label="All-Day Event",
        ),
        _f("ActivityDateTime", "datetime", label="Due Date Time"),
        _f("ActivityDate", "date", label="Due Date Only"),
        _f("DurationInMinutes", "int", precision=8, label="Duration"),
        _f("StartDateTime", "datetime", label="Start Date Time"),
        _f("EndDateTime", "datetime", label="End Date Time"),
        _f("Description", "textarea", 32000),
        *_system_fields(owner=True)[6:],
        _pick("Type", ("Call", "Email", "Meeting", "Other")),
        _pick("ShowAs", ("Busy", "OutOfOffice", "Free"), defaulted_on_create=True, default_value="Busy"),
        _f(
            "IsPrivate",
            "boolean",
            nillable=False,
            defaulted_on_create=True,
            default_value=False,
            label="Private",
        ),
        _f(
            "EventSubtype",
            "picklist",
            40,
            picklist=("Event",),
            restricted=True,
            updateable=False,
            defaulted_on_create=True,
            default_value="Event",
        ),
        *_system_fields(owner=False),
    ]


def _campaign() -> list[FieldDef]:
    return [
        _f("Id", "id", createable=False, updateable=False, nillable=False, defaulted_on_create=True),
        *_system_fields(owner=False)[:1],
        _f("Name", "string", 80, nillable=False, name_field=True),
        _ref("ParentId", ("Campaign",), "Parent", label="Parent Campaign ID"),
        _pick("Type", CAMPAIGN_TYPES),
        _pick("Status", ("Planned", "In Progress", "Completed", "Aborted")),
        _f("StartDate", "date"),
        _f("EndDate", "date"),
        _f("ExpectedRevenue", "currency", precision=18, scale=0),
        _f("BudgetedCost", "currency", precision=18, scale=0),
        _f("ActualCost", "currency", precision=18, scale=0),
        _f(
            "IsActive",
            "boolean",
            nillable=False,
            defaulted_on_create=True,
            default_value=False,
            label="Active",
        ),
        _f("Description", "textarea", 32000),
        _f("Channel__c", "string", 80, label="Channel"),
        *_system_fields(owner=True)[6:],
        *_system_fields(owner=False)[1:],
        _f(
            "HubSpot_Campaign_Id__c", "string", 40, external_id=True, unique=True, label="HubSpot Campaign ID"
        ),
    ]


def _campaign_member() -> list[FieldDef]:
    return [
        _f("Id", "id", createable=False, updateable=False, nillable=False, defaulted_on_create=True),
        *_system_fields(owner=False)[:1],
        _ref("CampaignId", ("Campaign",), "Campaign", nillable=False, updateable=False, label="Campaign ID"),
        _ref("LeadId", ("Lead",), "Lead", updateable=False, label="Lead ID"),
        _ref("ContactId", ("Contact",), "Contact", updateable=False, label="Contact ID"),
        _pick("Status", CAMPAIGN_MEMBER_STATUSES, defaulted_on_create=True, default_value="Sent"),
        _ro(
            "HasResponded",
            "boolean",
            nillable=False,
            defaulted_on_create=True,
            default_value=False,
            label="Responded",
        ),
        _ro("FirstRespondedDate", "date"),
        *_system_fields(owner=False)[1:],
    ]


def _user() -> list[FieldDef]:
    return [
        _f("Id", "id", createable=False, updateable=False, nillable=False, defaulted_on_create=True),
        _f("Username", "string", 80, nillable=False, unique=True),
        _f("LastName", "string", 80, nillable=False),
        _f("FirstName", "string", 40),
        _ro(
            "Name",
            "string",
            121,
            name_field=True,
            nillable=False,
            defaulted_on_create=True,
            label="Full Name",
        ),
        _f("Title", "string", 80),
        _f("Email", "email", 128, nillable=False),
        _f("Alias", "string", 8, nillable=False),
        _f(
            "IsActive",
            "boolean",
            nillable=False,
            defaulted_on_create=True,
            default_value=True,
            label="Active",
        ),
        _f(
            "TimeZoneSidKey",
            "picklist",
            40,
            picklist=("America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Berlin", "GMT"),
            restricted=True,
            defaulted_on_create=True,
            default_value="GMT",
            nillable=False,
            label="Time Zone",
        ),
        *_system_fields(owner=False)[1:],
    ]


def _organization() -> list[FieldDef]:
    return [
        _ro("Id", "id", nillable=False, defaulted_on_create=True),
        _ro("Name", "string", 80, nillable=False, name_field=True),
        _ro(
            "OrganizationType",
            "picklist",
            40,
            picklist=("Developer Edition", "Enterprise Edition", "Unlimited Edition", "Professional Edition"),
        ),
        _ro("IsSandbox", "boolean", nillable=False, defaulted_on_create=True, default_value=False),
        _ro("InstanceName", "string", 5),
        _ro("TimeZoneSidKey", "picklist", 40, picklist=("GMT",)),
        _ro("LanguageLocaleKey", "picklist", 40, picklist=("en_US",)),
        *_system_fields(owner=False)[1:],
    ]


_OBJECTS: tuple[tuple[str, str, str, str, bool, Any], ...] = (
    ("Lead", "Lead", "Leads", "00Q", True, _lead),
    ("Contact", "Contact", "Contacts", "003", True, _contact),
    ("Account", "Account", "Accounts", "001", True, _account),
    ("Opportunity", "Opportunity", "Opportunities", "006", True, _opportunity),
    (
        "OpportunityContactRole",
        "Opportunity Contact Role",
        "Opportunity Contact Role",
        "00K",
        False,
        _opportunity_contact_role,
    ),
    (
        "OpportunityHistory",
        "Opportunity History",
        "Opportunity History",
        "008",
        False,
        _opportunity_history,
    ),
    ("Task", "Task", "Tasks", "00T", True, _task),
    ("Event", "Event", "Events", "00U", True, _event),
    ("Campaign", "Campaign", "Campaigns", "701", True, _campaign),
    ("CampaignMember", "Campaign Member", "Campaign Members", "00v", False, _campaign_member),
    ("User", "User", "Users", "005", False, _user),
    ("Organization", "Organization", "Organizations", "00D", False, _organization),
)


# Objects only the platform writes.
_READ_ONLY_OBJECTS = ("Organization", "OpportunityHistory")


@dataclass(frozen=True)
class ChildRelationship:
    child: str
    field: str
    relationship_name: str | None
    cascade_delete: bool


# Child relationship names on the parent, as describe reports them.
_CHILD_NAMES = {
    ("Contact", "AccountId"): "Contacts",
    ("Opportunity", "AccountId"): "Opportunities",
    ("OpportunityContactRole", "OpportunityId"): "OpportunityContactRoles",
    ("OpportunityContactRole", "ContactId"): "OpportunityContactRoles",
    ("OpportunityHistory", "OpportunityId"): "OpportunityHistories",
    ("Task", "WhoId"): "Tasks",
    ("Task", "WhatId"): "Tasks",
    ("Event", "WhoId"): "Events",
    ("Event", "WhatId"): "Events",
    ("CampaignMember", "CampaignId"): "CampaignMembers",
    ("CampaignMember", "LeadId"): "CampaignMembers",
    ("CampaignMember", "ContactId"): "CampaignMembers",
    ("Opportunity", "CampaignId"): "Opportunities",
    ("Campaign", "ParentId"): "ChildCampaigns",
    ("Account", "ParentId"): "ChildAccounts",
}


@dataclass(frozen=True)
class OrgSchema:
    """Every object of the simulated org, by name and by key prefix."""

    objects: Mapping[str, ObjectDef]
    by_prefix: Mapping[str, str]
    lower_names: Mapping[str, str]

    def object_named(self, name: str) -> ObjectDef | None:
        canonical = self.lower_names.get(name.lower())
        return self.objects[canonical] if canonical is not None else None

    def object_for_id(self, record_id: str) -> ObjectDef | None:
        name = self.by_prefix.get(record_id[:3])
        return self.objects[name] if name is not None else None

    def children_of(self, parent: str) -> list[ChildRelationship]:
        out = []
        for obj in self.objects.values():
            for f in obj.fields.values():
                if parent in f.reference_to and f.name not in ("CreatedById", "LastModifiedById", "OwnerId"):
                    out.append(
                        ChildRelationship(
                            child=obj.name,
                            field=f.name,
                            relationship_name=_CHILD_NAMES.get((obj.name, f.name)),
                            cascade_delete=obj.name in ("OpportunityContactRole", "CampaignMember"),
                        )
                    )
        return out


def build_schema() -> OrgSchema:
    objects: dict[str, ObjectDef] = {}
    for name, label, plural, prefix, has_owner, fields_fn in _OBJECTS:
        fields = {f.name: f for f in fields_fn()}
        objects[name] = ObjectDef(
            name=name,
            label=label,
            label_plural=plural,
            key_prefix=prefix,
            fields=fields,
            has_owner=has_owner,
            createable=name not in _READ_ONLY_OBJECTS,
            updateable=name not in _READ_ONLY_OBJECTS,
            deletable=name not in ("User", *_READ_ONLY_OBJECTS),
            lower_names={n.lower(): n for n in fields},
            relationships={
                f.relationship_name.lower(): f.name
                for f in fields.values()
                if f.relationship_name is not None
            },
        )
    return OrgSchema(
        objects=objects,
        by_prefix={o.key_prefix: o.name for o in objects.values()},
        lower_names={n.lower(): n for n in objects},
    )


def describe_field(f: FieldDef) -> dict[str, Any]:
    """One entry of describe()["fields"] in the shape the REST API returns."""
    is_text = f.type in STRING_TYPES
    length = f.length if (is_text or f.type in ID_TYPES) else 0
    return {
        "aggregatable": f.type != "textarea",
        "autoNumber": False,
        "byteLength": length * 3,
        "calculated": f.calculated,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": f.createable,
        "custom": f.custom,
        "defaultValue": f.default_value if f.type == "boolean" else None,
        "defaultValueFormula": None,
        "defaultedOnCreate": f.defaulted_on_create,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": f.precision if f.type == "int" else 0,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": f.external_id,
        "extraTypeInfo": None,
        "filterable": f.type != "textarea",
        "filteredLookupInfo": None,
        "groupable": f.type not in ("textarea", "double", "currency", "percent", "datetime"),
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": f.type == "id" or f.external_id or f.name in ("Email", "Username"),
        "inlineHelpText": None,
        "label": f.label,
        "length": length,
        "mask": None,
        "maskType": None,
        "name": f.name,
        "nameField": f.name_field,
        "namePointing": len(f.reference_to) > 1,
        "nillable": f.nillable,
        "permissionable": f.nillable and (f.createable or f.updateable),
        "picklistValues": [
            {"active": True, "defaultValue": v == f.default_value, "label": v, "validFor": None, "value": v}
            for v in f.picklist
        ],
        "polymorphicForeignKey": len(f.reference_to) > 1,
        "precision": f.precision if f.type in ("double", "currency", "percent") else 0,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(f.reference_to) if f.type == "reference" else [],
        "relationshipName": f.relationship_name,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": f.restricted,
        "scale": f.scale,
        "searchPrefilterable": False,
        "soapType": _SOAP_TYPES[f.type],
        "sortable": f.type != "textarea",
        "type": f.type,
        "unique": f.unique,
        "updateable": f.updateable,
        "writeRequiresMasterRead": False,
    }


def object_urls(obj: ObjectDef, version: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    return {
        "compactLayouts": f"{base}/describe/compactLayouts",
        "rowTemplate": f"{base}/{{ID}}",
        "approvalLayouts": f"{base}/describe/approvalLayouts",
        "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
        "describe": f"{base}/describe",
        "quickActions": f"{base}/quickActions",
        "layouts": f"{base}/describe/layouts",
        "sobject": base,
    }


def describe_global_entry(obj: ObjectDef, version: str) -> dict[str, Any]:
    """One entry of GET /sobjects (the describeGlobal list)."""
    return {
        "activateable": False,
        "createable": obj.createable,
        "custom": False,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": obj.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": obj.has_owner,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": True,
        "mergeable": obj.name in ("Lead", "Contact", "Account"),
        "mruEnabled": True,
        "name": obj.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": obj.name not in ("OpportunityContactRole", "CampaignMember"),
        "triggerable": True,
        "undeletable": obj.deletable,
        "updateable": obj.updateable,
        "urls": {
            "rowTemplate": f"/services/data/v{version}/sobjects/{obj.name}/{{ID}}",
            "describe": f"/services/data/v{version}/sobjects/{obj.name}/describe",
            "sobject": f"/services/data/v{version}/sobjects/{obj.name}",
        },
    }


def describe_object(schema: OrgSchema, obj: ObjectDef, version: str) -> dict[str, Any]:
    """GET /sobjects/{Obj}/describe."""
    out = describe_global_entry(obj, version)
    out["urls"] = object_urls(obj, version)
    out["fields"] = [describe_field(f) for f in obj.fields.values()]
    out["childRelationships"] = [
        {
            "cascadeDelete": rel.cascade_delete,
            "childSObject": rel.child,
            "deprecatedAndHidden": False,
            "field": rel.field,
            "junctionIdListNames": [],
            "junctionReferenceTo": [],
            "relationshipName": rel.relationship_name,
            "restrictedDelete": False,
        }
        for rel in schema.children_of(obj.name)
    ]
    out["recordTypeInfos"] = [
        {
            "active": True,
            "available": True,
            "defaultRecordTypeMapping": True,
            "developerName": "Master",
            "master": True,
            "name": "Master",
            "recordTypeId": "012000000000000AAA",
            "urls": {
                "layout": f"/services/data/v{version}/sobjects/{obj.name}/describe/layouts/012000000000000AAA"
            },
        }
    ]
    out["actionOverrides"] = []
    out["compactLayoutable"] = True
    out["listviewable"] = None
    out["lookupLayoutable"] = None
    out["namedLayoutInfos"] = []
    out["networkScopeFieldName"] = None
    out["searchLayoutable"] = True
    out["sobjectDescribeOption"] = "FULL"
    out["supportedScopes"] = [{"label": "All " + obj.label_plural.lower(), "name": "everything"}]
    return out
