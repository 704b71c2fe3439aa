"""Descriptions of the service and the dataset: the SPARQL Service Description (with VoID) at
/sparql, and the release's own DCAT + VoID (description.ttl) in every RDF format by Accept."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, VOID, XSD

from hrgraph import negotiation
from hrgraph.config import Settings
from hrgraph.engine import BOOLEAN_TYPES, GRAPH_TYPES, RESULT_TYPES
from hrgraph.publisher import Release
from hrgraph.web import answer, bindings, etag_of, run_json

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")

#: RDF media types a description can be sent in, and rdflib's name for each (first = default).
RDF_FORMATS: dict[str, str] = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
    "application/trig": "trig",
}

#: Media type → the W3C format IRI (https://www.w3.org/ns/formats/) named by sd:resultFormat.
FORMAT_IRIS: dict[str, str] = {
    "application/sparql-results+json": "SPARQL_Results_JSON",
    "application/sparql-results+xml": "SPARQL_Results_XML",
    "text/csv": "SPARQL_Results_CSV",
    "text/tab-separated-values": "SPARQL_Results_TSV",
    "text/turtle": "Turtle",
    "application/n-triples": "N-Triples",
    "application/ld+json": "JSON-LD",
    "application/rdf+xml": "RDF_XML",
    "application/trig": "TriG",
}

GRAPH_SIZES = """SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"""
DEFAULT_SIZE = """SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"""


def serialize(graph: Graph, media_type: str) -> bytes:
    data = graph.serialize(format=RDF_FORMATS[media_type], encoding="utf-8")
    return data if isinstance(data, bytes) else data.encode()


def graph_sizes(release: Release, settings: Settings) -> dict[str, int]:
    """Triples per named graph, and in the (union) default graph under the key ''."""

    def compute() -> dict[str, int]:
        rows = bindings(run_json(release, settings, GRAPH_SIZES))
        sizes = {row["g"]["value"]: int(row["n"]["value"]) for row in rows}
        total = bindings(run_json(release, settings, DEFAULT_SIZE))
        sizes[""] = int(total[0]["n"]["value"]) if total else 0
        return sizes

    return release.memo("graph-sizes", compute)


def describe_service(endpoint: str, release: Release, sizes: dict[str, int]) -> Graph:
    graph = Graph()
    graph.bind("sd", SD)
    graph.bind("void", VOID)
    graph.bind("dct", DCTERMS)
    service, here = BNode("service"), URIRef(endpoint)
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, here))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    for media in dict.fromkeys((*RESULT_TYPES, *BOOLEAN_TYPES, *GRAPH_TYPES)):
        graph.add((service, SD.resultFormat, FORMATS[FORMAT_IRIS[media]]))
    graph.add((service, SD.defaultDataset, _dataset(graph, endpoint, release, sizes)))
    return graph


def _dataset(graph: Graph, endpoint: str, release: Release, sizes: dict[str, int]) -> BNode:
    dataset, default = BNode("dataset"), BNode("default-graph")
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, RDF.type, VOID.Dataset))
    graph.add((dataset, VOID.sparqlEndpoint, URIRef(endpoint)))
    graph.add((dataset, DCTERMS.identifier, Literal(release.version)))
    graph.add((dataset, DCTERMS.isVersionOf, URIRef(release.base_iri + "dataset")))
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    graph.add((default, VOID.triples, Literal(sizes.get("", 0), datatype=XSD.integer)))
    for index, name in enumerate(sorted(n for n in sizes if n)):
        named, described = BNode(f"named{index}"), BNode(f"graph{index}")
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, URIRef(name)))
        graph.add((named, SD.graph, described))
        graph.add((described, RDF.type, SD.Graph))
        graph.add((described, VOID.triples, Literal(sizes[name], datatype=XSD.integer)))
    return dataset


def service_description(
    request: Request,
    release: Release,
    settings: Settings,
    endpoint: str,
    accept: str | None,
    format: str | None,
) -> Response:
    media = negotiation.choose(accept, tuple(RDF_FORMATS), format)
    etag = etag_of(release.version, "service", endpoint, media)
    body = serialize(describe_service(endpoint, release, graph_sizes(release, settings)), media)
    return answer(request, release, etag, body, media, {"Vary": "Accept"})


def description_document(release: Release) -> Graph:
    """The release's DCAT + VoID (description.ttl), parsed once per release."""

    def parse() -> Graph:
        graph = Graph()
        graph.parse(release.path / "description.ttl", format="turtle")
        return graph

    return release.memo("description", parse)


def description_response(request: Request, release: Release, what: str) -> Response:
    media = negotiation.choose(
        request.headers.get("accept"), tuple(RDF_FORMATS), request.query_params.get("format")
    )
    etag = etag_of(release.version, what, media)
    body = release.memo(
        f"description:{media}", lambda: serialize(description_document(release), media)
    )
    return answer(request, release, etag, body, media, {"Vary": "Accept"})
