"""The release's schema.org Dataset in a page: the script element the home page and /dataset
carry in their head (Google Dataset Search reads it there). The markup itself is made by the web
side (web.service, from description.ttl) and handed in."""

from __future__ import annotations

from collections.abc import Mapping

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from hrgraph.engine.publisher import Release
from hrgraph.pages import document


def script(markup: Mapping[str, object]) -> Markup:
    """The markup as a script for a page's head. The JSON is HTML-safe: no "<", ">" or "&" can
    end the script early."""
    data = htmlsafe_json_dumps(markup, sort_keys=True)
    return Markup('<script type="application/ld+json">{}</script>').format(data)


def render(
    release: Release, iri: str, path: str, query: str, lang: str, markup: Mapping[str, object]
) -> str:
    """/dataset's page: the release's description as a document page, with the markup."""
    page = document.render(release, iri, path, query, lang)
    # The document page takes no extra context: the script goes at the end of base.html's head.
    return page.replace("</head>", f"{script(markup)}\n</head>", 1)
