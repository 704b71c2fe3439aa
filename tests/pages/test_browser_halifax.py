"""The user test of issue 11, as a frontline worker in Halifax would walk it in a real Chromium:
"what do other cities do about safer crack kits?" From the home page, in three clicks or fewer,
in English and in French: Halifax on the map, then its page says Halifax's own Mainline hands out
kits and lists the other cities' programs with what they learned, then the practice's page and
one of those lessons. Screenshots of every step go to tests/artifacts/browser/<test>/."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from browsing import Browser, label
from hrgraph.config import CANONICAL_BASE

pytestmark = pytest.mark.browser

HALIFAX = "/id/city/halifax"
KITS = "/id/practice/safer-crack-kits"
CLICKS = 3


def programs_by_city(client: httpx.Client) -> dict[str, set[str]]:
    """City path → paths of its programs that use safer crack kits (or a narrower practice)."""
    query = f"""PREFIX hr: <{CANONICAL_BASE}ontology#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT DISTINCT ?city ?program WHERE {{
          ?practice (skos:broader|^skos:narrower)* <{CANONICAL_BASE}{KITS[1:]}> .
          ?program a hr:Program ; hr:usesPractice ?practice ; hr:city ?city }}"""
    response = client.get(
        "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    response.raise_for_status()
    found: dict[str, set[str]] = {}
    for row in response.json()["results"]["bindings"]:
        city, program = (row[k]["value"].removeprefix(CANONICAL_BASE) for k in ("city", "program"))
        found.setdefault("/" + city, set()).add("/" + program)
    return found


def section_links(browser: Browser, practice: str) -> list[str]:
    """The paths linked under the "learn from other cities" heading of `practice`."""
    links: list[str] = browser.driver.execute_script(
        "var practice = arguments[0];"
        "var h = Array.from(document.querySelectorAll('main h3')).find(function (x) {"
        "  return x.querySelector('a[href^=\"' + practice + '\"]'); });"
        "if (!h) { return []; }"
        "var out = [], e = h.nextElementSibling;"
        "while (e && !/^H[23]$/.test(e.tagName)) {"
        "  e.querySelectorAll('a[href]').forEach(function (a) {"
        "    out.push(a.getAttribute('href')); });"
        "  e = e.nextElementSibling; }"
        "return out;",
        practice,
    )
    return [urlsplit(link).path for link in links]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_what_other_cities_do_about_safer_crack_kits(
    browser: Browser, client: httpx.Client, lang: str
) -> None:
    from selenium.webdriver.common.by import By

    expected = programs_by_city(client)
    elsewhere = {city: programs for city, programs in expected.items() if city != HALIFAX}
    assert HALIFAX in expected and elsewhere, "the data no longer holds the user test's case"
    clicks = 0

    with browser.step(f"home-{lang}"):
        browser.open(f"/?lang={lang}")
        marker = browser.driver.find_element(
            By.CSS_SELECTOR, f'figure.map svg a.city[href^="{HALIFAX}"]'
        )

    with browser.step(f"halifax-{lang}"):
        browser.click(marker.find_element(By.CSS_SELECTOR, "circle"))
        clicks += 1
        browser.wait_for_page(HALIFAX)
        assert browser.h1() == label(client, CANONICAL_BASE + HALIFAX[1:], lang)
        main = browser.driver.find_element(By.TAG_NAME, "main")
        # Halifax's own programs that hand out kits are on its page, with the practice linked
        for program in expected[HALIFAX]:
            assert main.find_elements(By.CSS_SELECTOR, f'a[href^="{program}?"]'), program
        linked = section_links(browser, KITS)
        for city, programs in elsewhere.items():
            assert city in linked, f"{city} is not under safer crack kits on Halifax's page"
            assert programs <= set(linked), f"{programs - set(linked)} missing"
        lessons = [path for path in linked if path.startswith("/id/lesson/")]
        assert lessons, "no lesson of another city under safer crack kits"

    with browser.step(f"practice-{lang}"):
        browser.follow(f'h3 a[href^="{KITS}"]', KITS)
        clicks += 1
        for programs in elsewhere.values():
            for program in programs:
                assert browser.driver.find_elements(
                    By.CSS_SELECTOR, f'main a[href^="{program}?"]'
                ), f"{program} is not on the practice page"

    with browser.step(f"lesson-{lang}"):
        lesson = browser.follow('a[href^="/id/lesson/"]', "/id/lesson/")
        clicks += 1
        assert browser.h1() == label(client, CANONICAL_BASE + lesson[1:], lang)
        assert browser.html_lang() == lang

    assert clicks <= CLICKS
