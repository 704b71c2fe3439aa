"""The release description (description.ttl of a fresh build) against the official DCAT-AP 3.0.1
shapes, vendored in tests/build/dcat-ap-3.0.1/ (see its README): no Violation of the profile's
constraints or ranges, and only the recommended warnings the data cannot honestly answer. Its
facts are the sources' own, and its VoID counts are what the real endpoint answers.

Each shapes file is used alone: the SEMIC files share node shapes and refer to property shapes
the other file defines, which pySHACL refuses, so the references a file does not define are
dropped. Validation uses RDFS entailment, as the profile assumes."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, RDF, SKOS, VOID, Namespace

from hrgraph.build.writer import current_release
from hrgraph.config import CANONICAL_BASE, Settings

BASE = CANONICAL_BASE
SHAPES = Path(__file__).parent / "dcat-ap-3.0.1"
SH = Namespace("http://www.w3.org/ns/shacl#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")  # DCAT 3: rdflib's DCAT has no inSeries
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SCHEMA = Namespace("https://schema.org/")
HR = Namespace(BASE + "ontology#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
DATASET, CATALOG = URIRef(BASE + "dataset"), URIRef(BASE + "catalog")
CANADA = URIRef("http://publications.europa.eu/resource/authority/country/CAN")

Finding = tuple[str, str, str]  # severity, focus node, path


@pytest.fixture(scope="module")
def release(served_settings: Settings) -> Path:
    found = current_release(served_settings.releases)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def description(release: Path) -> Graph:
    return Graph().parse(release / "description.ttl")


@pytest.fixture(scope="module")
def sources(release: Path) -> Graph:
    return Graph().parse(release / "hrgraph.ttl")


def shapes(name: str) -> Graph:
    graph = Graph().parse(SHAPES / name)
    defined = set(graph.subjects(SH.path, None))
    for shape, ref in list(graph.subject_objects(SH.property)):
        if ref not in defined:
            graph.remove((shape, SH.property, ref))
    return graph


def findings(data: Graph, name: str) -> list[Finding]:
    _, report, _ = validate(data, shacl_graph=shapes(name), inference="rdfs", allow_warnings=True)
    return sorted(
        (
            str(report.value(result, SH.resultSeverity)).rpartition("#")[2],
            str(report.value(result, SH.focusNode)),
            str(report.value(result, SH.resultPath)),
        )
        for result in report.subjects(RDF.type, SH.ValidationResult)
    )


@pytest.mark.parametrize("name", ["dcat-ap-SHACL.ttl", "ranges.ttl"])
def test_no_violation_of_the_profile(description: Graph, name: str) -> None:
    assert findings(description, name) == []


def test_the_shapes_still_bite(description: Graph) -> None:
    """The dropped references and the entailment do not blunt the shapes: the faults this
    description had before DCAT-AP (a catalogue without description, a format as a string, an
    untyped licence) are still Violations."""
    broken = Graph() + description
    broken.remove((CATALOG, DCTERMS.description, None))
    dist = next(d for d in broken.objects(DATASET, DCAT.distribution) if str(d).endswith(".ttl"))
    broken.set((dist, DCTERMS["format"], Literal("text/turtle")))
    broken.remove((URIRef("https://creativecommons.org/licenses/by/4.0/"), RDF.type, None))
    required = {(f[1], f[2]) for f in findings(broken, "dcat-ap-SHACL.ttl")}
    assert {
        (str(CATALOG), str(DCTERMS.description)),
        (str(dist), str(DCTERMS["format"])),
    } <= required
    ranges = {f[2] for f in findings(broken, "ranges.ttl") if f[0] == "Violation"}
    assert str(DCTERMS.license) in ranges


def test_only_the_recommendations_the_data_cannot_answer_are_left(description: Graph) -> None:
    distributions = set(description.subjects(RDF.type, DCAT.Distribution))
    locations = set(description.subjects(RDF.type, DCTERMS.Location))
    agents = set(description.subjects(RDF.type, FOAF.Agent))
    expected = {
        # The catalogue's home page is the server's /, which is HTML only: an IRI described
        # here must dereference as RDF too.
        (CATALOG, FOAF.homepage),
        # How long a release's files stay depends on the operator (hrgraph prune), not on
        # the release: no planned availability can be promised.
        *((d, DCATAP.availability) for d in distributions),
        # The sources give no bounding box for any place, and no point for Canada (the
        # cities have their data's coordinates as dcat:centroid).
        *((place, DCAT.bbox) for place in locations),
        (CANADA, DCAT.centroid),
        # The sources do not say what kind of body CHRN and CAS are (ADMS publisher type).
        *((agent, DCTERMS.type) for agent in agents),
    }
    found = findings(description, "shapes_recommended.ttl")
    assert {severity for severity, _, _ in found} == {"Warning"}
    assert {(URIRef(focus), URIRef(path)) for _, focus, path in found} == expected
    assert len(found) == len(expected)
    # what the shapes recommend and the description gives
    assert len(distributions) >= 17 and len(locations) == 8 and len(agents) == 2


def test_the_catalogue_holds_the_dataset_series_and_service(description: Graph) -> None:
    series = URIRef(BASE + "dataset-series")
    service = URIRef(BASE + "sparql-service")
    assert (CATALOG, DCAT.dataset, DATASET) in description
    assert (CATALOG, DCAT.service, service) in description
    assert (DATASET, DCAT.inSeries, series) in description
    assert (series, RDF.type, DCAT.DatasetSeries) in description
    assert set(description.objects(series, DCAT.seriesMember)) == {DATASET}
    assert description.value(service, DCAT.endpointURL) == URIRef(BASE + "sparql")
    assert description.value(service, DCAT.servesDataset) == DATASET
    protocol = URIRef("https://www.w3.org/TR/sparql11-protocol/")
    assert description.value(service, DCTERMS.conformsTo) == protocol
    themes = {str(t).rpartition("/")[2] for t in description.objects(DATASET, DCAT.theme)}
    assert themes == {"HEAL", "SOCI"}
    keywords = {k.language for k in description.objects(DATASET, DCAT.keyword)}
    assert keywords == {"en", "fr"}


def test_formats_are_authority_iris(description: Graph) -> None:
    eu, iana = "http://publications.europa.eu/resource/authority/", "https://www.iana.org/"
    for dist in description.objects(DATASET, DCAT.distribution):
        assert str(description.value(dist, DCTERMS["format"])).startswith(eu + "file-type/")
        media = description.value(dist, DCAT.mediaType)
        assert media is None or str(media).startswith(iana + "assignments/media-types/")
        assert {d.language for d in description.objects(dist, DCTERMS.description)} == {
            "en",
            "fr",
        }
    languages = {str(lang) for lang in description.objects(DATASET, DCTERMS.language)}
    assert languages == {eu + "language/ENG", eu + "language/FRA"}


# --- nothing invented: the description's facts are the sources' -------------------------------


def test_spatial_coverage_is_canada_and_the_cities_confirmed_ids(
    description: Graph, sources: Graph
) -> None:
    cities = set(sources.subjects(RDF.type, HR.City))
    confirmed = {same: city for city in cities for same in sources.objects(city, OWL.sameAs)}
    places = set(description.objects(DATASET, DCTERMS.spatial)) - {CANADA}
    assert places and places <= set(confirmed)
    for place in places:
        city = confirmed[place]
        assert set(description.objects(place, SKOS.prefLabel)) == set(
            sources.objects(city, URIRef("http://www.w3.org/2000/01/rdf-schema#label"))
        )
        long, lat = re.findall(r"-?[\d.]+", str(description.value(place, DCAT.centroid)))
        geo = Namespace("http://www.w3.org/2003/01/geo/wgs84_pos#")
        assert float(lat) == float(sources.value(city, geo.lat))
        assert float(long) == float(sources.value(city, geo.long))


def test_temporal_coverage_is_the_projects_dates(description: Graph, sources: Graph) -> None:
    period = description.value(DATASET, DCTERMS.temporal)
    start, end = description.value(period, DCAT.startDate), description.value(period, DCAT.endDate)
    symposium = URIRef(BASE + "id/consultation/winnipeg-symposium-2007")
    report = URIRef(BASE + "id/document/report-en")
    assert (
        start
        == sources.value(symposium, SCHEMA.startDate)
        == Literal("2007-03-30", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date"))
    )
    assert end == sources.value(report, DCTERMS.issued)


def test_contacts_are_the_addresses_the_report_printed(description: Graph, sources: Graph) -> None:
    printed = {str(a) for a in sources.objects(None, SCHEMA.address)}
    contacts = list(description.objects(DATASET, DCAT.contactPoint))
    assert len(contacts) == 2
    for contact in contacts:
        address = description.value(contact, VCARD.hasAddress)
        parts = [
            description.value(address, VCARD[k]) for k in ("locality", "region", "postal-code")
        ]
        street = description.value(address, VCARD["street-address"])
        assert f"{street}, {parts[0]} {parts[1]} {parts[2]}" in printed
        # no e-mail, telephone or web address: the sources give none
        assert not {VCARD.hasEmail, VCARD.hasTelephone, VCARD.hasURL} & set(
            description.predicates(contact)
        )
    creators = set(description.objects(DATASET, DCTERMS.creator))
    assert creators == set(sources.objects(URIRef(BASE + "id/document/report-en"), DCTERMS.creator))


# --- VoID: the counts are what the endpoint answers --------------------------------------------


def count(client: httpx.Client, where: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"
    response = client.post("/sparql", data={"query": query}, headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


@pytest.fixture(scope="module")
def void(client: httpx.Client) -> Graph:
    response = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    return Graph().parse(data=response.text, format="turtle")


def triples(void: Graph, subject: URIRef) -> int:
    return int(void.value(subject, VOID.triples))


PARTS = {name: URIRef(f"{DATASET}#{name}") for name in ("sources", "description", "shacl-report")}
RELEASE_GRAPHS = BASE + "graph/release/"


def test_void_subsets_match_the_endpoint(client: httpx.Client, void: Graph) -> None:
    assert set(void.objects(DATASET, VOID.subset)) == set(PARTS.values())
    in_sources = f'GRAPH ?g {{ ?s ?p ?o }} FILTER(!STRSTARTS(STR(?g), "{RELEASE_GRAPHS}"))'
    assert triples(void, PARTS["sources"]) == count(
        client, f"SELECT DISTINCT ?s ?p ?o WHERE {{ {in_sources} }}"
    )
    assert triples(void, PARTS["description"]) == count(
        client, f"GRAPH <{RELEASE_GRAPHS}description> {{ ?s ?p ?o }}"
    )


def test_void_total_is_the_default_graph(client: httpx.Client, void: Graph) -> None:
    assert triples(void, PARTS["shacl-report"]) == count(
        client, f"GRAPH <{RELEASE_GRAPHS}shacl-report> {{ ?s ?p ?o }}"
    )
    assert triples(void, DATASET) == count(client, "?s ?p ?o")  # the default graph
    assert sum(triples(void, p) for p in PARTS.values()) == triples(void, DATASET)


def test_void_links(client: httpx.Client, void: Graph) -> None:
    assert void.value(DATASET, VOID.sparqlEndpoint) == URIRef(BASE + "sparql")
    assert str(void.value(DATASET, VOID.uriSpace)) == BASE + "id/"
    vocabularies = {str(v) for v in void.objects(DATASET, VOID.vocabulary)}
    assert {BASE + "ontology#", str(DCAT), str(SKOS), str(SCHEMA)} <= vocabularies
    dumps = [str(d) for d in void.objects(DATASET, VOID.dataDump)]
    names = {d.rpartition("/")[2] for d in dumps}
    assert {"hrgraph.ttl", "hrgraph.nt.gz", "hrgraph.trig", "description.ttl"} <= names
    for dump in dumps:  # the base IRI maps onto this server
        assert client.head("/" + dump.removeprefix(BASE)).status_code == 200, dump


def test_the_endpoint_holds_the_description(
    client: httpx.Client, void: Graph, description: Graph
) -> None:
    """The store's description graph is description.ttl, which counts its own triples."""
    in_store = count(client, f"GRAPH <{BASE}graph/release/description> {{ ?s ?p ?o }}")
    assert in_store == len(description) == triples(void, URIRef(f"{DATASET}#description"))
