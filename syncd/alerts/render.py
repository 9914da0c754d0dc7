"""What an alert says, pure: the outbox row of an occurrence, its Salesforce Task and its webhook post.

Every message names the person, what happened and a link (the Salesforce record and/or the
HubSpot contact, as configured).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from syncd.alerts.rules import Channel, Occurrence, PersonView
from syncd.engine.task_keys import alert_task_key


@dataclass(frozen=True)
class LinkSettings:
    """Where links point. Without `salesforce_url` or `hubspot_portal_id` that system gets no link."""

    salesforce_url: str | None = None
    hubspot_portal_id: int | None = None
    hubspot_ui_domain: str = "app.hubspot.com"
    prefer: str = "salesforce"


def person_links(person: PersonView, settings: LinkSettings) -> dict[str, str]:
    """The person's record in each system the settings can link to."""
    links: dict[str, str] = {}
    if settings.salesforce_url and person.salesforce_id:
        links["salesforce"] = f"{settings.salesforce_url}/{person.salesforce_id}"
    if settings.hubspot_portal_id and person.hubspot_id:
        links["hubspot"] = (
            f"https://{settings.hubspot_ui_domain}/contacts/{settings.hubspot_portal_id}"
            f"/record/0-1/{person.hubspot_id}"
        )
    return links


def primary_link(links: Mapping[str, str], prefer: str) -> str | None:
    if prefer in links:
        return links[prefer]
    return next(iter(links.values()), None)


@dataclass(frozen=True)
class NewAlert:
    """An occurrence as the outbox stores it."""

    rule: str
    key: str
    person_id: int
    what: str  # the whole sentence: "<person> <what happened>"
    link: str | None
    detail: Mapping[str, Any]
    occurred_at: datetime
    channels: frozenset[Channel]


def new_alert(occurrence: Occurrence, person: PersonView, settings: LinkSettings) -> NewAlert:
    links = person_links(person, settings)
    return NewAlert(
        rule=occurrence.rule,
        key=occurrence.key,
        person_id=occurrence.person_id,
        what=f"{person.label()} {occurrence.what}",
        link=primary_link(links, settings.prefer),
        detail={"email": person.email, "facts": dict(occurrence.facts), "links": links},
        occurred_at=occurrence.occurred_at,
        channels=occurrence.notify,
    )


@dataclass(frozen=True)
class StoredAlert:
    """An outbox row on its way to a channel."""

    id: int
    rule: str
    key: str
    person_id: int
    what: str
    link: str | None
    occurred_at: datetime
    created_at: datetime
    detail: Mapping[str, Any] = field(default_factory=dict)
    attempts: int = 0

    @property
    def links(self) -> dict[str, str]:
        found = self.detail.get("links")
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    @property
    def facts(self) -> dict[str, str]:
        found = self.detail.get("facts")
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


@dataclass(frozen=True)
class TaskSettings:
    """How an alert becomes a Salesforce Task."""

    key_field: str = "HubSpot_Engagement_Id__c"
    status: str = "Not Started"
    due_in_days: int = 0
    batch_size: int = 200
    # The Task goes on the person's Contact when they have one, else on their Lead.
    who_objects: tuple[str, ...] = ("Contact", "Lead")


_LINK_LABELS = {"salesforce": "Salesforce", "hubspot": "HubSpot"}


def task_fields(
    alert: StoredAlert, *, who_id: str, owner_id: str, settings: TaskSettings, today: date
) -> dict[str, Any]:
    """A high-priority Task for the owner, upserted by the alert's key so a resend updates it."""
    lines = [alert.what, ""]
    lines += [f"{name[:1].upper()}{name[1:]}: {value}" for name, value in alert.facts.items()]
    lines += [f"{_LINK_LABELS.get(name, name)}: {url}" for name, url in alert.links.items()]
    lines += ["", f"Raised by syncd alert rule {alert.rule}."]
    return {
        settings.key_field: alert_task_key(alert.key),
        "WhoId": who_id,
        "OwnerId": owner_id,
        "Subject": f"Alert: {alert.what}"[:255],
        "Priority": "High",
        "Status": settings.status,
        "ActivityDate": (today + timedelta(days=settings.due_in_days)).isoformat(),
        "Type": "Other",
        "Description": "\n".join(lines)[:32000],
    }


def _mrkdwn(text: str) -> str:
    """Slack escapes exactly these three in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_payload(alert: StoredAlert) -> dict[str, Any]:
    """Slack-compatible JSON: `text` for notifications and plain clients, `blocks` for the layout."""
    links = alert.links
    text = alert.what + (f" — {alert.link}" if alert.link else "")
    body = f"*{_mrkdwn(alert.what)}*"
    if links:
        body += "\n" + "  ·  ".join(
            f"<{url}|Open in {_LINK_LABELS.get(name, name)}>" for name, url in links.items()
        )
    # Slack refuses a section text over 3,000 characters and a field over 2,000.
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": body[:3000]}}]
    facts = alert.facts
    if facts:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{_mrkdwn(name)}*\n{_mrkdwn(value)}"[:2000]}
                    for name, value in list(facts.items())[:10]
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"syncd alert rule `{_mrkdwn(alert.rule)}`"}],
        }
    )
    return {"text": text[:3000], "blocks": blocks}
