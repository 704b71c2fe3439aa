"""The page of a resource (a program, a city, a practice, ...): its description, details,
sources, what points at it by kind, for a document its page-level citations; built in one
language from the index and a few SELECTs. A city's overview and a practice's programs by city
are built by pages.city and pages.practice on top of this generic page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from hrgraph.engine.publisher import Release
from hrgraph.pages import i18n, templating
from hrgraph.pages.city import CityOverview, city_overview
from hrgraph.pages.index import Rows, value
from hrgraph.pages.links import FORMATS, Link
from hrgraph.pages.parts import (
    Fact,
    Group,
    Item,
    PageLinker,
    Source,
    footnotes,
    group_rank,
    item_key,
    normalise,
    source_key,
    text_key,
)
from hrgraph.pages.practice import PracticeOverview, practice_overview
from hrgraph.vocab import DCT, RDF_TYPE, RDFS, SCHEMA, SKOS

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
    mappings: list[Match] = field(default_factory=list)
    citations: list[PageCitation] = field(default_factory=list)
    #: every source cited on the page, numbered (`Source.number`): the list at the bottom
    footnotes: list[Source] = field(default_factory=list)
    practice: PracticeOverview | None = None  # a practice's programs by city
    city: CityOverview | None = None  # a city's overview

    def cited(self) -> Iterator[Source]:
        """The page's sources in reading order: its own (a city's come last, with its census
        details), then its items' and their lessons'."""
        if self.city is None:
            yield from self.sources
        if self.practice is not None:
            yield from self.practice.cited()
        for group in self.groups:
            yield from group_sources(group)
        if self.city is not None:
            yield from self.sources

    def fact(self, predicate: str) -> Fact | None:
        return next((f for f in self.facts if f.predicate == predicate), None)

    def group(self, kind: str) -> Group | None:
        return next((g for g in self.groups if g.anchor == kind), None)


#: What the curators wrote: the closure the release adds (graph/inferred: superclasses,
#: superproperties) would repeat each fact under its broader names.
FACTS_QUERY = """SELECT DISTINCT ?dir ?p ?o WHERE {{
  {{ <{iri}> ?p ?o BIND("out" AS ?dir)
     FILTER NOT EXISTS {{ GRAPH <{inferred}> {{ <{iri}> ?p ?o }} }} }}
  UNION {{ ?o ?p <{iri}> FILTER(isIRI(?o)) BIND("in" AS ?dir)
     FILTER NOT EXISTS {{ GRAPH <{inferred}> {{ ?o ?p <{iri}> }} }} }} }}"""
SOURCES_QUERY = """SELECT DISTINCT ?item ?src ?url ?doc WHERE {{
  {{ BIND(<{iri}> AS ?item) }} UNION {{ ?item ?p <{iri}> FILTER(isIRI(?item)) }}
  ?item dct:source ?src .
  OPTIONAL {{ ?src schema:url ?url }} OPTIONAL {{ ?src hr:pageOf ?doc }} }}"""
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


class Builder(PageLinker):
    """Builds the page of one resource in one language from the index and a few SELECTs."""

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
            page.practice = practice_overview(self, page)
            page.mappings = self.mappings()
        if kind == "city":
            page.city = city_overview(self, page)
        if kind == "document":
            page.citations = self.citations()
        page.footnotes = footnotes(page.cited())
        return page

    def facts(self, rows: Rows) -> list[Fact]:
        grouped: dict[str, list[Link]] = {}
        for row in rows:
            predicate = value(row, "p")
            if predicate not in NOT_IN_DETAILS:
                grouped.setdefault(predicate, []).append(self.term(row, "o"))
        facts = [
            Fact(p, self.fact_label(p), sorted(set(self.in_language(links)), key=text_key))
            for p, links in grouped.items()
        ]
        return sorted(facts, key=self.detail_rank)

    def fact_label(self, predicate: str) -> str:
        """A schedule is the one of the site visit (2007-08): its label says so."""
        if predicate == self.ontology + "schedule":
            return i18n.strings(self.lang)["schedule_then"]
        return self.predicate_label(predicate)

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
        return {item: sorted(per.values(), key=source_key) for item, per in found.items()}

    def groups(self, rows: Rows, sources: dict[str, list[Source]]) -> list[Group]:
        """What points at this resource, by kind ("cited by" for dct:source)."""
        members: dict[str, dict[str, set[str]]] = {}
        for row in rows:
            subject, predicate = value(row, "o"), value(row, "p")
            key = "cited-by" if predicate == DCT + "source" else self.index.kind(subject)
            members.setdefault(key, {}).setdefault(subject, set()).add(predicate)
        groups = []
        for key in sorted(members, key=group_rank):
            # Say how an item points here only where the group's items differ in it: "Programs"
            # on a city page all have it as their city, and "— city" says nothing more.
            same = len({frozenset(p) for p in members[key].values()}) == 1
            items = [
                self.item(
                    subject,
                    "" if same else ", ".join(sorted(self.predicate_label(p) for p in predicates)),
                    sources.get(subject) if self.index.kind(subject) in SOURCED_KINDS else None,
                )
                for subject, predicates in members[key].items()
            ]
            heading = (
                i18n.strings(self.lang)["cited_by"]
                if key == "cited-by"
                else i18n.kind_name(key, self.lang, plural=True)
            )
            groups.append(Group(heading, key, sorted(items, key=item_key)))
        return groups

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
        return sorted(found, key=lambda m: (m.via is not None, text_key(m.target)))

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
            PageCitation(self.link(page), sorted(citers.values(), key=item_key))
            for page, (_, citers) in ordered
        ]


def group_sources(group: Group) -> Iterator[Source]:
    """The sources of a group's items and of their lessons, in order."""
    for item in group.items:
        yield from item.sources
        for lesson in item.lessons:
            yield from lesson.sources


def render(release: Release, iri: str, path: str, lang: str, query: str) -> str:
    """The HTML page of a resource; `query` is the CONSTRUCT that gives its RDF (linked from the
    page, so that readers see where it comes from)."""
    page = Builder(release, iri, lang).build(path)
    return templating.render("page.html", "/" + path, lang, page=page, formats=FORMATS,
                             sparql=sparql_link(query))  # fmt: skip


def sparql_link(query: str) -> str:
    return "/sparql?" + urlencode({"query": query}, quote_via=quote)
