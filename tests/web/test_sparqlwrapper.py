"""SPARQLWrapper 2.0.0 as a real client of the real server: every query form in every return
format SPARQLWrapper has for it, by GET, POST form and POST body, with the parsed results checked.

SPARQLWrapper sends `format=`, `output=` and `results=` with its own names (json-ld, n3, rdf+xml,
...) beside an Accept header; for JSON-LD, TSV and RDF/XML it repeats `format=` with the Accept
header's media types, comma-separated. JSON and RDF for a CONSTRUCT have no Accept of their own
(it sends */* and warns), so there `format=` decides.
"""

from __future__ import annotations

import csv
import io
import urllib.error
from pathlib import Path
from typing import Any
from xml.dom.minidom import Document

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)
from SPARQLWrapper import RDF as RDF_FORMAT

# SPARQLWrapper parses RDF/XML and JSON-LD answers into rdflib's ConjunctiveGraph.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

ROOT = Path(__file__).resolve().parents[2]
HR = "https://w3id.org/hrgraph/ontology#"
WHITEHORSE = "https://w3id.org/hrgraph/id/city/whitehorse"
PREFIX = f"PREFIX hr: <{HR}>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
SELECT = PREFIX + "SELECT ?city WHERE { ?city a hr:City } ORDER BY ?city"
ASK_QUERY = PREFIX + f"ASK {{ <{WHITEHORSE}> a hr:City }}"
CONSTRUCT = PREFIX + (
    "CONSTRUCT { ?city a hr:City ; rdfs:label ?label }\n"
    "WHERE { ?city a hr:City ; rdfs:label ?label }"
)
DESCRIBE = f"DESCRIBE <{WHITEHORSE}>"
#: GET; POST with a form (SPARQLWrapper's default for POST); POST with the query as the body.
TRANSPORTS = [(GET, URLENCODED), (POST, URLENCODED), (POST, POSTDIRECTLY)]
IDS = ["get", "post-form", "post-direct"]


def cities() -> set[str]:
    """The cities of the shipped data (nine: the report's site visits)."""
    quads = ox.parse(path=ROOT / "data" / "places.ttl", format=ox.RdfFormat.TURTLE)
    found = {
        q.subject.value
        for q in quads
        if q.predicate.value == str(RDF.type) and q.object == ox.NamedNode(HR + "City")
    }
    assert len(found) == 9
    return found


def run(url: str, query: str, fmt: str, transport: tuple[str, str]) -> Any:
    client = SPARQLWrapper(f"{url}/sparql")
    client.setQuery(query)
    client.setReturnFormat(fmt)
    client.setMethod(transport[0])
    client.setRequestMethod(transport[1])
    answer = client.query()
    try:
        return answer.convert()
    finally:
        answer.response.close()  # queryAndConvert() leaves the socket to the garbage collector


def rows_of(text: bytes, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.decode("utf-8")), delimiter=delimiter))


def xml_values(document: Document, tag: str) -> list[str]:
    return [node.firstChild.data for node in document.getElementsByTagName(tag)]  # type: ignore[union-attr]


def graph_of(result: Any) -> Graph:
    """An rdflib graph of a CONSTRUCT/DESCRIBE answer: SPARQLWrapper gives Turtle and N3 as bytes,
    RDF/XML and JSON-LD already parsed."""
    if isinstance(result, bytes):
        return Graph().parse(data=result, format="turtle")
    assert isinstance(result, Graph)
    return result


# --- SELECT ----------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS, ids=IDS)
def test_select_json(live_url: str, transport: tuple[str, str]) -> None:
    result = run(live_url, SELECT, JSON, transport)
    assert result["head"]["vars"] == ["city"]
    assert {row["city"]["value"] for row in result["results"]["bindings"]} == cities()


@pytest.mark.parametrize("transport", TRANSPORTS, ids=IDS)
def test_select_xml(live_url: str, transport: tuple[str, str]) -> None:
    result = run(live_url, SELECT, XML, transport)
    assert isinstance(result, Document)
    assert set(xml_values(result, "uri")) == cities()


@pytest.mark.parametrize("transport", TRANSPORTS, ids=IDS)
def test_select_csv(live_url: str, transport: tuple[str, str]) -> None:
    header, *rows = rows_of(run(live_url, SELECT, CSV, transport), ",")
    assert header == ["city"]
    assert {row[0] for row in rows} == cities()


@pytest.mark.parametrize("transport", TRANSPORTS, ids=IDS)
def test_select_tsv(live_url: str, transport: tuple[str, str]) -> None:
    header, *rows = rows_of(run(live_url, SELECT, TSV, transport), "\t")
    assert header == ["?city"]
    assert {row[0] for row in rows} == {f"<{city}>" for city in cities()}


# --- ASK -------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS, ids=IDS)
def test_ask_json_and_xml(live_url: str, transport: tuple[str, str]) -> None:
    assert run(live_url, ASK_QUERY, JSON, transport)["boolean"] is True
    document = run(live_url, ASK_QUERY, XML, transport)
    assert xml_values(document, "boolean") == ["true"]
    no = ASK_QUERY.replace("hr:City", "hr:Program")
    assert run(live_url, no, JSON, transport)["boolean"] is False


@pytest.mark.parametrize("fmt", [CSV, TSV])
def test_ask_as_a_table_is_a_clean_406(live_url: str, fmt: str) -> None:
    """SPARQL CSV/TSV results are defined for SELECT only, and the engines here answer ASK in
    JSON or XML: a table asked for is refused (406), not answered in another format."""
    with pytest.raises(urllib.error.HTTPError) as caught:
        run(live_url, ASK_QUERY, fmt, TRANSPORTS[0])
    caught.value.close()  # the error holds the response open
    assert caught.value.code == 406


# --- CONSTRUCT and DESCRIBE --------------------------------------------------------------------

#: Return formats with an Accept header of their own, and the media type the answer comes in.
GRAPH_FORMATS = {
    TURTLE: "text/turtle",
    N3: "text/turtle",  # Turtle is N3
    XML: "application/rdf+xml",
    RDFXML: "application/rdf+xml",
    JSONLD: "application/ld+json",
}
#: Return formats SPARQLWrapper sends with Accept: */* (and a warning): format= decides.
WILDCARD_FORMATS = {JSON: "application/ld+json", RDF_FORMAT: "application/rdf+xml"}


def graph_answer(url: str, query: str, fmt: str, transport: tuple[str, str]) -> Graph:
    if fmt in WILDCARD_FORMATS:
        with pytest.warns(RuntimeWarning, match="Accept header"):
            return graph_of(run(url, query, fmt, transport))
    return graph_of(run(url, query, fmt, transport))


@pytest.mark.parametrize("transport", TRANSPORTS, ids=IDS)
@pytest.mark.parametrize("fmt", [*GRAPH_FORMATS, *WILDCARD_FORMATS])
def test_construct(live_url: str, fmt: str, transport: tuple[str, str]) -> None:
    graph = graph_answer(live_url, CONSTRUCT, fmt, transport)
    city = URIRef(HR + "City")
    assert {str(s) for s in graph.subjects(RDF.type, city)} == cities()
    assert (URIRef(WHITEHORSE), RDFS.label, Literal("Whitehorse", lang="en")) in graph
    assert len(graph) == 9 + len(list(graph.triples((None, RDFS.label, None))))


@pytest.mark.parametrize("transport", TRANSPORTS, ids=IDS)
@pytest.mark.parametrize("fmt", [*GRAPH_FORMATS, *WILDCARD_FORMATS])
def test_describe(live_url: str, fmt: str, transport: tuple[str, str]) -> None:
    graph = graph_answer(live_url, DESCRIBE, fmt, transport)
    whitehorse = URIRef(WHITEHORSE)
    assert (whitehorse, RDF.type, URIRef(HR + "City")) in graph
    assert (whitehorse, RDFS.label, Literal("Whitehorse", lang="fr")) in graph
    assert (whitehorse, URIRef(HR + "province"), None) in graph


@pytest.mark.parametrize("fmt", list(GRAPH_FORMATS))
def test_the_answer_comes_in_the_format_asked(live_url: str, fmt: str) -> None:
    client = SPARQLWrapper(f"{live_url}/sparql")
    client.setQuery(CONSTRUCT)
    client.setReturnFormat(fmt)
    answer = client.query()
    try:
        assert answer.info()["content-type"].split(";")[0] == GRAPH_FORMATS[fmt]
        assert len(graph_of(answer.convert())) > 9
    finally:
        answer.response.close()
