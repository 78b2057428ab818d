"""The board's hint says what a mouse user can do, and each thing it says works in Chromium at
1280 px: drag a card to another column, even one scrolled out of sight (holding the card near
the board's edge scrolls it), or click a card and choose its new stage. A keyboard user tabbing
into a card gets the same form. Without the right to move deals, the board promises nothing."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as until
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.factories import DealFactory, UserFactory
from tests.web.browser import chromium, log_in, screenshot
from tests.web.test_browser_sales import pipeline, seller  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HINT = (
    "Drag a card to another column to change its stage (hold it near the board's edge to "
    "scroll), or click a card and choose its new stage."
)


def _wait(driver, condition, timeout: float = 10):
    return WebDriverWait(driver, timeout).until(condition)


def _card(driver, deal):
    return driver.find_element(By.CSS_SELECTOR, f'.deal-card[data-deal="{deal.pk}"]')


def _rect(driver, element) -> dict:
    return driver.execute_script("return arguments[0].getBoundingClientRect().toJSON();", element)


def test_clicking_a_card_opens_its_move_form_as_the_hint_says(
    live_server,
    seller,  # noqa: F811
    pipeline,  # noqa: F811
):
    first, second = pipeline.stages.order_by("position")[:2]
    deal = DealFactory(name="年度服务合同", stage=first, owner=seller)
    with chromium() as driver:
        driver.set_window_size(1280, 900)
        log_in(driver, live_server.url, seller.username)
        driver.get(live_server.url + reverse("web:deal-board"))
        hints = [
            p.text for p in driver.find_elements(By.CSS_SELECTOR, "p.help") if p.is_displayed()
        ]
        assert hints == [HINT]

        card = _card(driver, deal)
        form = card.find_element(By.CSS_SELECTOR, "form.move-form")
        assert not form.is_displayed()  # nothing to see until the card is clicked
        amount = card.find_element(By.XPATH, "./div[1]")  # the card's body, not its link
        ActionChains(driver).click(amount).perform()
        _wait(driver, lambda _driver: form.is_displayed())
        screenshot(driver, "deal-board-move-form")
        Select(form.find_element(By.NAME, "stage")).select_by_visible_text(second.name)
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        _wait(driver, until.text_to_be_present_in_element((By.CSS_SELECTOR, ".messages"), "moved"))
        deal.refresh_from_db()
        assert deal.stage == second

        # The card's name is still a link to the deal.
        _card(driver, deal).find_element(By.TAG_NAME, "a").click()
        _wait(driver, until.url_contains(reverse("web:deal-detail", args=[deal.pk])))


def test_a_card_dragged_to_the_board_edge_scrolls_to_a_column_out_of_sight(
    live_server,
    seller,  # noqa: F811
    pipeline,  # noqa: F811
):
    stages = list(pipeline.stages.order_by("position"))
    deal = DealFactory(name="Pilot", stage=stages[0], owner=seller)
    last = stages[-1]
    with chromium() as driver:
        driver.set_window_size(1280, 900)
        log_in(driver, live_server.url, seller.username)
        driver.get(live_server.url + reverse("web:deal-board"))
        board = driver.find_element(By.CSS_SELECTOR, "[data-board]")
        target = driver.find_element(By.CSS_SELECTOR, f'.board-column[data-stage="{last.pk}"]')
        board_box = _rect(driver, board)
        assert _rect(driver, target)["left"] >= board_box["right"]  # out of sight at first

        card = _card(driver, deal)
        card_box = _rect(driver, card)
        start_x = card_box["left"] + card_box["width"] / 2
        edge_x = board_box["right"] - 20
        scroll = driver.execute_script(
            "return arguments[0].scrollWidth - arguments[0].clientWidth;", board
        )
        target_box = _rect(driver, target)
        drop_x = target_box["left"] - scroll + target_box["width"] / 2  # once scrolled to the end
        # One gesture: hold the card near the board's right edge until the board has scrolled,
        # then drop it on the last column.
        chain = ActionChains(driver).click_and_hold(card).move_by_offset(10, 10)
        chain.move_by_offset(edge_x - start_x - 10, 0)
        for step in range(30):
            chain.pause(0.1).move_by_offset(0, 1 if step % 2 else -1)
        chain.move_by_offset(drop_x - edge_x, 0).pause(0.2).release().perform()
        assert _rect(driver, target)["right"] <= board_box["right"] + 1
        _wait(driver, until.text_to_be_present_in_element((By.ID, "board-status"), last.name))
        deal.refresh_from_db()
        assert deal.stage == last and deal.status == last.outcome


def test_a_keyboard_user_tabbing_into_a_card_gets_its_move_form(
    live_server,
    seller,  # noqa: F811
    pipeline,  # noqa: F811
):
    deal = DealFactory(name="Pilot", stage=pipeline.stages.order_by("position").first())
    with chromium() as driver:
        log_in(driver, live_server.url, seller.username)
        driver.get(live_server.url + reverse("web:deal-board"))
        card = _card(driver, deal)
        driver.execute_script("arguments[0].focus();", card.find_element(By.TAG_NAME, "a"))
        assert card.find_element(By.CSS_SELECTOR, "form.move-form").is_displayed()


def test_without_the_right_to_move_deals_the_board_gives_no_hint(
    live_server,
    pipeline,  # noqa: F811
):
    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(*_permissions("view_deal"))
    DealFactory(name="Pilot", stage=pipeline.stages.order_by("position").first())
    with chromium() as driver:
        log_in(driver, live_server.url, viewer.username)
        driver.get(live_server.url + reverse("web:deal-board"))
        assert not [p for p in driver.find_elements(By.CSS_SELECTOR, "p.help") if p.is_displayed()]
        assert not driver.find_elements(By.CSS_SELECTOR, "form.move-form")


def _permissions(*codenames: str):
    return Permission.objects.filter(content_type__app_label="customers", codename__in=codenames)
