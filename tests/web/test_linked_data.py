"""Dereferenceable IRIs: every IRI of the shipped release answers on the server, in all five
representations, by Accept and by extension."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import httpx
import pyoxigraph as ox
import pytest
from bs4 import BeautifulSoup
from rdflib import Graph, URIRef

from hrgraph.build.writer import current_release
from hrgraph.config import CANONICAL_BASE, Settings

BASE = CANONICAL_BASE
REPRESENTATIONS = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def iris(served_settings: Settings) -> list[str]:
    """Every IRI under the base that is the subject of a triple in the release's store."""
    release = current_release(served_settings.releases)
    assert release is not None
    store = ox.Store.read_only(str(release / "store"))
    found = {
        q.subject.value
        for q in store.quads_for_pattern(None, None, None, None)
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(BASE)
    }
    assert len(found) > 300
    return sorted(found)


def path_of(iri: str) -> str:
    return "/" + iri[len(BASE) :].partition("#")[0]


def by_path(iris: list[str]) -> dict[str, list[str]]:
    """IRIs grouped by the path they dereference at (hash IRIs share their document's)."""
    groups: dict[str, list[str]] = {}
    for iri in iris:
        groups.setdefault(path_of(iri), []).append(iri)
    return groups


def check_rdf(client: httpx.Client, path: str, iris: list[str], media: str) -> str | None:
    response = client.get(path, headers={"Accept": media})
    if response.status_code != 200:
        return f"{path} {media}: {response.status_code}"
    if not response.headers["content-type"].startswith(media):
        return f"{path} {media}: answered {response.headers['content-type']}"
    graph = Graph().parse(data=response.content, format=REPRESENTATIONS[media])
    missing = [iri for iri in iris if (URIRef(iri), None, None) not in graph]
    return f"{path} {media}: {missing} not subjects of the answer" if missing else None


@pytest.mark.parametrize("media", list(REPRESENTATIONS))
def test_every_iri_dereferences_as_rdf(client: httpx.Client, iris: list[str], media: str) -> None:
    groups = by_path(iris)
    with ThreadPoolExecutor(8) as pool:
        found = pool.map(lambda path: check_rdf(client, path, groups[path], media), groups)
        failures = [failure for failure in found if failure]
    assert failures == []


def check_html(client: httpx.Client, path: str) -> str | None:
    response = client.get(path, headers={"Accept": BROWSER})
    if response.status_code != 200 or not response.headers["content-type"].startswith("text/html"):
        return f"{path}: {response.status_code} {response.headers.get('content-type')}"
    page = BeautifulSoup(response.text, "html.parser")
    if page.title is None or page.find("table") is None:
        return f"{path}: no title or no table"
    return None


def test_every_iri_has_an_html_page(client: httpx.Client, iris: list[str]) -> None:
    with ThreadPoolExecutor(8) as pool:
        failures = [f for f in pool.map(lambda p: check_html(client, p), by_path(iris)) if f]
    assert failures == []


def test_html_page_content(client: httpx.Client) -> None:
    page = BeautifulSoup(
        client.get("/id/city/whitehorse", headers={"Accept": BROWSER}).text, "html.parser"
    )
    assert page.h1 is not None and page.h1.text == "Whitehorse"
    links = {a["href"] for a in page.find_all("a")}
    assert "/id/city/whitehorse.ttl" in links
    assert "/id/province/yukon" in links or any(h.startswith("/id/province/") for h in links)
    formats = [
        link for link in page.find_all("link", rel="alternate") if "hreflang" not in link.attrs
    ]
    alternates = {link["type"] for link in formats}  # the hreflang links are language alternates
    assert alternates == set(REPRESENTATIONS)


@pytest.mark.parametrize(
    ("suffix", "media"),
    [
        (".ttl", "text/turtle"),
        (".jsonld", "application/ld+json"),
        (".nt", "application/n-triples"),
        (".rdf", "application/rdf+xml"),
        (".trig", "application/trig"),
        (".html", "text/html"),
    ],
)
def test_extension_overrides_accept(client: httpx.Client, suffix: str, media: str) -> None:
    response = client.get(f"/id/city/whitehorse{suffix}", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)


def test_vary_and_link_headers(client: httpx.Client) -> None:
    response = client.get("/id/city/whitehorse")
    assert "Accept" in response.headers["vary"]
    links = response.headers["link"]
    for suffix, media in [("ttl", "text/turtle"), ("jsonld", "application/ld+json")]:
        assert f'</id/city/whitehorse.{suffix}>; rel="alternate"; type="{media}"' in links
    assert response.headers["content-type"].startswith("text/turtle")  # the default for */*


def test_documents(client: httpx.Client) -> None:
    ontology = Graph().parse(data=client.get("/ontology.ttl").content, format="turtle")
    assert (URIRef(BASE + "ontology#Program"), None, None) in ontology
    assert (URIRef(BASE + "ontology"), None, None) in ontology
    shapes = Graph().parse(data=client.get("/shapes.ttl").content, format="turtle")
    assert len(shapes) > 100
    scheme = client.get("/id/scheme/bpr2013", headers={"Accept": "text/turtle"})
    assert scheme.status_code == 200
    html = client.get("/ontology", headers={"Accept": BROWSER}).text
    assert 'id="Program"' in html  # /ontology#Program lands on its section


def test_object_only_iris(client: httpx.Client, served_settings: Settings) -> None:
    """IRIs that are only objects (the ontology's version IRI, downloads) answer too."""
    release = current_release(served_settings.releases)
    assert release is not None
    response = client.get("/ontology/0.1.0", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    download = client.get(f"/downloads/{release.name}/hrgraph.ttl")
    assert download.status_code == 200


def test_unknown_iri_is_a_helpful_404(client: httpx.Client) -> None:
    response = client.get("/id/city/whitehorsee", headers={"Accept": "application/json"})
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "unknown-resource"
    assert "/id/city/whitehorse" in body["message"]
    assert "/sparql" in body["message"]
    html = client.get("/id/city/whitehorsee", headers={"Accept": BROWSER})
    assert html.status_code == 404
    named = 'href="/id/city/whitehorse?lang=en">Whitehorse</a>'  # by its label, in its language
    assert named in html.text
    for path in ("/id/city/white horse", "/id/<x>", "/nothing.ttl", "/id/city/whitehorse.exe"):
        assert client.get(path).status_code == 404


def test_resource_etag(client: httpx.Client) -> None:
    first = client.get("/id/city/whitehorse.ttl")
    again = client.get("/id/city/whitehorse.ttl", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    html = client.get("/id/city/whitehorse", headers={"Accept": BROWSER})
    assert html.headers["etag"] != first.headers["etag"]


def test_catalog_and_dataset(client: httpx.Client) -> None:
    dcat = "http://www.w3.org/ns/dcat#"
    for path in ("/catalog", "/dataset", "/.well-known/void"):
        graph = Graph().parse(data=client.get(path).content, format="turtle")
        assert (
            URIRef(BASE + "catalog"),
            URIRef(dcat + "dataset"),
            URIRef(BASE + "dataset"),
        ) in graph
    jsonld = client.get("/catalog", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith("application/ld+json")


def test_sitemap(client: httpx.Client, iris: list[str]) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    locs = {loc.text for loc in ET.fromstring(response.content).iter(namespace + "loc")}
    root = str(client.base_url).rstrip("/")  # the server it was asked at
    assert {root + path_of(iri) for iri in iris} <= locs


def trig_quads(response: httpx.Response) -> list[ox.Quad]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/trig; charset=utf-8"
    return list(ox.parse(response.content, format=ox.RdfFormat.TRIG))


def test_every_iri_dereferences_as_trig_in_the_default_graph(
    client: httpx.Client, iris: list[str]
) -> None:
    """`Accept: application/trig` alone (Comunica's first choice): the triples are in TriG's
    default graph, where a client that reads one graph looks."""

    def check(path: str) -> str | None:
        quads = trig_quads(client.get(path, headers={"Accept": "application/trig"}))
        subjects = {q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)}
        if any(q.graph_name != ox.DefaultGraph() for q in quads):
            return f"{path}: triples outside the default graph"
        missing = [iri for iri in by_path(iris)[path] if iri not in subjects]
        return f"{path}: {missing} not subjects of the answer" if missing else None

    paths = [path for path in by_path(iris) if path not in DESCRIPTIONS]  # tested below
    with ThreadPoolExecutor(8) as pool:
        failures = [f for f in pool.map(check, paths) if f]
    assert failures == []


DESCRIPTIONS = ["/catalog", "/dataset", "/.well-known/void"]


@pytest.mark.parametrize("path", DESCRIPTIONS)
def test_descriptions_answer_trig_alone(client: httpx.Client, path: str) -> None:
    quads = trig_quads(client.get(path, headers={"Accept": "application/trig"}))
    assert quads


@pytest.mark.parametrize("path", [*DESCRIPTIONS, "/sparql"])
def test_descriptions_as_trig_are_in_the_default_graph(client: httpx.Client, path: str) -> None:
    """rdflib's TriG writer puts a plain Graph in a blank-node graph (`_:N... { }`), where
    Comunica finds no catalog; a Turtle document is TriG with every triple in the default graph."""
    quads = trig_quads(client.get(path, headers={"Accept": "application/trig"}))
    assert all(q.graph_name == ox.DefaultGraph() for q in quads)
    dcat = "http://www.w3.org/ns/dcat#"
    if path != "/sparql":
        catalog = ox.Triple(
            ox.NamedNode(BASE + "catalog"),
            ox.NamedNode(dcat + "dataset"),
            ox.NamedNode(BASE + "dataset"),
        )
        assert catalog in {q.triple for q in quads}
