"""`create_app(settings)`: the FastAPI application that serves the current release.

Errors are mapped to HTTP here and only here: `QueryError.status` (4xx; 503 with Retry-After for
what is not the client's fault), NotFoundError 404, ReleaseError 503, anything unexpected 500
(logged; the client never sees a traceback), each in the format the client asked for: JSON for
machines, a small HTML page (echoing the query) for browsers, text for curl.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from hrgraph import __version__
from hrgraph.config import Settings, mention
from hrgraph.engine.embedded import EmbeddedEngine
from hrgraph.engine.publisher import Engine, EngineFactory, Publisher
from hrgraph.engine.remote import RemoteEngine
from hrgraph.errors import (
    HrgraphError,
    TooManyQueriesError,
)
from hrgraph.pages import i18n, templating
from hrgraph.web import (
    canned,
    compare,
    downloads,
    feed,
    html,
    linked_data,
    negotiation,
    protocol,
    workbench,
)
from hrgraph.web.http import RELEASE_HEADER
from hrgraph.web.replay import ReplayCache

log = logging.getLogger(__name__)

#: Headers a browser script may read from a cross-origin answer.
EXPOSED_HEADERS = ["ETag", "Link", "Content-Location", RELEASE_HEADER]
#: CSS, the map's styles and scripts: served by hrgraph itself (no CDN: pages work offline).
STATIC = Path(__file__).resolve().parents[1] / "static"


def open_engine(release: Path, settings: Settings) -> Engine:
    """The engine for a release: a remote SPARQL server when one is set, else embedded."""
    if settings.remote_endpoint:
        return RemoteEngine(release, settings, store_url=settings.remote_store)
    return EmbeddedEngine(release, settings)


def create_app(settings: Settings, engine: EngineFactory = open_engine) -> FastAPI:
    """The application; `engine` opens the engine of a release (a seam for tests)."""
    publisher = Publisher(settings, engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:  # also when a forced exit cancels the lifespan
            publisher.stop()

    app = FastAPI(
        title="hrgraph",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.publisher = publisher
    app.add_exception_handler(HrgraphError, handle_error)
    app.add_exception_handler(HTTPException, handle_http)
    app.add_exception_handler(RequestValidationError, handle_http)
    app.add_exception_handler(Exception, handle_unexpected)
    app.include_router(html.router)  # the home page and /search
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_api_route("/favicon.ico", favicon, methods=["GET", "HEAD"], include_in_schema=False)
    app.include_router(protocol.router)
    app.include_router(downloads.router)
    app.include_router(feed.router)
    app.include_router(workbench.router)
    app.include_router(canned.router)
    app.include_router(compare.router)  # /compare and /compare.csv
    app.include_router(linked_data.router)  # last: its route catches every other path
    app.add_middleware(SelectiveGZip)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=EXPOSED_HEADERS,
    )
    app.add_middleware(ClientLimit, limit=settings.max_client_queries)
    app.add_middleware(ReplayCache, publisher=publisher)  # outermost: before any routing
    return app


def favicon() -> Response:
    # Browsers ask every origin for /favicon.ico, also when showing JSON or Turtle answers.
    return Response(
        (STATIC / "favicon.svg").read_bytes(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


class SelectiveGZip:
    """gzip for everything but /downloads/: those files are served with Range requests (which
    must count bytes of the file itself) and the big dumps are compressed already."""

    def __init__(self, app: ASGIApp) -> None:
        self.plain = app
        self.gzip = GZipMiddleware(app, minimum_size=1000, compresslevel=5)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/downloads/"):
            await self.plain(scope, receive, send)
        else:
            await self.gzip(scope, receive, send)


class ClientLimit:
    """At most `limit` requests under way per client address on the paths that run queries
    (per server process): one client cannot take every query process and the whole queue.
    Replayed answers (ReplayCache, outside this) cost nothing and are not counted."""

    PATHS = ("/sparql", "/queries/")

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._running: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.PATHS):
            await self.app(scope, receive, send)
            return
        client = str((scope.get("client") or ("",))[0])
        if self._running.get(client, 0) >= self.limit:
            await self._refuse(scope, receive, send)
            return
        self._running[client] = self._running.get(client, 0) + 1
        try:
            await self.app(scope, receive, send)
        finally:
            left = self._running.pop(client) - 1
            if left:
                self._running[client] = left

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = TooManyQueriesError(
            f"this client already has {self.limit} queries under way "
            f"({mention('max_client_queries')}); wait for them to finish, then try again"
        )
        error.setting = "max_client_queries"
        request = Request(scope, receive)
        response = error_response(request, error.status, error.code, str(error), error)
        await response(scope, receive, send)


# --- errors ------------------------------------------------------------------------------


async def handle_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HrgraphError)
    if error.status == 500:  # an error no client should see (a config or source error)
        return await handle_unexpected(request, error)
    if error.status >= 500:
        log.warning("%s %s: %d %s", request.method, request.url.path, error.status, error)
    return error_response(request, error.status, error.code, str(error), error)


async def handle_http(request: Request, error: Exception) -> Response:
    if isinstance(error, HTTPException):
        status, detail = error.status_code, str(error.detail)
        headers = dict(error.headers or {})
    else:
        status, detail, headers = 400, "the request is malformed", {}
    code = {404: "not-found", 405: "method-not-allowed"}.get(status, "bad-request")
    if status == 404:
        detail = "no such page; see / for what this server publishes"
    if status == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
        if request.method == "OPTIONS":  # RFC 9110 9.3.7: what may be done here, no body
            return Response(status_code=204, headers=headers)
        detail = f"{request.method} is not allowed here (the endpoint is read-only)"
    response = error_response(request, status, code, detail, None)
    response.headers.update(headers)
    return response


#: The methods routes take, in the order an Allow header lists them. OPTIONS is answered at every
#: path: by handle_http, and CORS preflights by the middleware.
METHODS = ("GET", "HEAD", "POST")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route takes at this path, and OPTIONS. Starlette's 405 names only those
    of the first route whose path matches (/sparql has a GET route and a POST route). /static is
    left to the catch-all route, which gives it GET and HEAD: the mount would match any method."""
    routes = [route for route in request.app.router.routes if not isinstance(route, Mount)]
    found = [
        method
        for method in METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]
    return [*found, "OPTIONS"]


async def handle_unexpected(request: Request, error: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return error_response(
        request, 500, "internal", "the server failed to answer; the error is logged", None
    )


def error_response(
    request: Request, status: int, code: str, message: str, error: HrgraphError | None
) -> Response:
    """The one error shape, in the format the client prefers."""
    body: dict[str, Any] = {
        "error": code,
        "message": message,
        "status": status,
        "line": getattr(error, "line", None),
        "column": getattr(error, "column", None),
        "setting": getattr(error, "setting", None),
    }
    headers = {"Cache-Control": "no-store"}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    accept = request.headers.get("accept")
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    if negotiation.accepts_html(accept):
        # An error may carry the page to show instead (a refused search: the form, and why).
        lang = i18n.choose(request.query_params.get("lang"), request.headers.get("accept-language"))
        title, next_step = i18n.error_text(status, lang)
        page = getattr(error, "page", None) or templating.render(
            "error.html",
            None,
            lang,
            error=body,
            title=title,
            next=next_step,
            query=getattr(request.state, "query", None),
            suggestions=[
                (path, getattr(error, "names", {}).get(path, {}).get(lang, path))
                for path in getattr(error, "suggestions", [])
            ],
        )
        return HTMLResponse(page, status_code=status, headers=headers)
    if _wants_json(accept):
        return JSONResponse(body, status_code=status, headers=headers)
    return PlainTextResponse(f"{status} {code}: {message}\n", status_code=status, headers=headers)


def _wants_json(accept: str | None) -> bool:
    return any("json" in r.subtype and r.q > 0 for r in negotiation.parse_accept(accept))
