"""Dereferenceable IRIs: every IRI of the release under its base IRI answers on this server (the
request path maps onto the base: GET /id/city/whitehorse is <{base}id/city/whitehorse>).

What a resource IRI returns is its *description*: every triple with it as subject, one level of
blank nodes below those (a concise bounded description, CBD), the labels of the IRIs it points to,
the triples that point at it from other IRIs (inbound links), and the rdf:Statement nodes that
give each of its statements' sources and certainty. Document IRIs return the whole
document: /ontology (and every /ontology#Term) the ontology graph, /shapes the shapes graphs,
/graph/... that named graph; /catalog and /dataset the release's DCAT + VoID (description.ttl).
A browser gets the page of what the path names (web.html; /dataset's carries the schema.org
Dataset). Every answer goes through the same safety check and engine as a user's query.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hrgraph.engine.publisher import Release
from hrgraph.engine.queries import bindings, execute, run_json
from hrgraph.errors import UnknownResourceError
from hrgraph.pages.index import index
from hrgraph.vocab import LANGUAGES
from hrgraph.web import html, negotiation
from hrgraph.web.http import answer, not_modified, prepare, publisher_of
from hrgraph.web.service import description_response

router = APIRouter()

#: The representations of a resource, in the server's order of preference. TriG (its triples in
#: the default graph) is for clients that prefer it, such as Comunica; it has no extension.
REPRESENTATIONS: tuple[str, ...] = (
    "text/turtle",
    "text/html",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
    "application/trig",
)
#: Characters that cannot appear in a SPARQL IRIREF: a path holding one is no IRI of ours.
_NOT_IN_IRI = frozenset('<>"{}|^`\\ ') | frozenset(chr(c) for c in range(0x21))

PREFIXES = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
"""
LABELS = """
  OPTIONAL { ?p rdfs:label ?plabel FILTER(lang(?plabel) IN ("en", "fr")) }
  OPTIONAL { ?o rdfs:label|skos:prefLabel ?olabel
             FILTER(isIRI(?o) && lang(?olabel) IN ("", "en", "fr")) }"""


@dataclass(frozen=True)
class Target:
    """What a request path names: a resource, a whole document, or the release description."""

    iri: str
    kind: str  # "resource" | "document" | "description"
    path: str  # the path without an extension
    media: str | None = None  # forced by an extension (.ttl, .jsonld, ...)
    graph: str = ""  # documents: the graph IRI, or a prefix ending with '/'


def resources(release: Release) -> frozenset[str]:
    """Every IRI under the base that is the subject of a triple (computed once per release)."""
    query = f"""SELECT DISTINCT ?s WHERE {{ ?s ?p ?o
        FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{release.base_iri}")) }}"""
    return release.memo(
        "resources",
        lambda: frozenset(row["s"]["value"] for row in bindings(run_json(release, query))),
    )


def documents(release: Release) -> dict[str, str]:
    """Document IRIs → the graph (or graph prefix) each one is."""

    def compute() -> dict[str, str]:
        base = release.base_iri
        found = {
            base + "ontology": base + "graph/ontology/",
            base + "shapes": base + "graph/shapes/",
        }
        query = PREFIXES + f"SELECT ?v WHERE {{ <{base}ontology> owl:versionIRI ?v }}"
        for row in bindings(run_json(release, query)):
            found[row["v"]["value"]] = base + "graph/ontology/"
        found.update({g: g for g in release.graphs if g.startswith(base)})
        return found

    return release.memo("documents", compute)


def locate(release: Release, path: str) -> Target | None:
    if any(c in _NOT_IN_IRI for c in path):
        return None
    found = _exact(release, path)
    if found is not None:
        return found
    stem, dot, extension = path.rpartition(".")
    if dot and extension in negotiation.EXTENSIONS:
        found = _exact(release, stem)
        if found is not None:
            return Target(
                found.iri, found.kind, stem, negotiation.EXTENSIONS[extension], found.graph
            )
    return None


def _exact(release: Release, path: str) -> Target | None:
    iri = release.base_iri + path
    if path in ("catalog", "dataset"):
        return Target(iri, "description", path)
    graph = documents(release).get(iri)
    if graph is not None:
        return Target(iri, "document", path, graph=graph)
    if iri in resources(release):
        return Target(iri, "resource", path)
    return None


def construct(target: Target) -> str:
    """The CONSTRUCT that gives a target's RDF (see the module docstring for what is in it)."""
    if target.kind == "document":
        return (
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {_graph_filter(target)} }}"
        )
    iri = f"<{target.iri}>"
    return (
        PREFIXES
        + f"""CONSTRUCT {{
  {iri} ?p ?o . ?o ?bp ?bo . ?o rdfs:label ?label . ?o skos:prefLabel ?pref .
  ?s ?ip {iri} . ?s rdfs:label ?slabel . ?statement ?sp ?so .
}} WHERE {{
  {{ {iri} ?p ?o
    OPTIONAL {{ ?o ?bp ?bo FILTER(isBlank(?o)) }}
    OPTIONAL {{ ?o rdfs:label ?label FILTER(isIRI(?o)) }}
    OPTIONAL {{ ?o skos:prefLabel ?pref FILTER(isIRI(?o)) }}
  }} UNION {{
    ?s ?ip {iri} FILTER(isIRI(?s)) OPTIONAL {{ ?s rdfs:label ?slabel }}
  }} UNION {{
    ?statement rdf:subject {iri} ; ?sp ?so FILTER(isBlank(?statement))
  }}
}}"""
    )


def rows_query(target: Target) -> str:
    """The SELECT behind a target's HTML page: subject, predicate, object and their labels in
    English and French (the page shows those of its language)."""
    if target.kind == "document":
        where = f'GRAPH ?g {{ ?s ?p ?o }} {_graph_filter(target)} BIND("out" AS ?dir)'
    else:
        iri = f"<{target.iri}>"
        where = f"""{{ {iri} ?p ?o BIND({iri} AS ?s) BIND("out" AS ?dir) }}
  UNION {{ ?o ?p {iri} FILTER(isIRI(?o)) BIND({iri} AS ?s) BIND("in" AS ?dir) }}"""
    return PREFIXES + f"SELECT ?dir ?s ?p ?o ?plabel ?olabel WHERE {{ {where} {LABELS} }}"


def _graph_filter(target: Target) -> str:
    if target.graph.endswith("/"):
        return f'FILTER(STRSTARTS(STR(?g), "{target.graph}"))'
    return f"FILTER(?g = <{target.graph}>)"


def link_header(path: str) -> str:
    return ", ".join(
        f'</{path}.{extension}>; rel="alternate"; type="{media}"'
        for extension, media in negotiation.EXTENSIONS.items()
    )


@router.api_route("/dataset", methods=["GET", "HEAD"], include_in_schema=False)
def dataset(request: Request) -> Response:
    """/dataset as every path is served, except that its page carries the schema.org Dataset."""
    accept, format = request.headers.get("accept"), request.query_params.get("format")
    if negotiation.choose(accept, REPRESENTATIONS, format) != "text/html":
        return dereference(request, "dataset")
    return dataset_page(request)


@router.api_route("/dataset.html", methods=["GET", "HEAD"], include_in_schema=False)
def dataset_page(request: Request) -> Response:
    with publisher_of(request).snapshot() as release:
        target = locate(release, "dataset")
        assert target is not None  # /dataset is always the release's description
        headers = {"Vary": "Accept", "Link": link_header("dataset")}
        query = rows_query(target)
        return html.dataset_page(request, release, target.iri, target.path, query, headers)


# Last: this route catches every path the routes before it did not take.
@router.api_route("/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
def dereference(request: Request, path: str) -> Response:
    with publisher_of(request).snapshot() as release:
        target = locate(release, path)
        if target is None:
            raise unknown(release, path)
        media = target.media or negotiation.choose(
            request.headers.get("accept"), REPRESENTATIONS, request.query_params.get("format")
        )
        headers = {"Vary": "Accept", "Link": link_header(target.path)}
        if media == "text/html":
            return page(request, release, target, headers)
        if target.kind == "description":
            return description_response(request, release, target.path)
        prepared = prepare(release, construct(target), media)
        if not_modified(request, prepared.etag):
            return answer(request, release, prepared.etag, b"", media, headers)
        result = execute(release, prepared)
        return answer(request, release, prepared.etag, result.body, result.media_type, headers)


def page(request: Request, release: Release, target: Target, headers: dict[str, str]) -> Response:
    """The HTML branch: a resource's page, or a document's (every triple, by subject)."""
    if target.kind == "resource":
        query = construct(target)
        return html.resource_page(request, release, target.iri, target.path, query, headers)
    query = rows_query(target)
    return html.document_page(request, release, target.iri, target.path, query, headers)


def unknown(release: Release, path: str) -> UnknownResourceError:
    base = release.base_iri
    known = [iri[len(base) :] for iri in resources(release)]
    close = ["/" + p for p in difflib.get_close_matches(path, known, n=5, cutoff=0.6)]
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    labels = index(release)
    return UnknownResourceError(
        f"nothing is published at <{base}{path}> in release {release.version}.{hint} Every "
        "resource is listed in /sitemap.xml; query the data at /sparql; download it all from "
        "/downloads/.",
        close,
        {p: {lang: labels.label(base + p[1:], lang) for lang in LANGUAGES} for p in close},
    )
