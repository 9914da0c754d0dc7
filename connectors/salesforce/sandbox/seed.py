"""Seeds the simulated org from the shared population: users, accounts, leads, contacts, campaigns,
members, rep activities and opportunities, with realistic timestamps."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from connectors.salesforce.sandbox.ids import IdGenerator
from connectors.salesforce.sandbox.schema import INDUSTRIES, LEAD_SOURCES, OPPORTUNITY_STAGES, OrgSchema
from connectors.salesforce.sandbox.store import OrgStore, Record, sf_datetime
from connectors.sandbox_core.population import Person, Population

_LEAD_STATUS = {
    "subscriber": "Open - Not Contacted",
    "lead": "Open - Not Contacted",
    "marketingqualifiedlead": "Working - Contacted",
    "salesqualifiedlead": "Working - Contacted",
    "opportunity": "Working - Contacted",
    "customer": "Working - Contacted",
}
_CALL_RESULTS = ("Connected", "Left voicemail", "No answer", "Wrong number", "Meeting booked")
_EMAIL_SUBJECTS = ("Following up", "Quick question", "Next steps", "Pricing details", "Intro call")
_OPEN_STAGES = tuple(s for s, (_, closed, _, _) in OPPORTUNITY_STAGES.items() if not closed)
_CONTACT_ROLES = ("Decision Maker", "Economic Buyer", "Evaluator", "Influencer", "Technical Buyer")


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
        if sobject == "Task":
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
        contacts_by_account: dict[str, list[tuple[Person, Record]]] = {}
        for person, record in contacts:
            contacts_by_account.setdefault(record["AccountId"], []).append((person, record))
            joined = self.memberships(campaigns, person, record, "ContactId")
            self.activities(person, record)
            if person.lifecycle in ("opportunity", "customer"):
                self.opportunity(
                    person, record, joined or campaigns, contacts_by_account[record["AccountId"]]
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
        rng = self.rng
        owner = record["OwnerId"]
        if person.lifecycle in ("subscriber", "lead"):
            count = rng.choice((0, 0, 0, 1))
        else:
            count = rng.randrange(1, 5)
        for _ in range(count):
            when = min(person.created_at + timedelta(hours=rng.randrange(1, 24 * 60)), self.now)
            if rng.random() < 0.5:
                self._record(
                    "Task",
                    when,
                    when,
                    owner,
                    WhoId=record["Id"],
                    OwnerId=owner,
                    Subject="Call",
                    TaskSubtype="Call",
                    Type="Call",
                    Status="Completed",
                    IsClosed=True,
                    Priority="Normal",
                    ActivityDate=when.date().isoformat(),
                    CallType="Outbound",
                    CallDurationInSeconds=rng.choice((0, 0, 45, 120, 300, 900)),
                    CallDisposition=rng.choice(_CALL_RESULTS),
                    CompletedDateTime=sf_datetime(min(when, self.now)),
                )
            else:
                self._record(
                    "Task",
                    when,
                    when,
                    owner,
                    WhoId=record["Id"],
                    OwnerId=owner,
                    Subject=f"Email: {rng.choice(_EMAIL_SUBJECTS)}",
                    TaskSubtype="Email",
                    Type="Email",
                    Status="Completed",
                    IsClosed=True,
                    Priority="Normal",
                    ActivityDate=when.date().isoformat(),
                    CompletedDateTime=sf_datetime(min(when, self.now)),
                )
        if rng.random() < 0.15:
            # An automated send logged by the integration user, not a rep.
            when = min(person.created_at + timedelta(hours=rng.randrange(1, 24 * 90)), self.now)
            self._record(
                "Task",
                when,
                when,
                self.api_user_id,
                WhoId=record["Id"],
                OwnerId=owner,
                Subject="Email: Monthly Newsletter",
                TaskSubtype="ListEmail",
                Type="Email",
                Status="Completed",
                IsClosed=True,
                Priority="Normal",
                ActivityDate=when.date().isoformat(),
                CompletedDateTime=sf_datetime(min(when, self.now)),
            )

    def opportunity(
        self,
        person: Person,
        contact: Record,
        campaigns: list[Record],
        colleagues: list[tuple[Person, Record]],
    ) -> None:
        rng = self.rng
        created = person.created_at + timedelta(days=rng.randrange(5, 60))
        if person.lifecycle == "customer":
            stage = "Closed Won" if rng.random() < 0.85 else "Closed Lost"
        else:
            stage = rng.choice(_OPEN_STAGES) if rng.random() < 0.8 else "Closed Lost"
        probability, closed, won, forecast = OPPORTUNITY_STAGES[stage]
        close = created + timedelta(days=rng.randrange(14, 120))
        campaign = rng.choice(campaigns) if campaigns and rng.random() < 0.8 else None
        opp = self._record(
            "Opportunity",
            created,
            self._modified(created),
            contact["OwnerId"],
            AccountId=contact["AccountId"],
            Name=f"{person.company} - {rng.choice(('New Business', 'Expansion', 'Renewal'))}",
            StageName=stage,
            Amount=float(rng.randrange(5, 200) * 500),
            Probability=probability,
            IsClosed=closed,
            IsWon=won,
            ForecastCategoryName=forecast,
            CloseDate=close.date().isoformat(),
            CampaignId=campaign["Id"] if campaign else None,
            ContactId=contact["Id"],
            OwnerId=contact["OwnerId"],
            Type="New Customer",
            LeadSource=contact["LeadSource"],
        )
        self._record(
            "OpportunityContactRole",
            created,
            created,
            contact["OwnerId"],
            OpportunityId=opp["Id"],
            ContactId=contact["Id"],
            Role="Decision Maker",
            IsPrimary=True,
        )
        others = [r for p, r in colleagues if r["Id"] != contact["Id"]]
        for other in rng.sample(others, min(len(others), rng.choice((0, 1, 2)))):
            self._record(
                "OpportunityContactRole",
                created,
                created,
                contact["OwnerId"],
                OpportunityId=opp["Id"],
                ContactId=other["Id"],
                Role=rng.choice(_CONTACT_ROLES),
                IsPrimary=False,
            )


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
