"""The comparison view over HTTP (pages.compare): /compare, the page, and /compare.csv, its table
as CSV, both filtered by `?city=...&practice=...` (repeatable) and kept in the release's answer
cache per language and selection. Unknown filter values are a 400 whose browser page is the form
with the message, in the page's language."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hrgraph.engine.publisher import Release
from hrgraph.engine.queries import etag_of
from hrgraph.errors import BadRequestError
from hrgraph.pages import compare
from hrgraph.web.html import cached_html, html_headers, language_of
from hrgraph.web.http import publisher_of, query_params

router = APIRouter()

CSV = "text/csv"


def selection(request: Request, release: Release, lang: str) -> compare.Selection:
    """The cities and practices the query string asks for (strictly parsed; other names are
    ignored, as `lang` is)."""
    params = query_params(request)
    cities = [found for name, found in params if name == "city"]
    practices = [found for name, found in params if name == "practice"]
    chosen = compare.choose(compare.grid(release), cities, practices, lang)
    if isinstance(chosen, str):
        page = compare.render(release, lang, compare.Selection(), chosen)
        raise BadRequestError(chosen, page=page)
    return chosen


@router.api_route("/compare", methods=["GET", "HEAD"])
def compare_page(request: Request) -> Response:
    lang = language_of(request)
    with publisher_of(request).snapshot() as release:
        chosen = selection(request, release, lang)
        return cached_html(
            request,
            release,
            etag_of(release.version, "compare", lang, *chosen.key()),
            lambda: compare.render(release, lang, chosen),
            html_headers(lang),
        )


@router.api_route("/compare.csv", methods=["GET", "HEAD"])
def compare_csv(request: Request) -> Response:
    """The table as CSV, in the request's language, like the canned queries' CSV (inline, with a
    file name)."""
    lang = language_of(request)
    with publisher_of(request).snapshot() as release:
        chosen = selection(request, release, lang)
        etag = etag_of(release.version, "compare.csv", lang, *chosen.key())
        headers = {
            "Vary": "Accept-Language",
            "Content-Language": lang,
            "Content-Disposition": f'inline; filename="compare-{lang}.csv"',
        }
        return cached_html(
            request, release, etag, lambda: compare.csv_text(release, lang, chosen), headers, CSV
        )
