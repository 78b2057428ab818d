"""The dashboard in headless Chromium at 1280×900, filled the way a busy team fills it: long
names in two scripts, deals in four currencies, a long list of work due. Nothing sticks out
sideways (neither the page nor any card), and every chart label can be read in full. A
screenshot goes to var/screenshots/dashboard-1280.png."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as until
from selenium.webdriver.support.ui import Select, WebDriverWait

from customers.actors import SYSTEM
from customers.services import pipelines
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, DealFactory
from tests.web.browser import chromium, log_in, screenshot
from tests.web.test_browser_sales import pipeline, seller  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LONG_STAGE = "Proposal sent and waiting for the customer's procurement board"
LONG_DEAL = "Enterprise-wide-subscription-renewal-including-premium-support-and-training"
LONG_WORD = "Maximilian_Alexander_von_Habsburg_Lothringen_Consulting_Partners"  # no break
LONG_COMPANY = "上海华东国际贸易与供应链管理集团股份有限公司"

# Every box that must not scroll sideways on its own; tables that may, sit in .table-wrap.
_OVERFLOWING = """
return Array.from(document.querySelectorAll('.card, .chart, .chart svg')).filter(
  box => box.scrollWidth > box.clientWidth + 1
).map(box => (box.id || box.closest('.card').id || box.className) + ': ' + box.scrollWidth
  + ' > ' + box.clientWidth);
"""


def _seed(seller, pipeline) -> None:  # noqa: F811
    stages = list(pipeline.stages.order_by("position"))
    pipelines.stage_update(actor=SYSTEM, stage=stages[2], data={"name": LONG_STAGE})
    company = CompanyFactory(name=LONG_COMPANY, owner=seller)
    person = ContactFactory(company=company, owner=seller, first_name=LONG_WORD, last_name="张")
    for index, (currency, amount) in enumerate(
        [("CNY", "98765432.10"), ("USD", "1234567.89"), ("EUR", "45000.00"), ("JPY", "1250000000")]
    ):
        for stage in stages[:4]:
            DealFactory(
                name=f"{LONG_DEAL}-{index}",
                company=company,
                primary_contact=person,
                owner=seller,
                currency=currency,
                amount=amount,
                stage=stage,
            )
    now = timezone.now()
    for n in range(25):
        ActivityFactory(
            subject=f"Call back about {LONG_DEAL} number {n} and confirm the signed paperwork",
            contact=person,
            author=seller,
            due_at=now - timedelta(days=n % 3),
        )


def test_the_dashboard_fits_1280_pixels_and_its_charts_name_everything(
    live_server,
    seller,  # noqa: F811
    pipeline,  # noqa: F811
):
    _seed(seller, pipeline)
    with chromium() as driver:
        driver.set_window_size(1280, 900)
        log_in(driver, live_server.url, seller.username)
        driver.get(live_server.url + reverse("web:dashboard"))
        path = screenshot(driver, "dashboard-1280")
        sideways = driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert sideways <= 0, f"the page scrolls {sideways}px sideways ({path})"
        assert driver.execute_script(_OVERFLOWING) == []
        for summary in driver.find_elements(By.CSS_SELECTOR, "details summary"):
            summary.click()  # the tables of numbers, open, fit too
        assert driver.execute_script(_OVERFLOWING) == []
        assert (
            driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            <= 0
        )

        # Each currency has its own figures, labelled with its code; none is summed with another.
        pipeline_card = driver.find_element(By.ID, "pipeline-value")
        for code in ("CNY", "USD", "EUR", "JPY"):
            assert pipeline_card.find_elements(By.CSS_SELECTOR, f'[data-currency="{code}"]')
        # Every label and value the chart abbreviates is in full in its tooltip (<title>).
        pipeline_card.find_element(By.CSS_SELECTOR, '[data-currency="JPY"]').click()
        WebDriverWait(driver, 10).until(
            lambda driver: (
                "JPY"
                in driver.find_element(By.ID, "pipeline-chart-title").get_attribute("textContent")
            )
        )
        tooltips = driver.execute_script(
            "return Array.from(document.querySelectorAll('#pipeline-value svg title'))"
            ".map(t => t.textContent);"
        )
        assert any(LONG_STAGE in text and "JPY" in text for text in tooltips)
        assert any(LONG_STAGE in text and "1,250,000,000.00" in text for text in tooltips)
        # Values are printed on the bars, not only in tooltips.
        values = driver.find_elements(By.CSS_SELECTOR, "#pipeline-value svg text.value")
        assert values and all(value.text for value in values)

        # In Chinese too (longer headings, amounts counted in 万 and 亿).
        Select(driver.find_element(By.ID, "language-select")).select_by_value("zh-hans")
        WebDriverWait(driver, 10).until(
            until.text_to_be_present_in_element((By.TAG_NAME, "h1"), "仪表盘")
        )
        for summary in driver.find_elements(By.CSS_SELECTOR, "details summary"):
            summary.click()
        screenshot(driver, "dashboard-1280-zh")
        assert driver.execute_script(_OVERFLOWING) == []
        assert (
            driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            <= 0
        )
