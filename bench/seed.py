"""Seed a fresh benchmark database: `python -m bench.seed --contacts N --key-file PATH`.

A sample goes through the services (``company_create``, ``contact_create``: validation, blind
indexes, tags); the rest is bulk-inserted the same way the services would store it: encrypted
fields encrypt on save (``get_prep_value``) and ``email_index``/``phone_index`` come from
``customers.crypto``, so exports and lookups do real decryption on real tokens. Writes the raw
API key (every scope, ``pii:read`` included) of a sales user to the key file.

``--custom-fields N --pii-custom-fields M`` also defines N custom contact fields (M of them PII)
and gives every contact a value for each, stored by ``apply_custom_values`` as the services
store them (PII encrypted and blind-indexed).

Needs DJANGO_SETTINGS_MODULE and DATABASE_URL set by the caller (``bench/api_bench.py``).
"""

import argparse
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

SAMPLE_COMPANIES = 50
SAMPLE_CONTACTS = 200
BATCH = 2000
_SOURCES = ("web", "referral", "trade-show", "cold-call", "partner", "import")
_LIFECYCLES = ("lead", "lead", "prospect", "customer", "customer", "churned")
_TITLES = ("CEO", "CTO", "IT Manager", "Sales Director", "采购经理", "技术总监", "总经理")
_INDUSTRIES = ("Software", "Retail", "Logistics", "Healthcare", "Energy", "Media")
_SIZES = ("1-10", "11-50", "51-200", "201-1000", "1001-5000", "5001+")
_TAGS = ("vip", "newsletter", "decision-maker", "webinar", "trade-show", "技术负责人")
_COMPANY_TAGS = ("key-account", "partner", "reseller", "重点客户")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, required=True)
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--key-file", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--custom-fields", type=int, default=0, help="custom contact fields")
    parser.add_argument("--pii-custom-fields", type=int, default=0, help="how many are PII")
    args = parser.parse_args(argv)

    import django

    django.setup()
    started = time.perf_counter()
    raw_key = seed(
        contacts=args.contacts,
        companies=args.companies,
        seed=args.seed,
        custom_fields=args.custom_fields,
        pii_custom_fields=args.pii_custom_fields,
    )
    args.key_file.write_text(raw_key)
    print(
        f"seeded {args.contacts:,} contacts, {args.companies:,} companies "
        f"in {time.perf_counter() - started:.1f}s",
        file=sys.stderr,
    )


def seed(
    *, contacts: int, companies: int, seed: int, custom_fields: int = 0, pii_custom_fields: int = 0
) -> str:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from customers import roles
    from customers.actors import SYSTEM
    from customers.services.tags import tag_create
    from integrations.scopes import ALL_SCOPES
    from integrations.services.api_keys import api_key_create

    rng = random.Random(seed)
    pools = _Pools(rng)
    user_model = get_user_model()
    roles.ensure_default_groups()
    sales = Group.objects.get(name=roles.SALES)
    owners = []
    for number in range(1, 5):
        owner = user_model.objects.create_user(username=f"bench-sales{number}")
        owner.groups.add(sales)
        owners.append(owner)
    api_user = user_model.objects.create_user(username="bench-api")
    api_user.groups.add(sales)  # view_contact and view_pii, like a sales integration
    _api_key, raw_key = api_key_create(user=api_user, name="bench", scopes=list(ALL_SCOPES))
    for name in (*_TAGS, *_COMPANY_TAGS):
        tag_create(actor=SYSTEM, name=name)

    with transaction.atomic():
        company_ids = _companies(rng, pools, count=companies, owners=owners)
    fields = _custom_fields(custom_fields, pii=pii_custom_fields)
    with transaction.atomic():
        _contacts(rng, pools, count=contacts, company_ids=company_ids, owners=owners, fields=fields)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # what autovacuum would have done by now
    return raw_key


class _Pools:
    """Names and addresses drawn once from Faker: per-row Faker calls would dominate seeding."""

    def __init__(self, rng: random.Random) -> None:
        from faker import Faker

        self.locales = {}
        for locale, country in (("zh_CN", "CN"), ("en_US", "US"), ("de_DE", "DE")):
            faker = Faker(locale)
            faker.seed_instance(rng.randrange(2**32))
            self.locales[locale] = {
                "country": country,
                "first": [faker.first_name() for _ in range(300)],
                "last": [faker.last_name() for _ in range(300)],
                "company": [faker.company() for _ in range(300)],
                # one line: a CSV export line-count then equals the row count
                "address": [faker.address().replace("\n", ", ") for _ in range(300)],
                "sentence": [faker.sentence(nb_words=12) for _ in range(100)],
            }

    def pick(self, rng: random.Random, locale: str, kind: str) -> str:
        return rng.choice(self.locales[locale][kind])


# (type, choices) of the plain custom fields, and the types PII fields take, in turn.
_PLAIN_TYPES = (
    ("text", []),
    ("integer", []),
    ("decimal", []),
    ("date", []),
    ("boolean", []),
    ("choice", ["bronze", "silver", "gold"]),
    ("multi_choice", ["crm", "erp", "bi"]),
    ("datetime", []),
    ("url", []),
    ("long_text", []),
)
_PII_TYPES = ("text", "email", "phone", "date", "long_text")


def _custom_fields(count: int, *, pii: int) -> list:
    from customers.actors import SYSTEM
    from customers.services.custom_fields import custom_field_create

    fields = []
    for number in range(count):
        if number < pii:
            type_, choices = _PII_TYPES[number % len(_PII_TYPES)], []
        else:
            type_, choices = _PLAIN_TYPES[(number - pii) % len(_PLAIN_TYPES)]
        name = f"cf{number:02d}_{type_}{'_pii' if number < pii else ''}"
        fields.append(
            custom_field_create(
                actor=SYSTEM,
                entity="contact",
                name=name,
                label=name,
                type=type_,
                choices=choices,
                pii=number < pii,
            )
        )
    return fields


def _custom_value(rng: random.Random, field, index: int):
    """A value of the field's type, as a client would send it."""
    samples = {
        "text": lambda: f"text {rng.randrange(10**6)}",
        "long_text": lambda: f"notes {index}: " + "lorem ipsum " * rng.randint(1, 8),
        "integer": lambda: rng.randrange(10**6),
        "decimal": lambda: f"{rng.randrange(10**6)}.{rng.randrange(100):02d}",
        "date": lambda: (
            f"20{rng.randint(10, 29)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        ),
        "datetime": lambda: f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T08:30:00Z",
        "boolean": lambda: rng.random() < 0.5,
        "choice": lambda: rng.choice(field.choices),
        "multi_choice": lambda: rng.sample(field.choices, k=rng.randint(1, 2)),
        "email": lambda: f"alt{index}@mail{index % 31}.example.org",
        "phone": lambda: _phone(rng, "CN"),
        "url": lambda: f"https://example.com/{index}",
    }
    return samples[field.type]()


def _phone(rng: random.Random, country: str) -> str:
    if country == "CN":
        return f"+86 1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    if country == "US":
        return f"+1 ({rng.randint(201, 989)}) 555-{rng.randint(100, 199):04d}"
    return f"+49 30 {rng.randint(1_000_000, 9_999_999)}"


def _companies(rng: random.Random, pools: _Pools, *, count: int, owners: list) -> list[int]:
    from customers import crypto
    from customers.actors import SYSTEM
    from customers.models import Company, Tag
    from customers.services.companies import company_create

    def values(index: int) -> dict:
        locale = rng.choice(tuple(pools.locales))
        country = pools.locales[locale]["country"]
        return {
            "name": f"{pools.pick(rng, locale, 'company')} {index}",
            "domain": f"company{index}.example.com",
            "industry": rng.choice(_INDUSTRIES),
            "size_band": rng.choice(_SIZES),
            "country": country,
            "address": pools.pick(rng, locale, "address"),
            "phone": _phone(rng, country),
            "owner": rng.choice(owners),
        }

    ids = []
    sample = min(SAMPLE_COMPANIES, count)
    for index in range(sample):
        tags = rng.sample(_COMPANY_TAGS, k=rng.randint(0, 2))
        ids.append(company_create(actor=SYSTEM, **values(index), tags=tags).pk)
    rows = []
    for index in range(sample, count):
        data = values(index)
        rows.append(Company(**data, phone_index=crypto.phone_index(data["phone"])))
    created = Company.objects.bulk_create(rows, batch_size=BATCH)
    ids.extend(company.pk for company in created)
    tag_ids = list(Tag.objects.filter(name__in=_COMPANY_TAGS).values_list("pk", flat=True))
    through = Company.tags.through
    links = [
        through(company_id=company.pk, tag_id=tag_id)
        for company in created
        for tag_id in rng.sample(tag_ids, k=rng.randint(0, 2))
    ]
    through.objects.bulk_create(links, batch_size=BATCH)
    return ids


def _contacts(
    rng: random.Random,
    pools: _Pools,
    *,
    count: int,
    company_ids: list[int],
    owners: list,
    fields: list,
) -> None:
    from django.utils import timezone

    from customers import crypto
    from customers.actors import SYSTEM
    from customers.custom_fields.values import apply_custom_values
    from customers.models import Contact, Tag
    from customers.services.contacts import contact_create

    now = timezone.now()
    tag_ids = dict(Tag.objects.filter(name__in=_TAGS).values_list("name", "pk"))

    def values(index: int) -> dict:
        locale = rng.choice(tuple(pools.locales))
        country = pools.locales[locale]["country"]
        first, last = pools.pick(rng, locale, "first"), pools.pick(rng, locale, "last")
        consent_email, consent_phone = rng.random() < 0.6, rng.random() < 0.4
        return {
            "first_name": first,
            "last_name": last,
            "title": rng.choice(_TITLES),
            "company": rng.choice(company_ids) if rng.random() < 0.85 else None,
            # every contact has an email (unique), so the export decrypts 2-3 fields per row
            "email": f"person{index}@mail{index % 97}.example.com",
            "phone": _phone(rng, country) if rng.random() < 0.85 else None,
            "address": pools.pick(rng, locale, "address") if rng.random() < 0.7 else None,
            "lifecycle_stage": rng.choice(_LIFECYCLES),
            "source": rng.choice(_SOURCES),
            "owner": rng.choice(owners),
            "notes": pools.pick(rng, locale, "sentence") if rng.random() < 0.3 else "",
            "consent_email": consent_email,
            "consent_phone": consent_phone,
            "external_id": f"bench-{index}" if rng.random() < 0.5 else None,
        }

    def custom(index: int) -> dict:
        return {field.name: _custom_value(rng, field, index) for field in fields}

    sample = min(SAMPLE_CONTACTS, count)
    for index in range(sample):
        data = values(index)
        extra = {"custom_fields": custom(index)} if fields else {}
        contact_create(actor=SYSTEM, **data, tags=rng.sample(_TAGS, k=rng.randint(0, 2)), **extra)

    through = Contact.tags.through
    names = list(tag_ids)
    for start in range(sample, count, BATCH):
        rows = []
        for index in range(start, min(start + BATCH, count)):
            data = values(index)
            company_id = data.pop("company")
            owner = data.pop("owner")
            consent_at = now - timedelta(days=index % 700)
            rows.append(
                contact := Contact(
                    **data,
                    company_id=company_id,
                    owner_id=owner.pk,
                    email_index=crypto.email_index(data["email"]),
                    phone_index=crypto.phone_index(data["phone"]),
                    consent_updated_at=consent_at
                    if data["consent_email"] or data["consent_phone"]
                    else None,
                )
            )
            if fields:  # as the services store them: PII encrypted and blind-indexed
                apply_custom_values(contact, custom(index), definitions=fields)
        created = Contact.objects.bulk_create(rows)
        links = [
            through(contact_id=contact.pk, tag_id=tag_ids[name])
            for contact in created
            for name in rng.sample(names, k=rng.randint(0, 2))
        ]
        through.objects.bulk_create(links)


if __name__ == "__main__":
    main()
