"""Facts as structure (issue 10, item 2): every number, year and name that an English
dct:description of data/ states is also held by the structure, or is listed, with a specific
reason, in tests/data/prose-only.tsv.

What is read: the English dct:description of every resource of data/*.ttl (parsed with rdflib, no
build step), whatever its kind.

What is taken from a description:
- numbers: digits ("84%", "$10,000", "1,100", "1.5"), decades ("1980s"), telephone numbers, and
  the number words two to twelve ("two evenings a week", "eight overdose deaths"; "one" is left out,
  being mostly a pronoun);
- names: the English label (without a trailing parenthesis) and the alternate names of every
  organization, program, funding program, city and province, matched whole and case-sensitively,
  longest first. Digits inside a matched name ("Direction 180") are part of the name, not numbers.

When the structure holds a number: it is a value of the resource itself or of a resource linked to
it (one link, either direction), or of a figure or milestone hr:about the resource, about what the
resource is hr:about, or about its hr:city:
- a numeric literal (hr:value, hr:minValue, hr:maxValue, hr:votesFor, skos:notation, ...);
- the year of a date (dct:date, schema:startDate, hr:earliest, ...) and the day of an xsd:date; a
  decade is held by any year in it;
- a number written in a plain string or a URL (an address, a telephone number, a code, an ISBN, a
  document's address), or in an English hr:schedule (the ontology's place for when a program runs)
  of the resource itself or of what it is hr:about;
- the number of values (two or more) of a property whose values prose counts (cities, visits,
  partners, leads, contacts, addresses, a scheme's top concepts; copies and pages of a document,
  programs of an operator), of the resource itself ("two online copies": two resources hr:copyOf
  it), and the cities and visits of a resource linked to it ("one of the nine cities": the site
  visits' nine hr:city).
Viewer and printed page numbers never hold a number, nor do the statement nodes of statements.ttl.

When the structure holds a name: the named resource is the resource itself, is linked to it (one
link, either direction), or is one link further from a resource linked to it (from a shared
vocabulary node, a city, province, practice, population, theme, scheme, consultation, project or
page, no further; from a document, only by the document's own links), or is the province of one of
its cities or the parent of an organization so reached.

The test fails for a number or name that is neither held nor listed, and for a listed entry that no
longer occurs (so the list only shrinks as structure is added). Run the module directly to print
the current list (`python tests/data/test_prose_facts.py`).
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS, XSD

ROOT = Path(__file__).resolve().parents[2]
DATA_FILES = sorted((ROOT / "data").glob("*.ttl"))
ALLOW_LIST = Path(__file__).with_name("prose-only.tsv")

ID = "https://w3id.org/hrgraph/id/"
HR = Namespace("https://w3id.org/hrgraph/ontology#")
SCHEMA = Namespace("https://schema.org/")

#: Kinds whose names are looked for in descriptions (IRI segment under id/).
NAMED = ("organization", "program", "fund", "city", "province")
#: Names too generic to find reliably in prose (matched case-sensitively, but sentence-initial
#: "Site visits ..." would still match the needle exchange called "Site").
GENERIC_NAMES = {"Site"}
#: Shared vocabulary nodes: a name is not looked for beyond them (everything links to them).
HUBS = ("city", "province", "practice", "population", "theme", "scheme", "consultation",
        "project", "page")  # fmt: skip
#: Properties whose values are text or provenance, not structure that holds a fact.
NOT_STRUCTURE = {
    RDF.type, RDFS.label, SKOS.prefLabel, SKOS.altLabel, SKOS.definition, SKOS.note,
    DCTERMS.description, DCTERMS.title, DCTERMS.source, SCHEMA.alternateName, HR.service,
    HR.unit, HR.certainty, HR.viewerPage, HR.printedPage, RDF.subject, RDF.predicate, RDF.object,
}  # fmt: skip
#: Properties whose number of values prose states ("nine cities", "two addresses"): outgoing,
#: and incoming (the number of resources that point at the resource with it).
COUNTED_OUT = {HR.city, HR.visited, HR.partner, HR.ledBy, HR.contact, SCHEMA.url,
               SKOS.hasTopConcept}  # fmt: skip
COUNTED_IN = {HR.copyOf, HR.pageOf, HR.operatedBy}
#: Of a linked resource, only these are counted ("one of the nine cities of the site visits").
COUNTED_LINKED = {HR.city, HR.visited}
DATES = {XSD.date, XSD.gYearMonth, XSD.gYear}
WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip

PHONE = re.compile(r"(?<![\w-])\d-\d{3}-\d{3}-\d{4}(?![\w-])")
DECADE = re.compile(r"(?<![\w-])(\d{3})0s(?!\w)")
NUMBER = re.compile(r"(?<![\w.,-])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w]|[.,]\d)")
WORD = re.compile(r"\b(" + "|".join(WORDS) + r")\b", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Token:
    resource: str  # prefix:slug
    token: str  # as listed in prose-only.tsv: a normalized number, "1980s", a word, a name

    def __str__(self) -> str:
        return f"{self.resource}\t{self.token}"


def curie(iri: URIRef) -> str:
    segment, _, slug = str(iri).removeprefix(ID).partition("/")
    return f"{segment}:{slug}"


def segment(iri: object) -> str:
    return str(iri).removeprefix(ID).split("/", 1)[0] if str(iri).startswith(ID) else ""


def normalize(number: str) -> str:
    value = Decimal(number.replace(",", ""))
    text = format(value.normalize(), "f")
    return text


@cache
def graph() -> Graph:
    data = Graph()
    for path in DATA_FILES:
        data.parse(path)
    return data


@cache
def names() -> list[tuple[str, frozenset[URIRef]]]:
    """(name, the resources it names), longest name first."""
    found: dict[str, set[URIRef]] = {}
    data = graph()
    for subject in set(data.subjects(RDF.type, None)):
        if not isinstance(subject, URIRef) or segment(subject) not in NAMED:
            continue
        labels = [
            str(o).split(" (", 1)[0]
            for o in data.objects(subject, RDFS.label)
            if isinstance(o, Literal) and o.language == "en"
        ]
        labels += [str(o) for o in data.objects(subject, SCHEMA.alternateName)]
        for name in labels:
            if len(name) >= 3 and name not in GENERIC_NAMES:
                found.setdefault(name, set()).add(subject)
    return sorted(((n, frozenset(r)) for n, r in found.items()), key=lambda x: (-len(x[0]), x[0]))


def split_names(text: str) -> tuple[str, list[tuple[str, frozenset[URIRef]]]]:
    """The text with every name blanked out, and the names found (longest match first)."""
    found = []
    for name, resources in names():
        pattern = re.compile(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])")
        if pattern.search(text):
            found.append((name, resources))
            text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return text, found


def numbers_in(text: str) -> Iterator[str]:
    """The number tokens of a text (names already blanked out)."""
    for match in PHONE.finditer(text):
        yield match.group(0)
    text = PHONE.sub(" ", text)
    for match in DECADE.finditer(text):
        yield match.group(1) + "0s"
    text = DECADE.sub(" ", text)
    for match in NUMBER.finditer(text):
        yield normalize(match.group(1))
    for match in WORD.finditer(text):
        yield match.group(1).lower()


def value_of(token: str) -> Decimal | None:
    if token.lower() in WORDS:
        return Decimal(WORDS[token.lower()])
    try:
        return Decimal(token)
    except InvalidOperation:
        return None


def linked(subject: URIRef) -> set[URIRef]:
    """Resources of data/ one link away from `subject`, in either direction."""
    data = graph()
    out = {o for p, o in data.predicate_objects(subject) if p != RDF.type}
    into = set(data.subjects(None, subject))
    return {r for r in out | into if isinstance(r, URIRef) and r.startswith(ID) and r != subject}


def iris(nodes: Iterable[object]) -> set[URIRef]:
    return {n for n in nodes if isinstance(n, URIRef)}


def holders(subject: URIRef) -> set[URIRef]:
    """The resource, those linked to it, and the figures and milestones about the resource, about
    what it is about, or about its city."""
    data = graph()
    topics = (
        {subject} | iris(data.objects(subject, HR.about)) | iris(data.objects(subject, HR.city))
    )
    about = iris(f for r in topics for f in data.subjects(HR.about, r))
    return {subject} | linked(subject) | {f for f in about if segment(f) in ("figure", "milestone")}


@dataclass
class Held:
    numbers: set[Decimal]
    strings: set[str]
    years: set[int]


def counts(
    resource: URIRef, out: Iterable[URIRef] = COUNTED_OUT, into: Iterable[URIRef] = COUNTED_IN
) -> set[Decimal]:
    """How many values the counted properties of the resource have (two or more: a count of one
    is never what prose counts)."""
    data = graph()
    found = [len(set(data.objects(resource, p))) for p in out]
    found += [len({s for s in data.subjects(p, resource) if isinstance(s, URIRef)}) for p in into]
    return {Decimal(n) for n in found if n >= 2}


def held(subject: URIRef) -> Held:
    data = graph()
    numbers = counts(subject)
    for resource in linked(subject):
        numbers |= counts(resource, COUNTED_LINKED, ())
    strings: set[str] = set()
    years: set[int] = set()
    topics = {subject} | set(data.objects(subject, HR.about))
    for holder in holders(subject):
        for predicate, value in data.predicate_objects(holder):
            if predicate in NOT_STRUCTURE and predicate != HR.schedule:
                continue
            if predicate == HR.schedule and holder not in topics:
                continue
            if isinstance(value, URIRef):
                if predicate == SCHEMA.url:
                    strings.update(numbers_in(str(value)))
                continue
            if not isinstance(value, Literal):
                continue
            if predicate == HR.schedule:
                if value.language == "en":
                    strings.update(numbers_in(str(value)))
            elif value.datatype in DATES:
                text = str(value)
                years.add(int(text[:4]))
                if value.datatype == XSD.date:
                    numbers.add(Decimal(int(text[8:10])))
            elif value.language is None and value.datatype in (None, XSD.string):
                strings.update(numbers_in(str(value)))
            else:
                try:
                    numbers.add(Decimal(str(value)))
                except InvalidOperation:
                    strings.update(numbers_in(str(value)))
    for text in list(strings):
        number = value_of(text)
        if number is not None:
            numbers.add(number)
    return Held(numbers, strings, years)


def is_held(token: str, facts: Held) -> bool:
    decade = re.fullmatch(r"(\d{3})0s", token)
    if decade:
        start = int(decade.group(1)) * 10
        return any(start <= year < start + 10 for year in facts.years)
    if token in facts.strings:
        return True
    number = value_of(token)
    if number is None:
        return False
    if number in facts.numbers:
        return True
    return number == number.to_integral_value() and int(number) in facts.years


def name_reach(subject: URIRef) -> set[URIRef]:
    """The resources a name in the subject's description may name and still be held."""
    data = graph()
    first = linked(subject)
    reach = {subject} | first
    for resource in first:
        if segment(resource) == "document":
            reach |= {o for o in data.objects(resource, None) if isinstance(o, URIRef)}
        elif segment(resource) not in HUBS:
            reach |= linked(resource)
    for resource in list(reach):
        for city in data.objects(resource, HR.city):
            reach |= iris(data.objects(city, HR.province))
        reach |= iris(data.objects(resource, HR.province))
        reach |= iris(data.objects(resource, HR.parentOrganization))
    return reach


def described() -> Iterator[tuple[URIRef, str]]:
    data = graph()
    for subject, text in data.subject_objects(DCTERMS.description):
        if isinstance(subject, URIRef) and isinstance(text, Literal) and text.language == "en":
            yield subject, str(text)


def unheld() -> set[Token]:
    """Every number and name of an English description that the structure does not hold."""
    found: set[Token] = set()
    for subject, text in described():
        rest, named = split_names(text)
        facts = held(subject)
        for token in numbers_in(rest):
            if not is_held(token, facts):
                found.add(Token(curie(subject), token))
        reach = name_reach(subject)
        for name, resources in named:
            if not resources & reach:
                found.add(Token(curie(subject), name))
    return found


def allow_list() -> dict[Token, str]:
    listed: dict[Token, str] = {}
    with ALLOW_LIST.open(newline="", encoding="utf-8") as handle:
        rows = [
            r
            for r in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            if r and not r[0].startswith("#")
        ]
    for row in rows:
        assert len(row) == 3, f"prose-only.tsv: expected resource, token, reason: {row}"
        token = Token(row[0], row[1])
        assert token not in listed, f"prose-only.tsv: listed twice: {token}"
        listed[token] = row[2]
    return listed


def tokens_of(subject: str, text: str) -> set[str]:
    """For the unit tests below: the tokens the extractor takes from a text."""
    rest, named = split_names(text)
    return set(numbers_in(rest)) | {name for name, _ in named}


# ---------------------------------------------------------------------------------- the tests


def test_the_data_has_descriptions_to_check() -> None:
    assert DATA_FILES
    assert sum(1 for _ in described()) > 100


def test_the_extractor_takes_numbers_words_decades_and_names() -> None:
    text = (
        "In summer 2007 Council voted 15 to 7; about 84% of $10,000 went to 1,100 clients of "
        "Direction 180 in the late 1980s, two evenings a week (call 1-800-263-1638)."
    )
    assert tokens_of("x", text) == {
        "2007", "15", "7", "84", "10000", "1100", "1980s", "two", "1-800-263-1638",
        "Direction 180",
    }  # fmt: skip
    assert tokens_of("x", "postal code R2W 2Y5, one-for-one, HIV/AIDS") == set()


def test_every_number_and_name_in_a_description_is_structure_or_listed() -> None:
    listed = allow_list()
    missing = sorted(unheld() - set(listed))
    assert not missing, (
        "numbers or names in descriptions that the structure does not hold; add the structure "
        "(a figure, a milestone, a date, a link) or list them with a specific reason in "
        f"{ALLOW_LIST.name}:\n" + "\n".join(map(str, missing))
    )


def test_the_list_has_no_stale_entries() -> None:
    stale = sorted(set(allow_list()) - unheld())
    assert not stale, (
        f"{ALLOW_LIST.name} lists tokens that no longer occur unheld (remove them):\n"
        + "\n".join(map(str, stale))
    )


def test_every_listed_reason_is_specific() -> None:
    short = [str(t) for t, reason in allow_list().items() if len(reason.split()) < 8]
    assert not short, "give each entry a specific reason (a sentence):\n" + "\n".join(short)


def report(tokens: Iterable[Token]) -> str:
    return "\n".join(map(str, sorted(tokens)))


if __name__ == "__main__":
    current = unheld()
    print(report(current))
    print(f"{len(current)} unheld tokens", file=sys.stderr)
