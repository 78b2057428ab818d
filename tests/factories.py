"""factory_boy factories. Domain records are created through the services, as every door does,
so blind indexes and validation are the real ones.

Searchable defaults (names, domains) are sequences, never random words: a random surname such as
"Mann" would match a test's search for "ann" on one seed in a thousand."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from customers import roles, selectors
from customers.actors import SYSTEM
from customers.models import Activity, Company, Contact, Deal
from customers.services import activities, companies, contacts, deals


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@crm.test")
    password = factory.django.Password("correct-horse-battery")
    is_staff = True


def in_group(default: str):
    """A post-generation hook putting the user in a role's group (override with role=...)."""

    def add(user, create, extracted, **kwargs):
        if create:
            user.groups.add(Group.objects.get(name=extracted or default))

    return factory.PostGeneration(add)


class SalesUserFactory(UserFactory):
    role = in_group(roles.SALES)


class ManagerFactory(UserFactory):
    role = in_group(roles.MANAGER)


class ServiceFactory(factory.Factory):
    """Builds kwargs with factory_boy and hands them to a service's create function, as the
    application itself (``SYSTEM``) unless the test names an ``actor``."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return cls.create_service(actor=kwargs.pop("actor", SYSTEM), **kwargs)


class CompanyFactory(ServiceFactory):
    class Meta:
        model = Company

    create_service = staticmethod(companies.company_create)
    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.Sequence(lambda n: f"company{n}.test")
    industry = "Software"
    country = "CN"
    phone = factory.Sequence(lambda n: f"+86 10 {6000_0000 + n}")
    address = factory.Faker("address")


class ContactFactory(ServiceFactory):
    class Meta:
        model = Contact

    create_service = staticmethod(contacts.contact_create)
    first_name = factory.Sequence(lambda n: f"Given{n}")
    last_name = factory.Sequence(lambda n: f"Family{n}")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    phone = factory.Sequence(lambda n: f"+86 138 {n // 10000:04d} {n % 10000:04d}")
    address = factory.Faker("address")


class DealFactory(ServiceFactory):
    class Meta:
        model = Deal

    create_service = staticmethod(deals.deal_create)
    name = factory.Sequence(lambda n: f"Deal {n}")
    amount = "1000.00"
    currency = "CNY"


class ActivityFactory(ServiceFactory):
    class Meta:
        model = Activity

    create_service = staticmethod(activities.activity_create)
    kind = Activity.Kind.CALL
    subject = factory.Sequence(lambda n: f"Call {n}")
    contact = factory.SubFactory(ContactFactory)


def default_stage(name: str = "Qualification"):
    return selectors.default_pipeline().stages.get(name=name)
