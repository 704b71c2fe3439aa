"""Pages for people: every resource has an HTML page in English and French, the home page has
the map and the counts, search is accent-insensitive, and the pages are accessible and use only
assets of their own server. Checked with BeautifulSoup against the session's real server."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from urllib.parse import parse_qs, urlsplit

import httpx
import pyoxigraph as ox
import pytest
from bs4 import BeautifulSoup, Tag

from hrgraph.build.writer import current_release
from hrgraph.config import CANONICAL_BASE, Settings
from hrgraph.pages import canada, i18n

BASE = CANONICAL_BASE
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
LABELS = (
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://www.w3.org/2004/02/skos/core#prefLabel",
)
RDF_TYPES = {
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
}
#: Kinds (the IRI's type segment) whose pages must link at least one source.
SOURCED = {"program", "lesson", "challenge", "finding", "milestone", "figure"}


@pytest.fixture(scope="module")
def labels(served_settings: Settings) -> dict[str, dict[str, str]]:
    """Every resource IRI under <base>id/ → its label per language, read from the release store."""
    release = current_release(served_settings.releases)
    assert release is not None
    store = ox.Store.read_only(str(release / "store"))
    found: dict[str, dict[str, str]] = {}
    for quad in store.quads_for_pattern(None, None, None, None):
        subject = quad.subject
        if not (isinstance(subject, ox.NamedNode) and subject.value.startswith(BASE + "id/")):
            continue
        entry = found.setdefault(subject.value, {})
        if quad.predicate.value in LABELS and isinstance(quad.object, ox.Literal):
            entry[quad.object.language or ""] = quad.object.value
    assert len(found) > 300
    return found


def get(client: httpx.Client, path: str, **headers: str) -> httpx.Response:
    return client.get(path, headers={"Accept": BROWSER, **headers})


def soup_of(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def visible_text(page: BeautifulSoup) -> str:
    copy = BeautifulSoup(str(page), "html.parser")
    for hidden in copy.find_all(["script", "style", "head"]):
        hidden.decompose()
    return copy.get_text(" ")


# --- accessibility and same-origin checks shared by every page ------------------------------


def problems(page: BeautifulSoup) -> list[str]:
    found = []
    for tag in page.find_all(src=True):
        if urlsplit(str(tag["src"])).netloc:
            found.append(f"external src {tag['src']}")
    for link in page.find_all("link", href=True):
        if urlsplit(str(link["href"])).netloc:
            found.append(f"external <link> {link['href']}")
    for image in page.find_all("img"):
        if not image.get("alt"):
            found.append("an <img> without alt")
    for svg in page.find_all("svg"):
        if not (svg.get("aria-label") or svg.get("aria-labelledby") or svg.find("title")):
            found.append("an <svg> without an accessible name")
    for control in page.find_all(["input", "select", "textarea"]):
        if control.get("type") in ("hidden", "submit", "button"):
            continue
        if not (has_label(page, control) or control.get("aria-label")):
            found.append(f"a {control.name} without a label")
    for name in ("header", "nav", "main", "footer"):
        if page.find(name) is None:
            found.append(f"no <{name}>")
    found += heading_problems(page)
    return found


def has_label(page: BeautifulSoup, control: Tag) -> bool:
    ident = control.get("id")
    return bool(ident and page.find("label", attrs={"for": ident}))


def heading_problems(page: BeautifulSoup) -> list[str]:
    """One h1, and no level skipped on the way down."""
    levels = [int(h.name[1]) for h in page.find_all(["h1", "h2", "h3", "h4", "h5", "h6"])]
    found = [] if levels.count(1) == 1 else [f"{levels.count(1)} <h1>"]
    for before, after in pairwise(levels):
        if after > before + 1:
            found.append(f"heading h{before} then h{after}")
    return found


# --- every resource, both languages ---------------------------------------------------------


def expected_title(names: dict[str, str], lang: str) -> str:
    return names.get(lang) or names.get("en") or names.get("", "")


def check_resource(client: httpx.Client, iri: str, names: dict[str, str], lang: str) -> list[str]:
    path = "/" + iri[len(BASE) :]
    response = get(client, f"{path}?lang={lang}")
    if response.status_code != 200:
        return [f"{path} {lang}: {response.status_code}"]
    page = soup_of(response)
    failures = [f"{path} {lang}: {p}" for p in problems(page)]
    if page.html is None or page.html.get("lang") != lang:
        failures.append(f"{path} {lang}: <html lang> is not {lang}")
    h1 = page.h1.get_text(strip=True) if page.h1 else ""
    if not h1 or (names and h1 != expected_title(names, lang)):
        failures.append(f"{path} {lang}: <h1> {h1!r}")
    if BASE in visible_text(page):
        failures.append(f"{path} {lang}: a raw IRI in the text")
    if lang == "fr":
        failures += [f"{path} fr: {p}" for p in french_typography(page)]
    failures += [f"{path} {lang}: {p}" for p in link_problems(page, path, lang)]
    kind = iri[len(BASE) :].split("/")[1]
    sources = page.find(id="sources")
    cited = sources.find_all("a", href=lambda h: h.startswith("/id/")) if sources else []
    if kind in SOURCED and not cited:
        failures.append(f"{path} {lang}: no source link")
    return failures


#: A colon, semicolon, question or exclamation mark straight after a letter, digit or closing
#: mark: French sets a (no-break) space before them.
_TIGHT = re.compile(r"[\w)»\]][:;?!](?=\s|$)")


def french_typography(page: BeautifulSoup) -> list[str]:
    """French spacing in the interface and texts of a French page (code, IRIs, queries and
    English passages marked lang="en" aside)."""
    copy = BeautifulSoup(str(page), "html.parser")
    for skipped in copy.find_all(["script", "style", "head", "code", "pre", "textarea"]):
        skipped.decompose()
    for english in copy.find_all(attrs={"lang": "en"}):
        if english.name != "html":
            english.decompose()
    text = copy.get_text(" ")
    return sorted({f"no space before {m.group()[-1]!r} in …{text[max(0, m.start() - 30) : m.end()]}"
                   for m in _TIGHT.finditer(text)})  # fmt: skip


def link_problems(page: BeautifulSoup, path: str, lang: str) -> list[str]:
    found = []
    alternates = page.find_all("link", rel="alternate")
    formats = {str(link.get("type")) for link in alternates if not link.get("hreflang")}
    if formats != RDF_TYPES:
        found.append(f"RDF alternates {formats}")
    for extension in ("ttl", "jsonld", "nt", "rdf"):
        if not page.find("a", href=f"{path}.{extension}"):
            found.append(f"no link to {path}.{extension}")
    hreflang = {
        str(link["hreflang"]): str(link["href"]) for link in alternates if link.get("hreflang")
    }
    for code in i18n.LANGUAGES:
        if hreflang.get(code) != f"{path}?lang={code}":
            found.append(f"hreflang {code}: {hreflang.get(code)}")
    switch = page.find("a", hreflang=i18n.other(lang))
    if switch is None or switch["href"] != f"{path}?lang={i18n.other(lang)}":
        found.append("no language switch to the same page")
    sparql = page.find("a", href=lambda h: h.startswith("/sparql?query="))
    if sparql is None:
        found.append("no link to the SPARQL query")
    return found


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_resource_has_a_page(
    client: httpx.Client, labels: dict[str, dict[str, str]], lang: str
) -> None:
    with ThreadPoolExecutor(8) as pool:
        found = pool.map(lambda iri: check_resource(client, iri, labels[iri], lang), labels)
        failures = [failure for failures in found for failure in failures]
    assert failures == []


def test_the_sparql_link_reproduces_the_page(client: httpx.Client) -> None:
    page = soup_of(get(client, "/id/city/whitehorse?lang=en"))
    link = page.find("a", href=lambda h: h.startswith("/sparql?query="))
    assert link is not None
    query = parse_qs(urlsplit(str(link["href"])).query)["query"][0]
    answer = client.get("/sparql", params={"query": query}, headers={"Accept": "text/turtle"})
    assert answer.status_code == 200
    assert "Whitehorse" in answer.text


def test_program_page(client: httpx.Client) -> None:
    page = soup_of(get(client, "/id/program/blood-ties-safer-crack-kits?lang=en"))
    text = visible_text(page)
    for expected in ("Whitehorse", "Safer crack kits", "2005-12", "Lessons", "Figures"):
        assert expected in text
    online = page.find(id="sources").find_all("a", rel="external")
    assert online and all(a["href"].startswith("https://") for a in online)


def test_uncertain_items_are_marked_with_their_note(client: httpx.Client) -> None:
    page = soup_of(get(client, "/id/program/avi-street-outreach-services?lang=fr"))
    note = page.find(class_="uncertain")
    assert note is not None and note.get("role") == "note"
    assert "Incertain" in note.get_text() and "articles de presse" in note.get_text()


def test_practice_page_learns_from_each_other(client: httpx.Client) -> None:
    page = soup_of(get(client, "/id/practice/needle-exchange?lang=en"))
    learning = page.find(id="h-learning").parent
    cities = {h3.get_text(strip=True) for h3 in learning.find_all("h3")}
    assert {"Halifax", "Ottawa", "St. John's"} <= cities
    programs = {a.get_text() for a in learning.find_all("a", href=lambda h: "/program/" in h)}
    assert len(programs) >= 5
    assert learning.find("a", href=lambda h: h.startswith("/id/lesson/"))
    mappings = page.find(id="h-mappings").parent
    assert mappings.find("a", href=lambda h: "/id/practice/bpr2013-needle-syringe" in h)


def test_document_page_has_page_level_citations(client: httpx.Client) -> None:
    page = soup_of(get(client, "/id/document/report-fr?lang=fr"))
    citations = page.find(id="h-citations").parent
    pages = citations.find_all("a", href=lambda h: h.startswith("/id/page/"))
    assert len(pages) > 20
    assert citations.find("a", href=lambda h: h.startswith("/id/program/"))


def test_city_page_shows_what_its_focus_group_asked_for(client: httpx.Client) -> None:
    page = soup_of(get(client, "/id/city/edmonton?lang=en"))
    for section in ("h-organization", "h-program"):
        assert page.find(id=section) is not None, section
    assert page.find(id="h-finding") or page.find(id="h-need")


# --- home -----------------------------------------------------------------------------------


def test_home(client: httpx.Client) -> None:
    response = get(client, "/?lang=en")
    assert response.status_code == 200
    page = soup_of(response)
    assert problems(page) == []
    assert page.h1.get_text(strip=True) == "Learning from Each Other"
    svg = page.find("svg")
    cities = svg.find_all("a", href=lambda h: h.startswith("/id/city/"))
    assert len(cities) == 9
    assert all(a.get_text(strip=True) for a in cities)
    counts = {li["class"][0]: li.strong.get_text() for li in page.select("ul.counts li")}
    assert counts == {
        "count-program": "20",
        "count-organization": "49",
        "count-lesson": "22",
        "count-practice": "46",
        "count-finding": "38",
    }
    programs = page.select_one("li.count-program a")
    listing = soup_of(get(client, str(programs["href"])))
    assert len(listing.select("main ul.items > li")) == 20
    about = page.find(id="h-about").parent
    assert about.find("a", href=lambda h: h.startswith("/id/organization/canadian-aids-society"))
    assert about.find("a", href=lambda h: h.startswith("/id/consultation/"))
    for heading in ("h-by-city", "h-by-practice", "h-by-lesson"):
        assert page.find(id=heading) is not None
    french = soup_of(get(client, "/?lang=fr"))
    assert french.h1.get_text(strip=True) == "Partager nos connaissances"


def map_markers(svg: Tag, group: str, dot: str = "circle") -> list[canada.Marker]:
    """The markers of a rendered map, read back from its SVG (each group: a dot, a label, and
    maybe a leader line)."""
    found = []
    for item in svg.select(group):
        circle, text, line = item.find(dot), item.find("text"), item.find("line")
        leader = (float(line["x2"]), float(line["y2"])) if line else None
        found.append(
            canada.Marker(
                str(item.get("href", "")), text.get_text(strip=True),
                float(circle["cx"]), float(circle["cy"]), float(text["x"]), float(text["y"]),
                str(text.get("text-anchor", "start")), leader,
            )
        )  # fmt: skip
    return found


def test_map_labels_of_the_nine_cities_are_clear(client: httpx.Client) -> None:
    """Every label on the home map stays inside the viewBox, off every dot and every other label
    (boxes estimated as canada.py does, for the map's bold 22px text), in both languages."""
    for lang in ("en", "fr"):
        svg = soup_of(get(client, f"/?lang={lang}")).select_one("figure.map svg")
        assert svg is not None
        assert svg.find("title") is not None and svg["aria-labelledby"]
        height = float(str(svg["viewbox"]).split()[3])  # html.parser lowercases names
        placed = map_markers(svg, "a.city")
        assert len(placed) == 9
        assert all(m.href.startswith("/id/city/") and m.label for m in placed)
        assert canada.collisions(placed, height) == [], lang
        # The crowded east did not fall back to the first spot (labels right of their dots).
        east = {m.label: m for m in placed if m.x > 600}
        assert len({m.anchor for m in east.values()}) > 1


def test_label_placement_is_deterministic_and_stays_clear() -> None:
    """The placement alone: the nine cities of the release, in any order, give the same
    markers; and a crowd of nearby points still gets labels inside the map, none overlapping."""
    box = canada.frame()
    cities = [
        ("/id/city/whitehorse", "Whitehorse", 60.71611, -135.05375),
        ("/id/city/victoria", "Victoria", 48.4359, -123.35155),
        ("/id/city/edmonton", "Edmonton", 53.55014, -113.46871),
        ("/id/city/winnipeg", "Winnipeg", 49.8844, -97.14704),
        ("/id/city/rouyn-noranda", "Rouyn-Noranda", 48.23656, -79.02311),
        ("/id/city/ottawa", "Ottawa", 45.41117, -75.69812),
        ("/id/city/quebec-city", "Québec City", 46.81228, -71.21454),
        ("/id/city/halifax", "Halifax", 44.64533, -63.57239),
        ("/id/city/st-johns", "St. John's", 47.56494, -52.70931),
    ]
    placed = canada.markers(box, cities)
    assert canada.collisions(placed, box.height) == []
    assert canada.markers(box, cities[::-1]) == placed
    halifax = next(m for m in placed if m.label == "Halifax")
    assert canada.label_box(halifax)[2] <= canada.WIDTH  # St. John's too: checked above
    crowd = [(f"/{i}", f"Town {i}", 45.0 + (i % 3) * 0.8, -75.0 + (i // 3) * 2.5) for i in range(6)]
    assert canada.collisions(canada.markers(box, crowd), box.height) == []


def test_static_assets_are_served(client: httpx.Client) -> None:
    page = soup_of(get(client, "/"))
    for link in page.find_all("link", rel="stylesheet"):
        assert client.get(str(link["href"])).status_code == 200


# --- languages ------------------------------------------------------------------------------


def test_language_negotiation(client: httpx.Client) -> None:
    def lang_of(path: str, **headers: str) -> str:
        return str(soup_of(get(client, path, **headers)).html["lang"])

    assert lang_of("/id/city/quebec") == "en"
    assert lang_of("/id/city/quebec", **{"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"}) == "fr"
    assert lang_of("/id/city/quebec", **{"Accept-Language": "en;q=0.4, fr;q=0.8"}) == "fr"
    assert lang_of("/id/city/quebec?lang=en", **{"Accept-Language": "fr"}) == "en"
    assert lang_of("/?lang=fr", **{"Accept-Language": "en"}) == "fr"
    assert lang_of("/search?q=x&lang=xx", **{"Accept-Language": "fr"}) == "fr"
    response = get(client, "/id/city/quebec", **{"Accept-Language": "fr"})
    assert "Accept-Language" in response.headers["vary"]
    assert response.headers["content-language"] == "fr"


def test_choose_language() -> None:
    assert i18n.choose(None, None) == "en"
    assert i18n.choose("FR", "en") == "fr"
    assert i18n.choose("de", "fr;q=0.1, en;q=0") == "fr"
    assert i18n.choose(None, "de, fr;q=0.5, en;q=0.6") == "en"
    assert i18n.choose(None, "fr;q=bad, en;q=0.1") == "en"
    assert i18n.choose(None, "*") == "en"


def test_pages_are_cached_per_language(client: httpx.Client) -> None:
    first = get(client, "/id/city/halifax?lang=fr")
    again = get(client, "/id/city/halifax?lang=fr", **{"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert get(client, "/id/city/halifax?lang=en").headers["etag"] != first.headers["etag"]


@pytest.mark.parametrize(
    ("lang", "title"), [("en", "Learning from Each Other"), ("fr", "Partager nos connaissances")]
)
def test_a_document_page_is_titled_in_its_language(
    client: httpx.Client, lang: str, title: str
) -> None:
    page = client.get("/dataset", params={"lang": lang}, headers={"Accept": "text/html"})
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.title is not None and title in soup.title.text
    heading = soup.find("h1")
    assert heading is not None and title in heading.text


@pytest.mark.parametrize(
    ("path", "dated"),
    [
        ("/id/program/whitehorse-outreach-van", True),
        ("/id/organization/mainline-needle-exchange", True),
        ("/id/city/halifax", True),
        ("/id/practice/safer-crack-kits", False),
        ("/id/lesson/peer-and-lived-experience-staffing", False),
    ],
)
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_service_pages_say_the_facts_are_of_2007_08(
    client: httpx.Client, path: str, dated: bool, lang: str
) -> None:
    """People seeking services read that programs, organizations and cities are described as
    the 2007-08 study found them (issue 11, item 4); a schedule is the visit's."""
    page = soup_of(get(client, f"{path}?lang={lang}"))
    note = page.find(class_="dated")
    assert (note is not None) == dated
    if note is not None:
        assert note.get("role") == "note"
        assert ("2007\u201308" if lang == "en" else "2007-2008") in note.get_text()
    if path.endswith("outreach-van"):
        label = {"en": "schedule at the time of the visit", "fr": "horaire au moment de la visite"}
        assert label[lang] in visible_text(page)


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/id/program/no-such-program", 404, {"en": "Page not found", "fr": "Page introuvable"}),
        (
            "/sparql?query=SELEC",
            400,
            {
                "en": "The request could not be answered",
                "fr": "La requête n'a pas pu recevoir de réponse",
            },
        ),
    ],
    ids=["404", "400"],
)
@pytest.mark.parametrize("how", ["lang", "accept-language"])
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_error_pages_speak_the_pages_language(
    client: httpx.Client, path: str, status: int, title: dict[str, str], how: str, lang: str
) -> None:
    """A browser's error page is in its language (by ?lang= or Accept-Language), says what to do
    next with links on, and keeps the server's message as the technical detail (issue 11)."""
    headers = {"Accept": BROWSER_ACCEPT}
    if how == "lang":
        path += ("&" if "?" in path else "?") + f"lang={lang}"
    else:
        headers["Accept-Language"] = f"{lang},en;q=0.5" if lang == "fr" else "en"
    response = client.get(path, headers=headers)
    assert response.status_code == status
    page = soup_of(response)
    assert page.html is not None and page.html.get("lang") == lang
    assert page.h1 is not None and page.h1.get_text(strip=True) == title[lang]
    assert page.find("a", href=f"/?lang={lang}") is not None
    detail = page.find("p", lang="en")
    assert detail is not None and detail.get_text(strip=True)  # the server's message
    assert str(status) in page.get_text()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_sources_are_numbered_footnotes(client: httpx.Client, lang: str) -> None:
    """Items cite their sources by number; one numbered list at the bottom holds each source
    once and says whose page numbers they are (issue 11, item 5)."""
    page = soup_of(get(client, f"/id/practice/safer-crack-kits?lang={lang}"))
    section = page.find(id="sources")
    assert section is not None
    listed = section.find_all("li", id=lambda i: bool(i) and i.startswith("source-"))
    numbers = [int(li["id"].removeprefix("source-")) for li in listed]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) > 3
    assert len({li.get_text(" ", strip=True) for li in listed}) == len(listed)  # each once
    note = section.find(class_="note")
    assert note is not None and ("French edition" if lang == "en" else "édition française") in (
        note.get_text()
    )
    refs = [a["href"] for a in page.find_all("a", class_="fn")]
    assert refs and {f"#source-{n}" for n in numbers} >= set(refs)
    for cite in page.find_all(class_="cite"):
        assert cite.find("a", rel="external") is None  # no citation chain under an item


def test_curators_notes_follow_the_facts(client: httpx.Client) -> None:
    """A curator's note (what is left out and why) comes after the details it is about, not
    before them (issue 11, item 8)."""
    page = soup_of(get(client, "/id/program/whitehorse-outreach-van?lang=en"))
    headings = [h.get("id") for h in page.find_all("h2")]
    assert "h-details" in headings and "h-notes" in headings
    assert headings.index("h-details") < headings.index("h-notes")


def test_item_relations_are_said_only_where_they_differ(client: httpx.Client) -> None:
    """On a city page every program has the city as its city: no "— city" under each; where a
    group's items point here in different ways, each says how (issue 11, item 8)."""
    city = soup_of(get(client, "/id/city/halifax?lang=en"))
    programs = city.find(id="h-program")
    assert programs is not None
    assert programs.find_parent("section").find(class_="detail") is None
    organization = soup_of(get(client, "/id/organization/mainline-needle-exchange?lang=en"))
    heading = organization.find(id="h-program")
    assert heading is not None
    details = heading.find_parent("section").find_all(class_="detail")
    assert len({d.get_text(strip=True) for d in details}) > 1
