"""The routes of the canned queries (the catalogue is engine.catalogue): `/queries/` lists them,
and `/queries/<name>?city=whitehorse` answers one for people who do not write SPARQL; its
parameters are bound from the query string by the catalogue, never pasted.

A browser (its Accept prefers HTML, as a clicked link's does) with no `format=`, or
`format=html`, gets the query's page: a form and the answer as a table. Any other client gets
CSV unless it names a result type: curl, spreadsheets and scripts send `*/*` or no Accept.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hrgraph.engine import safety
from hrgraph.engine.catalogue import CannedQuery, bind, catalogue, lookup, resolve
from hrgraph.engine.interface import QueryForm, media_types
from hrgraph.engine.publisher import Release
from hrgraph.engine.queries import etag_of, execute
from hrgraph.errors import BadRequestError
from hrgraph.pages import workbench
from hrgraph.web import negotiation
from hrgraph.web.html import cached_html, html_headers, language_of
from hrgraph.web.http import answer, not_modified, prepare, publisher_of, query_params

router = APIRouter()

#: What a canned URL answers when the client does not name a result type: CSV, for spreadsheets.
CSV = "text/csv"
#: Accept entries that count as naming a result type (a browser's `application/xml;q=0.9` or
#: `*/*` does not; a browser gets the page, see `wants_page`).
EXPLICIT_TYPES = frozenset(
    (
        "text/csv",
        "text/tab-separated-values",
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "application/json",
    )
)
EXTENSIONS = {
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
}
#: Query-string names a canned URL reads besides the query's own parameters.
RESERVED = frozenset(("format",))


@router.api_route("/queries", methods=["GET", "HEAD"], include_in_schema=False)
@router.api_route("/queries/", methods=["GET", "HEAD"])
def list_queries(request: Request) -> Response:
    """Every canned query: HTML for browsers, JSON by Accept or ?format=json."""
    params = dict(query_params(request))
    listed = [describe(query) for query in catalogue().values()]
    if params.get("format") == "json" or not negotiation.accepts_html(
        request.headers.get("accept")
    ):
        return JSONResponse({"queries": listed}, headers={"Vary": "Accept"})
    lang = language_of(request)
    return HTMLResponse(workbench.render_queries(lang, listed), headers=html_headers(lang))


def describe(query: CannedQuery) -> dict[str, object]:
    return {
        "name": query.name,
        "url": query.url(),
        "title": dict(query.title),
        "description": dict(query.description),
        "params": [
            {"name": p.name, "doc": p.doc, "docs": dict(p.docs), "default": p.default}
            for p in query.params
        ],
        "query": query.text,
    }


@router.api_route("/queries/{name}", methods=["GET", "HEAD"])
def run_canned(request: Request, name: str) -> Response:
    """The answer of a canned query, its parameters bound from the query string."""
    query = lookup(name)
    params = query_params(request)
    if wants_page(request, params):
        return canned_page(request, query, params)
    given, format = _split_params(params)
    with publisher_of(request).snapshot() as release:
        text = bind(query, resolve(release, query, given), release.base_iri)
        request.state.query = text
        media = _media_type(request.headers.get("accept"), format, safety_form(text))
        prepared = prepare(release, text, media)
        headers = {
            "Vary": "Accept",
            "Content-Disposition": f'inline; filename="{name}.{EXTENSIONS.get(media, "txt")}"',
        }
        if not_modified(request, prepared.etag):
            return answer(request, release, prepared.etag, b"", media, headers)
        result = execute(release, prepared)
        return answer(request, release, prepared.etag, result.body, media, headers)


def wants_page(request: Request, params: Sequence[tuple[str, str]]) -> bool:
    """`format=html`, or a browser (Accept prefers HTML) that names no format."""
    formats = [value.strip().lower() for name, value in params if name == "format"]
    if formats:
        return formats == ["html"]
    return negotiation.accepts_html(request.headers.get("accept"))


def canned_page(
    request: Request, query: CannedQuery, params: Sequence[tuple[str, str]]
) -> Response:
    """The query's page in the request's language. `lang` is the page's language, and also
    the labels' for a query that takes it."""
    lang = language_of(request)
    takes_lang = workbench.takes_lang(query)
    own = [(k, v) for k, v in params if k != "format" and (takes_lang or k != "lang")]
    given = dict(own)
    with publisher_of(request).snapshot() as release:
        message = workbench.problem(release, query, own, lang)
        if message:
            form = workbench.fields(release, query, given, lang)
            text = bind(query, {}, release.base_iri)
            page = workbench.render_canned(query, lang, form, given, text, error=message)
            raise BadRequestError(message, page=page)
        values = workbench.bound_values(query, given, lang)
        etag = etag_of(release.version, "canned-page", query.name, lang, urlencode(values))
        return cached_html(
            request, release, etag, lambda: _page(release, query, values, lang), html_headers(lang)
        )


def _page(release: Release, query: CannedQuery, values: dict[str, str], lang: str) -> str:
    text = bind(query, resolve(release, query, values), release.base_iri)
    outcome = workbench.canned_outcome(release, text, lang)
    links = workbench.canned_links(query, values, text, lang)
    form = workbench.fields(release, query, values, lang)
    return workbench.render_canned(query, lang, form, values, text, outcome, links)


def _split_params(params: Sequence[tuple[str, str]]) -> tuple[dict[str, str], str | None]:
    given: dict[str, str] = {}
    format = None
    for name, value in params:
        if name in given or (name == "format" and format is not None):
            raise BadRequestError(f"the parameter {name!r} is given more than once")
        if name in RESERVED:
            format = value
        else:
            given[name] = value
    return given, format


def safety_form(text: str) -> QueryForm:
    return safety.form_of(text)


def _media_type(accept: str | None, format: str | None, form: QueryForm) -> str:
    """CSV unless the client names a result type (by ?format= or an explicit Accept entry)."""
    available = media_types(form)
    ordered = (CSV, *(media for media in available if media != CSV)) if CSV in available else ()
    ordered = ordered or available
    if format:
        return negotiation.choose(None, ordered, format)
    ranges = negotiation.parse_accept(accept)
    if any(f"{r.type}/{r.subtype}" in EXPLICIT_TYPES and r.q > 0 for r in ranges):
        return negotiation.choose(accept, ordered)
    return ordered[0]
