"""Every kind of page, in both languages, at desktop and at phone size, checked in the real
Chromium by axe-core (the accessibility engine of Deque, pinned by tests/clients/package-lock.json
and installed by `make clients`): no violation of WCAG 2.2 A/AA or of axe's best practices, and,
at 390 px, nothing wider than the window (no sideways scrolling).

axe-core is a test tool: it is read from tests/clients/node_modules and handed to the page by the
driver, so no page loads anything from anywhere but the session's server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from browsing import Browser
from hrgraph import kinds
from hrgraph.config import CANONICAL_BASE

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[1] / "clients" / "node_modules" / "axe-core" / "axe.min.js"
#: What axe checks: WCAG 2.0-2.2 at levels A and AA (2.2 AA has target size: 24 x 24 px for
#: whatever is not an inline link in text) and Deque's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
DESKTOP = (1280, 900)
PHONE = (390, 844)
#: A page that answers 404 (error pages are pages too).
ERROR_PAGE = "/id/city/no-such-city"
#: Pages that are not resources: the site's own pages and documents, and an error page.
SITE_PAGES = (
    "/",
    "/search?q=crack",
    "/search?q=zzzzqqq",
    "/sparql",
    "/queries/",
    "/compare",
    "/downloads/",
    "/catalog",
    "/dataset",
    "/ontology",
    "/shapes",
    ERROR_PAGE,
)


def one_of_each_kind(client: httpx.Client) -> list[str]:
    """A page of every kind of resource: the one of each kind with the most links to it (the
    fullest page), by asking the release."""
    paths = []
    for kind in kinds.KINDS:
        classes = " ".join(
            f"<{c}>" if "://" in c else f"<{CANONICAL_BASE}ontology#{c}>" for c in kind.classes
        )
        query = f"""SELECT ?s (COUNT(?in) AS ?n) WHERE {{
            VALUES ?class {{ {classes} }} ?s a ?class . OPTIONAL {{ ?in ?p ?s }}
            FILTER(STRSTARTS(STR(?s), "{CANONICAL_BASE}id/"))
        }} GROUP BY ?s ORDER BY DESC(?n) ?s LIMIT 1"""
        response = client.get(
            "/sparql",
            params={"query": query},
            headers={"Accept": "application/sparql-results+json"},
        )
        response.raise_for_status()
        rows = response.json()["results"]["bindings"]
        assert rows, f"the shipped data has no {kind.name}: its page kind is not checked"
        paths.append("/" + rows[0]["s"]["value"].removeprefix(CANONICAL_BASE))
    return paths


def run_axe(browser: Browser) -> list[str]:
    """axe's violations on the current page, one line each: rule, impact, where."""
    driver = browser.driver
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: "
        "['violations']}).then(function (r) { done({violations: r.violations}); },"
        " function (e) { done({error: String(e)}); });",
        TAGS,
    )
    assert "error" not in result, result.get("error")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        for v in result["violations"]
    ]


def overflow(browser: Browser) -> list[str]:
    """Elements that stick out of the window sideways (the page scrolls horizontally)."""
    found: list[str] = browser.driver.execute_script(
        "var w = document.documentElement.clientWidth;"
        "if (document.documentElement.scrollWidth <= w) { return []; }"
        "var out = [];"
        "document.querySelectorAll('body *').forEach(function (e) {"
        "  var r = e.getBoundingClientRect();"
        "  if (r.right > w + 1 && out.length < 5) {"
        "    out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +"
        "      (e.className && e.className.baseVal === undefined ? '.' + e.className : '') +"
        "      ' (' + Math.round(r.right) + ' px)'); } });"
        "return out.length ? out : ['the page is ' + document.documentElement.scrollWidth +"
        "  ' px wide'];"
    )
    return found


#: Things a finger taps, and the least side of their target (WCAG 2.2's 24 CSS px). Exempt, as
#: WCAG 2.2 exempts them: links inside a line of text (their size is the text's), and a link with
#: an equivalent of full size on the page (a map's city that the list of cities links as well).
TAPPABLE = "a[href], button, input:not([type=hidden]), select, summary, [tabindex='0']"
TARGET = 24


def small_targets(browser: Browser) -> list[str]:
    """Tappable elements on screen smaller than TARGET in width or height, but links in text."""
    found: list[str] = browser.driver.execute_script(
        "var out = [], least = arguments[1], full = {};"
        "function big(r) { return r.width >= least && r.height >= least; }"
        "var all = Array.from(document.querySelectorAll(arguments[0]));"
        "all.forEach(function (e) { var h = e.getAttribute('href');"
        "  if (h && big(e.getBoundingClientRect())) { full[h] = true; } });"
        "all.forEach(function (e) {"
        "  var r = e.getBoundingClientRect();"
        "  if (r.width === 0 || r.height === 0 || r.right <= 0 || r.bottom <= 0) { return; }"
        "  if (big(r) || full[e.getAttribute('href')]) { return; }"
        "  var block = e.parentElement;"
        "  while (block && getComputedStyle(block).display.indexOf('inline') === 0) {"
        "    block = block.parentElement; }"
        "  var inText = getComputedStyle(e).display === 'inline' && block &&"
        "    block.textContent.trim().length > e.textContent.trim().length;"
        "  if (inText) { return; }"
        "  out.push(e.tagName.toLowerCase() + ' ' + JSON.stringify(e.textContent.trim().slice(0,"
        "    30)) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));"
        "});"
        "return out;",
        TAPPABLE,
        TARGET,
    )
    return found


@pytest.fixture(scope="module")
def pages(client: httpx.Client) -> list[str]:
    current = client.get("/downloads/", params={"format": "json"}).json()["current"]
    return [*SITE_PAGES, f"/downloads/{current}/changes", *one_of_each_kind(client)]


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_page_kind_passes_axe(
    browser: Browser, pages: list[str], lang: str, size: tuple[int, int]
) -> None:
    problems: dict[str, list[str]] = {}
    browser.driver.set_window_size(*size)
    try:
        for path in pages:
            target = path + ("&" if "?" in path else "?") + f"lang={lang}"
            name = urlsplit(path).path.strip("/").replace("/", "-") or "home"
            failing = path if path == ERROR_PAGE else ""
            found: list[str] = []
            try:
                with browser.step(f"{name}-{lang}", failing=failing):
                    browser.driver.get(browser.base + target)
                    browser.wait_for_page(urlsplit(path).path)
                    assert browser.html_lang() == lang, f"<html lang> is not {lang}"
                    found = run_axe(browser)
                    if size == PHONE:
                        found += [f"overflow: {e}" for e in overflow(browser)]
                        found += [f"tap target: {e}" for e in small_targets(browser)]
            except AssertionError as error:  # the step's own checks: report every page at once
                found.append(str(error).splitlines()[0])
            if found:
                problems[target] = found
    finally:
        browser.driver.set_window_size(*DESKTOP)
    assert not problems, "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in problems.items())
