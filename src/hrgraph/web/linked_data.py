"""Dereferenceable IRIs: every IRI of the release under its base IRI answers on this server (the
request path maps onto the base: GET /id/city/whitehorse is <{base}id/city/whitehorse>).

What a resource IRI returns is its *description*: every triple with it as subject, one level of
blank nodes below those (a concise bounded description, CBD), the labels of the IRIs it points to,
and the triples that point at it from other IRIs (inbound links). Document IRIs return the whole
document: /ontology (and every /ontology#Term) the ontology graph, /shapes the shapes graphs,
/graph/... that named graph; /catalog and /dataset the release's DCAT + VoID (description.ttl).
Every answer goes through the same safety check and engine as a user's query.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from fastapi import APIRouter, Request
from fastapi.responses import Response
from jinja2 import Environment, PackageLoader, select_autoescape

from hrgraph.config import Settings
from hrgraph.engine.publisher import Release
from hrgraph.engine.queries import bindings, etag_of, execute, run_json
from hrgraph.errors import NotFoundError
from hrgraph.web import negotiation
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
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
#: Characters that cannot appear in a SPARQL IRIREF: a path holding one is no IRI of ours.
_NOT_IN_IRI = frozenset('<>"{}|^`\\ ') | frozenset(chr(c) for c in range(0x21))

PREFIXES = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
"""
LABELS = """
  OPTIONAL { ?p rdfs:label ?plabel FILTER(langMatches(lang(?plabel), "en")) }
  OPTIONAL { ?o rdfs:label|skos:prefLabel ?olabel
             FILTER(isIRI(?o) && (lang(?olabel) = "" || langMatches(lang(?olabel), "en"))) }"""


class UnknownResourceError(NotFoundError):
    """No such IRI in the release; carries the closest paths that do exist."""

    def __init__(self, message: str, suggestions: Sequence[str]) -> None:
        super().__init__(message)
        self.suggestions = list(suggestions)


@dataclass(frozen=True)
class Target:
    """What a request path names: a resource, a whole document, or the release description."""

    iri: str
    kind: str  # "resource" | "document" | "description"
    path: str  # the path without an extension
    media: str | None = None  # forced by an extension (.ttl, .jsonld, ...)
    graph: str = ""  # documents: the graph IRI, or a prefix ending with '/'


def resources(release: Release, settings: Settings) -> frozenset[str]:
    """Every IRI under the base that is the subject of a triple (computed once per release)."""
    query = f"""SELECT DISTINCT ?s WHERE {{ ?s ?p ?o
        FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{release.base_iri}")) }}"""
    return release.memo(
        "resources",
        lambda: frozenset(row["s"]["value"] for row in bindings(run_json(release, query))),
    )


def documents(release: Release, settings: Settings) -> dict[str, str]:
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


def locate(release: Release, settings: Settings, path: str) -> Target | None:
    if any(c in _NOT_IN_IRI for c in path):
        return None
    found = _exact(release, settings, path)
    if found is not None:
        return found
    stem, dot, extension = path.rpartition(".")
    if dot and extension in negotiation.EXTENSIONS:
        found = _exact(release, settings, stem)
        if found is not None:
            return Target(
                found.iri, found.kind, stem, negotiation.EXTENSIONS[extension], found.graph
            )
    return None


def _exact(release: Release, settings: Settings, path: str) -> Target | None:
    iri = release.base_iri + path
    if path in ("catalog", "dataset"):
        return Target(iri, "description", path)
    graph = documents(release, settings).get(iri)
    if graph is not None:
        return Target(iri, "document", path, graph=graph)
    if iri in resources(release, settings):
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
  ?s ?ip {iri} . ?s rdfs:label ?slabel .
}} WHERE {{
  {{ {iri} ?p ?o
    OPTIONAL {{ ?o ?bp ?bo FILTER(isBlank(?o)) }}
    OPTIONAL {{ ?o rdfs:label ?label FILTER(isIRI(?o)) }}
    OPTIONAL {{ ?o skos:prefLabel ?pref FILTER(isIRI(?o)) }}
  }} UNION {{
    ?s ?ip {iri} FILTER(isIRI(?s)) OPTIONAL {{ ?s rdfs:label ?slabel }}
  }}
}}"""
    )


def rows_query(target: Target) -> str:
    """The SELECT behind a target's HTML page: subject, predicate, object and English labels."""
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


@router.api_route("/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
def dereference(request: Request, path: str) -> Response:
    settings = publisher_of(request).settings
    with publisher_of(request).snapshot() as release:
        target = locate(release, settings, path)
        if target is None:
            raise unknown(release, settings, path)
        media = target.media or negotiation.choose(
            request.headers.get("accept"), REPRESENTATIONS, request.query_params.get("format")
        )
        headers = {"Vary": "Accept", "Link": link_header(target.path)}
        if media == "text/html":
            return page(request, release, settings, target, headers)
        if target.kind == "description":
            return description_response(request, release, target.path)
        prepared = prepare(release, construct(target), media)
        if not_modified(request, prepared.etag):
            return answer(request, release, prepared.etag, b"", media, headers)
        result = execute(release, prepared)
        return answer(request, release, prepared.etag, result.body, result.media_type, headers)


def unknown(release: Release, settings: Settings, path: str) -> UnknownResourceError:
    base = release.base_iri
    known = [iri[len(base) :] for iri in resources(release, settings)]
    close = ["/" + p for p in difflib.get_close_matches(path, known, n=5, cutoff=0.6)]
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return UnknownResourceError(
        f"nothing is published at <{base}{path}> in release {release.version}.{hint} Every "
        "resource is listed in /sitemap.xml; query the data at /sparql; download it all from "
        "/downloads/.",
        close,
    )


# --- HTML ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    text: str
    href: str | None = None
    note: str = ""
    iri: str = ""


@dataclass(frozen=True)
class Row:
    predicate: Value
    value: Value


@dataclass
class Section:
    subject: Value
    anchor: str
    rows: list[Row]
    inbound: list[Row]


@cache
def templates() -> Environment:
    from hrgraph.pages import i18n

    environment = Environment(
        loader=PackageLoader("hrgraph.pages", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    # base.html reads these when a page does not pass its own language chrome (errors, downloads).
    environment.globals.update(ui=i18n.strings, other_language=i18n.other)
    return environment


def page(
    request: Request, release: Release, settings: Settings, target: Target, headers: dict[str, str]
) -> Response:
    from hrgraph.pages import views as pages

    if target.kind == "resource":
        return pages.resource_response(
            request, release, settings, target.iri, target.path, construct(target), headers
        )
    lang = pages.language_of(request)
    etag = etag_of(release.version, "page", target.path, lang)
    return pages.cached_html(
        request,
        release,
        etag,
        lambda: render_page(release, settings, target, lang),
        {**headers, **pages.html_headers(lang)},
    )


def render_page(release: Release, settings: Settings, target: Target, lang: str = "en") -> str:
    """Documents (/ontology, /shapes, /graph/...): every triple, grouped by subject."""
    from hrgraph.pages import views as pages

    result = run_json(release, rows_query(target))
    sections = _sections(release.base_iri, bindings(result))
    return (
        templates()
        .get_template("resource.html")
        .render(
            **pages.chrome("/" + target.path, lang),
            title=_title(sections, target),
            iri=target.iri,
            path=target.path,
            sections=sections,
            alternates=negotiation.EXTENSIONS,
            version=release.version,
        )
    )


def _sections(base: str, rows: list[dict[str, dict[str, str]]]) -> list[Section]:
    sections: dict[str, Section] = {}
    seen: set[tuple[str, ...]] = set()
    for row in rows:
        key = (row["dir"]["value"], row["s"]["value"], row["p"]["value"], row["o"]["value"])
        if key in seen:
            continue  # the same triple in several graphs, or with several labels
        seen.add(key)
        subject = row["s"]
        section = sections.get(subject["value"])
        if section is None:
            anchor = subject["value"].rpartition("#")[2] if "#" in subject["value"] else ""
            section = Section(_value(base, subject, None), anchor, [], [])
            sections[subject["value"]] = section
        entry = Row(
            _value(base, row["p"], row.get("plabel")), _value(base, row["o"], row.get("olabel"))
        )
        (section.rows if row["dir"]["value"] == "out" else section.inbound).append(entry)
    for section in sections.values():
        section.rows.sort(key=lambda r: (r.predicate.iri != RDF_TYPE, r.predicate.text))
        section.inbound.sort(key=lambda r: (r.predicate.text, r.value.text))
    return sorted(sections.values(), key=lambda s: s.subject.text)


def _value(base: str, term: dict[str, str], label: dict[str, str] | None) -> Value:
    if term["type"] == "uri":
        iri = term["value"]
        return Value(label["value"] if label else iri, _local(base, iri), "", iri)
    if term["type"] == "bnode":
        return Value("_:" + term["value"])
    note = term.get("xml:lang") or term.get("datatype", "").rpartition("#")[2]
    return Value(term["value"], None, note)


def _local(base: str, iri: str) -> str:
    """Links to the release's own IRIs stay on this server (which may not be the base's host)."""
    return "/" + iri[len(base) :] if iri.startswith(base) else iri


def _title(sections: list[Section], target: Target) -> str:
    """The resource's English (or untagged) rdfs:label, else its IRI."""
    for section in sections:
        if section.subject.iri != target.iri:
            continue
        for row in section.rows:
            if row.predicate.iri == RDFS_LABEL and row.value.note in ("en", "", "string"):
                return row.value.text
    return target.iri
