"""The remote engine against a real Oxigraph server started here (the `oxigraph` package), and
against a fake server that sends broken answers."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic
from rdflib.query import Result

from hrgraph.config import Settings, load_settings
from hrgraph.engine.embedded import EmbeddedEngine
from hrgraph.engine.interface import QueryForm, QueryRequest, media_types
from hrgraph.engine.remote import RemoteEngine, load_release
from hrgraph.errors import (
    BadGatewayError,
    QueryError,
    QuerySyntaxError,
    QueryTimeoutError,
    ResultTooLargeError,
)
from support import COUNT, PLACES, PROGRAMS, WHITEHORSE, free_port, oxigraph_server

ROOT = Path(__file__).resolve().parents[2]
#: Produces no row for ever: the server cancels it at its own --timeout-s. (Not support.RUNAWAY,
#: a count: this one asks for rows, and is made a CONSTRUCT too.)
ENDLESS = (
    "SELECT ?a WHERE { GRAPH ?x { ?a ?b ?c } GRAPH ?y { ?d ?e ?f } GRAPH ?z { ?g ?h ?i } "
    "FILTER(STRLEN(STR(?c)) + STRLEN(STR(?f)) = 100000) }"
)
SERVER_TIMEOUT = "2"  # seconds; the server's own limit, so abandoned queries end


@pytest.fixture(scope="module")
def release(shipped_release: Path) -> Path:
    """The release of the shipped sources (the session's: these tests only read it)."""
    return shipped_release


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Oxigraph server on a free loopback port; its base URL."""
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph"), SERVER_TIMEOUT) as url:
        yield url


@pytest.fixture(scope="module")
def loaded(server: str, release: Path) -> str:
    load_release(release, f"{server}/store")
    return server


def settings(endpoint: str, **flags: str) -> Settings:
    return load_settings({"sources": str(ROOT), "remote_endpoint": endpoint, **flags}, environ={})


@pytest.fixture
def make_engine(release: Path) -> Iterator[Callable[..., RemoteEngine]]:
    opened: list[RemoteEngine] = []

    def make(endpoint: str, **flags: str) -> RemoteEngine:
        opened.append(RemoteEngine(release, settings(endpoint, **flags)))
        return opened[-1]

    yield make
    for each in opened:
        each.close()


@pytest.fixture(scope="module")
def remote(loaded: str, release: Path) -> Iterator[RemoteEngine]:
    engine = RemoteEngine(release, settings(f"{loaded}/query"))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def embedded(release: Path) -> Iterator[EmbeddedEngine]:
    with EmbeddedEngine(release, load_settings({"sources": str(ROOT)}, environ={})) as engine:
        yield engine


def ask(
    engine: RemoteEngine | EmbeddedEngine,
    query: str,
    form: QueryForm,
    media: str = "",
    **dataset: tuple[str, ...],
) -> bytes:
    request = QueryRequest(query, form, media or media_types(form)[0], **dataset)
    return engine.run(request).body


def count(
    engine: RemoteEngine | EmbeddedEngine, query: str = COUNT, **dataset: tuple[str, ...]
) -> int:
    body = ask(engine, query, QueryForm.SELECT, **dataset)
    return int(next(iter(Result.parse(io.BytesIO(body), format="json")))[0])


# The same answers as the embedded engine.


def test_the_release_is_loaded_whole(remote: RemoteEngine, embedded: EmbeddedEngine) -> None:
    assert remote.version == embedded.version
    assert remote.graphs == embedded.graphs
    assert count(remote) == count(embedded) > 0
    graphs = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert count(remote, graphs) == len(remote.graphs)


def test_loading_twice_replaces_rather_than_adds(
    loaded: str, release: Path, remote: RemoteEngine
) -> None:
    before = count(remote)
    load_release(release, f"{loaded}/store")
    assert count(remote) == before


@pytest.mark.parametrize("media_type", media_types(QueryForm.SELECT))
def test_select_matches_the_embedded_engine(
    remote: RemoteEngine, embedded: EmbeddedEngine, media_type: str
) -> None:
    query = (
        "SELECT ?city ?label WHERE { ?city a hr:City ; rdfs:label ?label } ORDER BY ?city ?label"
    )
    assert ask(remote, query, QueryForm.SELECT, media_type) == ask(
        embedded, query, QueryForm.SELECT, media_type
    )


@pytest.mark.parametrize("media_type", media_types(QueryForm.ASK))
def test_ask_matches_the_embedded_engine(
    remote: RemoteEngine, embedded: EmbeddedEngine, media_type: str
) -> None:
    for query in [f"ASK {{ <{WHITEHORSE}> a hr:City }}", f"ASK {{ <{WHITEHORSE}> a hr:Program }}"]:
        assert ask(remote, query, QueryForm.ASK, media_type) == ask(
            embedded, query, QueryForm.ASK, media_type
        )


@pytest.mark.parametrize(
    ("query", "form"),
    [
        (
            "CONSTRUCT { ?c a hr:City ; rdfs:label ?l } WHERE { ?c a hr:City ; rdfs:label ?l }",
            QueryForm.CONSTRUCT,
        ),
        (f"DESCRIBE <{WHITEHORSE}>", QueryForm.DESCRIBE),
    ],
)
@pytest.mark.parametrize(
    ("media_type", "fmt"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/trig", "trig"),
    ],
)
def test_graphs_match_the_embedded_engine(
    remote: RemoteEngine,
    embedded: EmbeddedEngine,
    query: str,
    form: QueryForm,
    media_type: str,
    fmt: str,
) -> None:
    theirs = Graph().parse(data=ask(remote, query, form, media_type), format=fmt)
    ours = Graph().parse(data=ask(embedded, query, form, media_type), format=fmt)
    assert len(theirs) > 0
    assert isomorphic(theirs, ours)


def test_the_dataset_is_confined_as_asked(remote: RemoteEngine, embedded: EmbeddedEngine) -> None:
    for dataset in [{"default_graphs": (PLACES,)}, {"named_graphs": (PLACES, PROGRAMS)}]:
        for query in [COUNT, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"]:
            assert count(remote, query, **dataset) == count(embedded, query, **dataset)


def test_syntax_errors_keep_the_users_line_numbers(remote: RemoteEngine) -> None:
    """The engine declares the prefixes the query uses on a line of its own, before the query."""
    with pytest.raises(QuerySyntaxError) as caught:
        ask(remote, "SELECT * WHERE {\n  ?s a hr:City ;\n  hr:p }", QueryForm.SELECT)
    assert caught.value.line == 3


# Limits.


def test_the_time_limit_applies(loaded: str, make_engine: Callable[..., RemoteEngine]) -> None:
    engine = make_engine(f"{loaded}/query", query_timeout="1")
    with pytest.raises(QueryTimeoutError, match="1 s limit") as caught:
        ask(engine, ENDLESS, QueryForm.SELECT)
    assert caught.value.setting == "query_timeout"


def test_results_over_the_cap_are_refused(
    loaded: str, make_engine: Callable[..., RemoteEngine]
) -> None:
    engine = make_engine(f"{loaded}/query", max_result_bytes="2000")
    with pytest.raises(ResultTooLargeError, match="2,000-byte cap") as caught:
        ask(engine, "SELECT * WHERE { ?s ?p ?o }", QueryForm.SELECT, "text/csv")
    assert caught.value.setting == "max_result_bytes"
    with pytest.raises(ResultTooLargeError):
        ask(engine, "CONSTRUCT WHERE { ?s ?p ?o }", QueryForm.CONSTRUCT)
    assert ask(engine, "SELECT * WHERE { ?s ?p ?o } LIMIT 1", QueryForm.SELECT)


def test_a_query_the_server_cuts_short_is_an_error_not_a_short_answer(
    loaded: str, make_engine: Callable[..., RemoteEngine]
) -> None:
    """The Oxigraph server answers a query it times out with 200 and a cut body."""
    engine = make_engine(f"{loaded}/query", query_timeout="600")
    with pytest.raises(BadGatewayError, match="incomplete or broken"):
        ask(engine, ENDLESS, QueryForm.SELECT, "text/csv")
    construct = ENDLESS.replace("SELECT ?a WHERE", "CONSTRUCT { ?a ?b ?d } WHERE")
    with pytest.raises(BadGatewayError, match="incomplete or broken"):
        ask(engine, construct, QueryForm.CONSTRUCT, "application/n-triples")


# A fake server for answers the real one only sends by accident.


class Fake(BaseHTTPRequestHandler):
    status = 200
    content_type = "application/sparql-results+json"
    body = b""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_: object) -> None:
        """Quiet."""


@pytest.fixture
def fake() -> Iterator[type[Fake]]:
    handler = type("Handler", (Fake,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.url = f"http://127.0.0.1:{server.server_address[1]}/query"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize(
    ("content_type", "body", "form"),
    [
        (
            "application/sparql-results+json",
            b'{"head":{"vars":["s"]},"results":{"bindings":[',
            QueryForm.SELECT,
        ),
        ("application/sparql-results+json", b"", QueryForm.SELECT),
        ("application/sparql-results+json", b'{"head":{}}', QueryForm.ASK),
        (
            "application/sparql-results+xml",
            b'<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>',
            QueryForm.SELECT,
        ),
        ("text/csv", b"s\r\nhttp://x/\r\n", QueryForm.SELECT),
        (
            "application/ld+json",
            b'[{"@id":"http://x/s","http://x/p":[{"@id":"http://x/o"}]}',
            QueryForm.CONSTRUCT,
        ),
        ("application/ld+json", b"", QueryForm.CONSTRUCT),
        (
            "application/n-triples",
            b"<http://x/s> <http://x/p> <http://x/o> .\n",
            QueryForm.CONSTRUCT,
        ),
    ],
)
def test_a_broken_or_uncheckable_body_is_an_error(
    fake: type[Fake], release: Path, content_type: str, body: bytes, form: QueryForm
) -> None:
    fake.content_type, fake.body = content_type, body
    engine = RemoteEngine(release, settings(fake.url))  # type: ignore[attr-defined]
    try:
        with pytest.raises(BadGatewayError, match="incomplete or broken"):
            ask(engine, "SELECT * WHERE { ?s ?p ?o }", form)
    finally:
        engine.close()


def test_a_complete_body_from_the_fake_passes(fake: type[Fake], release: Path) -> None:
    fake.body = (
        b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"uri","value":"http://x/"}}]}}'
    )
    engine = RemoteEngine(release, settings(fake.url))  # type: ignore[attr-defined]
    try:
        assert (
            ask(engine, "SELECT * WHERE { ?s ?p ?o }", QueryForm.SELECT, "text/csv")
            == b"s\r\nhttp://x/\r\n"
        )
    finally:
        engine.close()


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, QuerySyntaxError), (404, QueryError), (500, BadGatewayError), (503, BadGatewayError)],
)
def test_a_refusal_from_the_remote_carries_its_message(
    fake: type[Fake], release: Path, status: int, error: type[QueryError]
) -> None:
    fake.status, fake.content_type, fake.body = (
        status,
        "text/plain",
        b"error at 2:3: the remote says no",
    )
    engine = RemoteEngine(release, settings(fake.url))  # type: ignore[attr-defined]
    try:
        with pytest.raises(error, match="the remote says no") as caught:
            ask(engine, "SELECT * WHERE {\n ?s ?p ?o }", QueryForm.SELECT)
    finally:
        engine.close()
    if status == 400:
        assert isinstance(caught.value, QuerySyntaxError)
        assert (caught.value.line, caught.value.column) == (2, 3)


def test_an_unreachable_remote_is_an_engine_error(release: Path) -> None:
    engine = RemoteEngine(release, settings(f"http://127.0.0.1:{free_port()}/query"))
    try:
        with pytest.raises(BadGatewayError, match="could not be reached"):
            ask(engine, COUNT, QueryForm.SELECT)
    finally:
        engine.close()
