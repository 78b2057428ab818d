"""Stored scripts in a real browser (headless Chromium): custom fields, tags, stages and names
holding `<script>` and `<img onerror>` are shown as text on the admin's change forms and the
UI's pages, nothing they carry runs, and every page sends the Content-Security-Policy without
breaking itself (no violation reported by our own pages, the API docs included)."""

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as until
from selenium.webdriver.support.ui import WebDriverWait

from customers.models import Company, Contact, Deal
from tests.customers.test_admin_stored_scripts import (  # noqa: F401
    IMAGE,
    SCRIPT,
    hostile_records,
)
from tests.factories import UserFactory
from tests.web.browser import chromium, csp_violations, log_in, screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# ReDoc shows its maker's logo from the maker's site: refused, as the docs load nothing from
# outside (they work offline), and the page does not need it.
REDOC_LOGO = "img-src blocked https://cdn.redoc.ly/"


def admin_change(obj) -> str:
    return reverse(f"admin:customers_{obj._meta.model_name}_change", args=[obj.pk])


def ui_pages(records) -> list[str]:
    contact, company, deal = records[Contact], records[Company], records[Deal]
    return [
        reverse("web:dashboard"),
        reverse("web:contact-list"),
        reverse("web:contact-detail", args=[contact.pk]),
        reverse("web:contact-edit", args=[contact.pk]),
        reverse("web:company-detail", args=[company.pk]),
        reverse("web:company-edit", args=[company.pk]),
        reverse("web:deal-list"),
        reverse("web:deal-board"),
        reverse("web:deal-detail", args=[deal.pk]),
        reverse("web:deal-edit", args=[deal.pk]),
        reverse("web:custom-field-list"),
    ]


def assert_nothing_ran_and_the_text_shows(driver, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
    assert driver.execute_script("return window.__xss === undefined"), url
    text = driver.execute_script("return document.body.textContent")  # folded tables too
    assert SCRIPT in text or IMAGE in text, url
    assert csp_violations(driver) == [], url


def test_stored_scripts_do_not_run_on_the_admin_forms_or_the_ui_pages(
    live_server,
    hostile_records,  # noqa: F811
):
    UserFactory(username="root", is_superuser=True)
    pages = [admin_change(obj) for obj in hostile_records.values()] + ui_pages(hostile_records)
    with chromium() as driver:
        log_in(driver, live_server.url, "root")
        for page in pages:
            assert_nothing_ran_and_the_text_shows(driver, live_server.url + page)
        driver.get(live_server.url + admin_change(hostile_records[Contact]))
        screenshot(driver, "admin-contact-stored-script-as-text")
        help_texts = [help.text for help in driver.find_elements(By.CSS_SELECTOR, ".help")]
        assert IMAGE in help_texts
        assert SCRIPT in help_texts


def test_a_script_injected_into_a_page_is_refused_by_the_policy(live_server):
    """The second line of defence on its own: markup that escaping missed would still not run,
    because the page's policy allows no inline script."""
    UserFactory(username="root", is_superuser=True)
    with chromium() as driver:
        log_in(driver, live_server.url, "root")
        driver.get(live_server.url + reverse("web:dashboard"))
        driver.execute_script(
            "var box = document.createElement('div');"
            "box.innerHTML = arguments[0];"
            "document.body.appendChild(box);"
            "var script = document.createElement('script');"
            "script.textContent = 'window.__xss = 3';"
            "document.body.appendChild(script);",
            IMAGE,
        )
        WebDriverWait(driver, 5).until(lambda d: len(csp_violations(d)) >= 2)
        assert driver.execute_script("return window.__xss === undefined")
        assert all(v.startswith("script-src") for v in csp_violations(driver))


def test_settings_pages_admin_browsable_api_and_docs_work_under_the_policy(live_server):
    UserFactory(username="root", is_superuser=True)
    with chromium() as driver:
        log_in(driver, live_server.url, "root")
        checks = [
            (reverse("admin:index"), (By.ID, "site-name")),
            (reverse("admin:customers_contact_add"), (By.ID, "contact_form")),
            (reverse("admin:integrations_importjob_add"), (By.ID, "importjob_form")),
            # select2 autocompletes and the date and time pickers
            (reverse("admin:customers_activity_add"), (By.CSS_SELECTOR, ".select2-container")),
            (reverse("admin:customers_deal_add"), (By.CSS_SELECTOR, ".datetimeshortcuts")),
            *(
                (reverse(name), (By.TAG_NAME, "h1"))
                for name in (
                    "web:import-new",
                    "web:integration-list",
                    "web:connection-list",
                    "web:connection-new",
                    "web:webhook-list",
                    "web:custom-field-new",
                    "web:password-change",
                )
            ),
            ("/api/v1/contacts/", (By.CSS_SELECTOR, ".response-info")),
            (reverse("api-docs"), (By.CSS_SELECTOR, ".swagger-ui .info .title")),
            (reverse("api-redoc"), (By.CSS_SELECTOR, ".api-content h1")),
        ]
        for url, ready in checks:
            driver.get(live_server.url + url)
            WebDriverWait(driver, 20).until(until.presence_of_element_located(ready))
            refused = [v for v in csp_violations(driver) if not v.startswith(REDOC_LOGO)]
            assert refused == [], url
        screenshot(driver, "api-redoc-under-csp")

        # An autocomplete opened: select2 builds its dropdown under the policy too.
        driver.get(live_server.url + reverse("admin:customers_activity_add"))
        driver.find_element(By.CSS_SELECTOR, ".select2-selection").click()
        WebDriverWait(driver, 10).until(
            until.presence_of_element_located((By.CSS_SELECTOR, ".select2-results"))
        )
        assert csp_violations(driver) == []
