"""The SPARQL 1.1 Protocol at /sparql, against a real server over the shipped release."""

from __future__ import annotations

import csv
import gzip
import io
import json

import httpx
import pyoxigraph
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from support import Listener

SD = "http://www.w3.org/ns/sparql-service-description#"
SELECT = "SELECT ?s WHERE { ?s a hr:City } ORDER BY ?s LIMIT 3"
JSON = "application/sparql-results+json"


def test_get_select_json(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": SELECT}, headers={"Accept": JSON})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(JSON)
    rows = response.json()["results"]["bindings"]
    assert len(rows) == 3
    assert all(row["s"]["value"].startswith("https://w3id.org/hrgraph/id/city/") for row in rows)


def test_post_form_and_direct_give_the_same_answer(client: httpx.Client) -> None:
    by_get = client.get("/sparql", params={"query": SELECT}, headers={"Accept": JSON})
    by_form = client.post("/sparql", data={"query": SELECT}, headers={"Accept": JSON})
    direct = client.post(
        "/sparql",
        content=SELECT.encode(),
        headers={"Content-Type": "application/sparql-query", "Accept": JSON},
    )
    assert by_get.json() == by_form.json() == direct.json()
    assert by_get.headers["etag"] == by_form.headers["etag"] == direct.headers["etag"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("application/json", JSON),
        ("text/csv;q=0.5, text/tab-separated-values;q=0.9", "text/tab-separated-values"),
        ("text/*", "text/csv"),
        ("*/*", JSON),
        (None, JSON),
    ],
)
def test_select_negotiation(client: httpx.Client, accept: str | None, expected: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", params={"query": SELECT}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected
    assert "Accept" in response.headers["vary"]


def test_csv_and_tsv_bodies(client: httpx.Client) -> None:
    text = client.get("/sparql", params={"query": SELECT, "format": "csv"}).text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["s"] and len(rows) == 4
    tsv = client.get("/sparql", params={"query": SELECT, "format": "tsv"}).text
    assert tsv.splitlines()[0] == "?s"


@pytest.mark.parametrize(
    ("accept", "fmt", "parse_as"),
    [
        ("text/turtle", None, "turtle"),
        ("application/n-triples", None, "nt"),
        ("application/ld+json", None, "json-ld"),
        ("application/rdf+xml", None, "xml"),
        ("application/trig", None, "trig"),
        (None, "ttl", "turtle"),
        (None, "jsonld", "json-ld"),
        (None, "rdfxml", "xml"),
        (None, "nt", "nt"),
    ],
)
def test_construct_formats(
    client: httpx.Client, accept: str | None, fmt: str | None, parse_as: str
) -> None:
    query = "CONSTRUCT { ?s a hr:City } WHERE { ?s a hr:City }"
    params = {"query": query, **({"format": fmt} if fmt else {})}
    response = client.get("/sparql", params=params, headers={"Accept": accept or "*/*"})
    assert response.status_code == 200, response.text
    graph = Graph().parse(data=response.content, format=parse_as)
    assert len(graph) >= 5
    assert (URIRef("https://w3id.org/hrgraph/id/city/whitehorse"), RDF.type, None) in graph


def test_ask_formats(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": "ASK { ?s a hr:City }"})
    assert response.json() == {"head": {}, "boolean": True}
    xml = client.get(
        "/sparql",
        params={"query": "ASK { ?s a hr:City }"},
        headers={"Accept": "application/sparql-results+xml"},
    )
    assert "<boolean>true</boolean>" in xml.text


def test_not_acceptable(client: httpx.Client) -> None:
    response = client.get(
        "/sparql", params={"query": "ASK {}"}, headers={"Accept": "text/csv, image/png"}
    )
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.text
    bad_format = client.get("/sparql", params={"query": "ASK {}", "format": "png"})
    assert bad_format.status_code == 406
    assert "format='png'" in bad_format.text


def test_q_zero_refuses_a_type(client: httpx.Client) -> None:
    response = client.get(
        "/sparql",
        params={"query": SELECT},
        headers={"Accept": "application/sparql-results+json;q=0, */*;q=0.1"},
    )
    assert response.headers["content-type"].startswith("application/sparql-results+xml")


def test_default_and_named_graph_uri(client: httpx.Client) -> None:
    cities = "https://w3id.org/hrgraph/graph/data/places"
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s a hr:Program }"
    only_places = client.get("/sparql", params={"query": query, "default-graph-uri": cities})
    everything = client.get("/sparql", params={"query": query})
    count = lambda r: int(r.json()["results"]["bindings"][0]["n"]["value"])  # noqa: E731
    assert count(only_places) == 0 < count(everything)
    named = client.get(
        "/sparql",
        params=[
            ("query", "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"),
            ("named-graph-uri", cities),
            ("named-graph-uri", "https://w3id.org/hrgraph/graph/data/programs"),
        ],
    )
    graphs = {row["g"]["value"] for row in named.json()["results"]["bindings"]}
    assert graphs == {cities, "https://w3id.org/hrgraph/graph/data/programs"}


def test_service_description(client: httpx.Client) -> None:
    response = client.get("/sparql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    endpoint = URIRef(str(client.base_url.join("/sparql")))  # the URL it was asked at
    service = graph.value(predicate=URIRef(SD + "endpoint"), object=endpoint)
    assert service is not None
    assert (service, URIRef(SD + "supportedLanguage"), URIRef(SD + "SPARQL11Query")) in graph
    formats = set(graph.objects(service, URIRef(SD + "resultFormat")))
    assert URIRef("http://www.w3.org/ns/formats/SPARQL_Results_TSV") in formats
    names = {str(n) for n in graph.objects(None, URIRef(SD + "name"))}
    assert "https://w3id.org/hrgraph/graph/data/programs" in names
    triples = list(graph.objects(None, URIRef("http://rdfs.org/ns/void#triples")))
    assert triples and all(int(t) >= 0 for t in triples)


def test_service_description_formats(client: httpx.Client) -> None:
    for accept, fmt in [("application/ld+json", "json-ld"), ("application/rdf+xml", "xml")]:
        response = client.get("/sparql", headers={"Accept": accept})
        assert response.headers["content-type"].startswith(accept)
        assert len(Graph().parse(data=response.content, format=fmt)) > 10


def test_head(client: httpx.Client) -> None:
    get = client.get("/sparql", params={"query": SELECT})
    head = client.head("/sparql", params={"query": SELECT})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-type"] == get.headers["content-type"]


def test_cors(client: httpx.Client) -> None:
    response = client.get(
        "/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://example.org"}
    )
    assert response.headers["access-control-allow-origin"] == "*"
    assert "etag" in response.headers["access-control-expose-headers"].lower()
    preflight = client.options(
        "/sparql",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_gzip(client: httpx.Client) -> None:
    query = "SELECT * WHERE { ?s ?p ?o } LIMIT 500"
    response = client.get("/sparql", params={"query": query}, headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["results"]["bindings"]) == 500  # httpx decodes it


def test_etag_and_304(client: httpx.Client) -> None:
    first = client.get("/sparql", params={"query": SELECT})
    etag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]
    again = client.get("/sparql", params={"query": SELECT}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = client.get("/sparql", params={"query": SELECT, "format": "csv"})
    assert other.headers["etag"] != etag


def test_large_results_are_streamed(live_client: httpx.Client) -> None:
    """On the wire, through uvicorn: its Content-Length and the chunks a client reads."""
    query = "SELECT * WHERE { ?s ?p ?o }"
    with live_client.stream(
        "GET", "/sparql", params={"query": query}, headers={"Accept-Encoding": "identity"}
    ) as response:
        assert response.status_code == 200
        assert int(response.headers["content-length"]) > 256 * 1024
        chunks = [len(chunk) for chunk in response.iter_raw()]
    assert sum(chunks) > 256 * 1024
    assert len(chunks) > 1


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"method": "GET", "params": {"update": "CLEAR ALL"}},
        {"method": "POST", "data": {"update": "INSERT DATA { <a:b> <a:c> <a:d> }"}},
        {
            "method": "POST",
            "content": b"INSERT DATA { <a:b> <a:c> <a:d> }",
            "headers": {"Content-Type": "application/sparql-update"},
        },
        {"method": "POST", "data": {"query": "INSERT DATA { <a:b> <a:c> <a:d> }"}},
        {"method": "GET", "params": {"query": "DROP ALL"}},
    ],
)
def test_updates_are_refused_and_change_nothing(
    client: httpx.Client, request_kwargs: dict[str, object]
) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    before = client.get("/sparql", params={"query": count}).json()
    response = client.request(url="/sparql", **request_kwargs)  # type: ignore[arg-type]
    assert response.status_code == 403, response.text
    assert "read-only" in response.text
    assert client.get("/sparql", params={"query": count}).json() == before
    assert client.get("/sparql", params={"query": "ASK { <a:b> ?p ?o }"}).json()["boolean"] is False


def test_syntax_error_has_line_and_column(client: httpx.Client) -> None:
    response = client.get(
        "/sparql",
        params={"query": "SELECT * WHERE {\n  ?s ?p \n}"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "query-syntax"
    assert body["line"] == 3 and isinstance(body["column"], int)
    assert set(body) >= {"error", "message", "line", "column", "setting"}


def test_error_formats(client: httpx.Client) -> None:
    query = "SELECT * WHERE { ?s ?p }"
    text = client.get("/sparql", params={"query": query}, headers={"Accept": "*/*"})
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text.startswith("400 query-syntax:")
    html = client.get(
        "/sparql",
        params={"query": query},
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert html.headers["content-type"].startswith("text/html")
    assert "SELECT * WHERE { ?s ?p }" in html.text  # the query is echoed
    assert (
        "<script"
        not in client.get(
            "/sparql", params={"query": "<script>x"}, headers={"Accept": "text/html"}
        ).text
    )


def test_unknown_prefix(client: httpx.Client) -> None:
    response = client.get(
        "/sparql", params={"query": "SELECT * WHERE { ?s nope:x ?o }"}, headers={"Accept": JSON}
    )
    assert response.status_code == 400
    assert "nope:" in response.json()["message"]


def test_outbound_requests_refused(client: httpx.Client) -> None:
    query = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 400, query


@pytest.mark.parametrize("keyword", ["FROM", "FROM NAMED"])
def test_an_unknown_graph_is_empty_by_from_as_by_the_protocol(
    client: httpx.Client, keyword: str
) -> None:
    """The W3C protocol tests name a graph the store lacks (data0.rdf) and expect an answer, so
    an unknown graph is an empty graph, and never fetched: FROM <g> answers as the protocol's
    default-graph-uri=g (named-graph-uri=g for FROM NAMED)."""
    parameter = "default-graph-uri" if keyword == "FROM" else "named-graph-uri"
    where = "WHERE { ?s ?p ?o }" if keyword == "FROM" else "WHERE { GRAPH ?g { ?s ?p ?o } }"
    listener = Listener()
    try:
        query = f"SELECT * {keyword} <{listener.url}> {where}"
        by_query = client.get("/sparql", params={"query": query})
        by_protocol = client.get(
            "/sparql", params={"query": f"SELECT * {where}", parameter: listener.url}
        )
    finally:
        listener.close()
    assert listener.accepted == 0
    assert by_query.status_code == by_protocol.status_code == 200, by_query.text
    assert by_query.json()["results"] == by_protocol.json()["results"] == {"bindings": []}


def test_from_a_known_graph_limits_the_dataset(client: httpx.Client) -> None:
    places = "https://w3id.org/hrgraph/graph/data/places"
    query = f"SELECT (COUNT(*) AS ?n) FROM <{places}> WHERE {{ ?s a hr:Program }}"
    by_from = client.get("/sparql", params={"query": query})
    assert by_from.json()["results"]["bindings"][0]["n"]["value"] == "0"


@pytest.mark.parametrize(
    ("request_kwargs", "status", "words"),
    [
        ({"content": b"ASK {}", "headers": {"Content-Type": "text/plain"}}, 415, "must be"),
        ({"content": b"query=ASK%20%7B%7D"}, 415, "Content-Type"),
        (
            {
                "content": "ASK {}".encode("utf-16"),
                "headers": {"Content-Type": "application/sparql-query; charset=UTF-16"},
            },
            415,
            "UTF-8",
        ),
        (
            {
                "content": b"ASK {} \xff\xfe",
                "headers": {"Content-Type": "application/sparql-query"},
            },
            400,
            "not UTF-8",
        ),
        (
            {
                "content": b"query=ASK%zz",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            400,
            "percent-encoding",
        ),
        (
            {
                "content": b"query=%ff%fe",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            400,
            "not UTF-8",
        ),
        (
            {
                "content": b"query=ASK%7B%7D&query=ASK%7B%7D",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            400,
            "one query",
        ),
        (
            {"content": b"", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
            400,
            "query",
        ),
    ],
)
def test_malformed_posts(
    client: httpx.Client, request_kwargs: dict[str, object], status: int, words: str
) -> None:
    response = client.post("/sparql", **request_kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    assert words in response.text


def test_size_limit_413(client: httpx.Client, served_settings: object) -> None:
    big = "ASK {} #" + "x" * 200_000
    posted = client.post(
        "/sparql", content=big.encode(), headers={"Content-Type": "application/sparql-query"}
    )
    assert posted.status_code == 413
    assert "max_query_bytes" in posted.text
    form = client.post("/sparql", data={"query": big})
    assert form.status_code == 413


def test_size_limit_stops_reading(live_client: httpx.Client) -> None:
    """A body announced too large is refused from its Content-Length, before it is sent (over a
    socket: the in-process client would read the whole body before calling the application)."""

    def endless() -> object:
        yield b"query="
        for _ in range(10_000):
            yield b"x" * 1000

    response = live_client.post(
        "/sparql",
        content=endless(),  # type: ignore[arg-type]
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


def test_method_not_allowed(client: httpx.Client) -> None:
    response = client.put("/sparql", content=b"x", headers={"Accept": "application/json"})
    assert response.status_code == 405
    assert response.json()["error"] == "method-not-allowed"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/sparql", "GET, HEAD, POST, OPTIONS"),
        ("/sparql/", "GET, HEAD, POST, OPTIONS"),
        ("/id/city/whitehorse", "GET, HEAD, OPTIONS"),
        ("/downloads/", "GET, HEAD, OPTIONS"),
    ],
)
def test_405_allow_lists_every_method_of_the_path(
    client: httpx.Client, path: str, allowed: str
) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        response = client.request(method, path)
        assert response.status_code == 405
        assert response.headers["allow"] == allowed
    options = client.options(path)  # no Origin: not a CORS preflight
    assert (options.status_code, options.headers["allow"]) == (204, allowed)
    assert options.content == b""


@pytest.mark.parametrize(
    ("fmt", "accept", "expected"),
    [
        ("n3", "application/turtle,text/turtle,text/n3", "text/turtle"),
        ("json-ld", "application/ld+json,application/x-json+ld", "application/ld+json"),
        ("turtle", "application/turtle,text/turtle", "text/turtle"),
        ("csv", "application/rdf+xml", "application/rdf+xml"),  # csv: no CONSTRUCT has it
        ("rdf+xml", "*/*", "application/rdf+xml"),
        ("ntriples", "*/*", "application/n-triples"),
    ],
)
def test_format_names_clients_send(
    client: httpx.Client, fmt: str, accept: str, expected: str
) -> None:
    query = "CONSTRUCT { ?s a hr:City } WHERE { ?s a hr:City }"
    for method in ("GET", "POST"):
        params = {"query": query, "format": fmt}
        sent = {"params": params} if method == "GET" else {"data": params}
        response = client.request(method, "/sparql", headers={"Accept": accept}, **sent)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].split(";")[0] == expected


def test_select_format_names(client: httpx.Client) -> None:
    for fmt, expected in [
        ("xml", "application/sparql-results+xml"),
        ("tsv", "text/tab-separated-values"),
        ("srj", JSON),
    ]:
        response = client.get("/sparql", params={"query": SELECT, "format": fmt})
        assert response.headers["content-type"].split(";")[0] == expected
    by_accept = client.get(
        "/sparql", params={"query": SELECT, "format": "turtle"}, headers={"Accept": "text/csv"}
    )
    assert by_accept.headers["content-type"].startswith("text/csv")
    neither = client.get("/sparql", params={"query": SELECT, "format": "turtle"})
    assert neither.status_code == 406


def test_trig_construct_is_in_the_default_graph_with_a_charset(client: httpx.Client) -> None:
    query = "CONSTRUCT { ?s a hr:City } WHERE { ?s a hr:City }"
    response = client.get(
        "/sparql", params={"query": query}, headers={"Accept": "application/trig"}
    )
    assert response.headers["content-type"] == "application/trig; charset=utf-8"
    quads = list(pyoxigraph.parse(response.content, format=pyoxigraph.RdfFormat.TRIG))
    assert len(quads) == 9
    assert all(q.graph_name == pyoxigraph.DefaultGraph() for q in quads)


def test_gzip_is_not_applied_to_tiny_answers(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": "ASK {}"})
    assert "content-encoding" not in response.headers
    assert gzip  # imported for symmetry with test_gzip
    assert json.loads(response.text)["boolean"] is True


def test_syntax_error_column_on_the_first_line(client: httpx.Client) -> None:
    """The server puts a BASE before the query; columns are still the user's."""
    query = "SELECT * WHERE { ?s ?p }"
    response = client.get("/sparql", params={"query": query}, headers={"Accept": JSON})
    body = response.json()
    with pytest.raises(SyntaxError, match="error at 1:25:"):  # pyoxigraph on the user's text
        pyoxigraph.Store().query(query)
    assert (body["line"], body["column"]) == (1, 25)


def test_relative_iris_resolve_against_the_base(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": "ASK { <id/city/whitehorse> ?p ?o }"})
    assert response.json()["boolean"] is True


class BrokenEngine:
    """An engine with a bug: the server must answer 500 without showing its details."""

    version = "broken"
    graphs: frozenset[str] = frozenset()

    def __init__(self, release: object, settings: object) -> None:
        pass

    def run(self, request: object) -> object:
        raise RuntimeError("secret internals")

    def close(self) -> None:
        pass


def test_unexpected_errors_are_500_without_details(served_settings: object) -> None:
    from conftest import serve_in_thread
    from hrgraph.web.app import create_app

    app = create_app(served_settings, engine=BrokenEngine)  # type: ignore[arg-type]
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as http:
        response = http.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": JSON})
    assert response.status_code == 500
    assert response.json()["error"] == "internal"
    assert "secret" not in response.text and "Traceback" not in response.text


def test_large_results_gzip(client: httpx.Client) -> None:
    query = "SELECT * WHERE { ?s ?p ?o }"
    plain = client.get("/sparql", params={"query": query}, headers={"Accept-Encoding": "identity"})
    zipped = client.get("/sparql", params={"query": query}, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.json() == plain.json()
