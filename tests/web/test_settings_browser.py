"""In a real browser, in Chinese: a manager creates an API key (shown once) and a custom field,
then refuses a type change that stored values would not survive."""

import pytest
from django.urls import reverse
from django.utils import translation
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from customers.models import CustomField
from integrations.models import ApiKey
from integrations.services.api_keys import api_key_verify
from tests.factories import ContactFactory, ManagerFactory
from tests.web.browser import chromium, log_in, screenshot

pytestmark = pytest.mark.slow


@pytest.mark.django_db(transaction=True)
def test_a_manager_creates_a_key_and_a_custom_field_in_chinese(live_server):
    ManagerFactory(username="boss")
    with translation.override("zh-hans"):
        heading = translation.gettext("Integrations")
        refusal_word = translation.gettext("Please correct the errors below.")
    assert heading != "Integrations"

    with chromium(language="zh-CN") as driver:
        log_in(driver, live_server.url, "boss")
        driver.get(live_server.url + reverse("web:integration-list"))
        assert driver.find_element(By.TAG_NAME, "h1").text == heading
        driver.find_element(By.ID, "id_name").send_keys("ERP 同步")
        driver.find_element(By.CSS_SELECTOR, "input[name=scopes][value='contacts:read']").click()
        driver.find_element(By.CSS_SELECTOR, "form[action$='api-keys/'] button.primary").click()
        raw_key = (
            WebDriverWait(driver, 10)
            .until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-new-api-key]"))
            .get_attribute("value")
        )
        screenshot(driver, "integrations-new-key-zh")
        assert api_key_verify(raw_key) == ApiKey.objects.get(name="ERP 同步")

        driver.get(live_server.url + reverse("web:custom-field-new") + "?entity=contact")
        driver.find_element(By.ID, "id_name").send_keys("code")
        driver.find_element(By.ID, "id_label").send_keys("Code")
        driver.find_element(By.ID, "id_label_zh").send_keys("编号")
        driver.find_element(By.CSS_SELECTOR, "main form button.primary").click()
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-field]"))
        field = CustomField.objects.get(name="code")
        screenshot(driver, "custom-fields-zh")

        ContactFactory(custom_fields={"code": "A-1"})
        driver.get(live_server.url + reverse("web:custom-field-edit", args=[field.pk]))
        Select(driver.find_element(By.ID, "id_type")).select_by_value("integer")
        driver.find_element(By.CSS_SELECTOR, "main form button.primary").click()
        summary = WebDriverWait(driver, 10).until(
            lambda d: d.find_element(By.CSS_SELECTOR, ".error-summary")
        )
        assert refusal_word in summary.text
        type_input = driver.find_element(By.ID, "id_type")
        assert type_input.get_attribute("aria-invalid") == "true"
        assert "1" in driver.find_element(By.CSS_SELECTOR, ".field.has-error .errors").text
        screenshot(driver, "custom-field-refused-zh")

    field.refresh_from_db()
    assert field.type == "text"
