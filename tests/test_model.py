"""The model documents itself (issue 10, item 3): every predicate of a release is described by
the ontology or comes from a standard vocabulary; hr: properties' domains and ranges hold on the
data; the release's closure makes the obvious queries return everything; and every sourced
statement can be asked for its page and certainty in plain SPARQL 1.1."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest

HR = "https://w3id.org/hrgraph/ontology#"
ONTOLOGY = "https://w3id.org/hrgraph/ontology"
#: Vocabularies whose terms may appear only through the closure (superproperties of ours).
STANDARD = (
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://www.w3.org/2000/01/rdf-schema#",
    "http://www.w3.org/2002/07/owl#",
    "http://www.w3.org/2004/02/skos/core#",
    "http://purl.org/dc/terms/",
    "https://schema.org/",
    "http://www.w3.org/ns/prov#",
    "http://www.w3.org/ns/org#",
    "http://www.w3.org/2003/01/geo/wgs84_pos#",
    "http://purl.org/vocab/vann/",
)


@cache
def release_store(release: Path) -> ox.Store:
    store = ox.Store()
    store.bulk_load(path=str(release / "hrgraph.trig"), format=ox.RdfFormat.TRIG)
    return store


@pytest.fixture
def store(shipped_release: Path) -> ox.Store:
    return release_store(shipped_release)


PREFIXES = f"""PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX hr: <{HR}>
PREFIX graph: <https://w3id.org/hrgraph/graph/>
"""


def select(store: ox.Store, query: str) -> list[dict[str, str]]:
    solutions = store.query(PREFIXES + query, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    names = [v.value for v in solutions.variables]
    return [
        {n: str(getattr(s[n], "value", s[n])) for n in names if s[n] is not None} for s in solutions
    ]


def count(store: ox.Store, query: str) -> int:
    return int(select(store, query)[0]["n"])


def test_every_predicate_is_described(store: ox.Store) -> None:
    """Asserted in data/ or in the statement graph: described by the ontology (an EN and a FR
    label, rdfs:isDefinedBy). Added by the closure only: a term of a standard vocabulary."""
    rows = select(
        store,
        """SELECT DISTINCT ?p ?g WHERE {
          GRAPH ?g { ?s ?p ?o }
          FILTER(STRSTARTS(STR(?g), "https://w3id.org/hrgraph/graph/data/")
                 || ?g IN (graph:statements, graph:inferred))
          FILTER NOT EXISTS {
            GRAPH <https://w3id.org/hrgraph/graph/ontology/hrgraph> {
              ?p rdfs:label ?en , ?fr ; rdfs:isDefinedBy ?by .
              FILTER(LANG(?en) = "en" && LANG(?fr) = "fr") } } }""",
    )
    undescribed = {r["p"] for r in rows if not r["g"].endswith("/inferred")}
    assert not undescribed, f"predicates not described in the ontology: {sorted(undescribed)}"
    inferred = {r["p"] for r in rows}
    assert inferred, "the closure adds no predicate (test would pass vacuously)"
    assert all(p.startswith(STANDARD) for p in inferred), sorted(inferred)


def _classes(store: ox.Store, term: str, role: str) -> set[str]:
    """The classes of a property's domain or range: one class, or the members of its union."""
    rows = select(
        store,
        f"""SELECT ?c WHERE {{ <{term}> rdfs:{role} ?d .
          OPTIONAL {{ ?d owl:unionOf/rdf:rest*/rdf:first ?member }}
          BIND(COALESCE(?member, ?d) AS ?c) }}""",
    )
    return {r["c"] for r in rows}


def _properties(store: ox.Store, kind: str) -> list[str]:
    rows = select(
        store,
        f"""SELECT ?p WHERE {{ ?p a <http://www.w3.org/2002/07/owl#{kind}>
          FILTER(STRSTARTS(STR(?p), "{HR}")) }}""",
    )
    return sorted(r["p"] for r in rows)


def test_object_properties_domains_and_ranges_hold(store: ox.Store) -> None:
    properties = _properties(store, "ObjectProperty")
    assert len(properties) >= 15
    for prop in properties:
        for role, var in (("domain", "s"), ("range", "o")):
            classes = _classes(store, prop, role)
            assert classes, f"{prop} has no {role}"
            if classes == {"http://www.w3.org/2000/01/rdf-schema#Resource"}:
                continue
            values = " ".join(f"<{c}>" for c in classes)
            outside = select(
                store,
                f"""SELECT DISTINCT ?{var} WHERE {{ ?s <{prop}> ?o
                  FILTER NOT EXISTS {{ VALUES ?c {{ {values} }} ?{var} a ?c }} }}""",
            )
            assert not outside, f"{prop}: {role} {sorted(classes)} misses {outside[:3]}"


def test_datatype_properties_ranges_hold(store: ox.Store, shipped_release: Path) -> None:
    """Read from the dump: the store keeps xsd:positiveInteger values as xsd:integer."""
    xsd = "http://www.w3.org/2001/XMLSchema#"
    accepted = {xsd + "decimal": {xsd + "decimal", xsd + "integer"}}
    types: dict[str, set[str]] = {}
    for quad in ox.parse(path=shipped_release / "hrgraph.nt", format=ox.RdfFormat.N_TRIPLES):
        if isinstance(quad.object, ox.Literal):
            datatype = quad.object.datatype.value
            types.setdefault(quad.predicate.value, set()).add(datatype)
    for prop in _properties(store, "DatatypeProperty"):
        ranges = _classes(store, prop, "range")
        allowed = set().union(*(accepted.get(r, {r}) for r in ranges))
        found = types.get(prop, set())
        assert ranges and found <= allowed, f"{prop}: range {ranges}, values {found}"


def test_needs_are_findings_and_concepts_have_labels(store: ox.Store) -> None:
    findings = count(store, f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a <{HR}Finding> }}")
    needs = count(store, f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a <{HR}Need> }}")
    asserted = count(
        store,
        f"""SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{
          GRAPH ?g {{ ?x a <{HR}Finding> }} FILTER(?g != graph:inferred) }}""",
    )
    assert needs > 0 and findings == asserted + needs
    unlabelled = count(
        store,
        """SELECT (COUNT(?c) AS ?n) WHERE { ?c a <http://www.w3.org/2004/02/skos/core#Concept>
          FILTER NOT EXISTS { ?c <http://www.w3.org/2000/01/rdf-schema#label> ?l } }""",
    )
    concepts = count(
        store,
        "SELECT (COUNT(?c) AS ?n) WHERE { ?c a <http://www.w3.org/2004/02/skos/core#Concept> }",
    )
    assert concepts > 50 and unlabelled == 0


def test_which_page_says_this(store: ox.Store) -> None:
    """The README's query pattern: every sourced statement of a program has a page, and a
    statement's certainty is its own."""
    rows = select(
        store,
        """SELECT ?program ?p ?o ?page ?certainty WHERE {
          ?program a hr:Program ; ?p ?o .
          ?st rdf:subject ?program ; rdf:predicate ?p ; rdf:object ?o ;
              dct:source ?page ; hr:certainty ?certainty .
        }""",
    )
    assert rows
    assert {r["certainty"] for r in rows} <= {"confirmed", "uncertain"}
    missing = select(
        store,
        """SELECT ?program ?p WHERE {
          GRAPH ?g { ?program a hr:Program ; ?p ?o }
          FILTER(?g != graph:inferred) FILTER NOT EXISTS { ?p hr:sourced false }
          FILTER NOT EXISTS { ?st rdf:subject ?program ; rdf:predicate ?p ; rdf:object ?o ;
                                  dct:source ?page } }""",
    )
    assert not missing, missing[:5]


def test_the_readme_query_answers(store: ox.Store) -> None:
    """The README's "which page says this?" query, as printed there, gives Oasis's services,
    each with a page of the French edition and a certainty."""
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("**Which page says this?**", 1)[1]
    query = section.split("```sparql", 1)[1].split("```", 1)[0]
    solutions = store.query(query, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    rows = list(solutions)
    assert rows
    assert all(row["page"] is not None and row["certainty"] is not None for row in rows)
    assert {str(row["language"].value) for row in rows if row["language"] is not None} == {"fr"}
