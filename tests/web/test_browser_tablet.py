"""The daily screens at a tablet's width (768 px) in headless Chromium: the page never needs
a sideways scroll (wide tables and the board scroll inside their own box), and the navigation
stays reachable. Screenshots go to var/screenshots/."""

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By

from tests.factories import CompanyFactory, ContactFactory, DealFactory
from tests.web.browser import chromium, log_in, screenshot
from tests.web.test_browser_sales import pipeline, seller  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PAGES = ["web:dashboard", "web:contact-list", "web:company-list", "web:deal-list", "web:deal-board"]


@pytest.mark.usefixtures("pipeline")
def test_the_main_pages_fit_a_tablet_without_sideways_scrolling(live_server, seller):  # noqa: F811
    company = CompanyFactory(name="上海华东贸易有限公司", owner=seller)
    for n in range(12):
        person = ContactFactory(company=company, owner=seller, first_name=f"伟{n}", last_name="张")
        DealFactory(company=company, primary_contact=person, owner=seller, name=f"Deal {n}")

    with chromium() as driver:
        driver.set_window_size(768, 1024)
        log_in(driver, live_server.url, seller.username)
        for name in PAGES:
            driver.get(live_server.url + reverse(name))
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            screenshot(driver, f"tablet-{name.split(':')[1]}")
            assert overflow <= 1, f"{name} is {overflow}px wider than a tablet"
            assert driver.find_element(By.CSS_SELECTOR, "nav").is_displayed()
