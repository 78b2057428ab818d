"""Real-browser tests of the daily screens in headless Chromium: log in, create a contact, log
an activity, drag a deal to the next stage (it persists), switch to Chinese. Screenshots of the
main pages go to var/screenshots/ (git-ignored)."""

import pytest
from django.urls import reverse
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as until
from selenium.webdriver.support.ui import Select, WebDriverWait

from customers.actors import SYSTEM
from customers.models import Activity, Contact, Pipeline
from customers.services import pipelines
from tests.factories import CompanyFactory, ContactFactory, DealFactory, SalesUserFactory
from tests.web.browser import chromium, log_in, screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def pipeline(transactional_db):
    """Flushing between transactional tests removes the migration's default pipeline."""
    existing = Pipeline.objects.filter(is_default=True).first()
    return existing or pipelines.pipeline_create(actor=SYSTEM, name="Sales", is_default=True)


@pytest.fixture
def seller(transactional_db):
    return SalesUserFactory(username="wang.fang", first_name="芳", last_name="王")


def _wait(driver, condition, timeout: float = 10):
    return WebDriverWait(driver, timeout).until(condition)


def test_log_in_create_a_contact_and_log_an_activity(live_server, seller, pipeline):
    company = CompanyFactory(name="北京星辰科技")
    with chromium() as driver:
        log_in(driver, live_server.url, seller.username)
        assert driver.find_element(By.TAG_NAME, "h1").text == "Dashboard"

        driver.get(live_server.url + reverse("web:contact-create"))
        driver.find_element(By.ID, "id_last_name").send_keys("张")
        driver.find_element(By.ID, "id_first_name").send_keys("伟")
        driver.find_element(By.ID, "id_email").send_keys("not-an-email")
        Select(driver.find_element(By.ID, "id_company")).select_by_visible_text(company.name)
        driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        # Bad input: the error sits next to the field, announced, and nothing is saved.
        error = _wait(driver, until.presence_of_element_located((By.ID, "id_email_error")))
        assert error.get_attribute("role") == "alert"
        assert driver.find_element(By.ID, "id_email").get_attribute("aria-invalid") == "true"
        assert not Contact.objects.exists()

        email = driver.find_element(By.ID, "id_email")
        email.clear()
        email.send_keys("zhang.wei@example.cn")
        driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        _wait(driver, until.title_contains("张伟"))
        contact = Contact.objects.get()
        assert driver.current_url.endswith(reverse("web:contact-detail", args=[contact.pk]))
        assert contact.company == company and contact.email == "zhang.wei@example.cn"

        # Log a call inline: htmx swaps the panel, the page itself does not reload.
        driver.execute_script("window.notReloaded = true;")
        Select(driver.find_element(By.ID, "id_kind")).select_by_value("call")
        driver.find_element(By.ID, "id_subject").send_keys("首次电话沟通")
        driver.find_element(By.CSS_SELECTOR, "#activity-panel button[type=submit]").click()
        _wait(
            driver,
            until.text_to_be_present_in_element((By.CSS_SELECTOR, ".timeline"), "首次电话沟通"),
        )
        assert driver.execute_script("return window.notReloaded === true;")
        activity = Activity.objects.get()
        assert (activity.contact, activity.author, activity.kind) == (contact, seller, "call")
        screenshot(driver, "contact-detail")

        for name, url in (
            ("contacts", reverse("web:contact-list")),
            ("companies", reverse("web:company-list")),
            ("deals", reverse("web:deal-list")),
        ):
            driver.get(live_server.url + url)
            screenshot(driver, name)


def test_drag_a_deal_to_the_next_stage_and_it_stays_there(live_server, seller, pipeline):
    first, second = pipeline.stages.order_by("position")[:2]
    deal = DealFactory(name="年度服务合同", amount="88000.00", stage=first, owner=seller)
    with chromium() as driver:
        log_in(driver, live_server.url, seller.username)
        driver.get(live_server.url + reverse("web:deal-board"))
        card = driver.find_element(By.CSS_SELECTOR, f'.deal-card[data-deal="{deal.pk}"]')
        target = driver.find_element(By.CSS_SELECTOR, f'.board-column[data-stage="{second.pk}"]')
        ActionChains(driver).click_and_hold(card).move_by_offset(10, 10).move_to_element(
            target
        ).pause(0.2).release().perform()
        status = driver.find_element(By.ID, "board-status")
        _wait(driver, until.text_to_be_present_in_element((By.ID, "board-status"), second.name))
        assert "error" not in status.get_attribute("class")
        deal.refresh_from_db()
        assert deal.stage == second

        driver.refresh()
        moved = driver.find_element(
            By.CSS_SELECTOR,
            f'.board-column[data-stage="{second.pk}"] .deal-card[data-deal="{deal.pk}"]',
        )
        assert "年度服务合同" in moved.text
        column = driver.find_element(By.CSS_SELECTOR, f'.board-column[data-stage="{second.pk}"]')
        assert column.find_element(By.CSS_SELECTOR, "[data-count]").text == "1"
        screenshot(driver, "deal-board")


def test_switch_to_chinese_and_the_dashboard_is_translated(live_server, seller, pipeline):
    ContactFactory(first_name="娜", last_name="李", owner=seller)
    DealFactory(name="试点项目", amount="12345.60", stage=pipeline.stages.first(), owner=seller)
    with chromium() as driver:
        log_in(driver, live_server.url, seller.username)
        screenshot(driver, "dashboard-en")
        Select(driver.find_element(By.ID, "language-select")).select_by_value("zh-hans")
        _wait(driver, until.text_to_be_present_in_element((By.TAG_NAME, "h1"), "仪表盘"))
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-hans"
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "我的进行中商机" in body and "¥12,345.60" in body
        screenshot(driver, "dashboard-zh")

        # The preference is stored: a new session in an English browser still gets Chinese.
        driver.delete_all_cookies()
        log_in(driver, live_server.url, seller.username)
        assert driver.find_element(By.TAG_NAME, "h1").text == "仪表盘"
        driver.get(live_server.url + reverse("web:deal-board"))
        screenshot(driver, "deal-board-zh")
