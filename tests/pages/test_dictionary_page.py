"""/ontology for people: the release's data dictionary, on a real server (uvicorn over the
session's release), in English and French, with its downloads; RDF clients still get the
ontology graph. The fill rates shown are checked against counts asked of the server's own
SPARQL endpoint."""

from __future__ import annotations

import csv
import io
import json
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from bs4 import BeautifulSoup, Tag
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF

from hrgraph.config import CANONICAL_BASE
from hrgraph.pages import dictionary

HR = CANONICAL_BASE + "ontology#"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def model(shipped_release: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((shipped_release / dictionary.FILE).read_text())
    return found


def get_page(client: httpx.Client, **headers: str) -> tuple[httpx.Response, BeautifulSoup]:
    response = client.get("/ontology", headers={"Accept": BROWSER, **headers})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response, BeautifulSoup(response.text, "html.parser")


def count(client: httpx.Client, where: str) -> int:
    """COUNT(DISTINCT ?s) of a pattern, asked of the server's SPARQL endpoint."""
    response = client.post(
        "/sparql",
        data={"query": f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {where} }}"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def section(soup: BeautifulSoup, anchor: str) -> Tag:
    found = soup.find("section", id=anchor)
    assert isinstance(found, Tag), anchor
    return found


def row(part: Tag, name: str) -> list[str]:
    """The cells of the property row whose name (compact IRI) is `name`."""
    for tr in part.find_all("tr"):
        code = tr.find("code")
        if code is not None and code.get_text() == name:
            return [cell.get_text(" ", strip=True) for cell in tr.find_all(["th", "td"])]
    raise AssertionError(f"no row {name}")


def heading_problems(soup: BeautifulSoup) -> list[str]:
    levels = [int(h.name[1]) for h in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"])]
    found = [] if levels.count(1) == 1 else [f"{levels.count(1)} <h1>"]
    return found + [f"h{a} then h{b}" for a, b in pairwise(levels) if b > a + 1]


@pytest.mark.parametrize(
    ("lang", "headers", "fill", "percent"),
    [
        ("en", {}, "Fill rate", "{n}%)"),
        ("fr", {"Accept-Language": "fr-CA, en;q=0.5"}, "Taux de remplissage", "{n}\u00a0%)"),
    ],
)
def test_the_page_shows_every_class_with_its_fill_rates(
    live_client: httpx.Client,
    model: dict[str, Any],
    lang: str,
    headers: dict[str, str],
    fill: str,
    percent: str,
) -> None:
    response, soup = get_page(live_client, **headers)
    assert response.headers["content-language"] == lang
    assert soup.html is not None and soup.html["lang"] == lang
    assert heading_problems(soup) == []
    ids = [tag["id"] for tag in soup.find_all(id=True)]
    assert len(ids) == len(set(ids))
    for cls in model["classes"]:
        part = section(soup, cls["term"]["anchor"])
        heading = part.find("h2")
        assert heading is not None and cls["term"]["label"][lang] in heading.get_text()
        assert len(part.find_all("tr")) == len(cls["properties"]) + 1
        assert fill in part.get_text()
    # hr:city of a program: the fill rate against the endpoint's own count
    programs = count(live_client, f"?s a <{HR}Program>")
    with_city = count(live_client, f"?s a <{HR}Program> ; <{HR}city> ?city")
    share = f"{100 * with_city / programs:.1f}".removesuffix(".0")
    share = share.replace(".", ",") if lang == "fr" else share
    cells = row(section(soup, "Program"), "hr:city")
    assert cells[-1] == f"{with_city}/{programs} (" + percent.format(n=share)
    assert cells[1].startswith("1..*")  # the shape: at least one city


def test_lang_wins_over_accept_language(live_client: httpx.Client) -> None:
    response = live_client.get(
        "/ontology?lang=fr", headers={"Accept": BROWSER, "Accept-Language": "en"}
    )
    soup = BeautifulSoup(response.text, "html.parser")
    heading = section(soup, "Program").find("h2")
    assert heading is not None and "Programme" in heading.get_text()
    label = row(section(soup, "Program"), "rdfs:label")
    assert "(attendu)" in label[1]  # the French label is expected, not required
    assert soup.title is not None and "dictionnaire de données" in soup.title.get_text()
    switch = soup.find("p", class_="switch")
    assert switch is not None and switch.a is not None and "lang=en" in str(switch.a["href"])


def test_anchors_land_on_classes_and_properties(live_client: httpx.Client) -> None:
    _, soup = get_page(live_client)
    assert section(soup, "Program").find("h2") is not None  # /ontology#Program
    city = soup.find("tr", id="city")  # /ontology#city: hr:city in the index of properties
    assert city is not None and city.find("a", href="#Program") is not None
    need = soup.find(id="Need")  # a subclass is marked in its superclass's section
    assert need is not None and need.find_parent("section", id="Finding") is not None
    values = row(section(soup, "City"), "hr:province")
    assert "hr:Province" in values[2]
    link = section(soup, "City").find("a", href="#Province")
    assert link is not None  # a value that names a class links to it


def test_the_downloads_of_the_release_are_linked(
    live_client: httpx.Client, shipped_release: Path
) -> None:
    _, soup = get_page(live_client, **{"Accept-Language": "fr"})
    prefix = f"/downloads/{shipped_release.name}/dictionary."
    links = {a["href"] for a in soup.find_all("a", href=True) if a["href"].startswith(prefix)}
    assert {prefix + "fr.md", prefix + "fr.html", prefix + "csv", prefix + "json"} <= links
    for href in links:
        assert not urlsplit(href).netloc
        response = live_client.get(href)
        assert response.status_code == 200, href
    table = live_client.get(prefix + "csv")
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text, newline="")))
    assert any(r["class"] == "hr:Program" and r["property"] == "hr:city" for r in rows)
    assert live_client.get(prefix + "fr.md").text.startswith("# Dictionnaire de données")
    # a browser shows them rather than saving an octet stream
    expected = {"fr.md": "text/markdown; charset=utf-8", "fr.html": "text/html; charset=utf-8"}
    for ending, media in expected.items():
        assert live_client.get(prefix + ending).headers["content-type"] == media


@pytest.mark.parametrize("path", ["/ontology", "/ontology.ttl"])
def test_rdf_clients_still_get_the_ontology(live_client: httpx.Client, path: str) -> None:
    response = live_client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    assert (URIRef(HR + "Program"), RDF.type, OWL.Class) in graph
    assert (URIRef(CANONICAL_BASE + "ontology"), RDF.type, OWL.Ontology) in graph


def test_the_page_is_cached_per_language(live_client: httpx.Client) -> None:
    english, _ = get_page(live_client)
    french = live_client.get("/ontology?lang=fr", headers={"Accept": BROWSER})
    assert english.headers["etag"] != french.headers["etag"]
    again = live_client.get(
        "/ontology", headers={"Accept": BROWSER, "If-None-Match": english.headers["etag"]}
    )
    assert again.status_code == 304


def test_a_release_without_a_dictionary_has_none(tmp_path: Path) -> None:
    """A release built before the dictionary: the page falls back to the ontology's triples."""

    class Folder:
        path = tmp_path

    assert dictionary._read(Folder()) is None
    (tmp_path / dictionary.FILE).write_text('{"classes": []}')
    assert dictionary._read(Folder()) == {"classes": []}
