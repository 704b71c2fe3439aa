"""The workbench and the pages of the canned queries in a real headless Chromium (issue 11, items
7 and 9): what a keyboard reaches, what the computed styles give, what the script writes into
the results, and what the share link says after an error. Every step also checks that there is
no console error and no request to any host but the session's server (tests/browsing.py).
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from browsing import Browser, editor_text
from hrgraph.pages import workbench

pytestmark = pytest.mark.browser

#: Tab presses allowed to reach an element (the page has a few dozen stops before it).
MAX_TABS = 80
CITY_NAMES = 'SELECT ?city ?cityLabel ?lat ?long WHERE { ?city a hr:City ; rdfs:label ?cityLabel ; geo:lat ?lat ; geo:long ?long FILTER(LANG(?cityLabel) = "en") }'  # noqa: E501
MIXED = "SELECT ?name WHERE { city:quebec rdfs:label ?name } ORDER BY LANG(?name)"
BAD = "SELECT * WHERE {\n  ?s ?p \n}"


def luminance(rgb: tuple[float, ...]) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0-255 channels)."""
    linear = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4
              for c in rgb[:3]]  # fmt: skip
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(fore: tuple[float, ...], back: tuple[float, ...]) -> float:
    lighter, darker = sorted((luminance(fore), luminance(back)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def rgb(css: str) -> tuple[float, ...]:
    """`rgb(1, 2, 3)` or `rgba(1, 2, 3, 0.5)` as numbers."""
    return tuple(float(n) for n in re.findall(r"[\d.]+", css))


def set_query(browser: Browser, text: str) -> None:
    browser.driver.execute_script(
        "var cm = document.querySelector('.CodeMirror');"
        "if (cm && cm.CodeMirror) { cm.CodeMirror.setValue(arguments[0]); }"
        "else { var t = document.getElementById('query'); t.value = arguments[0];"
        " t.dispatchEvent(new Event('input')); }",
        text,
    )


def run(browser: Browser, text: str) -> str:
    """Put `text` in the editor, press Run and wait for the outcome ("done" or "error")."""
    from selenium.webdriver.common.by import By

    set_query(browser, text)
    browser.driver.execute_script("document.getElementById('results').dataset.state = ''")
    browser.click(browser.driver.find_element(By.ID, "run"))
    return str(
        browser.wait(
            lambda d: (
                d.execute_script("return document.getElementById('results').dataset.state")
                in ("done", "error")
                and d.execute_script("return document.getElementById('results').dataset.state")
            ),
            "the query did not finish",
        )
    )


def start(browser: Browser) -> None:
    browser.open("/sparql")
    browser.wait(
        lambda d: d.execute_script("return document.querySelector('.wb-load') !== null"),
        "the workbench script did not start",
    )


def tab_to(browser: Browser, start_at: Any, matches: str) -> Any:
    """Press Tab from `start_at` until the focus is on an element matching the CSS `matches`;
    returns it (fails after MAX_TABS presses)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    browser.driver.execute_script("arguments[0].focus()", start_at)
    for _ in range(MAX_TABS):
        ActionChains(browser.driver).send_keys(Keys.TAB).perform()
        active = browser.driver.switch_to.active_element
        if browser.driver.execute_script(
            "return arguments[0].matches(arguments[1])", active, matches
        ):
            return active
    raise AssertionError(f"Tab never reached {matches} in {MAX_TABS} presses")


def test_line_numbers_have_enough_contrast(browser: Browser) -> None:
    from selenium.webdriver.common.by import By

    if not workbench.vendor_available():
        pytest.skip("CodeMirror is not vendored (make setup): the page has no line numbers")
    with browser.step("line-numbers"):
        start(browser)
        number = browser.wait(
            lambda d: next(iter(d.find_elements(By.CSS_SELECTOR, ".CodeMirror-linenumber")), False),
            "CodeMirror drew no line numbers",
        )
        # The numbers are drawn over the gutters' background (a separate element behind them).
        colour, background = browser.driver.execute_script(
            "return [getComputedStyle(arguments[0]).color,"
            " getComputedStyle(document.querySelector('.CodeMirror-gutters')).backgroundColor];",
            number,
        )
        assert rgb(background)[3:] in ((), (1.0,)), f"the gutters are not opaque: {background}"
        ratio = contrast(rgb(colour), rgb(background))
        assert ratio >= 4.5, f"line numbers {colour} on {background}: {ratio:.2f}:1"
        # The editor's input is its text, inside its scrolling box: named, and reached by Tab.
        code = browser.driver.find_element(By.CSS_SELECTOR, ".CodeMirror-scroll [contenteditable]")
        assert code.accessible_name
        assert (
            tab_to(browser, browser.driver.find_element(By.ID, "site-q"), "[contenteditable]")
            == code
        )


def test_results_by_keyboard_and_as_people_read_them(browser: Browser) -> None:
    from selenium.webdriver.common.by import By

    with browser.step("results"):
        start(browser)
        assert run(browser, CITY_NAMES) == "done"
        area = browser.driver.find_element(By.CSS_SELECTOR, "#results .wb-table")
        assert area.get_attribute("tabindex") == "0" and area.get_attribute("role") == "region"
        assert area.accessible_name
        reached = tab_to(browser, browser.driver.find_element(By.ID, "run"), "#results .wb-table")
        assert reached == area
        # one language in the column: no "@en" written; numbers show no datatype
        notes = [n.text for n in browser.driver.find_elements(By.CSS_SELECTOR, "#results td .note")]
        assert not notes, notes
        cells = browser.driver.find_elements(By.CSS_SELECTOR, "#results tbody td")
        assert cells and not any("xsd:" in cell.text for cell in cells)
        latitudes = browser.driver.find_elements(
            By.CSS_SELECTOR, "#results tbody td[title='xsd:decimal']"
        )
        assert len(latitudes) == 2 * 9, "lat and long keep their datatype in a title"

    with browser.step("map-points", requests=False):
        points = browser.driver.find_elements(By.CSS_SELECTOR, "#map a.wb-point-link")
        assert len(points) == 9
        first = tab_to(browser, area, "#map a.wb-point-link")
        assert first == points[0]
        names = []
        for point in points:
            size = browser.driver.execute_script(
                "var r = arguments[0].getBoundingClientRect(); return [r.width, r.height]", point
            )
            assert min(size) >= 24, f"{point.accessible_name}: a {size} px target"
            names.append(point.accessible_name)
            assert urlsplit(point.get_attribute("href")).path.startswith("/id/city/")
        cities = [
            td.text
            for td in browser.driver.find_elements(
                By.CSS_SELECTOR, "#results tbody td:nth-child(2)"
            )
        ]
        assert sorted(names) == sorted(cities)

    with browser.step("mixed-languages"):
        assert run(browser, MIXED) == "done"
        notes = [n.text for n in browser.driver.find_elements(By.CSS_SELECTOR, "#results td .note")]
        assert notes == ["@en", "@fr"]


def test_the_share_link_after_an_error(browser: Browser) -> None:
    from selenium.webdriver.common.by import By

    with browser.step("good-query", requests=True):
        start(browser)
        assert run(browser, MIXED) == "done"
        share = browser.driver.find_element(By.ID, "share")
        assert parse_qs(urlsplit(share.get_attribute("href")).query)["query"] == [MIXED]

    # The failing query answers 400: the step expects exactly that one failed request.
    with browser.step("bad-query", requests=False):
        assert run(browser, BAD) == "error"
        assert browser.driver.find_element(By.ID, "error").is_displayed()
        share = browser.driver.find_element(By.ID, "share")
        shared = parse_qs(urlsplit(share.get_attribute("href")).query)["query"]
        assert shared == [editor_text(browser)] == [BAD]
        address = parse_qs(urlsplit(browser.driver.current_url).query)["query"]
        assert address == [BAD]
        browser.network()  # the 400 above is the point of this step
        browser.driver.get_log("browser")  # and so is its console line

    with browser.step("edited", requests=False):
        set_query(browser, MIXED + " LIMIT 1")
        share = browser.driver.find_element(By.ID, "share")
        assert parse_qs(urlsplit(share.get_attribute("href")).query)["query"] == [
            MIXED + " LIMIT 1"
        ]


def test_search_landmarks_are_named(browser: Browser) -> None:
    from selenium.webdriver.common.by import By

    for path in ("/sparql", "/sparql?lang=fr", "/queries/city-services"):
        with browser.step("landmarks-" + re.sub(r"\W+", "-", path)):
            browser.open(path)
            landmarks = browser.driver.find_elements(By.CSS_SELECTOR, "[role=search], search")
            names = [landmark.accessible_name for landmark in landmarks]
            assert landmarks and all(names) and len(set(names)) == len(names), names


def test_a_canned_query_page_and_its_form(browser: Browser, client: httpx.Client) -> None:
    from selenium.webdriver.common.by import By

    def shown() -> set[str]:
        return {
            row.find_element(By.CSS_SELECTOR, "td").text
            for row in browser.driver.find_elements(By.CSS_SELECTOR, "#answer tbody tr")
        }

    def expected(city: str) -> set[str]:
        response = client.get("/queries/city-services", params={"city": city, "format": "csv"})
        return {row["providerLabel"] for row in csv.DictReader(io.StringIO(response.text))}

    with browser.step("canned-page"):
        browser.open("/queries/city-services")
        assert browser.driver.find_elements(By.CSS_SELECTOR, "#answer table")
        assert shown() == expected("whitehorse") != set()

    with browser.step("canned-rerun"):
        field = browser.driver.find_element(By.ID, "param-city")
        assert field.accessible_name
        field.clear()
        field.send_keys("victoria")
        browser.click(browser.driver.find_element(By.ID, "canned-run"))
        browser.wait(
            lambda d: (
                parse_qs(urlsplit(d.current_url).query).get("city") == ["victoria"]
                and d.execute_script("return document.readyState") == "complete"
            ),
            "the form did not load the page with city=victoria",
        )
        assert browser.driver.find_element(By.ID, "param-city").get_attribute("value") == "victoria"
        assert shown() == expected("victoria") != expected("whitehorse")
