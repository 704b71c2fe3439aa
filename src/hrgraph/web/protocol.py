"""The SPARQL 1.1 Protocol at /sparql (https://www.w3.org/TR/sparql11-protocol/): queries by GET,
POST form and POST application/sparql-query; every update refused (the endpoint is read-only); a
Service Description (SPARQL SD + VoID) on a GET without a query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from hrgraph.engine import safety
from hrgraph.engine.queries import execute
from hrgraph.errors import BadRequestError
from hrgraph.web import workbench
from hrgraph.web.http import (
    answer,
    not_modified,
    parse_form,
    prepare,
    publisher_of,
    query_params,
    read_body,
)
from hrgraph.web.service import service_description

router = APIRouter()

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


@dataclass(frozen=True)
class Operation:
    """What a protocol request asks for, once its transport (GET, form, direct POST) is undone."""

    query: str | None
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    format: str | None


def operation(params: Sequence[tuple[str, str]], body_query: str | None = None) -> Operation:
    """Read the protocol parameters; an update in any form is refused here."""
    if any(name in ("update", "using-graph-uri", "using-named-graph-uri") for name, _ in params):
        safety.refuse_update()
    queries = [value for name, value in params if name == "query"]
    if body_query is not None:
        queries.append(body_query)
    if len(queries) > 1:
        raise BadRequestError("send one query per request (the 'query' parameter is repeated)")
    formats = [value for name, value in params if name == "format"]
    return Operation(
        queries[0] if queries else None,
        tuple(value for name, value in params if name == "default-graph-uri"),
        tuple(value for name, value in params if name == "named-graph-uri"),
        formats[-1] if formats else None,
    )


@router.api_route("/sparql", methods=["GET", "HEAD"], name="sparql")
@router.api_route("/sparql/", methods=["GET", "HEAD"], include_in_schema=False)
def sparql_get(request: Request) -> Response:
    op = operation(query_params(request))
    if workbench.wants_workbench(request, op.format):
        # A browser gets the query workbench (with its query's results, if it sent one).
        return workbench.page(request, op.query, op.format, (op.default_graphs, op.named_graphs))
    return respond(request, op)


@router.post("/sparql")
@router.post("/sparql/", include_in_schema=False)
async def sparql_post(request: Request) -> Response:
    media, charset = content_type(request)
    if media == UPDATE:
        safety.refuse_update()
    if media not in (FORM, QUERY):
        raise BadRequestError(
            f"a POST to /sparql must be {FORM} or {QUERY} (got {media or 'no Content-Type'}); "
            "updates are refused: this endpoint is read-only",
            status=415,
        )
    if charset not in ("", "utf-8", "utf8"):
        raise BadRequestError(f"the body must be UTF-8 (got charset={charset})", status=415)
    body = await read_body(request)
    params = query_params(request)
    if media == FORM:
        op = operation([*params, *parse_form(body, "form body")])
        if op.query is None:
            raise BadRequestError("the form has no 'query' parameter (POST is for queries only)")
    else:
        op = operation(params, _utf8(body))
    return await run_in_threadpool(respond, request, op)


def content_type(request: Request) -> tuple[str, str]:
    """The media type and charset of the request body, lower-cased."""
    media, *params = (part.strip() for part in request.headers.get("content-type", "").split(";"))
    charset = ""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.lower(), charset


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequestError(f"the query is not UTF-8 (byte {error.start})") from None


def respond(request: Request, op: Operation) -> Response:
    """Answer a query, or describe the service when there is none (blocking: a worker thread)."""
    accept = request.headers.get("accept")
    with publisher_of(request).snapshot() as release:
        if op.query is None:
            endpoint = str(request.url.replace(query="", fragment=""))
            return service_description(request, release, endpoint, accept, op.format)
        request.state.query = op.query
        prepared = prepare(release, op.query, accept, op.format, op.default_graphs, op.named_graphs)
        extra = {"Vary": "Accept"}
        if not_modified(request, prepared.etag):
            # The client has this answer (an answer never changes within a release): no query runs.
            return answer(request, release, prepared.etag, b"", prepared.request.media_type, extra)
        result = execute(release, prepared)
        return answer(request, release, prepared.etag, result.body, result.media_type, extra)
