"""What pages are made of: sources, items in lists, groups of items, and the `Linker` that makes
them for one language from the index (used by every page kind), with the orders they are shown
in (case- and accent-insensitive)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from hrgraph.engine.publisher import Release
from hrgraph.pages import i18n
from hrgraph.pages.index import Index, Rows, humanise, index, select, value
from hrgraph.pages.links import Link, external
from hrgraph.vocab import INFERRED_PATH, XSD

KIND_ORDER: tuple[str, ...] = tuple(i18n.KINDS)


@dataclass
class Source:
    link: Link
    document: Link | None = None
    online: list[Link] = field(default_factory=list)
    number: int = 0  # its footnote on the page (`footnotes`)


def footnotes(sources: Iterable[Source]) -> list[Source]:
    """Number the sources of a page, first cited first, one number per cited page or document
    (every Source object of it gets the number); the list to print, in order."""
    numbers: dict[str, int] = {}
    listed: list[Source] = []
    for source in sources:
        key = source.link.href or source.link.text
        if key not in numbers:
            numbers[key] = len(numbers) + 1
            listed.append(source)
        source.number = numbers[key]
    return listed


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
    """A row of a page's details: a predicate, its label, its values."""

    predicate: str
    label: str
    values: list[Link]


class PageParts(Protocol):
    """What the builders of a kind's own sections (pages.city, pages.practice) read and reorder
    of a resource page (pages.resource.ResourcePage)."""

    title: str
    facts: list[Fact]
    groups: list[Group]


#: A sentence ends at . ! or ? before a space, except after these abbreviations ("St. John's")
#: and after an initial ("J. Smith").
ABBREVIATIONS = frozenset({"st", "ste", "dr", "mr", "mrs", "ms", "no", "e.g", "i.e", "vs"})
_END = re.compile(r"[.!?](?=\s)")


def first_sentence(text: str) -> str:
    for end in _END.finditer(text):
        words = text[: end.start()].split()
        last = words[-1] if words else ""
        if not last or (last.casefold() not in ABBREVIATIONS and not re.fullmatch(r"[A-Z]", last)):
            return text[: end.end()]
    return text


def normalise(text: str) -> str:
    """Case- and accent-insensitive form of a text, for search and sorting."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def text_key(link: Link) -> str:
    return normalise(link.text)


def source_key(source: Source) -> str:
    return normalise(source.link.text)


def item_key(item: Item) -> tuple[str, str]:
    return item.sort, normalise(item.link.text)


def group_rank(key: str) -> int:
    return KIND_ORDER.index(key) if key in KIND_ORDER else len(KIND_ORDER)


class Linker:
    """Links, texts, items and sources of the release's resources, in one language."""

    def __init__(self, release: Release, lang: str) -> None:
        self.release, self.lang = release, lang
        self.index: Index = index(release)
        self.ontology = release.base_iri + "ontology#"

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
        if term.get("datatype") == XSD + "boolean":  # by value: "1" and "true" are both true
            truth = "true" if term["value"] in ("true", "1") else "false"
            return Link(i18n.strings(self.lang)[truth])
        tag = term.get("xml:lang", "")
        return Link(term["value"], lang=tag if tag and tag != self.lang else "")

    def texts(self, rows: Rows, predicates: Iterable[str]) -> list[Link]:
        """In an order of their own: engines return a resource's values in orders of theirs."""
        wanted = set(predicates)
        texts = [self.term(r, "o") for r in rows if value(r, "p") in wanted]
        return sorted(self.in_language(texts), key=text_key)

    def in_language(self, links: list[Link]) -> list[Link]:
        """Texts in the page's language (and untagged ones) when there are any, else all."""
        mine = [link for link in links if not link.lang]
        return mine or links

    def predicate_label(self, iri: str) -> str:
        ontology = self.index.labels.get(iri) if iri.startswith(self.ontology) else None
        return i18n.predicate_label(iri, self.lang, ontology) or humanise(iri)

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

    def summary(self, iri: str) -> Link | None:
        """The first sentence of a resource's description, in the page's language (else in
        English, marked as such): the one line a list shows of a program or organization."""
        texts = self.index.texts.get(iri, {})
        text = texts.get(self.lang) or texts.get("en")
        if not text:
            return None
        return Link(first_sentence(text), lang="" if self.lang in texts else "en")

    def count_text(self, key: str, n: int) -> str:
        """The string `key`_one or `key`_other for `n`, with {n} filled in (French counts 0 and
        1 as singular, English only 1)."""
        return i18n.plural(key, n, self.lang)

    def sort_label(self, iri: str) -> str:
        return normalise(self.index.label(iri, self.lang))

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


class PageLinker(Linker):
    """A Linker for the page of one resource (`iri`), with the SELECTs about it."""

    def __init__(self, release: Release, iri: str, lang: str) -> None:
        super().__init__(release, lang)
        self.iri = iri

    def query(self, template: str) -> Rows:
        """`template` with {iri} (this resource) and {inferred} (the closure's graph) filled."""
        inferred = self.release.base_iri + INFERRED_PATH
        return select(self.release, template.format(iri=self.iri, inferred=inferred))
