"""What the builder derives (build.derived): a statement node with its sources and certainty for
every sourced statement, authored nodes narrowing them, the checks that relate nodes to the
graph, and the subclass and subproperty closure."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from hrgraph.build import derived
from hrgraph.build.sources import SourceFile, Sources, parse_file
from hrgraph.build.validation import validate

ROOT = Path(__file__).resolve().parents[2]
HR = "https://w3id.org/hrgraph/ontology#"
ID = "https://w3id.org/hrgraph/id/"
PREFIXES = """@prefix hr: <https://w3id.org/hrgraph/ontology#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix page: <https://w3id.org/hrgraph/id/page/> .
@prefix program: <https://w3id.org/hrgraph/id/program/> .
@prefix city: <https://w3id.org/hrgraph/id/city/> .
"""
PROGRAM = """program:x a hr:Program ;
    rdfs:label "X"@en , "X"@fr ;
    hr:city city:a ;
    hr:service "Needles"@en , "Showers"@en ;
    skos:note "A curator's note."@en ;
    dct:source page:one , page:two .
"""


def sources_of(tmp_path: Path, data: str) -> Sources:
    """The real ontology and one data file."""
    (tmp_path / "data.ttl").write_text(PREFIXES + data)
    files = [
        parse_file(ROOT / "ontology" / "hrgraph.ttl", "ontology", 0),
        parse_file(tmp_path / "data.ttl", "data", 1),
    ]
    return Sources(files)


def nodes(sources: Sources) -> dict[tuple[str, str, str], dict[str, set[str]]]:
    """The statement graph as (subject, predicate, object) -> property -> values."""
    graph = [q for q in sources.quads(("data",)) if q.graph_name == derived.STATEMENTS_GRAPH]
    by_node: dict[object, dict[str, set[str]]] = {}
    for quad in graph:
        by_node.setdefault(quad.subject, {}).setdefault(quad.predicate.value, set()).add(
            str(quad.object)
        )
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    one = {part: rdf + part for part in ("subject", "predicate", "object")}
    return {
        (
            next(iter(v[one["subject"]])),
            next(iter(v[one["predicate"]])).strip("<>"),
            next(iter(v[one["object"]])),
        ): v
        for v in by_node.values()
    }


def test_every_sourced_statement_gets_the_resources_sources(tmp_path: Path) -> None:
    found = nodes(derived.with_statements(sources_of(tmp_path, PROGRAM)))
    subject = f"<{ID}program/x>"
    predicates = {p for s, p, _ in found if s == subject}
    # the type, the sources themselves and the curator's note need no source of their own
    assert predicates == {
        "http://www.w3.org/2000/01/rdf-schema#label",
        HR + "city",
        HR + "service",
    }
    assert len(found) == 5  # two labels, the city, two services
    for values in found.values():
        assert values["http://purl.org/dc/terms/source"] == {f"<{ID}page/one>", f"<{ID}page/two>"}
        assert values[HR + "certainty"] == {'"confirmed"'}


def test_an_authored_node_narrows_one_statement(tmp_path: Path) -> None:
    data = (
        PROGRAM
        + """
[] a rdf:Statement ; rdf:subject program:x ; rdf:predicate hr:service ; rdf:object "Showers"@en ;
    dct:source page:two ;
    hr:certainty "uncertain" ; skos:note "Only one page says so."@en , "Une seule page."@fr .
"""
    )
    built = derived.with_statements(sources_of(tmp_path, data))
    found = nodes(built)
    showers = found[(f"<{ID}program/x>", HR + "service", '"Showers"@en')]
    assert showers["http://purl.org/dc/terms/source"] == {f"<{ID}page/two>"}
    assert showers[HR + "certainty"] == {'"uncertain"'}
    assert showers["http://www.w3.org/2004/02/skos/core#note"] == {
        '"Only one page says so."@en',
        '"Une seule page."@fr',
    }
    needles = found[(f"<{ID}program/x>", HR + "service", '"Needles"@en')]
    assert len(needles["http://purl.org/dc/terms/source"]) == 2
    assert len(found) == 5  # still one node per statement: the authored one replaced the built one
    # the authored node left its file's graph
    data_graph = [q for q in built.quads(("data",)) if q.graph_name != derived.STATEMENTS_GRAPH]
    assert not any(q.predicate.value.endswith("#subject") for q in data_graph)
    assert derived.statement_problems(built) == []


def test_an_uncertain_resource_makes_its_statements_uncertain(tmp_path: Path) -> None:
    data = (
        PROGRAM.replace("dct:source", 'hr:certainty "uncertain" ;\n    dct:source')
        + """
[] a rdf:Statement ; rdf:subject program:x ; rdf:predicate hr:city ; rdf:object city:a ;
    dct:source page:one ; hr:certainty "confirmed" .
"""
    )
    found = nodes(derived.with_statements(sources_of(tmp_path, data)))
    certainty = {t[1:]: v[HR + "certainty"] for t, v in found.items()}
    assert certainty[(HR + "city", f"<{ID}city/a>")] == {'"confirmed"'}
    assert certainty[(HR + "service", '"Needles"@en')] == {'"uncertain"'}


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (
            "[] a rdf:Statement ; rdf:subject program:x ; rdf:predicate hr:service ;\n"
            '    rdf:object "Needles"@fr ; dct:source page:one .',
            "StatementAssertedConstraintComponent",
        ),
        (
            "[] a rdf:Statement ; rdf:subject program:x ; rdf:predicate hr:city ;\n"
            "    rdf:object city:a ; dct:source page:one .\n"
            "[] a rdf:Statement ; rdf:subject program:x ; rdf:predicate hr:city ;\n"
            "    rdf:object city:a ; dct:source page:two .",
            "OneStatementConstraintComponent",
        ),
    ],
    ids=["unasserted", "twice"],
)
def test_the_checks_find_bad_authored_nodes(tmp_path: Path, extra: str, problem: str) -> None:
    built = derived.with_statements(sources_of(tmp_path, PROGRAM + extra))
    assert problem in {name for name, _ in derived.statement_problems(built)}


def test_a_statement_without_a_node_is_found(tmp_path: Path) -> None:
    """A release whose statement graph misses one (not built by this builder) is refused."""
    built = derived.with_statements(sources_of(tmp_path, PROGRAM))
    city = ox.NamedNode(HR + "city")
    dropped = {
        q.subject
        for q in built.quads(("data",))
        if q.graph_name == derived.STATEMENTS_GRAPH and q.object == city
    }
    kept = [(f, tuple(q for q in f.quads if q.subject not in dropped)) for f in built.files]
    files = [SourceFile(f.path, f.role, f.graph, f.prefixes, quads) for f, quads in kept]
    problems = derived.statement_problems(Sources(files))
    assert [(name, t.predicate.value) for name, t in problems] == [
        ("StatementSourcedConstraintComponent", HR + "city")
    ]


def test_validation_reports_the_checks_at_the_subject(tmp_path: Path) -> None:
    data = PROGRAM + (
        "[] a rdf:Statement ; rdf:subject program:x ; rdf:predicate hr:service ;\n"
        '    rdf:object "Needles"@fr ; dct:source page:one .'
    )
    report = validate(sources_of(tmp_path, data))
    found = [
        r for r in report.results if r.constraint.endswith("StatementAssertedConstraintComponent")
    ]
    assert [(r.focus, r.path) for r in found] == [(f"{ID}program/x", HR + "service")]
    assert "n'affirme pas" in found[0].messages["fr"]


def test_closure_adds_superclasses_and_superproperties(tmp_path: Path) -> None:
    data = (
        f"<{ID}finding/n> a hr:Need .\n"
        f'<{ID}practice/p> a hr:Practice ; skos:prefLabel "P"@en .\n'
        f"program:x hr:operatedBy <{ID}organization/o> .\n"
    )
    added = {
        (q.subject.value, q.predicate.value, str(q.object))
        for q in derived.closure(sources_of(tmp_path, data))
    }
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    assert (f"{ID}finding/n", rdf_type, f"<{HR}Finding>") in added
    assert (f"{ID}finding/n", rdf_type, "<http://www.w3.org/ns/prov#Entity>") in added
    assert (f"{ID}practice/p", rdf_type, "<http://www.w3.org/2004/02/skos/core#Concept>") in added
    label = "http://www.w3.org/2000/01/rdf-schema#label"
    assert (f"{ID}practice/p", label, '"P"@en') in added
    assert (f"{ID}program/x", "https://schema.org/provider", f"<{ID}organization/o>") in added
    # nothing already asserted, nothing from a union's blank node
    assert not any(t[1] == rdf_type and t[2] == f"<{HR}Need>" for t in added)
    assert all(not t[2].startswith("_:") for t in added)
