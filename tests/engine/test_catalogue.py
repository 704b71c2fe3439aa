"""The catalogue of canned queries (engine.catalogue): every file of queries/ is read, documented
in English and French, safe, binds its parameters' defaults, and has them replaced in place."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib.plugins.sparql import prepareQuery

from hrgraph.engine import catalogue, safety

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "queries").glob("*.rq"))
NAMES = [path.stem for path in FILES]


def test_there_are_examples() -> None:
    assert 10 <= len(FILES) <= 14
    assert list(catalogue.catalogue()) == NAMES


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_header_and_safety(path: Path) -> None:
    query = catalogue.parse(path.stem, path.read_text(encoding="utf-8"))
    for lang in ("en", "fr"):
        assert query.title[lang], f"{path.name}: no title@{lang}"
        assert query.description[lang], f"{path.name}: no description@{lang}"
    checked = safety.check(query.text, graphs=frozenset(), max_bytes=100_000, max_nesting=100)
    assert checked.form.value in ("SELECT", "ASK")
    for param in query.params:
        assert param.default, param
        catalogue.values_block(query.text, param.name)  # the default is bound in the text


def test_bind_replaces_only_the_values_block() -> None:
    query = catalogue.catalogue()["city-services"]
    text = catalogue.bind(query, {"city": "<https://example.org/x>", "lang": '"fr"'})
    assert "VALUES ?city { <https://example.org/x> }" in text
    assert 'VALUES ?lang { "fr" }' in text
    assert text.count("city:whitehorse") == 0
    # everything else is the file as written
    expected = query.text.replace("{ city:whitehorse }", "{ <https://example.org/x> }")
    assert text == expected.replace('{ "en" }', '{ "fr" }')


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_runs_as_is_in_other_clients(path: Path) -> None:
    """No predeclared prefix is needed: rdflib's parser and a bare pyoxigraph store, which know
    none, accept the file as it is."""
    text = path.read_text(encoding="utf-8")
    prepareQuery(text, initNs={})
    ox.Store().query(text)  # an undeclared prefix is a SyntaxError here


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_header_is_grlc(path: Path) -> None:
    """grlc reads the `#+` lines as YAML; every value is a JSON string or a bare word, which
    YAML reads the same, and the keys grlc knows are there."""
    header = catalogue.decorators(path.read_text(encoding="utf-8"))
    assert {"summary", "description", "endpoint", "method"} <= header.keys()
    assert header["method"] == "GET"
    query = catalogue.parse(path.stem, path.read_text(encoding="utf-8"))
    defaults = dict(header.get("defaults", []))  # type: ignore[arg-type]
    assert [p.name for p in query.params] == list(defaults)


def test_prefixes_follow_the_release_base() -> None:
    """A release under another base gets the file's PREFIX lines rebased (and only those)."""
    query = catalogue.catalogue()["city-services"]
    text = catalogue.bind(query, {}, "http://example.org/x/")
    assert "PREFIX city: <http://example.org/x/id/city/>" in text
    assert "PREFIX hr: <http://example.org/x/ontology#>" in text
    assert "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>" in text
    assert "https://w3id.org/hrgraph/id/city/whitehorse" in text  # the header keeps its default
    assert catalogue.rebased(text, "http://example.org/x/") == text


def test_shipped_release_answers_each_file_as_is(shipped_release: Path) -> None:
    """Loaded into a plain pyoxigraph store from the release's dump, with no hrgraph code in
    between, every example answers."""
    store = ox.Store()
    store.bulk_load(path=str(shipped_release / "hrgraph.nt"), format=ox.RdfFormat.N_TRIPLES)
    for path in FILES:
        rows = list(store.query(path.read_text(encoding="utf-8")))  # type: ignore[arg-type]
        assert rows, f"{path.name} gives no row on the shipped release"
