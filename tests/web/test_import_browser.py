"""In a real browser: upload a CSV, map it, import it, and watch the job page's progress bar
reach 100% as a real Celery worker runs the job (htmx polling, no page reload)."""

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from customers.models import Contact
from integrations.models import ImportJob, JobStatus
from tests.factories import SalesUserFactory
from tests.web.browser import chromium, log_in, require_chromium, screenshot
from tests.workers import celery_worker, private_queues

pytestmark = pytest.mark.slow

ROWS = 2_000


@pytest.mark.django_db(transaction=True)
def test_an_import_runs_on_the_worker_and_the_page_follows_it_to_100_percent(live_server, tmp_path):
    require_chromium()
    SalesUserFactory(username="li.na")
    people = tmp_path / "people.csv"
    lines = ["External ID,姓,名,电子邮件"]
    lines += [f"web-{n},张,伟{n},wei{n}@example.cn" for n in range(ROWS)]
    people.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # The job goes to queues of its own, which no worker reads until the page is watching.
    with private_queues() as queue, chromium() as driver:
        log_in(driver, live_server.url, "li.na")
        driver.get(live_server.url + reverse("web:import-new"))
        driver.find_element(By.ID, "id_file").send_keys(str(people))
        Select(driver.find_element(By.ID, "id_resource")).select_by_value("contacts")
        driver.find_element(By.CSS_SELECTOR, "main form button.primary").click()

        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-format]"))
        assert driver.find_element(By.CSS_SELECTOR, "[data-format]").text == "CSV"
        email_column = Select(driver.find_element(By.ID, "id_column_3"))
        assert email_column.first_selected_option.get_attribute("value") == "email"
        screenshot(driver, "import-map")
        driver.find_element(By.CSS_SELECTOR, "button[name=action][value=run]").click()

        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "import-progress"))
        panel = driver.find_element(By.ID, "import-progress")
        assert panel.get_attribute("data-status") == JobStatus.QUEUED
        assert panel.get_attribute("hx-trigger") == "every 1s"
        driver.execute_script("window.stillTheSamePage = true;")
        screenshot(driver, "import-queued")

        with celery_worker(tmp_path / "worker.log", queue=queue):
            WebDriverWait(driver, 120, poll_frequency=0.2).until(
                lambda d: _panel(d)["status"] == JobStatus.SUCCEEDED
            )
        panel = _panel(driver)  # read in one go: htmx replaces the panel every second
        assert float(panel["value"]) == 100
        assert panel["percent"] == "100%"
        assert panel["created"].replace(",", "") == str(ROWS)
        assert driver.execute_script("return window.stillTheSamePage === true;")
        screenshot(driver, "import-finished")

    job = ImportJob.objects.get()
    assert (job.status, job.rows_created) == (JobStatus.SUCCEEDED, ROWS)
    assert Contact.objects.count() == ROWS


def _panel(driver) -> dict[str, str]:
    return driver.execute_script(
        """
        const panel = document.getElementById("import-progress");
        return {
          status: panel.dataset.status,
          value: document.getElementById("import-progress-bar").getAttribute("value"),
          percent: panel.querySelector("[data-percent]")?.textContent,
          created: panel.querySelector("[data-count=created]").textContent,
        };
        """
    )
