"""The comparison view (/compare, issue 11 item 2): practices as rows, cities as columns, and in
each cell the programs of that city that use the practice; filterable by city and practice, and
the same table as CSV (/compare.csv).

Rows are the top-level practices (no skos:broader) of the schemes the programs' practices belong
to; a program that uses a narrower practice counts in its top-level practice's row. Cities run
from west to east, rows from the practice most cities have to the rarest."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from hrgraph.engine.publisher import Release
from hrgraph.pages import i18n, templating
from hrgraph.pages.index import select, value
from hrgraph.pages.links import Link
from hrgraph.pages.parts import Linker, normalise, text_key

#: skos:broader, and skos:narrower read backwards: either may be the one the data states.
BROADER = "(skos:broader|^skos:narrower)"
CITIES_QUERY = """SELECT DISTINCT ?city ?long WHERE {
  { ?city a hr:City } UNION { ?program a hr:Program ; hr:city ?city }
  OPTIONAL { ?city geo:long ?long } }"""
#: The top-level practices of every scheme a program's practice is in (rows may stay empty).
TOPS_QUERY = f"""SELECT DISTINCT ?practice ?scheme WHERE {{
  ?program a hr:Program ; hr:usesPractice/skos:inScheme ?scheme .
  ?practice skos:inScheme ?scheme FILTER NOT EXISTS {{ ?practice {BROADER} ?wider }} }}"""
CELLS_QUERY = f"""SELECT DISTINCT ?top ?city ?program WHERE {{
  ?program a hr:Program ; hr:city ?city ; hr:usesPractice ?practice .
  ?practice {BROADER}* ?top FILTER NOT EXISTS {{ ?top {BROADER} ?wider }} }}"""
NARROWER_QUERY = f"""SELECT DISTINCT ?top ?practice WHERE {{ ?practice {BROADER}+ ?top }}"""
#: Filter values longer than this are cut in the message that names them.
SHOWN = 60


@dataclass(frozen=True)
class Grid:
    """The table in IRIs, for every language: built once per release."""

    cities: tuple[str, ...]  # west to east
    practices: frozenset[str]
    narrower: Mapping[str, frozenset[str]]
    cells: Mapping[tuple[str, str], frozenset[str]]  # (practice, city) → programs
    schemes: frozenset[str]

    def programs(self, practice: str, city: str) -> frozenset[str]:
        return self.cells.get((practice, city), frozenset())


def grid(release: Release) -> Grid:
    return release.memo("pages-compare", lambda: build_grid(release))


def build_grid(release: Release) -> Grid:
    tops = select(release, TOPS_QUERY)
    cells: dict[tuple[str, str], set[str]] = {}
    for row in select(release, CELLS_QUERY):
        key = (value(row, "top"), value(row, "city"))
        cells.setdefault(key, set()).add(value(row, "program"))
    practices = {value(row, "practice") for row in tops} | {top for top, _ in cells}
    narrower: dict[str, set[str]] = {}
    for row in select(release, NARROWER_QUERY):
        if value(row, "top") in practices:
            narrower.setdefault(value(row, "top"), set()).add(value(row, "practice"))
    return Grid(
        west_to_east(select(release, CITIES_QUERY)),
        frozenset(practices),
        {top: frozenset(found) for top, found in narrower.items()},
        {key: frozenset(found) for key, found in cells.items()},
        frozenset(value(row, "scheme") for row in tops),
    )


def west_to_east(rows: Iterable[Mapping[str, Mapping[str, str]]]) -> tuple[str, ...]:
    """Cities by longitude (those without one last), each once."""
    longitudes: dict[str, float] = {}
    for row in rows:
        known = value(row, "long")
        longitude = float(known) if re.fullmatch(r"[-+]?\d+(\.\d*)?", known) else math.inf
        city = value(row, "city")
        longitudes[city] = min(longitudes.get(city, math.inf), longitude)
    return tuple(sorted(longitudes, key=lambda city: (longitudes[city], city)))


def slug(iri: str) -> str:
    """What a filter names a city or practice by: the last segment of its IRI."""
    return re.split(r"[/#]", iri.rstrip("/#"))[-1]


# --- filters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """The cities and practices shown (IRIs; none chosen: all)."""

    cities: tuple[str, ...] = ()
    practices: frozenset[str] = frozenset()

    def params(self) -> list[tuple[str, str]]:
        """The query string that asks for this selection, in the table's order."""
        chosen = [("city", slug(city)) for city in self.cities]
        return chosen + [("practice", slug(p)) for p in sorted(self.practices, key=slug)]

    def key(self) -> tuple[str, ...]:
        return tuple(f"{name}={found}" for name, found in self.params())


def choose(
    found: Grid, cities: Sequence[str], practices: Sequence[str], lang: str
) -> Selection | str:
    """The selection the filter values ask for, or why they cannot be (a message in `lang`)."""
    by_city = {slug(city): city for city in found.cities}
    by_practice = {slug(practice): practice for practice in found.practices}
    strings = i18n.strings(lang)
    for name, given, known in (("city", cities, by_city), ("practice", practices, by_practice)):
        unknown = next((one for one in given if one not in known), None)
        if unknown is not None:
            shown = unknown if len(unknown) <= SHOWN else unknown[:SHOWN] + "…"
            return strings[f"compare_unknown_{name}"].format(value=shown)
    wanted = {by_city[one] for one in cities}
    return Selection(
        tuple(city for city in found.cities if city in wanted),
        frozenset(by_practice[one] for one in practices),
    )


# --- the table in one language --------------------------------------------------------------


@dataclass(frozen=True)
class Program:
    link: Link
    uncertain: bool  # the sources are not sure of it: marked, as everywhere


@dataclass
class Row:
    practice: Link
    narrower: list[Link]
    count: int  # cities with at least one program in the row
    cells: list[list[Program]]


@dataclass
class Table:
    cities: list[Link]
    rows: list[Row]
    schemes: list[Link]


def table(release: Release, lang: str, chosen: Selection) -> Table:
    """The rows and columns `chosen` asks for, labelled and linked in `lang`."""
    found, helper = grid(release), Linker(release, lang)
    cities = list(chosen.cities or found.cities)
    rows = [
        row(found, helper, practice, cities) for practice in chosen.practices or found.practices
    ]
    rows.sort(key=lambda r: (-r.count, text_key(r.practice)))
    return Table(
        [helper.link(city) for city in cities],
        rows,
        sorted((helper.link(scheme) for scheme in found.schemes), key=text_key),
    )


def row(found: Grid, helper: Linker, practice: str, cities: Sequence[str]) -> Row:
    uncertain = helper.index.uncertain
    cells = [
        sorted(
            (Program(helper.link(p), p in uncertain) for p in found.programs(practice, city)),
            key=lambda program: text_key(program.link),
        )
        for city in cities
    ]
    narrower = found.narrower.get(practice, frozenset())
    return Row(
        helper.link(practice),
        sorted((helper.link(p) for p in narrower), key=text_key),
        sum(1 for cell in cells if cell),
        cells,
    )


# --- the page and the CSV -------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """A checkbox of the filter form."""

    value: str
    label: Link
    checked: bool


def render(release: Release, lang: str, chosen: Selection, message: str = "") -> str:
    """The page; with a `message` (filters it cannot apply), the form and the message alone."""
    shown, found = table(release, lang, chosen), grid(release)
    return templating.render(
        "compare.html",
        "/compare",
        lang,
        chosen.params(),
        **choices(found, Linker(release, lang), chosen),
        table=None if message else shown,
        message=message,
        summary=summary(lang, shown, found),
        filtered=bool(chosen.cities or chosen.practices),
        csv_href="/compare.csv?" + urlencode([*chosen.params(), ("lang", lang)]),
    )


def choices(found: Grid, helper: Linker, chosen: Selection) -> dict[str, list[Choice]]:
    """The form's checkboxes: cities in the table's order, practices by label."""
    practices = [Choice(slug(p), helper.link(p), p in chosen.practices) for p in found.practices]
    return {
        "cities": [Choice(slug(c), helper.link(c), c in chosen.cities) for c in found.cities],
        "practices": sorted(practices, key=lambda choice: normalise(choice.label.text)),
    }


def summary(lang: str, shown: Table, found: Grid) -> str:
    """ "9 cities, 14 practices", or "2 of 9 cities, 1 of 14 practices" when filtered."""
    return i18n.strings(lang)["compare_summary"].format(
        cities=counted(lang, "city", len(shown.cities), len(found.cities)),
        practices=counted(lang, "practice", len(shown.rows), len(found.practices)),
    )


def counted(lang: str, noun: str, shown: int, total: int) -> str:
    word = i18n.plural(f"compare_{noun}", total, lang)
    if shown == total:
        return f"{total} {word}"
    return i18n.strings(lang)["compare_of"].format(shown=shown, total=total, noun=word)


def csv_text(release: Release, lang: str, chosen: Selection) -> str:
    """The table as CSV (RFC 4180): a row per practice, the count of cities, then a column per
    city with its programs' labels joined by "; "."""
    shown = table(release, lang, chosen)
    strings = i18n.strings(lang)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([strings["compare_practice"], strings["compare_count"],
                     *(city.text for city in shown.cities)])  # fmt: skip
    for line in shown.rows:
        cells = ("; ".join(cell_text(program, strings) for program in cell) for cell in line.cells)
        writer.writerow([line.practice.text, line.count, *cells])
    return out.getvalue()


def cell_text(program: Program, strings: Mapping[str, str]) -> str:
    """A program in the CSV: its label, and "(Uncertain)" as the page's badge says."""
    badge = f" ({strings['uncertain']})" if program.uncertain else ""
    return program.link.text + badge
