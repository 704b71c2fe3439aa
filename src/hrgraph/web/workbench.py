"""The query workbench over HTTP: which GET /sparql gets it (a browser, or ?format=html), the
page with a query's results or its error, and POST /sparql/labels, the labels its script asks
for. The page itself is pages.workbench."""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hrgraph.errors import BadRequestError, QueryError
from hrgraph.pages import i18n, workbench
from hrgraph.web import negotiation
from hrgraph.web.html import html_headers, language_of
from hrgraph.web.http import RELEASE_HEADER, publisher_of, read_body

router = APIRouter()


def wants_workbench(request: Request, format: str | None) -> bool:
    """A browser (Accept prefers HTML) with no other format asked, or ?format=html."""
    if format is not None:
        return format.strip().lower() == "html"
    return negotiation.accepts_html(request.headers.get("accept"))


def page(
    request: Request,
    query: str | None,
    format: str | None,
    graphs: tuple[Sequence[str], ...] = ((), ()),
) -> Response:
    """The workbench, with the results of `query` when there is one.

    With ?format=html (what the form sends) an error is shown in the page, with the query kept
    in the editor; a browser that sent a bare ?query= gets the server's usual error page.
    """
    lang = language_of(request)
    with publisher_of(request).snapshot() as release:
        outcome = None
        if query is not None:
            request.state.query = query
            try:
                outcome = workbench.run_for_page(release, query, lang, graphs)
            except QueryError as error:
                if format is None:
                    raise
                outcome = workbench.failed(error)
        html = workbench.render_page(release, lang, query, outcome, switch(request, lang))
        headers = {
            **html_headers(lang),
            "Cache-Control": "no-store" if outcome and outcome.error else "public, max-age=60",
            RELEASE_HEADER: release.version,
        }
        if outcome and outcome.error and outcome.error["retry_after"] is not None:
            headers["Retry-After"] = str(outcome.error["retry_after"])
        status = outcome.status if outcome else 200
        return HTMLResponse(html, status_code=status, headers=headers)


def switch(request: Request, lang: str) -> str:
    """This page in the other language (the query and its results kept)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return "/sparql?" + urlencode([*kept, ("lang", i18n.other(lang))])


@router.post("/sparql/labels")
async def post_labels(request: Request) -> Response:
    """{"iris": [...], "lang": "fr"} → {"labels": {iri: label}}: labels for a results table."""
    body = await read_body(request)
    iris, lang = _label_request(body)

    def lookup() -> dict[str, str]:
        with publisher_of(request).snapshot() as release:
            return workbench.labels(release, iris, lang)

    found = await run_in_threadpool(lookup)
    return JSONResponse({"labels": found}, headers={"Cache-Control": "no-store"})


def _label_request(body: bytes) -> tuple[list[str], str]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError('send JSON: {"iris": ["https://…"], "lang": "en"}') from None
    iris = data.get("iris") if isinstance(data, dict) else None
    if not isinstance(iris, list) or not all(isinstance(iri, str) for iri in iris):
        raise BadRequestError('"iris" must be a list of IRIs (strings)')
    lang = data.get("lang", "en")
    return iris, lang if lang in i18n.LANGUAGES else "en"
