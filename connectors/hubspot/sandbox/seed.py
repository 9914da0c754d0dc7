"""Seeds a portal from the shared population: owners, companies, contacts, deals, the sales activity reps
logged in HubSpot (population_sales) and a history of marketing touches (email events, page views, form
submissions) across the population's campaigns."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from connectors.hubspot.sandbox.events import EmailCampaign, EventLog
from connectors.hubspot.sandbox.schema import DEFAULT_ASSOCIATION_TYPES, LIFECYCLE_STAGES
from connectors.hubspot.sandbox.seed_deals import seed_deals
from connectors.hubspot.sandbox.store import CrmStore, Owner
from connectors.hubspot.sandbox.values import from_epoch_ms, is_valid_email, iso_ms
from connectors.sandbox_core.deals import build_deals
from connectors.sandbox_core.population import Campaign, Person, Population
from connectors.sandbox_core.population_sales import SalesActivity, build_sales_activities

# Original traffic source per campaign type (HubSpot's hs_analytics_source values).
_SOURCE_BY_TYPE = {
    "Email": "EMAIL_MARKETING",
    "Webinar": "OTHER_CAMPAIGNS",
    "Paid Search": "PAID_SEARCH",
    "Social": "PAID_SOCIAL",
    "Content": "ORGANIC_SEARCH",
    "Trade Show": "OFFLINE",
    "Referral": "REFERRALS",
}
_UTM_MEDIUM = {
    "EMAIL_MARKETING": "email",
    "PAID_SEARCH": "cpc",
    "SOCIAL_MEDIA": "social",
    "PAID_SOCIAL": "paid_social",
    "ORGANIC_SEARCH": "organic",
    "REFERRALS": "referral",
    "OTHER_CAMPAIGNS": "webinar",
    "OFFLINE": "event",
    "DIRECT_TRAFFIC": "direct",
}
_PAGES = ("/", "/pricing", "/product", "/blog/sync-patterns", "/customers", "/demo", "/webinars", "/contact")
_OWNER_ID_BASE = 40_000_000
EMAIL_CAMPAIGN_ID_BASE = 300_000


def source_for(campaign: Campaign) -> str:
    return _SOURCE_BY_TYPE.get(campaign.type, "OTHER_CAMPAIGNS")


def owner_id(owner_key: int) -> str:
    return str(_OWNER_ID_BASE + owner_key)


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    if end <= start:
        return start
    return start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))


def seed_portal(
    store: CrmStore, events: EventLog, population: Population, *, seed: int, now: datetime
) -> None:
    """Fill an empty store and event log; deterministic for a given population and seed."""
    rng = random.Random(seed * 7919 + 17)
    for o in population.owners:
        oid = owner_id(o.key)
        store.owners[oid] = Owner(
            id=oid,
            email=o.email,
            first_name=o.first_name,
            last_name=o.last_name,
            user_id=9_000_000 + o.key,
            created_at=now - timedelta(days=720),
        )
    campaigns = list(population.campaigns)
    email_campaigns = _email_campaigns(events, campaigns)
    other_campaigns = [c for c in campaigns if source_for(c) != "EMAIL_MARKETING"]

    companies: dict[str, int] = {}
    contacts: dict[int, int] = {}
    events.begin_bulk()
    try:
        for person in population.people:
            if not person.in_hubspot:
                continue
            contact_id = _seed_person(
                store, events, person, rng, now, companies, email_campaigns, other_campaigns, campaigns
            )
            if contact_id is not None:
                contacts[person.key] = contact_id
    finally:
        events.end_bulk()
    # Deals come last, with the ids the deal population gives them (the Opportunities of deals in
    # both systems carry those ids): see sandbox_core/deals.py.
    seed_deals(
        store, population, build_deals(population), contacts=contacts, companies=companies, owner_id=owner_id
    )
    for activity in build_sales_activities(population).activities:
        if activity.system == "hubspot":
            _seed_logged(store, population.people[activity.person_key - 1], activity)


def _email_campaigns(events: EventLog, campaigns: Sequence[Campaign]) -> list[tuple[EmailCampaign, Campaign]]:
    out = []
    for c in campaigns:
        if source_for(c) != "EMAIL_MARKETING":
            continue
        ec = EmailCampaign(
            id=EMAIL_CAMPAIGN_ID_BASE + c.key,
            name=c.name,
            subject=f"{c.name}: what's new",
            campaign_key=c.key,
            sent_ms=int(c.start.timestamp() * 1000),
        )
        events.campaigns[ec.id] = ec
        out.append((ec, c))
    return out


def _seed_person(
    store: CrmStore,
    events: EventLog,
    person: Person,
    rng: random.Random,
    now: datetime,
    companies: dict[str, int],
    email_campaigns: list[tuple[EmailCampaign, Campaign]],
    other_campaigns: list[Campaign],
    all_campaigns: list[Campaign],
) -> int | None:
    """Seed one person's contact, company, touches and sales activity; returns the contact's id."""
    created = min(person.created_at, now)
    email = person.email_variant_hubspot
    if store.email_owner(email) is not None:
        return None  # the population never repeats an address, but never index one twice
    # First touch: a campaign running when the person arrived, else an unattributed source.
    running = [c for c in all_campaigns if c.start <= created <= c.end + timedelta(days=30)]
    first_touch_campaign = rng.choice(running) if running and rng.random() < 0.7 else None
    if first_touch_campaign is not None:
        source = source_for(first_touch_campaign)
    else:
        source = rng.choice(["ORGANIC_SEARCH", "DIRECT_TRAFFIC", "REFERRALS", "SOCIAL_MEDIA"])
    values: dict[str, str | None] = {
        "email": email,
        "firstname": person.first_name,
        "lastname": person.last_name,
        "jobtitle": person.title,
        "company": person.company,
        "phone": person.phone,
        "city": person.city,
        "country": person.country,
        "website": f"https://{person.domain}",
        "lifecyclestage": person.lifecycle,
        "hubspotscore": str(person.lead_score),
        "hs_email_optout": "true" if person.opted_out else "false",
        "hubspot_owner_id": owner_id(person.owner_key),
        "hs_analytics_source": source,
        "hs_analytics_source_data_1": first_touch_campaign.name if first_touch_campaign else None,
        "hs_analytics_first_timestamp": None,
        "hs_lead_status": rng.choice(["NEW", "OPEN", "IN_PROGRESS", "CONNECTED", "ATTEMPTED_TO_CONTACT"]),
    }
    if rng.random() < 0.25:
        values["salesforce_lead_rating"] = rng.choice(["Hot", "Warm", "Cold"])
    # Lifecycle history: the stage at creation, then some later stages, ending at today's stage.
    reached = LIFECYCLE_STAGES.index(person.lifecycle) if person.lifecycle in LIFECYCLE_STAGES else 0
    first = 0 if reached == 0 or rng.random() < 0.6 else 1
    path = [s for i, s in enumerate(LIFECYCLE_STAGES[first : reached + 1]) if i == 0 or rng.random() < 0.75]
    if path[-1] != person.lifecycle:
        path.append(person.lifecycle)
    for stage, when in zip(
        path, [created, *sorted(_between(rng, created, now) for _ in path[1:])], strict=True
    ):
        values[f"hs_lifecyclestage_{stage}_date"] = iso_ms(when)
    values["hs_analytics_first_timestamp"] = iso_ms(created)
    contact = store.insert("contacts", values, created_at=created, seeded=True)

    company_id = companies.get(person.domain)
    if company_id is None:
        company = store.insert(
            "companies",
            {
                "name": person.company,
                "domain": person.domain,
                "city": person.city,
                "country": person.country,
                "hubspot_owner_id": owner_id(person.owner_key),
                "numberofemployees": str(rng.choice([12, 45, 120, 800, 3500])),
            },
            created_at=created,
            seeded=True,
        )
        company_id = companies[person.domain] = company.id
    store.associate("contacts", contact.id, "companies", company_id, 279)

    summary = _seed_touches(
        events,
        contact.id,
        person,
        email,
        rng,
        created,
        now,
        source,
        first_touch_campaign,
        email_campaigns,
        other_campaigns,
    )
    store.amend_seeded(contact, summary)
    return contact.id


_ENGAGEMENT_OBJECTS = {
    "call": "calls",
    "email": "emails",
    "meeting": "meetings",
    "note": "notes",
    "task": "tasks",
}


def _seed_logged(store: CrmStore, person: Person, activity: SalesActivity) -> None:
    """A call, email, meeting, note or to-do a rep logged in HubSpot, on the person's contact."""
    contact_id = store.email_owner(person.email_variant_hubspot)
    if contact_id is None or person.key != activity.person_key:
        return
    kind = _ENGAGEMENT_OBJECTS[activity.kind]
    when = activity.at
    values: dict[str, str | None] = {
        "hs_timestamp": iso_ms(when),
        "hubspot_owner_id": owner_id(activity.owner_key),
    }
    if kind == "calls":
        values.update(
            hs_call_title=activity.subject,
            hs_call_body=f"Outcome: {activity.outcome}",
            hs_call_duration=str((activity.duration_seconds or 0) * 1000),
            hs_call_direction="INBOUND" if activity.direction == "inbound" else "OUTBOUND",
            hs_call_status="COMPLETED",
        )
    elif kind == "emails":
        values.update(
            hs_email_subject=activity.subject,
            hs_email_text="Thanks for your time.",
            hs_email_direction="EMAIL",
            hs_email_status="SENT",
        )
    elif kind == "meetings":
        values.update(
            hs_meeting_title=activity.subject,
            hs_meeting_body="Agenda: goals, timeline, next steps.",
            hs_meeting_start_time=iso_ms(when),
            hs_meeting_end_time=iso_ms(when + timedelta(seconds=activity.duration_seconds or 1800)),
            hs_meeting_outcome=activity.outcome,
        )
    elif kind == "notes":
        values.update(hs_note_body=activity.subject)
    else:
        values.update(
            hs_task_subject=activity.subject,
            hs_task_status="COMPLETED",
            hs_task_priority="MEDIUM",
            hs_task_type="TODO",
        )
    engagement = store.insert(kind, values, created_at=when, seeded=True)
    type_id = DEFAULT_ASSOCIATION_TYPES[(kind, "contacts")]
    store.associate(kind, engagement.id, "contacts", contact_id, type_id, seeded=True)


def _seed_touches(
    events: EventLog,
    contact_id: int,
    person: Person,
    email: str,
    rng: random.Random,
    created: datetime,
    now: datetime,
    source: str,
    first_campaign: Campaign | None,
    email_campaigns: list[tuple[EmailCampaign, Campaign]],
    other_campaigns: list[Campaign],
) -> dict[str, str]:
    """Generate the contact's marketing touches; returns HubSpot's summary properties for them."""
    page_view = "e_visited_page"
    # First touch: the visit that created the contact.
    events.add_web(page_view, contact_id, created, _page_props(rng, source, first_campaign))
    for _ in range(rng.randint(0, 5)):
        campaign = rng.choice(other_campaigns) if other_campaigns and rng.random() < 0.6 else None
        src = source_for(campaign) if campaign else "DIRECT_TRAFFIC"
        events.add_web(page_view, contact_id, _between(rng, created, now), _page_props(rng, src, campaign))
    if person.lifecycle != "subscriber" and rng.random() < 0.8:
        when = _between(rng, created, min(now, created + timedelta(days=30)))
        events.add_web(
            "e_submitted_form",
            contact_id,
            when,
            {
                "hs_form_id": "b8f1c2d0-demo-request",
                "hs_form_title": "Request a demo",
                "hs_url": "https://www.example.com/demo",
            },
        )
    unsubscribed_at: datetime | None = None
    if person.opted_out:
        unsubscribed_at = _between(rng, created, now)
    for ec, campaign in email_campaigns:
        sent = campaign.start + timedelta(hours=rng.uniform(0, 6))
        if sent < created or sent > now or rng.random() < 0.3 or not is_valid_email(email):
            continue
        if unsubscribed_at is not None and sent > unsubscribed_at:
            continue
        events.add_email("SENT", sent, email, ec.id)
        if rng.random() < 0.02:
            events.add_email(
                "BOUNCE",
                sent + timedelta(seconds=20),
                email,
                ec.id,
                {
                    "category": "UNKNOWN_USER",
                    "response": "550 5.1.1 mailbox does not exist",
                    "status": "5.1.1",
                },
            )
            continue
        delivered = sent + timedelta(seconds=rng.uniform(2, 90))
        if delivered > now:
            continue
        events.add_email("DELIVERED", delivered, email, ec.id, {"response": "250 OK", "smtpId": None})
        if rng.random() < 0.45:
            opened = delivered + timedelta(minutes=rng.uniform(1, 2880))
            if opened <= now:
                events.add_email(
                    "OPEN",
                    opened,
                    email,
                    ec.id,
                    {"browser": {"name": "Chrome"}, "deviceType": "COMPUTER", "duration": 0},
                )
                if rng.random() < 0.3:
                    clicked = opened + timedelta(seconds=rng.uniform(5, 600))
                    if clicked <= now:
                        url = f"https://www.example.com{rng.choice(_PAGES)}?utm_campaign={campaign.key}"
                        events.add_email("CLICK", clicked, email, ec.id, {"url": url})
    if unsubscribed_at is not None and email_campaigns:
        ec = email_campaigns[0][0]
        events.add_email(
            "STATUSCHANGE",
            unsubscribed_at,
            email,
            ec.id,
            {
                "source": "SOURCE_RECIPIENT",
                "subscriptions": [{"id": 1, "status": "UNSUBSCRIBED"}],
                "portalSubscriptionStatus": "UNSUBSCRIBED",
                "requestedBy": email,
                "requestedByUserId": None,
            },
        )
    return _summarise(events, contact_id, email)


def _summarise(events: EventLog, contact_id: int, email: str) -> dict[str, str]:
    """Counters and last-seen stamps of the touches just generated for one contact."""
    views = events.web_by_object.get(contact_id, [])
    summary: dict[str, str] = {}
    page_views = [ms for ms, _, e in views if e.event_type == "e_visited_page"]
    if page_views:
        summary["hs_analytics_num_page_views"] = str(len(page_views))
        summary["hs_analytics_last_timestamp"] = iso_ms(from_epoch_ms(max(page_views)))
    mine: dict[str, list[int]] = {}
    # While seeding, this contact's email events are the newest entries appended to the log.
    for ms, _, e in reversed(events.email):
        if e.recipient != email:
            break
        mine.setdefault(e.type, []).append(ms)
    for kind, counter, last in (
        ("DELIVERED", "hs_email_delivered", "hs_email_last_send_date"),
        ("OPEN", "hs_email_open", "hs_email_last_open_date"),
        ("CLICK", "hs_email_click", "hs_email_last_click_date"),
    ):
        if mine.get(kind):
            summary[counter] = str(len(mine[kind]))
            summary[last] = iso_ms(from_epoch_ms(max(mine[kind])))
    return summary


def _page_props(rng: random.Random, source: str, campaign: Campaign | None) -> dict[str, str]:
    path = rng.choice(_PAGES)
    props = {"hs_url": f"https://www.example.com{path}", "hs_page_title": path.strip("/") or "home"}
    if campaign is not None:
        props["hs_utm_campaign"] = campaign.name
        props["hs_utm_medium"] = _UTM_MEDIUM.get(source, "other")
        props["hs_utm_source"] = str(campaign.channel).lower().replace(" ", "_")
    return props
