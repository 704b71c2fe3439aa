"""/ontology for people: the release's data dictionary (each class with its properties, their
cardinality, values, definition, an example and the fill rate), in English or French, with links
to the dictionary's downloads and to the ontology as RDF.

The builder writes the dictionary's model in the release (`dictionary.json`, made by
build.dictionary); this page renders that file, so that the page and the downloads say the same
and the server never imports the builder. A release built before the dictionary has none: the
page is then the document page of the ontology (`available`)."""

from __future__ import annotations

import json
from typing import Any

from hrgraph.engine.publisher import Release
from hrgraph.pages import templating
from hrgraph.pages.links import FORMATS

#: The model's file in a release (build.dictionary.JSON_NAME; tests check they agree).
FILE = "dictionary.json"
#: The dictionary's files in a release: (name, label); `{lang}` is the page's language.
DOWNLOADS: tuple[tuple[str, str], ...] = (
    ("dictionary.{lang}.md", "Markdown"),
    ("dictionary.{lang}.html", "HTML"),
    ("dictionary.csv", "CSV"),
    ("dictionary.json", "JSON"),
)


def model(release: Release) -> dict[str, Any] | None:
    """The release's dictionary (read once per release), or None when it has none."""
    return release.memo("dictionary", lambda: _read(release))


def _read(release: Release) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = json.loads((release.path / FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return found


def available(release: Release) -> bool:
    return model(release) is not None


def render(release: Release, iri: str, path: str, lang: str) -> str:
    """The dictionary page of the document `iri` (the ontology) at `path`, in `lang`."""
    found = model(release)
    assert found is not None, "the caller checks `available` first"
    classes = found["classes"]
    # Values naming a class link to its section (a subclass to its mark in its superclass's).
    anchors = {t["name"]: t["anchor"] for c in classes for t in (c["term"], *c["subclasses"])}
    downloads = [
        (label, f"/downloads/{release.version}/{name.format(lang=lang)}")
        for name, label in DOWNLOADS
    ]
    return templating.render(
        "dictionary.html",
        "/" + path,
        lang,
        d=found,
        iri=iri,
        path=path,
        anchors=anchors,
        downloads=downloads,
        formats=FORMATS,
    )
