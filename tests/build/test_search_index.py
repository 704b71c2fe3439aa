"""The release's search index (build.search_index): in every release, listed and described like
every file, read-only, one row per resource with a kind, facet values as the data says, accents
folded, joined words indexed, and the same bytes from the same sources."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT

from hrgraph.build.search_index import FILE, MEDIA_TYPE, search_index
from hrgraph.config import CANONICAL_BASE
from hrgraph.kinds import kinds_of_classes
from hrgraph.pages.search import WEIGHTS
from hrgraph.release import RELEASE_FORMAT, read_manifest

BASE = CANONICAL_BASE
HR = BASE + "ontology#"
IANA = "https://www.iana.org/assignments/media-types/"


@pytest.fixture(scope="module")
def database(shipped_release: Path) -> Iterator[sqlite3.Connection]:
    uri = (shipped_release / FILE).as_uri() + "?mode=ro&immutable=1"
    connection = sqlite3.connect(uri, uri=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def store(shipped_release: Path) -> ox.Store:
    return ox.Store.read_only(str(shipped_release / "store"))


def pairs(store: ox.Store, query: str) -> set[tuple[str, str]]:
    found = store.query(query, use_default_graph_as_union=True)
    assert isinstance(found, ox.QuerySolutions)
    return {(row[0].value, row[1].value) for row in found}


def test_the_index_is_a_listed_and_described_file(shipped_release: Path) -> None:
    data = (shipped_release / FILE).read_bytes()
    assert data.startswith(b"SQLite format 3\x00")
    sums = (shipped_release / "SHA256SUMS").read_text()
    assert f"{hashlib.sha256(data).hexdigest()}  {FILE}\n" in sums
    graph = Graph().parse(shipped_release / "description.ttl")
    url = URIRef(f"{BASE}downloads/{shipped_release.name}/{FILE}")
    (dist,) = graph.subjects(DCAT.downloadURL, url)
    assert set(graph.objects(dist, DCAT.mediaType)) == {URIRef(IANA + MEDIA_TYPE)}
    assert read_manifest(shipped_release)["format"] == RELEASE_FORMAT


def test_the_index_is_read_only(database: sqlite3.Connection) -> None:
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        database.execute("DELETE FROM resource")


def test_one_row_per_resource_with_a_kind(database: sqlite3.Connection, store: ox.Store) -> None:
    kinds = kinds_of_classes(HR)
    typed = pairs(
        store,
        f"SELECT ?s ?t WHERE {{ GRAPH ?g {{ ?s a ?t }} FILTER(STRSTARTS(STR(?s), '{BASE}id/') "
        f"&& ?g != <{BASE}graph/inferred>) }}",
    )
    expected = {(iri, kinds[cls]) for iri, cls in typed if cls in kinds}
    assert len(expected) > 300
    rows = set(database.execute("SELECT iri, kind FROM resource"))
    assert rows == expected
    (texts,) = database.execute("SELECT count(*) FROM text").fetchone()
    assert texts == len(rows)


@pytest.mark.parametrize(
    ("facet", "predicate"),
    [("city", "city"), ("practice", "usesPractice"), ("population", "serves")],
)
def test_program_facets_are_what_the_data_says(
    database: sqlite3.Connection, store: ox.Store, facet: str, predicate: str
) -> None:
    expected = pairs(store, f"SELECT ?p ?v WHERE {{ ?p a <{HR}Program> ; <{HR}{predicate}> ?v }}")
    assert expected
    rows = set(
        database.execute(
            "SELECT r.iri, f.value FROM facet f JOIN resource r ON r.id = f.resource "
            "WHERE r.kind = 'program' AND f.name = ?",
            (facet,),
        )
    )
    assert rows == expected


def test_a_lesson_about_a_program_has_its_city(database: sqlite3.Connection) -> None:
    """Lessons without a city of their own get that of the program or organization they are
    about (here read back; the pages show it)."""
    rows = database.execute(
        "SELECT count(*) FROM facet f JOIN resource r ON r.id = f.resource "
        "WHERE r.kind = 'lesson' AND f.name = 'city'"
    ).fetchone()
    assert rows[0] > 0


def matches(database: sqlite3.Connection, expression: str) -> set[str]:
    sql = "SELECT r.iri FROM text JOIN resource r ON r.id = text.rowid WHERE text MATCH ?"
    return {iri for (iri,) in database.execute(sql, (expression,))}


def test_accents_are_folded_and_joined_words_indexed(database: sqlite3.Connection) -> None:
    assert matches(database, '"quebec"') == matches(database, '"Québec"') != set()
    st_johns = BASE + "id/city/st-johns"
    assert st_johns in matches(database, '"st" AND "johns"')
    assert st_johns in matches(database, '"st" AND "john" AND "s"')


@pytest.mark.parametrize("word", ["needle", "whitehorse", "methadone", "crack"])
def test_labels_rank_above_texts(database: sqlite3.Connection, word: str) -> None:
    """Those with the word in a label come first, with the weights the page ranks by."""
    sql = f"SELECT text.label LIKE ? FROM text WHERE text MATCH ? ORDER BY bm25(text, {WEIGHTS})"
    in_label = [bool(flag) for (flag,) in database.execute(sql, (f"%{word}%", f'"{word}"'))]
    assert True in in_label and False in in_label
    assert in_label[: in_label.count(True)] == [True] * in_label.count(True)


def test_same_quads_give_the_same_bytes(store: ox.Store) -> None:
    quads = list(store.quads_for_pattern(None, None, None, None))
    first = search_index(quads, BASE)
    assert search_index(reversed(quads), BASE) == first
    assert first.startswith(b"SQLite format 3\x00")
