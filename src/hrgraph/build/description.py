"""The release's own description (description.ttl), written at build time: a DCAT-AP 3.0.1
catalogue holding the dataset (one distribution per file, and one each for the SPARQL endpoint and
the change feed), the series of releases and the two data services (SPARQL, the LDES feed), with
VoID statistics whose counts are what the endpoint's default graph answers. Titles and
descriptions in EN and FR.

What the description says about the project (creators, contacts, dates, places) is read from the
sources, never written here: the constants below are only this publication's own metadata
(titles, keywords, themes) and the identifiers of the controlled vocabularies DCAT-AP asks for.
External IRIs are typed with the classes the profile's range shapes check (dct:LicenseDocument,
dct:MediaType, ...), so that the description validates on its own, without the imports."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from hrgraph.feed import LDES_SPECIFICATION
from hrgraph.vocab import (
    DCAT,
    DCT,
    EU,
    FOAF,
    GEO,
    GEONAMES,
    GSP,
    IANA,
    LANGUAGES,
    OWL,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    SPDX,
    VCARD,
    VOID,
    WIKIDATA,
    XSD,
)

PREFIXES = {
    "dcat": DCAT,
    "dct": DCT,
    "void": VOID,
    "spdx": SPDX,
    "xsd": XSD,
    "foaf": FOAF,
    "vcard": VCARD,
    "skos": SKOS,
    "gsp": GSP,
}
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
#: CC BY requires attribution: its ADMS licence type (DCAT-AP recommends one).
LICENSE_TYPE = "http://purl.org/adms/licencetype/Attribution"
SPARQL_PROTOCOL = "https://www.w3.org/TR/sparql11-protocol/"
SHA256 = SPDX + "checksumAlgorithm_sha256"
#: The publisher, as before this profile: the network that co-led the project (data/project.ttl).
PUBLISHER = "id/organization/canadian-harm-reduction-network"
EXAMPLE = "id/city/whitehorse"
#: Canada as an EU country authority IRI (ISO 3166-1 alpha-3), the profile's spatial vocabulary.
CANADA = EU + "country/CAN"
#: Media type of a file -> its EU file-type (the dct:format DCAT-AP checks); gzip is a
#: compression, given as dcat:compressFormat, not a format.
FILE_TYPES = {
    "text/turtle": "RDF_TURTLE",
    "application/n-triples": "RDF_N_TRIPLES",
    "application/ld+json": "JSON_LD",
    "application/rdf+xml": "RDF_XML",
    "application/trig": "RDF_TRIG",
    "text/csv": "CSV",
    # the data dictionary (build.dictionary); the authority has no Markdown: it is text
    "text/html": "HTML",
    "application/json": "JSON",
    "text/markdown": "TXT",
    # the search index (build.search_index): the authority names no SQLite type; binary data
    "application/vnd.sqlite3": "BIN",
}
SPARQL_FILE_TYPE = "SPARQLQ"  # what ckanext-dcat and data.europa.eu give a SPARQL endpoint
#: EU data themes: harm reduction is health, and its programs are community (population and
#: society) programs. The labels are the authority's own.
THEMES = {
    "HEAL": {"en": "Health", "fr": "Santé"},
    "SOCI": {"en": "Population and society", "fr": "Population et société"},
}
KEYWORDS = {
    "en": (
        "harm reduction",
        "community-based programs",
        "people who use drugs",
        "HIV",
        "hepatitis C",
        "Canada",
        "linked data",
    ),
    "fr": (
        "réduction des méfaits",
        "programmes communautaires",
        "personnes qui consomment des drogues",
        "VIH",
        "hépatite C",
        "Canada",
        "données liées",
    ),
}
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
CATALOG_TITLE = {
    "en": "hrgraph catalogue: Learning from Each Other as linked data",
    "fr": "Catalogue hrgraph : Partager nos connaissances en données liées",
}
CATALOG_DESCRIPTION = {
    "en": "The catalogue of hrgraph: the knowledge graph of Learning from Each Other (Canadian "
    "Harm Reduction Network and Canadian AIDS Society, 2008) in this release, its downloads, "
    "and the SPARQL endpoint that serves it.",
    "fr": "Le catalogue de hrgraph : le graphe de connaissances de Partager nos connaissances "
    "(Réseau canadien de la réduction des méfaits et Société canadienne du sida, 2008) dans "
    "cette version, ses téléchargements et le point d'accès SPARQL qui le sert.",
}
SERIES_TITLE = {"en": "hrgraph releases", "fr": "Versions de hrgraph"}
SERIES_DESCRIPTION = {
    "en": "Every release of hrgraph: immutable, checksummed builds of the knowledge graph, "
    "one whenever its sources change. This description lists the release it belongs to; "
    "every release's files are listed at /downloads/.",
    "fr": "Chaque version de hrgraph : des constructions immuables et vérifiables du graphe de "
    "connaissances, une à chaque modification de ses sources. Cette description indique la "
    "version dont elle fait partie ; les fichiers de chaque version sont listés à /downloads/.",
}
SERVICE_TITLE = {"en": "hrgraph SPARQL endpoint", "fr": "Point d'accès SPARQL de hrgraph"}
SERVICE_DESCRIPTION = {
    "en": "A read-only SPARQL 1.1 endpoint over the current release: SELECT and ASK as JSON, "
    "XML, CSV or TSV, CONSTRUCT and DESCRIBE as Turtle, N-Triples, JSON-LD, RDF/XML or TriG. "
    "Its default graph holds every triple of the release, its description and its SHACL "
    "report; each source file is also a named graph.",
    "fr": "Un point d'accès SPARQL 1.1 en lecture seule sur la version courante : SELECT et ASK "
    "en JSON, XML, CSV ou TSV, CONSTRUCT et DESCRIBE en Turtle, N-Triples, JSON-LD, RDF/XML ou "
    "TriG. Son graphe par défaut contient tous les triplets de la version, sa description et "
    "son rapport SHACL ; chaque fichier source est aussi un graphe nommé.",
}
FEED_SERVICE_TITLE = {"en": "hrgraph change feed", "fr": "Flux des changements de hrgraph"}
FEED_SERVICE_DESCRIPTION = {
    "en": "A Linked Data Event Stream (LDES) of every release: one page per release with a "
    "member for each resource it adds, changes or removes (with its description, or a "
    "tombstone), so that a harvester replays or follows the changes instead of downloading "
    "every dump. TriG, N-Quads or JSON-LD; closed pages are immutable.",
    "fr": "Un flux d'événements en données liées (LDES) de toutes les versions : une page par "
    "version, avec un membre pour chaque ressource qu'elle ajoute, modifie ou retire (avec sa "
    "description, ou une pierre tombale), pour qu'un moissonneur rejoue ou suive les "
    "changements au lieu de télécharger chaque export. TriG, N-Quads ou JSON-LD ; les pages "
    "closes sont immuables.",
}
FEED_DISTRIBUTION = {
    "title": {"en": "Change feed (LDES)", "fr": "Flux des changements (LDES)"},
    "description": FEED_SERVICE_DESCRIPTION,
}
#: What each kind of file holds, after its title (the profile recommends a description).
FILE_TEXTS = {
    "dump": {
        "en": "the ontology, the SHACL shapes and the curated data of the release, every fact "
        "with its source document and page.",
        "fr": "l'ontologie, les formes SHACL et les données de la version, chaque fait avec "
        "son document source et sa page.",
    },
    "table": {
        "en": "a row per resource, a column per property (text in each language has a column "
        'of its own), several values joined with " | ".',
        "fr": "une ligne par ressource, une colonne par propriété (le texte de chaque langue a "
        "sa propre colonne), plusieurs valeurs réunies par « | ».",
    },
    "report": {
        "en": "the result of validating the release's data against its SHACL shapes (a "
        "Violation refuses a release, so it conforms; warnings are listed).",
        "fr": "le résultat de la validation des données de la version par ses formes SHACL "
        "(une violation refuse la version, qui est donc conforme ; les avertissements y sont).",
    },
}
SPARQL_DISTRIBUTION = {
    "title": {"en": "SPARQL endpoint", "fr": "Point d'accès SPARQL"},
    "description": {
        "en": "Query the release with SPARQL 1.1 (GET or POST /sparql); a browser gets a query "
        "editor with examples.",
        "fr": "Interroger la version en SPARQL 1.1 (GET ou POST /sparql) ; un navigateur "
        "obtient un éditeur de requêtes avec des exemples.",
    },
}
#: The parts of the endpoint's default graph, as VoID subsets (fragment, EN and FR title).
PARTS = {
    "sources": {
        "en": "The ontology, the shapes and the data: one named graph per source file, merged",
        "fr": "L'ontologie, les formes et les données : un graphe nommé par fichier source, réunis",
    },
    "description": {
        "en": "This description (DCAT-AP and VoID), graph release/description",
        "fr": "Cette description (DCAT-AP et VoID), graphe release/description",
    },
    "shacl-report": {
        "en": "The SHACL validation report, graph release/shacl-report",
        "fr": "Le rapport de validation SHACL, graphe release/shacl-report",
    },
}
#: "666 Spadina Ave., Suite 1904, Toronto ON M5S 2H8", as data/organizations.ttl spells them.
ADDRESS = re.compile(
    r"^(?P<street>.+), (?P<locality>[^,]+) (?P<region>[A-Z]{2}) (?P<code>[A-Z]\d[A-Z] ?\d[A-Z]\d)$"
)

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Subject = ox.NamedNode | ox.BlankNode


@dataclass(frozen=True)
class FileEntry:
    name: str
    media_type: str
    size: int
    sha256: str
    title: dict[str, str]


class _Builder:
    """Collects the description's quads once each (a triple stated twice would be counted
    twice by VoID and once by the store)."""

    def __init__(self, graph: ox.NamedNode) -> None:
        self.graph = graph
        self.quads: list[ox.Quad] = []
        self.triples: set[ox.Triple] = set()

    def add(self, s: Subject, p: str, o: Term) -> None:
        quad = ox.Quad(s, ox.NamedNode(p), o, self.graph)
        if quad.triple not in self.triples:
            self.triples.add(quad.triple)
            self.quads.append(quad)

    def iri(self, s: Subject, p: str, iri: str) -> None:
        self.add(s, p, ox.NamedNode(iri))

    def typed(self, iri: str, *classes: str) -> ox.NamedNode:
        node = ox.NamedNode(iri)
        for cls in classes:
            self.iri(node, RDF + "type", cls)
        return node

    def text(self, s: Subject, p: str, values: dict[str, str]) -> None:
        for lang, value in sorted(values.items()):
            self.add(s, p, ox.Literal(value, language=lang))

    def title(self, s: Subject, values: dict[str, str]) -> None:
        """dct:title, and rdfs:label for the pages (they title a resource by its label)."""
        self.text(s, DCT + "title", values)
        self.text(s, RDFS + "label", values)


class _Facts:
    """The sources, indexed for the few facts the description reads from them."""

    def __init__(self, quads: Iterable[ox.Quad], base: str) -> None:
        self.hr = base + "ontology#"
        self.objects: dict[tuple[str, str], list[Term]] = defaultdict(list)
        self.subjects: dict[tuple[str, str], list[Subject]] = defaultdict(list)
        self.triples: set[ox.Triple] = set()
        for quad in quads:
            self.triples.add(quad.triple)
            subject, value = quad.subject, quad.object
            if isinstance(subject, ox.Triple) or isinstance(value, ox.Triple):
                continue  # RDF-star: nothing the description reads
            self.objects[(subject.value, quad.predicate.value)].append(value)
            if not isinstance(value, ox.BlankNode):
                self.subjects[(quad.predicate.value, value.value)].append(subject)

    def values(self, subject: str, predicate: str) -> list[Term]:
        return sorted(set(self.objects.get((subject, predicate), [])), key=str)

    def iris(self, subject: str, predicate: str) -> list[str]:
        return [t.value for t in self.values(subject, predicate) if isinstance(t, ox.NamedNode)]

    def having(self, predicate: str, value: str) -> list[str]:
        found = self.subjects.get((predicate, value), [])
        return sorted({s.value for s in found if isinstance(s, ox.NamedNode)})

    def labels(self, subject: str) -> dict[str, str]:
        return {
            t.language: t.value
            for t in self.values(subject, RDFS + "label")
            if isinstance(t, ox.Literal) and t.language
        }

    def projects(self) -> list[str]:
        return self.having(RDF + "type", self.hr + "Project")

    def creators(self) -> list[str]:
        """Who wrote the facts: the creators of the documents the project is reported in
        (data/documents.ttl: the report's editions, by CHRN and CAS)."""
        documents = {d for p in self.projects() for d in self.iris(p, self.hr + "reportedIn")}
        return sorted({c for d in documents for c in self.iris(d, DCT + "creator")})


def describe(
    base: str,
    version: str,
    issued: str,
    files: list[FileEntry],
    quads: Iterable[ox.Quad],
    graph: ox.NamedNode,
    *,
    report: Iterable[ox.Quad] = (),
) -> list[ox.Quad]:
    """DCAT-AP + VoID quads (in `graph`) for a release whose data are `quads`; `report` is the
    SHACL report the store also holds, so that the VoID counts cover the whole default graph."""
    b, facts = _Builder(graph), _Facts(quads, base)
    date = ox.Literal(issued, datatype=ox.NamedNode(XSD + "date"))
    _catalog(b, base, date)
    _dataset(b, base, version, date, facts)
    _series(b, base, facts)
    _services(b, base, facts)
    _shared(b, base, facts)
    for entry in files:
        _distribution(b, base, version, entry)
    _service_distributions(b, base, version)
    _void(b, base, version, files, facts, {q.triple for q in report})
    return b.quads


# --- the catalogue, the dataset, the series, the service ------------------------------------


def _catalog(b: _Builder, base: str, date: ox.Literal) -> None:
    catalog = b.typed(base + "catalog", DCAT + "Catalog")
    b.title(catalog, CATALOG_TITLE)
    b.text(catalog, DCT + "description", CATALOG_DESCRIPTION)
    b.iri(catalog, DCT + "publisher", base + PUBLISHER)
    b.iri(catalog, DCAT + "dataset", base + "dataset")
    b.iri(catalog, DCAT + "service", base + "sparql-service")
    b.iri(catalog, DCAT + "service", base + "feed-service")
    b.iri(catalog, DCT + "license", LICENSE)
    b.iri(catalog, DCAT + "themeTaxonomy", EU + "data-theme")
    b.iri(catalog, DCT + "spatial", CANADA)
    for iri in LANGUAGES.values():
        b.iri(catalog, DCT + "language", iri)
    # Each release's catalogue is issued whole with it (an earlier one is another document).
    b.add(catalog, DCT + "issued", date)
    b.add(catalog, DCT + "modified", date)


def _dataset(b: _Builder, base: str, version: str, date: ox.Literal, facts: _Facts) -> None:
    dataset = b.typed(base + "dataset", DCAT + "Dataset", VOID + "Dataset")
    b.title(dataset, TITLE)
    b.text(dataset, DCT + "description", DESCRIPTION)
    # The same IRI in every release: harvesters (CKAN) update one record instead of piling up
    # one per release, and delete records absent from a new harvest.
    b.add(dataset, DCT + "identifier", ox.Literal(base + "dataset"))
    b.add(dataset, DCAT + "version", ox.Literal(version))
    b.add(dataset, DCT + "issued", date)
    b.add(dataset, DCT + "modified", date)
    b.iri(dataset, DCAT + "inSeries", base + "dataset-series")
    b.iri(dataset, DCT + "license", LICENSE)
    b.iri(dataset, DCT + "publisher", base + PUBLISHER)
    for creator in facts.creators():
        b.iri(dataset, DCT + "creator", creator)
    _themes(b, dataset)
    for lang, words in sorted(KEYWORDS.items()):
        for word in words:
            b.add(dataset, DCAT + "keyword", ox.Literal(word, language=lang))
    _coverage(b, dataset, facts)
    _contacts(b, dataset, facts)


def _coverage(b: _Builder, dataset: ox.NamedNode, facts: _Facts) -> None:
    """Languages, places and time."""
    for iri in LANGUAGES.values():
        b.iri(dataset, DCT + "language", iri)
    for place in [CANADA, *_places(b, facts)]:
        b.iri(dataset, DCT + "spatial", place)
    _temporal(b, dataset, facts)


def _themes(b: _Builder, resource: ox.NamedNode) -> None:
    for code in THEMES:
        b.iri(resource, DCAT + "theme", f"{EU}data-theme/{code}")


def _series(b: _Builder, base: str, facts: _Facts) -> None:
    """The releases as a series. Its members are the one release this description belongs to:
    the description is immutable and identical in the store and the downloads, and an older
    release may be pruned, so listing others would promise files that can vanish."""
    series = b.typed(base + "dataset-series", DCAT + "DatasetSeries")
    b.title(series, SERIES_TITLE)
    b.text(series, DCT + "description", SERIES_DESCRIPTION)
    b.iri(series, DCT + "publisher", base + PUBLISHER)
    b.iri(series, DCAT + "seriesMember", base + "dataset")
    b.iri(series, DCAT + "last", base + "dataset")
    _contacts(b, series, facts)


def _services(b: _Builder, base: str, facts: _Facts) -> None:
    """The SPARQL endpoint (GET /sparql without a query answers its Service Description) and
    the change feed (its root node describes the stream)."""
    for name, title, description, standard, keyword in (
        ("sparql", SERVICE_TITLE, SERVICE_DESCRIPTION, SPARQL_PROTOCOL, "SPARQL"),
        ("feed", FEED_SERVICE_TITLE, FEED_SERVICE_DESCRIPTION, LDES_SPECIFICATION, "LDES"),
    ):
        service = b.typed(f"{base}{name}-service", DCAT + "DataService")
        b.title(service, title)
        b.text(service, DCT + "description", description)
        b.iri(service, DCAT + "endpointURL", base + name)
        b.iri(service, DCAT + "endpointDescription", base + name)
        b.iri(service, DCAT + "servesDataset", base + "dataset")
        b.iri(service, DCT + "conformsTo", standard)
        b.iri(service, DCT + "license", LICENSE)
        b.iri(service, DCT + "publisher", base + PUBLISHER)
        _themes(b, service)
        for lang, words in sorted(KEYWORDS.items()):
            b.add(service, DCAT + "keyword", ox.Literal(words[0], language=lang))
            b.add(service, DCAT + "keyword", ox.Literal(keyword, language=lang))
        _contacts(b, service, facts)


# --- what the descriptions point at ---------------------------------------------------------


def _shared(b: _Builder, base: str, facts: _Facts) -> None:
    """The classes and names the profile needs on the resources the catalogue points at."""
    licence = b.typed(LICENSE, DCT + "LicenseDocument")
    b.iri(licence, DCT + "type", LICENSE_TYPE)
    b.text(b.typed(LICENSE_TYPE, SKOS + "Concept"), SKOS + "prefLabel", {"en": "Attribution"})
    for iri in LANGUAGES.values():
        b.typed(iri, DCT + "LinguisticSystem")
    scheme = b.typed(EU + "data-theme", SKOS + "ConceptScheme")
    b.text(scheme, DCT + "title", {"en": "Data theme"})
    for code, labels in THEMES.items():
        theme = b.typed(f"{EU}data-theme/{code}", SKOS + "Concept")
        b.text(theme, SKOS + "prefLabel", labels)
        b.iri(theme, SKOS + "inScheme", EU + "data-theme")
    b.text(b.typed(CANADA, DCT + "Location"), SKOS + "prefLabel", {"en": "Canada", "fr": "Canada"})
    b.text(b.typed(SPARQL_PROTOCOL, DCT + "Standard"), DCT + "title", {"en": "SPARQL 1.1 Protocol"})
    standard = b.typed(LDES_SPECIFICATION, DCT + "Standard")
    b.text(standard, DCT + "title", {"en": "Linked Data Event Streams"})
    b.typed(SHA256, SPDX + "ChecksumAlgorithm")
    for agent in sorted({base + PUBLISHER, *facts.creators()}):
        b.text(
            b.typed(agent, FOAF + "Agent", FOAF + "Organization"),
            FOAF + "name",
            facts.labels(agent),
        )


def _places(b: _Builder, facts: _Facts) -> list[str]:
    """The cities of the site visits, by the GeoNames (else Wikidata) IRI the data confirms as
    owl:sameAs (data/places.ttl), named as the data names them, at its coordinates. A city with
    no confirmed IRI is left out (Canada covers it)."""
    found = []
    for city in facts.having(RDF + "type", facts.hr + "City"):
        same = facts.iris(city, OWL + "sameAs")
        ids = [i for i in same if i.startswith(GEONAMES)] or [
            i for i in same if i.startswith(WIKIDATA)
        ]
        if ids:
            _place(b, facts, city, ids[0])
            found.append(ids[0])
    return found


def _place(b: _Builder, facts: _Facts, city: str, iri: str) -> None:
    place = b.typed(iri, DCT + "Location")
    b.text(place, SKOS + "prefLabel", facts.labels(city))
    lat, long = facts.values(city, GEO + "lat"), facts.values(city, GEO + "long")
    if lat and long:
        wkt = ox.NamedNode(GSP + "wktLiteral")
        b.add(
            place,
            DCAT + "centroid",
            ox.Literal(f"POINT({long[0].value} {lat[0].value})", datatype=wkt),
        )


def _temporal(b: _Builder, dataset: ox.NamedNode, facts: _Facts) -> None:
    """The project's time as the data dates it (data/project.ttl, data/documents.ttl): from
    the first dated consultation (the Winnipeg symposium's schema:startDate) to the issue of
    the report it is reported in (dct:issued), each as precise as the source."""
    projects = facts.projects()
    starts = [
        t
        for p in projects
        for part in facts.having(facts.hr + "partOfProject", p)
        for t in facts.values(part, SCHEMA + "startDate")
    ]
    ends = [
        t
        for p in projects
        for d in facts.iris(p, facts.hr + "reportedIn")
        for t in facts.values(d, DCT + "issued")
    ]
    if not starts or not ends:
        return
    period = ox.BlankNode("temporal")
    b.add(dataset, DCT + "temporal", period)
    b.iri(period, RDF + "type", DCT + "PeriodOfTime")
    b.add(period, DCAT + "startDate", min(starts, key=lambda t: t.value))
    b.add(period, DCAT + "endDate", max(ends, key=lambda t: t.value))


def _contacts(b: _Builder, resource: ox.NamedNode, facts: _Facts) -> None:
    """The creators at the address the report printed for them (data/organizations.ttl,
    schema:address; domain-sources.md section 0: the French edition, Yumpu 51268881). No
    e-mail, telephone or web address: the sources give none for them."""
    for index, org in enumerate(facts.creators()):
        addresses = [t.value for t in facts.values(org, SCHEMA + "address")]
        if not addresses:
            continue
        contact = ox.BlankNode(f"contact{index}")
        b.add(resource, DCAT + "contactPoint", contact)
        b.iri(contact, RDF + "type", VCARD + "Kind")
        b.iri(contact, RDF + "type", VCARD + "Organization")
        b.text(contact, VCARD + "fn", facts.labels(org))
        address = ox.BlankNode(f"address{index}")
        b.add(contact, VCARD + "hasAddress", address)
        _address(b, address, addresses[0])


def _address(b: _Builder, address: ox.BlankNode, text: str) -> None:
    b.iri(address, RDF + "type", VCARD + "Address")
    parts = ADDRESS.match(text)
    fields = (
        {"street-address": text}
        if parts is None
        else {
            "street-address": parts["street"],
            "locality": parts["locality"],
            "region": parts["region"],
            "postal-code": parts["code"],
        }
    )
    for name, value in fields.items():
        b.add(address, VCARD + name, ox.Literal(value))


# --- distributions ----------------------------------------------------------------------------


def _distribution(b: _Builder, base: str, version: str, entry: FileEntry) -> None:
    url = f"{base}downloads/{version}/{entry.name}"
    dist = b.typed(f"{base}dataset/{version}/{entry.name}", DCAT + "Distribution")
    b.iri(ox.NamedNode(base + "dataset"), DCAT + "distribution", dist.value)
    b.text(dist, DCT + "title", entry.title)
    b.text(dist, DCT + "description", _file_text(entry))
    b.iri(dist, DCAT + "downloadURL", url)
    b.iri(dist, DCAT + "accessURL", url)
    b.iri(dist, DCAT + "mediaType", b.typed(IANA + entry.media_type, DCT + "MediaType").value)
    file_type = FILE_TYPES.get(entry.media_type)
    if file_type:  # an unknown type gets no format: a warning of the profile, not a wrong one
        b.iri(
            dist,
            DCT + "format",
            b.typed(f"{EU}file-type/{file_type}", DCT + "MediaTypeOrExtent").value,
        )
    if entry.name.endswith(".gz"):
        b.iri(
            dist,
            DCAT + "compressFormat",
            b.typed(IANA + "application/gzip", DCT + "MediaType").value,
        )
    integer = ox.NamedNode(XSD + "nonNegativeInteger")
    b.add(dist, DCAT + "byteSize", ox.Literal(str(entry.size), datatype=integer))
    b.iri(dist, DCT + "license", LICENSE)
    checksum = ox.BlankNode(f"checksum{len(b.quads)}")
    b.add(dist, SPDX + "checksum", checksum)
    b.iri(checksum, RDF + "type", SPDX + "Checksum")
    b.iri(checksum, SPDX + "algorithm", SHA256)
    hexadecimal = ox.NamedNode(XSD + "hexBinary")
    b.add(checksum, SPDX + "checksumValue", ox.Literal(entry.sha256, datatype=hexadecimal))


def _file_text(entry: FileEntry) -> dict[str, str]:
    """The file's title, then what its kind of file holds."""
    texts = FILE_TEXTS.get(_kind(entry.name), {})
    colon = {"en": ": ", "fr": " : "}  # French sets a space before the colon
    return {
        lang: title + colon.get(lang, ": ") + texts[lang] if lang in texts else title
        for lang, title in entry.title.items()
    }


def _kind(name: str) -> str:
    if name.startswith("hrgraph."):
        return "dump"
    if name.startswith("csv/"):
        return "table"
    return "report" if name == "shacl-report.ttl" else ""


def _service_distributions(b: _Builder, base: str, version: str) -> None:
    """The endpoint and the feed as distributions too: CKAN shows a dataset's distributions as
    its resources, and reads a data service only from a distribution's dcat:accessService."""
    for name, texts, file_type, media in (
        ("sparql", SPARQL_DISTRIBUTION, SPARQL_FILE_TYPE, None),
        ("feed", FEED_DISTRIBUTION, FILE_TYPES["application/trig"], "application/trig"),
    ):
        dist = b.typed(f"{base}dataset/{version}/{name}", DCAT + "Distribution")
        b.iri(ox.NamedNode(base + "dataset"), DCAT + "distribution", dist.value)
        b.text(dist, DCT + "title", texts["title"])
        b.text(dist, DCT + "description", texts["description"])
        b.iri(dist, DCAT + "accessURL", base + name)
        b.iri(dist, DCAT + "accessService", f"{base}{name}-service")
        format = b.typed(f"{EU}file-type/{file_type}", DCT + "MediaTypeOrExtent")
        b.iri(dist, DCT + "format", format.value)
        if media is not None:
            b.iri(dist, DCAT + "mediaType", b.typed(IANA + media, DCT + "MediaType").value)
        b.iri(dist, DCT + "license", LICENSE)


# --- VoID -------------------------------------------------------------------------------------


def _void(
    b: _Builder,
    base: str,
    version: str,
    files: list[FileEntry],
    facts: _Facts,
    report: set[ox.Triple],
) -> None:
    """VoID of the dataset as the endpoint serves it: its default graph is the sources, this
    description and the SHACL report, one subset each, whose triple counts add up to the
    dataset's. The description counts its own triples, these counts included."""
    dataset = ox.NamedNode(base + "dataset")
    b.iri(dataset, VOID + "sparqlEndpoint", base + "sparql")
    b.add(dataset, VOID + "uriSpace", ox.Literal(base + "id/"))
    b.iri(dataset, VOID + "exampleResource", base + EXAMPLE)
    downloads = f"{base}downloads/{version}/"
    dumps = {
        "sources": [downloads + f.name for f in files if f.name.startswith("hrgraph.")],
        "description": [downloads + "description.ttl"],
        "shacl-report": [downloads + f.name for f in files if f.name == "shacl-report.ttl"],
    }
    parts = {name: ox.NamedNode(f"{base}dataset#{name}") for name in PARTS}
    for name, part in parts.items():
        b.iri(dataset, VOID + "subset", part.value)
        b.iri(part, RDF + "type", VOID + "Dataset")
        b.text(part, DCT + "title", PARTS[name])
        for url in dumps[name]:
            b.iri(dataset, VOID + "dataDump", url)
            b.iri(part, VOID + "dataDump", url)
    _statistics(b, parts["sources"], facts.triples)
    for namespace in _vocabularies(facts.triples | b.triples | report):
        b.iri(dataset, VOID + "vocabulary", namespace)
    _counts(b, dataset, parts, facts.triples, report)


def _counts(
    b: _Builder,
    dataset: ox.NamedNode,
    parts: dict[str, ox.NamedNode],
    sources: set[ox.Triple],
    report: set[ox.Triple],
) -> None:
    integer = ox.NamedNode(XSD + "integer")
    pending = len(parts) + 1  # the count triples still to add, all new (their subjects differ)
    own = len(b.triples) + pending
    for name, count in (
        ("sources", len(sources)),
        ("description", own),
        ("shacl-report", len(report)),
    ):
        b.add(parts[name], VOID + "triples", ox.Literal(str(count), datatype=integer))
    # The store merges the parts into one default graph: a triple in two parts is one triple.
    total = len(sources | b.triples | report) + 1
    b.add(dataset, VOID + "triples", ox.Literal(str(total), datatype=integer))


def _vocabularies(triples: Iterable[ox.Triple]) -> list[str]:
    """The namespaces of every predicate and class used."""
    used: set[str] = set()
    for triple in triples:
        used.add(triple.predicate.value)
        if triple.predicate.value == RDF + "type" and isinstance(triple.object, ox.NamedNode):
            used.add(triple.object.value)
    return sorted({iri[: max(iri.rfind("#"), iri.rfind("/")) + 1] for iri in used})


def _statistics(b: _Builder, part: ox.NamedNode, triples: set[ox.Triple]) -> None:
    classes, properties = Counter[str](), Counter[str]()
    subjects: set[str] = set()
    for triple in triples:
        subjects.add(str(triple.subject))
        properties[triple.predicate.value] += 1
        if triple.predicate.value == RDF + "type" and isinstance(triple.object, ox.NamedNode):
            classes[triple.object.value] += 1
    integer = ox.NamedNode(XSD + "integer")
    b.add(part, VOID + "distinctSubjects", ox.Literal(str(len(subjects)), datatype=integer))
    b.add(part, VOID + "classes", ox.Literal(str(len(classes)), datatype=integer))
    b.add(part, VOID + "properties", ox.Literal(str(len(properties)), datatype=integer))
    for kind, counts, key in (
        (VOID + "classPartition", classes, VOID + "class"),
        (VOID + "propertyPartition", properties, VOID + "property"),
    ):
        for iri, count in sorted(counts.items()):
            node = ox.BlankNode(f"{kind.rsplit('#', 1)[1]}{len(b.quads)}")
            b.add(part, kind, node)
            b.iri(node, key, iri)
            stat = VOID + ("entities" if key == VOID + "class" else "triples")
            b.add(node, stat, ox.Literal(str(count), datatype=integer))
