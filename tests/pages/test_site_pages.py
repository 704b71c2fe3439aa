"""The site's own pages (not the resources' pages, which test_pages.py crawls): home, search,
the workbench, canned queries, the comparison, downloads, release notes, the documents (/dataset,
/catalog, /ontology, /shapes) and an error page, in both languages: labelled, headed in order,
in their language (no interface string of the other language, French spacing), and with text in
another language marked as such."""

from __future__ import annotations

import httpx
import pytest
from bs4 import BeautifulSoup
from test_pages import BROWSER, french_typography, problems, visible_text

from hrgraph.pages import i18n

PAGES = (
    "/",
    "/search?q=crack",
    "/sparql",
    "/queries/",
    "/compare",
    "/downloads/",
    "/dataset",
    "/catalog",
    "/ontology",
    "/shapes",
)
#: Interface strings at least this long are distinctive enough to find in a page's text.
DISTINCT = 12


def site_pages(client: httpx.Client) -> list[str]:
    current = client.get("/downloads/", params={"format": "json"}).json()["current"]
    queries = client.get("/queries/", params={"format": "json"}).json()["queries"]
    assert queries, "the catalogue of canned queries is empty"
    return [*PAGES, f"/downloads/{current}/changes", *(str(q["url"]) for q in queries)]


def other_language_strings(lang: str) -> list[str]:
    """The other language's interface strings that differ from this language's, as shown."""
    other = i18n.other(lang)
    found = []
    for texts in i18n.STRINGS.values():
        mine, theirs = texts.get(lang, ""), texts.get(other, "")
        plain = BeautifulSoup(theirs, "html.parser").get_text()
        if mine and theirs and mine != theirs and len(plain) >= DISTINCT and "{" not in plain:
            found.append(plain)
    return found


def page_problems(client: httpx.Client, path: str, lang: str) -> list[str]:
    response = client.get(
        path + ("&" if "?" in path else "?") + f"lang={lang}", headers={"Accept": BROWSER}
    )
    if response.status_code != 200:
        return [f"{response.status_code}"]
    page = BeautifulSoup(response.text, "html.parser")
    found = problems(page)
    if page.html is None or page.html.get("lang") != lang:
        found.append(f"<html lang> is not {lang}")
    if response.headers.get("content-language") != lang:
        found.append(f"Content-Language {response.headers.get('content-language')}")
    if lang == "fr":
        found += french_typography(page)
    copy = BeautifulSoup(response.text, "html.parser")
    for marked in copy.find_all(attrs={"lang": i18n.other(lang)}):
        marked.decompose()
    text = " ".join(visible_text(copy).split())
    found += [f"interface text of the other language: {s!r}"
              for s in other_language_strings(lang) if s in text]  # fmt: skip
    return found


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_site_pages_speak_their_language(client: httpx.Client, lang: str) -> None:
    failures = {
        path: found for path in site_pages(client) if (found := page_problems(client, path, lang))
    }
    assert failures == {}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_an_error_page_speaks_its_language(client: httpx.Client, lang: str) -> None:
    response = client.get(f"/id/city/no-such-city?lang={lang}", headers={"Accept": BROWSER})
    assert response.status_code == 404
    page = BeautifulSoup(response.text, "html.parser")
    assert page.html is not None and page.html.get("lang") == lang
    assert problems(page) == []
    text = " ".join(visible_text(page).split())
    assert [s for s in other_language_strings(lang) if s in text] == []


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_a_near_miss_suggests_resources_by_name(client: httpx.Client, lang: str) -> None:
    from browsing import label
    from hrgraph.config import CANONICAL_BASE

    response = client.get(f"/id/city/halifx?lang={lang}", headers={"Accept": BROWSER})
    assert response.status_code == 404
    links = BeautifulSoup(response.text, "html.parser").select("main ul a[href^='/id/']")
    assert links, "no suggestion for a one-letter typo"
    for link in links:
        path = str(link["href"]).split("?")[0]
        assert link["href"] == f"{path}?lang={lang}"
        assert link.get_text() == label(client, CANONICAL_BASE + path[1:], lang), path
