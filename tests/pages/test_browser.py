"""A real headless Chromium walks the site the way a person would: home → a city on the map → one
of its programs → one of that program's practices → a lesson → French with the visible switch →
the query workbench, where it runs an example from the gallery, sees the table and downloads the
CSV. At every step: no console error and no request to any host but the session's server.

The browser and its checks are tests/browsing.py; screenshots of every step (and of the
page where a step failed) go to tests/artifacts/browser/<test>/ (gitignored).
"""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from browsing import LOCAL_HOSTS, Browser, editor_text, label
from hrgraph.config import CANONICAL_BASE

pytestmark = pytest.mark.browser


def test_browse_from_home_to_a_lesson_then_in_french(
    browser: Browser, client: httpx.Client
) -> None:
    from selenium.webdriver.common.by import By

    with browser.step("home"):
        browser.open("/")
        assert browser.html_lang() == "en"
        markers = browser.driver.find_elements(By.CSS_SELECTOR, "figure.map svg a.city")
        assert len(markers) == 9, "the map shows the nine cities"

    with browser.step("city"):
        marker = markers[0]
        city = urlsplit(marker.get_dom_attribute("href")).path
        assert city.startswith("/id/city/"), city
        # The circle of the marker is what a person clicks; the SVG link takes them there.
        browser.click(marker.find_element(By.CSS_SELECTOR, "circle"))
        browser.wait_for_page(city)
        assert browser.h1() == label(client, CANONICAL_BASE + city[1:], "en")

    with browser.step("program"):
        program = browser.follow('a[href^="/id/program/"]', "/id/program/")
        assert browser.h1() == label(client, CANONICAL_BASE + program[1:], "en")

    with browser.step("practice"):
        practice = browser.follow('a[href^="/id/practice/"]', "/id/practice/")
        assert browser.h1() == label(client, CANONICAL_BASE + practice[1:], "en")

    with browser.step("lesson"):
        lesson = browser.follow('a[href^="/id/lesson/"]', "/id/lesson/")
        assert browser.h1() == label(client, CANONICAL_BASE + lesson[1:], "en")

    with browser.step("lesson-fr"):
        switch = browser.first_link("a[hreflang='fr']", within=".switch")
        browser.click(switch)
        browser.wait(lambda d: browser.html_lang() == "fr", "<html lang> did not become fr")
        browser.wait_for_page(lesson)
        assert parse_qs(urlsplit(browser.driver.current_url).query).get("lang") == ["fr"]
        assert browser.h1() == label(client, CANONICAL_BASE + lesson[1:], "fr")
        nav = browser.driver.find_element(By.CSS_SELECTOR, "header.site nav").text
        assert "Accueil" in nav, nav


def test_run_an_example_query_and_download_the_csv(browser: Browser) -> None:
    from selenium.webdriver.common.by import By

    with browser.step("workbench"):
        browser.open("/sparql")
        # The enhanced editor when the vendored CodeMirror is there, else the plain textarea.
        browser.wait(
            lambda d: d.execute_script("return document.querySelector('.wb-load') !== null"),
            "the workbench script did not start (no 'load in the editor' buttons)",
        )
        examples = browser.driver.find_elements(By.CSS_SELECTOR, "#gallery .wb-example")
        assert examples, "the gallery is empty"
        # the element that takes the keys has an accessible name (CodeMirror's hidden textarea,
        # or the plain textarea with its <label>)
        named = browser.driver.execute_script(
            "var cm = document.querySelector('.CodeMirror textarea');"
            "if (cm) { return cm.getAttribute('aria-label') || ''; }"
            "var t = document.getElementById('query');"
            "return t && document.querySelector('label[for=query]') ? 'label' : '';"
        )
        assert named, "the query editor's input has no accessible name"

    with browser.step("results"):
        # An example from the gallery, loaded into the editor, then the Run button.
        example = examples[0]
        expected = example.find_element(By.CSS_SELECTOR, ".wb-example-query").get_attribute(
            "textContent"
        )
        browser.click(example.find_element(By.CSS_SELECTOR, ".wb-load"))
        browser.wait(lambda d: editor_text(browser) == expected, "the example is not in the editor")
        browser.click(browser.driver.find_element(By.ID, "run"))
        state = browser.wait(
            lambda d: results_state(d) in ("done", "error") and results_state(d),
            "the query did not finish",
        )
        error = browser.driver.find_element(By.ID, "error")
        assert state == "done", f"the example failed: {error.text}"
        assert not error.is_displayed()
        headers = [
            th.text
            for th in browser.driver.find_elements(By.CSS_SELECTOR, "#results table thead th")
        ]
        rows = browser.driver.find_elements(By.CSS_SELECTOR, "#results table tbody tr")
        assert headers, "the results have no table"
        assert rows, "the results table has no rows"
        assert all(row.text.strip() for row in rows)

    # A download is the browser's own request, not the page's: it is not in the performance log,
    # so the link itself is checked to point at this server.
    with browser.step("download", requests=False):
        download = browser.driver.find_element(By.ID, "download-csv")
        href = urlsplit(download.get_attribute("href"))
        assert href.hostname in LOCAL_HOSTS, href
        assert parse_qs(href.query).get("format") == ["csv"], href
        browser.click(download)
        target = browser.downloads / "results.csv"
        browser.wait(
            lambda d: target.exists() and not list(browser.downloads.glob("*.crdownload")),
            f"results.csv was not downloaded to {browser.downloads}",
        )
        table = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
        assert table[0] == headers, "the CSV header is the table's columns"
        assert len(table) - 1 >= len(rows), "the CSV has every row the table shows"


def results_state(driver: Any) -> str:
    return str(driver.execute_script("return document.getElementById('results').dataset.state"))
