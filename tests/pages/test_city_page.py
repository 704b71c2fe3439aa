"""City pages as overviews (issue 11, item 1): what the city's programs do (a one-line summary,
their practices), then what other cities that use the same practices learned, the practices
used elsewhere and not here, and the census data last, folded. Expectations come from the
release's SPARQL endpoint, never from a list written here."""

from __future__ import annotations

import httpx
import pytest
from bs4 import BeautifulSoup, Tag

from hrgraph.config import CANONICAL_BASE

BASE = CANONICAL_BASE
HALIFAX = BASE + "id/city/halifax"
BROWSER = "text/html,application/xhtml+xml"
#: What the uses of a practice are: programs and organizations in a city.
USERS = "VALUES ?type { hr:Program hr:Organization } ?user a ?type ; hr:city ?city ."


def sparql(client: httpx.Client, query: str) -> list[dict[str, str]]:
    response = client.get(
        "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    response.raise_for_status()
    rows = response.json()["results"]["bindings"]
    return [{name: term["value"] for name, term in row.items()} for row in rows]


def page(client: httpx.Client, iri: str, lang: str) -> BeautifulSoup:
    response = client.get("/" + iri[len(BASE) :] + f"?lang={lang}", headers={"Accept": BROWSER})
    assert response.status_code == 200
    return BeautifulSoup(response.text, "html.parser")


def path(iri: str) -> str:
    return "/" + iri[len(BASE) :]


def hrefs(tag: Tag, segment: str) -> set[str]:
    """The local paths of the links in `tag` under /id/<segment>/ (without ?lang=)."""
    found = tag.find_all("a", href=lambda h: h.startswith(f"/id/{segment}/"))
    return {str(a["href"]).split("?")[0] for a in found}


def section(soup: BeautifulSoup, heading: str) -> Tag:
    found = soup.find(id=heading)
    assert found is not None, heading
    parent = found.find_parent("section")
    assert parent is not None
    return parent


def after_heading(h3: Tag) -> list[Tag]:
    """What follows an h3 up to the next heading."""
    found = []
    for sibling in h3.find_next_siblings():
        if sibling.name in ("h2", "h3"):
            break
        found.append(sibling)
    return found


def halifax_programs(client: httpx.Client, lang: str) -> dict[str, tuple[str, set[str]]]:
    """Each program of Halifax → (its description in `lang`, its practices)."""
    rows = sparql(
        client,
        f"""SELECT ?program ?d ?practice WHERE {{
          ?program a hr:Program ; hr:city <{HALIFAX}> ; dct:description ?d
          FILTER(lang(?d) = "{lang}")
          OPTIONAL {{ ?program hr:usesPractice ?practice }} }}""",
    )
    found: dict[str, tuple[str, set[str]]] = {}
    for row in rows:
        entry = found.setdefault(row["program"], (row["d"], set()))
        if "practice" in row:
            entry[1].add(path(row["practice"]))
    assert found, "Halifax has programs in the release"
    return found


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_programs_show_their_summary_and_practices(client: httpx.Client, lang: str) -> None:
    expected = halifax_programs(client, lang)
    programs = section(page(client, HALIFAX, lang), "h-program")
    items = programs.select("ul.items > li")
    assert len(items) == len(expected)
    for program, (description, practices) in expected.items():
        link = programs.find("a", href=lambda h, p=program: h.split("?")[0] == path(p))
        assert link is not None, program
        item = link.find_parent("li")
        summary = item.find(class_="item-text").get_text(strip=True)
        # one sentence: the start of the description, ending where a sentence does
        assert summary and description.startswith(summary) and summary[-1] in ".!?"
        assert len(summary) < len(description) or summary == description.strip()
        assert hrefs(item.find(class_="uses") or item, "practice") == practices


def test_the_summary_counts_what_the_city_has(client: httpx.Client) -> None:
    programs = len(halifax_programs(client, "en"))
    lead = page(client, HALIFAX, "en").find(class_="lead")
    assert lead is not None
    assert f"{programs} program" in lead.get_text()
    french = page(client, HALIFAX, "fr").find(class_="lead")
    assert french is not None and f"{programs} programme" in french.get_text()


def uses(client: httpx.Client) -> dict[str, set[str]]:
    """City → the practices its programs and organizations use, with those broader."""
    rows = sparql(
        client,
        f"""SELECT DISTINCT ?city ?practice WHERE {{ {USERS}
          ?user hr:usesPractice/(skos:broader|^skos:narrower)* ?practice }}""",
    )
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["city"], set()).add(row["practice"])
    return found


def direct(client: httpx.Client, city: str) -> set[str]:
    rows = sparql(
        client,
        f"""SELECT DISTINCT ?practice WHERE {{ {USERS} ?user hr:usesPractice ?practice
          FILTER(?city = <{city}>) }}""",
    )
    return {row["practice"] for row in rows}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_learn_from_the_other_cities_that_use_each_practice(
    client: httpx.Client, lang: str
) -> None:
    here = direct(client, HALIFAX)
    learn = section(page(client, HALIFAX, lang), "h-learn")
    headings = {str(h3.a["href"]).split("?")[0]: h3 for h3 in learn.find_all("h3")}
    assert set(headings) == {path(p) for p in here}
    for practice in here:
        rows = sparql(
            client,
            f"""SELECT DISTINCT ?city WHERE {{ {USERS}
              ?user hr:usesPractice/(skos:broader|^skos:narrower)* <{practice}>
              FILTER(?city != <{HALIFAX}>) }}""",
        )
        listed = set().union(*(hrefs(t, "city") for t in after_heading(headings[path(practice)])))
        assert listed == {path(row["city"]) for row in rows}, practice


def test_what_other_cities_learned_about_safer_crack_kits(client: httpx.Client) -> None:
    """The lessons of other cities about a practice Halifax uses are linked under it."""
    practice = BASE + "id/practice/safer-crack-kits"
    assert practice in direct(client, HALIFAX), "Mainline hands out kits (the issue's case)"
    rows = sparql(
        client,
        f"""SELECT DISTINCT ?lesson WHERE {{
          {{ ?lesson a hr:Lesson }} UNION {{ ?lesson a hr:Challenge }}
          ?lesson hr:usesPractice <{practice}> ; hr:city|hr:about/hr:city ?city
          FILTER(?city != <{HALIFAX}>) }}""",
    )
    assert rows
    learn = section(page(client, HALIFAX, "en"), "h-learn")
    h3 = next(h for h in learn.find_all("h3") if h.a["href"].startswith(path(practice)))
    shown = set().union(*(hrefs(t, "lesson") | hrefs(t, "challenge") for t in after_heading(h3)))
    assert shown == {path(row["lesson"]) for row in rows}


def test_practices_used_elsewhere_and_not_here(client: httpx.Client) -> None:
    found = uses(client)
    others = set().union(*(direct(client, city) for city in found if city != HALIFAX))
    expected = {path(p) for p in others - found[HALIFAX]}
    assert expected, "other cities do things Halifax does not"
    elsewhere = section(page(client, HALIFAX, "fr"), "h-elsewhere")
    assert {str(h3.a["href"]).split("?")[0] for h3 in elsewhere.find_all("h3")} == expected


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_census_data_comes_last_and_folded(client: httpx.Client, lang: str) -> None:
    code = sparql(client, f"SELECT ?code WHERE {{ <{HALIFAX}> hr:sgcCode ?code }}")[0]["code"]
    soup = page(client, HALIFAX, lang)
    details = soup.find("details", class_="more")
    assert details is not None and details.find(id="h-details") is not None
    assert code in details.get_text()
    main = soup.find("main")
    inside = details.find_all("h2")
    after = [h.get("id") for h in details.find_all_next("h2") if h not in inside]
    assert set(after) <= {"h-notes", "h-sources", "h-data"}, after
    details.decompose()
    assert code not in main.get_text(), "no census code outside the census details"
    assert soup.find("table") is None, "the table of details is the census one"


def test_a_city_page_shows_what_its_focus_group_asked_for(client: httpx.Client) -> None:
    """Edmonton's focus-group needs are on its page, with their text and sources."""
    city = BASE + "id/city/edmonton"
    rows = sparql(client, f"SELECT ?need WHERE {{ ?need a hr:Need ; hr:city <{city}> }}")
    assert rows
    needs = section(page(client, city, "en"), "h-need")
    assert hrefs(needs, "finding") == {path(row["need"]) for row in rows}
    assert needs.find(class_="item-text") is not None and needs.find(class_="fn") is not None
