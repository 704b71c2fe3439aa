"""Pages for people: the home page, a page for every resource, and search, in English and French.

Everything shown comes from the release through the engine: each query goes through the same
safety check and engine as a user's (`web.run_json`), never through the editable sources. A
release-wide index (labels, kinds, descriptions, one SELECT each) is built at first use and kept
for the release; a page is rendered once per release and language and then served from the
release's answer cache, like a query answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from hrgraph.config import Settings
from hrgraph.engine.interface import QueryAnswer
from hrgraph.engine.publisher import Release
from hrgraph.engine.queries import bindings, etag_of, run_json
from hrgraph.pages import canada, i18n
from hrgraph.web import negotiation
from hrgraph.web.http import answer, not_modified, publisher_of
from hrgraph.web.service import schema_org

if TYPE_CHECKING:
    from hrgraph.web.linked_data import Target

router = APIRouter()

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"
GEO = "http://www.w3.org/2003/01/geo/wgs84_pos#"

#: Search queries longer than this are refused with a message (no one types more).
MAX_SEARCH = 200
#: The RDF alternates a page links to, with their names.
FORMATS: tuple[tuple[str, str, str], ...] = (
    ("ttl", "text/turtle", "Turtle"),
    ("jsonld", "application/ld+json", "JSON-LD"),
    ("nt", "application/n-triples", "N-Triples"),
    ("rdf", "application/rdf+xml", "RDF/XML"),
)
#: Classes (local names in the ontology namespace) → the kind of page they get.
CLASS_KINDS: dict[str, str] = {
    "Project": "project",
    "Symposium": "consultation",
    "FocusGroups": "consultation",
    "SiteVisits": "consultation",
    "Consultation": "consultation",
    "Organization": "organization",
    "FundingProgram": "fund",
    "Person": "person",
    "Document": "document",
    "DocumentPage": "page",
    "Province": "province",
    "City": "city",
    "Practice": "practice",
    "Theme": "theme",
    "Population": "population",
    "Program": "program",
    "Lesson": "lesson",
    "Challenge": "challenge",
    "Finding": "finding",
    "Need": "need",
    "Milestone": "milestone",
    "Figure": "figure",
}
KIND_ORDER: tuple[str, ...] = tuple(i18n.KINDS)
#: Shown elsewhere on a resource page than in its table of details.
NOT_IN_DETAILS = frozenset(
    {
        RDFS + "label",
        SKOS + "prefLabel",
        DCT + "description",
        SKOS + "definition",
        SKOS + "note",
        DCT + "source",
    }
)
#: The order of rows in the table of details (the rest follow, by label).
DETAIL_ORDER: tuple[str, ...] = (
    RDF_TYPE,
    "city",
    "province",
    "operatedBy",
    "partner",
    "ledBy",
    "fundedBy",
    "usesPractice",
    "serves",
    "service",
    "schedule",
    SCHEMA + "startDate",
    SCHEMA + "endDate",
    DCT + "date",
    "value",
    "minValue",
    "maxValue",
    "unit",
    "about",
    "fromConsultation",
    "theme",
    SKOS + "inScheme",
    SKOS + "broader",
    SKOS + "narrower",
)
#: Kinds whose items carry their own sources in lists (they are facts, not things).
SOURCED_KINDS = frozenset({"lesson", "challenge", "finding", "need", "milestone", "figure"})


def prefixes(base: str) -> str:
    return (
        f"PREFIX hr: <{base}ontology#>\nPREFIX rdfs: <{RDFS}>\nPREFIX skos: <{SKOS}>\n"
        f"PREFIX dct: <{DCT}>\nPREFIX schema: <{SCHEMA}>\nPREFIX geo: <{GEO}>\n"
    )


def select(release: Release, settings: Settings, query: str) -> list[dict[str, dict[str, str]]]:
    """Run one of the pages' SELECTs through the safety check and the engine."""
    return bindings(run_json(release, prefixes(release.base_iri) + query))


def value(row: Mapping[str, Mapping[str, str]], name: str) -> str:
    term = row.get(name)
    return term["value"] if term else ""


def language(row: Mapping[str, Mapping[str, str]], name: str) -> str:
    term = row.get(name)
    return term.get("xml:lang", "") if term else ""


# --- the release-wide index ---------------------------------------------------------------


@dataclass(frozen=True)
class Index:
    """What every page needs about every resource: labels, kind, short texts, certainty."""

    base: str
    labels: dict[str, dict[str, str]]
    kinds: dict[str, str]
    texts: dict[str, dict[str, str]]
    summaries: dict[str, dict[str, str]]
    uncertain: frozenset[str]

    def label(self, iri: str, lang: str) -> str:
        """The label in `lang`, else English, else untagged, else the slug humanised."""
        found = self.labels.get(iri, {})
        for key in (lang, "en", "", *found):
            if found.get(key):
                return found[key]
        return humanise(iri)

    def label_lang(self, iri: str, lang: str) -> str:
        """The language of the label `label` gives, when it is not `lang` (for lang=...)."""
        found = self.labels.get(iri, {})
        if found.get(lang) or not found:
            return ""
        return next((key for key in ("en", "", *found) if found.get(key)), "")

    def kind(self, iri: str) -> str:
        return self.kinds.get(iri, "resource")

    def local(self, iri: str) -> bool:
        return iri.startswith(self.base)

    def href(self, iri: str, lang: str) -> str:
        """Links to the release's own IRIs stay on this server, in the page's language."""
        if not self.local(iri):
            return iri
        path, hash_, fragment = iri[len(self.base) :].partition("#")
        return f"/{path}?lang={lang}" + (f"#{fragment}" if hash_ else "")


def humanise(iri: str) -> str:
    """The last segment of an IRI as words: the fallback when the data has no label."""
    slug = re.split(r"[/#]", iri.rstrip("/#"))[-1]
    words = slug.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else iri


def index(release: Release, settings: Settings) -> Index:
    return release.memo("pages-index", lambda: build_index(release, settings))


def build_index(release: Release, settings: Settings) -> Index:
    base = release.base_iri
    return Index(
        base,
        _by_language(select(release, settings, LABELS_QUERY), "l"),
        _kinds(select(release, settings, TYPES_QUERY.format(base=base)), base),
        _by_language(select(release, settings, TEXTS_QUERY.format(base=base)), "d"),
        _summaries(select(release, settings, SUMMARIES_QUERY)),
        frozenset(value(row, "s") for row in select(release, settings, UNCERTAIN_QUERY)),
    )


LABELS_QUERY = """SELECT DISTINCT ?s ?l WHERE {
  ?s rdfs:label|skos:prefLabel ?l FILTER(isIRI(?s) && isLiteral(?l)) }"""
TYPES_QUERY = """SELECT DISTINCT ?s ?t WHERE {{
  ?s a ?t FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{base}id/")) }}"""
TEXTS_QUERY = """SELECT DISTINCT ?s ?d WHERE {{
  ?s dct:description|skos:definition ?d FILTER(STRSTARTS(STR(?s), "{base}id/")) }}"""
SUMMARIES_QUERY = """SELECT DISTINCT ?s ?v ?min ?max ?unit ?date WHERE {
  { ?s a hr:Figure } UNION { ?s a hr:Milestone }
  OPTIONAL { ?s hr:value ?v } OPTIONAL { ?s hr:minValue ?min } OPTIONAL { ?s hr:maxValue ?max }
  OPTIONAL { ?s hr:unit ?unit } OPTIONAL { ?s dct:date ?date } }"""
UNCERTAIN_QUERY = """SELECT DISTINCT ?s WHERE { ?s hr:certainty "uncertain" }"""


def _by_language(rows: list[dict[str, dict[str, str]]], name: str) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for row in rows:
        texts = found.setdefault(value(row, "s"), {})
        texts.setdefault(language(row, name), value(row, name))
    return found


def _kinds(rows: list[dict[str, dict[str, str]]], base: str) -> dict[str, str]:
    ontology, scheme = base + "ontology#", SKOS + "ConceptScheme"
    found: dict[str, str] = {}
    for row in rows:
        iri, cls = value(row, "s"), value(row, "t")
        if cls == scheme:
            found[iri] = "scheme"
        elif cls.startswith(ontology) and cls[len(ontology) :] in CLASS_KINDS:
            found[iri] = CLASS_KINDS[cls[len(ontology) :]]
    return found


def _summaries(rows: list[dict[str, dict[str, str]]]) -> dict[str, dict[str, str]]:
    """A figure as "62 percent of …", a milestone as its date, per language of the unit."""
    found: dict[str, dict[str, str]] = {}
    for row in rows:
        number = value(row, "v") or (
            f"{value(row, 'min')}\u2013{value(row, 'max')}" if value(row, "min") else ""
        )
        text = " ".join(part for part in (number, value(row, "unit")) if part)
        found.setdefault(value(row, "s"), {}).setdefault(
            language(row, "unit"), text or value(row, "date")
        )
    return found


# --- what pages are made of ---------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A text, a link when it has an href; `lang` when its language is not the page's."""

    text: str
    href: str = ""
    lang: str = ""
    external: bool = False


@dataclass
class Source:
    link: Link
    document: Link | None = None
    online: list[Link] = field(default_factory=list)


@dataclass
class Item:
    link: Link
    kind: str = ""
    detail: str = ""
    text: Link | None = None
    uncertain: bool = False
    sources: list[Source] = field(default_factory=list)
    sort: str = ""
    lessons: list[Item] = field(default_factory=list)


@dataclass
class Group:
    heading: str
    anchor: str
    items: list[Item]


@dataclass
class Fact:
    predicate: str
    label: str
    values: list[Link]


@dataclass
class Match:
    target: Link
    relation: str
    scheme: Link | None
    via: Link | None


@dataclass
class PageCitation:
    page: Link
    citers: list[Item]


@dataclass
class ResourcePage:
    iri: str
    path: str
    lang: str
    kind: str
    kind_label: str
    title: str
    description: list[Link] = field(default_factory=list)
    notes: list[Link] = field(default_factory=list)
    uncertain: bool = False
    facts: list[Fact] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    learning: list[Group] = field(default_factory=list)
    mappings: list[Match] = field(default_factory=list)
    citations: list[PageCitation] = field(default_factory=list)

    def fact(self, predicate: str) -> Fact | None:
        return next((f for f in self.facts if f.predicate == predicate), None)

    def group(self, kind: str) -> Group | None:
        return next((g for g in self.groups if g.anchor == kind), None)


# --- building a resource page -------------------------------------------------------------

FACTS_QUERY = """SELECT DISTINCT ?dir ?p ?o WHERE {{
  {{ <{iri}> ?p ?o BIND("out" AS ?dir) }}
  UNION {{ ?o ?p <{iri}> FILTER(isIRI(?o)) BIND("in" AS ?dir) }} }}"""
SOURCES_QUERY = """SELECT DISTINCT ?item ?src ?url ?doc WHERE {{
  {{ BIND(<{iri}> AS ?item) }} UNION {{ ?item ?p <{iri}> FILTER(isIRI(?item)) }}
  ?item dct:source ?src .
  OPTIONAL {{ ?src schema:url ?url }} OPTIONAL {{ ?src hr:pageOf ?doc }} }}"""
LEARNING_QUERY = """SELECT DISTINCT ?program ?via ?city ?item ?src ?url WHERE {{
  ?via (skos:broader|^skos:narrower)* <{iri}> .
  ?program hr:usesPractice ?via ; a hr:Program .
  OPTIONAL {{ ?program hr:city ?city }}
  OPTIONAL {{ ?item hr:about ?program ; dct:source ?src
             {{ ?item a hr:Lesson }} UNION {{ ?item a hr:Challenge }}
             OPTIONAL {{ ?src schema:url ?url }} }} }}"""
MAPPINGS_QUERY = """SELECT DISTINCT ?from ?rel ?target ?scheme WHERE {{
  <{iri}> (skos:broader|^skos:narrower)* ?from .
  ?from ?rel ?target .
  VALUES ?rel {{ skos:closeMatch skos:exactMatch skos:broadMatch skos:narrowMatch
                skos:relatedMatch }}
  OPTIONAL {{ ?target skos:inScheme ?scheme }} }}"""
CITATIONS_QUERY = """SELECT DISTINCT ?page ?n ?citer WHERE {{
  ?page hr:pageOf/hr:copyOf? <{iri}> .
  OPTIONAL {{ ?page hr:viewerPage ?n }}
  OPTIONAL {{ ?citer dct:source ?page FILTER(isIRI(?citer)) }} }}"""


class Builder:
    """Builds the page of one resource in one language from the index and a few SELECTs."""

    def __init__(self, release: Release, settings: Settings, iri: str, lang: str) -> None:
        self.release, self.settings, self.iri, self.lang = release, settings, iri, lang
        self.index = index(release, settings)
        self.ontology = release.base_iri + "ontology#"

    def query(self, template: str) -> list[dict[str, dict[str, str]]]:
        return select(self.release, self.settings, template.format(iri=self.iri))

    def build(self, path: str) -> ResourcePage:
        kind = self.index.kind(self.iri)
        page = ResourcePage(
            self.iri,
            path,
            self.lang,
            kind,
            i18n.kind_name(kind, self.lang),
            self.index.label(self.iri, self.lang),
            uncertain=self.iri in self.index.uncertain,
        )
        rows = self.query(FACTS_QUERY)
        outbound = [r for r in rows if value(r, "dir") == "out"]
        inbound = [r for r in rows if value(r, "dir") == "in"]
        sources = self.sources()
        page.description = self.texts(outbound, (DCT + "description", SKOS + "definition"))
        page.notes = self.texts(outbound, (SKOS + "note",))
        page.facts = self.facts(outbound)
        page.sources = sources.get(self.iri, [])
        page.groups = self.groups(inbound, sources)
        if kind == "practice":
            page.learning = self.learning()
            page.mappings = self.mappings()
        if kind == "document":
            page.citations = self.citations()
        return page

    # links and texts

    def link(self, iri: str) -> Link:
        if self.index.local(iri):
            return Link(
                self.index.label(iri, self.lang),
                self.index.href(iri, self.lang),
                self.index.label_lang(iri, self.lang),
            )
        return external(iri)

    def term(self, row: Mapping[str, Mapping[str, str]], name: str) -> Link:
        """An object as shown: an IRI as a labelled link, a literal as its text."""
        term = row[name]
        if term["type"] == "uri":
            return self.link(term["value"])
        if term["type"] == "bnode":
            return Link("…")
        tag = term.get("xml:lang", "")
        return Link(term["value"], lang=tag if tag and tag != self.lang else "")

    def texts(self, rows: list[dict[str, dict[str, str]]], predicates: Iterable[str]) -> list[Link]:
        wanted = set(predicates)
        return self.in_language([self.term(r, "o") for r in rows if value(r, "p") in wanted])

    def in_language(self, links: list[Link]) -> list[Link]:
        """Texts in the page's language (and untagged ones) when there are any, else all."""
        mine = [link for link in links if not link.lang]
        return mine or links

    # the parts of a page

    def predicate_label(self, iri: str) -> str:
        ontology = self.index.labels.get(iri) if iri.startswith(self.ontology) else None
        return i18n.predicate_label(iri, self.lang, ontology) or humanise(iri)

    def facts(self, rows: list[dict[str, dict[str, str]]]) -> list[Fact]:
        grouped: dict[str, list[Link]] = {}
        for row in rows:
            predicate = value(row, "p")
            if predicate not in NOT_IN_DETAILS:
                grouped.setdefault(predicate, []).append(self.term(row, "o"))
        facts = [
            Fact(p, self.predicate_label(p), sorted(set(self.in_language(links)), key=_text_key))
            for p, links in grouped.items()
        ]
        return sorted(facts, key=self.detail_rank)

    def detail_rank(self, fact: Fact) -> tuple[int, str]:
        local = fact.predicate.removeprefix(self.ontology)
        for rank, name in enumerate(DETAIL_ORDER):
            if name in (fact.predicate, local):
                return rank, ""
        return len(DETAIL_ORDER), normalise(fact.label)

    def sources(self) -> dict[str, list[Source]]:
        """The sources of this resource and of every resource that points at it."""
        found: dict[str, dict[str, Source]] = {}
        for row in self.query(SOURCES_QUERY):
            per_item = found.setdefault(value(row, "item"), {})
            self.add_source(per_item, row)
        return {item: sorted(per.values(), key=_source_key) for item, per in found.items()}

    def add_source(self, found: dict[str, Source], row: Mapping[str, Mapping[str, str]]) -> None:
        src = value(row, "src")
        source = found.get(src)
        if source is None:
            doc = value(row, "doc")
            source = found[src] = Source(self.link(src), self.link(doc) if doc else None)
        url = value(row, "url")
        if url and all(link.href != url for link in source.online):
            source.online.append(external(url, i18n.strings(self.lang)["view_online"]))

    def item(self, iri: str, detail: str = "", sources: list[Source] | None = None) -> Item:
        """A related resource in a list: its link, kind, short text, certainty and sources."""
        kind = self.index.kind(iri)
        text = self.short_text(iri, kind)
        summary = self.index.summaries.get(iri, {})
        return Item(
            self.link(iri),
            i18n.kind_name(kind, self.lang),
            detail,
            text,
            iri in self.index.uncertain,
            sources or [],
            sort=(summary.get("") or "") if kind == "milestone" else "",
        )

    def short_text(self, iri: str, kind: str) -> Link | None:
        if kind in ("figure", "milestone"):
            summary = self.index.summaries.get(iri, {})
            text = summary.get(self.lang) or summary.get("") or summary.get("en")
            if text:
                return Link(text, lang="" if self.lang in summary or "" in summary else "en")
        if kind in ("lesson", "challenge", "finding", "need", "milestone"):
            texts = self.index.texts.get(iri, {})
            text = texts.get(self.lang) or texts.get("en")
            if text:
                return Link(text, lang="" if self.lang in texts else "en")
        return None

    def groups(
        self, rows: list[dict[str, dict[str, str]]], sources: dict[str, list[Source]]
    ) -> list[Group]:
        """What points at this resource, by kind ("cited by" for dct:source)."""
        members: dict[str, dict[str, set[str]]] = {}
        for row in rows:
            subject, predicate = value(row, "o"), value(row, "p")
            key = "cited-by" if predicate == DCT + "source" else self.index.kind(subject)
            members.setdefault(key, {}).setdefault(subject, set()).add(predicate)
        groups = []
        for key in sorted(members, key=_group_rank):
            items = [
                self.item(
                    subject,
                    ", ".join(sorted(self.predicate_label(p) for p in predicates)),
                    sources.get(subject) if self.index.kind(subject) in SOURCED_KINDS else None,
                )
                for subject, predicates in members[key].items()
            ]
            heading = (
                i18n.strings(self.lang)["cited_by"]
                if key == "cited-by"
                else i18n.kind_name(key, self.lang, plural=True)
            )
            groups.append(Group(heading, key, sorted(items, key=_item_key)))
        return groups

    def learning(self) -> list[Group]:
        """Programs that use this practice (or a narrower one), by city, with their lessons."""
        programs: dict[str, dict[str, Item]] = {}  # city → program → item
        lessons: dict[str, dict[str, Item]] = {}  # program → lesson → item
        cited: dict[str, dict[str, Source]] = {}  # lesson → its sources
        for row in self.query(LEARNING_QUERY):
            program, via, lesson = value(row, "program"), value(row, "via"), value(row, "item")
            entries = programs.setdefault(value(row, "city"), {})
            if program not in entries:
                detail = "" if via == self.iri else self.index.label(via, self.lang)
                entries[program] = self.item(program, detail)
            if lesson:
                lessons.setdefault(program, {}).setdefault(lesson, self.item(lesson))
                self.add_source(cited.setdefault(lesson, {}), row)
        for lesson, found in ((k, v) for per in lessons.values() for k, v in per.items()):
            found.sources = sorted(cited[lesson].values(), key=_source_key)
        groups = []
        for city, entries in programs.items():
            for program, item in entries.items():
                item.lessons = sorted(lessons.get(program, {}).values(), key=_item_key)
            heading = self.index.label(city, self.lang) if city else "—"
            groups.append(Group(heading, city, sorted(entries.values(), key=_item_key)))
        return sorted(groups, key=lambda g: normalise(g.heading))

    def mappings(self) -> list[Match]:
        found = []
        for row in self.query(MAPPINGS_QUERY):
            origin, scheme = value(row, "from"), value(row, "scheme")
            found.append(
                Match(
                    self.link(value(row, "target")),
                    self.predicate_label(value(row, "rel")),
                    self.link(scheme) if scheme else None,
                    None if origin == self.iri else self.link(origin),
                )
            )
        return sorted(found, key=lambda m: (m.via is not None, _text_key(m.target)))

    def citations(self) -> list[PageCitation]:
        pages: dict[str, tuple[int, dict[str, Item]]] = {}
        for row in self.query(CITATIONS_QUERY):
            number = value(row, "n")
            entry = pages.setdefault(
                value(row, "page"), (int(number) if number.isdigit() else 0, {})
            )
            citer = value(row, "citer")
            if citer:
                entry[1].setdefault(citer, self.item(citer))
        ordered = sorted(pages.items(), key=lambda kv: (kv[1][0], kv[0]))
        return [
            PageCitation(self.link(page), sorted(citers.values(), key=_item_key))
            for page, (_, citers) in ordered
        ]


def external(iri: str, text: str = "") -> Link:
    """A link that leaves the server, shown as its address without the scheme."""
    parts = urlsplit(iri)
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    shown = text or (parts.netloc + parts.path.rstrip("/") + fragment)
    return Link(shown or iri, iri, external=True)


def normalise(text: str) -> str:
    """Case- and accent-insensitive form of a text, for search and sorting."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _text_key(link: Link) -> str:
    return normalise(link.text)


def _source_key(source: Source) -> str:
    return normalise(source.link.text)


def _item_key(item: Item) -> tuple[str, str]:
    return item.sort, normalise(item.link.text)


def _group_rank(key: str) -> int:
    return KIND_ORDER.index(key) if key in KIND_ORDER else len(KIND_ORDER)


# --- search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    iri: str
    kind: str
    label: str  # normalised labels in every language
    text: str  # normalised descriptions in every language


def search_index(release: Release, settings: Settings) -> list[Entry]:
    """Every resource with a kind, its labels and texts normalised (built once per release)."""

    def build() -> list[Entry]:
        found = index(release, settings)
        return [
            Entry(
                iri,
                kind,
                " | ".join(normalise(t) for t in found.labels.get(iri, {}).values()),
                " | ".join(normalise(t) for t in found.texts.get(iri, {}).values()),
            )
            for iri, kind in sorted(found.kinds.items())
        ]

    return release.memo("pages-search", build)


def find(entries: list[Entry], text: str, kind: str = "") -> dict[str, list[str]]:
    """IRIs whose labels or descriptions hold every word of `text`, best first, by kind."""
    words = re.findall(r"\w+", normalise(text))
    phrase = " ".join(words)
    scored: list[tuple[int, Entry]] = []
    for entry in entries:
        if kind and entry.kind != kind:
            continue
        haystack = entry.label + " " + entry.text
        if all(word in haystack for word in words):
            score = sum(2 if word in entry.label else 1 for word in words)
            scored.append((score + (5 if phrase and phrase in entry.label else 0), entry))
    grouped: dict[str, list[str]] = {}
    for _, entry in sorted(scored, key=lambda se: (-se[0], se[1].label)):
        grouped.setdefault(entry.kind, []).append(entry.iri)
    return {k: grouped[k] for k in sorted(grouped, key=_group_rank)}


# --- rendering ----------------------------------------------------------------------------


def language_of(request: Request) -> str:
    return i18n.choose(request.query_params.get("lang"), request.headers.get("accept-language"))


def html_headers(lang: str) -> dict[str, str]:
    return {"Vary": "Accept, Accept-Language", "Content-Language": lang}


def chrome(path: str, lang: str, params: Mapping[str, str] | None = None) -> dict[str, object]:
    """What base.html needs: the language, its strings, the link to the same page in the other
    language, and the hreflang alternates (x-default: the negotiated URL)."""
    extra = dict(params or {})

    def url(code: str) -> str:
        return path + "?" + urlencode({**extra, "lang": code})

    return {
        "lang": lang,
        "other": i18n.other(lang),
        "s": i18n.strings(lang),
        "switch": url(i18n.other(lang)),
        "hreflang": [
            *((code, url(code)) for code in i18n.LANGUAGES),
            ("x-default", path + ("?" + urlencode(extra) if extra else "")),
        ],
    }


def render(template: str, path: str, lang: str, params: Mapping[str, str] | None = None,
           **context: object) -> str:  # fmt: skip
    from hrgraph.web.linked_data import templates

    return templates().get_template(template).render(**chrome(path, lang, params), **context)


def cached_html(
    request: Request,
    release: Release,
    etag: str,
    make: Callable[[], str],
    headers: Mapping[str, str],
) -> Response:
    """A page from the release's answer cache (rendered at first request: a page never changes
    within a release), or 304 when the client has it already."""
    if not_modified(request, etag):
        return answer(request, release, etag, b"", "text/html", headers)
    cached = release.cache.get(etag)
    if cached is None:
        cached = QueryAnswer("text/html", make().encode())
        release.cache.put(etag, cached)
    return answer(request, release, etag, cached.body, "text/html", headers)


def jsonld(release: Release, lang: str) -> Markup:
    """The release's schema.org Dataset as a script for a page's head (Google Dataset Search
    reads it there). The JSON is HTML-safe: no "<", ">" or "&" can end the script early."""
    data = htmlsafe_json_dumps(schema_org(release, lang), sort_keys=True)
    return Markup('<script type="application/ld+json">{}</script>').format(data)


def sparql_link(query: str) -> str:
    return "/sparql?" + urlencode({"query": query}, quote_via=quote)


def resource_response(
    request: Request,
    release: Release,
    settings: Settings,
    iri: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
) -> Response:
    """The HTML page of a resource (linked_data's HTML branch)."""
    lang = language_of(request)
    etag = etag_of(release.version, "page", path, lang)
    return cached_html(
        request,
        release,
        etag,
        lambda: render_resource(release, settings, iri, path, lang, query),
        {**headers, **html_headers(lang)},
    )


def render_resource(
    release: Release, settings: Settings, iri: str, path: str, lang: str, query: str
) -> str:
    page = Builder(release, settings, iri, lang).build(path)
    return render("page.html", "/" + path, lang, page=page, formats=FORMATS,
                  sparql=sparql_link(query))  # fmt: skip


# --- home ---------------------------------------------------------------------------------

CITIES_QUERY = """SELECT DISTINCT ?city ?lat ?long WHERE {
  ?city a hr:City ; geo:lat ?lat ; geo:long ?long }"""
PRACTICES_QUERY = """SELECT ?practice (COUNT(DISTINCT ?program) AS ?n) WHERE {
  ?program a hr:Program ; hr:usesPractice ?practice } GROUP BY ?practice"""
LESSONS_QUERY = """SELECT DISTINCT ?lesson ?city WHERE {
  ?lesson a hr:Lesson OPTIONAL { ?lesson hr:city|hr:about/hr:city ?city } }"""
#: The counts on the home page: (label kind, kinds counted).
COUNTED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("program", ("program",)),
    ("organization", ("organization",)),
    ("lesson", ("lesson",)),
    ("practice", ("practice",)),
    ("finding", ("finding", "need")),
)


@dataclass
class Count:
    kind: str
    number: int
    label: str
    href: str


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
def home(request: Request) -> Response:
    publisher = publisher_of(request)
    lang = language_of(request)
    with publisher.snapshot() as release:
        etag = etag_of(release.version, "home", lang)
        return cached_html(
            request,
            release,
            etag,
            lambda: render_home(release, publisher.settings, lang),
            html_headers(lang),
        )


def render_home(release: Release, settings: Settings, lang: str) -> str:
    found = index(release, settings)
    helper = Builder(release, settings, "", lang)
    projects = sorted(iri for iri, kind in found.kinds.items() if kind == "project")
    project = (
        Builder(release, settings, projects[0], lang).build(projects[0][len(found.base) :])
        if projects
        else None
    )
    box = canada.frame()
    cities = [
        (found.href(value(r, "city"), lang), found.label(value(r, "city"), lang),
         float(value(r, "lat")), float(value(r, "long")))
        for r in select(release, settings, CITIES_QUERY)
    ]  # fmt: skip
    return render(
        "home.html",
        "/",
        lang,
        project=project,
        ontology=found.base + "ontology#",
        paths=canada.outline_paths(box),
        width=canada.WIDTH,
        height=box.height,
        markers=canada.markers(box, cities),
        cities=sorted((Link(label, href) for href, label, _, _ in cities), key=_text_key),
        counts=counts(found, lang),
        practices=practices(release, settings, helper),
        lessons=lessons_by_city(release, settings, helper),
        jsonld=jsonld(release, lang),
    )


def counts(found: Index, lang: str) -> list[Count]:
    return [
        Count(
            label_kind,
            sum(1 for kind in found.kinds.values() if kind in kinds),
            i18n.kind_name(label_kind, lang, plural=True),
            "/search?" + urlencode({"kind": label_kind, "lang": lang}),
        )
        for label_kind, kinds in COUNTED
    ]


def practices(release: Release, settings: Settings, helper: Builder) -> list[tuple[Link, int]]:
    rows = select(release, settings, PRACTICES_QUERY)
    found = [(helper.link(value(r, "practice")), int(value(r, "n"))) for r in rows]
    return sorted(found, key=lambda pn: (-pn[1], _text_key(pn[0])))


def lessons_by_city(release: Release, settings: Settings, helper: Builder) -> list[Group]:
    by_city: dict[str, dict[str, Item]] = {}
    for row in select(release, settings, LESSONS_QUERY):
        lesson = value(row, "lesson")
        by_city.setdefault(value(row, "city"), {}).setdefault(lesson, helper.item(lesson))
    strings = i18n.strings(helper.lang)
    groups = [
        Group(
            helper.index.label(city, helper.lang) if city else strings["other_lessons"],
            city,
            sorted(items.values(), key=_item_key),
        )
        for city, items in by_city.items()
    ]
    return sorted(groups, key=lambda g: (not g.anchor, normalise(g.heading)))


# --- the dataset page ------------------------------------------------------------------------


@router.api_route("/dataset", methods=["GET", "HEAD"], include_in_schema=False)
def dataset(request: Request) -> Response:
    """/dataset as linked_data serves it, except that its page carries the schema.org Dataset
    (this route comes before linked_data's, which catches every path)."""
    from hrgraph.web import linked_data

    accept, format = request.headers.get("accept"), request.query_params.get("format")
    if negotiation.choose(accept, linked_data.REPRESENTATIONS, format) != "text/html":
        return linked_data.dereference(request, "dataset")
    return dataset_page(request)


@router.api_route("/dataset.html", methods=["GET", "HEAD"], include_in_schema=False)
def dataset_page(request: Request) -> Response:
    from hrgraph.web import linked_data

    publisher = publisher_of(request)
    lang = language_of(request)
    with publisher.snapshot() as release:
        target = linked_data.locate(release, publisher.settings, "dataset")
        assert target is not None  # /dataset is always the release's description
        headers = {"Vary": "Accept", "Link": linked_data.link_header("dataset")}
        return cached_html(
            request,
            release,
            etag_of(release.version, "dataset-page", lang),
            lambda: render_dataset(release, publisher.settings, target, lang),
            {**headers, **html_headers(lang)},
        )


def render_dataset(release: Release, settings: Settings, target: Target, lang: str) -> str:
    from hrgraph.web import linked_data

    page = linked_data.render_page(release, settings, target, lang)
    # render_page takes no extra context: the script goes at the end of base.html's head.
    return page.replace("</head>", f"{jsonld(release, lang)}\n</head>", 1)


# --- search page --------------------------------------------------------------------------


@router.api_route("/search", methods=["GET", "HEAD"])
def search(request: Request) -> Response:
    publisher = publisher_of(request)
    lang = language_of(request)
    text = request.query_params.get("q", "")
    kind = request.query_params.get("kind", "")
    kind = kind if kind in i18n.KINDS else ""
    params = {k: v for k, v in (("q", text), ("kind", kind)) if v}
    with publisher.snapshot() as release:
        if len(text) > MAX_SEARCH:
            message = i18n.strings(lang)["search_too_long"].format(limit=MAX_SEARCH)
            html = render("search.html", "/search", lang, params, q=text[:MAX_SEARCH],
                          kind=kind, message=message, groups=[], limit=MAX_SEARCH)  # fmt: skip
            return Response(html, 400, headers=html_headers(lang), media_type="text/html")
        etag = etag_of(release.version, "search", lang, text, kind)
        return cached_html(
            request,
            release,
            etag,
            lambda: render_search(release, publisher.settings, lang, text, kind, params),
            html_headers(lang),
        )


def render_search(
    release: Release,
    settings: Settings,
    lang: str,
    text: str,
    kind: str,
    params: Mapping[str, str],
) -> str:
    strings = i18n.strings(lang)
    groups: list[Group] = []
    if not text.strip() and not kind:
        message = strings["search_empty"]
    else:
        helper = Builder(release, settings, "", lang)
        found = find(search_index(release, settings), text, kind)
        groups = [
            Group(i18n.kind_name(k, lang, plural=True), k, [helper.item(iri) for iri in iris])
            for k, iris in found.items()
        ]
        total = sum(len(g.items) for g in groups)
        shown = text.strip() or i18n.kind_name(kind, lang, plural=True)
        key = "search_count" if total else "search_none"
        message = strings[key].format(n=total, q=shown)
    return render("search.html", "/search", lang, params, q=text, kind=kind, message=message,
                  groups=groups, limit=MAX_SEARCH)  # fmt: skip
