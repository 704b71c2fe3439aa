"""The change feed over HTTP (LDES; what it holds: `hrgraph.feed`): /feed, the root node, and
/feed/<version>, a page, each in TriG, N-Quads or JSON-LD (they hold named graphs, so Turtle and
N-Triples are 406). A closed page never changes again: `Cache-Control: immutable`; the root node
and the newest page change with the next release: revalidated after a minute. Every answer has a
validator of its bytes (a weak ETag: gzip may re-encode them) and answers If-None-Match with 304.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hrgraph import feed
from hrgraph.engine.queries import etag_of
from hrgraph.errors import NotAcceptableError
from hrgraph.release import read_manifest
from hrgraph.web import negotiation
from hrgraph.web.http import (
    IMMUTABLE,
    common_headers,
    not_modified,
    publisher_of,
    with_charset,
)

router = APIRouter()


@router.api_route("/feed", methods=["GET", "HEAD"])
def feed_root(request: Request) -> Response:
    return _answer(request, None)


@router.api_route("/feed/{version}", methods=["GET", "HEAD"])
def feed_page(request: Request, version: str) -> Response:
    return _answer(request, version)


def _answer(request: Request, version: str | None) -> Response:
    accept, format = request.headers.get("accept"), request.query_params.get("format")
    try:
        media = negotiation.choose(accept, tuple(feed.FORMATS), format)
    except NotAcceptableError as error:
        raise NotAcceptableError(
            f"{error}; the feed's pages hold a named graph per member, which Turtle and "
            "N-Triples cannot carry"
        ) from None
    with publisher_of(request).snapshot() as release:
        folder = release.path
        body, etag, immutable = _document(str(folder), os.stat(folder).st_ino, version, media)
        extra = {"Vary": "Accept", **({"Cache-Control": IMMUTABLE} if immutable else {})}
        headers = common_headers(release, etag, extra)
    if not_modified(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=with_charset(media), headers=headers)


@lru_cache(maxsize=32)
def _document(folder: str, inode: int, version: str | None, media: str) -> tuple[bytes, str, bool]:
    """The bytes of a feed document, their ETag, and whether it is closed. Releases are immutable
    and the folder's inode tells a rebuilt one apart, so each is rendered once per process."""
    release = Path(folder)
    base = str(read_manifest(release)["base_iri"])
    pages = feed.read_pages(release)
    if version is None:
        quads, closed = feed.root(base, pages), False
    else:
        index = feed.index_of(pages, version)
        quads = feed.page(base, pages, index, feed.read_members(release, version))
        closed = feed.closed(pages, index)
    body = feed.serialize(quads, media, base)
    return body, etag_of(hashlib.sha256(body).hexdigest(), media), closed
