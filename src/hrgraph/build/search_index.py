"""The release's search index, `search.sqlite`: one row per resource with a kind (its IRI, kind,
labels and texts in both languages) in an SQLite FTS5 table, and its facet values (city,
practice, population) in a table beside it. The pages query it read-only (pages.search); the
server never builds it, so what search finds is what this release holds.

Why FTS5 (in Python's standard library): ranking (bm25, labels above texts), accent folding
(`remove_diacritics 2`), prefix queries and a vocabulary (`fts5vocab`) for "did you mean". Words
joined by an apostrophe or a full stop ("John's", "U.S.") are also indexed joined ("johns",
"us"), so that "St Johns" finds St. John's.

The bytes depend only on the quads (rows are inserted in IRI order, the file is vacuumed), so the
same sources give the same file, as every file of a release must (tests/build/test_writer.py).
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator

import pyoxigraph as ox

from hrgraph.kinds import BY_NAME, kinds_of_classes
from hrgraph.release import SEARCH_FACETS, SEARCH_INDEX
from hrgraph.vocab import INFERRED_PATH

FILE = SEARCH_INDEX
MEDIA_TYPE = "application/vnd.sqlite3"
TITLE = {"en": "Search index (SQLite FTS5)", "fr": "Index de recherche (SQLite FTS5)"}
#: The facets a search can be refined by; each is also the kind whose resources are its values
#: (each is its own value too: the page of Halifax is found with city=halifax).
FACETS = SEARCH_FACETS

SCHEMA = """
CREATE TABLE resource (id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE, kind TEXT NOT NULL);
CREATE TABLE facet (
  resource INTEGER NOT NULL REFERENCES resource (id),
  name TEXT NOT NULL, value TEXT NOT NULL, slug TEXT NOT NULL,
  PRIMARY KEY (name, slug, resource)) WITHOUT ROWID;
CREATE INDEX facet_of ON facet (resource);
CREATE VIRTUAL TABLE text USING fts5 (
  label, body, context, joined, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE term USING fts5vocab (text, row);
"""

PREFIXES = """PREFIX hr: <{base}ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX schema: <https://schema.org/>
"""
#: The asserted types only (as pages.index: a need is not also a finding here).
TYPES = """SELECT DISTINCT ?s ?v WHERE {{ GRAPH ?g {{ ?s a ?v }}
  FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{base}id/") && ?g != <{base}{inferred}>) }}"""
LABELS = """SELECT DISTINCT ?s ?v WHERE {
  ?s rdfs:label|skos:prefLabel|skos:altLabel|schema:alternateName ?v FILTER(isLiteral(?v)) }"""
TEXTS = """SELECT DISTINCT ?s ?v WHERE {
  ?s dct:description|skos:definition|hr:service ?v FILTER(isLiteral(?v)) }"""
#: A resource's city: its own hr:city, else that of what it is about or is run by (a lesson
#: about a program, a program with no city of its own run by an organization).
CITIES = """SELECT DISTINCT ?s ?v WHERE {
  { ?s hr:city ?v } UNION {
    ?s hr:about|hr:operatedBy|hr:subProgramOf ?x . ?x hr:city ?v
    FILTER NOT EXISTS { ?s hr:city [] } } }"""
PRACTICES = "SELECT DISTINCT ?s ?v WHERE { ?s hr:usesPractice ?v }"
POPULATIONS = "SELECT DISTINCT ?s ?v WHERE { ?s hr:serves ?v }"
FACET_QUERIES = {"city": CITIES, "practice": PRACTICES, "population": POPULATIONS}

#: Words joined by an apostrophe or a full stop: "John's", "U.S.".
JOINED = re.compile(r"\w+(?:['\u2019.]\w+)+")


def search_index(quads: Iterable[ox.Quad], base: str) -> bytes:
    """The bytes of search.sqlite for the release's quads (IRIs already under `base`)."""
    store = ox.Store()
    store.extend(quads)
    kinds = _kinds(store, base)
    labels = _values(store, base, LABELS, kinds)
    texts = _values(store, base, TEXTS, kinds)
    facets = {name: _facets(store, base, name, kinds) for name in FACETS}
    database = sqlite3.connect(":memory:")
    try:
        database.executescript(SCHEMA)
        for number, iri in enumerate(sorted(kinds), start=1):
            _insert(database, number, iri, kinds[iri], labels, texts, facets)
        database.execute("INSERT INTO text (text) VALUES ('optimize')")
        database.commit()
        database.execute("VACUUM")
        return database.serialize()
    finally:
        database.close()


def _query(store: ox.Store, base: str, query: str) -> Iterator[tuple[str, str]]:
    found = store.query(PREFIXES.format(base=base) + query, use_default_graph_as_union=True)
    assert isinstance(found, ox.QuerySolutions)
    for row in found:
        subject, value = row["s"], row["v"]
        if isinstance(subject, ox.NamedNode) and value is not None:
            yield subject.value, value.value


def _kinds(store: ox.Store, base: str) -> dict[str, str]:
    of_class = kinds_of_classes(base + "ontology#")
    query = TYPES.format(base=base, inferred=INFERRED_PATH)
    found: dict[str, str] = {}
    for iri, cls in _query(store, base, query):
        if cls in of_class:
            found.setdefault(iri, of_class[cls])
    return found


def _values(store: ox.Store, base: str, query: str, kinds: dict[str, str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for iri, text in _query(store, base, query):
        if iri in kinds:
            found[iri].append(text)
    return {iri: sorted(set(texts)) for iri, texts in found.items()}


def _facets(store: ox.Store, base: str, name: str, kinds: dict[str, str]) -> dict[str, set[str]]:
    """Resource -> its values of the facet `name` (IRIs of resources of the facet's kind)."""
    found: dict[str, set[str]] = defaultdict(set)
    for iri, value in _query(store, base, FACET_QUERIES[name]):
        if iri in kinds and kinds.get(value) == name:
            found[iri].add(value)
    for iri, kind in kinds.items():
        if kind == name:
            found[iri].add(iri)
    return found


def slug(iri: str, kind: str) -> str:
    """The facet value as the query string names it: the IRI after `id/<segment>/`."""
    marker = f"/id/{BY_NAME[kind].segment}/"
    return iri.split(marker, 1)[1] if marker in iri else iri


def _insert(
    database: sqlite3.Connection,
    number: int,
    iri: str,
    kind: str,
    labels: dict[str, list[str]],
    texts: dict[str, list[str]],
    facets: dict[str, dict[str, set[str]]],
) -> None:
    database.execute("INSERT INTO resource VALUES (?, ?, ?)", (number, iri, kind))
    context: list[str] = []
    for name in FACETS:
        for value in sorted(facets[name].get(iri, ())):
            row = (number, name, value, slug(value, name))
            database.execute("INSERT INTO facet VALUES (?, ?, ?, ?)", row)
            if value != iri:
                context += labels.get(value, [])
    label, body = labels.get(iri, []), texts.get(iri, [])
    joined = sorted({_join(word) for text in [*label, *body] for word in JOINED.findall(text)})
    database.execute(
        "INSERT INTO text (rowid, label, body, context, joined) VALUES (?, ?, ?, ?, ?)",
        (number, "\n".join(label), "\n".join(body), "\n".join(context), " ".join(joined)),
    )


def _join(word: str) -> str:
    return re.sub(r"['\u2019.]", "", word)
