"""What the HTTP handlers share: the snapshot of the release, running a query through the one
safety-checked path, ETags and conditional requests, and answers streamed in chunks."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from hrgraph.config import Settings, mention
from hrgraph.engine import safety
from hrgraph.engine.interface import QueryAnswer, QueryRequest, media_types
from hrgraph.engine.publisher import Publisher, Release
from hrgraph.errors import BadRequestError, QuerySyntaxError
from hrgraph.web import negotiation

#: Header naming the release a response comes from (every part of a response is from one).
RELEASE_HEADER = "X-Hrgraph-Release"
#: Answers are stable within a release, but `current` can move: clients revalidate after a minute
#: (with If-None-Match, which costs no query).
ANSWER_CACHE_CONTROL = "public, max-age=60"
IMMUTABLE = "public, max-age=31536000, immutable"
#: Answers larger than this are sent in chunks of CHUNK bytes rather than in one piece.
STREAM_FROM = 256 * 1024
CHUNK = 64 * 1024

#: A graph name no store has: stands for "an empty graph" in a protocol dataset.
EMPTY_GRAPH = "urn:hrgraph:empty-graph"

_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def publisher_of(request: Request) -> Publisher:
    publisher: Publisher = request.app.state.publisher
    return publisher


def settings_of(request: Request) -> Settings:
    return publisher_of(request).settings


def parse_form(raw: bytes, where: str) -> list[tuple[str, str]]:
    """Strictly parse application/x-www-form-urlencoded data (a body or a query string)."""
    if _BAD_ESCAPE.search(raw):
        raise BadRequestError(
            f"the {where} has a malformed percent-encoding ('%' not followed by "
            "two hexadecimal digits)"
        )
    try:
        return parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict"
        )
    except UnicodeDecodeError:
        raise BadRequestError(f"the {where} is not UTF-8 (after percent-decoding)") from None


def query_params(request: Request) -> list[tuple[str, str]]:
    raw: bytes = request.scope.get("query_string", b"")
    return parse_form(raw, "query string")


async def read_body(request: Request) -> bytes:
    """The request body, refusing (413) before reading more than `max_query_bytes`, and (408)
    a body that has not all arrived within `header_timeout` of the head (a slow body would
    otherwise hold its connection for ever)."""
    settings = settings_of(request)
    limit = settings.max_query_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise BadRequestError(f"Content-Length {declared!r} is not a number")
        if int(declared) > limit:
            raise safety.too_large("the request body", limit)
    try:
        async with asyncio.timeout(settings.header_timeout):
            return await _read_up_to(request, limit)
    except TimeoutError:
        raise BadRequestError(
            f"the request body did not arrive within {settings.header_timeout:g} s "
            f"({mention('header_timeout')}); send it at once",
            status=408,
        ) from None


async def _read_up_to(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise safety.too_large("the request body", limit)
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True)
class Prepared:
    """A checked, negotiated query: everything needed to answer it or to answer 304."""

    request: QueryRequest
    etag: str


def prepare(
    release: Release,
    settings: Settings,
    text: str,
    accept: str | None,
    format: str | None = None,
    default_graphs: Sequence[str] = (),
    named_graphs: Sequence[str] = (),
) -> Prepared:
    """Check the query (safety), choose the result format and name the answer (its ETag).

    A dataset given by the protocol (default-graph-uri / named-graph-uri) replaces the query's
    FROM / FROM NAMED, as the SPARQL 1.1 Protocol says. Either way a graph the store does not
    have is an empty graph (see _known): the same answer for the same dataset, however named.
    """
    checked = safety.check(
        text,
        graphs=release.graphs,
        max_bytes=settings.max_query_bytes,
        max_nesting=settings.max_nesting,
        prefixes=release.memo("prefixes", lambda: safety.prefixes_for(release.base_iri)),
    )
    media = negotiation.choose(accept, media_types(checked.form), format)
    if not default_graphs and not named_graphs:
        default_graphs, named_graphs = checked.from_graphs, checked.from_named
    default = _known(default_graphs, release.graphs)
    named = _known(named_graphs, release.graphs)
    based = base_declaration(release.base_iri) + checked.text
    query = QueryRequest(based, checked.form, media, default, named)
    return Prepared(query, etag_of(release.version, "query", text, media, *default, "|", *named))


def base_declaration(base: str) -> str:
    """Relative IRIs in a query resolve against the release's base IRI (the protocol leaves the
    base to the service). Declared on the query's first line, so line numbers stay the user's; a
    query's own BASE comes later and wins."""
    return f"BASE <{base}> "


def _known(names: Sequence[str], graphs: frozenset[str]) -> tuple[str, ...]:
    """Dataset graph names (protocol or FROM), keeping only the store's own: a graph the store
    does not have is an empty graph (the W3C protocol tests name such a graph and expect an
    answer), and is never passed on, so no engine is ever tempted to fetch it. When none is
    left, EMPTY_GRAPH stands for the empty dataset part (an empty tuple would mean "all")."""
    kept = tuple(dict.fromkeys(name for name in names if name in graphs))
    return kept or ((EMPTY_GRAPH,) if names else ())


def execute(release: Release, prepared: Prepared) -> QueryAnswer:
    """Run a prepared query, or take its answer from the release's cache."""
    answer = release.cache.get(prepared.etag)
    if answer is None:
        try:
            answer = release.engine.run(prepared.request)
        except QuerySyntaxError as error:
            raise _in_user_text(error, len(base_declaration(release.base_iri))) from None
        release.cache.put(prepared.etag, answer)
    return answer


_LOCATED = re.compile(r"syntax error at line \d+, column \d+: (.*)", re.DOTALL)


def _in_user_text(error: QuerySyntaxError, shift: int) -> QuerySyntaxError:
    """The error's column in the user's text (the engine saw the BASE declaration before it)."""
    if error.line != 1 or error.column is None:
        return error
    match = _LOCATED.fullmatch(str(error))
    reason = match.group(1) if match else str(error)
    return QuerySyntaxError(reason, 1, max(1, error.column - shift))


def run_json(release: Release, settings: Settings, text: str) -> dict[str, object]:
    """Run a SELECT of the server's own (labels, lists) and return the SPARQL JSON results."""
    prepared = prepare(release, settings, text, "application/sparql-results+json")
    result: dict[str, object] = json.loads(execute(release, prepared).body)
    return result


def bindings(result: Mapping[str, object]) -> list[dict[str, dict[str, str]]]:
    rows = result.get("results", {})
    assert isinstance(rows, dict)
    found: list[dict[str, dict[str, str]]] = rows.get("bindings", [])
    return found


def etag_of(*parts: str) -> str:
    """A weak ETag: gzip may re-encode the bytes, the meaning stays the same (RFC 9110 8.8.1)."""
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]
    return f'W/"{digest}"'


def not_modified(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    wanted = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in wanted or etag.removeprefix("W/") in wanted


def common_headers(
    release: Release, etag: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    return {
        "ETag": etag,
        "Cache-Control": ANSWER_CACHE_CONTROL,
        RELEASE_HEADER: release.version,
        **(extra or {}),
    }


def answer(
    request: Request,
    release: Release,
    etag: str,
    body: bytes,
    media_type: str,
    extra: Mapping[str, str] | None = None,
) -> Response:
    """200 with `body` (in chunks when large), or 304 when the client has it already."""
    headers = common_headers(release, etag, extra)
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    content_type = with_charset(media_type)
    if len(body) < STREAM_FROM or request.method == "HEAD":
        return Response(body, media_type=content_type, headers=headers)
    headers["Content-Length"] = str(len(body))
    return StreamingResponse(_chunks(body), media_type=content_type, headers=headers)


def _chunks(body: bytes) -> Iterator[bytes]:
    view = memoryview(body)
    for start in range(0, len(view), CHUNK):
        yield bytes(view[start : start + CHUNK])


#: Textual media types beyond text/*: each is UTF-8 and says so, so that no client guesses. TriG
#: and N-Quads are textual too, though no +json/+xml suffix says it.
TEXTUAL_ENDINGS = ("json", "xml", "triples", "quads", "/trig")


def with_charset(media_type: str) -> str:
    textual = media_type.startswith("text/") or media_type.endswith(TEXTUAL_ENDINGS)
    return f"{media_type}; charset=utf-8" if textual and "charset" not in media_type else media_type
