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
from hrgraph.errors import BadRequestError, QueryError
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
#: The formats a canned query's page links to (`?format=`).
FORMATS = ("csv", "tsv", "json", "xml")
#: The map's frame: the home page's outline of Canada and projection (canada.py), reused.
MAP_FRAME = canada.frame()
_SAFE_IRI = re.compile(r"[^\x00-\x20<>\"{}|^`\\]+")
_XSD = "http://www.w3.org/2001/XMLSchema#"
#: Datatypes a value shows plainly (here and in workbench.js, which gets them in its config).
PLAIN_TYPES = frozenset(
    f"xsd:{name}"
    for names in (
        "string boolean date dateTime gYear gYearMonth",
        "integer decimal double float int long short byte",
        "nonNegativeInteger positiveInteger unsignedInt unsignedLong unsignedShort unsignedByte",
    )
    for name in names.split(" ")
)


def page_media(form: QueryForm) -> str:
    """What the page reads: SPARQL JSON results for SELECT/ASK, Turtle for CONSTRUCT/DESCRIBE."""
    return JSON_RESULTS if form in (QueryForm.SELECT, QueryForm.ASK) else "text/turtle"


# --- results, as the page shows them ----------------------------------------------------


@dataclass
class Cell:
    """One value as shown: `lang` is a literal's language tag, `datatype` its compact datatype
    (kept for a title attribute), `note` what is written after it (see `annotate`)."""

    text: str
    href: str = ""
    iri: str = ""
    note: str = ""
    lang: str = ""
    datatype: str = ""


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
    table = annotate(
        [[cell(row.get(c), release.base_iri, names) for c in columns] for row in shown]
    )
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
    for index, (cells, row) in enumerate(zip(table, rows, strict=True)):
        try:
            lat, lon = float(row[names[0]]["value"]), float(row[names[1]]["value"])
        except (KeyError, ValueError):
            continue
        label = cells[label_at] if label_at is not None else Cell(f"{lat}, {lon}")
        points.append((point_href(columns, cells, label_at, index), label.text, lat, lon))
    return canada.markers(MAP_FRAME, points)


def point_href(
    columns: Sequence[str], cells: Sequence[Cell], label_at: int | None, row: int
) -> str:
    """Where a point of the map leads: the page of the IRI its label names (?city for
    ?cityLabel), else of the row's first IRI of ours, else the row in the table."""
    if label_at is not None:
        named = columns[label_at][: -len("label")]
        if named in columns and cells[columns.index(named)].href:
            return cells[columns.index(named)].href
    return next((c.href for c in cells if c.href), f"#result-row-{row + 1}")


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
        return Cell(value, lang=term["xml:lang"])
    datatype = term.get("datatype", f"{_XSD}string")  # RDF 1.1: a simple literal is a string
    short = datatype.replace(_XSD, "xsd:")
    # Numbers, strings, dates and booleans read as what they are: the type stays in a title.
    return Cell(value, note="" if short in PLAIN_TYPES else short, datatype=short)


def annotate(table: list[list[Cell]]) -> list[list[Cell]]:
    """Language tags written only in a column that mixes languages (a column of English labels
    says nothing with "@en" on every cell); `lang` stays on every cell for its markup."""
    for column in zip(*table, strict=True):
        if len({c.lang.lower() for c in column if c.lang or c.datatype == "xsd:string"}) > 1:
            for c in column:
                c.note = f"@{c.lang}" if c.lang else c.note
    return table


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
        count=count(outcome.total, lang) if outcome else "",
    )


def render_queries(lang: str, queries: Sequence[Mapping[str, Any]]) -> str:
    """/queries/ for people: every canned query (as web.canned describes them), each linked to
    its page in `lang` and to its answer as CSV, TSV, JSON and XML (with French labels on a
    French page, for the queries that take `lang`)."""
    entries = []
    for query in queries:
        langs = {"lang": lang} if any(p["name"] == "lang" for p in query["params"]) else {}
        formats = {f: f"{query['url']}?{urlencode({**langs, 'format': f})}" for f in FORMATS}
        entries.append({**query, "page": f"{query['url']}?lang={lang}", "formats": formats})
    return render("workbench-queries.html", lang, queries=entries)


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
                "url": f"{query.url()}?lang={lang}",  # its page (web.canned), in `lang`
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
        "plainTypes": sorted(PLAIN_TYPES),
        # How the server's map (canada.py) places a point, so the script places them alike.
        "map": {
            "left": MAP_FRAME.left,
            "top": MAP_FRAME.top,
            "scale": MAP_FRAME.scale,
            "margin": canada.MARGIN,
        },
    }
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def count(n: int, lang: str) -> str:
    """The number of rows, with its plural: 1 row, 2 rows; French takes the singular below two
    (0 ligne, 1 ligne, 2 lignes)."""
    return i18n.plural("workbench_count", n, lang)


# --- canned queries as pages (/queries/<name> for a browser) -------------------------------


@dataclass
class Field:
    """A parameter of a canned query as its form shows it: `value` is the current one (what
    the URL gave, else the default), `choices` the values the release holds, with labels."""

    name: str
    doc: str
    default: str
    value: str
    choices: list[tuple[str, str]]
    language: bool


def short(param: catalogue.Param, value: str) -> str:
    """A value as people type it: `whitehorse` for the IRI of a city (the catalogue takes it)."""
    return value if param.is_language else value.rsplit("/", 1)[-1]


def takes_lang(query: catalogue.CannedQuery) -> bool:
    """Whether the query takes `lang` (its labels' language): on its page, the page's too."""
    return any(param.name == "lang" and param.is_language for param in query.params)


def bound_values(
    query: catalogue.CannedQuery, given: Mapping[str, str], lang: str
) -> dict[str, str]:
    """What the query is bound with: the URL's values, and the page's language for a query that
    takes `lang` and was given none (a French page shows French labels)."""
    return {**({"lang": lang} if takes_lang(query) else {}), **given}


def fields(
    release: Release, query: catalogue.CannedQuery, values: Mapping[str, str], lang: str
) -> list[Field]:
    return [
        Field(
            param.name,
            param.docs.get(lang) or param.doc,
            short(param, param.default),
            values.get(param.name, short(param, param.default)),
            choices(release, param, lang),
            param.is_language,
        )
        for param in query.params
    ]


def choices(release: Release, param: catalogue.Param, lang: str) -> list[tuple[str, str]]:
    """The values a parameter takes, as people type them, with their names (by label)."""
    if param.is_language:
        return [(code, i18n.NATIVE[code]) for code in catalogue.LANGUAGES]
    members = sorted(catalogue.instances(release, param.cls))
    names = labels(release, members, lang)
    found = [(short(param, iri), names.get(iri, "")) for iri in members]
    return sorted(found, key=lambda choice: (choice[1] or choice[0]).casefold())


def problem(
    release: Release, query: catalogue.CannedQuery, params: Sequence[tuple[str, str]], lang: str
) -> str:
    """What is wrong with a canned page's parameters, in `lang` ("" when nothing is): a name
    given twice, one the query does not take, or a value the release does not hold."""
    t = i18n.strings(lang)
    names = [name for name, _ in params]
    known = {param.name: param for param in query.params}
    for name, value in params:
        if names.count(name) > 1:
            return t["canned_repeated"].format(name=name)
        param = known.get(name)
        if param is None:
            takes = ", ".join(known) or t["canned_none"]
            return t["canned_unknown"].format(name=name, takes=takes)
        try:
            catalogue.resolve(release, query, {name: value})
        except BadRequestError:
            allowed = ", ".join(choice for choice, _ in choices(release, param, lang))
            return t["canned_bad_value"].format(name=name, value=value, choices=allowed)
    return ""


def canned_outcome(release: Release, text: str, lang: str) -> Outcome:
    """The answer as the page's table: an IRI shows the label its row gives (?city shows
    ?cityLabel, whose column then goes), linked to its page here."""
    outcome = run_for_page(release, text, lang, ((), ()))
    columns = outcome.columns
    merged = []
    for at, column in enumerate(columns):
        companion = f"{column}label"
        label_at = next((i for i, c in enumerate(columns) if c.lower() == companion.lower()), None)
        if label_at is None or not all(row[at].iri or not row[at].text for row in outcome.rows):
            continue
        for row in outcome.rows:
            if row[label_at].text:
                row[at].text, row[at].lang = row[label_at].text, row[label_at].lang
        merged.append(label_at)
    keep = [i for i in range(len(columns)) if i not in merged]
    outcome.columns = [columns[i] for i in keep]
    outcome.rows = [[row[i] for i in keep] for row in outcome.rows]
    return outcome


def canned_links(
    query: catalogue.CannedQuery, values: Mapping[str, str], text: str, lang: str
) -> dict[str, str]:
    """The same answer as CSV, TSV, JSON and XML (the same parameters), and in the workbench."""
    found = {f: f"{query.url()}?{urlencode({**values, 'format': f})}" for f in FORMATS}
    found["workbench"] = "/sparql?" + urlencode({"query": _without_header(text), "lang": lang})
    return found


def render_canned(
    query: catalogue.CannedQuery,
    lang: str,
    form: Sequence[Field],
    params: Mapping[str, str],
    text: str,
    outcome: Outcome | None = None,
    links: Mapping[str, str] | None = None,
    error: str = "",
) -> str:
    """The page of a canned query: its title, description and form, then its answer as a
    table with links to the other formats, or the `error` its parameters met (a 400).
    `params` are the page's own (its switch to the other language keeps them)."""
    kept = {k: v for k, v in params.items() if k != "lang"}
    return templating.render(
        "canned.html",
        query.url(),
        lang,
        kept,
        query=query,
        t=i18n.workbench_strings(lang),
        fields=form,
        outcome=outcome,
        links=links or {},
        error=error,
        count=count(outcome.total, lang) if outcome else "",
        text=_without_header(text),
    )
