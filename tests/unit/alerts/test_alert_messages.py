"""What an alert says: the person, what happened and a link — in the outbox, on the Task, in the post."""

from __future__ import annotations

from datetime import UTC, date, datetime

from syncd.alerts.render import (
    LinkSettings,
    StoredAlert,
    TaskSettings,
    new_alert,
    person_links,
    task_fields,
    webhook_payload,
)
from syncd.alerts.rules import Channel, Occurrence, PersonView
from syncd.engine.task_keys import (
    ALERT_TASK_KEY_PREFIX,
    TASK_KEY_LENGTH,
    alert_task_key,
    is_syncd_task_key,
)

AT = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)
JANE = PersonView(
    7,
    "jane@acme.com",
    name="Jane Doe",
    company="Acme",
    salesforce_id="003000000000001AAA",
    salesforce_object="Contact",
    hubspot_id="501",
)
LINKS = LinkSettings(salesforce_url="https://acme.my.salesforce.com", hubspot_portal_id=62515)
OCCURRENCE = Occurrence(
    rule="demo",
    key="demo:hubspot:ev1",
    person_id=7,
    occurred_at=AT,
    what='submitted the form "Request a demo"',
    notify=frozenset({Channel.SALESFORCE_TASK, Channel.WEBHOOK}),
    facts={"when": "2026-03-04 10:30 UTC", "form": "Request a demo"},
)


def stored(link_settings: LinkSettings = LINKS, person: PersonView = JANE) -> StoredAlert:
    alert = new_alert(OCCURRENCE, person, link_settings)
    return StoredAlert(1, alert.rule, alert.key, 7, alert.what, alert.link, AT, AT, alert.detail)


def test_links_point_at_the_salesforce_record_and_the_hubspot_contact() -> None:
    assert person_links(JANE, LINKS) == {
        "salesforce": "https://acme.my.salesforce.com/003000000000001AAA",
        "hubspot": "https://app.hubspot.com/contacts/62515/record/0-1/501",
    }


def test_a_system_without_its_link_setting_gets_no_link() -> None:
    assert person_links(JANE, LinkSettings(hubspot_portal_id=9, hubspot_ui_domain="app-eu1.hubspot.com")) == {
        "hubspot": "https://app-eu1.hubspot.com/contacts/9/record/0-1/501"
    }
    assert person_links(JANE, LinkSettings()) == {}


def test_the_outbox_row_names_the_person_and_the_preferred_link() -> None:
    alert = new_alert(OCCURRENCE, JANE, LINKS)
    assert alert.what == 'Jane Doe (Acme) <jane@acme.com> submitted the form "Request a demo"'
    assert alert.link == "https://acme.my.salesforce.com/003000000000001AAA"
    hubspot_first = new_alert(OCCURRENCE, JANE, LinkSettings(**{**LINKS.__dict__, "prefer": "hubspot"}))
    assert hubspot_first.link == "https://app.hubspot.com/contacts/62515/record/0-1/501"
    assert new_alert(OCCURRENCE, PersonView(7, "x@y.io"), LINKS).what.startswith("x@y.io submitted")


def test_the_task_is_high_priority_for_the_owner_and_keyed_by_the_alert() -> None:
    fields = task_fields(
        stored(),
        who_id="003000000000001AAA",
        owner_id="005000000000001AAA",
        settings=TaskSettings(),
        today=date(2026, 3, 4),
    )
    assert fields["Priority"] == "High"
    assert fields["OwnerId"] == "005000000000001AAA"
    assert fields["WhoId"] == "003000000000001AAA"
    assert fields["ActivityDate"] == "2026-03-04"
    assert fields["Subject"] == 'Alert: Jane Doe (Acme) <jane@acme.com> submitted the form "Request a demo"'
    assert "https://acme.my.salesforce.com/003000000000001AAA" in fields["Description"]
    assert "Form: Request a demo" in fields["Description"]
    key = fields["HubSpot_Engagement_Id__c"]
    assert key == alert_task_key("demo:hubspot:ev1")
    assert key.startswith(ALERT_TASK_KEY_PREFIX) and len(key) <= TASK_KEY_LENGTH
    assert is_syncd_task_key(key)


def test_task_keys_differ_per_occurrence_and_rep_tasks_are_not_syncds() -> None:
    assert alert_task_key("a:hubspot:1") != alert_task_key("b:hubspot:1")
    assert is_syncd_task_key("syncd:t:0123")
    assert not is_syncd_task_key(None)
    assert not is_syncd_task_key("")
    assert not is_syncd_task_key("RepCall-42")


def test_the_webhook_post_is_slack_compatible() -> None:
    payload = webhook_payload(stored())
    assert payload["text"] == (
        'Jane Doe (Acme) <jane@acme.com> submitted the form "Request a demo" — '
        "https://acme.my.salesforce.com/003000000000001AAA"
    )
    section, facts, context = payload["blocks"]
    assert section["type"] == "section"
    # Slack's mrkdwn needs &, < and > escaped; links use its <url|label> form.
    assert section["text"] == {
        "type": "mrkdwn",
        "text": '*Jane Doe (Acme) &lt;jane@acme.com&gt; submitted the form "Request a demo"*\n'
        "<https://acme.my.salesforce.com/003000000000001AAA|Open in Salesforce>  ·  "
        "<https://app.hubspot.com/contacts/62515/record/0-1/501|Open in HubSpot>",
    }
    assert {"type": "mrkdwn", "text": "*form*\nRequest a demo"} in facts["fields"]
    assert context["type"] == "context"


def test_a_post_without_links_still_names_person_and_event() -> None:
    payload = webhook_payload(stored(LinkSettings()))
    assert payload["text"] == 'Jane Doe (Acme) <jane@acme.com> submitted the form "Request a demo"'
    assert "Open in" not in payload["blocks"][0]["text"]["text"]
