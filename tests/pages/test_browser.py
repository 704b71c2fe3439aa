"""A real headless Chromium walks the site the way a person would: home → a city on the map → one
of its programs → one of that program's practices → a lesson → French with the visible switch →
the query workbench, where it runs an example from the gallery, sees the table and downloads the
CSV. At every step: no console error and no request to any host but the session's server.

Debian's chromium and chromium-driver (`make browser`, run by `make test`) driven by Selenium,
which is told where both are, so Selenium Manager never downloads anything. Screenshots of every
step (and of the page where a step failed) go to tests/artifacts/browser/ (gitignored).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hrgraph.config import CANONICAL_BASE

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL_HINT = (
    "the browser test needs Debian's Chromium and ChromeDriver: run `make browser` (as root it "
    "runs `apt-get update && apt-get install -y --no-install-recommends chromium "
    "chromium-driver`), or `make test`, which runs it first"
)
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "browser"
#: Hosts a page may talk to: the session's own server (uvicorn on loopback).
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
#: Schemes that never leave the browser.
LOCAL_SCHEMES = {"data", "blob", "about"}
#: Bounds: one wait for a condition, one page load, and the whole journey.
WAIT = 20
PAGE_LOAD = 30
JOURNEY = 240


class Browser:
    """The session's Chromium, with what every step checks: the console and the network log."""

    def __init__(self, driver: Any, base: str, downloads: Path) -> None:
        self.driver = driver
        self.base = base
        self.downloads = downloads
        self.step_count = 0
        self.started = time.monotonic()

    # --- waiting ------------------------------------------------------------------------------

    def wait(self, condition: Any, message: str, timeout: float = WAIT) -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        left = JOURNEY - (time.monotonic() - self.started)
        assert left > 0, f"the journey took longer than {JOURNEY}s"
        return WebDriverWait(self.driver, min(timeout, left), poll_frequency=0.1).until(
            condition, message
        )

    def wait_for_page(self, path_prefix: str) -> None:
        """Wait until the browser shows a loaded page whose path starts with `path_prefix`."""

        def loaded(driver: Any) -> bool:
            path = urlsplit(driver.current_url).path
            state = driver.execute_script("return document.readyState")
            return path.startswith(path_prefix) and state == "complete"

        self.wait(loaded, f"no loaded page under {path_prefix} (at {self.driver.current_url})")

    # --- acting -------------------------------------------------------------------------------

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)
        self.wait_for_page(urlsplit(path).path)

    def click(self, element: Any) -> None:
        """Scroll `element` to the middle of the window (clear of anything fixed), then click."""
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()

    def first_link(self, css: str, within: str = "main") -> Any:
        from selenium.webdriver.common.by import By

        def found(driver: Any) -> Any:
            links = driver.find_elements(By.CSS_SELECTOR, f"{within} {css}")
            return next((link for link in links if link.is_displayed()), False)

        return self.wait(found, f"no visible link {css} in {within} of {self.driver.current_url}")

    def follow(self, css: str, path_prefix: str) -> str:
        """Click the first visible link matching `css` in <main>; returns the path it led to."""
        link = self.first_link(css)
        target = urlsplit(link.get_dom_attribute("href")).path
        assert target.startswith(path_prefix), target
        self.click(link)
        self.wait_for_page(target)
        return target

    # --- checking -----------------------------------------------------------------------------

    def check(self, name: str, requests: bool = True) -> None:
        """Screenshot the step, then fail on any console error or any request not to localhost
        (and on none at all, when the step made `requests`: the log would not be working)."""
        self.step_count += 1
        self.screenshot(f"{self.step_count:02d}-{name}")
        # Both logs are read (and so emptied) before anything is asserted, so that a failed step
        # leaves nothing behind for the next one.
        errors = [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if entry["level"] in ("SEVERE", "ERROR")
        ]
        seen, outside, failed = self.network()
        assert not errors, f"{name}: console errors {errors}"
        assert seen or not requests, (
            f"{name}: no request in the performance log (is network logging on?)"
        )
        assert not outside, f"{name}: requests that left localhost {outside}"
        assert not failed, f"{name}: failed requests {failed}"

    def network(self) -> tuple[list[str], list[str], list[str]]:
        """The requests in the performance log since the last call, those to hosts other than
        ours, and the responses with an HTTP error status."""
        seen: list[str] = []
        outside: list[str] = []
        failed: list[str] = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message.get("method") == "Network.requestWillBeSent":
                url = params["request"]["url"]
                seen.append(url)
                parts = urlsplit(url)
                if parts.scheme not in LOCAL_SCHEMES and parts.hostname not in LOCAL_HOSTS:
                    outside.append(url)
            elif message.get("method") == "Network.responseReceived":
                response = params["response"]
                if response.get("status", 0) >= 400:
                    failed.append(f"{response['status']} {response['url']}")
        return seen, outside, failed

    def screenshot(self, name: str) -> Path:
        """The whole page (up to 6000 px tall) as a PNG under tests/artifacts/browser/."""
        import base64

        path = ARTIFACTS / f"{name}.png"
        try:
            width, height = self.driver.execute_script(
                "var d = document.documentElement;"
                "return [Math.max(d.scrollWidth, d.clientWidth), Math.max(d.scrollHeight, "
                "d.clientHeight)]"
            )
            shot = self.driver.execute_cdp_cmd(
                "Page.captureScreenshot",
                {
                    "format": "png",
                    "captureBeyondViewport": True,
                    "clip": {
                        "x": 0,
                        "y": 0,
                        "width": width,
                        "height": min(height, 6000),
                        "scale": 1,
                    },
                },
            )
            path.write_bytes(base64.b64decode(shot["data"]))
        except Exception:
            self.driver.save_screenshot(str(path))
        return path

    @contextlib.contextmanager
    def step(self, name: str, requests: bool = True) -> Iterator[None]:
        """A step of the journey, checked when it ends; on failure, a screenshot of where it
        stood is kept instead."""
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                self.screenshot(f"FAILED-{name}")
                self.driver.get_log("browser")  # what this step left is not the next one's
                self.driver.get_log("performance")
            raise
        self.check(name, requests)

    def h1(self) -> str:
        from selenium.webdriver.common.by import By

        return str(self.driver.find_element(By.TAG_NAME, "h1").text.strip())

    def html_lang(self) -> str:
        return str(self.driver.execute_script("return document.documentElement.lang"))


@pytest.fixture(scope="session")
def browser(live_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """One headless Chromium for the session, quit at teardown whatever happened."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: {INSTALL_HINT}", pytrace=False)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is not installed: run `make setup` (the test extra)", pytrace=False)

    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    downloads = tmp_path_factory.mktemp("downloads")
    profile = tmp_path_factory.mktemp("chromium-profile")

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--lang=en-CA",
        f"--user-data-dir={profile}",
        # Anything but loopback fails fast instead of waiting on a closed network (it is still
        # in the performance log, and the test still fails on it).
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
            "safebrowsing.enabled": False,
            "intl.accept_languages": "en-CA,en",
        },
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    options.page_load_strategy = "normal"

    service = Service(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.set_page_load_timeout(PAGE_LOAD)
        driver.set_script_timeout(WAIT)
        # Downloads in headless mode go where the test says, without asking.
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior",
            {"behavior": "allow", "downloadPath": str(downloads), "eventsEnabled": True},
        )
        # Whatever the browser did while starting (its own new-tab page) is not the site's.
        driver.get("about:blank")
        for log in ("browser", "performance"):
            driver.get_log(log)
        yield Browser(driver, live_url, downloads)
    finally:
        driver.quit()


def label(client: httpx.Client, iri: str, lang: str) -> str:
    """The resource's label in `lang` (else English, else untagged), as the pages choose it."""
    query = f"""
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?label WHERE {{ <{iri}> rdfs:label|skos:prefLabel ?label }}"""
    response = client.get(
        "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    response.raise_for_status()
    found: dict[str, str] = {}
    for row in response.json()["results"]["bindings"]:
        found.setdefault(row["label"].get("xml:lang", ""), row["label"]["value"])
    return found.get(lang) or found.get("en") or found.get("", "")


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


def editor_text(browser: Browser) -> str:
    """What the editor holds: CodeMirror's value when it wraps the textarea, else the textarea."""
    return str(
        browser.driver.execute_script(
            "var cm = document.querySelector('.CodeMirror');"
            "return cm && cm.CodeMirror ? cm.CodeMirror.getValue()"
            " : document.getElementById('query').value;"
        )
    )


def results_state(driver: Any) -> str:
    return str(driver.execute_script("return document.getElementById('results').dataset.state"))
