"""Custom fields in the admin: definitions are managed through the services (type changes that
would break stored values are refused with the count, deletion purges only when confirmed), and
record forms render, validate and save custom values by type, with personal ones masked."""

import pytest
from django.urls import reverse
from django.utils import translation

from customers.actors import SYSTEM
from customers.custom_fields import form_fields
from customers.models import Contact, CustomField, Deal
from customers.services.custom_fields import custom_field_create
from tests.customers.test_admin import add_url, change_url, form_data, staff_without_pii  # noqa: F401
from tests.factories import CompanyFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db


def definitions_url(action: str = "changelist", *args) -> str:
    return reverse(f"admin:customers_customfield_{action}", args=args)


@pytest.fixture
def contact_fields():
    return {
        "budget": custom_field_create(
            actor=SYSTEM, entity="contact", name="budget", label="Budget", type="decimal"
        ),
        "renewal": custom_field_create(
            actor=SYSTEM,
            entity="contact",
            name="renewal",
            label="Renewal",
            label_zh="续约日",
            type="date",
        ),
        "tier": custom_field_create(
            actor=SYSTEM,
            entity="contact",
            name="tier",
            label="Tier",
            type="choice",
            choices=["gold", "silver"],
        ),
        "newsletter": custom_field_create(
            actor=SYSTEM, entity="contact", name="newsletter", label="Newsletter", type="boolean"
        ),
        "wechat": custom_field_create(
            actor=SYSTEM, entity="contact", name="wechat", label="WeChat", type="text", pii=True
        ),
    }


# Definitions


def test_a_manager_defines_a_choice_field_with_one_choice_per_line(admin_client):
    response = admin_client.post(
        definitions_url("add"),
        {
            "entity": "deal",
            "name": "region",
            "type": "choice",
            "label": "Region",
            "label_zh": "区域",
            "choices": "North\r\nSouth\r\n\r\n",
            "default": "North",
            "position": "0",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    field = CustomField.objects.get(entity="deal", name="region")
    assert (field.choices, field.default, field.label_zh) == (["North", "South"], "North", "区域")


def test_a_definition_clashing_with_a_built_in_field_is_refused_next_to_the_name(admin_client):
    response = admin_client.post(
        definitions_url("add"),
        {"entity": "contact", "name": "email", "type": "text", "label": "E", "position": "0"},
    )

    assert response.status_code == 200
    assert "built-in" in " ".join(response.context["adminform"].form.errors["name"])
    assert not CustomField.objects.exists()


def test_a_type_change_that_stored_values_would_not_survive_is_refused_with_the_count(
    admin_client,
):
    field = custom_field_create(
        actor=SYSTEM, entity="contact", name="code", label="Code", type="text"
    )
    ContactFactory(custom_fields={"code": "A-1"})
    ContactFactory(custom_fields={"code": "B-2"})
    ContactFactory(custom_fields={"code": "42"})
    page = admin_client.get(definitions_url("change", field.pk))
    data = {**form_data(page), "type": "integer"}

    response = admin_client.post(definitions_url("change", field.pk), data)

    assert response.status_code == 200
    assert "2 records hold values" in " ".join(response.context["adminform"].form.errors["type"])
    field.refresh_from_db()
    assert field.type == "text"


def test_the_delete_page_says_how_many_values_go_and_deleting_purges_them(admin_client):
    field = custom_field_create(
        actor=SYSTEM, entity="contact", name="code", label="Code", type="text"
    )
    kept = ContactFactory(custom_fields={"code": "A-1"})

    confirmation = admin_client.get(definitions_url("delete", field.pk))
    assert "1 record holds a value" in confirmation.content.decode()

    admin_client.post(definitions_url("delete", field.pk), {"post": "yes"})

    assert not CustomField.objects.filter(pk=field.pk).exists()
    kept.refresh_from_db()
    assert "code" not in kept.custom_fields


def test_archiving_hides_a_field_from_record_forms_and_keeps_its_values(
    admin_client, contact_fields
):
    person = ContactFactory(custom_fields={"tier": "gold"})

    admin_client.post(
        definitions_url(),
        {"action": "archive", "_selected_action": [contact_fields["tier"].pk]},
    )

    form = admin_client.get(change_url(person)).context["adminform"].form
    assert "cf_tier" not in form.fields
    person.refresh_from_db()
    assert person.custom_fields["tier"] == "gold"


# Values on record forms


def test_record_forms_render_custom_fields_by_type(admin_client, contact_fields):
    page = admin_client.get(add_url(Contact))
    html = page.content.decode()
    form = page.context["adminform"].form

    assert form.fields["cf_renewal"].widget.input_type == "date"
    assert form.fields["cf_budget"].widget.input_type == "number"
    assert [value for value, _ in form.fields["cf_tier"].choices] == ["", "gold", "silver"]
    assert 'name="cf_newsletter"' in html and "<select" in html


def test_a_contact_saved_in_the_admin_stores_typed_custom_values(admin_client, contact_fields):
    company = CompanyFactory()
    response = admin_client.post(
        add_url(Contact),
        {
            "first_name": "Li",
            "last_name": "Na",
            "company": company.pk,
            "lifecycle_stage": "lead",
            "cf_budget": "1200.50",
            "cf_renewal": "2027-03-01",
            "cf_tier": "gold",
            "cf_newsletter": "false",
            "cf_wechat": "lina_wx",
            "activities-TOTAL_FORMS": "0",
            "activities-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    person = Contact.objects.get(first_name="Li")
    values = person.custom_fields
    assert (values["budget"], values["renewal"], values["tier"], values["newsletter"]) == (
        "1200.50",
        "2027-03-01",
        "gold",
        False,
    )
    assert values["wechat"] != "lina_wx"  # encrypted at rest
    assert person.custom_index["wechat"]


def test_an_invalid_custom_value_is_shown_next_to_its_field_and_nothing_is_saved(admin_client):
    custom_field_create(
        actor=SYSTEM, entity="deal", name="seats", label="Seats", type="integer", required=True
    )
    deal = DealFactory(custom_fields={"seats": 5})
    page = admin_client.get(change_url(deal))
    data = {**form_data(page), "cf_seats": ""}

    response = admin_client.post(change_url(deal), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["cf_seats"]
    deal.refresh_from_db()
    assert deal.custom_fields["seats"] == 5


def test_editing_a_record_shows_its_stored_values_and_a_resave_changes_nothing(
    admin_client, contact_fields
):
    person = ContactFactory(
        custom_fields={"budget": "99.90", "renewal": "2027-01-31", "wechat": "wx_id"}
    )
    stored = dict(person.custom_fields)
    page = admin_client.get(change_url(person))
    form = page.context["adminform"].form
    assert str(form["cf_budget"].value()) == "99.90"
    assert form["cf_wechat"].value() == "wx_id"

    response = admin_client.post(change_url(person), form_data(page))

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.custom_fields == stored  # ciphertext untouched: nothing was rewritten


def test_staff_without_view_pii_see_personal_custom_values_masked_and_cannot_overwrite_them(
    staff_without_pii,  # noqa: F811
    contact_fields,
):
    person = ContactFactory(custom_fields={"wechat": "zhangwei_wx", "tier": "gold"})
    page = staff_without_pii.get(change_url(person))
    html = page.content.decode()

    assert "zhangwei_wx" not in html
    assert "cf_wechat" not in page.context["adminform"].form.fields
    data = {**form_data(page), "cf_tier": "silver"}
    response = staff_without_pii.post(change_url(person), data)

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.custom_fields["tier"] == "silver"
    assert Contact.objects.filter(custom_index__wechat=person.custom_index["wechat"]).exists()


def test_a_field_is_labelled_in_chinese_for_chinese_speakers(contact_fields):
    renewal = contact_fields["renewal"]

    with translation.override("zh-hans"):
        chinese = form_fields.build(renewal).label
    with translation.override("en"):
        english = form_fields.build(renewal).label

    assert (chinese, english) == ("续约日", "Renewal")


def test_deal_forms_carry_deal_custom_fields_only(admin_client, contact_fields):
    custom_field_create(actor=SYSTEM, entity="deal", name="seats", label="Seats", type="integer")

    form = admin_client.get(add_url(Deal)).context["adminform"].form

    assert "cf_seats" in form.fields and "cf_budget" not in form.fields
