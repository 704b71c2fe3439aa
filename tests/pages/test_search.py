"""The search page over the release's search index (search.sqlite): several words across fields,
facets with counts that are links, typo and accent tolerance, results with their city and
summary, plurals, both languages. Expectations are read from the release's SPARQL endpoint."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from bs4 import BeautifulSoup, Tag
from test_pages import BROWSER, french_typography, problems, soup_of

from hrgraph.build import search_index
from hrgraph.config import CANONICAL_BASE
from hrgraph.engine.publisher import Release
from hrgraph.errors import ReleaseError
from hrgraph.pages import i18n, search

BASE = CANONICAL_BASE
JSON = "application/sparql-results+json"


def page_of(client: httpx.Client, status: int = 200, /, **params: str) -> BeautifulSoup:
    response = client.get("/search", params=params, headers={"Accept": BROWSER})
    assert response.status_code == status, (params, response.text[:300])
    page = soup_of(response)
    assert problems(page) == []
    if params.get("lang") == "fr":
        assert french_typography(page) == []
    return page


def results(client: httpx.Client, query: str, lang: str = "en", **filters: str) -> list[str]:
    page = page_of(client, q=query, lang=lang, **filters)
    return hrefs(page)


def hrefs(page: BeautifulSoup) -> list[str]:
    return [str(a["href"]) for a in page.select("main ul.items p.item-head a")]


def paths(page: BeautifulSoup) -> set[str]:
    return {urlsplit(href).path for href in hrefs(page)}


def message(page: BeautifulSoup) -> str:
    found = page.find(class_="message")
    assert isinstance(found, Tag)
    return found.get_text(" ", strip=True)


def select(client: httpx.Client, query: str) -> list[dict[str, Any]]:
    response = client.get("/sparql", params={"query": query}, headers={"Accept": JSON})
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["results"]["bindings"]
    return rows


def local(iri: str) -> str:
    return "/" + iri.removeprefix(BASE)


# --- what was in test_pages.py --------------------------------------------------------------


def test_search(client: httpx.Client) -> None:
    assert any(h.startswith("/id/city/whitehorse") for h in results(client, "Whitehorse"))
    assert any(h.startswith("/id/city/whitehorse") for h in results(client, "WHITEHORSE", "fr"))
    accented = results(client, "réduction des méfaits", "fr")
    assert accented and accented == results(client, "reduction des mefaits", "fr")
    assert results(client, "zzzqqq") == []


def test_search_is_grouped_by_kind(client: httpx.Client) -> None:
    page = page_of(client, q="needle")
    headings = [h.get("id") for h in page.select("main section h2")]
    assert "h-program" in headings and "h-organization" in headings


@pytest.mark.parametrize("query", ["", "   ", "x" * 500, "<script>", "%", "\u0000"])
def test_odd_searches_get_a_message(client: httpx.Client, query: str) -> None:
    response = client.get("/search", params={"q": query}, headers={"Accept": BROWSER})
    assert response.status_code in (200, 400)
    message = soup_of(response).find(class_="message")
    assert message is not None and message.get_text(strip=True)
    assert "<script>" not in response.text.replace("&lt;script&gt;", "")


# --- several words, across fields -----------------------------------------------------------


def test_crack_halifax_finds_halifaxs_safer_crack_kit_programs(client: httpx.Client) -> None:
    """The words are in different fields: "crack" in the practice, "Halifax" in the city."""
    rows = select(
        client,
        "SELECT ?p WHERE { ?p a hr:Program ; hr:city city:halifax ; "
        "hr:usesPractice practice:safer-crack-kits }",
    )
    expected = {local(row["p"]["value"]) for row in rows}
    assert expected
    for lang in i18n.LANGUAGES:
        assert expected <= paths(page_of(client, q="crack halifax", lang=lang))


def test_seringues_quebec_finds_quebec_city_about_syringes(client: httpx.Client) -> None:
    """What is in Québec City and speaks of syringes, in its own texts or its practices'."""
    rows = select(
        client,
        "SELECT DISTINCT ?s WHERE { ?s hr:city city:quebec "
        "{ ?s rdfs:label|dct:description|hr:service ?text } "
        "UNION { ?s hr:usesPractice/(rdfs:label|skos:prefLabel) ?text } "
        'FILTER(LANG(?text) = "fr" && CONTAINS(LCASE(?text), "seringue")) }',
    )
    expected = {local(row["s"]["value"]) for row in rows}
    assert expected
    found = paths(page_of(client, q="seringues quebec", lang="fr"))
    assert expected <= found


def test_st_johns_finds_st_johns(client: httpx.Client) -> None:
    """Apostrophes and full stops do not defeat a search ("St Johns", "st. john's")."""
    for query in ("St Johns", "st johns", "St. John's", "ST JOHN'S"):
        assert "/id/city/st-johns" in paths(page_of(client, q=query)), query


# --- typos: did you mean --------------------------------------------------------------------


@pytest.mark.parametrize(("typo", "meant"), [("crak", "crack"), ("metadone", "methadone")])
@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_a_typo_gets_did_you_mean_and_its_results(
    client: httpx.Client, typo: str, meant: str, lang: str
) -> None:
    page = page_of(client, q=typo, lang=lang)
    strings = i18n.strings(lang)
    assert strings["search_none"].format(q=typo) in message(page)
    link = page.select_one("p.suggestion a")
    assert link is not None and link.get_text() == meant
    query = parse_qs(urlsplit(str(link["href"])).query)
    assert query["q"] == [meant] and query["lang"] == [lang]
    # the results shown are the suggestion's, and the link leads to them
    assert hrefs(page) and hrefs(page) == results(client, meant, lang)


def test_a_known_word_gets_no_suggestion(client: httpx.Client) -> None:
    page = page_of(client, q="crack")
    assert page.select_one("p.suggestion") is None and hrefs(page)


# --- filters and facets -----------------------------------------------------------------------


def test_city_filter_filters(client: httpx.Client) -> None:
    rows = select(client, "SELECT ?p WHERE { ?p a hr:Program ; hr:city city:halifax }")
    halifax = {local(row["p"]["value"]) for row in rows}
    assert halifax
    assert paths(page_of(client, kind="program", city="halifax")) == halifax
    everywhere = paths(page_of(client, q="needle"))
    filtered = paths(page_of(client, q="needle", city="halifax"))
    assert filtered and filtered < everywhere
    programs = {p for p in filtered if p.startswith("/id/program/")}
    assert programs and programs <= halifax


def facet_links(page: BeautifulSoup) -> list[tuple[str, int]]:
    return [(str(a["href"]), int(str(a["data-count"]))) for a in page.select("nav.search-facets a")]


@pytest.mark.parametrize(
    "params",
    [{"q": "needle"}, {"q": "crack halifax", "lang": "fr"}, {"kind": "program"}, {"q": "crak"}],
)
def test_facet_counts_equal_the_results_they_lead_to(
    client: httpx.Client, params: dict[str, str]
) -> None:
    page = page_of(client, **params)
    links = facet_links(page)
    assert len(links) > 2
    for href, count in links:
        target = soup_of(client.get(href, headers={"Accept": BROWSER}))
        assert len(hrefs(target)) == count, href
        link = page.select_one(f'a[href="{href}"]')
        assert link is not None
        shown = re.search(r"\((\d+)\)", link.get_text())
        assert shown is not None and int(shown.group(1)) == count


def test_an_active_filter_can_be_removed(client: httpx.Client) -> None:
    page = page_of(client, q="needle", city="halifax", lang="fr")
    remove = page.select("ul.search-active a.remove")
    assert len(remove) == 1
    back = parse_qs(urlsplit(str(remove[0]["href"])).query)
    assert back == {"q": ["needle"], "lang": ["fr"]}
    # the form keeps the filter when the words change
    hidden = page.select_one('form.search input[type="hidden"][name="city"]')
    assert hidden is not None and hidden["value"] == "halifax"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_an_active_filter_is_named_by_its_label_even_with_no_result(
    client: httpx.Client, lang: str
) -> None:
    rows = select(
        client, f'SELECT ?l WHERE {{ city:quebec rdfs:label ?l FILTER(LANG(?l) = "{lang}") }}'
    )
    page = page_of(client, q="zzzqqq", city="quebec", lang=lang)
    active = page.select_one("ul.search-active li")
    assert active is not None and rows
    assert rows[0]["l"]["value"] in active.get_text()
    assert i18n.strings(lang)["search_none"].format(q="zzzqqq") == message(page)


@pytest.mark.parametrize(
    "params", [{"city": "atlantis"}, {"kind": "nothing"}, {"practice": "x", "q": "crack"}]
)
@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_an_unknown_filter_is_a_400_that_says_so(
    client: httpx.Client, params: dict[str, str], lang: str
) -> None:
    page = page_of(client, 400, lang=lang, **params)
    value = next(v for k, v in params.items() if k != "q")
    assert value in message(page)
    assert i18n.strings(lang)["search_unknown_filter"].split("{")[0].strip() in message(page)
    assert page.find("form", class_="search") is not None


# --- results: city, summary, plurals ----------------------------------------------------------


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_program_hits_show_their_city_and_first_sentence(client: httpx.Client, lang: str) -> None:
    page = page_of(client, kind="program", city="halifax", lang=lang)
    items = page.select("#h-program ~ ul.items > li")
    assert items
    for item in items:
        head = item.select_one("p.item-head a")
        assert head is not None
        path = urlsplit(str(head["href"])).path
        city = item.select_one("p.item-city a")
        assert city is not None and urlsplit(str(city["href"])).path == "/id/city/halifax"
        rows = select(
            client,
            f"SELECT ?d WHERE {{ <{BASE}{path[1:]}> dct:description ?d "
            f'FILTER(LANG(?d) = "{lang}") }}',
        )
        summary = item.select_one("p.item-text")
        assert summary is not None and rows
        text = summary.get_text()
        description = rows[0]["d"]["value"]
        assert description.startswith(text) and text.endswith((".", "!", "?"))
        assert len(text) <= len(description)


def single_result_word(release: Path) -> str:
    """A word of the index in one resource only, and the start of no other word."""
    database = sqlite3.connect(f"file:{release / search.FILE}?mode=ro&immutable=1", uri=True)
    try:
        terms = [t for (t, d) in database.execute("SELECT term, doc FROM term") if len(t) > 6]
        once = {t for (t, d) in database.execute("SELECT term, doc FROM term") if d == 1}
    finally:
        database.close()
    return str(
        next(t for t in sorted(once) if t.isalpha() and sum(x.startswith(t) for x in terms) == 1)
    )


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_counts_use_correct_plurals(client: httpx.Client, shipped_release: Path, lang: str) -> None:
    strings = i18n.strings(lang)
    word = single_result_word(shipped_release)
    one = page_of(client, q=word, lang=lang)
    assert len(hrefs(one)) == 1
    assert message(one) == strings["search_count_one"].format(q=word)
    many = page_of(client, q="needle", lang=lang)
    n = len(hrefs(many))
    assert n > 1 and message(many) == strings["search_count_other"].format(n=n, q="needle")
    listing = page_of(client, kind="program", lang=lang)
    programs = len(select(client, "SELECT ?p WHERE { ?p a hr:Program }"))
    assert message(listing) == strings["search_all_other"].format(n=programs)


# --- the empty page, languages, the index ------------------------------------------------------


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_an_empty_result_is_not_a_dead_end(client: httpx.Client, lang: str) -> None:
    page = page_of(client, q="zzzqqq", lang=lang)
    assert hrefs(page) == []
    links = [str(a["href"]) for a in page.select("section.search-next a")]
    assert f"/sparql?lang={lang}" in links
    browse = [h for h in links if h.startswith("/search?")]
    assert browse
    for href in browse:
        target = soup_of(client.get(href, headers={"Accept": BROWSER}))
        assert hrefs(target), href


def test_the_french_page_is_in_french(client: httpx.Client) -> None:
    page = page_of(client, q="crack halifax", lang="fr")
    main = page.select_one("main")
    assert main is not None
    text = main.get_text(" ")
    for word in ("Refine", "results", "Programs", "City", "Remove", "Did you mean"):
        assert word not in text, word
    headings = {h.get_text(" ", strip=True) for h in page.select("main h2, main h3")}
    assert i18n.strings("fr")["search_refine"] in headings
    assert any(h.startswith("Programmes") for h in headings)


def test_the_page_and_the_builder_name_the_same_file() -> None:
    assert search.FILE == search_index.FILE
    assert search.FACETS[1:] == search_index.FACETS


def test_a_release_without_index_is_a_clear_error(tmp_path: Path) -> None:
    release = Release(tmp_path, {"version": "old"}, engine=None, settings=None)  # type: ignore[arg-type]
    expected = r"release old has no search index \(search.sqlite\)"
    with pytest.raises(ReleaseError, match=expected), search.connect(release):
        pass
