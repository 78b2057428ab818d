"""An import matched by email looks people up by personal data (its counts, a dry run's too,
say who exists), so only a user, or a key, that may read personal data creates one. Anyone
else is refused at creation with an error on `match_key`, and no job is stored."""

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.models import Contact
from integrations.imports import services as imports
from integrations.models import ImportJob
from integrations.scopes import ALL_SCOPES
from tests.api.support import assert_uniform_error
from tests.factories import ContactFactory, SalesUserFactory, UserFactory
from tests.integrations.support import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_in_tmp")]

PEOPLE = "First Name,E-mail\nWei,zhang.wei@example.cn\n"
WITHOUT_PII = [scope for scope in ALL_SCOPES if scope != "pii:read"]


@pytest.fixture
def no_pii_user():
    user = UserFactory()
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_contact", "add_contact", "add_importjob"])
    )
    return user


def create(user, **options):
    return imports.import_create(
        user=user,
        file=io.BytesIO(PEOPLE.encode()),
        filename="people.csv",
        resource="contacts",
        enqueue=False,
        **options,
    )


def test_a_user_without_view_pii_cannot_create_an_import_matched_by_email(no_pii_user):
    ContactFactory(email="zhang.wei@example.cn")

    with pytest.raises(ValidationError) as refused:
        create(no_pii_user, match_key="email", dry_run=True)

    assert list(refused.value.message_dict) == ["match_key"]
    assert ImportJob.objects.count() == 0


def test_a_user_without_view_pii_may_still_import_matched_by_external_id(no_pii_user):
    job = create(no_pii_user, match_key="external_id")

    assert job.match_key == "external_id"


def test_a_user_with_view_pii_and_the_shell_may_match_by_email():
    assert create(SalesUserFactory(), match_key="email").match_key == "email"
    assert create(None, match_key="email").match_key == "email"


def test_an_api_key_without_pii_read_gets_a_400_on_match_key_and_no_job():
    api = client_for(SalesUserFactory(), WITHOUT_PII)
    upload = SimpleUploadedFile("people.csv", PEOPLE.encode(), content_type="text/csv")
    body = {"file": upload, "resource": "contacts", "match_key": "email", "dry_run": "true"}

    response = api.post("/api/v1/imports/", body, format="multipart")

    errors = assert_uniform_error(response, 400)["errors"]
    assert list(errors) == ["match_key"]
    assert ImportJob.objects.count() == 0 and Contact.objects.count() == 0


def test_an_api_key_with_pii_read_may_match_by_email():
    api = client_for(SalesUserFactory(), ALL_SCOPES)
    upload = SimpleUploadedFile("people.csv", PEOPLE.encode(), content_type="text/csv")
    body = {"file": upload, "resource": "contacts", "match_key": "email", "dry_run": "true"}

    response = api.post("/api/v1/imports/", body, format="multipart")

    assert response.status_code == 202, response.content
