"""What the builder derives from the sources: statement-level provenance and the model's closure.

Provenance is RDF reification, which every SPARQL 1.1 engine queries and pySHACL validates: every
statement (s p o) of a resource with `dct:source` whose predicate needs a source (all but those
the ontology marks `hr:sourced false`) gets one node in the graph <graph/statements>:

    [] a rdf:Statement ; rdf:subject s ; rdf:predicate p ; rdf:object o ;
       dct:source <page or document>+ ; hr:certainty "confirmed" | "uncertain" .

Its sources are the resource's, unless data/ holds an rdf:Statement for that triple
(data/statements.ttl) that names its own; its certainty is that node's, else the resource's
`hr:certainty`, else "confirmed". Authored nodes leave their file's graph, so a release has one
node per statement and the shapes (shapes/statements.ttl) check them all.

The closure adds, in <graph/inferred>, the superclasses of every type and the superproperties of
every statement that the ontology declares (rdfs:subClassOf, rdfs:subPropertyOf, transitively),
where not already asserted: `?x a hr:Finding` then finds the needs too, and `?x rdfs:label` the
concepts' labels (SKOS: skos:prefLabel is a kind of rdfs:label). It is computed after
validation (the shapes check what curators write: one type per resource).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from hrgraph.build.sources import SourceFile, Sources
from hrgraph.config import CANONICAL_BASE
from hrgraph.vocab import DCT, HR, INFERRED_PATH, RDF, RDF_TYPE, RDFS, STATEMENTS_PATH, XSD

STATEMENTS_GRAPH = ox.NamedNode(CANONICAL_BASE + STATEMENTS_PATH)
INFERRED_GRAPH = ox.NamedNode(CANONICAL_BASE + INFERRED_PATH)

TYPE = ox.NamedNode(RDF_TYPE)
STATEMENT = ox.NamedNode(RDF + "Statement")
SUBJECT, PREDICATE, OBJECT = (ox.NamedNode(RDF + n) for n in ("subject", "predicate", "object"))
SOURCE = ox.NamedNode(DCT + "source")
CERTAINTY = ox.NamedNode(HR + "certainty")
SOURCED = ox.NamedNode(HR + "sourced")
CONFIRMED = ox.Literal("confirmed")
FALSE = ox.Literal("false", datatype=ox.NamedNode(XSD + "boolean"))
SUBCLASS = ox.NamedNode(RDFS + "subClassOf")
SUBPROPERTY = ox.NamedNode(RDFS + "subPropertyOf")
#: What a statement node is made of; anything else on an authored node (its notes) is kept.
STRUCTURE = frozenset({TYPE, SUBJECT, PREDICATE, OBJECT, SOURCE, CERTAINTY})

Node = ox.NamedNode | ox.BlankNode
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
#: A resource's (or a node's) values by predicate.
Values = dict[ox.NamedNode, list[Term]]


def with_statements(sources: Sources) -> Sources:
    """`sources` with the authored rdf:Statement nodes replaced by the whole statement graph
    (as they are when they already hold it)."""
    if any(source.graph == STATEMENTS_GRAPH for source in sources.files):
        return sources
    data = list(sources.quads(("data",)))
    authored = _authored(data)
    taken = set(authored.values())
    files = [_without(source, taken) for source in sources.files]
    quads = tuple(_statements(data, authored, _exempt(sources)))
    built = SourceFile(Path("(built) statements"), "data", STATEMENTS_GRAPH, {}, quads)
    return Sources([*files, built], sources.definitions)


def closure(sources: Sources) -> list[ox.Quad]:
    """The types and statements the ontology's subclass and subproperty axioms add."""
    ontology = list(sources.quads(("ontology",)))
    classes, properties = _ancestors(ontology, SUBCLASS), _ancestors(ontology, SUBPROPERTY)
    data = [q.triple for q in sources.quads(("data",)) if q.graph_name != STATEMENTS_GRAPH]
    added: dict[ox.Triple, None] = {}
    for s, p, o in ((t.subject, t.predicate, t.object) for t in data):
        if isinstance(s, ox.Triple):
            continue
        if p == TYPE and isinstance(o, ox.NamedNode):
            added.update(dict.fromkeys(ox.Triple(s, TYPE, c) for c in classes.get(o, ())))
        added.update(dict.fromkeys(ox.Triple(s, q, o) for q in properties.get(p, ())))
    asserted = set(data)
    return [
        ox.Quad(t.subject, t.predicate, t.object, INFERRED_GRAPH)
        for t in added
        if t not in asserted
    ]


def statement_problems(sources: Sources) -> list[tuple[str, ox.Triple]]:
    """What is wrong with the statement graph, as (constraint component, triple): a node about
    an unasserted triple, two nodes about one triple, a statement that needs a source and has
    no node with one. Set lookups: as SHACL-SPARQL in rdflib these take minutes."""
    data = list(sources.quads(("data",)))
    every = _nodes(data)  # the built graph's, and any authored one left in its file
    nodes: dict[ox.Triple, list[Node]] = defaultdict(list)
    for node, values in every.items():
        if values.get(SOURCE) and _well_formed(values):
            nodes[_about(values)].append(node)
    rest = [q.triple for q in data if q.subject not in every]
    asserted = set(rest)
    problems = [("StatementAssertedConstraintComponent", t) for t in nodes if t not in asserted]
    problems += [("OneStatementConstraintComponent", t) for t, n in nodes.items() if len(n) > 1]
    sourced = {t.subject for t in rest if t.predicate == SOURCE}
    exempt = _exempt(sources)
    problems += [
        ("StatementSourcedConstraintComponent", t)
        for t in rest
        if t.subject in sourced and _needs_node(t, exempt) and t not in nodes
    ]
    return sorted(problems, key=str)


def statement_subjects(sources: Sources) -> dict[str, tuple[str, str]]:
    """Each blank statement node's label -> the IRIs of its subject and predicate."""
    found: dict[str, tuple[str, str]] = {}
    for node, values in _nodes(sources.quads(("data",))).items():
        s, p = values.get(SUBJECT, [None])[0], values.get(PREDICATE, [None])[0]
        if isinstance(node, ox.BlankNode) and isinstance(s, ox.NamedNode):
            found[node.value] = (s.value, p.value if isinstance(p, ox.NamedNode) else "")
    return found


def _exempt(sources: Sources) -> frozenset[Term]:
    """The predicates the ontology marks `hr:sourced false`."""
    ontology = sources.quads(("ontology",))
    return frozenset(q.subject for q in ontology if q.predicate == SOURCED and q.object == FALSE)


def _needs_node(triple: ox.Triple, exempt: frozenset[Term]) -> bool:
    return isinstance(triple.subject, ox.NamedNode) and triple.predicate not in exempt


def _nodes(quads: Iterable[ox.Quad]) -> dict[Node, Values]:
    """The rdf:Statement nodes among `quads`, each with its values."""
    values: dict[Node, Values] = defaultdict(lambda: defaultdict(list))
    typed = []
    for quad in quads:
        if quad.predicate == TYPE and quad.object == STATEMENT:
            typed.append(quad.subject)
        values[quad.subject][quad.predicate].append(quad.object)  # type: ignore[index]
    return {node: values[node] for node in typed if isinstance(node, Node)}


def _about(values: Values) -> ox.Triple:
    """The triple a well-formed node is about (one IRI subject, one IRI predicate, one object)."""
    s, p, o = (values.get(part, []) for part in (SUBJECT, PREDICATE, OBJECT))
    return ox.Triple(s[0], p[0], o[0])  # type: ignore[arg-type]


def _well_formed(values: Values) -> bool:
    s, p, o = (values.get(part, []) for part in (SUBJECT, PREDICATE, OBJECT))
    return (
        len(s) == len(p) == len(o) == 1
        and isinstance(s[0], ox.NamedNode)
        and isinstance(p[0], ox.NamedNode)
    )


def _authored(data: list[ox.Quad]) -> dict[ox.Triple, Node]:
    """The well-formed rdf:Statement nodes of data/ by the triple they are about (the first of
    several: the others stay where they are, and the checks report two nodes for one triple)."""
    found: dict[ox.Triple, Node] = {}
    for node, values in _nodes(data).items():
        if _well_formed(values):
            found.setdefault(_about(values), node)
    return found


def _without(source: SourceFile, taken: set[Node]) -> SourceFile:
    if source.role != "data" or not any(q.subject in taken for q in source.quads):
        return source
    kept = tuple(q for q in source.quads if q.subject not in taken)
    return SourceFile(source.path, source.role, source.graph, source.prefixes, kept)


def _statements(
    data: list[ox.Quad], authored: dict[ox.Triple, Node], exempt: frozenset[Term]
) -> Iterator[ox.Quad]:
    taken = set(authored.values())
    values: dict[Term, Values] = defaultdict(lambda: defaultdict(list))
    for quad in data:
        if quad.subject in taken or quad.predicate in (SOURCE, CERTAINTY):
            values[quad.subject][quad.predicate].append(quad.object)
    pending = dict(authored)
    for number, triple in enumerate(dict.fromkeys(q.triple for q in data), 1):
        resource = values.get(triple.subject, {})
        if triple.subject in taken or not resource.get(SOURCE) or not _needs_node(triple, exempt):
            continue
        node = pending.pop(triple, None)
        own: Values = values[node] if node is not None else {}
        yield from _node(
            node or ox.BlankNode(f"st{number}"),
            triple,
            own.get(SOURCE) or resource[SOURCE],
            (own.get(CERTAINTY) or resource.get(CERTAINTY) or [CONFIRMED])[0],
            {p: v for p, v in own.items() if p not in STRUCTURE},
        )
    # An authored node about no asserted triple is kept as written: the checks report it.
    for node in pending.values():
        yield from (
            ox.Quad(node, p, v, STATEMENTS_GRAPH) for p, vs in values[node].items() for v in vs
        )


def _node(
    node: Node, triple: ox.Triple, sources: list[Term], certainty: Term, notes: Values
) -> Iterator[ox.Quad]:
    graph = STATEMENTS_GRAPH
    yield ox.Quad(node, TYPE, STATEMENT, graph)
    yield ox.Quad(node, SUBJECT, triple.subject, graph)
    yield ox.Quad(node, PREDICATE, triple.predicate, graph)
    yield ox.Quad(node, OBJECT, triple.object, graph)
    yield from (ox.Quad(node, SOURCE, source, graph) for source in sources)
    yield ox.Quad(node, CERTAINTY, certainty, graph)
    yield from (ox.Quad(node, p, v, graph) for p, vs in notes.items() for v in vs)


def _ancestors(quads: Iterable[ox.Quad], relation: ox.NamedNode) -> dict[Term, list[ox.NamedNode]]:
    """Each term's ancestors by `relation`, nearest first (a union's blank node adds none)."""
    parents: dict[Term, list[ox.NamedNode]] = defaultdict(list)
    for quad in quads:
        if quad.predicate == relation and isinstance(quad.object, ox.NamedNode):
            parents[quad.subject].append(quad.object)
    found: dict[Term, list[ox.NamedNode]] = {}
    for term in parents:
        seen: dict[ox.NamedNode, None] = {}
        todo = sorted(parents[term], key=str)
        while todo:
            parent = todo.pop(0)
            if parent not in seen and parent != term:
                seen[parent] = None
                todo += sorted(parents.get(parent, ()), key=str)
        found[term] = list(seen)
    return found
