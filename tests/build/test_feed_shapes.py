"""The change feed's LDES shapes (src/hrgraph/build/shapes/ldes.ttl) against their fixtures.

Fixtures follow tests/test_shapes.py (cube-link): tests/build/feed-shapes/<ShapeName>/
valid.<case>.ttl must conform with no result of any severity; invalid.<case>.ttl must give exactly
the results listed in its sibling invalid.<case>.expected.ttl, compared as a set of (focus node,
path, constraint component, severity), blank nodes matching any blank node. A SPARQL constraint's
result has no path, and HistoryShape's have the stream as focus node, so for
sh:SPARQLConstraintComponent the result's sh:value (the member, time or path at fault) is compared
too.

Each fixture is Turtle (feed metadata, default graph only), parsed with pyoxigraph and validated
by the gate's own `validate_feed` (pySHACL, inference "none", advanced features on), as the
builder validates the feed documents it renders (hrgraph/build/feed.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, SH, XSD
from rdflib.term import Node

from hrgraph import feed
from hrgraph.build.validation import FEED_SHAPES, Report, validate_feed
from hrgraph.config import CANONICAL_BASE
from support import EXPECTED_SUFFIX, SH_PARAMETERS, expected_path

FIXTURES = Path(__file__).parent / "feed-shapes"
FSH = Namespace("https://w3id.org/hrgraph/shapes/feed#")
BLANK = "_:blank"  # blank nodes in results match any blank node
SHAPE_NAMES = ("EventStreamShape", "NodeShape", "RelationShape", "MemberShape", "HistoryShape")

Result = tuple[object, object, Node, Node, object]

PARAMETERS = tuple(URIRef(iri) for iri in SH_PARAMETERS)


def _fixtures_in(folder: Path, kind: str) -> list[Path]:
    return sorted(p for p in folder.glob(f"{kind}.*.ttl") if not p.name.endswith(EXPECTED_SUFFIX))


def _fixtures(kind: str) -> list[Path]:
    return sorted(p for folder in FIXTURES.glob("*/") for p in _fixtures_in(folder, kind))


VALID = _fixtures("valid")
INVALID = _fixtures("invalid")
EXPECTED = sorted(FIXTURES.glob(f"*/invalid.*{EXPECTED_SUFFIX}"))
FOLDERS = sorted(p for p in FIXTURES.iterdir() if p.is_dir()) if FIXTURES.is_dir() else []


def _ids(paths: Iterable[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.name}" for p in paths]


@cache
def shapes_graph() -> Graph:
    return Graph().parse(FEED_SHAPES, format="turtle")


@cache
def report_of(path: Path) -> Report:
    """The gate's report on a fixture (each fixture is validated once per process)."""
    quads = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    assert quads, f"{path.name} holds no triple"
    return validate_feed(quads)


def _norm(term: Node | None) -> object:
    return BLANK if isinstance(term, BNode) else term


def results_of(graph: Graph, containers: Iterable[Node] | None = None) -> set[Result]:
    """(focus, path, component, severity, value of a SPARQL result) of the top-level results in
    a report, or of every sh:ValidationResult in an expected-results file (containers=None)."""
    if containers is None:
        nodes = list(graph.subjects(RDF.type, SH.ValidationResult))
    else:
        nodes = [r for c in containers for r in graph.objects(c, SH.result)]
    found = set()
    for r in nodes:
        component = graph.value(r, SH.sourceConstraintComponent)
        sparql = component == SH.SPARQLConstraintComponent
        found.add(
            (
                _norm(graph.value(r, SH.focusNode)),
                _norm(graph.value(r, SH.resultPath)),
                component,
                graph.value(r, SH.resultSeverity),
                _norm(graph.value(r, SH.value)) if sparql else None,
            )
        )
    return found


def report_results(report: Report) -> set[Result]:
    return results_of(report.graph, report.graph.subjects(RDF.type, SH.ValidationReport))


def validate(path: Path) -> set[Result]:
    return report_results(report_of(path))


def show(results: Iterable[Result]) -> str:
    return "\n".join(sorted("  " + " | ".join(str(x) for x in r) for r in results)) or "  (none)"


def english(messages: Iterable[Node]) -> str | None:
    return next((str(m) for m in messages if isinstance(m, Literal) and m.language == "en"), None)


# --------------------------------------------------------------- the fixture set


@pytest.mark.parametrize(
    ("what", "paths"),
    [
        ("src/hrgraph/build/shapes/ldes.ttl", [FEED_SHAPES] if FEED_SHAPES.is_file() else []),
        ("tests/build/feed-shapes/*/", FOLDERS),
        ("tests/build/feed-shapes/*/valid.*.ttl", VALID),
        ("tests/build/feed-shapes/*/invalid.*.ttl", INVALID),
        ("tests/build/feed-shapes/*/invalid.*.expected.ttl", EXPECTED),
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
    names = set()
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)):
        assert str(shape).startswith(str(FSH)), f"node shape outside fsh: {shape}"
        names.add(str(shape)[len(FSH) :])
    assert names == set(SHAPE_NAMES), f"ldes.ttl's node shapes: {sorted(names)}"
    missing = [
        name
        for name in sorted(names)
        if not _fixtures_in(FIXTURES / name, "valid")
        or not _fixtures_in(FIXTURES / name, "invalid")
    ]
    assert not missing, f"node shapes without a valid and an invalid fixture: {missing}"


def test_fixture_folders_name_shapes() -> None:
    shapes = shapes_graph()
    for folder in FOLDERS:
        shape = FSH[folder.name]
        assert (shape, RDF.type, SH.NodeShape) in shapes, (
            f"tests/build/feed-shapes/{folder.name}: no node shape fsh:{folder.name}"
        )


def test_fixtures_are_default_graph_turtle() -> None:
    for path in [*VALID, *INVALID]:
        quads = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
        assert quads, f"{path.name} holds no triple"
        assert all(q.graph_name == ox.DefaultGraph() for q in quads), path.name


# ------------------------------------------------------------------- the shapes


def _constraint_holders(shapes: Graph) -> set[Node]:
    """Every property shape, every SPARQL constraint and every node shape with a constraint of
    its own: each says what is wrong in its own sh:message."""
    holders = set(shapes.subjects(SH.path, None)) | set(shapes.objects(None, SH.sparql))
    holders |= {
        s
        for s in shapes.subjects(RDF.type, SH.NodeShape)
        if any((s, p, None) in shapes for p in PARAMETERS)
    }
    return holders


def test_every_constraint_has_an_english_and_a_french_message() -> None:
    shapes = shapes_graph()
    holders = _constraint_holders(shapes)
    # 15 property shapes, 5 SPARQL constraints, EventStreamShape's own sh:nodeKind.
    assert len(holders) == 21, f"ldes.ttl has {len(holders)} constraints, not the 21 tested"
    lacking = []
    for node in holders:
        langs = {getattr(m, "language", None) for m in shapes.objects(node, SH.message)}
        if not {"en", "fr"} <= langs:
            path = shapes.value(node, SH.path)
            lacking.append(f"{node} (path {path}): languages {sorted(map(str, langs))}")
    assert not lacking, "no sh:message in English and French on:\n" + "\n".join(sorted(lacking))


def _component(parameter: Node) -> Node:
    name = str(parameter)[len(str(SH)) :]
    return SH[name[0].upper() + name[1:] + "ConstraintComponent"]


def test_every_constraint_fires_in_an_invalid_fixture() -> None:
    """Each constraint of ldes.ttl (each parameter of each property shape or node shape, each
    SPARQL constraint), known by its English message, gives a result in some invalid fixture."""
    shapes = shapes_graph()
    required: set[tuple[str, Node]] = set()
    by_message: Counter[str] = Counter()
    for holder in _constraint_holders(shapes):
        message = english(shapes.objects(holder, SH.message))
        assert message, f"{holder}: no English message"
        by_message[message] += 1
        if (None, SH.sparql, holder) in shapes:
            required.add((message, SH.SPARQLConstraintComponent))
        for parameter in PARAMETERS:
            if (holder, parameter, None) in shapes:
                required.add((message, _component(parameter)))
    assert not [m for m, n in by_message.items() if n > 1], "messages must tell constraints apart"
    assert len(required) == 41, f"ldes.ttl has {len(required)} constraints, not the 41 tested"
    fired = set()
    for path in INVALID:
        graph = report_of(path).graph
        for result in graph.subjects(RDF.type, SH.ValidationResult):
            # A SPARQL result's messages lose their language tag in pySHACL (see below).
            component = graph.value(result, SH.sourceConstraintComponent)
            fired |= {(str(m), component) for m in graph.objects(result, SH.resultMessage)}
    never = required - fired
    assert not never, "constraints no invalid fixture shows:\n" + "\n".join(
        f"  {c.rsplit('#', 1)[-1]}: {m}" for m, c in sorted(never)
    )


@pytest.mark.parametrize("path", VALID, ids=_ids(VALID))
def test_valid_fixture_conforms(path: Path) -> None:
    report = report_of(path)
    results = report_results(report)
    assert not results, f"{path.name} should give no result of any severity, got:\n{show(results)}"
    assert report.conforms
    assert report.results == []


@pytest.mark.parametrize("path", INVALID, ids=_ids(INVALID))
def test_invalid_fixture_gives_the_expected_results(path: Path) -> None:
    expected = results_of(Graph().parse(expected_path(path)))
    assert expected, f"{expected_path(path).name} lists no sh:ValidationResult"
    assert all(r[3] == SH.Violation for r in expected), "the feed's shapes only state violations"
    actual = validate(path)
    assert actual == expected, (
        f"{path.name}\nunexpected:\n{show(actual - expected)}\nmissing:\n{show(expected - actual)}"
    )


def _messages(lang: str) -> set[str]:
    shapes = shapes_graph()
    return {
        str(m)
        for m in shapes.objects(None, SH.message)
        if isinstance(m, Literal) and m.language == lang
    }


@pytest.mark.parametrize("path", INVALID, ids=_ids(INVALID))
def test_the_gate_reads_every_result(path: Path) -> None:
    """validate_feed's Report (what the builder acts on) holds the report graph's results and
    refuses the feed; a property shape's result carries its constraint's English and French
    message."""
    report = report_of(path)
    graph = report.graph
    in_graph = Counter(
        (
            str(graph.value(r, SH.focusNode)),
            str(graph.value(r, SH.sourceConstraintComponent)),
            str(graph.value(r, SH.resultSeverity)).rsplit("#", 1)[-1],
        )
        for r in graph.subjects(RDF.type, SH.ValidationResult)
    )
    in_report = Counter((r.focus, r.constraint, r.severity) for r in report.results)
    assert in_report == in_graph
    assert report.results
    assert not report.conforms
    english_messages, french_messages = _messages("en"), _messages("fr")
    for result in report.results:
        assert result.shape is None or result.shape.startswith(str(FSH)), result.shape
        if result.constraint == str(SH.SPARQLConstraintComponent):
            continue  # test_sparql_results_keep_both_languages
        assert set(result.messages) == {"en", "fr"}, f"{result.focus}: {result.messages}"
        assert result.messages["en"] in english_messages, result.messages
        assert result.messages["fr"] in french_messages, result.messages


def test_sparql_results_keep_both_languages() -> None:
    reports = [report_of(p) for p in INVALID]
    sparql = [
        r
        for report in reports
        for r in report.results
        if r.constraint == str(SH.SPARQLConstraintComponent)
    ]
    assert sparql, "no invalid fixture gives a SPARQL result"
    english_messages, french_messages = _messages("en"), _messages("fr")
    for result in sparql:
        assert set(result.messages) == {"en", "fr"}, f"{result.focus}: {result.messages}"
        assert result.messages["en"] in english_messages, result.messages
        assert result.messages["fr"] in french_messages, result.messages


def test_history_results_name_the_stream_and_the_member_at_fault() -> None:
    report = report_of(FIXTURES / "HistoryShape" / "invalid.created-twice.ttl")
    stream = feed.stream_iri(CANONICAL_BASE)
    assert {(r.focus, r.path, r.value, r.shape) for r in report.results} == {
        (stream, None, f"{CANONICAL_BASE}feed/2#id/city/victoria", str(FSH.HistoryShape)),
        (stream, None, f"{CANONICAL_BASE}feed/3#id/city/nanaimo", str(FSH.HistoryShape)),
        (stream, None, f"{CANONICAL_BASE}feed/4#id/city/kamloops", str(FSH.HistoryShape)),
    }
    assert all(r.constraint == str(SH.SPARQLConstraintComponent) for r in report.results)


# ------------------------------------------------------- the feed hrgraph renders

BASE = CANONICAL_BASE
T1, T2 = "2026-01-10T12:00:00Z", "2026-02-10T12:00:00Z"


def _members(version: str, time: str, kinds: dict[str, str]) -> list[ox.Quad]:
    """A page's members as build/feed.py writes them: type, object and time in the default
    graph, the description (not a tombstone's) in the member's graph."""
    quads = []
    published = ox.Literal(time, datatype=feed.DATETIME)
    for path, kind in kinds.items():
        member = ox.NamedNode(feed.member_iri(BASE, version, path))
        resource = ox.NamedNode(BASE + path)
        quads += [
            ox.Quad(member, feed.TYPE, ox.NamedNode(kind)),
            ox.Quad(member, feed.OBJECT, resource),
            ox.Quad(member, feed.PUBLISHED, published),
        ]
        if kind != feed.DELETE:
            label = ox.Literal(path, language="en")
            quads.append(ox.Quad(resource, ox.NamedNode(str(RDF.value)), label, member))
    return quads


def _rendered(pages: list[feed.Page], members: dict[str, list[ox.Quad]]) -> list[ox.Quad]:
    """Every feed document feed.py renders, their default graphs merged with each document's
    blank nodes kept apart (as the builder does before it calls the gate)."""
    documents = [feed.root(BASE, pages)]
    documents += [
        feed.page(BASE, pages, index, members[page.version]) for index, page in enumerate(pages)
    ]

    def apart(term: Any, number: int) -> Any:
        return ox.BlankNode(f"d{number}{term.value}") if isinstance(term, ox.BlankNode) else term

    return [
        ox.Quad(apart(q.subject, n), q.predicate, apart(q.object, n))
        for n, document in enumerate(documents)
        for q in document
        if q.graph_name == ox.DefaultGraph()
    ]


def _two_releases(first: str, second: str) -> list[ox.Quad]:
    """Release 1.0 creates Victoria and Nanaimo, release 1.1 updates one and removes the other."""
    pages = [feed.Page("1.0", first, 2), feed.Page("1.1", second, 2)]
    victoria, nanaimo = "id/city/victoria", "id/city/nanaimo"
    members = {
        "1.0": _members("1.0", first, {victoria: feed.CREATE, nanaimo: feed.CREATE}),
        "1.1": _members("1.1", second, {victoria: feed.UPDATE, nanaimo: feed.DELETE}),
    }
    return _rendered(pages, members)


def _objects(quads: list[ox.Quad], predicate: str) -> list[Any]:
    return [q.object for q in quads if q.predicate.value == predicate]


def test_the_rendered_feed_conforms() -> None:
    quads = _two_releases(T1, T2)
    # What the shapes check is there: four members, a closed page, the relations of all pages.
    assert len(set(_objects(quads, feed.TREE + "member"))) == 4
    assert len(_objects(quads, feed.LDES + "immutable")) == 1
    kinds = {o.value.removeprefix(feed.TREE) for o in _objects(quads, str(RDF.type))}
    assert {"GreaterThanRelation", "GreaterThanOrEqualToRelation"} <= kinds
    report = validate_feed(quads)
    assert report.results == [], "\n".join(f"{r.focus}: {r.message()}" for r in report.results)


def test_a_rendered_feed_out_of_order_is_refused() -> None:
    """Release 1.1 published before 1.0: page 1.0's relation to the next page is broken by 1.1's
    members, Victoria is updated before it is created and then created twice, and Nanaimo is
    removed before it is created."""
    quads = _two_releases(T2, T1)
    report = validate_feed(quads)
    assert not report.conforms
    closed = ox.NamedNode(feed.page_iri(BASE, "1.0"))
    (relation,) = (
        q.object.value
        for q in quads
        if q.subject == closed and q.predicate.value.endswith("relation")
    )
    stream = feed.stream_iri(BASE)

    def member(version: str, city: str) -> str:
        return feed.member_iri(BASE, version, f"id/city/{city}")

    assert {(r.focus, r.path, r.value, r.shape) for r in report.results} == {
        (relation, None, str(Literal(T1, datatype=XSD.dateTime)), str(FSH.RelationShape)),
        (stream, None, member("1.1", "victoria"), str(FSH.HistoryShape)),
        (stream, None, member("1.1", "nanaimo"), str(FSH.HistoryShape)),
        (stream, None, member("1.0", "victoria"), str(FSH.HistoryShape)),
    }
