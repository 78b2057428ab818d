"""The UI's search box and list filters look people up by email, phone or a PII custom field
only for users who may read personal data. Anyone else gets the search box's (or the
filter's) error and no rows, the same whether or not the person exists; an export of such a
list is a 400."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.actors import SYSTEM
from customers.services import custom_fields
from integrations.models import ImportJob
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

EMAIL = "ada@example.com"
PHONE = "+86 138 0000 0001"
REFUSAL = "needs the right to read it"


@pytest.fixture
def ada():
    custom_fields.custom_field_create(
        actor=SYSTEM, entity="contact", name="passport", label="Passport", type="text", pii=True
    )
    return ContactFactory(
        first_name="Ada", email=EMAIL, phone=PHONE, custom_fields={"passport": "E1234567"}
    )


@pytest.mark.parametrize("term", [EMAIL, "13800000001", "nobody@example.com", "13900000009"])
def test_an_exact_search_without_view_pii_shows_the_refusal_and_no_rows(no_pii_client, ada, term):
    response = no_pii_client.get(reverse("web:contact-list"), {"q": term})

    assert response.status_code == 200
    assert response.context["page"].rows == []
    assert REFUSAL in " ".join(response.context["form"].errors["q"])
    assert REFUSAL in response.content.decode()


def test_the_refusal_page_is_the_same_for_a_customer_and_a_stranger(no_pii_client, ada):
    pages = [
        no_pii_client.get(reverse("web:contact-list"), {"q": term})
        for term in (EMAIL, "nobody@example.com")
    ]

    errors = [page.context["form"].errors for page in pages]
    assert errors[0] == errors[1]
    assert [page.context["page"].count for page in pages] == [0, 0]


def test_a_company_phone_search_without_view_pii_is_refused(no_pii_client):
    CompanyFactory(name="Acme", phone="+86 21 5555 0101")

    response = no_pii_client.get(reverse("web:company-list"), {"q": "+86 21 5555 0101"})

    assert response.context["page"].rows == []
    assert "q" in response.context["form"].errors


def test_a_name_search_without_view_pii_still_finds_people(no_pii_client, ada):
    response = no_pii_client.get(reverse("web:contact-list"), {"q": "Ada"})

    assert [row.pk for row in response.context["page"].rows] == [ada.pk]


def test_a_pii_custom_field_filter_without_view_pii_is_refused_and_ignored(no_pii_client, ada):
    ContactFactory(first_name="Bob")

    response = no_pii_client.get(reverse("web:contact-list"), {"cf_passport": "E1234567"})

    assert REFUSAL in response.content.decode()
    # the filter is ignored, as any invalid filter is: the list does not narrow to Ada
    assert len(response.context["page"].rows) == 2


def test_with_view_pii_the_search_and_the_filter_find_the_person(sales_client, ada):
    for params in ({"q": EMAIL}, {"q": "13800000001"}, {"cf_passport": "E1234567"}):
        response = sales_client.get(reverse("web:contact-list"), params)

        assert [row.pk for row in response.context["page"].rows] == [ada.pk], params


@pytest.mark.parametrize("params", [{"q": EMAIL}, {"cf_passport": "E1234567"}])
def test_exporting_a_list_searched_by_pii_without_view_pii_is_a_400(no_pii_client, ada, params):
    response = no_pii_client.get(reverse("web:export", args=["contacts"]), params)

    assert response.status_code == 400
    assert b"Ada" not in response.content


def test_exporting_a_list_searched_by_email_with_view_pii_has_the_person(sales_client, ada):
    response = sales_client.get(reverse("web:export", args=["contacts"]), {"q": EMAIL})

    assert response.status_code == 200
    assert b"Ada" in b"".join(response.streaming_content)


def test_the_import_wizard_refuses_matching_by_email_without_view_pii(
    no_pii_client, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    people = SimpleUploadedFile("people.csv", b"First Name,E-mail\nAda,ada@example.com\n")
    uploaded = no_pii_client.post(
        reverse("web:import-new"), {"file": people, "resource": "contacts", "format": ""}
    )
    map_page = uploaded["Location"]
    form = no_pii_client.get(map_page).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({"mode": "upsert", "match_key": "email", "action": "dry_run"})
    data = {name: value for name, value in data.items() if value is not False}

    response = no_pii_client.post(map_page, data)

    assert response.status_code == 422
    assert REFUSAL in " ".join(response.context["form"].errors["match_key"])
    assert ImportJob.objects.count() == 0
