"""The query workbench as HTML: the page /sparql gives a browser, the list of canned queries at
/queries/, and the results of a query as the page shows them (a table with labels and local
links, a map of coordinates).

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

from hrgraph.engine import catalogue
from hrgraph.engine.interface import QueryForm
from hrgraph.engine.publisher import Release
from hrgraph.engine.queries import JSON_RESULTS, bindings, execute, prepare, run_json
from hrgraph.errors import QueryError
from hrgraph.pages import canada, i18n, templating
from hrgraph.pages.links import local_path

STATIC = Path(__file__).resolve().parents[1] / "static"
#: The CodeMirror files scripts/fetch_assets.py puts in static/ (gitignored).
VENDOR = ("lib/codemirror.js", "mode/sparql/sparql.js", "addon/hint/show-hint.js")
VENDOR_CSS = ("lib/codemirror.css", "addon/hint/show-hint.css")
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


def page_media(form: QueryForm) -> str:
    """What the page reads: SPARQL JSON results for SELECT/ASK, Turtle for CONSTRUCT/DESCRIBE."""
    return JSON_RESULTS if form in (QueryForm.SELECT, QueryForm.ASK) else "text/turtle"


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
    release: Release, text: str, lang: str, graphs: tuple[Sequence[str], ...]
) -> Outcome:
    """Run the query (the protocol's default and named graphs in `graphs`) for the page."""
    answer = execute(release, prepare(release, text, page_media, *graphs))
    if not answer.media_type.endswith("json"):
        return Outcome(graph=answer.body.decode("utf-8"))
    result = json.loads(answer.body)
    if "boolean" in result:
        return Outcome(boolean=bool(result["boolean"]))
    rows = bindings(result)
    shown = rows[:SHOWN_ROWS]
    names = labels(release, _iris(shown), lang)
    columns: list[str] = result.get("head", {}).get("vars", [])
    table = [[cell(row.get(c), release.base_iri, names) for c in columns] for row in shown]
    return Outcome(columns, table, len(rows), markers=map_markers(columns, table, shown))


def failed(error: QueryError) -> Outcome:
    """The error a query met, as the page shows it (with the query kept in the editor)."""
    return Outcome(error=_error_body(error), status=error.status)


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
        # The base IRI itself is not linked: it names no resource page.
        return Cell(
            names.get(value, value), local_path(value, base) if value != base else "", value
        )
    if term["type"] == "bnode":
        return Cell(f"_:{value}")
    if "xml:lang" in term:
        return Cell(value, note=f"@{term['xml:lang']}")
    datatype = term.get("datatype", "")
    note = "" if datatype in ("", f"{_XSD}string") else datatype.replace(_XSD, "xsd:")
    return Cell(value, note=note)


def labels(release: Release, iris: Iterable[str], lang: str) -> dict[str, str]:
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


# --- the pages -----------------------------------------------------------------------------


def vendor_available() -> bool:
    """Whether `make setup` fetched CodeMirror; without it the page keeps a plain textarea."""
    return all((STATIC / "vendor" / "codemirror" / name).is_file() for name in VENDOR)


def render(template: str, lang: str, **context: object) -> str:
    """A workbench template: with its strings (`t`) and the map's outline and frame. Its pages
    link to the other language by `?lang=` (or `switch`), with no hreflang alternates."""
    return templating.render(
        template,
        None,
        lang,
        t=i18n.workbench_strings(lang),
        outline=canada.outline_paths(MAP_FRAME),
        frame=MAP_FRAME,
        **context,
    )


def render_page(
    release: Release, lang: str, query: str | None, outcome: Outcome | None, switch: str
) -> str:
    """The workbench, with `query` in the editor (a starter when None) and its `outcome`;
    `switch` is this page in the other language."""
    return render(
        "workbench.html",
        lang,
        query=query if query is not None else _starter(lang, release.base_iri),
        outcome=outcome,
        examples=gallery(lang, release.base_iri),
        downloads=download_links(query) if query else {},
        vendor=vendor_available(),
        config=_config(release, lang),
        prefixes=sorted(release.prefixes.items()),
        switch=switch,
    )


def render_queries(lang: str, queries: Sequence[Mapping[str, object]]) -> str:
    """/queries/ for people: every canned query (as web.canned describes them)."""
    return render("workbench-queries.html", lang, queries=queries)


def gallery(lang: str, base: str) -> list[dict[str, Any]]:
    """The examples of queries/, each with its text as loaded in the editor (labels in `lang`,
    PREFIX lines for the release under `base`)."""
    entries = []
    for query in catalogue.catalogue().values():
        langs = {"lang": f'"{lang}"'} if any(p.name == "lang" for p in query.params) else {}
        entries.append(
            {
                "name": query.name,
                "title": query.title,
                "description": query.description,
                "params": query.params,
                "text": _without_header(catalogue.bind(query, langs, base)),
                "url": query.url() + (f"?lang={lang}" if langs and lang != "en" else ""),
            }
        )
    return entries


def _without_header(text: str) -> str:
    lines = text.splitlines()
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "\n".join(lines) + "\n"


def download_links(text: str) -> dict[str, str]:
    return {fmt: "/sparql?" + urlencode({"query": text, "format": fmt}) for fmt in DOWNLOADS}


def _starter(lang: str, base: str) -> str:
    first = gallery(lang, base)
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
        "prefixes": release.prefixes,
        "strings": i18n.workbench_strings(lang),
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
