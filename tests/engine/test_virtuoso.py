"""The remote engine against a real Virtuoso (Debian's virtuoso-opensource, `make virtuoso`),
started here on free loopback ports with tiny limits, so that each of its ways of sending a
partial answer as a 200 really happens and is refused: rows cut at ResultSetMaxRows (SELECT and
graphs), an anytime query stopped at MaxQueryExecutionTime, a query over its cost estimate; and
SQL functions and pragmas, which Virtuoso runs from SPARQL text, refused before it sees them.

The release is loaded with Virtuoso's bulk loader (`ld_dir` + `rdf_loader_run` through isql-vt,
graphs kept), not the Graph Store Protocol: Virtuoso's `/sparql-graph-crud` takes one graph per
request (blank nodes shared across graphs would be split) and needs write rights for the
SPARQL account, while `remote_store` PUTs one N-Quads dataset."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rdflib.query import Result

from hrgraph.config import load_settings
from hrgraph.engine.embedded import EmbeddedEngine
from hrgraph.engine.interface import QueryForm, QueryRequest
from hrgraph.engine.remote import RemoteEngine, refuse_partial, write_named_graphs
from hrgraph.errors import (
    QueryRefusedError,
    QuerySyntaxError,
    QueryTimeoutError,
    ResultTooLargeError,
)
from support import COUNT, WHITEHORSE, Virtuoso, virtuoso_server

ROOT = Path(__file__).resolve().parents[2]
ROWS = 1000  # this Virtuoso's ResultSetMaxRows
#: Two graphs crossed: within the cost estimate, but past the 1 s MaxQueryExecutionTime.
SLOW = (
    "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?x { ?a ?b ?c } GRAPH ?y { ?d ?e ?f } "
    "FILTER(STRLEN(STR(?c)) + STRLEN(STR(?f)) = 100000) }"
)
#: Three: Virtuoso's estimate of its run time is far over MaxQueryCostEstimationTime.
COSTLY = SLOW.replace("GRAPH ?y { ?d ?e ?f }", "GRAPH ?y { ?d ?e ?f } GRAPH ?z { ?g ?h ?i }")
ALL = "SELECT * WHERE { ?s ?p ?o }"
JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory, shipped_release: Path) -> Iterator[Virtuoso]:
    folder = tmp_path_factory.mktemp("virtuoso")
    with virtuoso_server(folder, rows=ROWS, seconds=5) as server:
        write_named_graphs(shipped_release, server.load_dir / "release.nq")
        server.bulk_load(server.load_dir / "release.nq")
        yield server


@pytest.fixture(scope="module")
def engine(virtuoso: Virtuoso, shipped_release: Path) -> Iterator[RemoteEngine]:
    settings = load_settings(
        {"sources": str(ROOT), "remote_endpoint": virtuoso.endpoint}, environ={}
    )
    remote = RemoteEngine(shipped_release, settings)
    yield remote
    remote.close()


@pytest.fixture(scope="module")
def embedded(shipped_release: Path) -> Iterator[EmbeddedEngine]:
    settings = load_settings({"sources": str(ROOT)}, environ={})
    with EmbeddedEngine(shipped_release, settings) as engine:
        yield engine


def ask(engine: RemoteEngine | EmbeddedEngine, query: str, form: QueryForm, media: str) -> bytes:
    return engine.run(QueryRequest(query, form, media)).body


def rows(body: bytes) -> list[tuple[object, ...]]:
    return [tuple(row) for row in Result.parse(io.BytesIO(body), format="json")]


def direct(virtuoso: Virtuoso, query: str, accept: str = JSON, **form: str) -> httpx.Response:
    """The query sent to Virtuoso itself, past the engine: what it would have passed on."""
    form["query"] = query
    return httpx.post(virtuoso.endpoint, data=form, headers={"Accept": accept}, timeout=60)


def test_the_server_and_its_row_cap_are_found(engine: RemoteEngine) -> None:
    server = engine.server(deadline=float("inf"))
    assert server.virtuoso
    assert server.max_rows == ROWS


def test_the_release_is_loaded_whole(engine: RemoteEngine, embedded: EmbeddedEngine) -> None:
    theirs, ours = (
        int(rows(ask(e, COUNT, QueryForm.SELECT, JSON))[0][0]) for e in (engine, embedded)
    )  # type: ignore[call-overload]
    assert theirs == ours > 0


def test_answers_match_the_embedded_engine(engine: RemoteEngine, embedded: EmbeddedEngine) -> None:
    """In an order SPARQL defines (two labels in two languages are not ordered by `?label`)."""
    query = (
        "SELECT ?city ?label WHERE { ?city a hr:City ; rdfs:label ?label } "
        "ORDER BY ?city STR(?label) LANG(?label)"
    )
    for media in (JSON, "application/sparql-results+xml", "text/csv"):
        assert ask(engine, query, QueryForm.SELECT, media) == ask(
            embedded, query, QueryForm.SELECT, media
        )
    for query in (f"ASK {{ <{WHITEHORSE}> a hr:City }}", f"ASK {{ <{WHITEHORSE}> a hr:Program }}"):
        assert ask(engine, query, QueryForm.ASK, JSON) == ask(embedded, query, QueryForm.ASK, JSON)


def test_blank_nodes_in_results_are_read(engine: RemoteEngine) -> None:
    """Virtuoso writes them `nodeID://b1` in JSON and XML results, which no parser takes."""
    query = "SELECT ?r WHERE { ?r a sh:ValidationReport }"
    for media in (JSON, "application/sparql-results+xml"):
        body = ask(engine, query, QueryForm.SELECT, media)
        assert b"nodeID:" not in body
        assert len(Result.parse(io.BytesIO(body), format=media.rsplit("+", 1)[1])) == 1


# Virtuoso's partial answers, each made to happen and refused.


def test_select_rows_cut_at_result_set_max_rows_are_refused(
    engine: RemoteEngine, virtuoso: Virtuoso
) -> None:
    cut = direct(virtuoso, ALL)
    assert cut.status_code == 200 and cut.headers["X-SPARQL-MaxRows"] == str(ROWS)
    assert len(cut.json()["results"]["bindings"]) == ROWS
    with pytest.raises(ResultTooLargeError, match="limit of 1,000 rows"):
        ask(engine, ALL, QueryForm.SELECT, "text/csv")
    assert len(rows(ask(engine, f"{ALL} LIMIT {ROWS - 1}", QueryForm.SELECT, JSON))) == ROWS - 1


def test_graphs_cut_at_result_set_max_rows_are_refused(
    engine: RemoteEngine, virtuoso: Virtuoso
) -> None:
    """Virtuoso cuts a CONSTRUCT at the cap too, with no header: the engine counts triples."""
    construct = "CONSTRUCT WHERE { GRAPH ?g { ?s ?p ?o } }"
    cut = direct(virtuoso, construct, "application/n-triples")
    assert cut.status_code == 200 and "X-SPARQL-MaxRows" not in cut.headers
    assert len(cut.text.splitlines()) in (ROWS, ROWS + 1)  # its count is off by one
    with pytest.raises(ResultTooLargeError, match="ResultSetMaxRows"):
        ask(engine, "CONSTRUCT WHERE { ?s ?p ?o }", QueryForm.CONSTRUCT, "text/turtle")
    small = "CONSTRUCT WHERE { ?c a hr:City }"
    assert ask(engine, small, QueryForm.CONSTRUCT, "application/n-triples").count(b"\n") > 0


def test_an_anytime_query_stopped_at_its_time_limit_is_refused(
    virtuoso: Virtuoso, shipped_release: Path
) -> None:
    """Asked to stop at a time (the engine asks at half its query_timeout), Virtuoso answers 200
    with what it had (a count of 0, or no row at all), flagged only by X-SQL-State."""
    partial = direct(virtuoso, SLOW, timeout="1000")
    assert partial.status_code == 200 and partial.headers["X-SQL-State"] == "S1TAT"
    assert "X-Exec-Milliseconds" in partial.headers
    with pytest.raises(QueryTimeoutError, match="partial answer"):
        refuse_partial(partial.headers, virtuoso.endpoint)
    settings = load_settings(
        {"sources": str(ROOT), "remote_endpoint": virtuoso.endpoint, "query_timeout": "4"},
        environ={},
    )
    engine = RemoteEngine(shipped_release, settings)
    try:
        with pytest.raises(QueryTimeoutError):  # refused partial, or our own limit first
            ask(engine, SLOW, QueryForm.SELECT, JSON)
    finally:
        engine.close()


def test_a_query_over_the_cost_estimate_is_a_timeout(
    engine: RemoteEngine, virtuoso: Virtuoso
) -> None:
    refused = direct(virtuoso, COSTLY)
    assert refused.status_code == 500 and "estimated execution time" in refused.text
    with pytest.raises(QueryTimeoutError, match="estimate"):
        ask(engine, COSTLY, QueryForm.SELECT, JSON)


def test_syntax_errors_are_the_users(engine: RemoteEngine) -> None:
    with pytest.raises(QuerySyntaxError, match="syntax error"):
        ask(engine, "SELECT * WHERE { ?s ?p }", QueryForm.SELECT, JSON)


# What Virtuoso runs beyond SPARQL is refused before it is sent.


@pytest.mark.parametrize(
    "query",
    [
        "PREFIX b: <bif:> SELECT (b:sprintf('%d', 42) AS ?x) {}",
        "SELECT (<bif:sprintf>('%d', 42) AS ?x) {}",
        "SELECT (<BIF:sprintf>('%d', 42) AS ?x) {}",
        "SELECT (<\\u0062if:sprintf>('%d', 42) AS ?x) {}",
        "SELECT (bif:sprintf('%d', 42) AS ?x) {}",
        "SELECT (sql:sprintf('%d', 42) AS ?x) {}",
        "BASE <bif:> SELECT (<sprintf>('%d', 42) AS ?x) {}",
        'DEFINE input:grab-all "yes" SELECT * WHERE { ?s ?p ?o } LIMIT 1',
    ],
)
def test_sql_functions_and_pragmas_are_refused(engine: RemoteEngine, query: str) -> None:
    with pytest.raises(QueryRefusedError, match="refused"):
        ask(engine, query, QueryForm.SELECT, JSON)


def test_virtuoso_would_run_them(virtuoso: Virtuoso) -> None:
    """Why: Virtuoso itself runs a SQL built-in named in SPARQL."""
    answer = direct(virtuoso, "PREFIX b: <bif:> SELECT (b:sprintf('%d', 6 * 7) AS ?x) {}")
    assert answer.json()["results"]["bindings"][0]["x"]["value"] == "42"
