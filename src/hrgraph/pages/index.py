"""The release-wide index the pages stand on: the label (per language), kind, short texts and
certainty of every resource, one SELECT each, built at first use and kept for the release. Also
how the pages run their SELECTs: through the same safety check and engine as a user's query
(`engine.queries.run_json`), never through the editable sources."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from hrgraph.engine.publisher import Release
from hrgraph.engine.queries import bindings, run_json
from hrgraph.kinds import kinds_of_classes
from hrgraph.pages.links import local_path

Rows = list[dict[str, dict[str, str]]]


def select(release: Release, query: str) -> Rows:
    """Run one of the pages' SELECTs through the safety check and the engine (their prefixes,
    hr:, rdfs:, skos:, dct:, schema:, geo:, are the release's predeclared ones)."""
    return bindings(run_json(release, query))


def value(row: Mapping[str, Mapping[str, str]], name: str) -> str:
    term = row.get(name)
    return term["value"] if term else ""


def language(row: Mapping[str, Mapping[str, str]], name: str) -> str:
    term = row.get(name)
    return term.get("xml:lang", "") if term else ""


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
        path, hash_, fragment = local_path(iri, self.base).partition("#")
        if not path:
            return iri
        return f"{path}?lang={lang}" + (f"#{fragment}" if hash_ else "")


def humanise(iri: str) -> str:
    """The last segment of an IRI as words: the fallback when the data has no label."""
    slug = re.split(r"[/#]", iri.rstrip("/#"))[-1]
    words = slug.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else iri


def index(release: Release) -> Index:
    return release.memo("pages-index", lambda: build_index(release))


def build_index(release: Release) -> Index:
    base = release.base_iri
    return Index(
        base,
        _by_language(select(release, LABELS_QUERY), "l"),
        _kinds(select(release, TYPES_QUERY.format(base=base)), base),
        _by_language(select(release, TEXTS_QUERY.format(base=base)), "d"),
        _summaries(select(release, SUMMARIES_QUERY)),
        frozenset(value(row, "s") for row in select(release, UNCERTAIN_QUERY)),
    )


LABELS_QUERY = """SELECT DISTINCT ?s ?l WHERE {
  ?s rdfs:label|skos:prefLabel ?l FILTER(isIRI(?s) && isLiteral(?l)) }"""
#: The asserted type only (a need is not also a finding here; graph/inferred says it is).
TYPES_QUERY = """SELECT DISTINCT ?s ?t WHERE {{
  ?s a ?t FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{base}id/"))
  FILTER NOT EXISTS {{ GRAPH <{base}graph/inferred> {{ ?s a ?t }} }} }}"""
TEXTS_QUERY = """SELECT DISTINCT ?s ?d WHERE {{
  ?s dct:description|skos:definition ?d FILTER(STRSTARTS(STR(?s), "{base}id/")) }}"""
SUMMARIES_QUERY = """SELECT DISTINCT ?s ?v ?min ?max ?unit ?date WHERE {
  { ?s a hr:Figure } UNION { ?s a hr:Milestone }
  OPTIONAL { ?s hr:value ?v } OPTIONAL { ?s hr:minValue ?min } OPTIONAL { ?s hr:maxValue ?max }
  OPTIONAL { ?s hr:unit ?unit } OPTIONAL { ?s dct:date ?date } }"""
UNCERTAIN_QUERY = """SELECT DISTINCT ?s WHERE { ?s hr:certainty "uncertain" }"""


def _by_language(rows: Rows, name: str) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for row in rows:
        texts = found.setdefault(value(row, "s"), {})
        texts.setdefault(language(row, name), value(row, name))
    return found


def _kinds(rows: Rows, base: str) -> dict[str, str]:
    of_class = kinds_of_classes(base + "ontology#")
    return {
        value(row, "s"): of_class[value(row, "t")] for row in rows if value(row, "t") in of_class
    }


def _summaries(rows: Rows) -> dict[str, dict[str, str]]:
    """A figure as "62 percent of …", a milestone as its date, per language of the unit."""
    found: dict[str, dict[str, str]] = {}
    for row in rows:
        low, high = value(row, "min"), value(row, "max")
        # a range, or a bound alone (its unit says which: "dollars (an upper bound)")
        number = value(row, "v") or (f"{low}\u2013{high}" if low and high else low or high)
        text = " ".join(part for part in (number, value(row, "unit")) if part)
        found.setdefault(value(row, "s"), {}).setdefault(
            language(row, "unit"), text or value(row, "date")
        )
    return found
