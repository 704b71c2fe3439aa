"""The comparison view (/compare, issue 11 item 2) against the session's release of the shipped
data: every program with a city and a practice sits in its city's column and in the row of its
practice's top-level practice (both worked out here from the SPARQL endpoint, the roll-up by
this test's own walk up skos:broader); filters narrow the rows and columns; /compare.csv is the
same table cell by cell; French on ?lang=fr; unknown filter values are a 400 with a message in
the page's language; and the page passes the checks every page passes (tests/pages/test_pages)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from bs4 import BeautifulSoup, Tag
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pages import BROWSER, french_typography, problems, soup_of

from hrgraph.config import CANONICAL_BASE
from hrgraph.pages import i18n

BASE = CANONICAL_BASE
PREFIXES = """PREFIX hr: <https://w3id.org/hrgraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX geo: <http://www.w3.org/2003/01/geo/wgs84_pos#>
"""


def sparql(client: httpx.Client, query: str) -> list[dict[str, str]]:
    response = client.get(
        "/sparql",
        params={"query": PREFIXES + query},
        headers={"Accept": "application/sparql-results+json"},
    )
    response.raise_for_status()
    rows = response.json()["results"]["bindings"]
    return [{name: term["value"] for name, term in row.items()} for row in rows]


def path_of(iri: str) -> str:
    return "/" + iri[len(BASE) :]


@dataclass(frozen=True)
class Expected:
    """What the endpoint says the full table must hold."""

    cells: dict[tuple[str, str], set[str]]  # (top practice path, city path) → program paths
    tops: set[str]  # paths of the practices with no broader one
    longitude: dict[str, float]  # city path → geo:long


@pytest.fixture(scope="module")
def expected(client: httpx.Client) -> Expected:
    uses = sparql(
        client,
        """SELECT ?program ?city ?practice WHERE {
             ?program a hr:Program ; hr:city ?city ; hr:usesPractice ?practice }""",
    )
    edges = sparql(
        client,
        """SELECT ?narrow ?broad WHERE {
             { ?narrow skos:broader ?broad } UNION { ?broad skos:narrower ?narrow } }""",
    )
    broader: dict[str, set[str]] = {}
    for edge in edges:
        broader.setdefault(edge["narrow"], set()).add(edge["broad"])

    def tops_of(practice: str) -> set[str]:
        above = broader.get(practice, set())
        return {practice} if not above else {t for b in above for t in tops_of(b)}

    cells: dict[tuple[str, str], set[str]] = {}
    for row in uses:
        for top in tops_of(row["practice"]):
            key = (path_of(top), path_of(row["city"]))
            cells.setdefault(key, set()).add(path_of(row["program"]))
    cities = sparql(client, "SELECT ?city ?long WHERE { ?city a hr:City ; geo:long ?long }")
    practices = sparql(client, "SELECT ?p WHERE { ?p a hr:Practice }")
    assert len(uses) > 20 and edges and len(cities) == 9  # the shipped data, not an empty store
    return Expected(
        cells,
        {path_of(row["p"]) for row in practices if row["p"] not in broader},
        {path_of(row["city"]): float(row["long"]) for row in cities},
    )


# --- reading the table back -----------------------------------------------------------------


@dataclass
class Parsed:
    header: list[str]  # the texts of the column headers
    cities: list[str]  # the paths the city headers link to
    practices: list[str]  # the paths the row headers link to, in order
    labels: list[str]  # the row headers' practice labels
    counts: list[int]
    cells: list[list[list[str]]]  # per row, per city: the programs' texts (badge included)
    links: list[list[set[str]]]  # per row, per city: the programs' paths


def link_path(link: Tag) -> str:
    return urlsplit(str(link["href"])).path


def program_text(item: Tag) -> str:
    """A program as the CSV writes it: its label, and "(Uncertain)" where the page marks it."""
    badge = item.find(class_="badge")
    text = item.a.get_text()
    return f"{text} ({badge.get_text(strip=True)})" if badge else text


def parse(page: BeautifulSoup) -> Parsed:
    table = page.find("table", class_="compare")
    assert table is not None, "no comparison table"
    heads = table.thead.find_all("th")
    parsed = Parsed([th.get_text(strip=True) for th in heads],
                    [link_path(th.a) for th in heads[2:]], [], [], [], [], [])  # fmt: skip
    for tr in table.tbody.find_all("tr"):
        head, count, *cells = tr.find_all(["th", "td"])
        parsed.practices.append(link_path(head.a))
        parsed.labels.append(head.a.get_text())
        parsed.counts.append(int(count.get_text(strip=True)))
        parsed.cells.append([[program_text(li) for li in cell.find_all("li")] for cell in cells])
        parsed.links.append([{link_path(a) for a in cell.find_all("a")} for cell in cells])
    return parsed


def page_of(client: httpx.Client, query: str = "lang=en") -> BeautifulSoup:
    response = client.get(f"/compare?{query}", headers={"Accept": BROWSER})
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    return soup_of(response)


# --- the table ------------------------------------------------------------------------------


def test_every_program_is_in_its_city_and_practice_cell(
    client: httpx.Client, expected: Expected
) -> None:
    table = parse(page_of(client))
    found = {
        (practice, city): links
        for practice, row in zip(table.practices, table.links, strict=True)
        for city, links in zip(table.cities, row, strict=True)
        if links
    }
    assert found == expected.cells
    assert len({p for programs in found.values() for p in programs}) >= 20


def test_rows_are_top_level_practices_and_counted(client: httpx.Client, expected: Expected) -> None:
    table = parse(page_of(client))
    assert set(table.practices) <= expected.tops
    assert {practice for practice, _ in expected.cells} <= set(table.practices)
    assert table.counts == [sum(1 for cell in row if cell) for row in table.links]
    assert table.counts == sorted(table.counts, reverse=True)  # common first, rare last
    assert table.counts[0] > table.counts[-1]


def test_cities_run_west_to_east(client: httpx.Client, expected: Expected) -> None:
    table = parse(page_of(client))
    assert set(table.cities) == set(expected.longitude)
    assert table.cities == sorted(table.cities, key=expected.longitude.__getitem__)


def test_the_page_is_accessible_and_says_what_its_rows_are(client: httpx.Client) -> None:
    page = page_of(client)
    assert problems(page) == []
    region = page.find(attrs={"role": "region"})
    assert region is not None and region.get("tabindex") == "0"
    caption = page.find("caption")
    assert caption is not None and region["aria-labelledby"] == caption["id"]
    assert caption.find_parent("div") is region
    table = page.find("table", class_="compare")
    assert all(th.get("scope") == "col" for th in table.thead.find_all("th"))
    assert all(tr.th.get("scope") == "row" for tr in table.tbody.find_all("tr"))
    empty = [td for td in table.tbody.find_all("td") if td.find(class_="compare-none")]
    assert empty, "the shipped data has empty cells"
    for td in empty:
        assert td.find(attrs={"aria-hidden": "true"}).get_text() == "—"
        assert td.find(class_="compare-none").get_text() == i18n.strings("en")["compare_none"]
    text = page.get_text(" ")
    assert i18n.strings("en")["compare_rows"] in text  # top-level rows, said on the page
    assert page.find("a", href=lambda h: bool(h) and h.startswith("/id/scheme/"))


def test_the_site_header_links_the_comparison(client: httpx.Client) -> None:
    for lang in i18n.LANGUAGES:
        home = soup_of(client.get(f"/?lang={lang}", headers={"Accept": BROWSER}))
        link = home.select_one(f'header.site nav a[href="/compare?lang={lang}"]')
        assert link is not None and link.get_text() == i18n.strings(lang)["compare_nav"]


def test_the_page_is_cached_per_release_and_language(client: httpx.Client) -> None:
    first = client.get("/compare?lang=fr", headers={"Accept": BROWSER})
    again = client.get(
        "/compare?lang=fr", headers={"Accept": BROWSER, "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    english = client.get("/compare?lang=en", headers={"Accept": BROWSER})
    assert english.headers["etag"] != first.headers["etag"]


# --- filters --------------------------------------------------------------------------------


def test_filters_narrow_rows_and_columns(client: httpx.Client) -> None:
    full = parse(page_of(client))
    query = "city=halifax&city=ottawa&practice=safer-crack-kits&practice=outreach&lang=en"
    page = page_of(client, query)
    assert problems(page) == []
    narrow = parse(page)
    assert narrow.cities == [c for c in full.cities if c in ("/id/city/ottawa", "/id/city/halifax")]
    assert set(narrow.practices) == {"/id/practice/safer-crack-kits", "/id/practice/outreach"}
    for practice, row in zip(narrow.practices, narrow.links, strict=True):
        whole = full.links[full.practices.index(practice)]
        assert row == [whole[full.cities.index(city)] for city in narrow.cities]
    assert any(cell for row in narrow.links for cell in row)
    checked = {(box["name"], box["value"]) for box in page.find_all("input", checked=True)}
    assert checked == {("city", "halifax"), ("city", "ottawa"),
                       ("practice", "safer-crack-kits"), ("practice", "outreach")}  # fmt: skip
    assert page.find("details", class_="compare-filters").has_attr("open")


def test_filters_keep_the_language(client: httpx.Client) -> None:
    page = page_of(client, "city=halifax&lang=fr")
    form = page.find("form", action="/compare")
    assert form.find("input", type="hidden", attrs={"name": "lang"})["value"] == "fr"
    switch = page.find("a", hreflang="en")
    assert dict(parse_qsl(urlsplit(str(switch["href"])).query)) == {"city": "halifax", "lang": "en"}
    csv_link = page.find("a", href=lambda h: bool(h) and h.startswith("/compare.csv"))
    assert parse_qsl(urlsplit(str(csv_link["href"])).query) == [("city", "halifax"), ("lang", "fr")]


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
@pytest.mark.parametrize(
    ("query", "kind", "shown"),
    [
        ("city=nowhere", "city", "nowhere"),
        ("city=halifax&practice=juggling", "practice", "juggling"),
        ("practice=" + "x" * 500, "practice", "x" * 60),
        ("city=", "city", ""),
    ],
)
def test_an_unknown_filter_is_a_400_in_the_pages_language(
    client: httpx.Client, lang: str, query: str, kind: str, shown: str
) -> None:
    response = client.get(f"/compare?{query}&lang={lang}", headers={"Accept": BROWSER})
    assert response.status_code == 400
    page = soup_of(response)
    assert page.html["lang"] == lang
    message = page.find(class_="message", attrs={"role": "alert"})
    expected = i18n.strings(lang)[f"compare_unknown_{kind}"].format(
        value=shown + ("…" if len(shown) == 60 else "")
    )
    assert message is not None and message.get_text() == expected
    assert page.find("table") is None and page.find("form", action="/compare") is not None
    assert problems(page) == []
    plain = client.get(f"/compare.csv?{query}&lang={lang}")  # not a browser: one line of text
    assert plain.status_code == 400
    assert plain.text == f"400 bad-request: {expected}\n"


def test_a_malformed_query_string_is_a_400(client: httpx.Client) -> None:
    assert client.get("/compare?city=%zz").status_code == 400
    assert client.get("/compare.csv?city=%ff").status_code == 400


@settings(max_examples=60, deadline=None)
@given(
    path=st.sampled_from(["/compare", "/compare.csv"]),
    raw=st.text(
        st.sampled_from("citypraes=&%fFzZ09+;-")
        | st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        max_size=60,
    ),
    accept=st.sampled_from(["*/*", BROWSER, "application/json", "text/csv"]),
)
def test_no_query_string_gives_a_500(
    client: httpx.Client, path: str, raw: str, accept: str
) -> None:
    """Whatever the query string (bad escapes, stray '&' and '=', odd values), a 200 or a 400."""
    url = httpx.URL(str(client.base_url)).copy_with(
        raw_path=path.encode() + b"?" + raw.encode().translate(None, b"# ")
    )
    response = client.get(url, headers={"Accept": accept})
    assert response.status_code in (200, 400), (raw, response.text[:200])


# --- the CSV --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
@pytest.mark.parametrize("filters", ["", "city=halifax&city=whitehorse&practice=safer-crack-kits&"])
def test_the_csv_is_the_table_cell_by_cell(client: httpx.Client, lang: str, filters: str) -> None:
    page = page_of(client, f"{filters}lang={lang}")
    link = page.find("a", href=lambda h: bool(h) and h.startswith("/compare.csv?"))
    assert link is not None
    response = client.get(str(link["href"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    table = parse(page)
    assert rows[0] == table.header
    assert rows[0][:2] == [i18n.strings(lang)["compare_practice"],
                           i18n.strings(lang)["compare_count"]]  # fmt: skip
    assert len(rows) - 1 == len(table.practices) > 0
    for line, label, count, cells in zip(
        rows[1:], table.labels, table.counts, table.cells, strict=True
    ):
        assert line == [label, str(count), *("; ".join(cell) for cell in cells)]
    assert any("; " in cell for line in rows[1:] for cell in line[2:]) or filters


# --- French ---------------------------------------------------------------------------------


def test_french_labels_on_lang_fr(client: httpx.Client) -> None:
    page = page_of(client, "lang=fr")
    assert page.html["lang"] == "fr"
    assert problems(page) == [] and french_typography(page) == []
    labels = sparql(
        client,
        """SELECT ?s ?l WHERE { { ?s a hr:City } UNION { ?s a hr:Practice }
             ?s rdfs:label|skos:prefLabel ?l FILTER(lang(?l) = "fr") }""",
    )
    french = {path_of(row["s"]): row["l"] for row in labels}
    table = page.find("table", class_="compare")
    shown = [table.thead.find_all("th")[2:], [tr.th for tr in table.tbody.find_all("tr")]]
    for head in (th for group in shown for th in group):
        link = head.a
        assert link.get_text() == french[link_path(link)], link
        assert not link.get("lang")
    strings = i18n.strings("fr")
    assert table.caption.get_text() == strings["compare_caption"]
    assert page.h1.get_text() == strings["compare_title"] != i18n.strings("en")["compare_title"]
    assert all(a["href"].endswith("lang=fr") for a in table.find_all("a"))
