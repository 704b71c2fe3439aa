"""Validate the sources against the shapes: pySHACL plus two checks SHACL cannot make on a merged
graph (a resource described in two places; a subject outside the base). Results carry the file and
line where the focus node is defined. The change feed is validated the same way, against its own
LDES shapes (`validate_feed`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pyshacl
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, SH, XSD
from rdflib.term import Node

from hrgraph.build import derived
from hrgraph.build.sources import Location, Sources
from hrgraph.config import CANONICAL_BASE

HRSH = Namespace(CANONICAL_BASE + "shapes#")
SEVERITIES = ("Violation", "Warning", "Info")
_XSD_STRING = str(XSD.string)


@dataclass(frozen=True)
class Result:
    severity: str
    focus: str
    path: str | None
    constraint: str
    messages: dict[str, str]
    value: str | None = None
    shape: str | None = None
    location: Location | None = None

    def message(self, lang: str = "en") -> str:
        return self.messages.get(lang) or next(iter(self.messages.values()), "")


@dataclass
class Report:
    results: list[Result]
    graph: Graph = field(repr=False)
    prefixes: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def conforms(self) -> bool:
        return self.count("Violation") == 0

    def count(self, severity: str) -> int:
        return sum(1 for r in self.results if r.severity == severity)

    def short(self, iri: str | None) -> str:
        if iri is None:
            return "-"
        best = max(
            ((p, ns) for p, ns in self.prefixes.items() if iri.startswith(ns) and p),
            key=lambda item: len(item[1]),
            default=None,
        )
        return f"{best[0]}:{iri[len(best[1]) :]}" if best else f"<{iri}>"

    def summary(self) -> str:
        verdict = "conforms" if self.conforms else "does not conform"
        return (
            f"{verdict}: {self.count('Violation')} violation(s), "
            f"{self.count('Warning')} warning(s), {self.count('Info')} info"
        )


def validate(sources: Sources, built: Sources | None = None) -> Report:
    """pySHACL on the sources as curators wrote them (their own statement nodes included), and
    the statement checks on the statement graph the builder derives from them (`built`, derived
    here when not given): validating the derived nodes with pySHACL too would cost four times
    the validation for nodes the builder makes one way."""
    data = to_rdflib(sources.quads(("ontology", "data")))
    shapes = to_rdflib(sources.quads(("shapes",)))
    _, report_graph, _ = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True
    )
    results = [
        *source_checks(sources),
        *statement_checks(built or derived.with_statements(sources)),
        *read_results(report_graph, shapes),
    ]
    about = derived.statement_subjects(sources)
    results = [_located(_at_subject(r, about), sources) for r in results]
    results.sort(key=lambda r: (SEVERITIES.index(r.severity), str(r.location), r.focus))
    add_results(report_graph, [r for r in results if r.constraint.startswith(str(HRSH))])
    return Report(results, report_graph, sources.prefixes)


#: The change feed's shapes (build/feed.py): part of the builder, not of the sources.
FEED_SHAPES = Path(__file__).parent / "shapes" / "ldes.ttl"


@cache
def _feed_shapes() -> Graph:
    return Graph().parse(FEED_SHAPES, format="turtle")


def validate_feed(quads: Iterable[ox.Quad]) -> Report:
    """The change feed's documents (their default graphs, merged) against the LDES shapes."""
    _, report_graph, _ = pyshacl.validate(
        to_rdflib(quads), shacl_graph=_feed_shapes(), inference="none", advanced=True
    )
    results = read_results(report_graph, _feed_shapes())
    results.sort(key=lambda r: (SEVERITIES.index(r.severity), r.focus))
    return Report(results, report_graph)


def to_rdflib(quads: Iterable[ox.Quad]) -> Graph:
    """The triples of `quads` as an rdflib Graph (for pySHACL). Terms repeat a lot (predicates,
    classes, shared objects), so each distinct term is converted once."""
    graph = Graph()
    add = graph.add
    cache: dict[object, Node] = {}

    def term(t: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Node:
        converted = cache.get(t)
        if converted is None:
            converted = cache[t] = _term(t)
        return converted

    for quad in quads:
        add((term(quad.subject), term(quad.predicate), term(quad.object)))
    return graph


def _term(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value, datatype=None if datatype == _XSD_STRING else URIRef(datatype))
    raise TypeError(f"RDF-star triple terms are not supported in sources: {term}")


def source_checks(sources: Sources) -> list[Result]:
    """Each resource described in one place; every data subject under <base>id/."""
    results: list[Result] = []
    for iri, places in sources.definitions.items():
        if len(places) > 1:
            others = ", ".join(str(p) for p in places[1:])
            results.append(
                Result(
                    "Violation",
                    iri,
                    None,
                    str(HRSH.DefinedOnceConstraintComponent),
                    {
                        "en": f"described in more than one place (also at {others}): two resources "
                        "share this IRI, or one is split; give each its own slug or merge them",
                        "fr": f"décrit à plus d'un endroit (aussi à {others}) : deux ressources "
                        "partagent cet IRI, ou une ressource est scindée ; donnez à chacune son "
                        "propre identifiant ou fusionnez-les",
                    },
                )
            )
    base = CANONICAL_BASE + "id/"
    seen: set[str] = set()
    for source in sources.files:
        if source.role != "data":
            continue
        for quad in source.quads:
            subject = quad.subject
            if isinstance(subject, ox.NamedNode) and not subject.value.startswith(base):
                if subject.value in seen:
                    continue
                seen.add(subject.value)
                results.append(
                    Result(
                        "Violation",
                        subject.value,
                        None,
                        str(HRSH.UnderBaseConstraintComponent),
                        {
                            "en": f"a resource in data/ needs an IRI {base}<type>/<slug>",
                            "fr": f"une ressource de data/ doit avoir un IRI {base}<type>/<slug>",
                        },
                    )
                )
    return results


def statement_checks(sources: Sources) -> list[Result]:
    """The checks of shapes/statements.ttl that relate a statement node to the rest of the graph
    (see that file): reported at the statement's subject, path and value."""
    found = derived.statement_problems(sources)
    return [
        Result(
            "Violation", s.value, p.value, str(HRSH[problem]), _STATEMENT_MESSAGES[problem], str(o)
        )
        for problem, (s, p, o) in found
    ]


_STATEMENT_MESSAGES = {
    "StatementAssertedConstraintComponent": {
        "en": "an rdf:Statement is about this triple, which data/ does not assert: write "
        "rdf:subject, rdf:predicate and rdf:object exactly as the triple is written (same "
        "literal, language and datatype)",
        "fr": "un rdf:Statement porte sur ce triplet, que data/ n'affirme pas : écrivez "
        "rdf:subject, rdf:predicate et rdf:object exactement comme le triplet (même littéral, "
        "langue et type)",
    },
    "OneStatementConstraintComponent": {
        "en": "more than one rdf:Statement is about this triple: give it one node, with all "
        "its sources",
        "fr": "plus d'un rdf:Statement porte sur ce triplet : donnez-lui un seul nœud, avec "
        "toutes ses sources",
    },
    "StatementSourcedConstraintComponent": {
        "en": "this statement needs a source and has no rdf:Statement with a dct:source "
        "(hrgraph build makes one for every statement of a resource with dct:source)",
        "fr": "cet énoncé exige une source et n'a pas de rdf:Statement avec une dct:source "
        "(hrgraph build en crée un pour chaque énoncé d'une ressource qui a une dct:source)",
    },
}


def read_results(report: Graph, shapes: Graph | None = None) -> list[Result]:
    results = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        severity = str(report.value(node, SH.resultSeverity) or SH.Violation).rsplit("#", 1)[-1]
        messages = _messages(report, node, shapes)
        path, value, shape = (
            report.value(node, p) for p in (SH.resultPath, SH.value, SH.sourceShape)
        )
        results.append(
            Result(
                severity,
                str(report.value(node, SH.focusNode)),
                str(path) if isinstance(path, URIRef) else None,
                str(report.value(node, SH.sourceConstraintComponent)),
                messages,
                None if value is None else str(value),
                str(shape) if isinstance(shape, URIRef) else None,
            )
        )
    return results


def _messages(report: Graph, node: Node, shapes: Graph | None) -> dict[str, str]:
    """A result's messages by language. pySHACL 0.40 copies a SPARQL constraint's sh:message
    without its language tag, so those are read from the constraint in the shapes graph."""
    found = [m for m in report.objects(node, SH.resultMessage) if isinstance(m, Literal)]
    constraint = report.value(node, SH.sourceConstraint)
    if shapes is not None and constraint is not None and not any(m.language for m in found):
        tagged = [m for m in shapes.objects(constraint, SH.message) if isinstance(m, Literal)]
        found = tagged or found
    return {(m.language or "en"): str(m) for m in found}


def _at_subject(result: Result, about: dict[str, tuple[str, str]]) -> Result:
    """A result on a statement node (a blank node) is reported at the statement's subject, and
    says which of its statements."""
    if result.focus not in about:
        return result
    subject, predicate = about[result.focus]
    messages = {
        lang: f"{_STATEMENT_OF[lang]} <{predicate}>: {text}"
        for lang, text in result.messages.items()
    }
    return Result(**{**result.__dict__, "focus": subject, "messages": messages})


_STATEMENT_OF = {"en": "the rdf:Statement of its", "fr": "le rdf:Statement de son énoncé"}


def _located(result: Result, sources: Sources) -> Result:
    location = sources.locate(result.focus)
    if location is None:
        return result
    return Result(**{**result.__dict__, "location": location})


def add_results(graph: Graph, results: list[Result]) -> None:
    """Write hrgraph's own source-check results into the SHACL report graph."""
    report = next(graph.subjects(RDF.type, SH.ValidationReport), None)
    for result in results:
        node = BNode()
        graph.add((node, RDF.type, SH.ValidationResult))
        graph.add((node, SH.resultSeverity, SH[result.severity]))
        graph.add((node, SH.focusNode, URIRef(result.focus)))
        graph.add((node, SH.sourceConstraintComponent, URIRef(result.constraint)))
        for lang, text in result.messages.items():
            graph.add((node, SH.resultMessage, Literal(text, lang=lang)))
        if report is not None:
            graph.add((report, SH.result, node))
            if result.severity == "Violation":
                graph.set((report, SH.conforms, Literal(False)))


def render_text(report: Report, lang: str = "en") -> str:
    lines = []
    for r in report.results:
        where = str(r.location) if r.location else "(no defining line)"
        lines.append(f"{r.severity:<9} {where}  {report.short(r.focus)}  {report.short(r.path)}")
        lines.append(f"          {r.message(lang)}")
    lines.append(report.summary())
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    return (
        json.dumps(
            {
                "conforms": report.conforms,
                "violations": report.count("Violation"),
                "warnings": report.count("Warning"),
                "results": [
                    {
                        "severity": r.severity,
                        "focusNode": r.focus,
                        "path": r.path,
                        "constraint": r.constraint,
                        "shape": r.shape,
                        "value": r.value,
                        "message": r.messages,
                        "file": str(r.location.path) if r.location else None,
                        "line": r.location.line if r.location else None,
                    }
                    for r in report.results
                ],
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )


def render_turtle(report: Report) -> str:
    report.graph.bind("sh", SH)
    report.graph.bind("hrsh", HRSH)
    return report.graph.serialize(format="turtle")
