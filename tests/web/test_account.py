"""Signing in and out, the password change and the stored language preference."""

import pytest
from django.urls import reverse

from customers.models import UserPreference
from tests.factories import SalesUserFactory

pytestmark = pytest.mark.django_db

PROTECTED_PAGES = ["web:dashboard", "web:password-change"]


@pytest.mark.parametrize("name", PROTECTED_PAGES)
def test_anonymous_user_is_redirected_to_the_ui_login(client, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('web:login')}?next={url}"


def test_login_page_has_labelled_fields_and_csrf(client):
    response = client.get(reverse("web:login"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'for="id_username"' in body and 'for="id_password"' in body
    assert "csrfmiddlewaretoken" in body


def test_login_with_good_credentials_lands_on_the_dashboard(client):
    SalesUserFactory(username="wang")
    response = client.post(
        reverse("web:login"), {"username": "wang", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:dashboard")


def test_login_with_a_wrong_password_shows_an_announced_error(client):
    SalesUserFactory(username="wang")
    response = client.post(reverse("web:login"), {"username": "wang", "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post_and_ends_the_session(sales_client):
    response = sales_client.post(reverse("web:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in sales_client.session


def test_password_change_needs_the_old_password(sales_client, sales_user):
    response = sales_client.post(
        reverse("web:password-change"),
        {
            "old_password": "wrong",
            "new_password1": "a-Long-pass-42",
            "new_password2": "a-Long-pass-42",
        },
    )
    assert response.status_code == 200
    sales_user.refresh_from_db()
    assert sales_user.check_password("correct-horse-battery")

    response = sales_client.post(
        reverse("web:password-change"),
        {
            "old_password": "correct-horse-battery",
            "new_password1": "a-Long-pass-42",
            "new_password2": "a-Long-pass-42",
        },
    )
    assert response.status_code == 302
    sales_user.refresh_from_db()
    assert sales_user.check_password("a-Long-pass-42")


def test_browser_language_applies_without_a_stored_preference(sales_client):
    response = sales_client.get(reverse("web:dashboard"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert '<html lang="zh-hans">' in response.content.decode()


def test_stored_language_wins_over_the_browser_and_follows_the_user(client, sales_user):
    client.force_login(sales_user)
    response = client.post(
        reverse("web:language-switch"), {"language": "zh-hans", "next": reverse("web:dashboard")}
    )
    assert response.status_code == 302
    assert UserPreference.objects.get(user=sales_user).language == "zh-hans"

    page = client.get(reverse("web:dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="zh-hans">' in page.content.decode()

    # A new session (another browser) picks the preference up at login.
    client.logout()
    client.post(
        reverse("web:login"), {"username": sales_user.username, "password": "correct-horse-battery"}
    )
    page = client.get(reverse("web:dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="zh-hans">' in page.content.decode()


def test_language_switch_refuses_an_offsite_redirect(sales_client):
    response = sales_client.post(
        reverse("web:language-switch"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("web:dashboard")


def test_navigation_marks_the_current_page(sales_client):
    body = sales_client.get(reverse("web:dashboard")).content.decode()
    assert 'aria-current="page">Dashboard<' in body


def test_posts_without_a_csrf_token_are_refused(sales_user):
    from django.test import Client

    from customers.models import Contact

    client = Client(enforce_csrf_checks=True)
    client.force_login(sales_user)
    response = client.post(reverse("web:contact-create"), {"first_name": "Ada"})
    assert response.status_code == 403
    assert not Contact.objects.exists()
