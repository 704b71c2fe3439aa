"""The shipped data as a reader checks it: typed, labelled in both languages, and complete
against the CONFIRMED organizations and programs of ../shared/reference/domain-sources.md."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from hrgraph.build.sources import load_sources
from hrgraph.build.validation import to_rdflib
from hrgraph.config import CANONICAL_BASE, load_settings

ID = CANONICAL_BASE + "id/"
HR = "https://w3id.org/hrgraph/ontology#"

#: Every CONFIRMED organization of domain-sources.md (site visits, partners, funders, project).
ORGANIZATIONS = [
    "canadian-harm-reduction-network",
    "canadian-aids-society",
    "health-canada",
    "catie",
    "ontario-hiv-treatment-network",
    "blood-ties-four-directions",
    "solid",
    "streetworks",
    "boyle-street-community-services",
    "aadac",
    "mount-carmel-clinic",
    "winnipeg-harvest",
    "elizabeth-fry-society",
    "agence-sante-abitibi-temiscamingue",
    "sandy-hill-community-health-centre",
    "ottawa-public-health",
    "centre-amethyst",
    "bruce-house",
    "sobriety-house",
    "conseil-regional-de-sante-champlain",
    "childrens-aid-society",
    "ontario-mohltc-aids-bureau",
    "point-de-reperes",
    "pipq",
    "moisson-quebec",
    "mainline-needle-exchange",
    "direction-180",
    "nova-scotia-advisory-commission-on-aids",
    "iwk-grace",
    "aids-committee-of-newfoundland-and-labrador",
    "community-youth-network",
    "choices-for-youth",
    "youth-and-family-services",
    "eastern-health",
    "naomi-centre",
    "canadian-red-cross",
    "newfoundland-and-labrador-housing-corporation",
    "ankors",
    "west-kootenay-boundary-addiction-services",
    "canadian-centre-on-substance-abuse",
]

#: Every CONFIRMED program of domain-sources.md.
PROGRAMS = [
    "blood-ties-needle-exchange",
    "blood-ties-safer-crack-kits",
    "whitehorse-outreach-van",
    "solid-peer-outreach",
    "streetworks-outreach",
    "sage-house",
    "sos-solvent-users-group",
    "essais",
    "oasis",
    "ottawa-needle-exchange-site",
    "ottawa-safer-crack-use-initiative",
    "pipq-drop-in",
    "guides-de-rue",
    "mainline-fixed-site",
    "mainline-mobile-outreach",
    "direction-180",
    "swap",
    "street-reach",
    "tommy-sexton-centre",
]

CITIES = "whitehorse victoria edmonton winnipeg rouyn-noranda ottawa quebec halifax st-johns"


@pytest.fixture(scope="module")
def graph() -> Graph:
    sources = load_sources(load_settings({}, environ={}))
    return to_rdflib(sources.quads(("data",)))


def labels(graph: Graph, subject: URIRef) -> set[str | None]:
    values = [*graph.objects(subject, RDFS.label), *graph.objects(subject, SKOS.prefLabel)]
    return {v.language for v in values if isinstance(v, Literal)}


def test_every_iri_in_the_data_has_one_type_and_english_and_french_labels(graph: Graph) -> None:
    subjects = {s for s in graph.subjects() if isinstance(s, URIRef)}
    objects = {o for o in graph.objects() if isinstance(o, URIRef) and str(o).startswith(ID)}
    assert len(subjects) > 400
    for iri in subjects | objects:
        assert str(iri).startswith(ID), iri
        assert len(list(graph.objects(iri, RDF.type))) == 1, iri
        assert {"en", "fr"} <= labels(graph, iri), iri


@pytest.mark.parametrize(
    ("kind", "slug"),
    [("organization", s) for s in ORGANIZATIONS] + [("program", s) for s in PROGRAMS],
)
def test_confirmed_organizations_and_programs_are_present_with_a_source(
    graph: Graph, kind: str, slug: str
) -> None:
    iri = URIRef(f"{ID}{kind}/{slug}")
    assert (iri, RDF.type, URIRef(HR + kind.capitalize())) in graph
    sources = list(graph.objects(iri, DCTERMS.source))
    assert sources
    for source in sources:
        assert graph.value(source, RDF.type) in (
            URIRef(HR + "Document"),
            URIRef(HR + "DocumentPage"),
        )


@pytest.mark.parametrize("slug", CITIES.split())
def test_the_nine_cities_have_codes_and_coordinates(graph: Graph, slug: str) -> None:
    city = URIRef(f"{ID}city/{slug}")
    code = str(graph.value(city, URIRef(HR + "sgcCode")))
    assert str(graph.value(city, URIRef(HR + "ocdId"))) == f"ocd-division/country:ca/csd:{code}"
    assert graph.value(city, URIRef("http://www.w3.org/2003/01/geo/wgs84_pos#lat")) is not None


def test_only_confirmed_wikidata_and_geonames_ids_are_same_as(graph: Graph) -> None:
    confirmed = {
        "Q2132",
        "Q2096",
        "Q2135",
        "Q1930",
        "Q2145",
        "Q2141",
        "6174041",
        "5946768",
        "6183235",
        "6094817",
        "6325494",
        "6324729",
        "6324733",
    }
    same = {
        str(o).rstrip("/").rsplit("/", 1)[-1]
        for o in graph.objects(None, URIRef("http://www.w3.org/2002/07/owl#sameAs"))
    }
    assert same == confirmed


def test_programs_lessons_and_findings_cite_a_page_or_document(graph: Graph) -> None:
    for cls in ("Program", "Lesson", "Challenge", "Finding", "Need", "Milestone", "Figure"):
        members = list(graph.subjects(RDF.type, URIRef(HR + cls)))
        assert members, cls
        for member in members:
            assert list(graph.objects(member, DCTERMS.source)), member


def test_uncertain_items_say_why(graph: Graph) -> None:
    uncertain = list(graph.subjects(URIRef(HR + "certainty"), Literal("uncertain")))
    assert uncertain
    for item in uncertain:
        notes = {n.language for n in graph.objects(item, SKOS.note) if isinstance(n, Literal)}
        assert {"en", "fr"} <= notes, item
