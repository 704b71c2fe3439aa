"""What pages are made of: sources, items in lists, groups of items, and the `Linker` that makes
them for one language from the index (used by every page kind), with the orders they are shown
in (case- and accent-insensitive)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hrgraph.engine.publisher import Release
from hrgraph.pages import i18n
from hrgraph.pages.index import Index, Rows, humanise, index, value
from hrgraph.pages.links import Link, external

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
        tag = term.get("xml:lang", "")
        return Link(term["value"], lang=tag if tag and tag != self.lang else "")

    def texts(self, rows: Rows, predicates: Iterable[str]) -> list[Link]:
        wanted = set(predicates)
        return self.in_language([self.term(r, "o") for r in rows if value(r, "p") in wanted])

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
