"""The admin door: pages render, search goes through the blind indexes, personal data is masked
for users without view_pii, and every write goes through the services."""

import uuid

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers import crypto, pii, selectors
from customers.actors import SYSTEM
from customers.models import Activity, Company, Contact, Deal, Pipeline, Stage, Tag
from customers.services import contacts as contact_services
from customers.services import pipelines
from customers.services import tags as tag_services
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    ContactFactory,
    DealFactory,
    SalesUserFactory,
    UserFactory,
    default_stage,
)

pytestmark = pytest.mark.django_db

EMAIL = "Zhang.Wei@Example.com"
PHONE = "+86 138 0013 8000"
ADDRESS = "1 Nanjing Road, Shanghai"


def changelist_url(model) -> str:
    return reverse(f"admin:customers_{model._meta.model_name}_changelist")


def add_url(model) -> str:
    return reverse(f"admin:customers_{model._meta.model_name}_add")


def change_url(obj) -> str:
    return reverse(f"admin:customers_{obj._meta.model_name}_change", args=[obj.pk])


def listed(response) -> list:
    return list(response.context["cl"].result_list)


def form_data(response) -> dict:
    """What a browser would post back unchanged from a rendered change form."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            if value is True:
                data[field.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[field.html_name] = [str(item) for item in value]
            else:
                data[field.html_name] = str(value)
    return data


@pytest.fixture
def contact():
    return ContactFactory(
        first_name="Wei", last_name="Zhang", email=EMAIL, phone=PHONE, address=ADDRESS
    )


@pytest.fixture
def staff_without_pii(client):
    """A manager in every way except view_pii, logged in."""
    group = Group.objects.create(name="manager-without-pii")
    group.permissions.set(
        Group.objects.get(name="manager").permissions.exclude(codename="view_pii")
    )
    user = UserFactory()
    user.groups.add(group)
    assert not pii.can_view_pii(user)
    client.force_login(user)
    return client


def _one_of_each():
    company = CompanyFactory(name="Acme", tags=["vip"])
    person = ContactFactory(company=company, tags=["vip"])
    deal = DealFactory(company=company, primary_contact=person)
    ActivityFactory(contact=person, deal=deal)
    return {
        Company: company,
        Contact: person,
        Deal: deal,
        Activity: deal.activities.get(),
        Tag: Tag.objects.get(name="vip"),
        Pipeline: selectors.default_pipeline(),
        Stage: default_stage(),
    }


ALL_MODELS = [Company, Contact, Pipeline, Stage, Deal, Activity, Tag]


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.__name__)
def test_changelist_add_and_change_pages_render_for_superuser(admin_client, model):
    obj = _one_of_each()[model]

    changelist = admin_client.get(changelist_url(model))
    assert changelist.status_code == 200
    assert obj in listed(changelist)
    assert admin_client.get(add_url(model)).status_code == 200
    assert admin_client.get(change_url(obj)).status_code == 200


# Search through the blind indexes


def test_search_by_email_in_any_letter_case_finds_the_contact(admin_client, contact):
    ContactFactory(email="someone.else@example.com")

    response = admin_client.get(changelist_url(Contact), {"q": "  zhang.WEI@example.COM "})

    assert listed(response) == [contact]


def test_search_by_part_of_an_email_finds_nothing_because_nothing_is_decrypted(
    admin_client, contact
):
    response = admin_client.get(changelist_url(Contact), {"q": "zhang.wei@example"})

    assert listed(response) == []


def test_search_by_differently_formatted_phone_finds_the_contact(admin_client, contact):
    ContactFactory(phone="+86 139 0000 0000")

    for written in ("0086-138-0013-8000", "138 0013 8000", "(0)13800138000"):
        response = admin_client.get(changelist_url(Contact), {"q": written})
        assert listed(response) == [contact], written


def test_search_by_name_still_works_next_to_the_blind_indexes(admin_client, contact):
    ContactFactory(first_name="Li", last_name="Na")

    response = admin_client.get(changelist_url(Contact), {"q": "zhang"})

    assert listed(response) == [contact]


def test_company_search_by_phone_uses_its_blind_index(admin_client):
    company = CompanyFactory(phone="+86 10 6000 1234")
    CompanyFactory(phone="+86 10 6000 9999")

    response = admin_client.get(changelist_url(Company), {"q": "010-6000-1234"})

    assert listed(response) == [company]


@pytest.mark.parametrize("term", [EMAIL, PHONE, "nobody@example.com"])
def test_staff_without_view_pii_searching_by_email_or_phone_are_told_and_match_nobody(
    staff_without_pii, contact, term
):
    response = staff_without_pii.get(changelist_url(Contact), {"q": term})

    assert listed(response) == []
    shown = [str(message) for message in response.context["messages"]]
    assert any("needs the right to read it" in message for message in shown)


# Personal data


def test_staff_without_view_pii_sees_masked_pii_on_the_changelist(staff_without_pii, contact):
    response = staff_without_pii.get(changelist_url(Contact))

    content = response.content.decode()
    assert response.status_code == 200
    assert pii.mask_email(EMAIL) in content
    assert pii.mask_phone(PHONE) in content
    assert EMAIL not in content
    assert "0013 8000" not in content


def test_staff_without_view_pii_gets_masked_read_only_values_on_the_change_page(
    staff_without_pii, contact
):
    response = staff_without_pii.get(change_url(contact))

    content = response.content.decode()
    assert response.status_code == 200
    assert {"email", "phone", "address"}.isdisjoint(response.context["adminform"].form.fields)
    assert pii.mask_email(EMAIL) in content
    assert pii.mask_phone(PHONE) in content
    assert EMAIL not in content
    assert "0013 8000" not in content
    assert "Nanjing" not in content


def test_staff_without_view_pii_can_edit_other_fields_and_the_pii_is_kept(
    staff_without_pii, contact
):
    data = form_data(staff_without_pii.get(change_url(contact)))
    data["title"] = "CTO"

    response = staff_without_pii.post(change_url(contact), data)

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.title == "CTO"
    assert (contact.email, contact.phone, contact.address) == (EMAIL, PHONE, ADDRESS)
    assert contact.email_index == crypto.email_index(EMAIL)


def test_staff_without_view_pii_sees_a_companys_phone_and_address_masked(staff_without_pii):
    company = CompanyFactory(phone="+86 10 6000 1234", address=ADDRESS)

    changelist = staff_without_pii.get(changelist_url(Company)).content.decode()
    change = staff_without_pii.get(change_url(company))

    assert pii.mask_phone("+86 10 6000 1234") in changelist
    assert "6000 1234" not in changelist
    assert {"phone", "address"}.isdisjoint(change.context["adminform"].form.fields)
    assert "Nanjing" not in change.content.decode()


def test_staff_without_view_pii_may_type_pii_into_the_add_form(staff_without_pii):
    """Write-only: the user supplies the data, nothing stored is shown."""
    response = staff_without_pii.post(add_url(Contact), _new_contact_data())

    assert response.status_code == 302
    assert selectors.find_contact_by_email("mei.chen@example.com") is not None


def test_superuser_sees_plaintext_pii(admin_client, contact):
    changelist = admin_client.get(changelist_url(Contact)).content.decode()
    change = admin_client.get(change_url(contact))

    assert EMAIL in changelist and PHONE in changelist
    assert pii.mask_email(EMAIL) not in changelist
    assert change.context["adminform"].form["email"].value() == EMAIL
    assert ADDRESS in change.content.decode()


# Writes go through the services


def _new_contact_data(**overrides) -> dict:
    return {
        "first_name": "Mei",
        "last_name": "Chen",
        "title": "Buyer",
        "email": "Mei.Chen@Example.com",
        "phone": "138-0013-9999",
        "address": "",
        "lifecycle_stage": Contact.Lifecycle.PROSPECT,
        "source": "fair",
        "notes": "",
        "external_id": "",
        **overrides,
    }


def test_add_form_creates_the_contact_through_the_service_with_blind_indexes(admin_client):
    vip = tag_services.tag_create(actor=SYSTEM, name="VIP")

    response = admin_client.post(add_url(Contact), _new_contact_data(tags=[vip.pk]))

    assert response.status_code == 302
    created = selectors.find_contact_by_email("mei.chen@example.com")
    assert created is not None
    assert created.email == "Mei.Chen@Example.com"
    assert list(selectors.find_contacts_by_phone("+86 138 0013 9999")) == [created]
    assert [tag.name for tag in created.tags.all()] == ["VIP"]


def test_invalid_email_in_add_form_is_a_form_error_and_writes_nothing(admin_client):
    response = admin_client.post(add_url(Contact), _new_contact_data(email="not-an-email"))

    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert Contact.objects.count() == 0


def test_duplicate_email_is_the_services_error_on_the_email_field_and_writes_nothing(
    admin_client, contact
):
    response = admin_client.post(add_url(Contact), _new_contact_data(email=EMAIL.upper()))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["email"] == ["Another contact already has this email address."]
    assert Contact.objects.count() == 1
    assert not Tag.objects.exists()


def test_changing_tags_on_the_change_form_sets_them_by_name(admin_client, contact):
    red, blue = (
        tag_services.tag_create(actor=SYSTEM, name="red"),
        tag_services.tag_create(actor=SYSTEM, name="blue"),
    )
    contact_services.contact_update(actor=SYSTEM, contact=contact, data={"tags": ["red"]})
    data = form_data(admin_client.get(change_url(contact)))
    data["tags"] = [str(blue.pk)]

    response = admin_client.post(change_url(contact), data)

    assert response.status_code == 302
    assert list(contact.tags.all()) == [blue]
    assert red.pk in Tag.objects.values_list("pk", flat=True)


def test_consent_change_through_the_admin_stamps_consent_updated_at(admin_client, contact):
    data = form_data(admin_client.get(change_url(contact)))
    data["consent_email"] = "on"

    admin_client.post(change_url(contact), data)

    contact.refresh_from_db()
    assert contact.consent_email is True
    assert contact.consent_updated_at is not None


def test_service_error_at_save_time_becomes_a_message_not_a_500(admin_client, monkeypatch):
    """The form's dry run passes; the real write then loses a race to a concurrent change."""
    real_create = contact_services.contact_create
    calls = []

    def create_then_lose_the_race(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            return real_create(**kwargs)  # the validation dry run, rolled back
        raise ValidationError({"email": "Another contact already has this email address."})

    monkeypatch.setattr(contact_services, "contact_create", create_then_lose_the_race)

    response = admin_client.post(add_url(Contact), _new_contact_data(), follow=True)

    assert len(calls) == 2
    assert response.redirect_chain == [(add_url(Contact), 302)]
    assert "Another contact already has this email address." in response.content.decode()
    assert Contact.objects.count() == 0


def test_deleting_a_contact_goes_through_the_service_and_keeps_its_activities(
    admin_client,
):
    person = ContactFactory()
    activity = ActivityFactory(contact=person)
    company = CompanyFactory()
    contact_services.contact_update(actor=SYSTEM, contact=person, data={"company": company})

    response = admin_client.post(
        reverse("admin:customers_contact_delete", args=[person.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Contact.objects.filter(pk=person.pk).exists()
    activity.refresh_from_db()
    assert activity.company == company  # contact_delete re-files orphaned history


def test_changing_a_deals_stage_sets_its_status_through_the_service(admin_client):
    deal = DealFactory()
    data = form_data(admin_client.get(change_url(deal)))
    data["stage"] = str(default_stage("Closed won").pk)

    response = admin_client.post(change_url(deal), data)

    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.status == Deal.Status.WON
    assert deal.closed_at is not None


def test_adding_an_activity_files_it_under_the_contacts_company_through_the_service(
    admin_client,
):
    company = CompanyFactory()
    person = ContactFactory(company=company)

    response = admin_client.post(
        add_url(Activity),
        {
            "kind": Activity.Kind.MEETING,
            "subject": "Kick-off",
            "body": "",
            "due_at_0": "",
            "due_at_1": "",
            "done_at_0": "",
            "done_at_1": "",
            "contact": str(person.pk),
            "external_id": "",
        },
    )

    assert response.status_code == 302
    activity = Activity.objects.get(subject="Kick-off")
    assert (activity.contact, activity.company) == (person, company)


def test_adding_a_pipeline_creates_its_inline_stages_through_the_services(admin_client):
    stages = [("Discovery", 10, "open"), ("Signed", 100, "won")]
    data = {
        "name": "Enterprise",
        "stages-TOTAL_FORMS": str(len(stages)),
        "stages-INITIAL_FORMS": "0",
        "stages-MIN_NUM_FORMS": "0",
        "stages-MAX_NUM_FORMS": "1000",
    }
    for index, (name, probability, outcome) in enumerate(stages):
        data |= {
            f"stages-{index}-position": str(index),
            f"stages-{index}-name": name,
            f"stages-{index}-win_probability": str(probability),
            f"stages-{index}-outcome": outcome,
        }

    response = admin_client.post(add_url(Pipeline), data)

    assert response.status_code == 302
    pipeline = Pipeline.objects.get(name="Enterprise")
    assert list(pipeline.stages.values_list("name", "outcome")) == [
        ("Discovery", "open"),
        ("Signed", "won"),
    ]
    assert selectors.default_pipeline().name == "Sales"


def test_adding_a_tag_that_exists_in_another_case_is_a_form_error(admin_client):
    tag_services.tag_create(actor=SYSTEM, name="VIP")

    response = admin_client.post(add_url(Tag), {"name": "vip"})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [
        "A tag with this name already exists."
    ]
    assert Tag.objects.count() == 1


# Merge actions


def test_merge_action_folds_contacts_into_the_oldest_and_keeps_their_activities(admin_client):
    oldest = ContactFactory(first_name="Wei", last_name="Zhang", email=None)
    newer = ContactFactory(first_name="W.", last_name="Zhang", email=EMAIL)
    for person in (oldest, newer, newer):
        ActivityFactory(contact=person)

    response = admin_client.post(
        changelist_url(Contact),
        {"action": "merge_contacts", "_selected_action": [newer.pk, oldest.pk]},
    )

    assert response.status_code == 302
    assert list(Contact.objects.all()) == [oldest]
    assert oldest.activities.count() == 3
    assert selectors.find_contact_by_email(EMAIL) == oldest  # blank filled from the duplicate


def test_merge_action_folds_companies_into_the_oldest(admin_client):
    oldest, newer = CompanyFactory(name="Acme"), CompanyFactory(name="ACME Ltd")
    person = ContactFactory(company=newer)

    admin_client.post(
        changelist_url(Company),
        {"action": "merge_companies", "_selected_action": [oldest.pk, newer.pk]},
    )

    assert list(Company.objects.all()) == [oldest]
    person.refresh_from_db()
    assert person.company == oldest


def test_merge_action_with_one_record_changes_nothing(admin_client, contact):
    response = admin_client.post(
        changelist_url(Contact),
        {"action": "merge_contacts", "_selected_action": [contact.pk]},
        follow=True,
    )

    assert "Select at least two contacts to merge." in response.content.decode()
    assert Contact.objects.count() == 1


def test_staff_without_delete_permission_cannot_merge(client, contact):
    sales = SalesUserFactory()
    other = ContactFactory()
    client.force_login(sales)

    client.post(
        changelist_url(Contact),
        {"action": "merge_contacts", "_selected_action": [contact.pk, other.pk]},
    )

    assert Contact.objects.count() == 2


# Changelist query shape


def _add_rows(model, count: int) -> None:
    owner = UserFactory()
    for _ in range(count):
        company = CompanyFactory(owner=owner, tags=["vip", "new"])
        person = ContactFactory(company=company, owner=owner, tags=["vip"])
        deal = DealFactory(company=company, primary_contact=person, owner=owner, tags=["vip"])
        ActivityFactory(contact=person, deal=deal, author=owner)
    for _ in range(count):
        if model is Stage:
            pipeline = selectors.default_pipeline()
            pipelines.stage_create(
                actor=SYSTEM, pipeline=pipeline, data={"name": f"Extra {uuid.uuid4()}"}
            )
        if model is Tag:
            tag_services.tag_create(actor=SYSTEM, name=f"Extra {uuid.uuid4()}")
        if model is Pipeline:
            pipelines.pipeline_create(actor=SYSTEM, name=f"Extra {uuid.uuid4()}")


def _changelist_queries(client, model) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(changelist_url(model))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.__name__)
def test_changelist_query_count_does_not_grow_with_rows(admin_client, model):
    _add_rows(model, 5)
    _changelist_queries(admin_client, model)  # warm caches (content types, sessions)
    with_five = _changelist_queries(admin_client, model)

    _add_rows(model, 15)
    with_twenty = _changelist_queries(admin_client, model)

    assert len(listed(admin_client.get(changelist_url(model)))) >= 20
    assert with_twenty == with_five
