"""Every write knows who made it and through which door (issue #17 item 3).

Each door writes a record; an observer registered with ``customers.services.observers`` (the
one point field history will hook into) sees the actor the write service was given. The
doors run for real: REST and SOAP with an API key, the web form and the admin with a signed-in
person, a file import, a connector sync and a management command.
"""

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from customers.actors import SYSTEM, Actor, Door
from customers.models import Contact
from customers.services import contacts, observers
from integrations.imports import services as imports
from integrations.scopes import ALL_SCOPES
from integrations.services import sync
from integrations.services.api_keys import api_key_create
from tests.factories import ContactFactory, SalesUserFactory, UserFactory

pytestmark = pytest.mark.django_db

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PASSWORD_TEXT = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordText"
)


class Writes(list):
    """The writes observed, as (actor, entity, action, record ids)."""

    def __call__(self, *, actor, entity, action, records) -> None:
        self.append((actor, entity, action, [record.pk for record in records]))

    def of(self, entity: str, action: str) -> list[Actor]:
        return [actor for actor, e, a, _ in self if (e, a) == (entity, action)]

    def only_actor(self, entity: str, action: str) -> Actor:
        actors = self.of(entity, action)
        assert len(actors) == 1, list(self)
        return actors[0]


@pytest.fixture
def writes():
    with observers.observing(Writes()) as seen:
        yield seen


@pytest.fixture
def user(db):
    return SalesUserFactory()


@pytest.fixture(autouse=True)
def files_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path)]


def test_a_rest_write_is_made_by_the_api_key_through_the_rest_door(user, writes):
    key, raw = api_key_create(user=user, name="partner", scopes=list(ALL_SCOPES))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.post("/api/v1/contacts/", {"first_name": "Ada"}, format="json")

    assert response.status_code == 201, response.content
    actor = writes.only_actor("contact", "created")
    assert (actor.door, actor.user, actor.api_key_id) == (Door.REST, user, key.pk)


def test_a_rest_batch_naming_a_new_company_writes_both_as_the_key(user, writes):
    key, raw = api_key_create(user=user, name="partner", scopes=list(ALL_SCOPES))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    user.user_permissions.add(*_permissions("add_company"))

    response = client.post(
        "/api/v1/contacts/batch/?create_related=true",
        [{"first_name": "Ada", "company": {"name": "Analytical Engines"}}],
        format="json",
    )

    assert response.status_code in (200, 201, 207), response.content
    for entity in ("company", "contact"):
        actor = writes.only_actor(entity, "created")
        assert (actor.door, actor.api_key_id) == (Door.REST, key.pk)


def test_a_soap_write_is_made_by_the_api_key_through_the_soap_door(user, writes, client):
    key, raw = api_key_create(user=user, name="partner", scopes=list(ALL_SCOPES))
    header = (
        f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
        f"<wsse:Username>{user.get_username()}</wsse:Username>"
        f'<wsse:Password Type="{PASSWORD_TEXT}">{raw}</wsse:Password>'
        "</wsse:UsernameToken></wsse:Security>"
    )
    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:crm="urn:crm:soap:v1" xmlns:t="urn:crm:soap:v1:types">'
        f"<soapenv:Header>{header}</soapenv:Header><soapenv:Body><crm:CreateContact>"
        "<crm:contact><t:first_name>Ada</t:first_name></crm:contact>"
        "</crm:CreateContact></soapenv:Body></soapenv:Envelope>"
    )

    response = client.post("/soap/", envelope, content_type="text/xml; charset=utf-8")

    assert response.status_code == 200, response.content
    actor = writes.only_actor("contact", "created")
    assert (actor.door, actor.user, actor.api_key_id) == (Door.SOAP, user, key.pk)


def test_a_web_form_write_is_made_by_the_signed_in_person(user, writes, client):
    client.force_login(user)

    response = client.post(
        reverse("web:contact-create"), {"first_name": "Ada", "lifecycle_stage": "lead"}
    )

    assert response.status_code == 302, response.content
    actor = writes.only_actor("contact", "created")
    assert (actor.door, actor.user, actor.api_key_id) == (Door.WEB, user, None)


def test_an_admin_write_is_made_by_the_staff_member_through_the_admin(writes, client):
    staff = UserFactory(is_superuser=True)
    client.force_login(staff)
    data = {"first_name": "Ada", "lifecycle_stage": Contact.Lifecycle.LEAD, "email": ""}

    response = client.post(reverse("admin:customers_contact_add"), data)

    assert response.status_code == 302, response.content
    # the form validates by running the service in a savepoint it rolls back, then saves
    assert [(actor.door, actor.user) for actor in writes.of("contact", "created")] == [
        (Door.ADMIN, staff),
        (Door.ADMIN, staff),
    ]


def test_an_admin_merge_is_made_by_the_staff_member(writes, client):
    staff = UserFactory(is_superuser=True)
    client.force_login(staff)
    older, newer = ContactFactory(), ContactFactory()
    writes.clear()

    response = client.post(
        reverse("admin:customers_contact_changelist"),
        {"action": "merge_contacts", "_selected_action": [older.pk, newer.pk]},
    )

    assert response.status_code == 302, response.content
    assert writes.only_actor("contact", "merged").door == Door.ADMIN
    assert writes.only_actor("contact", "deleted").user == staff


def test_a_file_import_writes_as_its_job(user, writes):
    job = imports.import_create(
        user=user,
        file=io.BytesIO(b"first_name,email\nAda,ada@example.com\n"),
        filename="people.csv",
        resource="contacts",
        enqueue=False,
    )

    imports.import_run(job_id=job.pk)

    actor = writes.only_actor("contact", "created")
    assert (actor.door, actor.user, actor.import_job_id) == (Door.IMPORT, user, job.pk)
    assert [ids for _, entity, _, ids in writes if entity == "contact"] == [
        [Contact.objects.get().pk]
    ]


def test_a_connector_sync_writes_as_its_connection(user, writes, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "people.json").write_text(json.dumps([{"first_name": "Ada", "external_id": "E-1"}]))
    connection = sync.connection_create(
        name="Drop",
        connector="file",
        config={"folder": str(drop)},
        resource="contacts",
        mapping={},
        user=user,
    )

    run = sync.sync_run(connection.pk)

    assert run.status == "succeeded", run.error_message
    actor = writes.only_actor("contact", "created")
    assert (actor.door, actor.user, actor.connection_id) == (Door.SYNC, user, connection.pk)


def test_seeding_the_demo_writes_through_the_command_door(db, writes):
    call_command("seed_demo", contacts=1, seed=1, stdout=io.StringIO())

    assert writes.of("contact", "created")
    assert {actor.door for actor, *_ in writes} == {Door.COMMAND}


def test_a_service_refuses_a_write_without_an_actor(db):
    with pytest.raises(TypeError):
        contacts.contact_create(first_name="Ada")  # the keyword is required
    with pytest.raises(TypeError):
        contacts.contact_create(actor=None, first_name="Ada")
    assert not Contact.objects.exists()


def test_an_observer_sees_nothing_once_removed(db):
    seen = Writes()
    with observers.observing(seen):
        contacts.contact_create(actor=SYSTEM, first_name="Ada")
    contacts.contact_create(actor=SYSTEM, first_name="Grace")

    assert [(actor, entity, action) for actor, entity, action, _ in seen] == [
        (SYSTEM, "contact", "created")
    ]


def _permissions(*codenames):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(codename__in=codenames, content_type__app_label="customers")
