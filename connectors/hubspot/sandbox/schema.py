"""The simulated portal's schema: object types, their properties, the deal pipeline and association types."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

PropertyType = Literal["string", "number", "date", "datetime", "enumeration", "bool"]


@dataclass(frozen=True)
class Option:
    """One allowed value of an enumeration property."""

    value: str
    label: str
    display_order: int


@dataclass(frozen=True)
class PropertyDef:
    """One property as `GET /crm/v3/properties/{object}` describes it."""

    name: str
    label: str
    type: PropertyType
    field_type: str
    group_name: str
    options: tuple[Option, ...] = ()
    read_only: bool = False
    hubspot_defined: bool = True
    has_unique_value: bool = False
    description: str = ""


@dataclass(frozen=True)
class ObjectType:
    """One CRM object type: its path name, its HubSpot object type id and properties."""

    name: str  # path segment, e.g. "contacts"
    type_id: str  # e.g. "0-1"
    singular: str  # e.g. "contact" (association keys, error messages)
    modified_property: str  # "lastmodifieddate" for contacts, "hs_lastmodifieddate" otherwise
    created_property: str
    required_on_create: tuple[str, ...]
    default_properties: tuple[str, ...]
    properties: MappingProxyType[str, PropertyDef]


def _opts(*pairs: tuple[str, str]) -> tuple[Option, ...]:
    return tuple(Option(value=v, label=label, display_order=i) for i, (v, label) in enumerate(pairs))


LIFECYCLE_STAGES: tuple[str, ...] = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
LIFECYCLE_OPTIONS = _opts(
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
)
ANALYTICS_SOURCES: tuple[str, ...] = (
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
_SOURCE_OPTIONS = _opts(
    ("ORGANIC_SEARCH", "Organic search"),
    ("PAID_SEARCH", "Paid search"),
    ("EMAIL_MARKETING", "Email marketing"),
    ("SOCIAL_MEDIA", "Organic social"),
    ("REFERRALS", "Referrals"),
    ("OTHER_CAMPAIGNS", "Other campaigns"),
    ("DIRECT_TRAFFIC", "Direct traffic"),
    ("OFFLINE", "Offline sources"),
    ("PAID_SOCIAL", "Paid social"),
)
_BOOL_OPTIONS = _opts(("true", "Yes"), ("false", "No"))

DEAL_STAGES: tuple[tuple[str, str, float, bool], ...] = (
    # id, label, probability, isClosed
    ("appointmentscheduled", "Appointment Scheduled", 0.2, False),
    ("qualifiedtobuy", "Qualified To Buy", 0.4, False),
    ("presentationscheduled", "Presentation Scheduled", 0.6, False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", 0.8, False),
    ("contractsent", "Contract Sent", 0.9, False),
    ("closedwon", "Closed Won", 1.0, True),
    ("closedlost", "Closed Lost", 0.0, True),
)


def _p(
    name: str,
    label: str,
    type_: PropertyType = "string",
    field_type: str = "text",
    *,
    group: str = "",
    options: tuple[Option, ...] = (),
    read_only: bool = False,
    hubspot_defined: bool = True,
    unique: bool = False,
) -> PropertyDef:
    if type_ == "bool" and not options:
        options = _BOOL_OPTIONS
    return PropertyDef(
        name=name,
        label=label,
        type=type_,
        field_type=field_type,
        group_name=group,
        options=options,
        read_only=read_only,
        hubspot_defined=hubspot_defined,
        has_unique_value=unique,
    )


def _system(group: str, modified: str, created: str = "createdate") -> list[PropertyDef]:
    return [
        _p("hs_object_id", "Record ID", "number", "number", group=group, read_only=True),
        _p(created, "Create Date", "datetime", "date", group=group, read_only=True),
        _p(modified, "Last Modified Date", "datetime", "date", group=group, read_only=True),
        _p("hubspot_owner_id", "Owner", "enumeration", "select", group=group),
        _p(
            "hs_merged_object_ids",
            "Merged Record IDs",
            "enumeration",
            "checkbox",
            group=group,
            read_only=True,
        ),
    ]


# Counters and last-seen stamps HubSpot keeps up to date itself: each touch is an internal write
# that bumps lastmodifieddate (what makes echo suppression necessary).
ENGAGEMENT_SUMMARY: dict[str, str] = {
    "hs_analytics_num_page_views": "Number of Pageviews",
    "hs_analytics_last_timestamp": "Time Last Seen",
    "hs_email_delivered": "Marketing emails delivered",
    "hs_email_open": "Marketing emails opened",
    "hs_email_click": "Marketing emails clicked",
    "hs_email_last_send_date": "Last marketing email send date",
    "hs_email_last_open_date": "Last marketing email open date",
    "hs_email_last_click_date": "Last marketing email click date",
}


# What HubSpot keeps on a contact about the sales activity logged on it: a call, email, meeting or
# note associated with the contact moves these (an internal write: lastmodifieddate moves too).
SALES_ACTIVITY_SUMMARY: dict[str, tuple[str, PropertyType]] = {
    "notes_last_updated": ("Last Activity Date", "datetime"),
    "notes_last_contacted": ("Last Contacted", "datetime"),
    "num_notes": ("Number of Sales Activities", "number"),
    "num_contacted_notes": ("Number of times contacted", "number"),
}
# The property syncd's engagements carry: a unique custom property its upserts are keyed by.
SOURCE_ID_PROPERTY = "syncd_source_id"


def _sales_activity_summary() -> list[PropertyDef]:
    return [
        _p(
            name,
            label,
            type_,
            "date" if type_ == "datetime" else "number",
            group="sales_properties",
            read_only=True,
        )
        for name, (label, type_) in SALES_ACTIVITY_SUMMARY.items()
    ]


def _engagement_summary() -> list[PropertyDef]:
    out = []
    for name, label in ENGAGEMENT_SUMMARY.items():
        is_date = name.endswith(("_date", "_timestamp"))
        out.append(
            _p(
                name,
                label,
                "datetime" if is_date else "number",
                "date" if is_date else "number",
                group="analyticsinformation" if "analytics" in name else "emailinformation",
                read_only=True,
            )
        )
    return out


def _contact_properties() -> list[PropertyDef]:
    g = "contactinformation"
    return [
        *_system(g, "lastmodifieddate"),
        _p("email", "Email", group=g, unique=True),
        _p("hs_additional_emails", "Additional email addresses", "enumeration", "checkbox", group=g),
        _p("firstname", "First Name", group=g),
        _p("lastname", "Last Name", group=g),
        _p("jobtitle", "Job Title", group=g),
        _p("company", "Company Name", group=g),
        _p("phone", "Phone Number", "string", "phonenumber", group=g),
        _p("city", "City", group=g),
        _p("country", "Country/Region", group=g),
        _p("website", "Website URL", group=g),
        _p("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", group=g, options=LIFECYCLE_OPTIONS),
        _p(
            "hs_lead_status",
            "Lead Status",
            "enumeration",
            "radio",
            group="sales_properties",
            options=_opts(
                ("NEW", "New"),
                ("OPEN", "Open"),
                ("IN_PROGRESS", "In Progress"),
                ("OPEN_DEAL", "Open Deal"),
                ("UNQUALIFIED", "Unqualified"),
                ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"),
                ("CONNECTED", "Connected"),
                ("BAD_TIMING", "Bad Timing"),
            ),
        ),
        _p("hubspotscore", "HubSpot Score", "number", "number", group=g, read_only=True),
        _p("hs_email_optout", "Unsubscribed from all email", "bool", "booleancheckbox", group=g),
        _p(
            "hs_analytics_source",
            "Original Traffic Source",
            "enumeration",
            "select",
            group="analyticsinformation",
            options=_SOURCE_OPTIONS,
            read_only=True,
        ),
        _p(
            "hs_analytics_source_data_1", "Original Traffic Source Drill-Down 1", group="analyticsinformation"
        ),
        _p(
            "hs_analytics_first_timestamp",
            "Time First Seen",
            "datetime",
            "date",
            group="analyticsinformation",
            read_only=True,
        ),
        *(
            _p(
                f"hs_lifecyclestage_{o.value}_date",
                f"Became a {o.label} Date",
                "datetime",
                "date",
                group=g,
                read_only=True,
            )
            for o in LIFECYCLE_OPTIONS
        ),
        *_engagement_summary(),
        *_sales_activity_summary(),
        _p(
            "recent_conversion_event_name", "Recent Conversion", group="conversioninformation", read_only=True
        ),
        _p(
            "recent_conversion_date",
            "Recent Conversion Date",
            "datetime",
            "date",
            group="conversioninformation",
            read_only=True,
        ),
        _p(
            "num_conversion_events",
            "Number of Form Submissions",
            "number",
            "number",
            group="conversioninformation",
        ),
        _p(
            "salesforce_lead_rating",
            "Salesforce Lead Rating",
            "enumeration",
            "select",
            group="salesforceinformation",
            options=_opts(("Hot", "Hot"), ("Warm", "Warm"), ("Cold", "Cold")),
            hubspot_defined=False,
        ),
        # Sales feedback: what reps decided about a lead, for marketing to learn which leads were bad.
        _p(
            "salesforce_lead_status",
            "Salesforce Lead Status",
            "enumeration",
            "select",
            group="salesforceinformation",
            options=_opts(
                ("Open - Not Contacted", "Open - Not Contacted"),
                ("Working - Contacted", "Working - Contacted"),
                ("Closed - Converted", "Closed - Converted"),
                ("Closed - Not Converted", "Closed - Not Converted"),
            ),
            hubspot_defined=False,
        ),
        _p(
            "salesforce_disqualification_reason",
            "Salesforce Disqualification Reason",
            "enumeration",
            "select",
            group="salesforceinformation",
            options=_opts(
                ("No Budget", "No Budget"),
                ("No Authority", "No Authority"),
                ("No Need", "No Need"),
                ("Bad Timing", "Bad Timing"),
                ("Competitor", "Competitor"),
                ("Unresponsive", "Unresponsive"),
            ),
            hubspot_defined=False,
        ),
        _p("salesforceleadid", "Salesforce Lead ID", group="salesforceinformation"),
        _p("salesforcecontactid", "Salesforce Contact ID", group="salesforceinformation"),
    ]


def _company_properties() -> list[PropertyDef]:
    g = "companyinformation"
    return [
        *_system(g, "hs_lastmodifieddate"),
        _p("name", "Company name", group=g),
        _p("domain", "Company Domain Name", group=g),
        _p("city", "City", group=g),
        _p("country", "Country/Region", group=g),
        _p("phone", "Phone Number", "string", "phonenumber", group=g),
        _p(
            "industry",
            "Industry",
            "enumeration",
            "select",
            group=g,
            options=_opts(
                ("COMPUTER_SOFTWARE", "Computer Software"),
                ("FINANCIAL_SERVICES", "Financial Services"),
                ("HOSPITAL_HEALTH_CARE", "Hospital & Health Care"),
                ("RETAIL", "Retail"),
                ("MANUFACTURING", "Manufacturing"),
                ("EDUCATION_MANAGEMENT", "Education Management"),
            ),
        ),
        _p("numberofemployees", "Number of Employees", "number", "number", group=g),
        _p("annualrevenue", "Annual Revenue", "number", "number", group=g),
        _p("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", group=g, options=LIFECYCLE_OPTIONS),
        _p("salesforceaccountid", "Salesforce Account ID", group="salesforceinformation"),
    ]


# The unique deal property holding the linked Salesforce Opportunity's id.
DEAL_LINK_PROPERTY = "salesforce_opportunity_id"


def _deal_properties() -> list[PropertyDef]:
    g = "dealinformation"
    return [
        *_system(g, "hs_lastmodifieddate"),
        _p("dealname", "Deal Name", group=g),
        _p(
            "dealstage",
            "Deal Stage",
            "enumeration",
            "radio",
            group=g,
            options=tuple(Option(s[0], s[1], i) for i, s in enumerate(DEAL_STAGES)),
        ),
        _p(
            "pipeline",
            "Pipeline",
            "enumeration",
            "select",
            group=g,
            options=_opts(("default", "Sales Pipeline")),
        ),
        _p("amount", "Amount", "number", "number", group=g),
        _p("closedate", "Close Date", "datetime", "date", group=g),
        _p(
            "dealtype",
            "Deal Type",
            "enumeration",
            "radio",
            group=g,
            options=_opts(("newbusiness", "New Business"), ("existingbusiness", "Existing Business")),
        ),
        _p("description", "Deal Description", "string", "textarea", group=g),
        _p("hs_is_closed", "Is Deal Closed?", "bool", "booleancheckbox", group=g, read_only=True),
        _p("hs_is_closed_won", "Is Closed Won", "bool", "booleancheckbox", group=g, read_only=True),
        _p("hs_deal_stage_probability", "Deal probability", "number", "number", group=g, read_only=True),
        _p(
            "hs_analytics_source",
            "Original Traffic Source",
            "enumeration",
            "select",
            group=g,
            options=_SOURCE_OPTIONS,
        ),
        _p("hs_campaign", "HubSpot Campaign", group=g),
        *(
            _p(
                f"hs_date_entered_{s[0]}",
                f"Date entered '{s[1]}'",
                "datetime",
                "date",
                group=g,
                read_only=True,
            )
            for s in DEAL_STAGES
        ),
        _p("salesforceopportunityid", "Salesforce Opportunity ID", group="salesforceinformation"),
        # HubSpot recalculates it when the deal's contact associations change (which bumps the deal).
        _p(
            "num_associated_contacts",
            "Number of Associated Contacts",
            "number",
            "number",
            group=g,
            read_only=True,
        ),
        # Custom properties an integrator creates: the linked Opportunity (unique values, so deals
        # can be upserted by it) and its primary Campaign.
        _p(
            DEAL_LINK_PROPERTY,
            "Salesforce Opportunity (syncd)",
            group="salesforceinformation",
            hubspot_defined=False,
            unique=True,
        ),
        _p(
            "salesforce_campaign_id",
            "Salesforce Primary Campaign",
            group="salesforceinformation",
            hubspot_defined=False,
        ),
    ]


def _engagement_properties(kind: str) -> list[PropertyDef]:
    g = f"{kind}information"
    common = [
        *_system(g, "hs_lastmodifieddate", "hs_createdate"),
        _p("hs_timestamp", "Activity date", "datetime", "date", group=g),
    ]
    specific: dict[str, list[PropertyDef]] = {
        "call": [
            _p("hs_call_title", "Call Title", group=g),
            _p("hs_call_body", "Call notes", "string", "html", group=g),
            _p("hs_call_duration", "Call duration", "number", "number", group=g),
            _p(
                "hs_call_direction",
                "Call direction",
                "enumeration",
                "select",
                group=g,
                options=_opts(("INBOUND", "Inbound"), ("OUTBOUND", "Outbound")),
            ),
            _p(
                "hs_call_status",
                "Call status",
                "enumeration",
                "select",
                group=g,
                options=_opts(
                    ("BUSY", "Busy"),
                    ("CALLING_CRM_USER", "Calling CRM user"),
                    ("CANCELED", "Canceled"),
                    ("COMPLETED", "Completed"),
                    ("CONNECTING", "Connecting"),
                    ("FAILED", "Failed"),
                    ("IN_PROGRESS", "In progress"),
                    ("NO_ANSWER", "No answer"),
                    ("QUEUED", "Queued"),
                    ("RINGING", "Ringing"),
                ),
            ),
            _p("hs_call_disposition", "Call outcome", group=g),
        ],
        "email": [
            _p("hs_email_subject", "Email subject", group=g),
            _p("hs_email_text", "Email body", "string", "textarea", group=g),
            _p(
                "hs_email_direction",
                "Email direction",
                "enumeration",
                "select",
                group=g,
                options=_opts(
                    ("EMAIL", "Logged or sent email"),
                    ("INCOMING_EMAIL", "Reply email"),
                    ("FORWARDED_EMAIL", "Forwarded email"),
                ),
            ),
            _p(
                "hs_email_status",
                "Email send status",
                "enumeration",
                "select",
                group=g,
                options=_opts(
                    ("BOUNCED", "Bounced"),
                    ("FAILED", "Failed"),
                    ("SCHEDULED", "Scheduled"),
                    ("SENDING", "Sending"),
                    ("SENT", "Sent"),
                ),
            ),
        ],
        "meeting": [
            _p("hs_meeting_title", "Meeting name", group=g),
            _p("hs_meeting_body", "Meeting description", "string", "textarea", group=g),
            _p("hs_meeting_start_time", "Start time", "datetime", "date", group=g),
            _p("hs_meeting_end_time", "End time", "datetime", "date", group=g),
            _p(
                "hs_meeting_outcome",
                "Meeting outcome",
                "enumeration",
                "select",
                group=g,
                options=_opts(
                    ("SCHEDULED", "Scheduled"),
                    ("COMPLETED", "Completed"),
                    ("RESCHEDULED", "Rescheduled"),
                    ("NO_SHOW", "No Show"),
                    ("CANCELED", "Canceled"),
                ),
            ),
        ],
        "note": [_p("hs_note_body", "Note body", "string", "html", group=g)],
        "task": [
            _p("hs_task_subject", "Task Title", group=g),
            _p("hs_task_body", "Notes", "string", "html", group=g),
            _p(
                "hs_task_status",
                "Task Status",
                "enumeration",
                "select",
                group=g,
                options=_opts(
                    ("NOT_STARTED", "Not started"),
                    ("IN_PROGRESS", "In progress"),
                    ("WAITING", "Waiting"),
                    ("COMPLETED", "Completed"),
                    ("DEFERRED", "Deferred"),
                ),
            ),
            _p(
                "hs_task_priority",
                "Priority",
                "enumeration",
                "select",
                group=g,
                options=_opts(("NONE", "None"), ("LOW", "Low"), ("MEDIUM", "Medium"), ("HIGH", "High")),
            ),
            _p(
                "hs_task_type",
                "Task Type",
                "enumeration",
                "select",
                group=g,
                options=_opts(("CALL", "Call"), ("EMAIL", "Email"), ("TODO", "To-do")),
            ),
        ],
    }
    # A custom property with unique values, as an integration creates it (calls, emails, meetings, notes).
    custom = (
        [_p(SOURCE_ID_PROPERTY, "syncd source id", group=g, hubspot_defined=False, unique=True)]
        if kind != "task"
        else []
    )
    return common + specific[kind] + custom


def _object(
    name: str,
    type_id: str,
    singular: str,
    props: list[PropertyDef],
    *,
    required: tuple[str, ...] = (),
    defaults: tuple[str, ...],
) -> ObjectType:
    by_name = {p.name: p for p in props}
    modified = "lastmodifieddate" if name == "contacts" else "hs_lastmodifieddate"
    created = "createdate" if "createdate" in by_name else "hs_createdate"
    return ObjectType(
        name=name,
        type_id=type_id,
        singular=singular,
        modified_property=modified,
        created_property=created,
        required_on_create=required,
        default_properties=defaults,
        properties=MappingProxyType(by_name),
    )


def build_object_types() -> MappingProxyType[str, ObjectType]:
    """Every object type the simulator serves, keyed by its path name."""
    eng_defaults = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")
    types = [
        _object(
            "contacts",
            "0-1",
            "contact",
            _contact_properties(),
            defaults=("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
        ),
        _object(
            "companies",
            "0-2",
            "company",
            _company_properties(),
            defaults=("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
        ),
        _object(
            "deals",
            "0-3",
            "deal",
            _deal_properties(),
            required=("dealname", "dealstage", "pipeline"),
            defaults=(
                "amount",
                "closedate",
                "createdate",
                "dealname",
                "dealstage",
                "hs_lastmodifieddate",
                "hs_object_id",
                "pipeline",
            ),
        ),
        _object(
            "calls",
            "0-48",
            "call",
            _engagement_properties("call"),
            required=("hs_timestamp",),
            defaults=eng_defaults,
        ),
        _object(
            "emails",
            "0-49",
            "email",
            _engagement_properties("email"),
            required=("hs_timestamp",),
            defaults=eng_defaults,
        ),
        _object(
            "meetings",
            "0-47",
            "meeting",
            _engagement_properties("meeting"),
            required=("hs_timestamp",),
            defaults=eng_defaults,
        ),
        _object(
            "notes",
            "0-46",
            "note",
            _engagement_properties("note"),
            required=("hs_timestamp",),
            defaults=eng_defaults,
        ),
        _object(
            "tasks",
            "0-27",
            "task",
            _engagement_properties("task"),
            required=("hs_timestamp",),
            defaults=eng_defaults,
        ),
    ]
    return MappingProxyType({t.name: t for t in types})


# Names accepted in paths besides the plural (HubSpot accepts singular names and type ids too).
def object_aliases(types: MappingProxyType[str, ObjectType]) -> dict[str, str]:
    """Map every accepted spelling of an object type (plural, singular, type id) to its plural name."""
    aliases: dict[str, str] = {}
    for t in types.values():
        aliases[t.name] = t.name
        aliases[t.singular] = t.name
        aliases[t.type_id] = t.name
    return aliases


# HubSpot-defined default association type ids (from -> to). Reverse directions included.
DEFAULT_ASSOCIATION_TYPES: MappingProxyType[tuple[str, str], int] = MappingProxyType(
    {
        ("contacts", "companies"): 279,
        ("companies", "contacts"): 280,
        ("deals", "contacts"): 3,
        ("contacts", "deals"): 4,
        ("deals", "companies"): 341,
        ("companies", "deals"): 342,
        ("calls", "contacts"): 194,
        ("contacts", "calls"): 193,
        ("emails", "contacts"): 198,
        ("contacts", "emails"): 197,
        ("meetings", "contacts"): 200,
        ("contacts", "meetings"): 199,
        ("notes", "contacts"): 202,
        ("contacts", "notes"): 201,
        ("tasks", "contacts"): 204,
        ("contacts", "tasks"): 203,
        ("calls", "deals"): 206,
        ("deals", "calls"): 205,
        ("emails", "deals"): 210,
        ("deals", "emails"): 209,
        ("meetings", "deals"): 212,
        ("deals", "meetings"): 211,
        ("notes", "deals"): 214,
        ("deals", "notes"): 213,
        ("tasks", "deals"): 216,
        ("deals", "tasks"): 215,
    }
)
