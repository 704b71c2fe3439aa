"""schema.org Dataset markup (JSON-LD in a script) on the home page and the dataset page, as a
real server sends them, in English and French: what Google's dataset search requires (name, a
description of 50 characters or more) and recommends, all read from the release description."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, Namespace

from hrgraph.build.writer import current_release
from hrgraph.config import CANONICAL_BASE, Settings

BASE = CANONICAL_BASE
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DATASET = URIRef(BASE + "dataset")
CANADA = "http://publications.europa.eu/resource/authority/country/CAN"
PAGES = ["/", "/dataset"]
LANGS = ["en", "fr"]


@pytest.fixture(scope="module")
def description(served_settings: Settings) -> Graph:
    release = current_release(served_settings.releases)
    assert release is not None
    return Graph().parse(Path(release) / "description.ttl")


def markup(client: httpx.Client, path: str, lang: str) -> dict[str, Any]:
    response = client.get(path, params={"lang": lang}, headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = BeautifulSoup(response.text, "html.parser")
    scripts = page.find_all("script", type="application/ld+json")
    assert len(scripts) == 1
    assert scripts[0].parent.name == "head"
    found: dict[str, Any] = json.loads(scripts[0].string)
    return found


def text(graph: Graph, subject: URIRef, predicate: URIRef, lang: str) -> str:
    (value,) = (str(o) for o in graph.objects(subject, predicate) if o.language == lang)
    return value


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", PAGES)
def test_required_properties(
    client: httpx.Client, description: Graph, path: str, lang: str
) -> None:
    found = markup(client, path, lang)
    assert found["@context"] == "https://schema.org/"
    assert found["@type"] == "Dataset"
    assert found["name"] == text(description, DATASET, DCTERMS.title, lang)
    assert found["description"] == text(description, DATASET, DCTERMS.description, lang)
    assert len(found["description"]) >= 50
    other = "fr" if lang == "en" else "en"
    assert found["alternateName"] == text(description, DATASET, DCTERMS.title, other)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", PAGES)
def test_recommended_properties(
    client: httpx.Client, description: Graph, path: str, lang: str
) -> None:
    found = markup(client, path, lang)
    version = client.get("/sparql", params={"query": "ASK {}"}).headers["x-hrgraph-release"]
    assert found["version"] == version
    assert found["identifier"] == found["@id"] == str(DATASET)
    assert found["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert found["inLanguage"] == ["en", "fr"]
    assert set(found["keywords"]) == {
        str(k) for k in description.objects(DATASET, DCAT.keyword) if k.language == lang
    }
    names = {
        "en": "Canadian Harm Reduction Network",
        "fr": "Réseau canadien de la réduction des méfaits",
    }
    assert found["publisher"]["name"] == names[lang]
    assert found["publisher"]["@type"] == "Organization"
    assert {c["name"] for c in found["creator"]} >= {names[lang]}
    assert len(found["creator"]) == 2
    assert found["temporalCoverage"] == "2007-03-30/2008"
    assert found["datePublished"] == str(description.value(DATASET, DCTERMS.issued))
    catalog = found["includedInDataCatalog"]
    assert catalog["@type"] == "DataCatalog" and catalog["url"] == BASE + "catalog"
    assert catalog["name"] == text(description, URIRef(BASE + "catalog"), DCTERMS.title, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_spatial_coverage(client: httpx.Client, lang: str) -> None:
    places = markup(client, "/", lang)["spatialCoverage"]
    assert {"@type": "Place", "name": "Canada", "sameAs": CANADA} in places
    cities = [p for p in places if p["sameAs"].startswith("https://sws.geonames.org/")]
    assert len(cities) == 7
    quebec = {"en": "Québec City", "fr": "Québec"}[lang]
    assert quebec in {c["name"] for c in cities}
    assert all(
        -141 < c["geo"]["longitude"] < -52 and 42 < c["geo"]["latitude"] < 70 for c in cities
    )


def test_every_file_is_a_data_download(client: httpx.Client, description: Graph) -> None:
    downloads = markup(client, "/dataset", "en")["distribution"]
    files = {
        str(description.value(d, DCAT.downloadURL))
        for d in description.objects(DATASET, DCAT.distribution)
        if description.value(d, DCAT.downloadURL) is not None
    }
    assert {d["contentUrl"] for d in downloads} == files
    by_name = {d["contentUrl"].rpartition("/")[2]: d for d in downloads}
    assert by_name["hrgraph.ttl"]["encodingFormat"] == "text/turtle"
    assert by_name["hrgraph.nt.gz"]["encodingFormat"] == "application/gzip"
    assert by_name["cities.csv"]["encodingFormat"] == "text/csv"
    for download in downloads:
        assert download["@type"] == "DataDownload" and download["name"]
        # the base IRI maps onto this server
        response = client.head("/" + download["contentUrl"].removeprefix(BASE))
        assert response.status_code == 200, download["contentUrl"]


def test_the_same_markup_on_both_pages(client: httpx.Client) -> None:
    for lang in LANGS:
        assert markup(client, "/", lang) == markup(client, "/dataset", lang)


def test_the_dataset_is_still_rdf_for_rdf_clients(client: httpx.Client) -> None:
    for accept in ("text/turtle", "application/ld+json", "*/*"):
        response = client.get("/dataset", headers={"Accept": accept})
        expected = "text/turtle" if accept == "*/*" else accept
        assert response.headers["content-type"].startswith(expected)
        assert "<script" not in response.text
    html = client.get("/dataset.html")
    assert html.headers["content-type"].startswith("text/html")
    assert 'type="application/ld+json"' in html.text
