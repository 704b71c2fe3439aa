"""The HTML pages over HTTP: the home page, /search, the page of a resource or document (the
HTML branch of linked_data), each in the language of the request and kept in the release's
answer cache (a page is rendered once per release and language, like a query answer)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hrgraph.engine.interface import QueryAnswer
from hrgraph.engine.publisher import Release
from hrgraph.engine.queries import etag_of
from hrgraph.errors import BadRequestError
from hrgraph.pages import dataset, dictionary, document, home, i18n, resource, search
from hrgraph.web.http import answer, not_modified, publisher_of
from hrgraph.web.service import schema_org

router = APIRouter()


def language_of(request: Request) -> str:
    """The language of a page: ?lang=, else Accept-Language (pages.i18n.choose)."""
    return i18n.choose(request.query_params.get("lang"), request.headers.get("accept-language"))


def html_headers(lang: str) -> dict[str, str]:
    return {"Vary": "Accept, Accept-Language", "Content-Language": lang}


def cached_html(
    request: Request,
    release: Release,
    etag: str,
    make: Callable[[], str],
    headers: Mapping[str, str],
    media: str = "text/html",
) -> Response:
    """A page (or another rendering, of type `media`) from the release's answer cache, rendered
    at first request: it never changes within a release; or 304 when the client has it."""
    if not_modified(request, etag):
        return answer(request, release, etag, b"", media, headers)
    cached = release.cache.get(etag)
    if cached is None:
        cached = QueryAnswer(media, make().encode())
        release.cache.put(etag, cached)
    return answer(request, release, etag, cached.body, media, headers)


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
def home_page(request: Request) -> Response:
    lang = language_of(request)
    with publisher_of(request).snapshot() as release:
        return cached_html(
            request,
            release,
            etag_of(release.version, "home", lang),
            lambda: home.render(release, lang, schema_org(release, lang)),
            html_headers(lang),
        )


@router.api_route("/search", methods=["GET", "HEAD"])
def search_page(request: Request) -> Response:
    lang = language_of(request)
    asked = search.search_of(request.query_params, lang)
    refusal = search.too_long(asked.text, lang)
    if refusal:
        raise BadRequestError(refusal, page=search.render_refused(asked, refusal))
    with publisher_of(request).snapshot() as release:
        search.check(release, asked)  # an unknown filter: 400, never silently ignored
        return cached_html(
            request,
            release,
            etag_of(release.version, "search", lang, *asked.key()),
            lambda: search.render(release, asked),
            html_headers(lang),
        )


def resource_page(
    request: Request, release: Release, iri: str, path: str, query: str, headers: dict[str, str]
) -> Response:
    """The page of a resource; `query` is the CONSTRUCT of its RDF."""
    return _page(
        request, release, ("page", path), headers,
        lambda lang: resource.render(release, iri, path, lang, query),
    )  # fmt: skip


def document_page(
    request: Request, release: Release, iri: str, path: str, query: str, headers: dict[str, str]
) -> Response:
    """The page of a document; `query` is the SELECT of its rows. The ontology's is its data
    dictionary (pages.dictionary), unless its release has none (built before it)."""
    if path == "ontology" and dictionary.available(release):
        return _page(
            request, release, ("dictionary", path), headers,
            lambda lang: dictionary.render(release, iri, path, lang),
        )  # fmt: skip
    return _page(
        request, release, ("page", path), headers,
        lambda lang: document.render(release, iri, path, query, lang),
    )  # fmt: skip


def dataset_page(
    request: Request, release: Release, iri: str, path: str, query: str, headers: dict[str, str]
) -> Response:
    """/dataset's page: its document page, with the schema.org Dataset in its head."""
    return _page(
        request, release, ("dataset-page",), headers,
        lambda lang: dataset.render(release, iri, path, query, lang, schema_org(release, lang)),
    )  # fmt: skip


def _page(
    request: Request,
    release: Release,
    name: tuple[str, ...],
    headers: dict[str, str],
    make: Callable[[str], str],
) -> Response:
    """A page in the request's language, named (its ETag) by `name` and the language."""
    lang = language_of(request)
    etag = etag_of(release.version, *name, lang)
    return cached_html(
        request, release, etag, lambda: make(lang), {**headers, **html_headers(lang)}
    )
