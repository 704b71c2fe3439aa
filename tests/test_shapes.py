"""The SHACL shapes in shapes/ against their fixtures, and the shipped data against the shapes.

Fixtures follow cube-link: tests/shapes/<ShapeName>/valid.<case>.ttl must conform with no result of
any severity; invalid.<case>.ttl must give exactly the results listed in its sibling
invalid.<case>.expected.ttl, compared as a set of (focus node, path, constraint component,
severity). Each fixture is validated as the real validator does: the ontology merged into the data
graph, all of shapes/ as the shapes graph, pySHACL with inference "none" and advanced features on.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pyshacl
import pytest
from rdflib import BNode, Graph, Namespace, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from support import EXPECTED_SUFFIX, SH_PARAMETERS, expected_path

ROOT = Path(__file__).parents[1]
SHAPES_DIR = ROOT / "shapes"
ONTOLOGY = ROOT / "ontology" / "hrgraph.ttl"
DATA_DIR = ROOT / "data"
FIXTURES = Path(__file__).parent / "shapes"
HR = Namespace("https://w3id.org/hrgraph/ontology#")
HRSH = Namespace("https://w3id.org/hrgraph/shapes#")
BLANK = "_:blank"  # blank nodes in results match any blank node

Result = tuple[object, object, Node, Node]


def _fixtures(kind: str) -> list[Path]:
    return sorted(
        p for p in FIXTURES.glob(f"*/{kind}.*.ttl") if not p.name.endswith(EXPECTED_SUFFIX)
    )


SHAPE_FILES = sorted(SHAPES_DIR.glob("*.ttl"))
VALID = _fixtures("valid")
INVALID = _fixtures("invalid")
EXPECTED = sorted(FIXTURES.glob(f"*/invalid.*{EXPECTED_SUFFIX}"))
DATA_FILES = sorted(DATA_DIR.glob("*.ttl"))

DIRECT_CONSTRAINTS = tuple(URIRef(iri) for iri in SH_PARAMETERS)


def _ids(paths: Iterable[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.name}" for p in paths]


@cache
def shapes_graph() -> Graph:
    graph = Graph()
    for path in SHAPE_FILES:
        graph.parse(path)
    return graph


@cache
def ontology_graph() -> Graph:
    return Graph().parse(ONTOLOGY)


def validate(paths: Iterable[Path], shapes: Graph | None = None) -> set[Result]:
    """Validate ontology + `paths` against the shapes; the results as comparable tuples."""
    data = Graph()
    for triple in ontology_graph():
        data.add(triple)
    for path in paths:
        data.parse(path)
    _, report, _ = pyshacl.validate(
        data,
        shacl_graph=shapes if shapes is not None else shapes_graph(),
        inference="none",
        advanced=True,
        allow_warnings=True,
    )
    return results_of(report, report.subjects(RDF.type, SH.ValidationReport))


def results_of(graph: Graph, containers: Iterable[Node] | None = None) -> set[Result]:
    """(focus, path, component, severity) of the top-level results in a report, or of every
    sh:ValidationResult in an expected-results file (containers=None)."""
    if containers is None:
        nodes = list(graph.subjects(RDF.type, SH.ValidationResult))
    else:
        nodes = [r for c in containers for r in graph.objects(c, SH.result)]

    def norm(term: Node | None) -> object:
        return BLANK if isinstance(term, BNode) else term

    return {
        (
            norm(graph.value(r, SH.focusNode)),
            norm(graph.value(r, SH.resultPath)),
            graph.value(r, SH.sourceConstraintComponent),
            graph.value(r, SH.resultSeverity),
        )
        for r in nodes
    }


def show(results: Iterable[Result]) -> str:
    return "\n".join(sorted("  " + " | ".join(str(x) for x in r) for r in results)) or "  (none)"


# --------------------------------------------------------------- the fixture set


@pytest.mark.parametrize(
    ("what", "paths"),
    [
        ("shapes/*.ttl", SHAPE_FILES),
        ("tests/shapes/*/valid.*.ttl", VALID),
        ("tests/shapes/*/invalid.*.ttl", INVALID),
        ("tests/shapes/*/invalid.*.expected.ttl", EXPECTED),
    ],
)
def test_glob_is_not_empty(what: str, paths: list[Path]) -> None:
    assert paths, f"{what} matches no file: the parametrized tests would run zero cases"


def test_each_invalid_fixture_has_its_expected_results() -> None:
    invalid = {expected_path(p) for p in INVALID}
    assert invalid == set(EXPECTED), (
        f"without expected results: {sorted(map(str, invalid - set(EXPECTED)))}; "
        f"expected results without a fixture: {sorted(map(str, set(EXPECTED) - invalid))}"
    )


def test_every_node_shape_has_valid_and_invalid_fixtures() -> None:
    shapes = shapes_graph()
    missing = []
    for shape in sorted(set(shapes.subjects(RDF.type, SH.NodeShape))):
        assert str(shape).startswith(str(HRSH)), f"node shape outside hrsh: {shape}"
        name = str(shape)[len(HRSH) :]
        folder = FIXTURES / name
        if not list(folder.glob("valid.*.ttl")) or not _fixtures_in(folder, "invalid"):
            missing.append(name)
    assert not missing, f"node shapes without a valid and an invalid fixture: {missing}"


def _fixtures_in(folder: Path, kind: str) -> list[Path]:
    return [p for p in folder.glob(f"{kind}.*.ttl") if not p.name.endswith(EXPECTED_SUFFIX)]


def test_fixture_folders_name_shapes() -> None:
    shapes = shapes_graph()
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        shape = HRSH[folder.name]
        assert (shape, None, None) in shapes, f"tests/shapes/{folder.name}: no hrsh:{folder.name}"


# ------------------------------------------------------------------- the shapes


def test_every_constraint_has_an_english_and_a_french_message() -> None:
    shapes = shapes_graph()
    needs_message = set(shapes.subjects(SH.path, None)) | set(shapes.objects(None, SH.sparql))
    needs_message |= {
        s
        for s in shapes.subjects(RDF.type, SH.NodeShape)
        if any((s, p, None) in shapes for p in DIRECT_CONSTRAINTS)
    }
    assert needs_message
    lacking = []
    for node in needs_message:
        langs = {getattr(m, "language", None) for m in shapes.objects(node, SH.message)}
        if not {"en", "fr"} <= langs:
            path = shapes.value(node, SH.path)
            lacking.append(f"{node} (path {path}): languages {sorted(map(str, langs))}")
    assert not lacking, "no sh:message in English and French on:\n" + "\n".join(sorted(lacking))


def test_need_satisfies_sh_class_finding() -> None:
    """pySHACL follows rdfs:subClassOf in the data graph, where the ontology is merged."""
    shapes = Graph().parse(
        format="turtle",
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix hr: <https://w3id.org/hrgraph/ontology#> .
        <urn:test:shape> a sh:NodeShape ;
            sh:targetNode <https://w3id.org/hrgraph/id/finding/more-hours> ;
            sh:class hr:Finding .
        """,
    )
    data = FIXTURES / "FindingShape" / "valid.need.ttl"
    assert (None, RDF.type, HR.Need) in Graph().parse(data)
    assert validate([data], shapes=shapes) == set()


@pytest.mark.parametrize("path", VALID, ids=_ids(VALID))
def test_valid_fixture_conforms(path: Path) -> None:
    results = validate([path])
    assert not results, f"{path.name} should give no result of any severity, got:\n{show(results)}"


@pytest.mark.parametrize("path", INVALID, ids=_ids(INVALID))
def test_invalid_fixture_gives_the_expected_results(path: Path) -> None:
    expected = results_of(Graph().parse(expected_path(path)))
    assert expected, f"{expected_path(path).name} lists no sh:ValidationResult"
    actual = validate([path])
    assert actual == expected, (
        f"{path.name}\nunexpected:\n{show(actual - expected)}\nmissing:\n{show(expected - actual)}"
    )


# ------------------------------------------------------------- the shipped data


def test_shipped_data_conforms() -> None:
    assert DATA_FILES, "data/*.ttl matches no file"
    results = validate(DATA_FILES)
    violations = {r for r in results if r[3] == SH.Violation}
    assert not violations, f"data/ has violations:\n{show(violations)}"
