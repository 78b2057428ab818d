"""API keys: only a hash is stored, authentication refuses every unusable key, scopes come from
the vocabulary, and the command and admin doors create and revoke through the service."""

import hashlib
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from integrations.api_auth import load_permissions
from integrations.models import ApiKey
from integrations.scopes import ALL_SCOPES, has_scope, required_scope
from integrations.services import api_keys
from tests.factories import ManagerFactory, SalesUserFactory, UserFactory

pytestmark = pytest.mark.django_db

KEY_FORMAT = re.compile(r"^crm_[a-z0-9]{8}_[A-Za-z0-9_-]{43,}$")


def create_key(user=None, scopes=("contacts:read",), **kwargs) -> tuple[ApiKey, str]:
    return api_keys.api_key_create(
        user=user or SalesUserFactory(), name="ERP sync", scopes=list(scopes), **kwargs
    )


def test_create_returns_a_well_formed_key_and_stores_only_its_sha256_hash():
    api_key, raw_key = create_key(scopes=["pii:read", "contacts:read", "contacts:read"])

    assert KEY_FORMAT.match(raw_key)
    row = ApiKey.objects.values().get(pk=api_key.pk)
    secret = raw_key.split("_", 2)[2]
    assert not any(secret in str(value) for value in row.values())
    assert row["key_hash"] == hashlib.sha256(raw_key.encode()).hexdigest()
    assert row["prefix"] == raw_key.split("_")[1]
    assert row["scopes"] == ["contacts:read", "pii:read"]  # deduplicated, vocabulary order


def test_each_key_is_different():
    _, first = create_key()
    _, second = create_key()

    assert first != second and first.split("_")[1] != second.split("_")[1]


def test_authenticate_returns_the_key_and_its_user():
    api_key, raw_key = create_key()

    found = api_keys.api_key_authenticate(raw_key)

    assert found == api_key and found.user == api_key.user


def test_the_verified_key_and_user_hold_exactly_what_the_orm_reads(django_assert_num_queries):
    user = SalesUserFactory(first_name="伟", last_name="张", email="zw@example.cn")
    expiry = timezone.now() + timedelta(days=3, microseconds=17)
    api_key, raw_key = create_key(
        user=user, scopes=("contacts:read", "pii:read"), expires_at=expiry
    )
    api_keys.api_key_verify(raw_key)  # records last_used_at

    with django_assert_num_queries(1):
        found = api_keys.api_key_verify(raw_key)
        found_user = found.user
    expected = ApiKey.objects.select_related("user").get(pk=api_key.pk)

    for model_field in ApiKey._meta.concrete_fields:
        assert getattr(found, model_field.attname) == getattr(expected, model_field.attname)
    for model_field in type(user)._meta.concrete_fields:
        got, want = (
            getattr(found_user, model_field.attname),
            getattr(expected.user, model_field.attname),
        )
        assert got == want and type(got) is type(want), model_field.name
    assert found.expires_at == expiry and found.scopes == ["contacts:read", "pii:read"]
    assert not found._state.adding and found_user.has_perm("customers.view_contact")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"),  # wrong secret, known prefix
        lambda raw: "crm_zzzzzzzz_" + raw.split("_", 2)[2],  # unknown prefix
        lambda raw: raw.replace("crm_", "xyz_", 1),  # malformed
        lambda raw: raw[:20],  # truncated
        lambda raw: "",
    ],
)
def test_authenticate_refuses_a_wrong_key(tamper):
    _, raw_key = create_key()

    assert api_keys.api_key_authenticate(tamper(raw_key)) is None


def test_authenticate_refuses_a_revoked_key():
    api_key, raw_key = create_key()
    api_keys.api_key_revoke(api_key=api_key, revoked_by=api_key.user)

    assert api_keys.api_key_authenticate(raw_key) is None
    with pytest.raises(api_keys.InvalidApiKey, match="revoked"):
        api_keys.api_key_verify(raw_key)


def test_authenticate_refuses_an_expired_key():
    api_key, raw_key = create_key(expires_at=timezone.now() + timedelta(days=1))
    ApiKey.objects.filter(pk=api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert api_keys.api_key_authenticate(raw_key) is None
    with pytest.raises(api_keys.InvalidApiKey, match="expired"):
        api_keys.api_key_verify(raw_key)


def test_authenticate_accepts_a_key_before_its_expiry():
    _, raw_key = create_key(expires_at=timezone.now() + timedelta(days=1))

    assert api_keys.api_key_authenticate(raw_key) is not None


def test_authenticate_refuses_a_key_whose_user_is_inactive():
    api_key, raw_key = create_key()
    api_key.user.is_active = False
    api_key.user.save()

    assert api_keys.api_key_authenticate(raw_key) is None
    with pytest.raises(api_keys.InvalidApiKey, match="inactive"):
        api_keys.api_key_verify(raw_key)


def test_last_used_at_is_written_at_most_once_a_minute(django_assert_num_queries):
    api_key, raw_key = create_key()

    with django_assert_num_queries(2):  # lookup + update
        api_keys.api_key_authenticate(raw_key)
    first_use = ApiKey.objects.get(pk=api_key.pk).last_used_at
    with django_assert_num_queries(1):  # lookup only
        api_keys.api_key_authenticate(raw_key)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == first_use

    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=first_use - timedelta(minutes=2))
    api_keys.api_key_authenticate(raw_key)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at > first_use


def test_unknown_scope_is_refused_by_name_and_nothing_is_stored():
    with pytest.raises(ValidationError) as excinfo:
        create_key(scopes=["contacts:read", "contacts:delete"])

    assert "'contacts:delete'" in excinfo.value.message_dict["scopes"][0]
    assert ApiKey.objects.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": "contacts:read"}, "scopes"),  # a string is not a list of scopes
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"expires_at": timezone.now() - timedelta(days=1)}, "expires_at"),
    ],
)
def test_invalid_input_is_refused_with_field_keyed_errors(kwargs, field):
    arguments = {"user": SalesUserFactory(), "name": "ERP", "scopes": ["contacts:read"], **kwargs}

    with pytest.raises(ValidationError) as excinfo:
        api_keys.api_key_create(**arguments)

    assert field in excinfo.value.message_dict
    assert ApiKey.objects.count() == 0


def test_no_key_for_an_inactive_user():
    with pytest.raises(ValidationError) as excinfo:
        create_key(user=UserFactory(is_active=False))

    assert "user" in excinfo.value.message_dict


def test_revoke_is_idempotent_and_keeps_the_first_time():
    api_key, _ = create_key()
    api_keys.api_key_revoke(api_key=api_key, revoked_by=api_key.user)
    first = ApiKey.objects.get(pk=api_key.pk).revoked_at

    api_keys.api_key_revoke(api_key=ApiKey.objects.get(pk=api_key.pk), revoked_by=api_key.user)

    assert first is not None and ApiKey.objects.get(pk=api_key.pk).revoked_at == first


def test_a_key_is_revoked_by_its_owner():
    api_key, raw_key = create_key()

    api_keys.api_key_revoke(api_key=api_key, revoked_by=api_key.user)

    assert api_keys.api_key_authenticate(raw_key) is None


def test_a_superuser_revokes_anyones_key():
    api_key, raw_key = create_key(user=ManagerFactory())

    api_keys.api_key_revoke(api_key=api_key, revoked_by=UserFactory(is_superuser=True))

    assert api_keys.api_key_authenticate(raw_key) is None


@pytest.mark.parametrize(
    "owner_factory, revoker_factory",
    [
        (lambda: UserFactory(username="root", is_superuser=True), ManagerFactory),
        (SalesUserFactory, ManagerFactory),
        (ManagerFactory, SalesUserFactory),
        (SalesUserFactory, lambda: UserFactory(is_superuser=True, is_active=False)),
    ],
    ids=["manager-vs-superuser", "manager-vs-colleague", "sales-vs-manager", "inactive-superuser"],
)
def test_nobody_else_revokes_a_key(owner_factory, revoker_factory):
    api_key, raw_key = create_key(user=owner_factory())

    with pytest.raises(PermissionDenied, match="owner or a superuser"):
        api_keys.api_key_revoke(api_key=api_key, revoked_by=revoker_factory())

    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is None
    assert api_keys.api_key_authenticate(raw_key) == api_key


def test_scopes_write_does_not_imply_read():
    assert "contacts:read" in ALL_SCOPES and "pii:read" in ALL_SCOPES
    assert required_scope("contacts", "GET") == "contacts:read"
    assert required_scope("deals", "HEAD") == "deals:read"
    assert required_scope("contacts", "patch") == "contacts:write"
    assert not has_scope(["contacts:write"], "contacts:read")
    with pytest.raises(ValueError):
        required_scope("contact", "GET")


# The management commands


def run(command: str, *args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command(command, *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_create_api_token_prints_a_working_key_once_with_a_warning():
    user = SalesUserFactory(username="erp")

    stdout, stderr = run(
        "create_api_token",
        "erp",
        "--scopes",
        "contacts:read,contacts:write,pii:read",
        "--name",
        "ERP sync",
        "--expires-in-days",
        "90",
    )

    raw_key = stdout.strip()
    api_key = api_keys.api_key_authenticate(raw_key)
    assert api_key is not None and api_key.user == user and api_key.name == "ERP sync"
    assert api_key.scopes == ["contacts:read", "contacts:write", "pii:read"]
    assert timedelta(days=89) < api_key.expires_at - timezone.now() <= timedelta(days=90)
    assert "cannot be shown again" in stderr and raw_key not in stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ghost", "--scopes", "contacts:read", "--name", "x"], "No user named 'ghost'"),
        (["erp", "--scopes", "contacts:read,contacts:nuke", "--name", "x"], "contacts:nuke"),
        (["erp", "--scopes", "contacts:read", "--name", "x", "--expires-in-days", "0"], "days"),
    ],
)
def test_create_api_token_refuses_bad_input_clearly(args, message):
    SalesUserFactory(username="erp")

    with pytest.raises(CommandError, match=message):
        run("create_api_token", *args)
    assert ApiKey.objects.count() == 0


def test_revoke_api_token_stops_the_key_working():
    api_key, raw_key = create_key()

    stdout, _ = run("revoke_api_token", api_key.prefix)

    assert "Revoked" in stdout
    assert api_keys.api_key_authenticate(raw_key) is None


def test_revoke_api_token_is_the_operators_tool_and_revokes_even_a_superusers_key():
    api_key, raw_key = create_key(user=UserFactory(is_superuser=True))

    run("revoke_api_token", api_key.prefix)

    assert api_keys.api_key_authenticate(raw_key) is None


def test_revoke_api_token_refuses_an_unknown_prefix():
    with pytest.raises(CommandError, match="No API key"):
        run("revoke_api_token", "zzzzzzzz")


# The admin


@pytest.fixture
def admin_client_for_keys(client):
    client.force_login(UserFactory(is_superuser=True))
    return client


def test_admin_lists_keys_without_their_hash_and_cannot_add_or_edit(admin_client_for_keys):
    api_key, _ = create_key()
    change_url = reverse("admin:integrations_apikey_change", args=[api_key.pk])

    listing = admin_client_for_keys.get(reverse("admin:integrations_apikey_changelist"))
    detail = admin_client_for_keys.get(change_url)

    assert listing.status_code == 200 and api_key.prefix in listing.text
    assert detail.status_code == 200 and "contacts:read" in detail.text
    for page in (listing, detail):
        assert api_key.key_hash not in page.text
    assert 'name="name"' not in detail.text  # read-only: no form inputs for the key's fields
    assert admin_client_for_keys.get(reverse("admin:integrations_apikey_add")).status_code == 403


def test_admin_revoke_action_revokes_through_the_service(admin_client_for_keys):
    api_key, raw_key = create_key()
    other, other_raw = create_key()

    response = admin_client_for_keys.post(
        reverse("admin:integrations_apikey_changelist"),
        {"action": "revoke_selected", "_selected_action": [api_key.pk]},
        follow=True,
    )

    assert "Revoked 1 key." in response.text
    assert api_keys.api_key_authenticate(raw_key) is None
    assert api_keys.api_key_authenticate(other_raw) == other


def test_the_revoke_action_revokes_only_the_keys_the_user_may_revoke(client):
    """A staff user allowed to change keys still revokes only their own."""
    manager = ManagerFactory()
    manager.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_apikey", "change_apikey"])
    )
    own, own_raw = create_key(user=manager)
    root_key, root_raw = create_key(user=UserFactory(username="root", is_superuser=True))
    client.force_login(manager)

    response = client.post(
        reverse("admin:integrations_apikey_changelist"),
        {"action": "revoke_selected", "_selected_action": [own.pk, root_key.pk]},
        follow=True,
    )

    assert "Revoked 1 key." in response.text
    assert "1 key was not revoked: a key is revoked by its owner or a superuser." in response.text
    assert api_keys.api_key_authenticate(own_raw) is None
    assert api_keys.api_key_authenticate(root_raw) == root_key


def test_a_key_users_permissions_load_in_one_query_beside_the_login_throttle(
    settings, django_assert_num_queries
):
    """axes' backend (first in AUTHENTICATION_BACKENDS) answers no permission question, so
    the API's one-query permission load still applies."""
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    user = get_user_model().objects.get(pk=SalesUserFactory().pk)

    with django_assert_num_queries(1):
        load_permissions(user)
        assert user.has_perm("customers.view_contact")
        assert not user.has_perm("customers.delete_contact")
