"""What the HTTP handlers share: the publisher of a request, strict form parsing, bodies read
within their limits, a query prepared with its result format negotiated (the running itself is
`engine.queries`), conditional requests, and answers streamed in chunks."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Mapping, Sequence
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from hrgraph.config import Settings, mention
from hrgraph.engine import safety
from hrgraph.engine.interface import QueryForm, media_types
from hrgraph.engine.publisher import Publisher, Release
from hrgraph.engine.queries import Prepared
from hrgraph.engine.queries import prepare as prepare_query
from hrgraph.errors import BadRequestError
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


def prepare(
    release: Release,
    text: str,
    accept: str | None,
    format: str | None = None,
    default_graphs: Sequence[str] = (),
    named_graphs: Sequence[str] = (),
) -> Prepared:
    """`engine.queries.prepare`, with the result format negotiated from Accept and `format=`."""

    def media_for(form: QueryForm) -> str:
        return negotiation.choose(accept, media_types(form), format)

    return prepare_query(release, text, media_for, default_graphs, named_graphs)
