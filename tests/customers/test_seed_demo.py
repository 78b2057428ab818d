import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from customers import selectors
from customers.actors import SYSTEM
from customers.models import Activity, Company, Contact, CustomField, Deal
from customers.services.demo import demo_seed

CJK = re.compile(r"[\u4e00-\u9fff]")
README_CONTACT = "erp-42"  # 张伟, whom the README's examples look up and update


def _drawn():
    """The contacts drawn from the seed: all but the README's example."""
    return Contact.objects.exclude(external_id=README_CONTACT)


def _seed(*args: str) -> None:
    call_command("seed_demo", *args)


def _names(contacts) -> list[str]:
    return [f"{contact.first_name} {contact.last_name}" for contact in contacts]


@pytest.mark.django_db
def test_seed_demo_creates_contacts_companies_deals_and_activities_through_services(capsys):
    _seed("--contacts", "40", "--seed", "1")

    contacts = list(_drawn())
    assert len(contacts) == 40
    assert Company.objects.count() == 5
    with_email = [contact for contact in contacts if contact.email]
    assert with_email and all(contact.email_index for contact in with_email)
    assert any(CJK.search(contact.last_name) for contact in contacts)
    assert any(re.fullmatch(r"[A-Za-z' -]+", contact.last_name) for contact in contacts)
    assert Deal.objects.values("stage").distinct().count() > 1
    assert set(Deal.objects.values_list("status", flat=True)) == {"open", "won", "lost"}
    assert Activity.objects.filter(contact__isnull=False).exists()
    assert Activity.objects.filter(deal__isnull=False).exists()
    assert "40 contacts" in capsys.readouterr().out


@pytest.mark.django_db
def test_seed_demo_adds_sales_users_and_a_manager_in_their_groups():
    _seed("--contacts", "10", "--seed", "1")
    users = get_user_model().objects.filter(username__in=["sales1", "manager1"])
    groups = {user.username: set(user.groups.values_list("name", flat=True)) for user in users}
    assert groups == {"sales1": {"sales"}, "manager1": {"manager"}}
    assert not users.get(username="sales1").has_usable_password()


@pytest.mark.django_db
def test_second_run_without_force_adds_nothing(capsys):
    _seed("--contacts", "40", "--seed", "1")
    counts = [model.objects.count() for model in (Contact, Company, Deal, Activity)]
    capsys.readouterr()

    _seed("--contacts", "40", "--seed", "2")

    assert [model.objects.count() for model in (Contact, Company, Deal, Activity)] == counts
    assert "Skipped" in capsys.readouterr().out


@pytest.mark.django_db
def test_force_adds_more_with_fresh_emails():
    _seed("--contacts", "12", "--seed", "3")
    _seed("--contacts", "12", "--seed", "3", "--force")

    assert _drawn().count() == 24
    indexes = list(Contact.objects.exclude(email_index=None).values_list("email_index", flat=True))
    assert len(indexes) == len(set(indexes))


@pytest.mark.django_db
def test_same_seed_gives_the_same_people_and_another_seed_does_not():
    demo_seed(actor=SYSTEM, contacts=10, seed=42)
    first = _names(_drawn().order_by("pk"))
    demo_seed(actor=SYSTEM, contacts=10, seed=42, force=True)
    second = _names(_drawn().order_by("pk")[10:])
    demo_seed(actor=SYSTEM, contacts=10, seed=43, force=True)
    other = _names(_drawn().order_by("pk")[20:])

    assert first == second
    assert other != first


@pytest.mark.django_db
def test_contacts_below_one_is_an_error_and_writes_nothing():
    with pytest.raises(CommandError, match="at least one contact"):
        _seed("--contacts", "0")
    assert Contact.objects.count() == 0


@pytest.mark.django_db
def test_the_demo_has_what_the_readme_examples_use_once(capsys):
    _seed("--contacts", "5", "--seed", "1")
    _seed("--contacts", "5", "--seed", "1", "--force")

    alice = get_user_model().objects.get(username="alice")
    assert set(alice.groups.values_list("name", flat=True)) == {"sales"}
    assert alice.has_perm("customers.view_pii")
    tier = CustomField.objects.get(entity="contact", name="loyalty_tier")
    assert (tier.type, tier.choices) == ("choice", ["bronze", "silver", "gold"])
    wei = selectors.find_contact_by_email("Zhang.Wei@example.cn")
    assert (wei.last_name, wei.first_name, wei.external_id) == ("张", "伟", README_CONTACT)
    assert wei.owner == alice and wei.custom_fields == {"loyalty_tier": "gold"}
    assert Contact.objects.filter(external_id=README_CONTACT).count() == 1
    out = capsys.readouterr().out
    assert out.count("For the README's examples: user alice") == 1


@pytest.mark.django_db
def test_a_demo_database_seeded_before_the_examples_gets_them_on_the_next_run(capsys):
    demo_seed(actor=SYSTEM, contacts=5, seed=1)
    Contact.objects.filter(external_id=README_CONTACT).delete()
    get_user_model().objects.filter(username="alice").delete()
    CustomField.objects.filter(name="loyalty_tier").delete()
    counts = [model.objects.count() for model in (Company, Deal, Activity)]

    _seed("--contacts", "5")

    assert get_user_model().objects.filter(username="alice").exists()
    assert selectors.find_contact_by_email("zhang.wei@example.cn") is not None
    assert [model.objects.count() for model in (Company, Deal, Activity)] == counts
    assert "Skipped" in capsys.readouterr().out


@pytest.mark.django_db
def test_a_database_that_is_not_a_demo_gets_no_example_records():
    Contact.objects.create(first_name="Real", last_name="Customer")

    _seed("--contacts", "5")

    assert not get_user_model().objects.filter(username="alice").exists()
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_a_superuser_there_before_the_seed_owns_a_share_of_the_demo():
    admin = get_user_model().objects.create_superuser("admin", "admin@localhost", "x-1234-long")

    demo_seed(actor=SYSTEM, contacts=40, seed=1)

    assert Contact.objects.filter(owner=admin).exists()
    assert Deal.objects.filter(owner=admin).exists()
    assert Activity.objects.filter(author=admin).exists()
