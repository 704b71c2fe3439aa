"""The search page: every resource with a kind found by the words of its labels and
descriptions (case- and accent-insensitive, in both languages), best first, grouped by kind."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from hrgraph.engine.publisher import Release
from hrgraph.pages import i18n, templating
from hrgraph.pages.index import index
from hrgraph.pages.parts import Group, Linker, group_rank, normalise

#: Search queries longer than this are refused with a message (no one types more).
MAX_SEARCH = 200


@dataclass(frozen=True)
class Entry:
    iri: str
    kind: str
    label: str  # normalised labels in every language
    text: str  # normalised descriptions in every language


def search_index(release: Release) -> list[Entry]:
    """Every resource with a kind, its labels and texts normalised (built once per release)."""

    def build() -> list[Entry]:
        found = index(release)
        return [
            Entry(
                iri,
                kind,
                " | ".join(normalise(t) for t in found.labels.get(iri, {}).values()),
                " | ".join(normalise(t) for t in found.texts.get(iri, {}).values()),
            )
            for iri, kind in sorted(found.kinds.items())
        ]

    return release.memo("pages-search", build)


def find(entries: list[Entry], text: str, kind: str = "") -> dict[str, list[str]]:
    """IRIs whose labels or descriptions hold every word of `text`, best first, by kind."""
    words = re.findall(r"\w+", normalise(text))
    phrase = " ".join(words)
    scored: list[tuple[int, Entry]] = []
    for entry in entries:
        if kind and entry.kind != kind:
            continue
        haystack = entry.label + " " + entry.text
        if all(word in haystack for word in words):
            score = sum(2 if word in entry.label else 1 for word in words)
            scored.append((score + (5 if phrase and phrase in entry.label else 0), entry))
    grouped: dict[str, list[str]] = {}
    for _, entry in sorted(scored, key=lambda se: (-se[0], se[1].label)):
        grouped.setdefault(entry.kind, []).append(entry.iri)
    return {k: grouped[k] for k in sorted(grouped, key=group_rank)}


def too_long(text: str, lang: str) -> str:
    """Why a search is refused ("" when it is not): it is longer than MAX_SEARCH."""
    if len(text) <= MAX_SEARCH:
        return ""
    return i18n.strings(lang)["search_too_long"].format(limit=MAX_SEARCH)


def render(release: Release, lang: str, text: str, kind: str, params: Mapping[str, str]) -> str:
    """The results of searching `text` (among resources of `kind`, if given)."""
    strings = i18n.strings(lang)
    groups: list[Group] = []
    if not text.strip() and not kind:
        message = strings["search_empty"]
    else:
        helper = Linker(release, lang)
        found = find(search_index(release), text, kind)
        groups = [
            Group(i18n.kind_name(k, lang, plural=True), k, [helper.item(iri) for iri in iris])
            for k, iris in found.items()
        ]
        total = sum(len(g.items) for g in groups)
        shown = text.strip() or i18n.kind_name(kind, lang, plural=True)
        key = "search_count" if total else "search_none"
        message = strings[key].format(n=total, q=shown)
    return templating.render("search.html", "/search", lang, params, q=text, kind=kind,
                             message=message, groups=groups, limit=MAX_SEARCH)  # fmt: skip


def render_refused(lang: str, text: str, kind: str, params: Mapping[str, str], message: str) -> str:
    """The search page for a refused search: the form (its text cut to the limit) and why."""
    return templating.render("search.html", "/search", lang, params, q=text[:MAX_SEARCH],
                             kind=kind, message=message, groups=[], limit=MAX_SEARCH)  # fmt: skip
