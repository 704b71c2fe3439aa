"""Descriptions of the service and the dataset: the SPARQL Service Description (with VoID) at
/sparql, the release's own DCAT + VoID (description.ttl) in every RDF format by Accept, and the
schema.org Dataset the pages embed for search engines, read from that same description."""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.responses import Response
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, SKOS, VOID, XSD
from rdflib.term import Node

from hrgraph.engine.interface import BOOLEAN_TYPES, GRAPH_TYPES, RESULT_TYPES
from hrgraph.engine.publisher import Release
from hrgraph.engine.queries import bindings, etag_of, run_json
from hrgraph.vocab import IANA, LANGUAGES
from hrgraph.web import negotiation
from hrgraph.web.http import answer

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
#: DCAT 3 (rdflib's DCAT is DCAT 2, without dcat:version).
DCAT = Namespace("http://www.w3.org/ns/dcat#")

#: RDF media types a description can be sent in, and rdflib's name for each (first = default).
RDF_FORMATS: dict[str, str] = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
    # A Turtle document is TriG with every triple in the default graph; rdflib's TriG writer
    # would wrap the Graph in a blank-node graph (`_:b { }`), which TriG clients read as empty.
    "application/trig": "turtle",
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


def graph_sizes(release: Release) -> dict[str, int]:
    """Triples per named graph, and in the (union) default graph under the key ''."""

    def compute() -> dict[str, int]:
        rows = bindings(run_json(release, GRAPH_SIZES))
        sizes = {row["g"]["value"]: int(row["n"]["value"]) for row in rows}
        total = bindings(run_json(release, DEFAULT_SIZE))
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
    endpoint: str,
    accept: str | None,
    format: str | None,
) -> Response:
    media = negotiation.choose(accept, tuple(RDF_FORMATS), format)
    etag = etag_of(release.version, "service", endpoint, media)
    body = serialize(describe_service(endpoint, release, graph_sizes(release)), media)
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


# --- schema.org, for dataset search engines ---------------------------------------------------

POINT = re.compile(r"^POINT\((?P<long>\S+) (?P<lat>\S+)\)$")
CODES = {iri: code for code, iri in LANGUAGES.items()}
Markup = dict[str, object]


def schema_org(release: Release, lang: str) -> Markup:
    """The release's schema.org Dataset (what Google Dataset Search reads) in `lang`, derived
    from description.ttl: the pages never restate the description by hand."""
    return dataset_markup(description_document(release), release.base_iri, lang)


def dataset_markup(graph: Graph, base: str, lang: str) -> Markup:
    dataset = URIRef(base + "dataset")
    other = next(code for code in LANGUAGES if code != lang)
    markup: Markup = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": str(dataset),
        "url": str(dataset),
        "name": _text(graph, dataset, DCTERMS.title, lang),
        "alternateName": _text(graph, dataset, DCTERMS.title, other),
        "description": _text(graph, dataset, DCTERMS.description, lang),
        "identifier": str(graph.value(dataset, DCTERMS.identifier)),
        "version": str(graph.value(dataset, DCAT.version)),
        "inLanguage": sorted(CODES[str(i)] for i in graph.objects(dataset, DCTERMS.language)),
        "datePublished": str(graph.value(dataset, DCTERMS.issued)),
        "dateModified": str(graph.value(dataset, DCTERMS.modified)),
        "license": str(graph.value(dataset, DCTERMS.license)),
        "keywords": sorted(_texts(graph, dataset, DCAT.keyword, lang)),
        "creator": [
            _agent(graph, a, lang) for a in sorted(graph.objects(dataset, DCTERMS.creator), key=str)
        ],
        "publisher": _agent(graph, graph.value(dataset, DCTERMS.publisher), lang),
        "temporalCoverage": _period(graph, graph.value(dataset, DCTERMS.temporal)),
        "spatialCoverage": [
            _place(graph, p, lang) for p in sorted(graph.objects(dataset, DCTERMS.spatial), key=str)
        ],
        "distribution": _downloads(graph, dataset, lang),
        "includedInDataCatalog": _catalog(graph, dataset, lang),
    }
    return {key: value for key, value in markup.items() if value not in ("", "None", None, [])}


def _texts(graph: Graph, subject: Node, predicate: URIRef, lang: str) -> list[str]:
    return [
        str(o) for o in graph.objects(subject, predicate) if getattr(o, "language", None) == lang
    ]


def _text(graph: Graph, subject: Node, predicate: URIRef, lang: str) -> str:
    """The text in `lang`, else in English, else any."""
    for wanted in (lang, "en"):
        found = _texts(graph, subject, predicate, wanted)
        if found:
            return min(found)
    return str(graph.value(subject, predicate) or "")


def _agent(graph: Graph, agent: Node | None, lang: str) -> Markup | None:
    if agent is None:
        return None
    return {
        "@type": "Organization",
        "@id": str(agent),
        "name": _text(graph, agent, FOAF.name, lang),
    }


def _period(graph: Graph, period: Node | None) -> str:
    """An ISO 8601 interval, as precise as the description's dates."""
    start, end = graph.value(period, DCAT.startDate), graph.value(period, DCAT.endDate)
    return f"{start}/{end}" if start is not None and end is not None else ""


def _place(graph: Graph, place: Node, lang: str) -> Markup:
    markup: Markup = {
        "@type": "Place",
        "name": _text(graph, place, SKOS.prefLabel, lang),
        "sameAs": str(place),
    }
    point = POINT.match(str(graph.value(place, DCAT.centroid) or ""))
    if point:
        markup["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": float(point["lat"]),
            "longitude": float(point["long"]),
        }
    return markup


def _downloads(graph: Graph, dataset: URIRef, lang: str) -> list[Markup]:
    """Every distribution that is a file (the SPARQL endpoint is not a download)."""
    found: list[Markup] = []
    for dist in sorted(graph.objects(dataset, DCAT.distribution), key=str):
        url = graph.value(dist, DCAT.downloadURL)
        if url is None:
            continue
        # What the URL serves: the compression when there is one (hrgraph.nt.gz is gzip).
        media = graph.value(dist, DCAT.compressFormat) or graph.value(dist, DCAT.mediaType)
        found.append(
            {
                "@type": "DataDownload",
                "name": _text(graph, dist, DCTERMS.title, lang),
                "contentUrl": str(url),
                "encodingFormat": str(media).removeprefix(IANA),
                "contentSize": f"{graph.value(dist, DCAT.byteSize)} B",
            }
        )
    return found


def _catalog(graph: Graph, dataset: URIRef, lang: str) -> Markup | None:
    catalog = graph.value(predicate=DCAT.dataset, object=dataset)
    if catalog is None:
        return None
    return {
        "@type": "DataCatalog",
        "@id": str(catalog),
        "url": str(catalog),
        "name": _text(graph, catalog, DCTERMS.title, lang),
    }
