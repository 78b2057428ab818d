"""The list's Export link in a real browser (headless Chromium): it shows on the filtered
contacts list without breaking the Content-Security-Policy or the 1280 px layout, and clicking
"CSV" saves the filtered rows as a file that starts with the UTF-8 byte-order mark Excel needs
to show Chinese."""

import csv
import io
import time

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By

from tests.factories import ContactFactory, SalesUserFactory, UserFactory
from tests.web.browser import chromium, csp_violations, log_in, screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _downloaded(folder, timeout: float = 20.0) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.suffix == ".csv"]
        if done:
            return done[0].read_bytes()
        time.sleep(0.2)
    raise AssertionError(f"nothing downloaded to {folder}: {list(folder.iterdir())}")


def test_clicking_csv_saves_the_filtered_list_with_a_bom(live_server, tmp_path):
    seller = SalesUserFactory(username="wang.fang")
    ContactFactory(first_name="伟", last_name="张", owner=seller, lifecycle_stage="lead")
    ContactFactory(first_name="娜", last_name="李", owner=seller, lifecycle_stage="customer")
    ContactFactory(first_name="Other", owner=UserFactory(), lifecycle_stage="lead")
    with chromium() as driver:
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
        )
        log_in(driver, live_server.url, seller.username)
        driver.get(live_server.url + reverse("web:contact-list") + "?owner=me&lifecycle_stage=lead")
        links = driver.find_element(By.CSS_SELECTOR, ".export-links")
        screenshot(driver, "contacts-export-links")

        assert links.is_displayed()
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 1280
        assert csp_violations(driver) == []
        links.find_element(By.LINK_TEXT, "CSV").click()
        data = _downloaded(tmp_path)

    assert data.startswith(b"\xef\xbb\xbfid,")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [(row["first_name"], row["last_name"]) for row in rows] == [("伟", "张")]
