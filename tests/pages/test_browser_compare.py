"""The comparison view (/compare, issue 11 item 2) on a phone, in a real headless Chromium: at
390 by 844 px the page does not scroll sideways (the wide table scrolls inside its own region), the
region is reached with the Tab key and scrolled with the arrow keys, and the practice column
stays in view while it scrolls. Screenshots: tests/artifacts/browser/<test>/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from browsing import Browser

pytestmark = pytest.mark.browser

PHONE = (390, 844)
#: The session's window size (tests/browsing.py), restored after the test.
DESKTOP = (1280, 900)
#: More Tab presses than the page has links and controls before its table.
MOST_TABS = 60


@pytest.fixture
def phone(browser: Browser) -> Iterator[Browser]:
    browser.driver.set_window_size(*PHONE)
    try:
        yield browser
    finally:
        browser.driver.set_window_size(*DESKTOP)


def script(browser: Browser, text: str) -> object:
    return browser.driver.execute_script(text)


def tab_to_region(browser: Browser) -> int:
    """Press Tab until the table's region has the focus; the number of presses it took."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for presses in range(1, MOST_TABS + 1):
        ActionChains(browser.driver).send_keys(Keys.TAB).perform()
        if script(browser, "return document.activeElement.getAttribute('role') === 'region'"):
            return presses
    raise AssertionError(f"{MOST_TABS} Tab presses did not reach the table's region")


def test_the_comparison_fits_a_phone_and_its_table_takes_the_keyboard(phone: Browser) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    with phone.step("compare-phone"):
        phone.open("/compare?lang=en")
        width = script(phone, "return window.innerWidth")
        assert width == PHONE[0], f"the viewport is {width} px wide, not {PHONE[0]}"
        page = script(phone, "return document.documentElement.scrollWidth")
        assert isinstance(page, int) and page <= PHONE[0], f"the page is {page} px wide"
        region = "document.querySelector('[role=region]')"
        inner = script(phone, f"return {region}.scrollWidth")
        shown = script(phone, f"return {region}.clientWidth")
        assert isinstance(inner, int) and isinstance(shown, int) and inner > shown, (
            "the table fits the phone: nothing here needs the region"
        )

    with phone.step("compare-keyboard", requests=False):
        assert tab_to_region(phone) > 1
        first = "document.querySelector('table.compare tbody th')"
        before = script(phone, f"return {first}.getBoundingClientRect().left")
        for _ in range(10):
            ActionChains(phone.driver).send_keys(Keys.ARROW_RIGHT).perform()
        phone.wait(
            lambda d: d.execute_script("return document.activeElement.scrollLeft") > 0,
            "the arrow keys did not scroll the focused region",
        )
        after = script(phone, f"return {first}.getBoundingClientRect().left")
        assert after == before, "the practice column did not stay in view"
        assert script(phone, "return document.documentElement.scrollWidth") <= PHONE[0]


#: A landscape A4 sheet less 1 cm margins, in CSS px (277 mm at 96 px per inch).
SHEET = 1047


def test_the_comparison_prints_every_column_and_no_form(browser: Browser) -> None:
    driver = browser.driver
    try:
        with browser.step("compare-print"):
            browser.open("/compare?lang=fr")
            metrics = {"width": SHEET, "height": 740, "deviceScaleFactor": 1, "mobile": False}
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
            hidden = script(
                browser,
                "return ['header.site nav', '.compare-filters', '.compare-csv', 'form']"
                ".filter(function (s) { var e = document.querySelector(s);"
                " return e && getComputedStyle(e).display !== 'none'; })",
            )
            assert hidden == [], f"printed: {hidden}"
            region = "document.querySelector('[role=region]')"
            inner = script(browser, f"return {region}.scrollWidth")
            shown = script(browser, f"return {region}.clientWidth")
            assert isinstance(inner, int) and isinstance(shown, int) and inner <= shown, (
                f"the table is {inner} px wide on a {shown} px sheet"
            )
            after = script(
                browser,
                "return getComputedStyle(document.querySelector('table.compare a'), '::after')"
                ".content",
            )
            assert after in ("none", "normal", ""), f"a link's target is printed: {after}"
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
