"""Custom field settings: managers define, edit, archive, restore and delete the fields of
contacts, companies and deals through the services; refusals come back next to the field."""

import pytest
from django.urls import reverse
from django.utils import translation

from customers.actors import SYSTEM
from customers.models import Contact, CustomField
from customers.services.custom_fields import custom_field_create
from tests.factories import ContactFactory, ManagerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client):
    client.force_login(ManagerFactory(username="boss"))
    return client


@pytest.fixture
def code_field():
    return custom_field_create(
        actor=SYSTEM, entity="contact", name="code", label="Code", type="text"
    )


def test_sales_users_get_403_and_anonymous_users_the_login_page(client, sales_client, code_field):
    urls = [
        reverse("web:custom-field-list"),
        reverse("web:custom-field-new"),
        reverse("web:custom-field-edit", args=[code_field.pk]),
        reverse("web:custom-field-delete", args=[code_field.pk]),
    ]
    for url in urls:
        assert sales_client.get(url).status_code == 403, url
    for action in ("archive", "restore", "delete"):
        url = reverse(f"web:custom-field-{action}", args=[code_field.pk])
        assert sales_client.post(url, {"purge": "1"}).status_code == 403
    code_field.refresh_from_db()
    assert code_field.archived_at is None
    sales_client.logout()
    assert client.get(urls[0])["Location"].startswith(reverse("web:login"))


def test_the_list_groups_fields_by_record_type(manager_client, code_field):
    custom_field_create(actor=SYSTEM, entity="deal", name="region", label="Region", type="text")
    page = manager_client.get(reverse("web:custom-field-list"))
    groups = {str(label): [f.name for f in fields] for label, fields in page.context["groups"]}
    assert groups == {"Contact": ["code"], "Company": [], "Deal": ["region"]}


def test_a_manager_creates_a_choice_field(manager_client):
    response = manager_client.post(
        reverse("web:custom-field-new"),
        {
            "entity": "deal",
            "name": "tier",
            "label": "Tier",
            "label_zh": "等级",
            "type": "choice",
            "choices": "gold\nsilver\n",
            "default": "silver",
        },
    )
    assert response["Location"] == reverse("web:custom-field-list")
    field = CustomField.objects.get(name="tier")
    assert (field.entity, field.choices, field.default, field.label_zh) == (
        "deal",
        ["gold", "silver"],
        "silver",
        "等级",
    )


def test_a_refused_definition_shows_the_service_error_by_the_field(manager_client):
    response = manager_client.post(
        reverse("web:custom-field-new"),
        {"entity": "contact", "name": "email", "label": "Email", "type": "text"},
    )
    assert response.status_code == 422
    assert "built-in" in " ".join(response.context["form"].errors["name"])
    assert 'id="id_name_error"' in response.content.decode()  # what aria-describedby names
    assert not CustomField.objects.exists()


def test_an_incompatible_type_change_is_refused_with_the_count(manager_client, code_field):
    ContactFactory(custom_fields={"code": "A-1"})
    ContactFactory(custom_fields={"code": "B-2"})
    ContactFactory(custom_fields={"code": "42"})
    response = manager_client.post(
        reverse("web:custom-field-edit", args=[code_field.pk]),
        {"label": "Code", "type": "integer"},
    )
    assert response.status_code == 422
    assert "2 records hold values" in " ".join(response.context["form"].errors["type"])
    code_field.refresh_from_db()
    assert code_field.type == "text"
    assert response.context["field"].type == "text"


def test_a_label_change_is_saved(manager_client, code_field):
    response = manager_client.post(
        reverse("web:custom-field-edit", args=[code_field.pk]),
        {"label": "Customer code", "label_zh": "客户编号", "type": "text"},
    )
    assert response.status_code == 302
    code_field.refresh_from_db()
    assert (code_field.label, code_field.label_zh) == ("Customer code", "客户编号")


def test_archive_then_restore(manager_client, code_field):
    manager_client.post(reverse("web:custom-field-archive", args=[code_field.pk]))
    code_field.refresh_from_db()
    assert code_field.archived_at is not None
    manager_client.post(reverse("web:custom-field-restore", args=[code_field.pk]))
    code_field.refresh_from_db()
    assert code_field.archived_at is None


def test_delete_says_how_many_values_go_and_needs_the_purge_box(manager_client, code_field):
    ContactFactory(custom_fields={"code": "A-1"})
    ContactFactory(custom_fields={"code": "B-2"})
    url = reverse("web:custom-field-delete", args=[code_field.pk])
    assert manager_client.get(url).context["holding"] == 2

    refused = manager_client.post(url)
    assert refused.status_code == 422
    assert CustomField.objects.filter(pk=code_field.pk).exists()

    manager_client.post(url, {"purge": "1"})
    assert not CustomField.objects.filter(pk=code_field.pk).exists()
    assert not Contact.objects.filter(custom_fields__has_key="code").exists()


def test_a_field_without_values_is_deleted_without_the_box(manager_client, code_field):
    url = reverse("web:custom-field-delete", args=[code_field.pk])
    assert manager_client.get(url).context["holding"] == 0
    assert manager_client.post(url).status_code == 302
    assert not CustomField.objects.exists()


def test_the_settings_appear_in_the_navigation(manager_client):
    url = reverse("web:custom-field-list")
    assert f'href="{url}"' in manager_client.get(reverse("web:import-new")).content.decode()


def test_the_settings_speak_chinese_and_show_chinese_labels(manager_client):
    custom_field_create(
        actor=SYSTEM, entity="deal", name="tier", label="Tier", label_zh="等级", type="text"
    )
    with translation.override("zh-hans"):
        expected = translation.gettext("New field")
    assert expected != "New field"
    url = reverse("web:custom-field-list")
    body = manager_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert expected in body and "等级" in body
