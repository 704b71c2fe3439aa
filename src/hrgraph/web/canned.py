"""Canned queries: the example queries of `queries/*.rq`, each also a stable, parameterised URL
(`/queries/<name>?city=whitehorse`) that answers CSV by default, for people who do not write
SPARQL.

A query file starts with comment lines that describe it:

    # title@en: ...            # title@fr: ...
    # description@en: ...      # description@fr: ...
    # param: city (IRI of an hr:City, default https://w3id.org/hrgraph/id/city/whitehorse)
    # param: lang (language of the labels: en or fr, default en)

and binds each parameter's default in its text with a one-value block, `VALUES ?city { city:x }`,
so that the file runs as it is. A value from a URL is checked against what the release holds (an
IRI must name an instance of the class; a language must be one offered) and then replaces the
value inside that block, found with the safety lexer: user text is never pasted into a query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hrgraph.config import CANONICAL_BASE, Settings, default_sources
from hrgraph.engine import safety
from hrgraph.engine.interface import QueryForm, media_types
from hrgraph.engine.publisher import Release
from hrgraph.engine.queries import bindings, execute, run_json
from hrgraph.errors import BadRequestError, NotFoundError
from hrgraph.web import negotiation
from hrgraph.web.http import answer, not_modified, prepare, publisher_of, query_params, settings_of

router = APIRouter()

LANGUAGES = ("en", "fr")
#: What a canned URL answers when the client does not name a result type: CSV, for spreadsheets.
CSV = "text/csv"
#: Accept entries that count as naming a result type (a browser's `application/xml;q=0.9` or
#: `*/*` does not: a link clicked in a browser gets CSV).
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

_HEADER = re.compile(r"#\s*(title|description)@(en|fr):\s*(.+)")
_PARAM = re.compile(r"#\s*param:\s*(\w+)\s*\((.+),\s*default\s+(\S+)\)\s*")
_CLASS = re.compile(r"IRI of an? (\w+:\w+)")


@dataclass(frozen=True)
class Param:
    """A parameter of a canned query: an IRI of a class (`cls`) or a language (`cls` empty)."""

    name: str
    doc: str
    default: str
    cls: str = ""

    @property
    def is_language(self) -> bool:
        return not self.cls


@dataclass(frozen=True)
class CannedQuery:
    name: str
    text: str
    title: Mapping[str, str]
    description: Mapping[str, str]
    params: tuple[Param, ...]

    def url(self) -> str:
        return f"/queries/{self.name}"


def queries_folder() -> Path:
    """queries/ of the checkout, or its copy embedded in the wheel next to the default sources."""
    return default_sources() / "queries"


@cache
def catalogue(folder: Path | None = None) -> dict[str, CannedQuery]:
    """Every canned query by name (the file name without .rq), in file-name order."""
    paths = sorted((folder or queries_folder()).glob("*.rq"))
    return {path.stem: parse(path.stem, path.read_text(encoding="utf-8")) for path in paths}


def parse(name: str, text: str) -> CannedQuery:
    """Read a query file's header (the comment lines before the query)."""
    texts: dict[tuple[str, str], str] = {}
    params: list[Param] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if header := _HEADER.fullmatch(line.strip()):
            texts[(header.group(1), header.group(2))] = header.group(3).strip()
        elif param := _PARAM.fullmatch(line.strip()):
            cls = _CLASS.search(param.group(2))
            params.append(
                Param(param.group(1), param.group(2), param.group(3), cls.group(1) if cls else "")
            )
    title = {lang: texts.get(("title", lang), "") for lang in LANGUAGES}
    description = {lang: texts.get(("description", lang), "") for lang in LANGUAGES}
    return CannedQuery(name, text, title, description, tuple(params))


def lookup(name: str) -> CannedQuery:
    found = catalogue().get(name)
    if found is None:
        raise NotFoundError(
            f"there is no canned query {name!r}; available: {', '.join(catalogue())} "
            "(listed at /queries/)"
        )
    return found


# --- binding parameters ----------------------------------------------------------------


def bind(query: CannedQuery, terms: Mapping[str, str]) -> str:
    """The query text with each parameter's VALUES block holding `terms[name]` (SPARQL terms
    built by `resolve`, never raw user text)."""
    text = query.text
    for name, term in terms.items():
        start, end = values_block(text, name)
        text = f"{text[:start]} {term} {text[end:]}"
    return text


def values_block(text: str, variable: str) -> tuple[int, int]:
    """Offsets just inside the braces of `VALUES ?variable { ... }` (one variable, one value)."""
    starts = _line_starts(text)
    tokens = list(safety.scan(text))
    for index in range(len(tokens) - 3):
        word, var, brace = tokens[index : index + 3]
        if word[1].upper() == "VALUES" and var[1][1:] == variable and brace[1] == "{":
            close = next(t for t in tokens[index + 3 :] if t[1] == "}")
            return _offset(starts, brace) + 1, _offset(starts, close)
    raise LookupError(f"no 'VALUES ?{variable} {{ ... }}' block binds the parameter {variable}")


def _line_starts(text: str) -> list[int]:
    return [0] + [index + 1 for index, char in enumerate(text) if char == "\n"]


def _offset(starts: Sequence[int], token: tuple[safety.Kind, str, int, int]) -> int:
    return starts[token[2] - 1] + token[3] - 1


def resolve(
    release: Release, settings: Settings, query: CannedQuery, given: Mapping[str, str]
) -> dict[str, str]:
    """The SPARQL term of every parameter given in the URL; 400 for an unknown or bad one."""
    known = {param.name: param for param in query.params}
    terms = {}
    for name, value in given.items():
        param = known.get(name)
        if param is None:
            takes = ", ".join(known) or "no parameters"
            raise BadRequestError(
                f"{query.name} has no parameter {name!r}; it takes: {takes} (and format=)"
            )
        terms[name] = _term(release, settings, param, value)
    return terms


def _term(release: Release, settings: Settings, param: Param, value: str) -> str:
    if param.is_language:
        if value.strip().lower() not in LANGUAGES:
            raise BadRequestError(f"{param.name}={value!r}: use one of {', '.join(LANGUAGES)}")
        return f'"{value.strip().lower()}"'
    members = instances(release, settings, param.cls)
    iri = _candidate(release.base_iri, param, value.strip())
    if iri not in members:
        names = ", ".join(sorted(member.rsplit("/", 1)[-1] for member in members))
        raise BadRequestError(
            f"{param.name}={value!r} is not an {param.cls} of this release; use a name, "
            f"{_namespace_prefix(param)}:name or the full IRI, one of: {names}"
        )
    return f"<{iri}>"


def _candidate(base: str, param: Param, value: str) -> str:
    """The IRI a value means: a full IRI, `city:whitehorse` or a bare `whitehorse`."""
    namespace = base + param.default.removeprefix(CANONICAL_BASE).rsplit("/", 1)[0] + "/"
    prefix = _namespace_prefix(param)
    if value.startswith(f"{prefix}:"):
        return namespace + value.split(":", 1)[1]
    if value.startswith(CANONICAL_BASE):
        return base + value.removeprefix(CANONICAL_BASE)
    return value if "/" in value or ":" in value else namespace + value


def _namespace_prefix(param: Param) -> str:
    return param.default.removeprefix(CANONICAL_BASE).split("/")[1]


def instances(release: Release, settings: Settings, cls: str) -> frozenset[str]:
    """Every IRI of class `cls` (a prefixed name), once per release."""

    def compute() -> frozenset[str]:
        rows = bindings(run_json(release, f"SELECT ?x WHERE {{ ?x a {cls} }}"))
        return frozenset(row["x"]["value"] for row in rows if row["x"]["type"] == "uri")

    return release.memo(f"instances {cls}", compute)


# --- routes ----------------------------------------------------------------------------


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
    from hrgraph.pages.workbench import choose_language, render

    lang = choose_language(request)
    html = render("workbench-queries.html", lang, queries=listed)
    return HTMLResponse(html, headers={"Vary": "Accept, Accept-Language"})


def describe(query: CannedQuery) -> dict[str, object]:
    return {
        "name": query.name,
        "url": query.url(),
        "title": dict(query.title),
        "description": dict(query.description),
        "params": [{"name": p.name, "doc": p.doc, "default": p.default} for p in query.params],
        "query": query.text,
    }


@router.api_route("/queries/{name}", methods=["GET", "HEAD"])
def run_canned(request: Request, name: str) -> Response:
    """The answer of a canned query, its parameters bound from the query string."""
    query = lookup(name)
    given, format = _split_params(query_params(request))
    settings = settings_of(request)
    with publisher_of(request).snapshot() as release:
        text = bind(query, resolve(release, settings, query, given))
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
    return safety.query_form(safety.lex(text, max_nesting=len(text) + 1))


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
