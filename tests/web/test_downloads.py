"""Downloads: the listing, checksums, immutable versioned files, conditional and Range requests,
the `latest` redirect, and no way out of a release folder."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from bs4 import BeautifulSoup

from hrgraph.build.writer import current_release
from hrgraph.config import Settings


@pytest.fixture(scope="module")
def version(served_settings: Settings) -> str:
    release = current_release(served_settings.releases)
    assert release is not None
    return release.name


def test_listing_json(client: httpx.Client, version: str) -> None:
    listing = client.get("/downloads/", headers={"Accept": "application/json"}).json()
    assert listing["current"] == version
    (release,) = listing["releases"]
    names = {f["name"] for f in release["files"]}
    dumps = {"hrgraph.ttl", "hrgraph.nt", "hrgraph.nt.gz", "hrgraph.jsonld", "hrgraph.rdf"}
    assert dumps | {"hrgraph.trig", "description.ttl", "release.json"} <= names
    assert any(name.startswith("csv/") for name in names)


def test_listing_html(client: httpx.Client, version: str) -> None:
    page = BeautifulSoup(
        client.get("/downloads/", headers={"Accept": "text/html"}).text, "html.parser"
    )
    links = {a["href"] for a in page.find_all("a")}
    assert f"/downloads/{version}/hrgraph.ttl" in links
    assert f"/downloads/{version}/SHA256SUMS" in links


def test_checksums_match_the_served_bytes(client: httpx.Client) -> None:
    listing = client.get("/downloads/?format=json").json()
    for entry in listing["releases"][0]["files"]:
        body = client.get(entry["url"], headers={"Accept-Encoding": "identity"}).content
        assert len(body) == entry["size"], entry["name"]
        assert hashlib.sha256(body).hexdigest() == entry["sha256"], entry["name"]


def test_sums_file(client: httpx.Client, version: str) -> None:
    sums = client.get(f"/downloads/{version}/SHA256SUMS")
    assert sums.status_code == 200
    assert "  hrgraph.ttl" in sums.text


def test_immutable_caching_and_validators(client: httpx.Client, version: str) -> None:
    url = f"/downloads/{version}/hrgraph.ttl"
    response = client.get(url)
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"].startswith("text/turtle")
    etag, modified = response.headers["etag"], response.headers["last-modified"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_range(client: httpx.Client, version: str) -> None:
    url = f"/downloads/{version}/hrgraph.ttl"
    whole = client.get(url).content
    part = client.get(url, headers={"Range": "bytes=10-99"})
    assert part.status_code == 206
    assert part.content == whole[10:100]
    assert part.headers["content-range"] == f"bytes 10-99/{len(whole)}"
    assert "content-encoding" not in part.headers  # never re-encoded: Range counts file bytes


def test_head(client: httpx.Client, version: str) -> None:
    head = client.head(f"/downloads/{version}/hrgraph.ttl")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 1000


def test_latest_redirects(client: httpx.Client, version: str) -> None:
    response = client.get("/downloads/latest/hrgraph.nt.gz")
    assert response.status_code == 302
    assert response.headers["location"] == f"/downloads/{version}/hrgraph.nt.gz"
    assert client.get("/downloads/latest/nope.ttl").status_code == 404


@pytest.mark.parametrize(
    ("name", "content_type", "fmt"),
    [
        ("hrgraph.nt", "application/n-triples; charset=utf-8", ox.RdfFormat.N_TRIPLES),
        ("hrgraph.rdf", "application/rdf+xml; charset=utf-8", ox.RdfFormat.RDF_XML),
        ("hrgraph.trig", "application/trig; charset=utf-8", ox.RdfFormat.TRIG),
        ("hrgraph.jsonld", "application/ld+json; charset=utf-8", ox.RdfFormat.JSON_LD),
        ("hrgraph.ttl", "text/turtle; charset=utf-8", ox.RdfFormat.TURTLE),
    ],
)
def test_rdf_dumps_are_served_as_rdf(
    client: httpx.Client, version: str, name: str, content_type: str, fmt: ox.RdfFormat
) -> None:
    """Each dump in the media type an RDF client reads from its URL, with its charset."""
    response = client.get(f"/downloads/{version}/{name}")
    assert response.headers["content-type"] == content_type
    assert "content-encoding" not in response.headers
    triples = {q.triple for q in ox.parse(response.content, format=fmt)}
    assert triples == nt_gz_triples(client, version)


def nt_gz_triples(client: httpx.Client, version: str) -> set[ox.Triple]:
    """The gzipped N-Triples stay a gzip file (Range counts its bytes), decoded by the client."""
    response = client.get(f"/downloads/{version}/hrgraph.nt.gz")
    assert response.headers["content-type"] == "application/gzip"
    assert "content-encoding" not in response.headers
    data = gzip.decompress(response.content)
    return {q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)}


def test_robots_txt_names_the_sitemap(client: httpx.Client) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    lines = response.text.splitlines()
    assert lines[:2] == ["User-agent: *", "Allow: /"]
    sitemap = client.base_url.join("/sitemap.xml")  # on the server it was asked at
    assert f"Sitemap: {sitemap}" in lines
    assert client.get(sitemap).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/downloads/{v}/../../../etc/passwd",
        "/downloads/{v}/%2e%2e/%2e%2e/etc/passwd",
        "/downloads/{v}/..%2f..%2fetc%2fpasswd",
        "/downloads/../{v}/release.json",
        "/downloads/{v}/store/",
        "/downloads/{v}/store/MANIFEST",
        "/downloads/{v}//etc/passwd",
        "/downloads/%2e%2e/current/hrgraph.ttl",
        "/downloads/current/hrgraph.ttl",
        "/downloads/.lock/x",
        "/downloads/latest/../../etc/passwd",
        "/downloads/latest/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    ],
)
def test_no_path_traversal(live_url: str, version: str, path: str) -> None:
    # A raw request: httpx would otherwise normalise the dots away before sending.
    url = httpx.URL(live_url).copy_with(raw_path=path.format(v=version).encode())
    with httpx.Client(timeout=30) as http:
        response = http.get(url)
    assert response.status_code in (404, 400), path
    assert b"root:" not in response.content


# --- damaged SHA256SUMS: the release is skipped, never a 500, and nothing outside is served ----

ZEROS = "0" * 64
DAMAGES: dict[str, str] = {
    "absolute": f"{ZEROS}  /etc/hostname\n",
    "dotdot": f"{ZEROS}  ../good/hrgraph.ttl\n",
    "garbage": "this is not a checksum line\n",
    "backslash": f"{ZEROS}  csv\\programs.csv\n",
    "empty-segment": f"{ZEROS}  csv//programs.csv\n",
}


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server over a good release and copies of it with damaged SHA256SUMS (appended lines, a
    missing list, a listed file that is missing, a file that is a symlink out of the release)."""
    from conftest import ROOT, serve_in_thread
    from hrgraph.build.writer import build
    from hrgraph.config import load_settings
    from hrgraph.web.app import create_app

    releases = tmp_path_factory.mktemp("damaged") / "releases"
    settings = load_settings(
        {"sources": str(ROOT), "releases": str(releases), "version": "good"}, environ={}
    )
    good = build(settings).path
    for name, line in DAMAGES.items():
        shutil.copytree(good, releases / name)
        with (releases / name / "SHA256SUMS").open("a") as sums:
            sums.write(line)
    shutil.copytree(good, releases / "no-sums")
    (releases / "no-sums" / "SHA256SUMS").unlink()
    shutil.copytree(good, releases / "missing-file")
    (releases / "missing-file" / "hrgraph.ttl").unlink()
    shutil.copytree(good, releases / "symlink")
    (releases / "symlink" / "hrgraph.ttl").unlink()
    (releases / "symlink" / "hrgraph.ttl").symlink_to("/etc/hostname")
    with serve_in_thread(create_app(settings)) as url:
        yield url, releases


def raw_get(url: str, path: str) -> tuple[int, bytes]:
    """Status and whole answer of a GET of `path` sent byte for byte (httpx would remove `..`
    segments before sending, even from a raw path)."""
    address = httpx.URL(url)
    assert address.port is not None
    with socket.create_connection((address.host, address.port), timeout=30) as connection:
        connection.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {address.host}\r\nConnection: close\r\n\r\n".encode()
        )
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    return int(answer.split(b" ", 2)[1]), answer


def test_damaged_sums_are_skipped_in_the_json_listing(damaged: tuple[str, Path]) -> None:
    url, _ = damaged
    response = httpx.get(f"{url}/downloads/", params={"format": "json"}, timeout=30)
    assert response.status_code == 200
    listing = response.json()
    assert [r["version"] for r in listing["releases"]] == ["good"]
    reasons = {s["version"]: s["reason"] for s in listing["skipped"]}
    assert set(reasons) == {*DAMAGES, "no-sums", "missing-file", "symlink"}
    assert "absolute name" in reasons["absolute"]
    assert "'..'" in reasons["dotdot"]
    assert "line" in reasons["garbage"]
    assert "backslash" in reasons["backslash"]
    assert "empty" in reasons["empty-segment"]
    assert reasons["no-sums"] == "SHA256SUMS: missing"
    assert reasons["missing-file"].startswith("hrgraph.ttl: missing")
    assert reasons["symlink"].startswith("hrgraph.ttl: ")


def test_damaged_sums_are_a_line_in_the_html_listing(damaged: tuple[str, Path]) -> None:
    url, _ = damaged
    response = httpx.get(f"{url}/downloads/", headers={"Accept": "text/html"}, timeout=30)
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "html.parser")
    notes = [p.get_text() for p in page.find_all("p", class_="note")]
    assert any(n.startswith("Release absolute is not listed") for n in notes)
    assert len(notes) == len(DAMAGES) + 3
    assert [h.get_text() for h in page.find_all("h2")] == ["good (current)"]


@pytest.mark.parametrize(
    "path",
    [
        "/downloads/absolute//etc/hostname",
        "/downloads/absolute/hrgraph.ttl",  # a damaged list serves nothing at all
        "/downloads/absolute/SHA256SUMS",
        "/downloads/good//etc/hostname",
        "/downloads/good/../x",
        "/downloads/good/%2e%2e/x",
        "/downloads/dotdot/../good/hrgraph.ttl",
        "/downloads/dotdot/..%2fgood%2fhrgraph.ttl",
        "/downloads/symlink/hrgraph.ttl",
        "/downloads/missing-file/hrgraph.ttl",
        "/downloads/no-sums/hrgraph.ttl",
        "/downloads/good/store/SHA256SUMS",
        "/downloads/good/csv",
    ],
)
def test_nothing_outside_a_release_is_served(damaged: tuple[str, Path], path: str) -> None:
    url, _ = damaged
    status, answer = raw_get(url, path)
    assert status in (404, 400), path
    hostname = Path("/etc/hostname")
    if hostname.is_file() and hostname.read_bytes().strip():
        assert hostname.read_bytes().strip() not in answer.partition(b"\r\n\r\n")[2]


def test_a_symlink_inside_the_release_is_served_when_it_stays_inside(
    damaged: tuple[str, Path],
) -> None:
    url, _ = damaged
    assert raw_get(url, "/downloads/good/hrgraph.ttl")[0] == 200
    assert raw_get(url, "/downloads/good/SHA256SUMS")[0] == 200


@pytest.mark.parametrize(
    "name",
    ["/etc/passwd", "../x", "a/../b", "a//b", "./a", "a/", "", "a\\b", "a\x00b", "a\rb", "a\tb"],
)
def test_unsafe_names_in_a_list_are_refused(tmp_path: Path, name: str) -> None:
    from hrgraph.integrity import name_problem, read_sums

    listing = tmp_path / "SHA256SUMS"
    listing.write_bytes(f"{ZEROS}  ok.ttl\n{ZEROS}  {name}\n".encode())
    with pytest.raises(ValueError, match="line 2"):
        read_sums(listing)
    assert name == "" or name_problem(name) is not None


@pytest.mark.parametrize(
    "text",
    [f"{ZEROS} one-space.ttl\n", f"{'0' * 63}  short.ttl\n", f"{ZEROS}  no-newline.ttl", "\n"],
)
def test_malformed_lines_are_refused(tmp_path: Path, text: str) -> None:
    from hrgraph.integrity import read_sums

    listing = tmp_path / "SHA256SUMS"
    listing.write_text(text)
    with pytest.raises(ValueError):
        read_sums(listing)


def test_well_formed_lists_are_read(tmp_path: Path) -> None:
    from hrgraph.integrity import read_sums

    listing = tmp_path / "SHA256SUMS"
    listing.write_text(f"{ZEROS}  hrgraph.ttl\n{'A' * 64}  csv/programs.csv\n")
    assert read_sums(listing) == {"hrgraph.ttl": ZEROS, "csv/programs.csv": "a" * 64}
    listing.write_text("")
    assert read_sums(listing) == {}
