"""Downloads and descriptions: /downloads/ (every release and file, with size and SHA-256),
immutable versioned files, /downloads/latest/ redirects, /.well-known/void, /sitemap.xml and
/robots.txt.

Only files named in a release's SHA256SUMS (and SHA256SUMS itself) are served: a request path is
looked up in that list, whose names are checked when it is read (relative, no `..`, no absolute
name), and the file found must resolve (symlinks followed) to a regular file inside the release
folder. A release whose SHA256SUMS is missing or damaged is not listed (the listing says so) and
none of its files are served.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from hrgraph import changes, integrity
from hrgraph.engine.queries import etag_of
from hrgraph.errors import DamagedReleaseError, NotFoundError, ReleaseError, failure_message
from hrgraph.pages import changes as changes_page
from hrgraph.pages import templating
from hrgraph.pages.links import local_path
from hrgraph.release import CURRENT, MANIFEST, SUMS, read_manifest
from hrgraph.web import negotiation
from hrgraph.web.html import html_headers, language_of
from hrgraph.web.http import (
    ANSWER_CACHE_CONTROL,
    IMMUTABLE,
    RELEASE_HEADER,
    not_modified,
    publisher_of,
    with_charset,
)
from hrgraph.web.linked_data import documents, resources
from hrgraph.web.service import description_response

router = APIRouter()

#: Media types of the files a release holds, by name ending (the rest is octet-stream). The
#: gzipped N-Triples stay application/gzip, not n-triples with Content-Encoding: gzip, which
#: clients would decode and save as plain text under a .gz name; hrgraph.nt is the plain dump.
MEDIA_TYPES: dict[str, str] = {
    ".ttl": "text/turtle",
    ".nt.gz": "application/gzip",
    ".nt": "application/n-triples",
    ".nq": "application/n-quads",
    ".rdf": "application/rdf+xml",
    ".jsonld": "application/ld+json",
    ".trig": "application/trig",
    ".csv": "text/csv",
    ".json": "application/json",
    ".md": "text/markdown",
    ".sqlite": "application/vnd.sqlite3",  # the search index (build.search_index)
    # the data dictionary: self-contained, written by the builder (no user text in it)
    ".html": "text/html",
    "SHA256SUMS": "text/plain",
}


@dataclass(frozen=True)
class FileInfo:
    name: str
    size: int
    sha256: str
    url: str


def media_type(name: str) -> str:
    for ending, media in MEDIA_TYPES.items():
        if name.endswith(ending):
            return media
    return "application/octet-stream"


def versions(releases: Path) -> list[str]:
    """Every complete release folder (newest name last); build folders and links are not."""
    found = []
    for entry in os.scandir(releases):
        if entry.name.startswith(".") or entry.name == CURRENT or not entry.is_dir():
            continue
        if (Path(entry.path) / MANIFEST).is_file():
            found.append(entry.name)
    return sorted(found)


def checksums(release: Path) -> dict[str, str]:
    """File name → SHA-256, from the release's SHA256SUMS (names checked: see integrity);
    DamagedReleaseError when it is missing or damaged."""
    try:
        return integrity.read_sums(release / SUMS)
    except FileNotFoundError:
        reason = "missing"
    except OSError as error:
        reason = f"cannot be read ({error.strerror or error})"
    except ValueError as error:
        reason = str(error)
    raise DamagedReleaseError(release.name, [f"{SUMS}: {reason}"])


def files(releases: Path, version: str) -> list[FileInfo]:
    """The files SHA256SUMS lists; DamagedReleaseError when it is damaged or a file is missing."""
    folder = releases / version
    found = []
    for name, digest in sorted(checksums(folder).items()):
        path = integrity.inside(folder, name)
        if path is None:
            raise DamagedReleaseError(version, [f"{name}: missing or not a file of the release"])
        found.append(FileInfo(name, path.stat().st_size, digest, f"/downloads/{version}/{name}"))
    return found


def locate(releases: Path, version: str, name: str) -> Path:
    """The file `name` of release `version`, if the release lists it and it is a regular file
    inside the release folder; else NotFoundError."""
    if version not in versions(releases):
        raise NotFoundError(f"no release {version!r}; see /downloads/ for the list")
    folder = releases / version
    try:
        listed = name in checksums(folder)
    except DamagedReleaseError:
        raise NotFoundError(
            f"release {version} is not available: its {SUMS} is missing or damaged"
        ) from None
    path = integrity.inside(folder, name) if listed or name == SUMS else None
    if path is None:
        raise NotFoundError(
            f"release {version} has no file {name!r}; see /downloads/ for its files"
        )
    return path


def _listed(releases: Path, names: list[str], current: str) -> tuple[list[Any], list[Any]]:
    """The listing's releases, and those skipped (version and reason) because their SHA256SUMS
    or a file it names is missing or damaged."""
    listed: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    for v in names:
        try:
            entry = {
                "version": v,
                "current": v == current,
                "issued": read_manifest(releases / v).get("issued"),
                "files": [info.__dict__ for info in files(releases, v)],
            }
        except DamagedReleaseError as error:
            skipped.append({"version": v, "reason": "; ".join(error.problems)})
        except (ReleaseError, OSError) as error:
            skipped.append({"version": v, "reason": failure_message(error)})
        else:
            listed.append(entry)
    return listed, skipped


@router.api_route("/downloads", methods=["GET", "HEAD"], include_in_schema=False)
def downloads_redirect() -> Response:
    return RedirectResponse("/downloads/", status_code=301)


@router.api_route("/downloads/", methods=["GET", "HEAD"])
def listing(request: Request) -> Response:
    publisher = publisher_of(request)
    releases = publisher.releases
    with publisher.snapshot() as release:
        current = release.version
    listed, skipped = _listed(releases, list(reversed(versions(releases))), current)
    media = negotiation.choose(
        request.headers.get("accept"),
        ("text/html", "application/json"),
        request.query_params.get("format"),
    )
    headers = {"Vary": "Accept", "Cache-Control": "no-cache", RELEASE_HEADER: current}
    if media == "application/json":
        return JSONResponse(
            {"current": current, "releases": listed, "skipped": skipped}, headers=headers
        )
    lang = language_of(request)
    html = templating.render(
        "downloads.html", "/downloads/", lang, releases=listed, skipped=skipped, current=current
    )
    return HTMLResponse(html, headers={**headers, **html_headers(lang)})


@router.api_route("/downloads/latest/{name:path}", methods=["GET", "HEAD"])
def latest(request: Request, name: str) -> Response:
    publisher = publisher_of(request)
    with publisher.snapshot() as release:
        locate(publisher.releases, release.version, name)
        return RedirectResponse(
            f"/downloads/{release.version}/{name}",
            status_code=302,
            headers={"Cache-Control": "no-cache", RELEASE_HEADER: release.version},
        )


#: The representations of a release's changes, in the server's order of preference.
CHANGES = ("text/html", "application/json", "text/turtle")


@router.api_route("/downloads/{version}/changes", methods=["GET", "HEAD"])
def release_changes(request: Request, version: str) -> Response:
    """The release notes of `version`: what it adds, removes and changes against the release
    before it, as HTML (EN/FR), JSON or Turtle. Named by both versions (the release before it
    is another once that one is pruned), so not immutable."""
    releases = publisher_of(request).releases
    if version not in versions(releases):
        raise NotFoundError(f"no release {version!r}; see /downloads/ for the list")
    accept, format = request.headers.get("accept"), request.query_params.get("format")
    media = negotiation.choose(accept, CHANGES, format)
    lang = language_of(request)
    old, new = changes.previous(releases, version)
    before = old.name if old is not None else ""
    etag = etag_of(version, "changes", before, media, lang if media == "text/html" else "")
    headers = {"Cache-Control": ANSWER_CACHE_CONTROL, RELEASE_HEADER: version, "Vary": "Accept"}
    if not_modified(request, etag):
        return Response(status_code=304, headers={**headers, "ETag": etag})
    found = changes.diff(old, new)
    base = str(read_manifest(releases / version)["base_iri"])
    if media == "application/json":
        body = json.dumps(changes.to_json(found, base), indent=2).encode()
    elif media == "text/turtle":
        body = changes.to_turtle(found, base)
    else:
        body = changes_page.render(found, lang).encode()
        headers.update(html_headers(lang))
    return Response(body, media_type=with_charset(media), headers={**headers, "ETag": etag})


@router.api_route("/downloads/{version}/{name:path}", methods=["GET", "HEAD"])
def download(request: Request, version: str, name: str) -> Response:
    path = locate(publisher_of(request).releases, version, name)
    response = FileResponse(
        path,
        media_type=with_charset(media_type(name)),
        headers={"Cache-Control": IMMUTABLE, RELEASE_HEADER: version},
    )
    stat = path.stat()
    response.set_stat_headers(stat)
    if _unchanged(request, response.headers["etag"], stat.st_mtime):
        return Response(status_code=304, headers=_validators(response))
    return response


def _unchanged(request: Request, etag: str, mtime: float) -> bool:
    """RFC 9110 13.1: If-None-Match wins over If-Modified-Since."""
    none_match = request.headers.get("if-none-match")
    if none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in none_match.split(",")}
        return "*" in tags or etag.removeprefix("W/") in tags
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        return int(mtime) <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False


def _validators(response: Response) -> dict[str, str]:
    keep = ("etag", "last-modified", "cache-control", RELEASE_HEADER.lower())
    return {k: v for k, v in response.headers.items() if k in keep}


@router.api_route("/.well-known/void", methods=["GET", "HEAD"])
def void(request: Request) -> Response:
    with publisher_of(request).snapshot() as release:
        return description_response(request, release, "void")


@router.api_route("/sitemap.xml", methods=["GET", "HEAD"])
def sitemap(request: Request) -> Response:
    publisher = publisher_of(request)
    root = str(request.base_url).rstrip("/")
    with publisher.snapshot() as release:
        iris = set(resources(release)) | set(documents(release))
        paths = {local_path(iri, release.base_iri).partition("#")[0] for iri in iris}
        paths.discard("")  # IRIs of elsewhere
        issued = str(release.manifest.get("issued", ""))
        version = release.version
    entries = "".join(
        f"<url><loc>{escape(root + path)}</loc><lastmod>{escape(issued)}</lastmod></url>\n"
        for path in ["/", "/sparql", "/downloads/", *sorted(paths)]
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + entries + "</urlset>\n"
    )
    return Response(body, media_type="application/xml", headers={RELEASE_HEADER: version})


@router.api_route("/robots.txt", methods=["GET", "HEAD"])
def robots(request: Request) -> Response:
    """Every path may be crawled; the sitemap (an absolute URL, as robots.txt requires) lists the
    resource pages."""
    sitemap_url = str(request.url_for("sitemap"))
    body = f"User-agent: *\nAllow: /\n\nSitemap: {sitemap_url}\n"
    return Response(
        body, media_type="text/plain", headers={"Cache-Control": "public, max-age=3600"}
    )
