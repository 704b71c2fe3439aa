from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hrgraph.build.sources import fingerprint, load_sources, parse_file, source_paths
from hrgraph.config import Settings
from hrgraph.errors import SourceError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_syntax_error_reports_file_line_and_column(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.ttl", '@prefix a: <http://x/> .\na:b a:c "open .\n')
    with pytest.raises(SourceError) as caught:
        parse_file(bad, "data", 0)
    assert caught.value.path == bad
    assert caught.value.line == 2
    assert caught.value.column is not None
    assert str(caught.value).startswith(f"{bad}:2:")


def test_undeclared_prefix_is_named_with_its_line(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.ttl", "@prefix a: <http://x/> .\n\n  nope:b a:c a:d .\n")
    with pytest.raises(SourceError) as caught:
        parse_file(bad, "data", 0)
    assert caught.value.line == 3
    assert "nope:" in caught.value.reason


def test_blank_nodes_get_the_same_labels_on_every_parse(tmp_path: Path) -> None:
    path = write(tmp_path / "b.ttl", "@prefix a: <http://x/> .\na:s a:p [ a:q [ a:r 1 ] ] .\n")
    first, second = parse_file(path, "data", 3), parse_file(path, "data", 3)
    assert first.quads == second.quads
    assert {q.object.value for q in first.quads if q.predicate.value != "http://x/r"} == {
        "f3b0",
        "f3b1",
    }


def test_each_file_is_its_own_named_graph(make_settings: Callable[..., Settings]) -> None:
    sources = load_sources(make_settings())
    graphs = {f.graph.value for f in sources.files}
    assert len(graphs) == len(sources.files)
    assert "https://w3id.org/hrgraph/graph/data/places" in graphs
    assert "https://w3id.org/hrgraph/graph/ontology/hrgraph" in graphs


def test_definitions_point_at_the_defining_line(make_settings: Callable[..., Settings]) -> None:
    sources = load_sources(make_settings())
    where = sources.locate("https://w3id.org/hrgraph/id/page/chrn-18")
    assert where is not None and where.path.name == "pages.ttl"
    lines = where.path.read_text().splitlines()
    assert lines[where.line - 1].startswith("page:chrn-18 ")


def test_missing_folder_is_a_clear_error(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    with pytest.raises(SourceError, match="ontology folder is missing"):
        load_sources(make_settings(tmp_path))


def test_empty_folder_is_a_clear_error(
    sources: Path, make_settings: Callable[..., Settings]
) -> None:
    for path in (sources / "shapes").glob("*.ttl"):
        path.unlink()
    with pytest.raises(SourceError, match=r"no \.ttl files in the shapes folder"):
        load_sources(make_settings(sources))


def test_fingerprint_changes_with_content_and_extra(
    sources: Path, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(sources)
    before = fingerprint(source_paths(settings), "a")
    assert fingerprint(source_paths(settings), "a") == before
    assert fingerprint(source_paths(settings), "b") != before
    page = sources / "data" / "pages.ttl"
    page.write_text(page.read_text() + "\n# a comment\n")
    assert fingerprint(source_paths(settings), "a") != before
