"""The real headless Chromium the browser tests drive (tests/pages/test_browser*.py; its fixtures
are registered by tests/conftest.py): one browser per test process, and a `Browser` per test that
screenshots its steps to tests/artifacts/browser/<test>/ (gitignored) and checks, at every step,
that there is no console error and no request to any host but the session's server.

Debian's chromium and chromium-driver (`make browser`, run by `make test`) driven by Selenium,
which is told where both are, so Selenium Manager never downloads anything.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL_HINT = (
    "the browser test needs Debian's Chromium and ChromeDriver: run `make browser` (as root it "
    "runs `apt-get update && apt-get install -y --no-install-recommends chromium "
    "chromium-driver`), or `make test`, which runs it first"
)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "browser"
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

    def __init__(self, driver: Any, base: str, downloads: Path, folder: Path) -> None:
        self.driver = driver
        self.base = base
        self.downloads = downloads
        self.folder = folder  # this test's screenshots
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

    def check(self, name: str, requests: bool = True, failing: str = "") -> None:
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
        if failing:  # the browser logs an error page's own status as a console error
            errors = [e for e in errors if urlsplit(e.split()[0]).path != failing]
        seen, outside, failed = self.network()
        assert not errors, f"{name}: console errors {errors}"
        assert seen or not requests, (
            f"{name}: no request in the performance log (is network logging on?)"
        )
        assert not outside, f"{name}: requests that left localhost {outside}"
        # `failing`: the one page the step expects an error status for (an error page's own)
        failed = [f for f in failed if not (failing and urlsplit(f.split()[1]).path == failing)]
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

        path = self.folder / f"{name}.png"
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
    def step(self, name: str, requests: bool = True, failing: str = "") -> Iterator[None]:
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
        self.check(name, requests, failing)

    def h1(self) -> str:
        from selenium.webdriver.common.by import By

        return str(self.driver.find_element(By.TAG_NAME, "h1").text.strip())

    def html_lang(self) -> str:
        return str(self.driver.execute_script("return document.documentElement.lang"))


@dataclass
class Session:
    driver: Any
    base: str
    downloads: Path


@pytest.fixture
def browser(chromium: Session, request: pytest.FixtureRequest) -> Browser:
    """The session's Chromium for one test: its screenshots in a folder of the test's name
    (emptied first), its journey timed from the start of the test."""
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Browser(chromium.driver, chromium.base, chromium.downloads, folder)


@pytest.fixture(scope="session")
def chromium(live_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """One headless Chromium for the session (per test process), quit at teardown whatever
    happened."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: {INSTALL_HINT}", pytrace=False)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is not installed: run `make setup` (the test extra)", pytrace=False)

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
        yield Session(driver, live_url, downloads)
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


def editor_text(browser: Browser) -> str:
    """What the workbench's editor holds: CodeMirror's value when it wraps the textarea, else the
    textarea's."""
    return str(
        browser.driver.execute_script(
            "var cm = document.querySelector('.CodeMirror');"
            "return cm && cm.CodeMirror ? cm.CodeMirror.getValue()"
            " : document.getElementById('query').value;"
        )
    )
