"""The one table of kinds (src/hrgraph/kinds.py) against the ontology and the data: every class of
the ontology is in exactly one kind, every kind's classes exist, and resources' IRIs use their
kind's segment."""

from __future__ import annotations

from pathlib import Path

from rdflib import OWL, RDF, Graph

from hrgraph.kinds import KINDS, SEGMENTS, class_iris, kinds_of_classes
from hrgraph.vocab import HR

ROOT = Path(__file__).resolve().parents[1]


def ontology_classes() -> set[str]:
    graph = Graph().parse(ROOT / "ontology" / "hrgraph.ttl")
    return {str(c) for c in graph.subjects(RDF.type, OWL.Class) if str(c).startswith(HR)}


def test_every_class_of_the_ontology_is_in_exactly_one_kind() -> None:
    classes = ontology_classes()
    assert len(classes) > 20  # the ontology was read
    listed = [cls for kind in KINDS for cls in class_iris(kind, HR) if cls.startswith(HR)]
    assert sorted(listed) == sorted(classes)  # no class missing, none twice, none invented


def test_resources_use_their_kinds_segment() -> None:
    data = Graph()
    for path in sorted((ROOT / "data").glob("*.ttl")):
        data.parse(path)
    of_class = {cls: kind for kind in KINDS for cls in class_iris(kind, HR)}
    typed = [(s, o) for s, o in data.subject_objects(RDF.type) if str(o) in of_class]
    assert len(typed) > 300
    for subject, cls in typed:
        segment = of_class[str(cls)].segment
        assert f"/id/{segment}/" in str(subject), f"{subject} is a {cls}: expected id/{segment}/"


def test_the_derived_tables_agree() -> None:
    names = kinds_of_classes(HR)
    assert names[HR + "Need"] == "need" and names[HR + "Symposium"] == "consultation"
    assert len(SEGMENTS) == len(set(SEGMENTS)) and "finding" in SEGMENTS
