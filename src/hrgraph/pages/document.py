"""The page of a whole document (/ontology, /shapes, /graph/..., and /dataset's description):
every triple, grouped by subject, with labels in the page's language (else English), and the
triples that point at it."""

from __future__ import annotations

from dataclasses import dataclass

from hrgraph.engine.publisher import Release
from hrgraph.engine.queries import bindings, run_json
from hrgraph.pages import templating
from hrgraph.pages.index import Rows
from hrgraph.pages.links import FORMATS, local_path
from hrgraph.vocab import RDF_TYPE, RDFS_LABEL


@dataclass(frozen=True)
class Value:
    text: str
    href: str | None = None
    note: str = ""
    iri: str = ""
    lang: str = ""  # the text's language, when not the page's


@dataclass(frozen=True)
class Row:
    predicate: Value
    value: Value


@dataclass
class Section:
    subject: Value
    anchor: str
    rows: list[Row]
    inbound: list[Row]


def render(release: Release, iri: str, path: str, query: str, lang: str = "en") -> str:
    """The page of the document `iri` at `path`; `query` is the SELECT of its rows (?dir ?s ?p
    ?o ?plabel ?olabel, linked_data's `rows_query`)."""
    sections = _sections(release.base_iri, bindings(run_json(release, query)), lang)
    title, title_lang = _title(sections, iri, lang)
    return templating.render(
        "resource.html",
        "/" + path,
        lang,
        title=title,
        title_lang=title_lang,
        iri=iri,
        path=path,
        sections=sections,
        alternates={extension: media for extension, media, _ in FORMATS},
        version=release.version,
    )


Labels = dict[str, dict[str, str]]  # IRI → language ("" untagged) → label


def _labels(rows: Rows) -> tuple[Labels, Labels]:
    """The predicates' and the objects' labels, by language."""
    found: tuple[Labels, Labels] = ({}, {})
    for row in rows:
        for labels, term, label in ((found[0], "p", "plabel"), (found[1], "o", "olabel")):
            if label in row:
                text = row[label]
                labels.setdefault(row[term]["value"], {}).setdefault(
                    text.get("xml:lang", ""), text["value"]
                )
    return found


def _sections(base: str, rows: Rows, lang: str) -> list[Section]:
    plabels, olabels = _labels(rows)
    sections: dict[str, Section] = {}
    seen: set[tuple[str, ...]] = set()
    for row in rows:
        key = (row["dir"]["value"], row["s"]["value"], row["p"]["value"], row["o"]["value"])
        if key in seen:
            continue  # the same triple in several graphs, or with several labels
        seen.add(key)
        subject = row["s"]
        section = sections.get(subject["value"])
        if section is None:
            anchor = subject["value"].rpartition("#")[2] if "#" in subject["value"] else ""
            section = Section(_value(base, subject, {}, lang), anchor, [], [])
            sections[subject["value"]] = section
        entry = Row(
            _value(base, row["p"], plabels.get(row["p"]["value"], {}), lang),
            _value(base, row["o"], olabels.get(row["o"]["value"], {}), lang),
        )
        (section.rows if row["dir"]["value"] == "out" else section.inbound).append(entry)
    for section in sections.values():
        section.rows.sort(key=lambda r: (r.predicate.iri != RDF_TYPE, r.predicate.text))
        section.inbound.sort(key=lambda r: (r.predicate.text, r.value.text))
    return sorted(sections.values(), key=lambda s: s.subject.text)


def _value(base: str, term: dict[str, str], labels: dict[str, str], lang: str) -> Value:
    if term["type"] == "uri":
        iri = term["value"]
        href = local_path(iri, base) or iri
        for code in (lang, "", "en"):
            if code in labels:
                return Value(labels[code], href, "", iri, code if code not in ("", lang) else "")
        return Value(iri, href, "", iri)
    if term["type"] == "bnode":
        return Value("_:" + term["value"])
    tag = term.get("xml:lang", "")
    note = tag or term.get("datatype", "").rpartition("#")[2]
    return Value(term["value"], None, note, "", tag if tag and tag != lang else "")


def _title(sections: list[Section], iri: str, lang: str = "en") -> tuple[str, str]:
    """The resource's rdfs:label in the page's language, else its English (or untagged) one,
    else its IRI; and the title's language when it is not the page's."""
    labels = {
        row.value.note: row.value.text
        for section in sections
        if section.subject.iri == iri
        for row in section.rows
        if row.predicate.iri == RDFS_LABEL
    }
    for note in (lang, "en", "", "string"):
        if note in labels:
            return labels[note], note if note in ("en", "fr") and note != lang else ""
    return iri, ""
