"""The deterministic population both simulators seed from, so the two systems overlap like real orgs do.

Pure and fast: the same (seed, size, now) always gives the same owners, people and campaigns. Shares:
~60% of people are in both systems, ~20% HubSpot only, ~20% Salesforce only; ~5% are both a Lead and a
Contact inside Salesforce; ~10% store a case/whitespace variant of their email in a system; ~1% have a
malformed address in one system; ~4% opted out of email.
"""

from __future__ import annotations

import gc
import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Literal

SalesforcePresence = Literal["lead", "contact", "both"]
CampaignType = Literal["Email", "Webinar", "Paid Search", "Social", "Content", "Trade Show", "Referral"]

LIFECYCLE_STAGES: tuple[str, ...] = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
)
# Funnel shape: many subscribers and leads, few customers.
_LIFECYCLE_CUM_WEIGHTS = (25, 60, 75, 85, 92, 100)
# Per stage: lead score range, chance the Salesforce record is a Contact (rather than a Lead), opt-out rate.
_LEAD_SCORE = ((0, 30), (10, 50), (40, 80), (50, 90), (55, 95), (40, 100))
_CONTACT_SHARE = (0.10, 0.15, 0.20, 0.50, 0.90, 0.95)
_OPT_OUT = (0.08, 0.04, 0.02, 0.01, 0.01, 0.02)

SHARE_HUBSPOT_ONLY = 0.20
SHARE_SALESFORCE_ONLY = 0.20
SHARE_LEAD_AND_CONTACT = 0.05
SHARE_EMAIL_VARIANT = 0.10
SHARE_INVALID_EMAIL = 0.01
PEOPLE_PER_OWNER = 50
MIN_OWNERS = 3
HISTORY_DAYS = 730

ORG_DOMAIN = "northwind-demo.example"

FIRST_NAMES: tuple[str, ...] = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Betty", "Mark", "Sandra", "Steven", "Ashley", "Paul",
    "Emily", "Andrew", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda", "Brian",
    "Melissa", "George", "Deborah", "Timothy", "Stephanie", "Ronald", "Rebecca", "Jason", "Laura", "Edward",
    "Sharon", "Jeffrey", "Cynthia", "Ryan", "Kathleen", "Jacob", "Amy", "Gary", "Angela", "Nicholas",
    "Anna", "Eric", "Brenda", "Jonathan", "Pamela", "Stephen", "Emma", "Larry", "Nicole", "Justin", "Helen",
    "Scott", "Samantha", "Brandon", "Katherine", "Benjamin", "Christine", "Samuel", "Debra", "Gregory",
    "Rachel", "Alexander", "Carolyn", "Patrick", "Janet", "Frank", "Maria", "Raymond", "Olivia", "Jack",
    "Heather", "Dennis", "Diane", "Priya", "Wei", "Aisha", "Mateo", "Sofia", "Lukas", "Ingrid", "Hiroshi",
    "Amara"
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
    "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis",
    "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
    "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
    "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
    "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez",
    "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "O'Brien", "Smith-Jones", "Schmidt",
    "Müller", "Dubois", "Rossi", "Tanaka", "Kowalski", "Larsen"
)  # fmt: skip
_COMPANY_FIRST: tuple[str, ...] = (
    "Blue", "Bright", "Cedar", "Clear", "Silver", "North", "Summit", "River", "Iron", "Golden", "Harbor",
    "Maple", "Pioneer", "Quantum", "Red", "Stone", "Swift", "True", "Urban", "Vertex", "Apex", "Crescent",
    "Evergreen", "Granite", "Lumen", "Nova", "Orbit", "Pine", "Prime", "Sterling"
)  # fmt: skip
_COMPANY_SECOND: tuple[str, ...] = (
    "Ridge", "Field", "Wave", "Point", "Bridge", "Peak", "Lake", "Forge", "Path", "Gate", "Works", "Labs",
    "Hill", "Grove", "Line", "Stream", "Spark", "Leaf", "Rock", "Wind"
)  # fmt: skip
_COMPANY_KIND = (
    "Logistics", "Software", "Health", "Analytics", "Manufacturing", "Energy", "Foods", "Financial",
    "Robotics", "Media", "Consulting", "Retail", "Systems", "Biotech", "Networks",
)  # fmt: skip
_DOMAIN_TLDS = ("com", "com", "com", "io", "co", "net", "de", "co.uk")
TITLES = (
    "Marketing Manager", "VP Marketing", "CMO", "Demand Generation Manager", "Marketing Operations Manager",
    "Sales Director", "Account Executive", "VP Sales", "CEO", "CTO", "CFO", "Head of Growth",
    "Product Manager", "Director of Operations", "IT Manager", "Software Engineer", "Data Analyst",
    "Procurement Manager", "Office Manager", "Founder", "COO", "Customer Success Manager",
    "Content Strategist", "Revenue Operations Lead", "Head of Partnerships",
)  # fmt: skip
CITIES = (
    ("New York", "US", "+1"), ("San Francisco", "US", "+1"), ("Chicago", "US", "+1"), ("Austin", "US", "+1"),
    ("Boston", "US", "+1"), ("Seattle", "US", "+1"), ("Denver", "US", "+1"), ("Atlanta", "US", "+1"),
    ("Toronto", "CA", "+1"), ("Vancouver", "CA", "+1"), ("London", "GB", "+44"), ("Manchester", "GB", "+44"),
    ("Dublin", "IE", "+353"), ("Berlin", "DE", "+49"), ("Munich", "DE", "+49"), ("Hamburg", "DE", "+49"),
    ("Paris", "FR", "+33"), ("Lyon", "FR", "+33"), ("Amsterdam", "NL", "+31"), ("Madrid", "ES", "+34"),
    ("Barcelona", "ES", "+34"), ("Milan", "IT", "+39"), ("Stockholm", "SE", "+46"),
    ("Copenhagen", "DK", "+45"), ("Zurich", "CH", "+41"), ("Sydney", "AU", "+61"), ("Melbourne", "AU", "+61"),
    ("Singapore", "SG", "+65"), ("Tokyo", "JP", "+81"), ("São Paulo", "BR", "+55"),
)  # fmt: skip
# The eight US cities are three times as likely as each of the others.
_CITY_CUM_WEIGHTS = tuple(accumulate(3 if country == "US" else 1 for _, country, _ in CITIES))

# (name, type, parent index or None): three programmes with their child campaigns, and two standalone ones.
_CAMPAIGNS: tuple[tuple[str, CampaignType, int | None], ...] = (
    ("Demand Generation Programme", "Content", None),
    ("Brand Awareness Programme", "Social", None),
    ("Partner Programme", "Referral", None),
    ("Monthly Newsletter", "Email", 0),
    ("Product Launch Webinar", "Webinar", 0),
    ("Buyer's Guide eBook", "Content", 0),
    ("Google Ads: Sync Software", "Paid Search", 1),
    ("LinkedIn Sponsored Content", "Social", 1),
    ("Industry Trade Show", "Trade Show", 1),
    ("Partner Referral Rewards", "Referral", 2),
    ("Customer Nurture Emails", "Email", None),
    ("Analyst Webinar Series", "Webinar", None),
)
CHANNEL_BY_TYPE: dict[str, str] = {
    "Email": "email",
    "Webinar": "events",
    "Paid Search": "paid_search",
    "Social": "paid_social",
    "Content": "content",
    "Trade Show": "events",
    "Referral": "referral",
}


@dataclass(frozen=True, slots=True)
class Owner:
    """A sales rep who owns records in both systems."""

    key: int
    first_name: str
    last_name: str
    email: str


@dataclass(frozen=True, slots=True)
class Person:
    """One human, as both systems would hold them.

    `email` is canonical (trimmed, lower-case); `email_variant_*` is what each system stores (a case or
    whitespace variant, or a malformed address when `invalid_email`), meaningful where the person exists.
    `in_salesforce` "both" means a Lead AND a Contact carry the email.
    """

    key: int
    first_name: str
    last_name: str
    email: str
    company: str
    domain: str
    title: str
    phone: str
    city: str
    country: str
    created_at: datetime
    lifecycle: str
    lead_score: int
    opted_out: bool
    owner_key: int
    in_hubspot: bool
    in_salesforce: SalesforcePresence | None
    email_variant_hubspot: str
    email_variant_salesforce: str
    invalid_email: bool


@dataclass(frozen=True, slots=True)
class Campaign:
    """A marketing campaign with its costs; `parent_key` places it under a programme."""

    key: int
    name: str
    type: CampaignType
    channel: str
    start: datetime
    end: datetime
    budgeted_cost: Decimal
    actual_cost: Decimal
    parent_key: int | None


@dataclass(frozen=True)
class Population:
    """Everything a simulator seeds from."""

    seed: int
    now: datetime
    owners: tuple[Owner, ...]
    people: tuple[Person, ...]
    campaigns: tuple[Campaign, ...]


def build_population(seed: int, people: int, *, now: datetime) -> Population:
    """The population for `seed`: `people` people, owners (~people/50, at least 3) and 12 campaigns."""
    if people < 0:
        raise ValueError(f"people must be >= 0, got {people}")
    if now.tzinfo is None:
        raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
    now = now.astimezone(UTC).replace(microsecond=0)
    owners = _owners(random.Random(f"{seed}:owners"), max(MIN_OWNERS, people // PEOPLE_PER_OWNER))
    # Nothing built here can form a reference cycle; pausing the cyclic GC roughly doubles the speed
    # for large populations (it would otherwise rescan every person built so far, again and again).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        built = _people(random.Random(f"{seed}:people"), people, len(owners), now)
    finally:
        if gc_was_enabled:
            gc.enable()
    return Population(
        seed=seed,
        now=now,
        owners=owners,
        people=built,
        campaigns=_campaigns(random.Random(f"{seed}:campaigns"), now),
    )


def _owners(rng: random.Random, count: int) -> tuple[Owner, ...]:
    owners: list[Owner] = []
    seen: set[str] = set()
    for key in range(1, count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{_ascii(first)}.{_ascii(last)}"
        if local in seen:
            local = f"{local}{key}"
        seen.add(local)
        owners.append(Owner(key, first, last, f"{local}@{ORG_DOMAIN}"))
    return tuple(owners)


def _companies(rng: random.Random, count: int) -> list[tuple[str, str]]:
    combos = [(a, b, k) for a in _COMPANY_FIRST for b in _COMPANY_SECOND for k in _COMPANY_KIND]
    picked = rng.sample(combos, min(count, len(combos)))
    companies = []
    for first, second, kind in picked:
        tld = rng.choice(_DOMAIN_TLDS)
        companies.append((f"{first}{second} {kind}", f"{first}{second}{kind[:4]}.{tld}".lower()))
    return companies


def _people(rng: random.Random, count: int, owner_count: int, now: datetime) -> tuple[Person, ...]:
    # Hot loop (>= 100k people/s): every choice is one rng.random() call and a lookup, names are
    # pre-folded for emails, and nothing is looked up through attributes inside the loop.
    companies = _companies(rng, max(20, count // 6))
    rand = rng.random
    firsts = [(name, _ascii(name)) for name in FIRST_NAMES]
    lasts = [(name, _ascii(name)) for name in LAST_NAMES]
    n_first, n_last, n_company, n_title = len(firsts), len(lasts), len(companies), len(TITLES)
    titles, cities, stages = TITLES, CITIES, LIFECYCLE_STAGES
    city_weights, city_total = _CITY_CUM_WEIGHTS, _CITY_CUM_WEIGHTS[-1]
    stage_weights, stage_total = _LIFECYCLE_CUM_WEIGHTS, _LIFECYCLE_CUM_WEIGHTS[-1]
    lead_score, contact_share, opt_out = _LEAD_SCORE, _CONTACT_SHARE, _OPT_OUT
    salesforce_only, in_both = SHARE_SALESFORCE_ONLY, 1.0 - SHARE_HUBSPOT_ONLY
    lead_and_contact = SHARE_LEAD_AND_CONTACT / in_both
    invalid_share, variant_share = SHARE_INVALID_EMAIL, SHARE_INVALID_EMAIL + SHARE_EMAIL_VARIANT
    n_variants, n_malformers = len(_VARIANTS), len(_MALFORMERS)
    history = HISTORY_DAYS * 86400
    now_ts, from_timestamp, utc = now.timestamp(), datetime.fromtimestamp, now.tzinfo
    seen: set[str] = set()
    result: list[Person] = []
    append = result.append
    for key in range(1, count + 1):
        first, first_ascii = firsts[int(rand() * n_first)]
        last, last_ascii = lasts[int(rand() * n_last)]
        company, domain = companies[int(rand() * n_company)]
        roll = rand()
        if roll < 0.55:
            local = f"{first_ascii}.{last_ascii}"
        elif roll < 0.75:
            local = f"{first_ascii[0]}{last_ascii}"
        elif roll < 0.85:
            local = f"{first_ascii}_{last_ascii}"
        elif roll < 0.95:
            local = f"{first_ascii}{last_ascii[0]}"
        else:
            local = first_ascii
        email = f"{local}@{domain}"
        if email in seen:
            email = f"{local}{key}@{domain}"
        seen.add(email)

        stage_index = bisect_right(stage_weights, rand() * stage_total)
        low, high = lead_score[stage_index]
        city, country, dial = cities[bisect_right(city_weights, rand() * city_total)]

        presence = rand()
        in_hubspot = presence >= salesforce_only
        in_salesforce: SalesforcePresence | None = None
        if presence < in_both:
            if rand() < lead_and_contact:
                in_salesforce = "both"
            else:
                in_salesforce = "contact" if rand() < contact_share[stage_index] else "lead"

        variant_hubspot = variant_salesforce = email
        invalid = False
        quirk = rand()
        if quirk < invalid_share:
            invalid = True
            bad = _malformed(email, int(rand() * n_malformers))
            if in_salesforce is None or (in_hubspot and quirk < invalid_share / 2):
                variant_hubspot = bad
            else:
                variant_salesforce = bad
        elif quirk < variant_share:
            which = rand()
            if which < 0.6:
                variant_hubspot = _variant(email, int(rand() * n_variants))
            if which >= 0.4:
                variant_salesforce = _variant(email, int(rand() * n_variants))

        digits = str(2_001_000_000 + int(rand() * 7_998_999_999))  # area code 200-999, then 3 + 4 digits
        append(
            Person(
                key,
                first,
                last,
                email,
                company,
                domain,
                titles[int(rand() * n_title)],
                f"{dial} {digits[:3]} {digits[3:6]} {digits[6:]}",
                city,
                country,
                from_timestamp(now_ts - int(rand() * history), utc),
                stages[stage_index],
                low + int(rand() * (high - low + 1)),
                rand() < opt_out[stage_index],
                1 + int(owner_count * rand() ** 1.3),  # a few reps own more than others
                in_hubspot,
                in_salesforce,
                variant_hubspot,
                variant_salesforce,
                invalid,
            )
        )
    return tuple(result)


def _ascii(name: str) -> str:
    return "".join(ch for ch in name.lower().replace("ü", "ue") if ch.isascii() and ch.isalnum())


_VARIANTS = ("title", "upper", "space", "domain_upper")


def _variant(email: str, kind: int) -> str:
    name = _VARIANTS[kind]
    local, _, host = email.partition("@")
    if name == "title":
        return ".".join(part.capitalize() for part in local.split(".")) + "@" + host.capitalize()
    if name == "upper":
        return email.upper()
    if name == "space":
        return f" {email} "
    return f"{local}@{host.upper()}"


_MALFORMERS = ("no_tld", "double_at", "no_at", "inner_space", "trailing_dot")


def _malformed(email: str, kind: int) -> str:
    name = _MALFORMERS[kind]
    local, _, host = email.partition("@")
    if name == "no_tld":
        return f"{local}@{host.split('.')[0]}"
    if name == "double_at":
        return f"{local}@@{host}"
    if name == "no_at":
        return f"{local}.{host}"
    if name == "inner_space":
        return f"{local} @{host}"
    return f"{email}."


def _campaigns(rng: random.Random, now: datetime) -> tuple[Campaign, ...]:
    today = now.replace(hour=0, minute=0, second=0)
    campaigns: list[Campaign] = []
    for index, (name, kind, parent) in enumerate(_CAMPAIGNS):
        if parent is None and index < 3:
            start = today - timedelta(days=rng.randrange(300, 400))
            end = start + timedelta(days=365)
        else:
            start = today - timedelta(days=rng.randrange(30, 330))
            end = start + timedelta(days=rng.choice((1, 14, 30, 60, 90)))
        budget = Decimal(rng.randrange(10, 500) * 100)
        actual = (budget * Decimal(rng.randrange(70, 121)) / 100).quantize(Decimal("0.01"))
        if end > today:
            # A campaign still running has spent only part of its money so far.
            actual = (actual * Decimal(rng.randrange(30, 90)) / 100).quantize(Decimal("0.01"))
        campaigns.append(
            Campaign(
                key=index + 1,
                name=f"{start.year} {name}",
                type=kind,
                channel=CHANNEL_BY_TYPE[kind],
                start=start,
                end=end,
                budgeted_cost=budget.quantize(Decimal("0.01")),
                actual_cost=actual,
                parent_key=None if parent is None else parent + 1,
            )
        )
    return tuple(campaigns)
