"""English and French for the human-facing pages: the language a request gets, the UI strings,
the names of the kinds of resource, and labels for the predicates the ontology does not label.

Labels of the data itself (cities, programs, hr: properties) come from the release, never from
here: this module holds only what the data does not say.
"""

from __future__ import annotations

from collections.abc import Mapping

from hrgraph import kinds
from hrgraph.vocab import DCT, SCHEMA, SKOS

LANGUAGES: tuple[str, ...] = ("en", "fr")
DEFAULT = "en"
#: The name of each language in itself (the switch is read by someone who may not read the other).
NATIVE: dict[str, str] = {"en": "English", "fr": "Français"}


def choose(param: str | None, accept_language: str | None) -> str:
    """The page language: `?lang=` if it names one we have, else the best of Accept-Language by
    q-value (ties: the header's order), else English."""
    if param:
        wanted = param.strip().lower()
        if wanted in LANGUAGES:
            return wanted
    return _from_header(accept_language or "")


def _from_header(header: str) -> str:
    best, best_q = DEFAULT, 0.0
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = _q_value(params)
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


def _q_value(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0  # a malformed weight counts as "not acceptable"
    return 1.0


def other(lang: str) -> str:
    return "fr" if lang == "en" else "en"


#: UI strings: key → {en, fr}.
STRINGS: dict[str, dict[str, str]] = {
    "site": {"en": "hrgraph", "fr": "hrgraph"},
    "tagline": {
        "en": "Community-based harm reduction in Canada, as linked data",
        "fr": "La réduction des méfaits communautaire au Canada, en données liées",
    },
    "skip": {"en": "Skip to content", "fr": "Aller au contenu"},
    "nav": {"en": "Main navigation", "fr": "Navigation principale"},
    "home": {"en": "Home", "fr": "Accueil"},
    "search": {"en": "Search", "fr": "Rechercher"},
    "search_label": {"en": "Search the data", "fr": "Rechercher dans les données"},
    "sparql": {"en": "SPARQL", "fr": "SPARQL"},
    "downloads": {"en": "Downloads", "fr": "Téléchargements"},
    "ontology": {"en": "Ontology", "fr": "Ontologie"},
    "language": {"en": "Language", "fr": "Langue"},
    "switch": {"en": "Version française", "fr": "English version"},
    "release": {"en": "Release", "fr": "Version des données"},
    "license": {
        "en": "Data: CC BY 4.0, from the report of the Canadian Harm Reduction Network and the "
        "Canadian AIDS Society. Code: Apache-2.0.",
        "fr": "Données : CC BY 4.0, tirées du rapport du Réseau canadien de la réduction des "
        "méfaits et de la Société canadienne du sida. Code : Apache-2.0.",
    },
    # home
    "about_project": {"en": "About the project", "fr": "Le projet"},
    "led_by": {"en": "Led by", "fr": "Dirigé par"},
    "funded_by": {"en": "Funded by", "fr": "Financé par"},
    "consultations": {"en": "Consultations", "fr": "Consultations"},
    "documents": {"en": "Documents", "fr": "Documents"},
    "contacts": {"en": "Contacts", "fr": "Personnes-ressources"},
    "project_site": {"en": "Project page", "fr": "Page du projet"},
    "in_numbers": {"en": "In numbers", "fr": "En chiffres"},
    "map_title": {"en": "The nine cities of the site visits", "fr": "Les neuf villes visitées"},
    "map_desc": {
        "en": "A map of Canada with a link to each city the project visited.",
        "fr": "Une carte du Canada avec un lien vers chaque ville visitée par le projet.",
    },
    "ways_in": {"en": "Ways in", "fr": "Points d'entrée"},
    "by_city": {"en": "By city", "fr": "Par ville"},
    "by_practice": {"en": "By practice", "fr": "Par pratique"},
    "by_lesson": {"en": "By lesson", "fr": "Par leçon"},
    "programs_using": {"en": "programs", "fr": "programmes"},
    "program_using": {"en": "program", "fr": "programme"},
    "other_lessons": {"en": "No city", "fr": "Sans ville"},
    # resource pages
    "details": {"en": "Details", "fr": "Détails"},
    "property": {"en": "Property", "fr": "Propriété"},
    "value": {"en": "Value", "fr": "Valeur"},
    "sources": {"en": "Sources", "fr": "Sources"},
    "source": {"en": "Source", "fr": "Source"},
    "view_online": {"en": "view online", "fr": "consulter en ligne"},
    "in_document": {"en": "in", "fr": "dans"},
    "default_value": {"en": "default", "fr": "par défaut"},
    "sources_note": {
        "en": "Page numbers are those of the online viewer of the report's French edition "
        "(Partager nos connaissances), in the copy named; a printed page is given where it is "
        "known. Every statement's own source is in this page's data (rdf:Statement).",
        "fr": "Les numéros de page sont ceux de la visionneuse en ligne de l'édition française du "
        "rapport (Partager nos connaissances), dans la copie nommée\u00a0; la page imprimée est "
        "donnée quand elle est connue. La source propre à chaque énoncé est dans les données de "
        "cette page (rdf:Statement).",
    },
    # French sets a no-break space before a colon
    "colon": {"en": ":", "fr": "\u00a0:"},
    "uncertain": {"en": "Uncertain", "fr": "Incertain"},
    # error pages: what happened, in plain words, and what to do next (the server's own
    # message, in English, follows as the technical detail)
    "error_details": {"en": "Technical details", "fr": "Détails techniques"},
    "error_position": {
        "en": "Line {line}, column {column}.",
        "fr": "Ligne {line}, colonne {column}.",
    },
    "error_setting": {
        "en": "The limit is the server setting",
        "fr": "La limite est le réglage du serveur",
    },
    "error_suggestions": {"en": "Did you mean:", "fr": "Vouliez-vous dire\u00a0:"},
    "error_query": {"en": "Your query", "fr": "Votre requête"},
    "error_home": {"en": "Home page", "fr": "Page d'accueil"},
    "error_search": {"en": "Search", "fr": "Recherche"},
    # on program, organization and city pages: the facts are the 2007-08 study's
    "dated_note": {
        "en": "This page describes what the Learning from Each Other study found in 2007\u201308. "
        "Programs, services, hours and contacts may have changed since: check with the "
        "organization before you rely on them.",
        "fr": "Cette page décrit ce que l'étude Partager nos connaissances a constaté en "
        "2007-2008. Les programmes, les services, les horaires et les coordonnées ont pu "
        "changer depuis\u00a0: vérifiez auprès de l'organisme avant de vous y fier.",
    },
    "schedule_then": {
        "en": "schedule at the time of the visit",
        "fr": "horaire au moment de la visite",
    },
    "uncertain_note": {
        "en": "The sources are not sure about this item.",
        "fr": "Les sources ne sont pas certaines de cet élément.",
    },
    "notes": {"en": "Notes", "fr": "Notes"},
    "cited_by": {"en": "Cited by", "fr": "Cité par"},
    "data": {"en": "This page as data", "fr": "Cette page en données"},
    "formats": {"en": "Download its description as", "fr": "Télécharger sa description en"},
    "query": {"en": "The SPARQL query that gives it", "fr": "La requête SPARQL qui la donne"},
    "permalink": {"en": "Permanent identifier (IRI)", "fr": "Identifiant permanent (IRI)"},
    "learning": {"en": "Learning from each other", "fr": "Apprendre les uns des autres"},
    "learning_intro": {
        "en": "Every program, in every city, that uses this practice or a narrower one, with what "
        "it learned.",
        "fr": "Chaque programme, dans chaque ville, qui utilise cette pratique ou une pratique "
        "plus précise, avec ce qu'il en a appris.",
    },
    "via": {"en": "as", "fr": "comme"},
    "no_programs": {
        "en": "No program in the data uses this practice.",
        "fr": "Aucun programme des données n'utilise cette pratique.",
    },
    "best_practice": {
        "en": "Best-practice chapters and mappings",
        "fr": "Chapitres de pratiques exemplaires et correspondances",
    },
    "via_broader": {"en": "through the broader", "fr": "par la pratique plus large"},
    "citations": {"en": "Page-level citations", "fr": "Citations par page"},
    "page_cites": {"en": "cited by", "fr": "citée par"},
    "not_cited": {"en": "not cited", "fr": "non citée"},
    "related": {"en": "Related", "fr": "Liens"},
    "also_label": {"en": "In French", "fr": "En anglais"},
    # search
    "search_title": {"en": "Search", "fr": "Recherche"},
    "search_help": {
        "en": "Search the names and descriptions of programs, organizations, cities, practices, "
        "lessons and findings, in English and French. Accents and capitals do not matter.",
        "fr": "Recherchez dans les noms et descriptions des programmes, organismes, villes, "
        "pratiques, leçons et constats, en français et en anglais. Les accents et les majuscules "
        "ne comptent pas.",
    },
    "search_empty": {
        "en": "Type one or more words to search.",
        "fr": "Tapez un ou plusieurs mots à rechercher.",
    },
    "search_too_long": {
        "en": "The search is too long: use at most {limit} characters.",
        "fr": "La recherche est trop longue : utilisez au plus {limit} caractères.",
    },
    "search_none": {
        "en": "Nothing matches “{q}”.",
        "fr": "Aucun résultat pour « {q} ».",
    },
    "search_count": {
        "en": "{n} results for “{q}”.",
        "fr": "{n} résultats pour « {q} ».",
    },
    # the query workbench (/sparql, /queries/): `workbench_strings` gives them unprefixed
    "workbench_title": {"en": "SPARQL query workbench", "fr": "Atelier de requêtes SPARQL"},
    "workbench_intro": {
        "en": "Ask the knowledge graph a question in SPARQL. The prefixes listed below the "
        "editor are declared already.",
        "fr": "Posez une question au graphe de connaissances en SPARQL. Les préfixes indiqués "
        "sous l'éditeur sont déjà déclarés.",
    },
    "workbench_prefixes": {
        "en": "Prefixes every query may use without declaring them",
        "fr": "Préfixes que toute requête peut employer sans les déclarer",
    },
    "workbench_prefix": {"en": "Prefix", "fr": "Préfixe"},
    "workbench_namespace": {"en": "Namespace", "fr": "Espace de noms"},
    "workbench_query": {"en": "Query", "fr": "Requête"},
    "workbench_format": {"en": "Results as", "fr": "Résultats en"},
    "workbench_html": {"en": "a table on this page", "fr": "tableau sur cette page"},
    "workbench_run": {"en": "Run query", "fr": "Exécuter la requête"},
    "workbench_running": {"en": "Running…", "fr": "Exécution…"},
    "workbench_results": {"en": "Results", "fr": "Résultats"},
    "workbench_rows": {"en": "rows", "fr": "lignes"},
    "workbench_shown": {
        "en": "the first {n} rows are shown; download the results to get them all",
        "fr": "les {n} premières lignes sont affichées; téléchargez les résultats pour les "
        "avoir toutes",
    },
    "workbench_no_rows": {"en": "No results.", "fr": "Aucun résultat."},
    "workbench_download": {"en": "Download", "fr": "Télécharger"},
    "workbench_share": {"en": "Link to this query", "fr": "Lien vers cette requête"},
    "workbench_examples": {"en": "Example queries", "fr": "Exemples de requêtes"},
    "workbench_load": {"en": "Load in the editor", "fr": "Charger dans l'éditeur"},
    "workbench_canned": {"en": "Results as CSV", "fr": "Résultats en CSV"},
    "workbench_show_query": {"en": "Show the query", "fr": "Voir la requête"},
    "workbench_params": {"en": "Parameters", "fr": "Paramètres"},
    "workbench_error": {
        "en": "The query could not be answered",
        "fr": "La requête n'a pas pu être traitée",
    },
    "workbench_line": {
        "en": "line {line}, column {column}",
        "fr": "ligne {line}, colonne {column}",
    },
    "workbench_setting": {
        "en": "The limit is the setting {setting}.",
        "fr": "La limite est le paramètre {setting}.",
    },
    "workbench_map": {
        "en": "Map of the results (approximate outline of Canada)",
        "fr": "Carte des résultats (contour approximatif du Canada)",
    },
    "workbench_true": {"en": "yes (true)", "fr": "oui (true)"},
    "workbench_false": {"en": "no (false)", "fr": "non (false)"},
    "workbench_all_queries": {
        "en": "All canned queries",
        "fr": "Toutes les requêtes prêtes à l'emploi",
    },
    "workbench_queries_intro": {
        "en": "Each example is also a stable link that returns CSV (or JSON, TSV, XML with "
        "?format=). Parameters go in the link, for example ?city=whitehorse.",
        "fr": "Chaque exemple est aussi un lien stable qui renvoie du CSV (ou du JSON, TSV, "
        "XML avec ?format=). Les paramètres vont dans le lien, par exemple ?city=whitehorse.",
    },
    "workbench_endpoint": {
        "en": "Endpoint for programs: POST or GET /sparql (SPARQL 1.1 Protocol).",
        "fr": "Point d'accès pour les programmes : POST ou GET /sparql (protocole SPARQL 1.1).",
    },
    "workbench_network": {
        "en": "The server could not be reached.",
        "fr": "Le serveur est injoignable.",
    },
    "changes_title": {"en": "Changes of release {new}", "fr": "Changements de la version {new}"},
    "changes_since": {
        "en": "Since release {old}: {added} added, {removed} removed, {changed} changed.",
        "fr": "Depuis la version {old}\u00a0: {added} ajoutées, {removed} retirées, "
        "{changed} modifiées.",
    },
    "changes_first": {
        "en": "The first release: everything in it is new ({added} resources).",
        "fr": "La première version\u00a0: tout y est nouveau ({added} ressources).",
    },
    "changes_added": {"en": "Added", "fr": "Ajoutées"},
    "changes_removed": {"en": "Removed", "fr": "Retirées"},
    "changes_changed": {
        "en": "Changed (the properties that changed)",
        "fr": "Modifiées (les propriétés qui ont changé)",
    },
    "changes_formats": {"en": "Also as", "fr": "Aussi en"},
    # the data dictionary (/ontology): the model's texts come from the release
    "dictionary_title": {
        "en": "Ontology and data dictionary",
        "fr": "Ontologie et dictionnaire de données",
    },
    "dictionary_ontology_iri": {"en": "Ontology IRI", "fr": "IRI de l'ontologie"},
    "dictionary_version_iri": {"en": "version", "fr": "version"},
    "dictionary_download": {"en": "This dictionary as", "fr": "Ce dictionnaire en"},
    "dictionary_rdf": {"en": "The ontology as", "fr": "L'ontologie en"},
}


#: Error pages by status: a title and what to do next (the 4xx/5xx fallback for the others).
ERRORS: dict[int, dict[str, tuple[str, str]]] = {
    400: {
        "en": (
            "The request could not be answered",
            "Correct the address or the query: the details below say what is wrong and where.",
        ),
        "fr": (
            "La requête n'a pas pu recevoir de réponse",
            "Corrigez l'adresse ou la requête\u00a0: "
            "les détails ci-dessous disent ce qui ne va pas et où.",
        ),
    },
    404: {
        "en": (
            "Page not found",
            "Check the address, search for what you need, or start from the home page.",
        ),
        "fr": (
            "Page introuvable",
            "Vérifiez l'adresse, cherchez ce qu'il vous faut ou repartez de la page d'accueil.",
        ),
    },
    405: {
        "en": (
            "This address does not accept that method",
            "Open the address in a browser, or use GET (or POST for /sparql).",
        ),
        "fr": (
            "Cette adresse n'accepte pas cette méthode",
            "Ouvrez l'adresse dans un navigateur, ou utilisez GET (ou POST pour /sparql).",
        ),
    },
    406: {
        "en": (
            "No format fits what was asked for",
            "Ask for one of the formats the details list, or open the page in a browser.",
        ),
        "fr": (
            "Aucun format ne correspond à la demande",
            "Demandez l'un des formats que les "
            "détails énumèrent, ou ouvrez la page dans un navigateur.",
        ),
    },
    413: {
        "en": (
            "The query is too large",
            "Shorten the query, or download the data and query it on your own machine.",
        ),
        "fr": (
            "La requête est trop longue",
            "Raccourcissez la requête, ou téléchargez les données "
            "pour les interroger sur votre ordinateur.",
        ),
    },
    422: {
        "en": (
            "The answer would be too large",
            "Add LIMIT or filters to the query, or download "
            "the data and query it on your own machine.",
        ),
        "fr": (
            "La réponse serait trop volumineuse",
            "Ajoutez LIMIT ou des filtres à la requête, "
            "ou téléchargez les données pour les interroger sur votre ordinateur.",
        ),
    },
    429: {
        "en": (
            "Too many queries at once",
            "Wait for your other queries to finish, then try again.",
        ),
        "fr": (
            "Trop de requêtes à la fois",
            "Attendez la fin de vos autres requêtes, puis réessayez.",
        ),
    },
    502: {
        "en": (
            "The query engine did not answer",
            "Try again in a moment; if it goes on, the server's operator needs to know.",
        ),
        "fr": (
            "Le moteur de requêtes n'a pas répondu",
            "Réessayez dans un instant\u00a0; si cela "
            "continue, l'exploitant du serveur doit être prévenu.",
        ),
    },
    503: {
        "en": (
            "The server cannot answer this now",
            "Try again in a moment. A query that ran "
            "too long needs to be made simpler (fewer patterns, a LIMIT).",
        ),
        "fr": (
            "Le serveur ne peut pas répondre pour l'instant",
            "Réessayez dans un instant. Une "
            "requête trop longue doit être simplifiée (moins de motifs, un LIMIT).",
        ),
    },
    500: {
        "en": ("Something went wrong on the server", "Try again later; the error is logged."),
        "fr": (
            "Une erreur s'est produite sur le serveur",
            "Réessayez plus tard\u00a0; l'erreur est consignée.",
        ),
    },
}


def error_text(status: int, lang: str) -> tuple[str, str]:
    """The title of an error page and what to do next, in `lang`."""
    found = ERRORS.get(status) or ERRORS[400 if status < 500 else 503]
    return found.get(lang, found[DEFAULT])


def strings(lang: str) -> dict[str, str]:
    """Every UI string in `lang` (English where a French one is missing)."""
    return {key: texts.get(lang) or texts[DEFAULT] for key, texts in STRINGS.items()}


def workbench_strings(lang: str) -> dict[str, str]:
    """The workbench's strings in `lang`, without their prefix (as its templates and script
    name them)."""
    prefix = "workbench_"
    found = strings(lang)
    return {key.removeprefix(prefix): text for key, text in found.items() if key.startswith(prefix)}


#: Kinds of resource: name → (singular, plural) per language (hrgraph.kinds), and "resource"
#: for anything else. The order is the order of sections on pages and of groups in search results.
KINDS: dict[str, dict[str, tuple[str, str]]] = {
    **{kind.name: {"en": kind.en, "fr": kind.fr} for kind in kinds.KINDS},
    "resource": {"en": ("Resource", "Resources"), "fr": ("Ressource", "Ressources")},
}


def kind_name(kind: str, lang: str, plural: bool = False) -> str:
    names = KINDS.get(kind, KINDS["resource"])
    return names.get(lang, names[DEFAULT])[1 if plural else 0]


#: Labels of the predicates from other vocabularies (hr: ones are labelled by the ontology).
PREDICATES: dict[str, dict[str, str]] = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": {"en": "type", "fr": "type"},
    "http://www.w3.org/2000/01/rdf-schema#label": {"en": "label", "fr": "libellé"},
    "http://www.w3.org/2000/01/rdf-schema#seeAlso": {"en": "see also", "fr": "voir aussi"},
    "http://www.w3.org/2002/07/owl#sameAs": {"en": "same as", "fr": "identique à"},
    "http://www.w3.org/2003/01/geo/wgs84_pos#lat": {"en": "latitude", "fr": "latitude"},
    "http://www.w3.org/2003/01/geo/wgs84_pos#long": {"en": "longitude", "fr": "longitude"},
    DCT + "source": {"en": "source", "fr": "source"},
    DCT + "description": {"en": "description", "fr": "description"},
    DCT + "title": {"en": "title", "fr": "titre"},
    DCT + "date": {"en": "date", "fr": "date"},
    DCT + "issued": {"en": "issued", "fr": "publié"},
    DCT + "language": {"en": "language", "fr": "langue"},
    DCT + "publisher": {"en": "publisher", "fr": "éditeur"},
    DCT + "creator": {"en": "creator", "fr": "auteur"},
    DCT + "type": {"en": "document type", "fr": "type de document"},
    SCHEMA + "url": {"en": "web address", "fr": "adresse Web"},
    SCHEMA + "startDate": {"en": "start date", "fr": "date de début"},
    SCHEMA + "endDate": {"en": "end date", "fr": "date de fin"},
    SCHEMA + "foundingDate": {"en": "founded", "fr": "fondé en"},
    SCHEMA + "address": {"en": "address", "fr": "adresse"},
    SCHEMA + "alternateName": {"en": "also called", "fr": "autre nom"},
    SCHEMA + "isbn": {"en": "ISBN", "fr": "ISBN"},
    SCHEMA + "affiliation": {"en": "affiliation", "fr": "affiliation"},
    SCHEMA + "funder": {"en": "funder", "fr": "bailleur de fonds"},
    SKOS + "prefLabel": {"en": "label", "fr": "libellé"},
    SKOS + "definition": {"en": "definition", "fr": "définition"},
    SKOS + "note": {"en": "note", "fr": "note"},
    SKOS + "notation": {"en": "number", "fr": "numéro"},
    SKOS + "inScheme": {"en": "in vocabulary", "fr": "dans le vocabulaire"},
    SKOS + "topConceptOf": {"en": "top concept of", "fr": "concept de tête de"},
    SKOS + "hasTopConcept": {"en": "top concepts", "fr": "concepts de tête"},
    SKOS + "broader": {"en": "broader", "fr": "plus large"},
    SKOS + "narrower": {"en": "narrower", "fr": "plus précis"},
    SKOS + "closeMatch": {"en": "close match", "fr": "correspondance proche"},
    SKOS + "exactMatch": {"en": "exact match", "fr": "correspondance exacte"},
    SKOS + "broadMatch": {"en": "broader match", "fr": "correspondance plus large"},
    SKOS + "narrowMatch": {"en": "narrower match", "fr": "correspondance plus précise"},
    SKOS + "relatedMatch": {"en": "related match", "fr": "correspondance connexe"},
}


def predicate_label(iri: str, lang: str, ontology: Mapping[str, str] | None = None) -> str | None:
    """The label of a predicate: the ontology's (given), else ours, else None."""
    if ontology and ontology.get(lang):
        return ontology[lang]
    names = PREDICATES.get(iri)
    return names.get(lang, names[DEFAULT]) if names else None
