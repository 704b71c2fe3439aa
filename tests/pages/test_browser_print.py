"""Pages print as what they say, without the site's chrome: in the real Chromium, print media
hides the navigation, the search forms and the language switch, and the practice page that a user
test printed as 8 pages of Letter paper prints in at most half of that."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from browsing import Browser

pytestmark = pytest.mark.browser

#: The practice page of the user test (safer crack kits) and how many pages it printed as then
#: (issue 11's user test, before the print stylesheet and the new practice pages).
PRACTICE = "/id/practice/safer-crack-kits"
PRINTED_BEFORE = 8
HIDDEN_IN_PRINT = ("header.site nav", "form.site-search", ".switch")


def printed_pages(browser: Browser) -> int:
    """The number of Letter pages the current page prints as (Chromium's own PDF)."""
    pdf: dict[str, Any] = browser.driver.execute_cdp_cmd(
        "Page.printToPDF", {"paperWidth": 8.5, "paperHeight": 11, "printBackground": False}
    )
    return len(re.findall(rb"/Type\s*/Page[^s]", base64.b64decode(pdf["data"])))


def displayed(browser: Browser, css: str) -> bool:
    return bool(
        browser.driver.execute_script(
            "var e = document.querySelector(arguments[0]);"
            "return !!e && getComputedStyle(e).display !== 'none';",
            css,
        )
    )


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_print_leaves_out_the_chrome_and_halves_the_practice_page(
    browser: Browser, lang: str
) -> None:
    with browser.step(f"practice-{lang}"):
        browser.open(f"{PRACTICE}?lang={lang}")
        assert all(displayed(browser, css) for css in HIDDEN_IN_PRINT), "the chrome is on screen"
    with browser.step(f"print-{lang}", requests=False):
        browser.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        try:
            shown = [css for css in HIDDEN_IN_PRINT if displayed(browser, css)]
        finally:
            browser.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        assert shown == [], f"printed: {shown}"
        pages = printed_pages(browser)
        assert 0 < pages <= PRINTED_BEFORE // 2, f"the practice page prints as {pages} pages"
