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
    "true": {"en": "yes", "fr": "oui"},
    "false": {"en": "no", "fr": "non"},
    "cited_by": {"en": "Cited by", "fr": "Cité par"},
    "data": {"en": "This page as data", "fr": "Cette page en données"},
    "formats": {"en": "Download its description as", "fr": "Télécharger sa description en"},
    "query": {"en": "The SPARQL query that gives it", "fr": "La requête SPARQL qui la donne"},
    "permalink": {"en": "Permanent identifier (IRI)", "fr": "Identifiant permanent (IRI)"},
    "learning": {"en": "Learning from each other", "fr": "Apprendre les uns des autres"},
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
        "fr": "Aucun résultat pour «\u00a0{q}\u00a0».",
    },
    "search_count_other": {
        "en": "{n} results for “{q}”.",
        "fr": "{n} résultats pour «\u00a0{q}\u00a0».",
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
    # --- the downloads listing, document pages (issue 11, item 10) ---
    "downloads_intro": {
        "en": "Versioned files never change. <code>/downloads/latest/&lt;file&gt;</code> "
        "redirects to the current release ({current}). Check a download with "
        "<code>sha256sum -c SHA256SUMS</code>.",
        "fr": "Les fichiers d'une version ne changent jamais. "
        "<code>/downloads/latest/&lt;fichier&gt;</code> redirige vers la version en cours "
        "({current}). Vérifiez un téléchargement avec <code>sha256sum -c SHA256SUMS</code>.",
    },
    "downloads_skipped": {
        "en": "Release {version} is not listed: {reason}.",
        "fr": "La version {version} n'est pas listée\u00a0: {reason}.",
    },
    "downloads_current": {"en": "(current)", "fr": "(en cours)"},
    "downloads_issued": {"en": "Issued", "fr": "Publiée le"},
    "downloads_changes": {"en": "changes", "fr": "changements"},
    "downloads_files": {
        "en": "Files of release {version}",
        "fr": "Fichiers de la version {version}",
    },
    "downloads_file": {"en": "File", "fr": "Fichier"},
    "downloads_bytes": {"en": "Bytes", "fr": "Octets"},
    "linked_from": {"en": "Linked from", "fr": "Liens vers cette ressource"},
    "table_of": {"en": "Table: {name}", "fr": "Tableau\u00a0: {name}"},
    # --- search (issue 11, item 3) ---
    # "search_count_other" (above) is the plural; these are the singular and the counts alone.
    "search_count_one": {"en": "1 result for “{q}”.", "fr": "1 résultat pour «\u00a0{q}\u00a0»."},
    "search_all_one": {"en": "1 result.", "fr": "1 résultat."},
    "search_all_other": {"en": "{n} results.", "fr": "{n} résultats."},
    "search_none_all": {
        "en": "Nothing matches these filters.",
        "fr": "Aucun résultat pour ces filtres.",
    },
    "search_did_you_mean": {"en": "Did you mean", "fr": "Vouliez-vous dire"},
    "search_instead": {
        "en": "Here are the results for “{q}” instead.",
        "fr": "Voici plutôt les résultats pour «\u00a0{q}\u00a0».",
    },
    "search_question": {"en": "?", "fr": "\u00a0?"},
    "search_refine": {"en": "Refine the results", "fr": "Affiner les résultats"},
    "search_active": {"en": "Filters in use", "fr": "Filtres appliqués"},
    "search_remove": {"en": "Remove the filter", "fr": "Retirer le filtre"},
    "search_facet_kind": {"en": "Kind", "fr": "Type"},
    "search_facet_city": {"en": "City", "fr": "Ville"},
    "search_facet_practice": {"en": "Practice", "fr": "Pratique"},
    "search_facet_population": {"en": "Population served", "fr": "Population desservie"},
    "search_city": {"en": "City", "fr": "Ville"},
    "search_cities": {"en": "Cities", "fr": "Villes"},
    "search_unknown_filter": {
        "en": "Filter {facet}: no such value “{value}”; choose one of the links on the search "
        "page.",
        "fr": "Filtre {facet}\u00a0: aucune valeur «\u00a0{value}\u00a0»\u00a0; choisissez l'un "
        "des liens de la page de recherche.",
    },
    "search_next": {"en": "Where next", "fr": "Et maintenant"},
    "search_browse": {"en": "Browse all", "fr": "Tout parcourir"},
    "search_sparql": {
        "en": "Ask your question in SPARQL (query workbench)",
        "fr": "Poser sa question en SPARQL (atelier de requêtes)",
    },
    # --- city overviews and practice pages (issue 11, items 1 and 6) ---
    "city_counts": {
        "en": "The data describes {organizations} and {programs} in {city}.",
        "fr": "Les données décrivent {organizations} et {programs} à {city}.",
    },
    "city_organizations_one": {"en": "{n} organization", "fr": "{n} organisme"},
    "city_organizations_other": {"en": "{n} organizations", "fr": "{n} organismes"},
    "city_programs_one": {"en": "{n} program", "fr": "{n} programme"},
    "city_programs_other": {"en": "{n} programs", "fr": "{n} programmes"},
    "city_practices_one": {
        "en": "Between them they use {n} practice",
        "fr": "Ensemble, ils appliquent {n} pratique",
    },
    "city_practices_other": {
        "en": "Between them they use {n} practices",
        "fr": "Ensemble, ils appliquent {n} pratiques",
    },
    "city_to_learn": {
        "en": "What other cities do and learned",
        "fr": "Ce que font les autres villes et ce qu'elles ont appris",
    },
    "city_uses": {"en": "Practices", "fr": "Pratiques"},
    "city_learn": {"en": "Learn from other cities", "fr": "Apprendre des autres villes"},
    "city_learn_intro": {
        "en": "For each practice used here, the other cities whose programs or organizations use "
        "it (or a narrower one), and what they learned about it.",
        "fr": "Pour chaque pratique appliquée ici, les autres villes dont des programmes ou des "
        "organismes l'appliquent (elle ou une pratique plus précise), et ce qu'elles en ont "
        "appris.",
    },
    "city_no_peer": {
        "en": "No other city in the data uses it.",
        "fr": "Aucune autre ville des données ne l'applique.",
    },
    "city_elsewhere": {
        "en": "Practices used elsewhere, not here",
        "fr": "Pratiques appliquées ailleurs, mais pas ici",
    },
    "city_elsewhere_intro": {
        "en": "Practices that programs or organizations of other cities use, and none of this "
        "city's does (as far as the data says).",
        "fr": "Pratiques qu'appliquent des programmes ou des organismes d'autres villes, et aucun "
        "de cette ville (d'après les données).",
    },
    "city_census": {"en": "Census and map data", "fr": "Recensement et carte"},
    "city_census_show": {
        "en": "Census codes, coordinates and identifiers in other databases",
        "fr": "Codes de recensement, coordonnées et identifiants dans d'autres bases",
    },
    "practice_summary_one": {
        "en": "{n} program in {cities} uses this practice or a narrower one.",
        "fr": "{n} programme dans {cities} applique cette pratique ou une pratique plus précise.",
    },
    "practice_summary_other": {
        "en": "{n} programs in {cities} use this practice or a narrower one.",
        "fr": "{n} programmes dans {cities} appliquent cette pratique ou une pratique plus "
        "précise.",
    },
    "practice_cities_one": {"en": "{n} city", "fr": "{n} ville"},
    "practice_cities_other": {"en": "{n} cities", "fr": "{n} villes"},
    "practice_no_city": {"en": "Not tied to one city", "fr": "Sans ville précise"},
    "practice_lessons": {
        "en": "What they learned about it",
        "fr": "Ce qu'ils en ont appris",
    },
    "practice_also": {"en": "Also linked to this practice", "fr": "Aussi liés à cette pratique"},
    # --- the comparison view, /compare (issue 11, item 2) ---
    "compare_nav": {"en": "Compare", "fr": "Comparer"},
    "compare_title": {"en": "Compare cities", "fr": "Comparer les villes"},
    "compare_intro": {
        "en": "What each city did for each practice: a row per practice, a column per city, and "
        "in each cell the city's programs that use the practice (each links to its page).",
        "fr": "Ce que chaque ville faisait pour chaque pratique\u00a0: une ligne par pratique, "
        "une colonne par ville et, dans chaque cellule, les programmes de la ville qui "
        "appliquent la pratique (chacun mène à sa page).",
    },
    "compare_filter": {"en": "Filter the table", "fr": "Filtrer le tableau"},
    "compare_filter_hint": {
        "en": "Tick none in a list to show all of it.",
        "fr": "Ne cochez rien dans une liste pour l'afficher en entier.",
    },
    "compare_cities": {"en": "Cities", "fr": "Villes"},
    "compare_practices": {"en": "Practices", "fr": "Pratiques"},
    "compare_apply": {"en": "Show", "fr": "Afficher"},
    "compare_reset": {"en": "Show everything", "fr": "Tout afficher"},
    "compare_summary": {
        "en": "Shown: {cities}, {practices}.",
        "fr": "Affichage\u00a0: {cities}, {practices}.",
    },
    "compare_of": {"en": "{shown} of {total} {noun}", "fr": "{shown} sur {total} {noun}"},
    "compare_city_one": {"en": "city", "fr": "ville"},
    "compare_city_other": {"en": "cities", "fr": "villes"},
    "compare_practice_one": {"en": "practice", "fr": "pratique"},
    "compare_practice_other": {"en": "practices", "fr": "pratiques"},
    "compare_rows": {
        "en": "Rows are the top-level practices of the scheme",
        "fr": "Les lignes sont les pratiques de premier niveau du schéma",
    },
    "compare_rows_many": {
        "en": "Rows are the top-level practices of the schemes",
        "fr": "Les lignes sont les pratiques de premier niveau des schémas",
    },
    "compare_rollup": {
        "en": "A program that uses a narrower practice (listed below the table) is counted in "
        "the broader practice's row.",
        "fr": "Un programme qui applique une pratique plus précise (énumérées sous le tableau) "
        "est compté dans la ligne de la pratique plus large.",
    },
    "compare_order": {
        "en": "Cities run from west to east; rows from the practice most cities have to the "
        "rarest.",
        "fr": "Les villes vont d'ouest en est\u00a0; les lignes, de la pratique présente dans le "
        "plus de villes à la plus rare.",
    },
    "compare_empty_note": {
        "en": "A dash (—) means the release names no program of that city for that practice, "
        "not that the city had none: some services were run directly by organizations, "
        "without a named program (see the city's page).",
        "fr": "Un tiret (—) signifie que la version ne nomme aucun programme de cette ville pour "
        "cette pratique, et non que la ville n'en avait aucun\u00a0: certains services étaient "
        "offerts directement par des organismes, sans programme nommé (voir la page de la "
        "ville).",
    },
    "compare_csv": {"en": "Download this table as CSV", "fr": "Télécharger ce tableau en CSV"},
    "compare_caption": {
        "en": "Programs by practice (rows) and city (columns)",
        "fr": "Programmes par pratique (lignes) et par ville (colonnes)",
    },
    "compare_practice": {"en": "Practice", "fr": "Pratique"},
    "compare_count": {"en": "Number of cities", "fr": "Nombre de villes"},
    "compare_includes": {
        "en": "Narrower practices counted in each row",
        "fr": "Pratiques plus précises comptées dans chaque ligne",
    },
    "compare_none": {"en": "none", "fr": "aucun"},
    "compare_unknown_city": {
        "en": "Unknown city “{value}”: choose among the cities of the form.",
        "fr": "Ville inconnue «\u00a0{value}\u00a0»\u00a0: choisissez parmi les villes du "
        "formulaire.",
    },
    "compare_unknown_practice": {
        "en": "Unknown practice “{value}”: choose among the practices of the form.",
        "fr": "Pratique inconnue «\u00a0{value}\u00a0»\u00a0: choisissez parmi les pratiques "
        "du formulaire.",
    },
    # --- canned queries as pages, workbench (issue 11, items 7 and 9) ---
    "workbench_count_one": {"en": "{n} row", "fr": "{n}\u00a0ligne"},
    "workbench_count_other": {"en": "{n} rows", "fr": "{n}\u00a0lignes"},
    "workbench_table_region": {
        "en": "Results table (scrolls sideways)",
        "fr": "Tableau des résultats (défile horizontalement)",
    },
    "workbench_prefix_region": {"en": "Table of prefixes", "fr": "Tableau des préfixes"},
    "workbench_map_points": {"en": "Points on the map", "fr": "Points sur la carte"},
    "workbench_page": {"en": "Page of this query", "fr": "Page de cette requête"},
    "workbench_queries_lede": {
        "en": "Each query has a page: a form for its parameters and its answer as a table, "
        "also as CSV, TSV, JSON or XML. These are stable links (for example "
        "?city=whitehorse&format=csv) for spreadsheets and scripts.",
        "fr": "Chaque requête a sa page\u00a0: un formulaire pour ses paramètres et sa réponse "
        "en tableau, aussi en CSV, TSV, JSON ou XML. Ce sont des liens stables (par exemple "
        "?city=whitehorse&format=csv) pour les tableurs et les scripts.",
    },
    "canned_form": {"en": "Parameters", "fr": "Paramètres"},
    "canned_run": {"en": "Show the answer", "fr": "Afficher la réponse"},
    "canned_answer": {"en": "Answer", "fr": "Réponse"},
    "canned_table": {
        "en": "Answer table (scrolls sideways)",
        "fr": "Tableau de la réponse (défile horizontalement)",
    },
    "canned_formats": {"en": "This answer as", "fr": "Cette réponse en"},
    "canned_workbench": {"en": "Open in the workbench", "fr": "Ouvrir dans l'atelier"},
    "canned_error": {
        "en": "These parameters cannot be used",
        "fr": "Ces paramètres ne peuvent pas être utilisés",
    },
    "canned_unknown": {
        "en": "{name} is not a parameter of this query; it takes: {takes}.",
        "fr": "{name} n'est pas un paramètre de cette requête\u00a0; elle prend\u00a0: {takes}.",
    },
    "canned_none": {"en": "none", "fr": "aucun"},
    "canned_repeated": {
        "en": "The parameter {name} is given more than once.",
        "fr": "Le paramètre {name} est donné plus d'une fois.",
    },
    "canned_bad_value": {
        "en": "{name}={value} is not a value this release holds; use one of: {choices}.",
        "fr": "{name}={value} n'est pas une valeur de cette version des données\u00a0; "
        "utilisez l'une de celles-ci\u00a0: {choices}.",
    },
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


def plural(key: str, n: int, lang: str, **fields: object) -> str:
    """The string `key`_one or `key`_other for `n` (French takes the singular for 0 and 1,
    English for 1 only), with {n} and `fields` filled in."""
    one = n < 2 if lang == "fr" else n == 1
    text = strings(lang)[key + ("_one" if one else "_other")].replace("{n}", str(n))
    return text.format(**fields) if fields else text  # {n} only: others may be filled later


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
