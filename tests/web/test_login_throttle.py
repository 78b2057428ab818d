"""Failed log-ins are throttled per account and per address, on the UI's login and the admin's:
after the limit even the right password is refused, with a page saying when to try again, until
the cool-off passes or an administrator unlocks. Other accounts from other addresses log in as
usual; API keys (REST and SOAP) are not log-ins and are not throttled here."""

from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from crm_project.env import env_groups
from customers.models import UserPreference
from tests.factories import SalesUserFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
LOGINS = {"web": reverse("web:login"), "admin": reverse("admin:login")}


def log_in(client, login: str, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        LOGINS[login], {"username": username, "password": password}, REMOTE_ADDR=address
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def wang():
    return SalesUserFactory(username="wang")


@pytest.mark.parametrize("login", LOGINS)
def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, wang, login):
    for _attempt in range(30):
        log_in(client, login, "wang", "guess")

    response = log_in(client, login, "wang", PASSWORD)

    assert response.status_code == 429
    assert not signed_in(client)
    body = response.content.decode()
    assert "Too many failed log-ins for this account or from this address." in body
    assert "Try again in 15 minutes" in body
    assert response["Retry-After"] == str(15 * 60)


def test_a_few_typos_do_not_lock_anyone_out(client, wang, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "web", "wang", "typo")

    response = log_in(client, "web", "wang", PASSWORD)

    assert response.status_code == 302
    assert signed_in(client)


def test_the_account_is_locked_from_every_address(client, wang, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "web", "wang", "guess", address=f"10.0.1.{attempt}")

    response = log_in(client, "web", "wang", PASSWORD, address="10.0.2.1")

    assert response.status_code == 429
    assert not signed_in(client)


def test_the_address_is_locked_for_every_account(client, wang, settings):
    li = SalesUserFactory(username="li")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "web", f"user{attempt}", "guess", address="10.0.0.9")

    refused = log_in(client, "web", li.username, PASSWORD, address="10.0.0.9")

    assert refused.status_code == 429


def test_other_accounts_from_other_addresses_log_in_as_usual(client, wang, settings):
    SalesUserFactory(username="li")
    for _attempt in range(settings.AXES_FAILURE_LIMIT + 5):
        log_in(client, "admin", "wang", "guess", address="10.0.0.1")

    response = log_in(client, "web", "li", PASSWORD, address="10.0.0.2")

    assert response.status_code == 302
    assert signed_in(client)


def test_logging_in_to_ones_own_account_does_not_clear_the_count_for_another(client, settings):
    """Otherwise an attacker with an account could reset the count between guesses."""
    SalesUserFactory(username="wang")
    SalesUserFactory(username="mallory")
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "web", "wang", "guess")
    log_in(client, "web", "mallory", PASSWORD)
    client.logout()

    log_in(client, "web", "wang", "guess")
    response = log_in(client, "web", "wang", PASSWORD, address="10.0.0.7")

    assert response.status_code == 429


def test_the_lock_ends_after_the_cool_off(client, wang, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "web", "wang", "guess")
    assert log_in(client, "web", "wang", PASSWORD).status_code == 429

    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )

    assert log_in(client, "web", "wang", PASSWORD).status_code == 302
    assert signed_in(client)


def test_an_administrator_unlocks_an_account_with_the_command(client, wang, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "web", "wang", "guess", address=f"10.0.1.{attempt}")

    call_command("axes_reset_username", "wang", stdout=StringIO())

    assert log_in(client, "web", "wang", PASSWORD, address="10.0.2.1").status_code == 302


def test_an_administrator_unlocks_an_account_in_the_admin(client, wang, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "web", "wang", "guess")
    admin = UserFactory(username="root", is_superuser=True)
    attempt = AccessAttempt.objects.get(username="wang")
    staff = client.__class__()
    staff.force_login(admin)

    staff.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})

    assert not AccessAttempt.objects.exists()
    assert log_in(client, "web", "wang", PASSWORD).status_code == 302


def test_the_lockout_page_speaks_chinese(client, wang, settings):
    UserPreference.objects.create(user=wang, language="zh-hans")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "web", "wang", "guess")

    response = client.post(
        LOGINS["web"],
        {"username": "wang", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    with translation.override("zh-hans"):
        heading = translation.gettext("Log-in locked")
    assert heading != "Log-in locked"
    assert response.status_code == 429
    assert heading in response.content.decode()


def test_behind_a_trusted_proxy_the_client_is_the_address_the_proxy_saw(client, wang, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGINS["web"],
            {"username": f"nobody{_attempt}", "password": "guess"},
            REMOTE_ADDR="192.168.0.2",  # the proxy
            HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5",  # the first part is the client's own
        )

    assert AccessAttempt.objects.filter(ip_address="203.0.113.5").count() == 5
    # The attacker's address is locked; another visitor through the same proxy is not.
    other = client.post(
        LOGINS["web"],
        {"username": "wang", "password": PASSWORD},
        REMOTE_ADDR="192.168.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.77",
    )
    assert other.status_code == 302


def test_without_a_trusted_proxy_a_forwarded_header_is_ignored(client, wang, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGINS["web"],
            {"username": f"nobody{attempt}", "password": "guess"},
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt}",  # rotating it does not help
        )

    refused = log_in(client, "web", "wang", PASSWORD, address="10.0.0.5")

    assert refused.status_code == 429


def test_lockout_parameters_read_counts_and_combinations_and_refuse_unknown_words(monkeypatch):
    allowed = {"username", "ip_address", "user_agent"}
    monkeypatch.setenv("LOGIN_LOCKOUT_PARAMETERS", "username+ip_address, ip_address")
    assert env_groups("LOGIN_LOCKOUT_PARAMETERS", "username", allowed) == [
        ["username", "ip_address"],
        "ip_address",
    ]

    monkeypatch.setenv("LOGIN_LOCKOUT_PARAMETERS", "username,address")
    with pytest.raises(ImproperlyConfigured, match="unknown address"):
        env_groups("LOGIN_LOCKOUT_PARAMETERS", "username", allowed)
