"""What a practice's page adds to the generic page (issue 11, item 6): the programs that use it
(or a narrower practice), by city, each with its one-line summary and the figures about it, and
under each city the lessons and challenges that concern this practice, each once on the page.

What ties a lesson to a practice is the data's own `hr:usesPractice` on the lesson; a lesson
that names no practice concerns this one only when it is about a program that uses nothing else
(a lesson about Oasis, which does many things, is not one about its crack kits)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from hrgraph.pages import i18n
from hrgraph.pages.index import value
from hrgraph.pages.links import Link
from hrgraph.pages.parts import (
    Group,
    Item,
    PageLinker,
    PageParts,
    Source,
    item_key,
    normalise,
    source_key,
)

#: The kinds of item the programs by city show: their generic groups would repeat them.
SHOWN_BY_CITY = frozenset({"program", "lesson", "challenge"})

#: `?via` is this practice or a narrower one, in each query.
PROGRAMS_QUERY = """SELECT DISTINCT ?program ?via ?city WHERE {{
  ?via (skos:broader|^skos:narrower)* <{iri}> .
  ?program hr:usesPractice ?via ; a hr:Program .
  OPTIONAL {{ ?program hr:city ?city }} }}"""
FIGURES_QUERY = """SELECT DISTINCT ?program ?figure ?src ?url ?doc WHERE {{
  ?via (skos:broader|^skos:narrower)* <{iri}> .
  ?program hr:usesPractice ?via ; a hr:Program .
  ?figure hr:about ?program ; a hr:Figure ; dct:source ?src .
  OPTIONAL {{ ?src schema:url ?url }} OPTIONAL {{ ?src hr:pageOf ?doc }} }}"""
#: A lesson's city is its own (hr:city), else that of what it is about.
LESSONS_QUERY = """SELECT DISTINCT ?item ?city ?src ?url ?doc WHERE {{
  {{ ?item a hr:Lesson }} UNION {{ ?item a hr:Challenge }}
  {{ ?via (skos:broader|^skos:narrower)* <{iri}> . ?item hr:usesPractice ?via }}
  UNION {{
    ?via (skos:broader|^skos:narrower)* <{iri}> .
    ?item hr:about ?only . ?only a hr:Program ; hr:usesPractice ?via .
    FILTER NOT EXISTS {{ ?item hr:usesPractice ?any }}
    FILTER NOT EXISTS {{ ?only hr:usesPractice ?other
      FILTER NOT EXISTS {{ ?other (skos:broader|^skos:narrower)* <{iri}> }} }} }}
  OPTIONAL {{ ?item hr:city ?own }}
  OPTIONAL {{ ?item hr:about ?about . ?about hr:city ?near }}
  BIND(COALESCE(?own, ?near) AS ?city)
  OPTIONAL {{ ?item dct:source ?src
    OPTIONAL {{ ?src schema:url ?url }} OPTIONAL {{ ?src hr:pageOf ?doc }} }} }}"""


@dataclass
class ProgramEntry:
    iri: str
    item: Item  # its text is the program's one-line summary
    figures: list[Item] = field(default_factory=list)


@dataclass
class CityPrograms:
    heading: Link  # the city, linked; or "not tied to one city"
    anchor: str
    programs: list[ProgramEntry] = field(default_factory=list)
    lessons: list[Item] = field(default_factory=list)


@dataclass
class PracticeOverview:
    summary: str  # "5 programs in 3 cities use this practice or a narrower one."
    cities: list[CityPrograms]

    def cited(self) -> Iterator[Source]:
        """Sources in reading order: each city's programs' figures, then its lessons."""
        for city in self.cities:
            for program in city.programs:
                for figure in program.figures:
                    yield from figure.sources
            for lesson in city.lessons:
                yield from lesson.sources


def practice_overview(builder: PageLinker, page: PageParts) -> PracticeOverview:
    cities = _programs(builder)
    _add_figures(builder, cities)
    _add_lessons(builder, cities)
    shown = sorted((c for c in cities.values() if c.programs or c.lessons), key=_order)
    page.groups = _without_repeats(page)
    programs = sum(len(city.programs) for city in shown)
    places = sum(1 for city in shown if city.anchor and city.programs)
    return PracticeOverview(_summary(builder, programs, places), shown)


def _order(city: CityPrograms) -> tuple[bool, str]:
    """Cities by name, then what is tied to none."""
    return not city.anchor, normalise(city.heading.text)


def _summary(builder: PageLinker, programs: int, cities: int) -> str:
    if not programs:
        return i18n.strings(builder.lang)["no_programs"]
    sentence = builder.count_text("practice_summary", programs)
    return sentence.format(cities=builder.count_text("practice_cities", cities))


def _city(builder: PageLinker, cities: dict[str, CityPrograms], iri: str) -> CityPrograms:
    if iri not in cities:
        heading = builder.link(iri) if iri else Link(i18n.strings(builder.lang)["practice_no_city"])
        cities[iri] = CityPrograms(heading, iri)
    return cities[iri]


def _programs(builder: PageLinker) -> dict[str, CityPrograms]:
    cities: dict[str, CityPrograms] = {}
    seen: dict[str, ProgramEntry] = {}
    for row in builder.query(PROGRAMS_QUERY):
        program, via = value(row, "program"), value(row, "via")
        if program in seen:
            continue
        detail = "" if via == builder.iri else builder.index.label(via, builder.lang)
        item = builder.item(program, detail)
        item.text = builder.summary(program)
        seen[program] = ProgramEntry(program, item)
        _city(builder, cities, value(row, "city")).programs.append(seen[program])
    for city in cities.values():
        city.programs.sort(key=lambda p: item_key(p.item))
    return cities


def _add_figures(builder: PageLinker, cities: dict[str, CityPrograms]) -> None:
    """Each figure about a program shown, once: under the first program it is about."""
    about: dict[str, set[str]] = {}
    cited: dict[str, dict[str, Source]] = {}
    for row in builder.query(FIGURES_QUERY):
        figure = value(row, "figure")
        about.setdefault(figure, set()).add(value(row, "program"))
        builder.add_source(cited.setdefault(figure, {}), row)
    placed: set[str] = set()
    for city in sorted(cities.values(), key=_order):
        for program in city.programs:
            mine = sorted(f for f, on in about.items() if program.iri in on and f not in placed)
            placed.update(mine)
            program.figures = sorted(
                (builder.item(f, sources=sorted(cited[f].values(), key=source_key)) for f in mine),
                key=item_key,
            )


def _add_lessons(builder: PageLinker, cities: dict[str, CityPrograms]) -> None:
    """Each lesson under one city: the first, by name, of those it is about that the page shows
    (else the first of its own), or under "not tied to one city"."""
    places: dict[str, set[str]] = {}
    cited: dict[str, dict[str, Source]] = {}
    for row in builder.query(LESSONS_QUERY):
        lesson = value(row, "item")
        places.setdefault(lesson, set()).update({value(row, "city")} - {""})
        if value(row, "src"):
            builder.add_source(cited.setdefault(lesson, {}), row)
    for lesson, found in places.items():
        home = min(found, key=lambda c: (c not in cities, builder.sort_label(c)), default="")
        sources = sorted(cited.get(lesson, {}).values(), key=source_key)
        item = builder.item(lesson, sources=sources)
        item.text = builder.summary(lesson)  # its first sentence: its page has the rest
        _city(builder, cities, home).lessons.append(item)
    for city in cities.values():
        city.lessons.sort(key=item_key)


def _without_repeats(page: PageParts) -> list[Group]:
    """The generic groups less what the programs by city show, and less the concepts the
    details already link (a mapped or narrower practice is in both)."""
    linked = {link.href for fact in page.facts for link in fact.values if link.href}
    groups = []
    for group in page.groups:
        if group.anchor in SHOWN_BY_CITY:
            continue
        items = [item for item in group.items if item.link.href not in linked]
        if items:
            groups.append(Group(group.heading, group.anchor, items))
    return groups
