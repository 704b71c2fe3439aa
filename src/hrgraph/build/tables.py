"""One CSV per main class, for spreadsheet users: a row per resource, a column per property
(language-tagged text gets a column per language), several values joined with " | "."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from hrgraph.kinds import BY_NAME, class_iris
from hrgraph.vocab import HR, RDF_TYPE

#: file stem -> the kinds whose resources make its rows (hrgraph.kinds)
TABLE_KINDS: dict[str, tuple[str, ...]] = {
    "organizations": ("organization",),
    "programs": ("program",),
    "cities": ("city",),
    "practices": ("practice",),
    "lessons": ("lesson",),
    "challenges": ("challenge",),
    "findings": ("finding", "need"),
    "milestones": ("milestone",),
    "figures": ("figure",),
    "documents": ("document",),
}
#: file stem -> the classes whose instances make its rows
TABLES: dict[str, tuple[str, ...]] = {
    stem: tuple(cls for name in names for cls in class_iris(BY_NAME[name], HR))
    for stem, names in TABLE_KINDS.items()
}

#: file stem -> what its rows are, in English and French (the CSV titles of the description)
NAMES: dict[str, dict[str, str]] = {
    "organizations": {"en": "organizations", "fr": "des organismes"},
    "programs": {"en": "programs", "fr": "des programmes"},
    "cities": {"en": "cities", "fr": "des villes"},
    "practices": {"en": "practices", "fr": "des pratiques"},
    "lessons": {"en": "lessons", "fr": "des leçons"},
    "challenges": {"en": "challenges", "fr": "des défis"},
    "findings": {"en": "findings and needs", "fr": "des constats et besoins"},
    "milestones": {"en": "milestones", "fr": "des jalons"},
    "figures": {"en": "figures", "fr": "des données chiffrées"},
    "documents": {"en": "source documents", "fr": "des documents sources"},
}

Row = dict[str, list[str]]


def title(stem: str) -> dict[str, str]:
    """The EN and FR title of a table's file."""
    names = NAMES[stem]
    return {"en": f"Table of {names['en']} (CSV)", "fr": f"Tableau {names['fr']} (CSV)"}


def tables(quads: Iterable[ox.Quad], prefixes: dict[str, str]) -> dict[str, str]:
    """CSV text per table stem, deterministic (rows by IRI, columns by name)."""
    rows_by_class: dict[str, dict[str, Row]] = defaultdict(dict)
    wanted = {cls for classes in TABLES.values() for cls in classes}
    described: dict[str, Row] = defaultdict(lambda: defaultdict(list))
    for quad in quads:
        subject = quad.subject
        if not isinstance(subject, ox.NamedNode):
            continue
        column, value = _cell(quad.predicate.value, quad.object, prefixes)
        described[subject.value][column].append(value)
        obj = quad.object
        if (
            quad.predicate.value == RDF_TYPE
            and isinstance(obj, ox.NamedNode)
            and obj.value in wanted
        ):
            rows_by_class[obj.value][subject.value] = described[subject.value]
    return {stem: _csv(rows_by_class, classes) for stem, classes in TABLES.items()}


def _cell(predicate: str, obj: object, prefixes: dict[str, str]) -> tuple[str, str]:
    column = _curie(predicate, prefixes)
    if isinstance(obj, ox.Literal):
        return (f"{column}@{obj.language}" if obj.language else column), obj.value
    if isinstance(obj, ox.NamedNode):
        return column, obj.value
    return column, str(obj)


def _curie(iri: str, prefixes: dict[str, str]) -> str:
    best = max(
        ((p, ns) for p, ns in prefixes.items() if p and iri.startswith(ns)),
        key=lambda item: len(item[1]),
        default=None,
    )
    return f"{best[0]}:{iri[len(best[1]) :]}" if best else iri


def _csv(rows_by_class: dict[str, dict[str, Row]], classes: tuple[str, ...]) -> str:
    rows = {iri: row for cls in classes for iri, row in rows_by_class.get(cls, {}).items()}
    columns = sorted({c for row in rows.values() for c in row}, key=_column_order)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["iri", *columns])
    for iri in sorted(rows):
        row = rows[iri]
        writer.writerow([iri, *(" | ".join(sorted(row.get(c, []))) for c in columns)])
    return out.getvalue()


def _column_order(column: str) -> tuple[int, str]:
    first = ("rdf:type", "rdfs:label@en", "rdfs:label@fr", "skos:prefLabel@en", "skos:prefLabel@fr")
    return (first.index(column), "") if column in first else (len(first), column)
