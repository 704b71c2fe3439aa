"""The search page, over the release's search index (`search.sqlite`, written by the builder:
build.search_index): every word must match some field (labels, texts, the names of the
resource's city, practices and populations), as a prefix, accents and capitals aside; results are
ranked by bm25, grouped by kind, and can be refined by kind, city, practice and population, each
value a link with the number of results it leads to. A word the index does not know gets a "did
you mean" from the index's own vocabulary (fts5vocab), so an empty page always says what next.

The index is opened read-only and immutable, one connection per page rendered (pages are
rendered in the server's thread pool); what is read once per release (the vocabulary, the facet
values) is kept in the release's memo."""

from __future__ import annotations

import contextlib
import difflib
import re
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from hrgraph.engine.publisher import Release
from hrgraph.errors import BadRequestError, ReleaseError
from hrgraph.kinds import BY_NAME
from hrgraph.pages import i18n, templating
from hrgraph.pages.links import Link
from hrgraph.pages.parts import Item, Linker, group_rank, normalise
from hrgraph.release import SEARCH_FACETS, SEARCH_INDEX

#: Search queries longer than this are refused with a message (no one types more).
MAX_SEARCH = 200
#: The index's file in a release.
FILE = SEARCH_INDEX
#: The filters, in the order they are shown; each is a query-string parameter.
FACETS = ("kind", *SEARCH_FACETS)
#: Kinds the page links to for browsing when a search finds nothing.
BROWSE = ("program", "organization", "practice", "city", "lesson")
#: bm25 weights of the index's columns: label, body, context (city, practices...), joined words.
WEIGHTS = "10.0, 1.0, 2.0, 5.0"
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Search:
    """What was asked: the text and the filters (facet -> value), in one language."""

    text: str
    filters: Mapping[str, str]
    lang: str

    @property
    def words(self) -> list[str]:
        return WORD.findall(self.text)

    def params(self) -> dict[str, str]:
        """The page's query string but its language (for the language switch)."""
        found = {"q": self.text.strip(), **self.filters}
        return {k: v for k, v in found.items() if v}

    def key(self) -> tuple[str, ...]:
        """What names the page (with the release and language): its text and filters."""
        return (self.text, *(f"{k}={v}" for k, v in self.filters.items()))

    def href(self, **changes: str) -> str:
        """/search with these filters changed ("" removes one) or this text (q=...)."""
        params = {**self.params(), **changes}
        kept = {k: v for k, v in params.items() if v}
        return "/search?" + urlencode({**kept, "lang": self.lang})


def search_of(params: Mapping[str, str], lang: str) -> Search:
    return Search(params.get("q", ""), {f: params[f] for f in FACETS if params.get(f)}, lang)


@dataclass
class Hit:
    """A result: its item (link, kind, short text or one-line summary) and its cities."""

    item: Item
    cities: list[Link] = field(default_factory=list)


@dataclass
class Choice:
    """A facet's value: the link that adds it as a filter, and the results it leads to."""

    link: Link
    count: int


@dataclass
class Facet:
    name: str
    heading: str
    choices: list[Choice]
    active: Link | None = None  # the filter set on this facet: a link that removes it


@dataclass
class Found:
    groups: list[tuple[str, str, list[Hit]]]  # heading, anchor (the kind), hits
    facets: list[Facet]
    total: int


# --- the index ---------------------------------------------------------------------------------


@contextlib.contextmanager
def connect(release: Release) -> Iterator[sqlite3.Connection]:
    """The release's index, read-only; ReleaseError (a clear 503) when the release has none."""
    path = release.path / FILE
    if not path.is_file():
        raise ReleaseError(
            f"release {release.version} has no search index ({FILE}): it was built by an older "
            "hrgraph; build it again (hrgraph build)"
        )
    database = sqlite3.connect(path.as_uri() + "?mode=ro&immutable=1", uri=True)
    try:
        yield database
    finally:
        database.close()


def vocabulary(release: Release) -> list[str]:
    """The index's words (folded as it folds them), read once per release."""

    def read() -> list[str]:
        with connect(release) as database:
            rows = database.execute("SELECT term FROM term WHERE length(term) > 2 ORDER BY term")
            return [term for (term,) in rows]

    return release.memo("search-vocabulary", read)


def known_values(release: Release) -> dict[str, dict[str, str]]:
    """Facet -> the values a filter may name (kinds, and the slugs of the index's facets) ->
    what they stand for (the kind, or the value's IRI)."""

    def read() -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {"kind": {kind: kind for kind in BY_NAME}}
        with connect(release) as database:
            rows = database.execute("SELECT DISTINCT name, slug, value FROM facet")
            for name, slug, value in rows:
                found.setdefault(name, {})[slug] = value
        return found

    return release.memo("search-facets", read)


def match_expression(words: list[str]) -> str:
    """Every word, each as a prefix of a word of any column (quoted: no FTS5 syntax)."""
    return " AND ".join('"{}"*'.format(word.replace('"', '""')) for word in words)


def hits_query(search: Search, ranked: bool) -> tuple[str, list[str]]:
    """The SELECT of the resources that match (id, iri, kind[, rank]) and its parameters."""
    where: list[str] = []
    params: list[str] = []
    source, rank = "resource r", "r.iri"
    if search.words:
        source = "text JOIN resource r ON r.id = text.rowid"
        rank = f"bm25(text, {WEIGHTS})"
        where.append("text MATCH ?")
        params.append(match_expression(search.words))
    for name, value in search.filters.items():
        if name == "kind":
            where.append("r.kind = ?")
            params.append(value)
        else:
            where.append(
                "EXISTS (SELECT 1 FROM facet f WHERE f.resource = r.id AND f.name = ? "
                "AND f.slug = ?)"
            )
            params += [name, value]
    columns = f"r.id, r.iri, r.kind{', ' + rank if ranked else ''}"
    # Only constant fragments are joined here; every value is a bound parameter.
    sql = f"SELECT {columns} FROM {source} WHERE {' AND '.join(where) or '1'}"  # noqa: S608
    return sql + (f" ORDER BY {rank}, r.iri" if ranked else ""), params


def matching(database: sqlite3.Connection, search: Search) -> list[tuple[str, str]]:
    """The IRIs that match and their kinds, best first."""
    sql, params = hits_query(search, ranked=True)
    return [(iri, kind) for _, iri, kind, _ in database.execute(sql, params)]


def counts(database: sqlite3.Connection, search: Search) -> dict[str, dict[str, tuple[str, int]]]:
    """Facet -> slug -> (the value's IRI or kind, how many results have it)."""
    sql, params = hits_query(search, ranked=False)
    found: dict[str, dict[str, tuple[str, int]]] = {"kind": {}}
    kinds = f"WITH hit AS ({sql}) SELECT kind, count(*) FROM hit GROUP BY kind"  # noqa: S608
    for kind, n in database.execute(kinds, params):
        found["kind"][kind] = (kind, n)
    facets = (
        f"WITH hit AS ({sql}) SELECT f.name, f.slug, f.value, count(*) FROM hit "  # noqa: S608
        "JOIN facet f ON f.resource = hit.id GROUP BY f.name, f.slug, f.value"
    )
    for name, slug, value, n in database.execute(facets, params):
        found.setdefault(name, {})[slug] = (value, n)
    return found


def facets_of(database: sqlite3.Connection, release: Release) -> dict[str, dict[str, list[str]]]:
    """IRI -> facet -> its values (IRIs), for the cities shown beside results."""

    def read() -> dict[str, dict[str, list[str]]]:
        found: dict[str, dict[str, list[str]]] = {}
        rows = database.execute(
            "SELECT r.iri, f.name, f.value FROM facet f JOIN resource r ON r.id = f.resource "
            "ORDER BY r.iri, f.name, f.value"
        )
        for iri, name, value in rows:
            found.setdefault(iri, {}).setdefault(name, []).append(value)
        return found

    return release.memo("search-facet-values", read)


def unknown_words(database: sqlite3.Connection, words: list[str]) -> list[str]:
    """The words that match nothing in the whole index (not even as a prefix)."""
    ask = "SELECT 1 FROM text WHERE text MATCH ? LIMIT 1"
    return [w for w in words if database.execute(ask, (match_expression([w]),)).fetchone() is None]


def suggestion(release: Release, database: sqlite3.Connection, search: Search) -> str:
    """The search with each unknown word replaced by the closest word of the index ("" when
    no word is unknown or none is close)."""
    unknown = set(unknown_words(database, search.words))
    if not unknown:
        return ""
    terms = vocabulary(release)
    replaced = []
    for word in search.words:  # the close-match scan (the whole vocabulary) for unknown words only
        close = (
            difflib.get_close_matches(normalise(word), terms, n=1, cutoff=0.7)
            if word in unknown
            else []
        )
        replaced.append(close[0] if close else word)
    return " ".join(replaced) if replaced != search.words else ""


# --- the page ----------------------------------------------------------------------------------


def too_long(text: str, lang: str) -> str:
    """Why a search is refused ("" when it is not): it is longer than MAX_SEARCH."""
    if len(text) <= MAX_SEARCH:
        return ""
    return i18n.strings(lang)["search_too_long"].format(limit=MAX_SEARCH)


def check(release: Release, search: Search) -> None:
    """BadRequestError (400, with the page) when a filter names no value of the release."""
    known = known_values(release)
    strings = i18n.strings(search.lang)
    for name, value in search.filters.items():
        if value not in known.get(name, ()):
            message = strings["search_unknown_filter"].format(
                facet=strings[f"search_facet_{name}"], value=value
            )
            kept = {k: v for k, v in search.filters.items() if k != name}
            cleared = replace(search, filters=kept)
            raise BadRequestError(message, page=render_refused(cleared, message))


def hit(helper: Linker, iri: str, kind: str, facets: Mapping[str, list[str]]) -> Hit:
    """A result: programs and organizations with the first sentence of their description."""
    item = helper.item(iri)
    if kind in ("program", "organization"):
        item.text = helper.summary(iri)
    cities = [] if kind == "city" else [helper.link(c) for c in facets.get("city", [])]
    return Hit(item, cities)


def find(release: Release, search: Search, suggest: bool = True) -> tuple[Found, str]:
    """The results of `search`, with its facets, and (if `suggest`) the suggestion when a word
    is unknown."""
    helper = Linker(release, search.lang)
    with connect(release) as database:
        hits = matching(database, search)
        found = counts(database, search)
        values = facets_of(database, release)
        suggested = suggestion(release, database, search) if suggest and search.words else ""
    grouped: dict[str, list[Hit]] = {}
    for iri, kind in hits:  # the index's kinds: those the facets count
        grouped.setdefault(kind, []).append(hit(helper, iri, kind, values.get(iri, {})))
    if not search.words:  # no ranking: in the order of their names
        for listed in grouped.values():
            listed.sort(key=lambda h: normalise(h.item.link.text))
    groups = [
        (i18n.kind_name(k, search.lang, plural=True), k, grouped[k])
        for k in sorted(grouped, key=group_rank)
    ]
    shown = facets(helper, search, found, known_values(release))
    return Found(groups, shown, len(hits)), suggested


def facets(
    helper: Linker,
    search: Search,
    found: Mapping[str, Mapping[str, tuple[str, int]]],
    known: Mapping[str, Mapping[str, str]],
) -> list[Facet]:
    """Each filter: its values among the results as links that add it (most results first), or,
    when it is set, the link that removes it."""
    strings = i18n.strings(search.lang)
    listed = []
    for name in FACETS:
        values = found.get(name, {})
        heading = strings[f"search_facet_{name}"]
        active = search.filters.get(name)
        if active:
            text = label(helper, name, known[name][active])
            listed.append(Facet(name, heading, [], Link(text, search.href(**{name: ""}))))
            continue
        choices = [
            Choice(Link(label(helper, name, value), search.href(**{name: slug})), n)
            for slug, (value, n) in values.items()
        ]
        choices.sort(key=lambda c: (-c.count, normalise(c.link.text)))
        if choices:
            listed.append(Facet(name, heading, choices))
    return listed


def label(helper: Linker, facet: str, value: str) -> str:
    if facet == "kind":
        return i18n.kind_name(value, helper.lang, plural=True)
    return helper.index.label(value, helper.lang)


def message(search: Search, total: int) -> str:
    strings = i18n.strings(search.lang)
    shown = search.text.strip()
    if not total:
        return strings["search_none"].format(q=shown) if shown else strings["search_none_all"]
    return i18n.plural("search_count" if shown else "search_all", total, search.lang, q=shown)


def render(release: Release, search: Search) -> str:
    """The results of `search`, or the invitation to search when nothing is asked."""
    strings = i18n.strings(search.lang)
    if not search.words and not search.filters:
        return page(search, strings["search_empty"], browse=True)
    found, suggested = find(release, search)
    text = message(search, found.total)
    if not found.total and suggested:  # typo tolerance: the results of the suggestion instead
        found, _ = find(release, replace(search, text=suggested), suggest=False)
        if found.total:
            text += " " + strings["search_instead"].format(q=suggested)
    return page(
        search,
        text,
        found=found,
        suggestion=search.href(q=suggested) if suggested else "",
        suggested=suggested,
        browse=not found.total,
    )


def page(search: Search, text: str, found: Found | None = None, **context: object) -> str:
    lang = search.lang
    browse = [(i18n.kind_name(k, lang, plural=True), Search("", {"kind": k}, lang).href())
              for k in BROWSE]  # fmt: skip
    return templating.render(
        "search.html", "/search", lang, search.params(),
        q=search.text[:MAX_SEARCH], search=search, message=text, limit=MAX_SEARCH,
        groups=found.groups if found else [], facets=found.facets if found else [],
        browse_links=browse, **context,
    )  # fmt: skip


def render_refused(search: Search, text: str) -> str:
    """The search page for a refused search: the form (its text cut to the limit) and why."""
    return page(search, text, browse=True)
