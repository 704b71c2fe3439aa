"""The query workbench: what a browser gets at GET /sparql.

It works without JavaScript (a form that GETs /sparql?query=…&format=html and a results table
rendered here) and is better with it (static/workbench.js: a CodeMirror editor when the vendored
files are present, runs without reloading, labels, a map, downloads, a shareable URL). Every asset
is served by this server; nothing is fetched from elsewhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hrgraph.config import Settings
from hrgraph.engine import safety
from hrgraph.engine.publisher import Release
from hrgraph.engine.queries import bindings, execute, run_json
from hrgraph.errors import BadRequestError, QueryError
from hrgraph.pages import canada, i18n
from hrgraph.web import canned, negotiation
from hrgraph.web.http import RELEASE_HEADER, prepare, publisher_of, read_body, settings_of

router = APIRouter()

STATIC = Path(__file__).resolve().parents[1] / "static"
#: The CodeMirror files scripts/fetch_assets.py puts in static/ (gitignored).
VENDOR = ("lib/codemirror.js", "mode/sparql/sparql.js", "addon/hint/show-hint.js")
VENDOR_CSS = ("lib/codemirror.css", "addon/hint/show-hint.css")
#: What the page asks for: SPARQL JSON results for SELECT/ASK, Turtle for CONSTRUCT/DESCRIBE.
PAGE_ACCEPT = "application/sparql-results+json, text/turtle;q=0.9"
#: Rows shown in the page; the downloads have them all.
SHOWN_ROWS = 1000
#: IRIs per label query (keeps each one far below any sensible max_query_bytes).
LABEL_CHUNK = 100
MAX_LABELS = 2000
DOWNLOADS = ("csv", "tsv", "json")
#: The map's frame: the home page's outline of Canada and projection (canada.py), reused.
MAP_FRAME = canada.frame()
_SAFE_IRI = re.compile(r"[^\x00-\x20<>\"{}|^`\\]+")
_XSD = "http://www.w3.org/2001/XMLSchema#"

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "SPARQL query workbench",
        "intro": "Ask the knowledge graph a question in SPARQL. The usual prefixes (hr:, city:, "
        "program:, practice:, rdfs:, skos:, …) are declared already.",
        "query": "Query",
        "format": "Results as",
        "html": "a table on this page",
        "run": "Run query",
        "running": "Running…",
        "results": "Results",
        "rows": "rows",
        "shown": "the first {n} rows are shown; download the results to get them all",
        "no_rows": "No results.",
        "download": "Download",
        "share": "Link to this query",
        "examples": "Example queries",
        "load": "Load in the editor",
        "canned": "Results as CSV",
        "show_query": "Show the query",
        "params": "Parameters",
        "error": "The query could not be answered",
        "line": "line {line}, column {column}",
        "setting": "The limit is the setting {setting}.",
        "map": "Map of the results (approximate outline of Canada)",
        "true": "yes (true)",
        "false": "no (false)",
        "all_queries": "All canned queries",
        "queries_intro": "Each example is also a stable link that returns CSV (or JSON, TSV, XML "
        "with ?format=). Parameters go in the link, for example ?city=whitehorse.",
        "endpoint": "Endpoint for programs: POST or GET /sparql (SPARQL 1.1 Protocol).",
        "network": "The server could not be reached.",
    },
    "fr": {
        "title": "Atelier de requêtes SPARQL",
        "intro": "Posez une question au graphe de connaissances en SPARQL. Les préfixes usuels "
        "(hr:, city:, program:, practice:, rdfs:, skos:, …) sont déjà déclarés.",
        "query": "Requête",
        "format": "Résultats en",
        "html": "tableau sur cette page",
        "run": "Exécuter la requête",
        "running": "Exécution…",
        "results": "Résultats",
        "rows": "lignes",
        "shown": "les {n} premières lignes sont affichées; téléchargez les résultats pour les "
        "avoir toutes",
        "no_rows": "Aucun résultat.",
        "download": "Télécharger",
        "share": "Lien vers cette requête",
        "examples": "Exemples de requêtes",
        "load": "Charger dans l'éditeur",
        "canned": "Résultats en CSV",
        "show_query": "Voir la requête",
        "params": "Paramètres",
        "error": "La requête n'a pas pu être traitée",
        "line": "ligne {line}, colonne {column}",
        "setting": "La limite est le paramètre {setting}.",
        "map": "Carte des résultats (contour approximatif du Canada)",
        "true": "oui (true)",
        "false": "non (false)",
        "all_queries": "Toutes les requêtes prêtes à l'emploi",
        "queries_intro": "Chaque exemple est aussi un lien stable qui renvoie du CSV (ou du JSON, "
        "TSV, XML avec ?format=). Les paramètres vont dans le lien, par exemple ?city=whitehorse.",
        "endpoint": "Point d'accès pour les programmes : POST ou GET /sparql (protocole SPARQL "
        "1.1).",
        "network": "Le serveur est injoignable.",
    },
}


def choose_language(request: Request) -> str:
    """?lang=en|fr, else Accept-Language: the same choice as every other page."""
    return i18n.choose(request.query_params.get("lang"), request.headers.get("accept-language"))


def wants_workbench(request: Request, format: str | None) -> bool:
    """A browser (Accept prefers HTML) with no other format asked, or ?format=html."""
    if format is not None:
        return format.strip().lower() == "html"
    return negotiation.accepts_html(request.headers.get("accept"))


# --- results, as the page shows them ----------------------------------------------------


@dataclass
class Cell:
    text: str
    href: str = ""
    iri: str = ""
    note: str = ""


@dataclass
class Outcome:
    """A query's answer as the page shows it (or the error it met)."""

    columns: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    total: int = 0
    boolean: bool | None = None
    graph: str = ""
    error: dict[str, Any] | None = None
    status: int = 200
    markers: list[canada.Marker] = field(default_factory=list)


def run_for_page(
    release: Release, settings: Settings, text: str, lang: str, graphs: tuple[Sequence[str], ...]
) -> Outcome:
    prepared = prepare(release, text, PAGE_ACCEPT, None, *graphs)
    answer = execute(release, prepared)
    if not answer.media_type.endswith("json"):
        return Outcome(graph=answer.body.decode("utf-8"))
    result = json.loads(answer.body)
    if "boolean" in result:
        return Outcome(boolean=bool(result["boolean"]))
    rows = bindings(result)
    shown = rows[:SHOWN_ROWS]
    names = labels(release, settings, _iris(shown), lang)
    columns: list[str] = result.get("head", {}).get("vars", [])
    table = [[cell(row.get(c), release.base_iri, names) for c in columns] for row in shown]
    return Outcome(columns, table, len(rows), markers=map_markers(columns, table, shown))


def coordinate_columns(columns: Sequence[str]) -> tuple[str, str] | None:
    """The latitude and longitude columns (?lat/?long, as geo:lat/geo:long are usually bound)."""
    lat = next((c for c in columns if c.lower() in ("lat", "latitude")), None)
    lon = next((c for c in columns if c.lower() in ("long", "lon", "lng", "longitude")), None)
    return (lat, lon) if lat and lon else None


def map_markers(
    columns: Sequence[str], table: Sequence[Sequence[Cell]], rows: Sequence[Mapping[str, Any]]
) -> list[canada.Marker]:
    """Rows with coordinates as markers on the map of Canada (drawn here for pages without
    JavaScript; the script redraws them with the same projection after each run)."""
    names = coordinate_columns(columns)
    if names is None:
        return []
    label_at = next((i for i, c in enumerate(columns) if c.lower().endswith("label")), None)
    points = []
    for cells, row in zip(table, rows, strict=True):
        try:
            lat, lon = float(row[names[0]]["value"]), float(row[names[1]]["value"])
        except (KeyError, ValueError):
            continue
        label = cells[label_at] if label_at is not None else Cell(f"{lat}, {lon}")
        points.append((label.href, label.text, lat, lon))
    return canada.markers(MAP_FRAME, points)


def _iris(rows: Iterable[Mapping[str, Mapping[str, str]]]) -> list[str]:
    return [term["value"] for row in rows for term in row.values() if term["type"] == "uri"]


def cell(term: Mapping[str, str] | None, base: str, names: Mapping[str, str]) -> Cell:
    """One value: an IRI as its label, linked to its page on this server when it is ours."""
    if term is None:
        return Cell("")
    value = term["value"]
    if term["type"] == "uri":
        return Cell(names.get(value, value), local_path(value, base), value)
    if term["type"] == "bnode":
        return Cell(f"_:{value}")
    if "xml:lang" in term:
        return Cell(value, note=f"@{term['xml:lang']}")
    datatype = term.get("datatype", "")
    note = "" if datatype in ("", f"{_XSD}string") else datatype.replace(_XSD, "xsd:")
    return Cell(value, note=note)


def local_path(iri: str, base: str) -> str:
    """The IRI's page on this server, or "" for IRIs of elsewhere (links stay on this server)."""
    return "/" + iri[len(base) :] if iri.startswith(base) and len(iri) > len(base) else ""


def labels(release: Release, settings: Settings, iris: Iterable[str], lang: str) -> dict[str, str]:
    """The best label of each of our IRIs: in `lang`, else English, else any."""
    wanted = sorted({iri for iri in iris if iri.startswith(release.base_iri)})[:MAX_LABELS]
    wanted = [iri for iri in wanted if _SAFE_IRI.fullmatch(iri)]
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(wanted), LABEL_CHUNK):
        values = " ".join(f"<{iri}>" for iri in wanted[start : start + LABEL_CHUNK])
        query = (
            f"SELECT ?s ?label WHERE {{ VALUES ?s {{ {values} }} "
            "?s rdfs:label|skos:prefLabel|dct:title ?label }"
        )
        for row in bindings(run_json(release, query)):
            rank = _rank(row["label"].get("xml:lang", ""), lang)
            iri = row["s"]["value"]
            if iri not in found or rank < found[iri][0]:
                found[iri] = (rank, row["label"]["value"])
    return {iri: label for iri, (_, label) in found.items()}


def _rank(tag: str, lang: str) -> int:
    primary = tag.split("-")[0].lower()
    return 0 if primary == lang else 1 if primary == "en" else 2


# --- the page ------------------------------------------------------------------------------


def vendor_available() -> bool:
    """Whether `make setup` fetched CodeMirror; without it the page keeps a plain textarea."""
    return all((STATIC / "vendor" / "codemirror" / name).is_file() for name in VENDOR)


def render(template: str, lang: str, **context: Any) -> str:
    from hrgraph.web.linked_data import templates

    return (
        templates()
        .get_template(template)
        .render(
            lang=lang,
            t=STRINGS[lang],
            other=i18n.other(lang),
            outline=canada.outline_paths(MAP_FRAME),
            frame=MAP_FRAME,
            **context,
        )
    )


def gallery(lang: str) -> list[dict[str, Any]]:
    """The examples of queries/, each with its text as loaded in the editor (labels in `lang`)."""
    entries = []
    for query in canned.catalogue().values():
        langs = {"lang": f'"{lang}"'} if any(p.name == "lang" for p in query.params) else {}
        entries.append(
            {
                "name": query.name,
                "title": query.title,
                "description": query.description,
                "params": query.params,
                "text": _without_header(canned.bind(query, langs)),
                "url": query.url() + (f"?lang={lang}" if langs and lang != "en" else ""),
            }
        )
    return entries


def _without_header(text: str) -> str:
    lines = text.splitlines()
    while lines and lines[0].startswith("# "):
        lines.pop(0)
    return "\n".join(lines) + "\n"


def download_links(text: str) -> dict[str, str]:
    return {fmt: "/sparql?" + urlencode({"query": text, "format": fmt}) for fmt in DOWNLOADS}


def page(
    request: Request,
    query: str | None,
    format: str | None,
    graphs: tuple[Sequence[str], ...] = ((), ()),
) -> Response:
    """The workbench, with the results of `query` when there is one.

    With ?format=html (what the form sends) an error is shown in the page, with the query kept
    in the editor; a browser that sent a bare ?query= gets the server's usual error page.
    """
    settings = settings_of(request)
    lang = choose_language(request)
    with publisher_of(request).snapshot() as release:
        outcome = None
        if query is not None:
            request.state.query = query
            try:
                outcome = run_for_page(release, settings, query, lang, graphs)
            except QueryError as error:
                if format is None:
                    raise
                outcome = Outcome(error=_error_body(error), status=error.status)
        html = render(
            "workbench.html",
            lang,
            query=query if query is not None else _starter(lang),
            outcome=outcome,
            examples=gallery(lang),
            downloads=download_links(query) if query else {},
            vendor=vendor_available(),
            config=_config(release, lang),
            switch=_switch(request, lang),
        )
        headers = {
            "Vary": "Accept, Accept-Language",
            "Cache-Control": "no-store" if outcome and outcome.error else "public, max-age=60",
            RELEASE_HEADER: release.version,
        }
        if outcome and outcome.error and outcome.error["retry_after"] is not None:
            headers["Retry-After"] = str(outcome.error["retry_after"])
        status = outcome.status if outcome else 200
        return HTMLResponse(html, status_code=status, headers=headers)


def _switch(request: Request, lang: str) -> str:
    """This page in the other language (the query and its results kept)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return "/sparql?" + urlencode([*kept, ("lang", i18n.other(lang))])


def _starter(lang: str) -> str:
    first = gallery(lang)
    return str(first[0]["text"]) if first else "SELECT * WHERE { ?s ?p ?o } LIMIT 10\n"


def _error_body(error: QueryError) -> dict[str, Any]:
    return {
        "message": str(error),
        "status": error.status,
        "line": getattr(error, "line", None),
        "column": getattr(error, "column", None),
        "setting": error.setting,
        "retry_after": error.retry_after,
    }


def _config(release: Release, lang: str) -> str:
    """What workbench.js needs, as JSON safe inside a <script> element."""
    data = {
        "lang": lang,
        "base": release.base_iri,
        "prefixes": release.memo("prefixes", lambda: safety.prefixes_for(release.base_iri)),
        "strings": STRINGS[lang],
        "shownRows": SHOWN_ROWS,
        # How the server's map (canada.py) places a point, so the script places them alike.
        "map": {
            "left": MAP_FRAME.left,
            "top": MAP_FRAME.top,
            "scale": MAP_FRAME.scale,
            "margin": canada.MARGIN,
        },
    }
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


# --- labels for the script -------------------------------------------------------------------


@router.post("/sparql/labels")
async def post_labels(request: Request) -> Response:
    """{"iris": [...], "lang": "fr"} → {"labels": {iri: label}}: labels for a results table."""
    body = await read_body(request)
    iris, lang = _label_request(body)

    def lookup() -> dict[str, str]:
        with publisher_of(request).snapshot() as release:
            return labels(release, settings_of(request), iris, lang)

    found = await run_in_threadpool(lookup)
    return JSONResponse({"labels": found}, headers={"Cache-Control": "no-store"})


def _label_request(body: bytes) -> tuple[list[str], str]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError('send JSON: {"iris": ["https://…"], "lang": "en"}') from None
    iris = data.get("iris") if isinstance(data, dict) else None
    if not isinstance(iris, list) or not all(isinstance(iri, str) for iri in iris):
        raise BadRequestError('"iris" must be a list of IRIs (strings)')
    lang = data.get("lang", "en")
    return iris, lang if lang in STRINGS else "en"
