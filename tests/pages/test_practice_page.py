"""Practice pages people can read (issue 11, item 6): the programs that use the practice, by
city, each with its one-line summary and the figures about it; under each city only the
lessons that concern this practice, each once on the page; no city heading with nothing under
it. Expectations come from the release's SPARQL endpoint."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from bs4 import BeautifulSoup, Tag
from test_city_page import BASE, hrefs, page, path, section, sparql

CRACK_KITS = BASE + "id/practice/safer-crack-kits"
#: `?via`: the practice or a narrower one.
SUBTREE = "?via (skos:broader|^skos:narrower)* <{practice}> ."


def used_practices(client: httpx.Client) -> list[str]:
    rows = sparql(client, "SELECT DISTINCT ?p WHERE { ?x a hr:Program ; hr:usesPractice ?p }")
    assert len(rows) > 5
    return sorted(row["p"] for row in rows)


def programs_of(client: httpx.Client, practice: str) -> set[str]:
    rows = sparql(
        client,
        f"""SELECT DISTINCT ?program WHERE {{ {SUBTREE.format(practice=practice)}
          ?program a hr:Program ; hr:usesPractice ?via }}""",
    )
    return {row["program"] for row in rows}


def city_headings_with_nothing(learning: Tag) -> list[str]:
    empty = []
    for h3 in learning.find_all("h3"):
        following = h3.find_next_sibling()
        if following is None or following.name == "h3" or not following.find("li"):
            empty.append(h3.get_text(strip=True))
    return empty


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_practice_page_shows_each_lesson_once_and_no_empty_city(
    client: httpx.Client, lang: str
) -> None:
    for practice in used_practices(client):
        soup = page(client, practice, lang)
        main = soup.find("main")
        links = Counter(
            str(a["href"]).split("?")[0]
            for a in main.find_all(
                "a", href=lambda h: h.startswith(("/id/lesson/", "/id/challenge/", "/id/figure/"))
            )
        )
        assert [href for href, n in links.items() if n > 1] == [], practice
        learning = section(soup, "h-learning")
        assert city_headings_with_nothing(learning) == [], practice
        assert hrefs(learning, "program") == {path(p) for p in programs_of(client, practice)}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_programs_have_their_summary_and_figures(client: httpx.Client, lang: str) -> None:
    rows = sparql(
        client,
        f"""SELECT ?program ?d WHERE {{ {SUBTREE.format(practice=CRACK_KITS)}
          ?program a hr:Program ; hr:usesPractice ?via ; dct:description ?d
          FILTER(lang(?d) = "{lang}") }}""",
    )
    learning = section(page(client, CRACK_KITS, lang), "h-learning")
    for row in rows:
        link = learning.find("a", href=lambda h, p=row["program"]: h.split("?")[0] == path(p))
        summary = link.find_parent("li").find(class_="item-text").get_text(strip=True)
        assert summary and row["d"].startswith(summary) and summary[-1] in ".!?"
    figures = sparql(
        client,
        f"""SELECT DISTINCT ?figure WHERE {{ {SUBTREE.format(practice=CRACK_KITS)}
          ?program a hr:Program ; hr:usesPractice ?via .
          ?figure a hr:Figure ; hr:about ?program }}""",
    )
    assert figures
    shown = learning.select("ul.figures")
    assert set().union(*(hrefs(f, "figure") for f in shown)) == {path(r["figure"]) for r in figures}
    assert all(f.find("strong") for f in shown), "each figure shows its number"


def test_only_the_lessons_about_this_practice(client: httpx.Client) -> None:
    """Lessons that name this practice are shown; lessons about the same programs that name
    another practice (Oasis's drop-in model, on the crack-kit page) are not."""
    subtree = SUBTREE.format(practice=CRACK_KITS)
    about = sparql(
        client,
        f"""SELECT DISTINCT ?lesson WHERE {{ {subtree}
          {{ ?lesson a hr:Lesson }} UNION {{ ?lesson a hr:Challenge }}
          ?lesson hr:usesPractice ?via }}""",
    )
    unrelated = sparql(
        client,
        f"""SELECT DISTINCT ?lesson WHERE {{ {subtree}
          ?program a hr:Program ; hr:usesPractice ?via . ?lesson hr:about ?program
          {{ ?lesson a hr:Lesson }} UNION {{ ?lesson a hr:Challenge }}
          ?lesson hr:usesPractice ?other
          FILTER NOT EXISTS {{ ?other (skos:broader|^skos:narrower)* <{CRACK_KITS}> }} }}""",
    )
    assert about and unrelated
    soup: BeautifulSoup = page(client, CRACK_KITS, "en")
    shown = hrefs(soup.find("main"), "lesson") | hrefs(soup.find("main"), "challenge")
    assert {path(row["lesson"]) for row in about} <= shown
    assert not {path(row["lesson"]) for row in unrelated} & shown


def test_the_halifax_entry_says_what_mainline_does(client: httpx.Client) -> None:
    """The issue's "empty Halifax entry": Halifax's program that hands out kits, with its
    summary."""
    rows = sparql(
        client,
        f"""SELECT ?program WHERE {{ ?program a hr:Program ; hr:usesPractice <{CRACK_KITS}> ;
          hr:city <{BASE}id/city/halifax> }}""",
    )
    assert rows
    learning = section(page(client, CRACK_KITS, "en"), "h-learning")
    h3 = next(h for h in learning.find_all("h3") if h.get_text(strip=True) == "Halifax")
    entry = h3.find_next_sibling("ul")
    assert hrefs(entry, "program") == {path(row["program"]) for row in rows}
    assert entry.find(class_="item-text").get_text(strip=True)
