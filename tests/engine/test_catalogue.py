"""The catalogue of canned queries (engine.catalogue): every file of queries/ is read, documented
in English and French, safe, binds its parameters' defaults, and has them replaced in place."""

from __future__ import annotations

from pathlib import Path

import pytest

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
