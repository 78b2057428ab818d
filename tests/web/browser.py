"""Headless Chromium for the UI's browser tests: Debian's chromium and chromedriver (never a
download by selenium-manager), a login through the real form, screenshots under var/.

Without Chromium the tests skip, except under `make test` (CRM_REQUIRE_BROWSER=1): there a
missing browser fails them, so a green run always includes the browser tests.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"  # var/ is git-ignored
PASSWORD = "correct-horse-battery"  # the factories' password


def require_chromium() -> None:
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    message = f"needs {CHROMIUM} and {CHROMEDRIVER}: apt-get install chromium chromium-driver"
    if os.environ.get("CRM_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def chromium(*, language: str = "en") -> Iterator[WebDriver]:
    require_chromium()
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        f"--lang={language}",
    ):
        options.add_argument(argument)
    # Headless Chromium ignores --lang for Accept-Language; the preference sets it.
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    # Before any page script: a record of what the Content-Security-Policy blocked, per page.
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _CSP_WATCH})
    try:
        yield driver
    finally:
        driver.quit()


_CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.effectiveDirective + " blocked "
    + (event.blockedURI || "inline") + " at " + event.sourceFile + ":" + event.lineNumber);
});
"""


def csp_violations(driver: WebDriver) -> list[str]:
    """What the Content-Security-Policy blocked on the current page so far."""
    return driver.execute_script("return window.__cspViolations || [];")


def log_in(driver: WebDriver, base_url: str, username: str, password: str = PASSWORD) -> None:
    driver.get(base_url + reverse("web:login"))
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    WebDriverWait(driver, 10).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".username"))
    )


def screenshot(driver: WebDriver, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
