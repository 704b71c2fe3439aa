"""The data dictionary of a release, in English and French: each class that a SHACL node shape
describes, with its properties (cardinality, the datatype or class of the values, label and
definition from the ontology), an example value and the fill rate in this release.

It is read from the release's own quads (ontology/, shapes/ and data/; each quad's graph names
its role), so it says what the release holds. Written as `dictionary.<lang>.md`,
`dictionary.<lang>.html` (self-contained), `dictionary.csv` (a row per class and property, a
column per language for the texts) and `dictionary.json`, the model itself, which the /ontology
page renders (the web side never imports the builder).

How the shapes are read (shapes/README.md): a class's node shape has one `sh:targetClass` and
`sh:property` (or is `sh:closed`); its properties are the paths of its property shapes and of its
`sh:ignoredProperties` (but rdf:type), each with the shared property shapes that target the
subjects of that path. The other node shapes that target the class are its further rules (their
`sh:message`). A class's resources include its subclasses', as `sh:targetClass` does.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import cache
from operator import attrgetter

import pyoxigraph as ox
from jinja2 import Environment, PackageLoader, select_autoescape
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from hrgraph.build.validation import to_rdflib
from hrgraph.kinds import KINDS, class_iris
from hrgraph.vocab import DCT, OWL, RDF, RDFS, SH, SKOS

LANGUAGES = ("en", "fr")
ROLES = ("ontology", "shapes", "data")
#: An example value is cut to this many characters.
EXAMPLE_LENGTH = 60
JSON_NAME = "dictionary.json"
MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]<>|])")

SHACL, DCTERMS = Namespace(SH), Namespace(DCT)
RDF_TYPE, SUBCLASS_OF = URIRef(RDF + "type"), URIRef(RDFS + "subClassOf")
LABEL, DEFINITION = URIRef(RDFS + "label"), URIRef(SKOS + "definition")
VIOLATION = SHACL.Violation
by_name = attrgetter("name")

Texts = dict[str, str]
#: The words of the files. French sets a no-break space before ":" and "%".
TEXTS: dict[str, Texts] = {
    "title": {"en": "Data dictionary", "fr": "Dictionnaire de données"},
    "intro": {
        "en": "Every class of the data, with its properties as the SHACL shapes check them: how "
        "many values a resource has (cardinality), what they are (a datatype or a class), the "
        "ontology's definition, an example from this release, and the fill rate (how many of "
        "the class's resources in this release have at least one value).",
        "fr": "Chaque classe des données, avec ses propriétés telles que les formes SHACL les "
        "vérifient\u00a0: combien de valeurs une ressource en a (cardinalité), ce qu'elles sont "
        "(un type de données ou une classe), la définition de l'ontologie, un exemple tiré de "
        "cette version et le taux de remplissage (combien des ressources de la classe dans "
        "cette version ont au moins une valeur).",
    },
    "release": {"en": "Release", "fr": "Version des données"},
    "ontology": {"en": "Ontology", "fr": "Ontologie"},
    "classes": {"en": "Classes", "fr": "Classes"},
    "property": {"en": "Property", "fr": "Propriété"},
    "cardinality": {"en": "Cardinality", "fr": "Cardinalité"},
    "allowed": {"en": "Values", "fr": "Valeurs"},
    "definition": {"en": "Definition", "fr": "Définition"},
    "example": {"en": "Example", "fr": "Exemple"},
    "fill": {"en": "Fill rate", "fr": "Taux de remplissage"},
    "instances": {"en": "Resources in this release", "fr": "Ressources dans cette version"},
    "shape": {"en": "Shape", "fr": "Forme"},
    "iris": {"en": "IRIs", "fr": "IRI"},
    "subclasses": {"en": "Also its subclasses", "fr": "Aussi ses sous-classes"},
    "rules": {"en": "Also checked:", "fr": "Vérifié aussi\u00a0:"},
    "pattern": {"en": "pattern", "fr": "motif"},
    "index": {"en": "Properties", "fr": "Propriétés"},
    "used_by": {"en": "Used by", "fr": "Employée par"},
    "colon": {"en": ": ", "fr": "\u00a0: "},
    "semicolon": {"en": "; ", "fr": "\u00a0; "},
    # notes on the counts
    "qualified": {"en": "@{lang}: {count}", "fr": "@{lang}\u00a0: {count}"},
    "qualified_expected": {
        "en": "@{lang}: {count} (expected)",
        "fr": "@{lang}\u00a0: {count} (attendu)",
    },
    "expected_min": {"en": "expected: at least {n}", "fr": "attendu\u00a0: au moins {n}"},
    "unique_lang": {"en": "at most one per language", "fr": "au plus une par langue"},
}
#: The files' titles in the release description.
LANGUAGE_NAMES: dict[str, Texts] = {
    "en": {"en": "English", "fr": "anglais"},
    "fr": {"en": "French", "fr": "français"},
}
FORMATS = {"md": ("text/markdown", "Markdown"), "html": ("text/html", "HTML")}


@dataclass(frozen=True)
class Term:
    iri: str
    name: str  # compact: hr:city
    anchor: str  # its id in HTML: an hr: term's fragment (/ontology#city), else prefix-name
    label: Texts
    definition: Texts


@dataclass(frozen=True)
class Property:
    term: Term
    min_count: int
    max_count: int | None
    cardinality: str  # 1..*
    notes: Texts  # counts per language, expected values
    allowed: tuple[tuple[str, ...], ...]  # every group holds; a group is one of its values
    patterns: tuple[str, ...]
    range: str  # -90 ≤ x ≤ 90
    example: Texts
    filled: int  # the class's resources with at least one value
    fill: Texts  # 18/20 (90%)


@dataclass(frozen=True)
class ClassEntry:
    term: Term
    shapes: tuple[str, ...]
    iri_patterns: tuple[str, ...]
    subclasses: tuple[Term, ...]
    instances: int
    rules: dict[str, tuple[str, ...]]  # language -> the messages of its other shapes
    properties: tuple[Property, ...]


@dataclass(frozen=True)
class Used:
    """A property and the classes that use it (the index, where /ontology#<hr property> lands)."""

    term: Term
    classes: tuple[Term, ...]


@dataclass(frozen=True)
class Ontology:
    iri: str
    version_iri: str
    license: str
    title: Texts
    description: Texts


@dataclass(frozen=True)
class Dictionary:
    version: str
    ontology: Ontology
    classes: tuple[ClassEntry, ...]
    index: tuple[Used, ...]


# --- the release's graphs --------------------------------------------------------------------


def graphs(quads: Iterable[ox.Quad]) -> dict[str, Graph]:
    """The quads by role, each an rdflib graph: ontology/ and shapes/ by their graphs
    (<base>graph/<role>/<file>), and the data: every other graph (data/, and what the builder
    derives from it)."""
    by_role: dict[str, list[ox.Quad]] = {role: [] for role in ROLES}
    for quad in quads:
        graph = quad.graph_name
        role = graph.value.rsplit("/", 2)[-2] if isinstance(graph, ox.NamedNode) else ""
        by_role[role if role in ("ontology", "shapes") else "data"].append(quad)
    return {role: to_rdflib(found) for role, found in by_role.items()}


def texts(graph: Graph, subject: Node, predicate: URIRef) -> Texts:
    """The literals of `subject` by language (the smallest where there are several)."""
    found: Texts = {}
    for value in sorted(graph.objects(subject, predicate), key=str):
        if isinstance(value, Literal):
            found.setdefault(value.language or "", str(value))
    return found


def complete(found: Texts, default: str) -> Texts:
    """Every language: its own text, else the English (or untagged) one, else `default`."""
    other = found.get("en") or found.get("") or default
    return {lang: found.get(lang) or other for lang in LANGUAGES}


def items(graph: Graph, subject: Node | None, predicate: URIRef) -> list[Node]:
    """The members of the RDF lists that are values of `predicate`."""
    if subject is None:
        return []
    return [item for head in graph.objects(subject, predicate) for item in graph.items(head)]


def integer(value: Node | None) -> int | None:
    return int(str(value)) if value is not None else None


def unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def span(low: int, high: int | None) -> str:
    return f"{low}..{'*' if high is None else high}"


class Reader:
    """The three graphs, and the names the files give terms (`prefixes`: compact names)."""

    def __init__(self, found: dict[str, Graph], prefixes: dict[str, str]) -> None:
        self.ontology, self.shapes, self.data = (found[role] for role in ROLES)
        self.prefixes = sorted(prefixes.items(), key=lambda item: -len(item[1]))
        self.hr = prefixes.get("hr", "")

    def compact(self, iri: str) -> str:
        for prefix, namespace in self.prefixes:
            if iri.startswith(namespace) and len(iri) > len(namespace):
                return f"{prefix}:{iri[len(namespace) :]}"
        return iri

    def show(self, value: Node) -> str:
        """A value as the files show it: an IRI by its compact name, a literal by its text."""
        return self.compact(str(value)) if isinstance(value, URIRef) else str(value)

    def term(self, iri: Node, is_class: bool = False, labels: Texts | None = None) -> Term:
        """A term, labelled and defined by the ontology (else by `labels`, else its name)."""
        name = self.compact(str(iri))
        local = str(iri).rpartition("#" if "#" in str(iri) else "/")[2]
        own = is_class or (bool(self.hr) and str(iri).startswith(self.hr))
        label = texts(self.ontology, iri, LABEL) or labels or {}
        definition = texts(self.ontology, iri, DEFINITION)
        anchor = local if own else name.replace(":", "-")
        return Term(str(iri), name, anchor, complete(label, name), complete(definition, ""))


# --- the model -------------------------------------------------------------------------------


def build_dictionary(
    quads: Iterable[ox.Quad], prefixes: dict[str, str], version: str
) -> Dictionary:
    """The dictionary of the release made of `quads` (its ontology, shapes and data)."""
    reader = Reader(graphs(quads), prefixes)
    order = {cls: n for n, kind in enumerate(KINDS) for cls in class_iris(kind, reader.hr)}
    classes = sorted(
        (
            class_entry(reader, target, shapes)
            for target, shapes in class_shapes(reader.shapes).items()
        ),
        key=lambda c: (order.get(c.term.iri, len(order)), c.term.name),
    )
    return Dictionary(version, ontology_header(reader), tuple(classes), index(classes))


def class_shapes(shapes: Graph) -> dict[URIRef, list[Node]]:
    """Each class with the node shapes that describe it: one sh:targetClass, and sh:property or
    sh:closed (TypeShape targets every class; the rule shapes have neither)."""
    found: dict[URIRef, list[Node]] = {}
    for shape in set(shapes.subjects(SHACL.targetClass, None)):
        targets = list(shapes.objects(shape, SHACL.targetClass))
        described = any(shapes.objects(shape, SHACL.property)) or any(
            shapes.objects(shape, SHACL.closed)
        )
        if len(targets) == 1 and isinstance(targets[0], URIRef) and described:
            found.setdefault(targets[0], []).append(shape)
    return {cls: sorted(nodes, key=str) for cls, nodes in found.items()}


def class_entry(reader: Reader, target: URIRef, shapes: list[Node]) -> ClassEntry:
    g = reader.shapes
    subclasses = reader.ontology.transitive_subjects(SUBCLASS_OF, target)
    members = {c for c in subclasses if c is not None} | {target}
    instances = {s for cls in members for s in reader.data.subjects(RDF_TYPE, cls)}
    labels = {k: v for shape in shapes for k, v in texts(g, shape, LABEL).items()}
    properties = [
        property_entry(reader, path, constraints, instances)
        for path, constraints in property_shapes(g, shapes).items()
    ]
    return ClassEntry(
        term=reader.term(target, is_class=True, labels=labels),
        shapes=tuple(reader.compact(str(s)) for s in shapes),
        iri_patterns=unique(str(p) for s in shapes for p in g.objects(s, SHACL.pattern)),
        subclasses=tuple(
            sorted((reader.term(c, is_class=True) for c in members - {target}), key=by_name)
        ),
        instances=len(instances),
        rules=rules(g, target, shapes),
        properties=tuple(sorted(properties, key=lambda p: (p.min_count == 0, p.term.name))),
    )


def property_shapes(g: Graph, shapes: list[Node]) -> dict[URIRef, list[Node]]:
    """Each path of the class (but rdf:type) with the property shapes that check it there: the
    class shapes' own, and the shared ones that target the subjects of the path."""
    own = [p for shape in shapes for p in g.objects(shape, SHACL.property)]
    ignored = [p for shape in shapes for p in items(g, shape, SHACL.ignoredProperties)]
    paths = [g.value(p, SHACL.path) for p in own] + ignored
    found: dict[URIRef, list[Node]] = {}
    for path in paths:
        if not isinstance(path, URIRef) or path == RDF_TYPE or path in found:
            continue  # a complex path (none yet) would need its own reading
        shared = [s for s in g.subjects(SHACL.targetSubjectsOf, path) if g.value(s, SHACL.path)]
        found[path] = [s for s in [*own, *shared] if g.value(s, SHACL.path) == path]
    return found


def property_entry(
    reader: Reader, path: URIRef, shapes: list[Node], instances: set[Node]
) -> Property:
    g, data = reader.shapes, reader.data
    low, high, notes = counts(g, shapes)
    values = [v for s in instances for v in data.objects(s, path)]
    filled = sum(1 for s in instances if (s, path, None) in data)
    return Property(
        term=reader.term(path),
        min_count=low,
        max_count=high,
        cardinality=span(low, high),
        notes={
            lang: TEXTS["semicolon"][lang].join(
                TEXTS[key][lang].format(**args) for key, args in notes
            )
            for lang in LANGUAGES
        },
        allowed=allowed(reader, shapes),
        patterns=tuple(sorted({str(p) for s in shapes for p in g.objects(s, SHACL.pattern)})),
        range=value_range(g, shapes),
        example={lang: example(reader, values, lang) for lang in LANGUAGES},
        filled=filled,
        fill=fill(filled, len(instances)),
    )


def counts(g: Graph, shapes: list[Node]) -> tuple[int, int | None, list[tuple[str, Texts]]]:
    """The least and most values a resource has (a Violation below or above), and notes: the
    counts per language (qualified shapes) and what is only expected (a Warning)."""
    low, high, notes = 0, None, []
    for shape in shapes:
        required = g.value(shape, SHACL.severity, default=VIOLATION) == VIOLATION
        least, most = (
            integer(g.value(shape, SHACL.minCount)),
            integer(g.value(shape, SHACL.maxCount)),
        )
        if least and not required:
            notes.append(("expected_min", {"n": str(least)}))
        low = max(low, least or 0) if required else low
        if most is not None and required:
            high = most if high is None else min(high, most)
        qualified = g.value(shape, SHACL.qualifiedValueShape)
        languages = [str(lang) for lang in items(g, qualified, SHACL.languageIn)]
        if languages:
            q_least = integer(g.value(shape, SHACL.qualifiedMinCount)) or 0
            q_most = integer(g.value(shape, SHACL.qualifiedMaxCount))
            low = max(low, q_least) if required else low
            key = "qualified" if required else "qualified_expected"
            notes.append((key, {"lang": ",".join(languages), "count": span(q_least, q_most)}))
        if str(g.value(shape, SHACL.uniqueLang)) == "true":
            notes.append(("unique_lang", {}))
    unique_notes = {(key, tuple(sorted(args.items()))): (key, args) for key, args in notes}
    return low, high, [unique_notes[k] for k in sorted(unique_notes, key=note_order)]


def note_order(note: tuple[str, tuple[tuple[str, str], ...]]) -> tuple[int, str]:
    key, args = note
    return (key == "unique_lang", str(args))


def allowed(reader: Reader, shapes: list[Node]) -> tuple[tuple[str, ...], ...]:
    """What the values are: a group per shape that says (each group holds; a group is one of
    its values), else the node kind (IRI, Literal)."""
    g = reader.shapes
    said = sorted({group for shape in shapes if (group := alternatives(reader, shape))})
    if said:
        return tuple(said)
    kinds = {kind for s in shapes for kind in g.objects(s, SHACL.nodeKind)}
    return tuple(sorted(tuple(str(k).rpartition("#")[2].split("Or")) for k in kinds))


def alternatives(reader: Reader, shape: Node, nested: bool = False) -> tuple[str, ...]:
    """The values a shape allows, as alternatives (empty: it does not say)."""
    g, found = reader.shapes, []
    found += [
        f'"{v}"' if isinstance(v, Literal) else reader.show(v) for v in items(g, shape, SHACL["in"])
    ]
    found += [reader.show(v) for p in (SHACL.datatype, SHACL["class"]) for v in g.objects(shape, p)]
    for member in items(g, shape, SHACL["or"]):
        found += alternatives(reader, member, nested=True)
    for negated in g.objects(shape, SHACL["not"]):
        found.append("¬" + " | ".join(alternatives(reader, negated, nested=True)))
    if nested:  # a pattern inside sh:or or sh:not is one of the alternatives
        found += [f"regex({p})" for p in g.objects(shape, SHACL.pattern)]
    return unique(found)


def value_range(g: Graph, shapes: list[Node]) -> str:
    """The bounds of the values, as -90 ≤ x ≤ 90 (empty without bounds)."""
    for shape in shapes:
        low = [f"{v} {op} " for key, op in LOW if (v := g.value(shape, SHACL[key])) is not None]
        high = [f" {op} {v}" for key, op in HIGH if (v := g.value(shape, SHACL[key])) is not None]
        if low or high:
            return "".join(low) + "x" + "".join(high)
    return ""


LOW, HIGH = (
    (("minInclusive", "≤"), ("minExclusive", "<")),
    (("maxInclusive", "≤"), ("maxExclusive", "<")),
)


def example(reader: Reader, values: list[Node], lang: str) -> str:
    """The smallest value (of the language, for text), shortened; empty when there is none."""
    shown = [v for v in values if not isinstance(v, BNode)]
    own = [v for v in shown if isinstance(v, Literal) and v.language == lang]
    if not shown:
        return ""
    text = " ".join(reader.show(min(own or shown, key=str)).split())
    return text if len(text) <= EXAMPLE_LENGTH else text[: EXAMPLE_LENGTH - 1].rstrip() + "…"


def fill(filled: int, total: int) -> Texts:
    """18/20 (90%), in each language's way of writing it."""
    if not total:
        return dict.fromkeys(LANGUAGES, "—")
    number = f"{100 * filled / total:.1f}".removesuffix(".0")
    return {
        "en": f"{filled}/{total} ({number}%)",
        "fr": f"{filled}/{total} ({number.replace('.', ',')}\u00a0%)",
    }


def rules(g: Graph, target: URIRef, shapes: list[Node]) -> dict[str, tuple[str, ...]]:
    """The messages of the other node shapes that target the class (and of their SPARQL)."""
    others = [s for s in g.subjects(SHACL.targetClass, target) if s not in shapes]
    messages = [
        m
        for shape in others
        for node in [shape, *g.objects(shape, SHACL.sparql)]
        for m in g.objects(node, SHACL.message)
    ]
    return {
        lang: tuple(
            sorted({str(m) for m in messages if isinstance(m, Literal) and m.language == lang})
        )
        for lang in LANGUAGES
    }


def ontology_header(reader: Reader) -> Ontology:
    g = reader.ontology
    found = sorted(g.subjects(RDF_TYPE, URIRef(OWL + "Ontology")), key=str)
    if not found:
        return Ontology("", "", "", complete({}, ""), complete({}, ""))
    iri = found[0]
    title = texts(g, iri, DCTERMS.title) or texts(g, iri, LABEL)
    return Ontology(
        str(iri),
        str(g.value(iri, URIRef(OWL + "versionIRI")) or ""),
        str(g.value(iri, DCTERMS.license) or ""),
        complete(title, str(iri)),
        complete(texts(g, iri, DCTERMS.description), ""),
    )


def index(classes: Iterable[ClassEntry]) -> tuple[Used, ...]:
    users: dict[str, tuple[Term, list[Term]]] = {}
    for entry in classes:
        for prop in entry.properties:
            users.setdefault(prop.term.iri, (prop.term, []))[1].append(entry.term)
    return tuple(
        Used(term, tuple(used))
        for term, used in sorted(users.values(), key=lambda u: by_name(u[0]))
    )


# --- the files -------------------------------------------------------------------------------


@cache
def environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("hrgraph.build", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(cell=markdown_cell, code=markdown_code)
    return environment


def markdown_cell(text: object) -> str:
    """Text in a Markdown table cell: one line, Markdown's punctuation escaped (GFM)."""
    return MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(str(text).split()))


def markdown_code(text: object) -> str:
    """Code in a Markdown table cell ("|" is escaped inside code too, in GFM tables)."""
    code = " ".join(str(text).split()).replace("|", "\\|")
    return f"`{code}`" if code else ""


def render(model: Dictionary, lang: str, ext: str) -> str:
    """The Markdown or HTML file in `lang`."""
    words = {key: texts[lang] for key, texts in TEXTS.items()}
    anchors = {term.name: term.anchor for c in model.classes for term in (c.term, *c.subclasses)}
    template = environment().get_template(f"dictionary.{ext}")
    return template.render(d=model, lang=lang, t=words, anchors=anchors)


CSV_COLUMNS = (
    "class", "class_iri", "class_label_en", "class_label_fr", "instances",
    "property", "property_iri", "label_en", "label_fr", "definition_en", "definition_fr",
    "min_count", "max_count", "cardinality", "notes_en", "notes_fr",
    "values", "patterns", "range", "example_en", "example_fr", "filled", "fill_percent",
)  # fmt: skip


def to_csv(model: Dictionary) -> str:
    """A row per class and property, a column per language for the texts (RFC 4180)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS)
    writer.writeheader()
    for entry in model.classes:
        for p in entry.properties:
            percent = f"{100 * p.filled / entry.instances:.1f}" if entry.instances else ""
            writer.writerow(
                {
                    "class": entry.term.name,
                    "class_iri": entry.term.iri,
                    **{f"class_label_{lang}": entry.term.label[lang] for lang in LANGUAGES},
                    "instances": entry.instances,
                    "property": p.term.name,
                    "property_iri": p.term.iri,
                    **{f"label_{lang}": p.term.label[lang] for lang in LANGUAGES},
                    **{f"definition_{lang}": p.term.definition[lang] for lang in LANGUAGES},
                    "min_count": p.min_count,
                    "max_count": "" if p.max_count is None else p.max_count,
                    "cardinality": p.cardinality,
                    **{f"notes_{lang}": p.notes[lang] for lang in LANGUAGES},
                    "values": " ; ".join(" | ".join(group) for group in p.allowed),
                    "patterns": " ; ".join(p.patterns),
                    "range": p.range,
                    **{f"example_{lang}": p.example[lang] for lang in LANGUAGES},
                    "filled": p.filled,
                    "fill_percent": percent,
                }
            )
    return out.getvalue()


def to_json(model: Dictionary) -> str:
    """The model, with the words of the dictionary (TEXTS), so that /ontology renders both from
    the release and the server keeps no copy of them."""
    document = {**asdict(model), "texts": TEXTS}
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def title(ext: str, lang: str | None = None) -> Texts:
    """A file's title in the release description, in English and French."""
    kind = FORMATS[ext][1] if ext in FORMATS else ext.upper()
    if lang is None:
        return {"en": f"Data dictionary, English and French ({kind})",
                "fr": f"Dictionnaire de données, anglais et français ({kind})"}  # fmt: skip
    names = LANGUAGE_NAMES[lang]
    return {"en": f"Data dictionary in {names['en']} ({kind})",
            "fr": f"Dictionnaire de données en {names['fr']} ({kind})"}  # fmt: skip


def files(
    quads: Iterable[ox.Quad], prefixes: dict[str, str], version: str
) -> list[tuple[str, str, bytes, Texts]]:
    """The dictionary's files as (name, media type, bytes, title): the arguments of the
    builder's `_write_file` after its folder."""
    model = build_dictionary(quads, prefixes, version)
    found = [
        (f"dictionary.{lang}.{ext}", media, render(model, lang, ext).encode(), title(ext, lang))
        for lang in LANGUAGES
        for ext, (media, _) in FORMATS.items()
    ]
    found.append(("dictionary.csv", "text/csv", to_csv(model).encode(), title("csv")))
    found.append((JSON_NAME, "application/json", to_json(model).encode(), title("json")))
    return found
