"""Realistic demo data for a fresh CRM (`manage.py seed_demo`), written through the services.

About half the people and companies are Chinese (zh_CN) and half Western (en_US, en_GB, de_DE),
so lists, search and sorting meet CJK and Latin text alike. The same seed gives the same data.
Beside them, the records the README's examples name (`demo_examples_ensure`).
"""

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from faker import Faker

from customers import roles, selectors
from customers.actors import Actor
from customers.models import Activity, Company, Contact, CustomField, Deal, Stage
from customers.services.activities import activity_create
from customers.services.companies import company_create
from customers.services.contacts import contact_create
from customers.services.custom_fields import custom_field_create
from customers.services.deals import deal_create

User = get_user_model()

CHINESE = "zh_CN"
_WESTERN = (("en_US", "US", 6), ("en_GB", "GB", 2), ("de_DE", "DE", 2))
_CURRENCY = {"CN": "CNY", "US": "USD", "GB": "GBP", "DE": "EUR"}
DEMO_USERS = (
    *((f"sales{n}", roles.SALES) for n in range(1, 5)),
    ("manager1", roles.MANAGER),
)

_INDUSTRIES = (
    "Software",
    "Manufacturing",
    "Retail",
    "Logistics",
    "Financial services",
    "Healthcare",
    "Education",
    "Energy",
    "Automotive",
    "Media",
)
_SIZE_WEIGHTS = (
    (Company.SizeBand.MICRO, 2),
    (Company.SizeBand.SMALL, 4),
    (Company.SizeBand.MEDIUM, 4),
    (Company.SizeBand.LARGE, 3),
    (Company.SizeBand.ENTERPRISE, 2),
    (Company.SizeBand.GLOBAL, 1),
)
_COMPANY_TAGS = ("key-account", "partner", "reseller", "target-2025", "重点客户", "华东区")
_CONTACT_TAGS = ("vip", "newsletter", "decision-maker", "webinar", "trade-show", "技术负责人")
_TITLES = {
    True: (
        "总经理",
        "采购经理",
        "技术总监",
        "销售总监",
        "财务经理",
        "IT经理",
        "市场经理",
        "运营主管",
    ),
    False: (
        "CEO",
        "CTO",
        "Head of Procurement",
        "IT Manager",
        "Sales Director",
        "Operations Manager",
        "CFO",
        "Marketing Manager",
        "Office Manager",
        "VP Engineering",
    ),
}
_SOURCES = ("Website", "Referral", "Trade show", "LinkedIn", "WeChat", "Cold call", "Webinar")
_LIFECYCLE_WEIGHTS = (
    (Contact.Lifecycle.LEAD, 35),
    (Contact.Lifecycle.PROSPECT, 30),
    (Contact.Lifecycle.CUSTOMER, 25),
    (Contact.Lifecycle.CHURNED, 10),
)
_PRODUCTS = {
    True: ("年度订阅", "系统集成", "私有化部署", "培训服务", "数据迁移"),
    False: ("Annual licence", "Implementation", "Support renewal", "Cloud migration", "Training"),
}
_SUBJECTS = {
    Activity.Kind.CALL: (("初步沟通电话", "跟进电话"), ("Discovery call", "Follow-up call")),
    Activity.Kind.EMAIL: (("发送报价单", "产品介绍邮件"), ("Sent the quote", "Intro email")),
    Activity.Kind.MEETING: (("产品演示", "上门拜访"), ("Product demo", "Quarterly review")),
    Activity.Kind.NOTE: (("预算已批准", "偏好微信联系"), ("Budget approved", "Prefers calls")),
    Activity.Kind.TASK: (("准备合同草稿", "准备报价"), ("Send contract draft", "Prepare quote")),
}
# Reserved (RFC 2606) domains: demo people must never receive real email.
_PERSONAL_DOMAINS = ("example.com", "example.net", "example.org")

# What the README's examples use, so each runs verbatim on a fresh `make run`
# (tests/project/test_readme_examples.py runs them).
EXAMPLE_USER = "alice"
EXAMPLE_CUSTOM_FIELD = "loyalty_tier"
EXAMPLE_CONTACT_EMAIL = "zhang.wei@example.cn"
EXAMPLE_CONTACT_EXTERNAL_ID = "erp-42"


@dataclass
class DemoSeedReport:
    seed: int
    skipped: bool = False
    existing_contacts: int = 0
    examples: list[str] = field(default_factory=list)
    users: int = 0
    companies: int = 0
    contacts: int = 0
    deals: int = 0
    activities: int = 0


def demo_seed(
    *, actor: Actor, contacts: int = 500, seed: int | None = None, force: bool = False
) -> DemoSeedReport:
    """Seed once: with contacts already present nothing is written unless `force`. Every
    record is written through the services as `actor` (the command's).

    Deterministic for a given seed whatever the database holds (existing demo users or emails
    never change what is drawn next), so `force` with the same seed adds the same people again
    under fresh email addresses.
    """
    if contacts < 1:
        raise ValidationError({"contacts": gettext("Seed at least one contact.")})
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    existing = Contact.objects.count()
    if existing and not force:
        # A demo database seeded before the README's examples existed gets them now.
        examples = demo_examples_ensure(actor=actor) if _is_demo_database() else []
        return DemoSeedReport(
            seed=seed, skipped=True, existing_contacts=existing, examples=examples
        )

    demo = _DemoData(seed, actor)
    with transaction.atomic():
        examples = demo_examples_ensure(actor=actor)
        users = demo.users()
        # Records belong to the sales team; the manager oversees rather than owns. A superuser
        # already there (`make run` creates `admin` first) works a share too, so the first
        # login's dashboard shows "my" deals and activities.
        owners = [
            user for user, (_, role) in zip(users, DEMO_USERS, strict=True) if role == roles.SALES
        ] + list(User.objects.filter(is_superuser=True, is_active=True).order_by("pk"))
        companies = demo.companies(max(1, round(contacts / 8)), owners)
        people = demo.contacts(contacts, companies, owners)
        deals = demo.deals(round(contacts * 0.4), people, owners)
        activities = demo.activities(people, deals)
    return DemoSeedReport(
        seed=seed,
        existing_contacts=existing,
        examples=examples,
        users=demo.users_created,
        companies=len(companies),
        contacts=len(people),
        deals=len(deals),
        activities=activities,
    )


@transaction.atomic
def demo_examples_ensure(*, actor: Actor) -> list[str]:
    """The README's examples' records, each created once when missing (through the services,
    so the blind index and custom values are as for any record): the sales user `alice`, the
    contacts' choice field `loyalty_tier`, and 张伟 <zhang.wei@example.cn>, known to the ERP of
    the examples as `erp-42`. Returns what it created, for the command to say."""
    created = []
    roles.ensure_default_groups()
    alice = User.objects.filter(username=EXAMPLE_USER).first()
    if alice is None:
        alice = User.objects.create_user(
            username=EXAMPLE_USER,
            email=f"{EXAMPLE_USER}@crm.example.com",
            first_name="Alice",
            last_name="Example",
            is_staff=True,
        )  # no password: API keys are hers to use, logging in needs an administrator first
        alice.groups.add(Group.objects.get(name=roles.SALES))
        created.append(f"user {EXAMPLE_USER}")
    if not CustomField.objects.filter(
        entity=CustomField.Entity.CONTACT, name=EXAMPLE_CUSTOM_FIELD
    ).exists():
        custom_field_create(
            actor=actor,
            entity=CustomField.Entity.CONTACT,
            name=EXAMPLE_CUSTOM_FIELD,
            label="Loyalty tier",
            label_zh="会员等级",
            type=CustomField.Type.CHOICE,
            choices=("bronze", "silver", "gold"),
        )
        created.append(f"contact field {EXAMPLE_CUSTOM_FIELD}")
    if not (
        selectors.find_contact_by_email(EXAMPLE_CONTACT_EMAIL)
        or selectors.find_contact_by_external_id(EXAMPLE_CONTACT_EXTERNAL_ID)
    ):
        contact_create(
            actor=actor,
            first_name="伟",
            last_name="张",
            title="采购经理",
            email=EXAMPLE_CONTACT_EMAIL,
            lifecycle_stage=Contact.Lifecycle.CUSTOMER,
            source="Referral",
            owner=alice,
            external_id=EXAMPLE_CONTACT_EXTERNAL_ID,
            custom_fields={EXAMPLE_CUSTOM_FIELD: "gold"},
        )
        created.append(f"contact 张伟 <{EXAMPLE_CONTACT_EMAIL}>")
    return created


def _is_demo_database() -> bool:
    return User.objects.filter(username__in=[username for username, _ in DEMO_USERS]).exists()


class _DemoData:
    def __init__(self, seed: int, actor: Actor) -> None:
        self.actor = actor
        self.rng = random.Random(seed)
        self.fakers = {locale: Faker(locale) for locale in (CHINESE, *(w[0] for w in _WESTERN))}
        for offset, faker in enumerate(self.fakers.values()):
            faker.seed_instance(seed + offset)
        self.used_emails: set[str] = set()
        self.users_created = 0
        self.now = timezone.now()

    def _locale(self, chinese: bool) -> tuple[str, str]:
        if chinese:
            return CHINESE, "CN"
        locales, countries, weights = zip(*_WESTERN, strict=True)
        index = self.rng.choices(range(len(locales)), weights=weights)[0]
        return locales[index], countries[index]

    def users(self) -> list[Any]:
        roles.ensure_default_groups()
        users = []
        for username, role in DEMO_USERS:
            # Names are drawn even for an existing user, so the rest of the data stays the same.
            faker = self.fakers[CHINESE if self.rng.random() < 0.5 else "en_US"]
            first_name, last_name = faker.first_name(), faker.last_name()
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(
                    username=username,
                    email=f"{username}@crm.example.com",
                    first_name=first_name,
                    last_name=last_name,
                    is_staff=True,
                )  # no password given: unusable until an administrator sets one
                self.users_created += 1
            user.groups.add(Group.objects.get(name=role))
            users.append(user)
        return users

    def companies(self, count: int, users: list[Any]) -> list[Company]:
        created = []
        for index in range(count):
            locale, country = self._locale(chinese=index % 2 == 0)
            faker = self.fakers[locale]
            if locale == CHINESE:
                domain = faker.user_name() + self.rng.choice((".com.cn", ".cn", ".com"))
            else:
                domain = faker.domain_name()
            created.append(
                company_create(
                    actor=self.actor,
                    name=faker.company(),
                    domain=domain,
                    industry=self.rng.choice(_INDUSTRIES),
                    size_band=_weighted(self.rng, _SIZE_WEIGHTS),
                    country=country,
                    address=faker.address(),
                    phone=_phone(self.rng, country),
                    owner=self.rng.choice(users),
                    tags=self.rng.sample(_COMPANY_TAGS, k=self.rng.randint(0, 2)),
                )
            )
        return created

    def contacts(self, count: int, companies: list[Company], users: list[Any]) -> list[Contact]:
        chinese_companies = [c for c in companies if c.country == "CN"] or companies
        western_companies = [c for c in companies if c.country != "CN"] or companies
        created = []
        for _ in range(count):
            chinese = self.rng.random() < 0.5
            company = None
            if self.rng.random() < 0.85:
                pool = chinese_companies if chinese else western_companies
                company = self.rng.choice(pool)
            if company is not None and self.rng.random() < 0.9:
                locale, country = _locale_of(company), company.country
            else:
                locale, country = self._locale(chinese)
            created.append(self._contact(locale, country, company, users))
        return created

    def _contact(
        self, locale: str, country: str, company: Company | None, users: list[Any]
    ) -> Contact:
        faker = self.fakers[locale]
        chinese = locale == CHINESE
        first_name, last_name = faker.first_name(), faker.last_name()
        local_part = faker.user_name() if chinese else _ascii(f"{first_name}.{last_name}")
        domain = company.domain if company else self.rng.choice(_PERSONAL_DOMAINS)
        return contact_create(
            actor=self.actor,
            first_name=first_name,
            last_name=last_name,
            title=self.rng.choice(_TITLES[chinese]),
            company=company,
            email=self._unique_email(local_part, domain) if self.rng.random() < 0.95 else None,
            phone=_phone(self.rng, country) if self.rng.random() < 0.85 else None,
            address=faker.address() if self.rng.random() < 0.7 else None,
            lifecycle_stage=_weighted(self.rng, _LIFECYCLE_WEIGHTS),
            source=self.rng.choice(_SOURCES),
            owner=self.rng.choice(users),
            notes=faker.paragraph() if self.rng.random() < 0.3 else "",
            consent_email=self.rng.random() < 0.6,
            consent_phone=self.rng.random() < 0.4,
            tags=self.rng.sample(_CONTACT_TAGS, k=self.rng.randint(0, 2)),
        )

    def _unique_email(self, local_part: str, domain: str) -> str:
        """A counter, not the random stream, resolves clashes, so earlier runs in the same
        database never shift what is drawn next."""
        candidate, suffix = f"{local_part}@{domain}".lower(), 1
        while candidate in self.used_emails or selectors.find_contact_by_email(candidate):
            suffix += 1
            candidate = f"{local_part}{suffix}@{domain}".lower()
        self.used_emails.add(candidate)
        return candidate

    def deals(self, count: int, people: list[Contact], users: list[Any]) -> list[Deal]:
        stages = list(selectors.default_pipeline().stages.order_by("position", "id"))
        weights = [3 if stage.outcome == Stage.Outcome.OPEN else 2 for stage in stages]
        with_company = [person for person in people if person.company_id] or people
        today = timezone.localdate(self.now)
        created = []
        for index in range(max(count, len(stages))):
            # The first pass visits every stage, so even a small seed shows the whole pipeline.
            stage = stages[index] if index < len(stages) else self.rng.choices(stages, weights)[0]
            contact = self.rng.choice(with_company)
            country = contact.company.country if contact.company else "CN"
            chinese = country == "CN"
            if stage.outcome == Stage.Outcome.OPEN:
                close_in = self.rng.randint(7, 120)
            else:
                close_in = -self.rng.randint(5, 180)
            created.append(
                deal_create(
                    actor=self.actor,
                    name=f"{contact.company or contact} – {self.rng.choice(_PRODUCTS[chinese])}",
                    stage=stage,
                    amount=Decimal(self.rng.randrange(5_000, 500_000, 250)).quantize(
                        Decimal("0.01")
                    ),
                    currency=_CURRENCY.get(country, "USD"),
                    company=contact.company,
                    primary_contact=contact,
                    expected_close_date=today + timedelta(days=close_in),
                    owner=contact.owner or self.rng.choice(users),
                    tags=self.rng.sample(
                        ("upsell", "new-business", "续约"), k=self.rng.randint(0, 1)
                    ),
                )
            )
        return created

    def activities(self, people: list[Contact], deals: list[Deal]) -> int:
        count = 0
        for contact in people:
            for _ in range(self.rng.choice((0, 1, 1, 2, 2, 3))):
                self._activity(contact=contact, deal=None)
                count += 1
        for deal in deals:
            for _ in range(self.rng.randint(1, 2)):
                self._activity(contact=deal.primary_contact, deal=deal)
                count += 1
        return count

    def _activity(self, *, contact: Contact, deal: Deal | None) -> Activity:
        kind = self.rng.choice(Activity.Kind.values)
        chinese = _is_chinese(contact)
        due_at, done_at = self._timing(kind)
        faker = self.fakers[CHINESE if chinese else "en_US"]
        return activity_create(
            actor=self.actor,
            kind=kind,
            subject=self.rng.choice(_SUBJECTS[kind][0 if chinese else 1]),
            body=faker.sentence() if self.rng.random() < 0.6 else "",
            due_at=due_at,
            done_at=done_at,
            contact=contact,
            deal=deal,
            author=contact.owner,
        )

    def _timing(self, kind: str) -> tuple[datetime | None, datetime | None]:
        """Notes and emails are history; calls, meetings and tasks are split between today
        (what the "due today" list shows), the past (mostly done) and the future. Every branch
        draws the same numbers whatever the clock says, so a seed gives the same data all day."""
        bucket, finished = self.rng.random(), self.rng.random()
        days, hours = self.rng.randint(1, 45), self.rng.randint(0, 9)
        if kind in (Activity.Kind.NOTE, Activity.Kind.EMAIL):
            return None, self.now - timedelta(days=days, hours=hours)
        if bucket < 0.25:
            today = timezone.localdate(self.now)
            due = timezone.make_aware(datetime.combine(today, time(9 + hours)))
            return due, due if due < self.now and finished < 0.5 else None
        if bucket < 0.6:
            due = self.now - timedelta(days=days, hours=hours)
            return due, due if finished < 0.85 else None
        return self.now + timedelta(days=days % 30 + 1, hours=hours), None


def _weighted(rng: random.Random, pairs) -> Any:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _locale_of(company: Company) -> str:
    return next((locale for locale, country, _ in _WESTERN if country == company.country), CHINESE)


def _is_chinese(contact: Contact) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in contact.last_name + contact.first_name)


def _ascii(text: str) -> str:
    text = text.replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in decomposed if char.isalnum() or char == ".")


def _phone(rng: random.Random, country: str) -> str:
    """Numbers in the shapes people actually type, all valid for `validate_phone`; US and GB
    numbers come from the ranges reserved for fiction."""
    if country == "CN":
        mobile = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        a, b, c = mobile[:3], mobile[3:7], mobile[7:]
        return rng.choice(
            (f"+86 {a} {b} {c}", f"{a}-{b}-{c}", mobile, f"0086 {a} {b} {c}", f"+86-{mobile}")
        )
    if country == "US":
        area, line = rng.randint(201, 989), rng.randint(100, 199)
        return rng.choice(
            (
                f"+1 ({area}) 555-{line:04d}",
                f"+1 {area}.555.{line:04d}",
                f"001 {area} 555 {line:04d}",
            )
        )
    if country == "GB":
        return rng.choice(
            (f"+44 20 7946 {rng.randint(0, 999):04d}", f"+44 7700 900{rng.randint(0, 999):03d}")
        )
    area = rng.choice(("30", "40", "89", "69"))
    return rng.choice(
        (
            f"+49 {area} {rng.randint(1_000_000, 9_999_999)}",
            f"0049 {area}/{rng.randint(100_000, 999_999)}",
        )
    )
