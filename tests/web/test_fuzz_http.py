"""No user input produces a 500: hypothesis-generated paths, query strings, headers and bodies
against the real server."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
PATHS = st.sampled_from(
    [
        "/",
        "/sparql",
        "/sparql/",
        "/downloads/",
        "/downloads/latest/",
        "/id/city/",
        "/ontology",
        "/.well-known/void",
        "/sitemap.xml",
        "/catalog",
        "/id/",
    ]
)
NAMES = st.sampled_from(
    ["query", "update", "format", "default-graph-uri", "named-graph-uri", "using-graph-uri", "x"]
)
QUERIES = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            "SELECT * WHERE { ?s ?p ?o } LIMIT 3",
            "ASK {}",
            "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 2",
            "DESCRIBE <https://w3id.org/hrgraph/id/city/whitehorse>",
            "SELECT * WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }",
            "PREFIX : <x:> SELECT * {" + "{" * 300 + "}" * 300 + "}",
            "SELECT (" * 50,
            "INSERT DATA { <a:b> <a:c> <a:d> }",
        ]
    ),
)
CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/sparql-query",
            "application/sparql-update",
            "application/sparql-query; charset=latin-1",
            "multipart/form-data; boundary=x",
            "text/plain",
            "",
        ]
    ),
    st.text(ASCII, max_size=40).map(str.strip),
)
HEADER_VALUES = st.text(ASCII, max_size=60).map(str.strip)  # h11 refuses padded values


@pytest.fixture(scope="module")
def http(live_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_url, timeout=60) as client:
        yield client


def check(response: httpx.Response) -> None:
    assert response.status_code != 500, response.text
    assert response.status_code < 500 or response.status_code == 503, response.text


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(prefix=PATHS, tail=st.binary(max_size=40), accept=HEADER_VALUES)
def test_paths(http: httpx.Client, prefix: str, tail: bytes, accept: str) -> None:
    raw = (prefix + quote_from_bytes(tail, safe="/.%~")).encode()
    check(
        http.get(httpx.URL(str(http.base_url)).copy_with(raw_path=raw), headers={"Accept": accept})
    )


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.lists(st.tuples(NAMES, QUERIES), max_size=4),
    raw=st.text(st.sampled_from("abq=&%fFzZ09+;") | ASCII, max_size=60),
    accept=HEADER_VALUES,
    none_match=HEADER_VALUES,
)
def test_query_strings(
    http: httpx.Client, params: list[tuple[str, str]], raw: str, accept: str, none_match: str
) -> None:
    headers = {"Accept": accept, "If-None-Match": none_match}
    check(http.get("/sparql", params=params, headers=headers))
    # Raw bytes as the query string: bad percent-encoding, non-UTF-8, stray '&' and '='.
    url = httpx.URL(str(http.base_url)).copy_with(
        raw_path=b"/sparql?" + raw.encode().translate(None, b"# ")
    )
    check(http.get(url, headers=headers))


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content_type=CONTENT_TYPES,
    body=st.one_of(st.binary(max_size=300), QUERIES.map(str.encode)),
    accept=HEADER_VALUES,
)
def test_bodies(http: httpx.Client, content_type: str, body: bytes, accept: str) -> None:
    headers = {"Content-Type": content_type, "Accept": accept}
    check(http.post("/sparql", content=body, headers=headers))
    form = b"query=" + body
    check(
        http.post(
            "/sparql",
            content=form,
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        )
    )
