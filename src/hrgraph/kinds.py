"""The kinds of resource, named once: for each, the ontology classes whose instances it holds,
the path segment of their IRIs (`<base>id/<segment>/<slug>`, also the prefix a query may use
undeclared: `program:`), and its name in English and French (singular, plural). The builder's
tables, the engine's prefixes and the pages' kinds are all read from here, and
tests/test_kinds.py checks this table against the ontology: every class of `hr:` is in exactly
one kind. The order is the order of sections on pages and of groups in search results.
"""

from __future__ import annotations

from dataclasses import dataclass

from hrgraph.vocab import SKOS


@dataclass(frozen=True)
class Kind:
    name: str
    #: local names in the ontology (hr:), or full IRIs of classes from other vocabularies
    classes: tuple[str, ...]
    segment: str
    en: tuple[str, str]
    fr: tuple[str, str]


KINDS: tuple[Kind, ...] = (
    Kind("project", ("Project",), "project", ("Project", "Projects"), ("Projet", "Projets")),
    Kind("consultation", ("Consultation", "Symposium", "FocusGroups", "SiteVisits"),
         "consultation", ("Consultation", "Consultations"), ("Consultation", "Consultations")),
    Kind("city", ("City",), "city", ("City", "Cities"), ("Ville", "Villes")),
    Kind("province", ("Province",), "province",
         ("Province or territory", "Provinces and territories"),
         ("Province ou territoire", "Provinces et territoires")),
    Kind("organization", ("Organization",), "organization",
         ("Organization", "Organizations"), ("Organisme", "Organismes")),
    Kind("program", ("Program",), "program", ("Program", "Programs"), ("Programme", "Programmes")),
    Kind("practice", ("Practice",), "practice",
         ("Practice", "Practices"), ("Pratique", "Pratiques")),
    Kind("lesson", ("Lesson",), "lesson", ("Lesson", "Lessons"), ("Leçon", "Leçons")),
    Kind("challenge", ("Challenge",), "challenge", ("Challenge", "Challenges"), ("Défi", "Défis")),
    Kind("finding", ("Finding",), "finding", ("Finding", "Findings"), ("Constat", "Constats")),
    # Needs are findings (hr:Need rdfs:subClassOf hr:Finding) and share their IRIs' segment.
    Kind("need", ("Need",), "finding", ("Need", "Needs"), ("Besoin", "Besoins")),
    Kind("milestone", ("Milestone",), "milestone",
         ("Milestone", "Milestones"), ("Jalon", "Jalons")),
    Kind("figure", ("Figure",), "figure", ("Figure", "Figures"), ("Chiffre", "Chiffres")),
    Kind("theme", ("Theme",), "theme", ("Theme", "Themes"), ("Thème", "Thèmes")),
    Kind("population", ("Population",), "population",
         ("Population", "Populations"), ("Population", "Populations")),
    Kind("scheme", (SKOS + "ConceptScheme",), "scheme",
         ("Vocabulary", "Vocabularies"), ("Vocabulaire", "Vocabulaires")),
    Kind("fund", ("FundingProgram",), "fund", ("Funding program", "Funding programs"),
         ("Programme de financement", "Programmes de financement")),
    Kind("person", ("Person",), "person", ("Person", "People"), ("Personne", "Personnes")),
    # Parts of a report edition (chapters, sections) are documents and share their IRIs' segment.
    Kind("document", ("Document", "DocumentPart"), "document", ("Document", "Documents"),
         ("Document", "Documents")),
    Kind("page", ("DocumentPage",), "page", ("Document page", "Document pages"),
         ("Page de document", "Pages de documents")),
)  # fmt: skip

BY_NAME: dict[str, Kind] = {kind.name: kind for kind in KINDS}
#: The path segments under id/, in order, each once.
SEGMENTS: tuple[str, ...] = tuple(dict.fromkeys(kind.segment for kind in KINDS))


def class_iris(kind: Kind, ontology: str) -> tuple[str, ...]:
    """The kind's classes as IRIs, `ontology` being the namespace of the release's ontology."""
    return tuple(cls if ":" in cls else ontology + cls for cls in kind.classes)


def kinds_of_classes(ontology: str) -> dict[str, str]:
    """Class IRI -> the name of its kind."""
    return {cls: kind.name for kind in KINDS for cls in class_iris(kind, ontology)}
