"""Downloads: the listing, checksums, immutable versioned files, conditional and Range requests,
the `latest` redirect, and no way out of a release folder."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from bs4 import BeautifulSoup

from hrgraph.config import Settings
from hrgraph.release import current_release


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
    assert {"hrgraph.ttl", "hrgraph.nt.gz", "description.ttl", "release.json"} <= names
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
