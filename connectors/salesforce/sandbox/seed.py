"""Seeds the simulated org from the shared population: users, accounts, leads, contacts, campaigns,
members, rep activities (Tasks and Events, from population_sales) and opportunities, with realistic
timestamps."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from connectors.salesforce.sandbox.ids import IdGenerator
from connectors.salesforce.sandbox.schema import INDUSTRIES, LEAD_SOURCES, OrgSchema
from connectors.salesforce.sandbox.seed_deals import seed_opportunities
from connectors.salesforce.sandbox.store import OrgStore, Record, sf_datetime
from connectors.sandbox_core.deals import build_deals
from connectors.sandbox_core.population import Person, Population
from connectors.sandbox_core.population_sales import SalesActivity, build_sales_activities

_LEAD_STATUS = {
    "subscriber": "Open - Not Contacted",
    "lead": "Open - Not Contacted",
    "marketingqualifiedlead": "Working - Contacted",
    "salesqualifiedlead": "Working - Contacted",
    "opportunity": "Working - Contacted",
    "customer": "Working - Contacted",
}


def _blank(schema: OrgSchema, sobject: str) -> Record:
    return {
        f.name: (f.default_value if f.defaulted_on_create else None)
        for f in schema.objects[sobject].fields.values()
    }


class _Seeder:
    def __init__(
        self, schema: OrgSchema, store: OrgStore, ids: IdGenerator, population: Population, api_user_id: str
    ) -> None:
        self.schema = schema
        self.store = store
        self.ids = ids
        self.pop = population
        self.now = population.now
        self.rng = random.Random(f"{population.seed}:salesforce")
        self.api_user_id = api_user_id
        self.owner_ids: dict[int, str] = {}
        self._blanks = {name: _blank(schema, name) for name in schema.objects}
        self._seeded_tasks: list[Record] = []
        self.sales = build_sales_activities(population)
        self._converted: set[int] = set()

    def _record(self, sobject: str, created: datetime, modified: datetime, by: str, **values: Any) -> Record:
        record = dict(self._blanks[sobject])
        record.update(values)
        record["Id"] = values.get("Id") or self.ids.new(self.schema.objects[sobject].key_prefix)
        created = min(created, self.now)
        modified = min(max(modified, created), self.now)
        fields = self.schema.objects[sobject].fields
        if "CreatedDate" in fields:
            record["CreatedDate"] = sf_datetime(created)
            record["LastModifiedDate"] = sf_datetime(modified)
            stamp = modified
            if self.rng.random() < 0.05:
                # A system process (roll-up, sharing recalculation) touched the row after the last edit.
                stamp = modified + (self.now - modified) * self.rng.random()
            record["SystemModstamp"] = sf_datetime(stamp)
            record["CreatedById"] = by
            record["LastModifiedById"] = by
        if "IsDeleted" in fields:
            record["IsDeleted"] = False
        self.store.put(sobject, record)
        if sobject in ("Task", "Event"):
            self._seeded_tasks.append(record)
        return record

    def _modified(self, created: datetime) -> datetime:
        span = max((self.now - created).total_seconds(), 0)
        # Most records were last edited soon after creation; some recently.
        fraction = self.rng.random() ** 3
        return created + timedelta(seconds=span * fraction)

    def organization(self, org_id: str, edition: str) -> None:
        start = self.now - timedelta(days=900)
        self._record(
            "Organization",
            start,
            start,
            self.api_user_id,
            Id=org_id,
            Name="Northwind Demo",
            OrganizationType=edition,
            IsSandbox=False,
            InstanceName="NA224",
            TimeZoneSidKey="GMT",
            LanguageLocaleKey="en_US",
        )

    def users(self, api_username: str) -> None:
        start = self.now - timedelta(days=900)
        self._record(
            "User",
            start,
            start,
            self.api_user_id,
            Id=self.api_user_id,
            Username=api_username,
            FirstName="Integration",
            LastName="User",
            Name="Integration User",
            Email=api_username,
            Alias="integ",
            IsActive=True,
            TimeZoneSidKey="GMT",
        )
        for owner in self.pop.owners:
            user = self._record(
                "User",
                start,
                start,
                self.api_user_id,
                Username=owner.email,
                FirstName=owner.first_name,
                LastName=owner.last_name,
                Name=f"{owner.first_name} {owner.last_name}",
                Email=owner.email,
                Alias=(owner.first_name[:1] + owner.last_name[:4]).lower(),
                IsActive=True,
                TimeZoneSidKey="GMT",
                Title="Account Executive",
            )
            self.owner_ids[owner.key] = user["Id"]

    def owner(self, person: Person) -> str:
        return self.owner_ids.get(person.owner_key) or self.api_user_id

    def run(self, api_username: str, org_id: str, edition: str) -> None:
        self.organization(org_id, edition)
        self.users(api_username)
        campaigns = self.campaigns()
        accounts: dict[str, Record] = {}
        leads: list[tuple[Person, Record]] = []
        contacts: list[tuple[Person, Record]] = []
        for person in self.pop.people:
            presence = person.in_salesforce
            if presence is None:
                continue
            contact = None
            if presence in ("contact", "both"):
                account = accounts.get(person.company)
                if account is None:
                    account = self.account(person)
                    accounts[person.company] = account
                contact = self.contact(person, account)
                contacts.append((person, contact))
            if presence in ("lead", "both"):
                leads.append((person, self.lead(person, contact)))
        for person, record in leads:
            if not record["IsConverted"]:
                self.memberships(campaigns, person, record, "LeadId")
                self.activities(person, record)
        for person, record in contacts:
            self.memberships(campaigns, person, record, "ContactId")
            self.activities(person, record)
        # Opportunities come from the deal population both simulators share (sandbox_core/deals.py).
        seed_opportunities(
            self._record,
            build_deals(self.pop),
            contacts={person.key: record for person, record in contacts},
            campaigns={c.key: record["Id"] for c, record in zip(self.pop.campaigns, campaigns, strict=True)},
            owners=self.owner_ids,
            fallback_owner=self.api_user_id,
            new_id=self.ids.new,
            put=self.store.put,
        )

    def campaigns(self) -> list[Record]:
        out: dict[int, Record] = {}
        for c in self.pop.campaigns:
            status = (
                "Completed" if c.end < self.now else ("In Progress" if c.start <= self.now else "Planned")
            )
            out[c.key] = self._record(
                "Campaign",
                c.start - timedelta(days=7),
                c.start,
                self.api_user_id,
                Name=c.name,
                Type=c.type,
                Status=status,
                StartDate=c.start.date().isoformat(),
                EndDate=c.end.date().isoformat(),
                BudgetedCost=float(c.budgeted_cost),
                ActualCost=float(c.actual_cost),
                ExpectedRevenue=float(c.budgeted_cost * 4),
                IsActive=status == "In Progress",
                Channel__c=c.channel,
                OwnerId=self.api_user_id,
                ParentId=out[c.parent_key]["Id"]
                if c.parent_key is not None and c.parent_key in out
                else None,
            )
        return list(out.values())

    def account(self, person: Person) -> Record:
        return self._record(
            "Account",
            person.created_at,
            self._modified(person.created_at),
            self.owner(person),
            Name=person.company,
            Website=f"https://www.{person.domain}",
            Industry=self.rng.choice(INDUSTRIES),
            BillingCity=person.city,
            BillingCountry=person.country,
            Type="Prospect",
            OwnerId=self.owner(person),
            NumberOfEmployees=self.rng.choice((10, 50, 200, 1000, 5000)),
        )

    def _person_fields(self, person: Person) -> dict[str, Any]:
        return {
            "FirstName": person.first_name,
            "LastName": person.last_name,
            "Name": f"{person.first_name} {person.last_name}",
            "Email": person.email_variant_salesforce,
            "Title": person.title,
            "Phone": person.phone,
            "HasOptedOutOfEmail": person.opted_out,
            "LeadSource": self.rng.choice(LEAD_SOURCES),
            "OwnerId": self.owner(person),
            "HubSpot_Score__c": float(person.lead_score),
            "Lifecycle_Stage__c": person.lifecycle,
        }

    def contact(self, person: Person, account: Record) -> Record:
        return self._record(
            "Contact",
            person.created_at,
            self._modified(person.created_at),
            self.owner(person),
            AccountId=account["Id"],
            MailingCity=person.city,
            MailingCountry=person.country,
            **self._person_fields(person),
        )

    def lead(self, person: Person, contact: Record | None) -> Record:
        values = self._person_fields(person)
        values.update(
            Company=person.company,
            City=person.city,
            Country=person.country,
            Status=_LEAD_STATUS[person.lifecycle],
            Rating=self.rng.choice(("Hot", "Warm", "Cold", None)),
        )
        # Half of the people who are both were converted (the Contact came from the Lead); the rest are
        # plain duplicates a rep created by hand.
        if contact is not None and self.rng.random() < 0.5:
            created = min(person.created_at, datetime.fromisoformat(contact["CreatedDate"][:19] + "+00:00"))
            values.update(
                IsConverted=True,
                Status="Closed - Converted",
                ConvertedContactId=contact["Id"],
                ConvertedAccountId=contact["AccountId"],
                ConvertedDate=contact["CreatedDate"][:10],
            )
            self._converted.add(person.key)
            return self._record(
                "Lead", created - timedelta(days=3), person.created_at, self.owner(person), **values
            )
        created = (
            person.created_at + timedelta(minutes=self.rng.randrange(0, 60 * 24 * 30))
            if contact is not None
            else person.created_at
        )
        return self._record("Lead", created, self._modified(created), self.owner(person), **values)

    def memberships(self, campaigns: list[Record], person: Person, record: Record, key: str) -> list[Record]:
        joined = []
        for campaign in self.rng.sample(campaigns, self.rng.choice((0, 0, 1, 1, 2, 3))):
            start = datetime.fromisoformat(campaign["StartDate"] + "T09:00:00+00:00")
            when = max(start, person.created_at) + timedelta(hours=self.rng.randrange(0, 24 * 20))
            responded = self.rng.random() < 0.4
            self._record(
                "CampaignMember",
                when,
                when,
                self.api_user_id,
                CampaignId=campaign["Id"],
                **{key: record["Id"]},
                Status="Responded" if responded else "Sent",
                HasResponded=responded,
                FirstRespondedDate=when.date().isoformat() if responded and when <= self.now else None,
            )
            joined.append(campaign)
        return joined

    def activities(self, person: Person, record: Record) -> None:
        self._activities(person, record)
        # Seeded history: LastActivityDate as the platform would have rolled it up (no stamp change).
        dates = [
            t["ActivityDate"] for t in self._seeded_tasks if t["ActivityDate"] <= self.now.date().isoformat()
        ]
        if dates:
            record["LastActivityDate"] = max(dates)
        self._seeded_tasks.clear()

    def _activities(self, person: Person, record: Record) -> None:
        """The person's seeded sales activity that belongs on this record (population_sales)."""
        on_lead_record = record["Id"].startswith("00Q")
        for activity in self.sales.of(person.key, "salesforce"):
            # A person who is both: activity on the Lead moved to the Contact if the Lead was converted.
            if person.in_salesforce == "both":
                wanted_lead = activity.on_lead and person.key not in self._converted
                if wanted_lead != on_lead_record:
                    continue
            self._activity(activity, record)

    def _activity(self, activity: SalesActivity, record: Record) -> None:
        when = activity.at
        rep = self.owner_ids.get(activity.owner_key) or self.api_user_id
        common: dict[str, Any] = {
            "WhoId": record["Id"],
            "Subject": activity.subject,
            "ActivityDate": when.date().isoformat(),
        }
        if activity.kind == "meeting":
            minutes = (activity.duration_seconds or 1800) // 60
            self._record(
                "Event",
                when - timedelta(days=2),
                when - timedelta(days=2),
                rep,
                **common,
                OwnerId=rep,
                Type="Meeting",
                StartDateTime=sf_datetime(when),
                ActivityDateTime=sf_datetime(when),
                EndDateTime=sf_datetime(when + timedelta(minutes=minutes)),
                DurationInMinutes=minutes,
                Location="Video call",
            )
            return
        task: dict[str, Any] = {
            **common,
            "Status": "Completed",
            "IsClosed": True,
            "Priority": "Normal",
            "CompletedDateTime": sf_datetime(when),
        }
        creator = rep
        if activity.kind == "call":
            task.update(
                TaskSubtype="Call",
                Type="Call",
                CallType="Inbound" if activity.direction == "inbound" else "Outbound",
                CallDurationInSeconds=activity.duration_seconds,
                CallDisposition=activity.outcome,
            )
        elif activity.kind == "list_email":
            # A list email the marketing platform logged for the rep; the integration user created it.
            task.update(TaskSubtype="ListEmail", Type="Email")
            creator = self.api_user_id
        elif activity.kind == "auto_email":
            # An automated send the integration user owns as well as created.
            task.update(TaskSubtype="Email", Type="Email")
            creator = rep = self.api_user_id
        else:
            task.update(TaskSubtype="Email", Type="Email")
        self._record("Task", when, when, creator, **task, OwnerId=rep)


def seed_org(
    schema: OrgSchema,
    store: OrgStore,
    ids: IdGenerator,
    population: Population,
    *,
    api_user_id: str,
    api_username: str,
    org_id: str,
    edition: str,
) -> Mapping[str, int]:
    """Fill an empty store from `population`; returns record counts per object."""
    _Seeder(schema, store, ids, population, api_user_id).run(api_username, org_id, edition)
    return {name: len(table) for name, table in store.tables.items()}
