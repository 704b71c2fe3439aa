"""What a city's page adds to the generic page (issue 11, item 1): an overview of what its
organizations and programs do (a summary, programs with their one-line summary and practices),
then "learn from other cities": for each practice used here, the other cities that use it and
what they learned, and the practices other cities use that no one here does. The census codes
and coordinates (the page's details) go last.

A city uses a practice when one of its programs or organizations does (Point de Repères does
needle exchange in Québec without a program of its own), or a narrower one: a city with an
outreach van does outreach."""

from __future__ import annotations

from dataclasses import dataclass, field

from hrgraph.pages import i18n
from hrgraph.pages.index import value
from hrgraph.pages.links import Link
from hrgraph.pages.parts import Group, Item, PageLinker, PageParts

#: Groups shown before "learn from other cities": what the city's people do, learned and need.
FIRST = ("organization", "lesson", "challenge", "finding", "need")

#: Every city's programs and organizations with the practices they use (all cities: the page
#: compares this one with the others).
USES_QUERY = """SELECT DISTINCT ?user ?type ?city ?practice WHERE {{
  VALUES ?type {{ hr:Program hr:Organization }}
  ?user a ?type ; hr:city ?city . ?city a hr:City
  OPTIONAL {{ ?user hr:usesPractice ?practice }} }}"""
BROADER_QUERY = """SELECT DISTINCT ?practice ?broader WHERE {{
  VALUES ?type {{ hr:Program hr:Organization }}
  ?user a ?type ; hr:usesPractice ?practice .
  ?practice (skos:broader|^skos:narrower)+ ?broader }}"""
#: Lessons and challenges by practice and city (their own, else that of what they are about).
LESSONS_QUERY = """SELECT DISTINCT ?lesson ?practice ?city WHERE {{
  {{ ?lesson a hr:Lesson }} UNION {{ ?lesson a hr:Challenge }}
  ?lesson hr:usesPractice ?practice .
  {{ ?lesson hr:city ?city }} UNION {{ ?lesson hr:about/hr:city ?city }}
  ?city a hr:City }}"""


@dataclass
class ProgramEntry:
    item: Item  # its text is the program's one-line summary
    practices: list[Link]


@dataclass
class Peer:
    """Another city that uses a practice: its programs that do (else its organizations), and
    what it learned about it."""

    city: Link
    users: list[Link]
    lessons: list[Link]


@dataclass
class Comparison:
    practice: Link
    peers: list[Peer]


@dataclass
class CityOverview:
    counts: str  # "The data describes 3 organizations and 3 programs in Halifax."
    practices_intro: str  # "Between them they use 5 practices"
    practices: list[Link]
    programs_heading: str
    programs: list[ProgramEntry]
    first: list[Group]  # the generic groups shown before "learn from other cities"
    then: list[Group]  # and after it
    shared: list[Comparison]  # each practice used here, and the other cities that use it
    elsewhere: list[Comparison]  # practices used elsewhere, not here


@dataclass
class Uses:
    """Who does what where, in every city."""

    #: (city, practice) → programs and organizations there that use it, by type
    users: dict[tuple[str, str], dict[str, set[str]]] = field(default_factory=dict)
    #: user → its practices; its type
    practices: dict[str, set[str]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    #: practice → the practices broader than it
    broader: dict[str, set[str]] = field(default_factory=dict)
    #: (city, practice) → lessons and challenges
    lessons: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def of_city(self, city: str) -> set[str]:
        return {practice for (place, practice) in self.users if place == city}

    def with_narrower(self, practice: str) -> set[str]:
        return {p for p, broader in self.broader.items() if practice in broader} | {practice}


def city_overview(builder: PageLinker, page: PageParts) -> CityOverview:
    # The same for every city page and language: computed once per release (whole-graph queries).
    uses = builder.release.memo("pages-city-uses", lambda: _uses(builder))
    here = uses.of_city(builder.iri)
    done = here.union(*(uses.broader.get(practice, set()) for practice in here))
    others = {p for (place, p) in uses.users if place != builder.iri} - done
    iris = {builder.link(user).href: user for user in uses.types}
    programs = [
        ProgramEntry(item, _links(builder, uses.practices.get(iris.get(item.link.href, ""), set())))
        for item in _items(page, "program")
    ]
    organizations = _items(page, "organization")
    for item in (*organizations, *(entry.item for entry in programs)):
        item.text = builder.summary(iris.get(item.link.href, ""))
    first = [g for g in page.groups if g.anchor in FIRST]
    then = [g for g in page.groups if g.anchor not in (*FIRST, "program")]
    page.groups = [*first, *then]  # reading order, for the footnotes' numbers
    return CityOverview(
        _counts(builder, page.title, len(organizations), len(programs)),
        builder.count_text("city_practices", len(here)),
        _links(builder, here),
        i18n.kind_name("program", builder.lang, plural=True),
        programs,
        first,
        then,
        [_comparison(builder, uses, practice) for practice in _sorted(builder, here)],
        [_comparison(builder, uses, practice) for practice in _sorted(builder, others)],
    )


def _items(page: PageParts, kind: str) -> list[Item]:
    return next((g.items for g in page.groups if g.anchor == kind), [])


def _sorted(builder: PageLinker, iris: set[str]) -> list[str]:
    return sorted(iris, key=builder.sort_label)


def _links(builder: PageLinker, iris: set[str]) -> list[Link]:
    return [builder.link(iri) for iri in _sorted(builder, iris)]


def _counts(builder: PageLinker, city: str, organizations: int, programs: int) -> str:
    return i18n.strings(builder.lang)["city_counts"].format(
        organizations=builder.count_text("city_organizations", organizations),
        programs=builder.count_text("city_programs", programs),
        city=city,
    )


def _uses(builder: PageLinker) -> Uses:
    uses = Uses()
    for row in builder.query(USES_QUERY):
        user, practice = value(row, "user"), value(row, "practice")
        uses.types[user] = value(row, "type").removeprefix(builder.ontology)
        uses.practices.setdefault(user, set())
        if practice:
            uses.practices[user].add(practice)
            by_type = uses.users.setdefault((value(row, "city"), practice), {})
            by_type.setdefault(uses.types[user], set()).add(user)
    for row in builder.query(BROADER_QUERY):
        uses.broader.setdefault(value(row, "practice"), set()).add(value(row, "broader"))
    for row in builder.query(LESSONS_QUERY):
        key = (value(row, "city"), value(row, "practice"))
        uses.lessons.setdefault(key, set()).add(value(row, "lesson"))
    return uses


def _comparison(builder: PageLinker, uses: Uses, practice: str) -> Comparison:
    """The other cities that use `practice` (or a narrower one), with who does and what they
    learned about it."""
    practices = uses.with_narrower(practice)
    cities = {city for (city, used) in uses.users if used in practices and city != builder.iri}
    # Each lesson once: not this city's own (its page lists them), and under one city only.
    shown = set().union(
        *(found for (city, _), found in uses.lessons.items() if city == builder.iri)
    )
    peers = []
    for city in _sorted(builder, cities):
        peer = _peer(uses, city, practices, shown)
        shown |= peer.lessons
        peers.append(
            Peer(builder.link(city), _links(builder, peer.users), _links(builder, peer.lessons))
        )
    return Comparison(builder.link(practice), peers)


@dataclass
class _Found:
    users: set[str]
    lessons: set[str]


def _peer(uses: Uses, city: str, practices: set[str], shown: set[str]) -> _Found:
    """Who in `city` uses one of `practices` (its programs, else its organizations), and its
    lessons about them not `shown` yet."""
    by_type: dict[str, set[str]] = {}
    for used in practices:
        for kind, users in uses.users.get((city, used), {}).items():
            by_type.setdefault(kind, set()).update(users)
    users = by_type.get("Program") or by_type.get("Organization", set())
    lessons = set().union(*(uses.lessons.get((city, used), set()) for used in practices))
    return _Found(users, lessons - shown)
