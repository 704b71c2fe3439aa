"""The data dictionary (build.dictionary): built from the shipped sources, checked against the
shapes and the ontology read here with rdflib and SPARQL, and against counts of the data made
here independently; and its files (Markdown, HTML, CSV, JSON) as the release holds them."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from rdflib import Graph, Literal, URIRef

from hrgraph.build import dictionary
from hrgraph.build.dictionary import ClassEntry, Dictionary, Property, build_dictionary
from hrgraph.build.sources import Sources, load_sources
from hrgraph.build.validation import to_rdflib
from hrgraph.config import load_settings
from hrgraph.pages import dictionary as page
from hrgraph.pages import i18n

ROOT = Path(__file__).resolve().parents[2]
HR = "https://w3id.org/hrgraph/ontology#"
HRSH = "https://w3id.org/hrgraph/shapes#"
SHAPES_PREFIXES = """PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX hr: <https://w3id.org/hrgraph/ontology#>
PREFIX hrsh: <https://w3id.org/hrgraph/shapes#>
"""
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = URIRef("http://www.w3.org/2000/01/rdf-schema#label")
DEFINITION = URIRef("http://www.w3.org/2004/02/skos/core#definition")
#: French typography: what must follow a no-break space (U+00A0 or U+202F), never a plain one.
FRENCH_PUNCTUATION = re.compile(r"(.)([:;?!%])(?=[\s)]|$)")


@pytest.fixture(scope="module")
def shipped() -> Sources:
    return load_sources(load_settings({"sources": str(ROOT)}, environ={}))


@pytest.fixture(scope="module")
def prefixes(shipped: Sources) -> dict[str, str]:
    return {p: ns for p, ns in sorted(shipped.prefixes.items()) if p}


@pytest.fixture(scope="module")
def model(shipped: Sources, prefixes: dict[str, str]) -> Dictionary:
    return build_dictionary(list(shipped.quads()), prefixes, "test")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    """The shapes as the files say them (not through the builder's reading)."""
    graph = Graph()
    for path in sorted((ROOT / "shapes").glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


@pytest.fixture(scope="module")
def knowledge(shipped: Sources) -> Graph:
    """The ontology and the data (what the release holds but the shapes), for counting."""
    return to_rdflib(q for q in shipped.quads() if "/graph/shapes/" not in str(q.graph_name))


@pytest.fixture(scope="module")
def files(shipped: Sources, prefixes: dict[str, str]) -> dict[str, bytes]:
    return {name: data for name, _, data, _ in dictionary.files(shipped.quads(), prefixes, "t")}


def entry(model: Dictionary, cls: str) -> ClassEntry:
    return next(c for c in model.classes if c.term.iri == cls)


def prop(model: Dictionary, cls: str, path: str) -> Property:
    return next(p for p in entry(model, cls).properties if p.term.iri == path)


def integer(value: object) -> int | None:
    return None if value is None else int(str(value))


# --- the model -------------------------------------------------------------------------------


def test_every_class_shape_has_its_class(model: Dictionary, shapes: Graph) -> None:
    """A class's node shape: one sh:targetClass, with property shapes or closed (shapes/README)."""
    rows = shapes.query(
        SHAPES_PREFIXES
        + """SELECT ?class WHERE {
          ?shape sh:targetClass ?class FILTER EXISTS { ?shape sh:property|sh:closed ?any }
          FILTER NOT EXISTS { ?shape sh:targetClass ?other FILTER(?other != ?class) } }"""
    )
    targets = {str(row[0]) for row in rows}
    assert len(targets) >= 19
    assert {c.term.iri for c in model.classes} == targets
    closed = shapes.query(
        SHAPES_PREFIXES + "SELECT ?c WHERE { ?s sh:closed true ; sh:targetClass ?c }"
    )
    assert {str(row[0]) for row in closed} <= targets  # every closed shape's class


@pytest.mark.parametrize(
    ("shape", "cls", "path"),
    [
        ("CityShape", HR + "City", HR + "province"),
        ("CityShape", HR + "City", "http://www.w3.org/2003/01/geo/wgs84_pos#lat"),
        ("ProgramShape", HR + "Program", HR + "city"),
        ("ProgramShape", HR + "Program", HR + "operatedBy"),
        ("FindingShape", HR + "Finding", HR + "fromConsultation"),
        ("DocumentPageShape", HR + "DocumentPage", HR + "printedPage"),
        ("FigureShape", HR + "Figure", HR + "value"),
    ],
)
def test_cardinality_is_the_shapes(
    model: Dictionary, shapes: Graph, shape: str, cls: str, path: str
) -> None:
    rows = list(
        shapes.query(
            SHAPES_PREFIXES
            + f"""SELECT ?p ?min ?max WHERE {{ <{HRSH}{shape}> sh:property ?p . ?p sh:path <{path}>
              OPTIONAL {{ ?p sh:minCount ?min }} OPTIONAL {{ ?p sh:maxCount ?max }} }}"""
        )
    )
    assert len(rows) == 1
    _, low, high = rows[0]
    found = prop(model, cls, path)
    assert (found.min_count, found.max_count) == (integer(low) or 0, integer(high))
    assert found.cardinality == f"{found.min_count}..{found.max_count or '*'}"


def test_shared_property_shapes_count(model: Dictionary, shapes: Graph) -> None:
    """Optional properties listed in sh:ignoredProperties take their rule from the shared shape
    that targets their subjects (schema:startDate: at most one)."""
    start = URIRef("https://schema.org/startDate")
    shared = shapes.value(
        predicate=URIRef("http://www.w3.org/ns/shacl#targetSubjectsOf"), object=start
    )
    most = shapes.value(shared, URIRef("http://www.w3.org/ns/shacl#maxCount"))
    found = prop(model, HR + "Program", str(start))
    assert (found.min_count, found.max_count) == (0, integer(most))
    assert ("xsd:date", "xsd:gYearMonth", "xsd:gYear") in found.allowed


def test_labels_count_per_language(model: Dictionary) -> None:
    """One English label required (so 1..*), one French label expected (a Warning)."""
    label = prop(model, HR + "Program", str(LABEL))
    assert label.min_count == 1 and label.max_count is None
    assert label.notes["en"] == "@en: 1..1; @fr: 1..1 (expected)"
    assert label.notes["fr"] == "@en\u00a0: 1..1\u00a0; @fr\u00a0: 1..1 (attendu)"


def test_values_are_the_shapes_datatypes_and_classes(model: Dictionary, shapes: Graph) -> None:
    """Each sh:datatype and sh:class of a class shape's own property shape is among its values."""
    rows = shapes.query(
        SHAPES_PREFIXES
        + """SELECT ?class ?path ?value WHERE {
          ?shape sh:targetClass ?class ; sh:closed true ; sh:property ?p .
          ?p sh:path ?path ; sh:datatype|sh:class ?value }"""
    )
    checked = 0
    for cls, path, value in rows:
        if str(path).endswith("#type"):
            continue
        allowed = {v for group in prop(model, str(cls), str(path)).allowed for v in group}
        local = str(value).rpartition("#")[2].rpartition("/")[2]
        assert any(v.endswith(":" + local) for v in allowed), (cls, path, value, allowed)
        checked += 1
    assert checked > 20


def test_fill_rates_match_a_sparql_count(model: Dictionary, knowledge: Graph) -> None:
    for cls in model.classes:
        members = f"?s a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{cls.term.iri}>"
        total = knowledge.query(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {members} }}")
        assert cls.instances == int(next(iter(total))[0]), cls.term.name
        rows = knowledge.query(
            f"SELECT ?p (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {members} . ?s ?p ?o }} GROUP BY ?p"
        )
        counted = {str(p): int(n) for p, n in rows}
        for p in cls.properties:
            assert p.filled == counted.get(p.term.iri, 0), (cls.term.name, p.term.name)
            if cls.instances:
                share = f"{100 * p.filled / cls.instances:.1f}".removesuffix(".0")
                assert p.fill["en"] == f"{p.filled}/{cls.instances} ({share}%)"
                french = share.replace(".", ",")
                assert p.fill["fr"] == f"{p.filled}/{cls.instances} ({french}\u00a0%)"


def test_subclass_instances_count_for_the_class(model: Dictionary, knowledge: Graph) -> None:
    """Needs are findings (hr:Need rdfs:subClassOf hr:Finding), as sh:targetClass sees them."""
    finding = entry(model, HR + "Finding")
    needs = len(set(knowledge.subjects(URIRef(RDF_TYPE), URIRef(HR + "Need"))))
    findings = len(set(knowledge.subjects(URIRef(RDF_TYPE), URIRef(HR + "Finding"))))
    assert needs and finding.instances == needs + findings
    assert [s.anchor for s in finding.subclasses] == ["Need"]


def test_labels_and_definitions_come_from_the_ontology(model: Dictionary, knowledge: Graph) -> None:
    """The ontology's label and definition in each language; a term it does not label (yet) is
    named by its compact name (a class: by its shape's label)."""
    terms = [c.term for c in model.classes] + [p.term for c in model.classes for p in c.properties]
    for term in terms:
        for lang in ("en", "fr"):
            said = literals(knowledge, term.iri, LABEL, lang)
            if said:
                assert term.label[lang] in said, (term.name, lang)
            elif not literals(knowledge, term.iri, LABEL, "en"):
                assert term.label[lang] in (term.name, entry_label(model, term.iri, lang))
            if term.iri.startswith(HR):  # the ontology labels and defines all its own terms
                assert said, (term.name, lang)
                assert term.definition[lang] in literals(knowledge, term.iri, DEFINITION, lang)
    program = entry(model, HR + "Program").term
    assert (program.label["en"], program.label["fr"]) == ("Program", "Programme")
    assert program.anchor == "Program"


def literals(graph: Graph, iri: str, predicate: URIRef, lang: str) -> set[str]:
    return {
        str(o)
        for o in graph.objects(URIRef(iri), predicate)
        if isinstance(o, Literal) and o.language == lang
    }


def entry_label(model: Dictionary, iri: str, lang: str) -> str:
    """A class the ontology does not label (skos:ConceptScheme) is named by its shape."""
    found = [c for c in model.classes if c.term.iri == iri]
    return found[0].term.label[lang] if found else ""


def test_examples_are_the_smallest_values(model: Dictionary, knowledge: Graph) -> None:
    for cls in model.classes:
        for p in cls.properties:
            assert bool(p.example["en"]) == (p.filled > 0), (cls.term.name, p.term.name)
            assert len(p.example["en"]) <= dictionary.EXAMPLE_LENGTH
    city = prop(model, HR + "Program", HR + "city")
    values = knowledge.query(
        f"SELECT (MIN(STR(?c)) AS ?m) WHERE {{ ?p a <{HR}Program> ; <{HR}city> ?c }}"
    )
    smallest = str(next(iter(values))[0])
    assert city.example["en"] == "city:" + smallest.rpartition("/")[2]
    label = prop(model, HR + "Program", str(LABEL))
    programs = knowledge.subjects(URIRef(RDF_TYPE), URIRef(HR + "Program"))
    french = {text for s in programs for text in literals(knowledge, str(s), LABEL, "fr")}
    assert label.example["fr"] == shortened(min(french))


def shortened(text: str) -> str:
    """One line of at most EXAMPLE_LENGTH characters, cut with an ellipsis."""
    text, most = " ".join(text.split()), dictionary.EXAMPLE_LENGTH
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


def test_rules_are_the_other_shapes_messages(model: Dictionary) -> None:
    program = entry(model, HR + "Program")
    assert any("hr:operatedBy" in rule for rule in program.rules["en"])
    assert len(program.rules["fr"]) == len(program.rules["en"]) >= 1
    assert len(entry(model, HR + "City").rules["en"]) == 2  # CityCodesShape's two SPARQL


def test_index_names_every_property_once(model: Dictionary) -> None:
    names = [u.term.name for u in model.index]
    assert names == sorted(set(names))
    city = next(u for u in model.index if u.term.iri == HR + "city")
    assert city.term.anchor == "city"  # /ontology#city lands on it
    assert "Program" in {c.anchor for c in city.classes}


# --- the files -------------------------------------------------------------------------------


def test_markdown_has_one_section_per_class(model: Dictionary, files: dict[str, bytes]) -> None:
    for lang in ("en", "fr"):
        text = files[f"dictionary.{lang}.md"].decode()
        headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
        assert len(headings) == len(model.classes) + 1  # and the index of properties
        for cls, heading in zip(model.classes, headings, strict=False):
            assert f"(`{cls.term.name}`)" in heading and cls.term.label[lang] in heading
            assert f'<a id="{cls.term.anchor}"></a>' in text
        tables = [line for line in text.splitlines() if line.startswith("| ")]
        rows = sum(len(c.properties) for c in model.classes) + len(model.index)
        assert len(tables) == rows + len(model.classes) + 1  # a header per table
        for line in tables:  # every row has the header's number of cells (| escaped in cells)
            cells = len(re.split(r"(?<!\\)\|", line)) - 2
            assert cells in (6, 2), line
    assert "Taux de remplissage" in files["dictionary.fr.md"].decode()


def test_html_is_self_contained(model: Dictionary, files: dict[str, bytes]) -> None:
    for lang in ("en", "fr"):
        soup = BeautifulSoup(files[f"dictionary.{lang}.html"], "html.parser")
        assert soup.html is not None and soup.html["lang"] == lang
        assert not soup.find_all(["link", "script", "img", "iframe"])
        assert soup.find("style") is not None
        ids = [tag["id"] for tag in soup.find_all(id=True)]
        assert len(ids) == len(set(ids))
        for cls in model.classes:
            section = soup.find(id=cls.term.anchor)
            assert section is not None and section.name == "section"
            assert len(section.find_all("tr")) == len(cls.properties) + 1
        for href in (a["href"] for a in soup.find_all("a", href=True)):
            assert not href.startswith("#") or href[1:] in ids, href


def test_csv_parses_with_a_row_per_class_and_property(
    model: Dictionary, files: dict[str, bytes]
) -> None:
    data = files["dictionary.csv"]
    assert data.count(b"\r\n") == data.count(b"\n")  # RFC 4180 line ends
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert len(rows) == sum(len(c.properties) for c in model.classes)
    assert tuple(rows[0]) == dictionary.CSV_COLUMNS
    program = [r for r in rows if r["class"] == "hr:Program"]
    city = next(r for r in program if r["property"] == "hr:city")
    assert (city["class_label_fr"], city["min_count"], city["max_count"]) == ("Programme", "1", "")
    found = prop(model, HR + "Program", HR + "city")
    assert int(city["filled"]) == found.filled
    assert float(city["fill_percent"]) == round(100 * found.filled / int(city["instances"]), 1)
    assert all(r["label_fr"] and r["label_en"] for r in rows)


def test_json_is_the_model_the_page_reads(model: Dictionary, files: dict[str, bytes]) -> None:
    assert page.FILE == dictionary.JSON_NAME
    found = json.loads(files[dictionary.JSON_NAME])
    assert [c["term"]["anchor"] for c in found["classes"]] == [c.term.anchor for c in model.classes]


def test_files_are_deterministic(shipped: Sources, prefixes: dict[str, str]) -> None:
    again = dictionary.files(list(shipped.quads()), prefixes, "t")
    first = dictionary.files(list(shipped.quads()), prefixes, "t")
    assert [f[2] for f in again] == [f[2] for f in first]


def test_french_typography() -> None:
    """A no-break space before ":" ";" "?" "!" and "%" in the French words of the dictionary and
    of its page."""
    texts = [t["fr"] for t in dictionary.TEXTS.values()]
    texts += [t["fr"] for key, t in i18n.STRINGS.items() if key.startswith("dictionary_")]
    texts.append(dictionary.fill(1, 3)["fr"])
    for text in texts:
        for before, mark in FRENCH_PUNCTUATION.findall(text.format(lang="fr", count="1", n="1")):
            assert before in "\u00a0\u202f", (text, mark)


def test_the_release_lists_the_dictionary(shipped_release: Path) -> None:
    sums = (shipped_release / "SHA256SUMS").read_text()
    for name in ("dictionary.en.md", "dictionary.fr.md", "dictionary.en.html", "dictionary.csv"):
        assert f"  {name}\n" in sums, name
    found = json.loads((shipped_release / dictionary.JSON_NAME).read_text())
    assert found["version"] == shipped_release.name
    description = Graph().parse(shipped_release / "description.ttl")
    titles = {
        str(t)
        for t in description.objects(None, URIRef("http://purl.org/dc/terms/title"))
        if isinstance(t, Literal)
    }
    assert "Dictionnaire de données en français (Markdown)" in titles
