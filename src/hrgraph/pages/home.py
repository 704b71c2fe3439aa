"""The home page: the project, the map of the cities visited, the counts, and the ways into the
data (by city, by practice, by lesson)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from hrgraph.engine.publisher import Release
from hrgraph.pages import canada, dataset, i18n, templating
from hrgraph.pages.index import Index, select, value
from hrgraph.pages.links import Link
from hrgraph.pages.parts import Group, Item, Linker, item_key, normalise, text_key
from hrgraph.pages.resource import Builder, ResourcePage

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


def render(release: Release, lang: str, markup: Mapping[str, object]) -> str:
    """The home page in `lang`; `markup` is the release's schema.org Dataset, for its head."""
    helper = Linker(release, lang)
    found = helper.index
    box = canada.frame()
    cities = [
        (found.href(value(r, "city"), lang), found.label(value(r, "city"), lang),
         float(value(r, "lat")), float(value(r, "long")))
        for r in select(release, CITIES_QUERY)
    ]  # fmt: skip
    return templating.render(
        "home.html",
        "/",
        lang,
        project=project(release, found, lang),
        ontology=found.base + "ontology#",
        paths=canada.outline_paths(box),
        width=canada.WIDTH,
        height=box.height,
        markers=with_targets(canada.markers(box, cities), box.height),
        cities=sorted((Link(label, href) for href, label, _, _ in cities), key=text_key),
        counts=counts(found, lang),
        practices=practices(release, helper),
        lessons=lessons_by_city(release, helper),
        jsonld=dataset.script(markup),
    )


def project(release: Release, found: Index, lang: str) -> ResourcePage | None:
    """The project's own page (the first, should there be several), shown at the top."""
    projects = sorted(iri for iri, kind in found.kinds.items() if kind == "project")
    if not projects:
        return None
    return Builder(release, projects[0], lang).build(projects[0][len(found.base) :])


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


def practices(release: Release, helper: Linker) -> list[tuple[Link, int]]:
    rows = select(release, PRACTICES_QUERY)
    found = [(helper.link(value(r, "practice")), int(value(r, "n"))) for r in rows]
    return sorted(found, key=lambda pn: (-pn[1], text_key(pn[0])))


def lessons_by_city(release: Release, helper: Linker) -> list[Group]:
    by_city: dict[str, dict[str, Item]] = {}
    for row in select(release, LESSONS_QUERY):
        lesson = value(row, "lesson")
        by_city.setdefault(value(row, "city"), {}).setdefault(lesson, helper.item(lesson))
    strings = i18n.strings(helper.lang)
    groups = [
        Group(
            helper.index.label(city, helper.lang) if city else strings["other_lessons"],
            city,
            sorted(items.values(), key=item_key),
        )
        for city, items in by_city.items()
    ]
    return sorted(groups, key=lambda g: (not g.anchor, normalise(g.heading)))


def with_targets(
    markers: list[canada.Marker], height: float
) -> list[tuple[canada.Marker, list[canada.Box]]]:
    """Each marker with its tap target (canada.hit_boxes)."""
    return list(zip(markers, canada.hit_boxes(markers, height), strict=True))
