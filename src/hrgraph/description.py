"""The release's own description: a DCAT catalog and dataset with one distribution per file
(media type, byte size, SHA-256), and VoID statistics. Titles and descriptions in EN and FR."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
VOID = "http://rdfs.org/ns/void#"
SPDX = "http://spdx.org/rdf/terms#"
FOAF = "http://xmlns.com/foaf/0.1/"

PREFIXES = {"dcat": DCAT, "dct": DCT, "void": VOID, "spdx": SPDX, "xsd": XSD, "foaf": FOAF}
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
TITLE = {
    "en": "hrgraph: Learning from Each Other, community-based harm reduction in Canada",
    "fr": "hrgraph : Partager nos connaissances, la réduction des méfaits communautaire au Canada",
}
DESCRIPTION = {
    "en": "Linked data on the programs, organizations, cities, practices and lessons documented by "
    "the Canadian Harm Reduction Network and the Canadian AIDS Society in Learning from Each "
    "Other (2008), with the project, its consultations, focus-group findings and every source "
    "cited to its document and page.",
    "fr": "Données liées sur les programmes, organismes, villes, pratiques et leçons documentés "
    "par le Réseau canadien de la réduction des méfaits et la Société canadienne du sida dans "
    "Partager nos connaissances (2008), avec le projet, ses consultations, les constats des "
    "groupes de discussion et chaque source citée à son document et à sa page.",
}


@dataclass(frozen=True)
class FileEntry:
    name: str
    media_type: str
    size: int
    sha256: str
    title: dict[str, str]


class _Builder:
    def __init__(self, graph: ox.NamedNode) -> None:
        self.graph = graph
        self.quads: list[ox.Quad] = []

    def add(
        self, s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal
    ) -> None:
        self.quads.append(ox.Quad(s, ox.NamedNode(p), o, self.graph))

    def text(self, s: ox.NamedNode, p: str, values: dict[str, str]) -> None:
        for lang, value in sorted(values.items()):
            self.add(s, p, ox.Literal(value, language=lang))


def describe(
    base: str,
    version: str,
    issued: str,
    files: list[FileEntry],
    quads: Iterable[ox.Quad],
    graph: ox.NamedNode,
) -> list[ox.Quad]:
    """DCAT + VoID quads (in `graph`) for a release whose data are `quads`."""
    b = _Builder(graph)
    catalog, dataset = ox.NamedNode(base + "catalog"), ox.NamedNode(base + "dataset")
    publisher = ox.NamedNode(base + "id/organization/canadian-harm-reduction-network")
    date = ox.Literal(issued, datatype=ox.NamedNode(XSD + "date"))

    b.add(catalog, RDF + "type", ox.NamedNode(DCAT + "Catalog"))
    b.text(catalog, DCT + "title", TITLE)
    b.add(catalog, DCAT + "dataset", dataset)
    b.add(catalog, DCT + "license", ox.NamedNode(LICENSE))
    b.add(catalog, DCT + "modified", date)

    for cls in (DCAT + "Dataset", VOID + "Dataset"):
        b.add(dataset, RDF + "type", ox.NamedNode(cls))
    b.text(dataset, DCT + "title", TITLE)
    b.text(dataset, DCT + "description", DESCRIPTION)
    b.add(dataset, DCT + "license", ox.NamedNode(LICENSE))
    b.add(dataset, DCT + "publisher", publisher)
    b.add(dataset, DCAT + "version", ox.Literal(version))
    b.add(dataset, DCT + "issued", date)
    b.add(dataset, DCT + "modified", date)
    for lang in ("en", "fr"):
        b.add(
            dataset, DCT + "language", ox.NamedNode(f"http://id.loc.gov/vocabulary/iso639-1/{lang}")
        )
    b.add(dataset, DCT + "spatial", ox.NamedNode("http://www.wikidata.org/entity/Q16"))
    b.add(dataset, VOID + "uriSpace", ox.Literal(base + "id/"))
    b.add(dataset, VOID + "vocabulary", ox.NamedNode(base + "ontology#"))
    b.add(dataset, VOID + "exampleResource", ox.NamedNode(base + "id/city/whitehorse"))
    _statistics(b, dataset, quads)

    for entry in files:
        _distribution(b, base, version, dataset, entry)
    return b.quads


def _statistics(b: _Builder, dataset: ox.NamedNode, quads: Iterable[ox.Quad]) -> None:
    triples, classes, properties = 0, Counter[str](), Counter[str]()
    subjects: set[str] = set()
    for quad in quads:
        triples += 1
        subjects.add(str(quad.subject))
        properties[quad.predicate.value] += 1
        if quad.predicate.value == RDF + "type" and isinstance(quad.object, ox.NamedNode):
            classes[quad.object.value] += 1
    integer = ox.NamedNode(XSD + "integer")
    b.add(dataset, VOID + "triples", ox.Literal(str(triples), datatype=integer))
    b.add(dataset, VOID + "distinctSubjects", ox.Literal(str(len(subjects)), datatype=integer))
    b.add(dataset, VOID + "classes", ox.Literal(str(len(classes)), datatype=integer))
    b.add(dataset, VOID + "properties", ox.Literal(str(len(properties)), datatype=integer))
    for kind, counts, key in (
        (VOID + "classPartition", classes, VOID + "class"),
        (VOID + "propertyPartition", properties, VOID + "property"),
    ):
        for iri, count in sorted(counts.items()):
            part = ox.BlankNode(f"{kind.rsplit('#', 1)[1]}{len(b.quads)}")
            b.add(dataset, kind, part)
            b.add(part, key, ox.NamedNode(iri))
            stat = VOID + ("entities" if key == VOID + "class" else "triples")
            b.add(part, stat, ox.Literal(str(count), datatype=integer))


def _distribution(
    b: _Builder, base: str, version: str, dataset: ox.NamedNode, entry: FileEntry
) -> None:
    url = ox.NamedNode(f"{base}downloads/{version}/{entry.name}")
    dist = ox.NamedNode(f"{base}dataset/{version}/{entry.name}")
    b.add(dataset, DCAT + "distribution", dist)
    if entry.name.startswith("hrgraph."):
        b.add(dataset, VOID + "dataDump", url)
    b.add(dist, RDF + "type", ox.NamedNode(DCAT + "Distribution"))
    b.text(dist, DCT + "title", entry.title)
    b.add(dist, DCAT + "downloadURL", url)
    b.add(dist, DCAT + "accessURL", url)
    b.add(
        dist,
        DCAT + "mediaType",
        ox.NamedNode("https://www.iana.org/assignments/media-types/" + entry.media_type),
    )
    b.add(dist, DCT + "format", ox.Literal(entry.media_type))
    if entry.name.endswith(".gz"):
        b.add(
            dist,
            DCAT + "compressFormat",
            ox.NamedNode("https://www.iana.org/assignments/media-types/application/gzip"),
        )
    b.add(
        dist,
        DCAT + "byteSize",
        ox.Literal(str(entry.size), datatype=ox.NamedNode(XSD + "nonNegativeInteger")),
    )
    b.add(dist, DCT + "license", ox.NamedNode(LICENSE))
    checksum = ox.BlankNode(f"checksum{len(b.quads)}")
    b.add(dist, SPDX + "checksum", checksum)
    b.add(checksum, RDF + "type", ox.NamedNode(SPDX + "Checksum"))
    b.add(checksum, SPDX + "algorithm", ox.NamedNode(SPDX + "checksumAlgorithm_sha256"))
    b.add(
        checksum,
        SPDX + "checksumValue",
        ox.Literal(entry.sha256, datatype=ox.NamedNode(XSD + "hexBinary")),
    )
