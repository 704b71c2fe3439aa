"""The embedded engine: worker processes over the release's read-only store, with a time limit
that really stops the work, a result cap, and crashes that cost one query only."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.query import Result

from hrgraph.build.validation import to_rdflib
from hrgraph.config import Settings, load_settings
from hrgraph.engine.embedded import GENERAL, EmbeddedEngine
from hrgraph.engine.interface import QueryForm, QueryRequest, media_types
from hrgraph.engine.safety import check
from hrgraph.errors import (
    EngineCrashError,
    NotAcceptableError,
    OverloadedError,
    QueryError,
    QueryMemoryError,
    QueryRefusedError,
    QuerySyntaxError,
    QueryTimeoutError,
    ReleaseError,
    ResultTooLargeError,
    WorkerLostError,
)
from support import (
    COUNT,
    HUNGRY,
    PLACES,
    PROGRAMS,
    RUNAWAY,
    WHITEHORSE,
    Listener,
    busy_worker,
    cpu_ticks,
    gone,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]
RDFLIB_RESULTS = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
RDFLIB_GRAPHS = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}


@pytest.fixture(scope="module")
def release(shipped_release: Path) -> Path:
    """The release of the shipped sources (the session's: these tests only read it)."""
    return shipped_release


def settings(**flags: str) -> Settings:
    return load_settings({"sources": str(ROOT), **flags}, environ={})


@pytest.fixture(scope="module")
def engine(release: Path) -> Iterator[EmbeddedEngine]:
    with EmbeddedEngine(release, settings(query_workers="2")) as opened:
        yield opened


@pytest.fixture
def make_engine(release: Path) -> Iterator[Callable[..., EmbeddedEngine]]:
    opened: list[EmbeddedEngine] = []

    def make(**flags: str) -> EmbeddedEngine:
        opened.append(EmbeddedEngine(release, settings(**flags)))
        return opened[-1]

    yield make
    for each in opened:
        each.close()


def run(
    engine: EmbeddedEngine, query: str, media_type: str = "", **dataset: tuple[str, ...]
) -> bytes:
    form = check(query, graphs=engine.graphs, max_bytes=100_000, max_nesting=100).form
    request = QueryRequest(query, form, media_type or media_types(form)[0], **dataset)
    return engine.run(request).body


def count(engine: EmbeddedEngine, query: str = COUNT, **dataset: tuple[str, ...]) -> int:
    result = Result.parse(io.BytesIO(run(engine, query, **dataset)), format="json")
    return int(next(iter(result))[0])


# Answers in every media type.


def test_version_and_graphs_come_from_the_release(engine: EmbeddedEngine, release: Path) -> None:
    assert engine.version == release.name
    assert {PLACES, PROGRAMS} <= engine.graphs
    assert "https://w3id.org/hrgraph/graph/release/description" in engine.graphs


@pytest.mark.parametrize("media_type", list(RDFLIB_RESULTS))
def test_select_parses_back_in_every_media_type(engine: EmbeddedEngine, media_type: str) -> None:
    query = "SELECT ?city ?label WHERE { ?city a hr:City ; rdfs:label ?label } ORDER BY ?city"
    body = run(engine, query, media_type)
    result = Result.parse(io.BytesIO(body), format=RDFLIB_RESULTS[media_type])
    rows = [(str(row[0]), str(row[1])) for row in result]
    assert any(city == WHITEHORSE for city, _ in rows)
    assert len(rows) == count(engine, "SELECT (COUNT(*) AS ?n) { ?c a hr:City ; rdfs:label ?l }")


@pytest.mark.parametrize(
    "media_type", ["application/sparql-results+json", "application/sparql-results+xml"]
)
@pytest.mark.parametrize("answer", [True, False])
def test_ask_parses_back(engine: EmbeddedEngine, media_type: str, answer: bool) -> None:
    query = f"ASK {{ <{WHITEHORSE}> a {'hr:City' if answer else 'hr:Program'} }}"
    result = Result.parse(
        io.BytesIO(run(engine, query, media_type)), format=RDFLIB_RESULTS[media_type]
    )
    assert result.askAnswer is answer


@pytest.mark.parametrize(
    "query",
    [
        "CONSTRUCT { ?c a hr:City ; rdfs:label ?label } WHERE { ?c a hr:City ; rdfs:label ?label }",
        f"DESCRIBE <{WHITEHORSE}>",
    ],
)
def test_graphs_parse_back_in_every_media_type(engine: EmbeddedEngine, query: str) -> None:
    graphs = {}
    for media_type, fmt in RDFLIB_GRAPHS.items():
        graphs[media_type] = Graph().parse(data=run(engine, query, media_type), format=fmt)
    trig = ox.parse(run(engine, query, "application/trig"), format=ox.RdfFormat.TRIG)
    graphs["application/trig"] = to_rdflib(trig)
    first = graphs["text/turtle"]
    assert (URIRef(WHITEHORSE), None, None) in first
    for media_type, graph in graphs.items():
        assert isomorphic(graph, first), media_type


def test_a_media_type_that_does_not_fit_the_form_is_refused(engine: EmbeddedEngine) -> None:
    with pytest.raises(NotAcceptableError):
        engine.run(QueryRequest("ASK {}", QueryForm.ASK, "text/csv"))


def test_predeclared_prefixes_work_without_declaration(engine: EmbeddedEngine) -> None:
    assert count(engine, "SELECT (COUNT(*) AS ?n) { ?p a hr:Program }") > 0


def test_syntax_errors_have_line_and_column(engine: EmbeddedEngine) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        run(engine, "SELECT * WHERE {\n  ?s ?p }")
    assert caught.value.line == 2
    assert caught.value.column in (9, 10)  # at or just after the `}` (pyoxigraph's furthest point)
    assert str(caught.value).startswith("syntax error at line 2, column")
    assert caught.value.status == 400


def test_an_update_sent_to_the_engine_does_not_run(engine: EmbeddedEngine) -> None:
    before = count(engine)
    with pytest.raises(QuerySyntaxError):
        engine.run(
            QueryRequest(
                f"INSERT DATA {{ <{WHITEHORSE}> <http://x/p> 1 }}",
                QueryForm.SELECT,
                "application/sparql-results+json",
            )
        )
    assert count(engine) == before


# The dataset.


def test_the_default_graph_is_the_union_of_all_graphs(engine: EmbeddedEngine) -> None:
    union = count(engine)
    per_graph = count(engine, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert union == per_graph > 0


def test_default_graphs_are_respected(engine: EmbeddedEngine) -> None:
    places = count(engine, default_graphs=(PLACES,))
    in_places = count(
        engine, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{PLACES}> {{ ?s ?p ?o }} }}"
    )
    assert places == in_places > 0
    programs = "SELECT (COUNT(*) AS ?n) WHERE { ?p a hr:Program }"
    assert count(engine, programs, default_graphs=(PLACES,)) == 0 < count(engine, programs)


def test_named_graphs_are_respected(engine: EmbeddedEngine) -> None:
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    body = run(engine, query, named_graphs=(PLACES, PROGRAMS))
    names = {str(row[0]) for row in Result.parse(io.BytesIO(body), format="json")}
    assert names == {PLACES, PROGRAMS}
    # Naming graphs defines the whole dataset: the default graph is then empty.
    assert count(engine, named_graphs=(PLACES,)) == 0


def test_from_in_the_query_reaches_the_engine_as_the_default_graph(engine: EmbeddedEngine) -> None:
    query = f"SELECT (COUNT(*) AS ?n) FROM <{PLACES}> WHERE {{ ?s ?p ?o }}"
    checked = check(query, graphs=engine.graphs, max_bytes=100_000, max_nesting=100)
    assert count(engine, query, default_graphs=checked.from_graphs) == count(
        engine, default_graphs=(PLACES,)
    )


# Time limit, result cap, crashes.


def test_a_runaway_query_is_stopped_and_its_cpu_freed(
    make_engine: Callable[..., EmbeddedEngine],
) -> None:
    engine = make_engine(query_workers="1", query_timeout="2")
    (worker,) = engine.pids(GENERAL)
    with pytest.raises(QueryTimeoutError, match="2 s limit") as caught:
        run(engine, RUNAWAY)
    assert caught.value.setting == "query_timeout"
    assert "HRGRAPH_QUERY_TIMEOUT" in str(caught.value)
    assert caught.value.status == 503
    assert caught.value.retry_after
    assert gone(worker), "the worker that ran the runaway query still exists"
    assert not Path(f"/proc/{worker}").exists()
    (replacement,) = engine.pids(GENERAL)
    assert replacement != worker
    assert count(engine) > 0


def test_other_queries_are_answered_while_a_heavy_one_runs(
    make_engine: Callable[..., EmbeddedEngine],
) -> None:
    engine = make_engine(query_workers="2", query_timeout="600")
    assert count(engine) > 0  # both workers warm
    before = {pid: cpu_ticks(pid) for pid in engine.pids()}
    with ThreadPoolExecutor(1) as pool:
        heavy = pool.submit(run, engine, RUNAWAY)
        busy = busy_worker(before)
        answers = [count(engine) for _ in range(20)]
        assert len(set(answers)) == 1 and answers[0] > 0
        assert not heavy.done()
        # A worker killed from outside (as the kernel's OOM killer would) is not the query's
        # fault: the query is sent to another worker; killed there too, it is a 503.
        os.kill(busy, signal.SIGKILL)
        wait_until(lambda: busy not in engine.pids())
        retried = busy_worker({pid: cpu_ticks(pid) for pid in engine.pids()})
        assert not heavy.done()
        os.kill(retried, signal.SIGKILL)
        with pytest.raises(WorkerLostError, match="signal 9") as caught:
            heavy.result()
    assert caught.value.status == 503 and caught.value.retry_after
    assert busy not in engine.pids() and retried not in engine.pids()
    assert count(engine) == answers[0]


def test_a_crashing_query_costs_that_query_only(engine: EmbeddedEngine) -> None:
    deep = "SELECT * WHERE " + "{" * 20_000 + "}" * 20_000
    with pytest.raises(QuerySyntaxError, match="nests"):
        check(deep, graphs=engine.graphs, max_bytes=100_000, max_nesting=100)
    before = set(engine.pids())
    # Bypassing the nesting check, the query segfaults pyoxigraph: the worker dies, not us.
    # It is tried once more on another worker (the first death might not have been its fault).
    with pytest.raises(EngineCrashError, match="died on this query twice") as caught:
        engine.run(QueryRequest(deep, QueryForm.SELECT, "application/sparql-results+json"))
    assert caught.value.status == 400
    after = set(engine.pids())
    assert len(after) == len(before) and len(before - after) == 2
    assert count(engine) > 0


def test_the_kernel_stops_a_query_over_the_memory_limit(
    make_engine: Callable[..., EmbeddedEngine],
) -> None:
    engine = make_engine(query_workers="1", query_memory_mib="300", query_timeout="120")
    (worker,) = engine.pids(GENERAL)
    limit = Path(f"/proc/{worker}/limits").read_text()
    assert re.search(r"Max data size\s+314572800\s+314572800 ", limit), limit
    with pytest.raises(QueryMemoryError, match="300 MiB") as caught:
        run(engine, HUNGRY)
    assert caught.value.status == 422
    assert caught.value.setting == "query_memory_mib"
    assert "HRGRAPH_QUERY_MEMORY_MIB" in str(caught.value)
    assert gone(worker)
    assert count(engine) > 0  # the replacement serves


def test_the_short_lane_answers_while_every_general_worker_is_busy(
    make_engine: Callable[..., EmbeddedEngine],
) -> None:
    engine = make_engine(query_workers="1", query_timeout="600", short_query_timeout="1")
    expected = count(engine)
    with ThreadPoolExecutor(2) as pool:
        heavy = pool.submit(run, engine, RUNAWAY)
        busy_worker({pid: cpu_ticks(pid) for pid in engine.pids(GENERAL)})
        assert [count(engine) for _ in range(5)] == [expected] * 5  # through the short lane
        # An expensive query that finds only the short lane must finish within its limit.
        with pytest.raises(OverloadedError, match="short lane") as caught:
            run(engine, RUNAWAY)
        assert caught.value.status == 503 and caught.value.retry_after
        assert caught.value.setting == "short_query_timeout"
        assert not heavy.done()
        engine.close()
        with pytest.raises(WorkerLostError):
            heavy.result()


def test_the_wait_queue_is_bounded(make_engine: Callable[..., EmbeddedEngine]) -> None:
    engine = make_engine(
        query_workers="1",
        query_timeout="600",
        short_query_timeout="600",
        max_queued_queries="1",
        queue_timeout="600",
    )
    with ThreadPoolExecutor(3) as pool:
        running = [pool.submit(run, engine, RUNAWAY) for _ in range(2)]  # general + short lane
        wait_until(lambda: all(cpu_ticks(pid) > 0 for pid in engine.pids()))
        queued = pool.submit(run, engine, RUNAWAY)
        wait_until(lambda: engine._waiting == 1)
        with pytest.raises(OverloadedError, match="1 queries are already waiting") as caught:
            run(engine, COUNT)
        assert caught.value.setting == "max_queued_queries"
        engine.close()
        for future in [*running, queued]:
            with pytest.raises(WorkerLostError):
                future.result()


def test_a_wait_longer_than_the_queue_timeout_is_refused(
    make_engine: Callable[..., EmbeddedEngine],
) -> None:
    engine = make_engine(
        query_workers="1", query_timeout="600", short_query_timeout="600", queue_timeout="0.5"
    )
    with ThreadPoolExecutor(2) as pool:
        running = [pool.submit(run, engine, RUNAWAY) for _ in range(2)]
        wait_until(lambda: all(cpu_ticks(pid) > 0 for pid in engine.pids()))
        with pytest.raises(OverloadedError, match="no query process became free") as caught:
            run(engine, COUNT)
        assert caught.value.setting == "queue_timeout" and caught.value.status == 503
        engine.close()
        for future in running:
            with pytest.raises(WorkerLostError):
                future.result()


def test_a_worker_that_died_while_idle_is_replaced_silently(engine: EmbeddedEngine) -> None:
    killed = engine.pids()
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: all(gone(pid) for pid in killed))
    assert count(engine) > 0
    assert not set(killed) & set(engine.pids())
    assert count(engine) > 0


SERVER = """
import sys, threading
from pathlib import Path
from hrgraph.config import load_settings
from hrgraph.engine.embedded import EmbeddedEngine
from hrgraph.engine.interface import QueryForm, QueryRequest

if __name__ == "__main__":
    settings = load_settings({"query_timeout": "3600"}, environ={})
    engine = EmbeddedEngine(Path(sys.argv[1]), settings)
    print(*engine.pids(), flush=True)
    request = QueryRequest(sys.argv[2], QueryForm.SELECT, "text/csv")
    threading.Thread(target=engine.run, args=(request,)).start()
    threading.Event().wait()
"""


def dead(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_workers_die_with_the_server_even_mid_query(release: Path, tmp_path: Path) -> None:
    """A server killed by SIGKILL leaves no worker running its query on for nobody."""
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    server = subprocess.Popen(
        [sys.executable, str(script), str(release), RUNAWAY], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    workers = [int(pid) for pid in server.stdout.readline().split()]
    try:
        wait_until(lambda: any(cpu_ticks(pid) >= 20 for pid in workers if not dead(pid)))
        server.kill()
        server.wait()
        server.stdout.close()
        wait_until(lambda: all(dead(pid) for pid in workers))
    finally:
        server.kill()  # on failure, leave nothing burning behind
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_results_over_the_cap_are_refused_not_truncated(
    make_engine: Callable[..., EmbeddedEngine],
) -> None:
    engine = make_engine(query_workers="1", max_result_bytes="2000")
    for query in ["SELECT * WHERE { ?s ?p ?o }", "CONSTRUCT WHERE { ?s ?p ?o }"]:
        with pytest.raises(ResultTooLargeError, match="2,000-byte cap") as caught:
            run(engine, query)
        assert caught.value.setting == "max_result_bytes"
        assert caught.value.status == 422
    assert run(engine, "SELECT * WHERE { ?s ?p ?o } LIMIT 1")


def test_many_threads_share_the_workers(engine: EmbeddedEngine) -> None:
    expected = count(engine)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: count(engine), range(40)))
    assert answers == [expected] * 40


def test_a_release_without_a_store_is_refused_at_start(release: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(release / "release.json", broken / "release.json")
    with pytest.raises(ReleaseError, match="cannot query the release store"):
        EmbeddedEngine(broken, settings(query_workers="1"))


def test_closing_stops_every_worker(make_engine: Callable[..., EmbeddedEngine]) -> None:
    engine = make_engine(query_workers="2")
    pids = engine.pids()
    engine.close()
    assert all(gone(pid) for pid in pids)
    with pytest.raises(WorkerLostError, match="stopped") as caught:
        run(engine, COUNT)
    assert caught.value.status == 503


# No outbound requests: a loopback listener must see no connection.


@pytest.fixture
def listener() -> Iterator[Listener]:
    opened = Listener()
    yield opened
    opened.close()


def outbound_queries(url: str) -> list[str]:
    return [
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICESILENT<{url}>{{ ?s ?p ?o }} }}",
        f"PREFIX : <{url}/> SELECT * WHERE {{ SERVICE:x {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * \\u0046ROM <{url}> WHERE {{ ?s ?p ?o }}",
        f"LOAD <{url}>",
    ]


def test_outbound_queries_are_refused_before_any_engine(
    engine: EmbeddedEngine, listener: Listener
) -> None:
    url = f"http://127.0.0.1:{listener.port}/sparql"
    for query in outbound_queries(url):
        with pytest.raises(QueryError):
            checked = check(query, graphs=engine.graphs, max_bytes=100_000, max_nesting=100)
            engine.run(QueryRequest(checked.text, checked.form, media_types(checked.form)[0]))
    assert listener.accepted == 0


def test_a_from_outside_the_store_reaches_no_engine(
    engine: EmbeddedEngine, listener: Listener
) -> None:
    """FROM of a graph the store lacks is an empty graph (engine.queries): the gate keeps the
    IRI out of the text, so no engine can fetch it, even one that would."""
    url = f"http://127.0.0.1:{listener.port}/sparql"
    for query in (
        f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    ):
        checked = check(query, graphs=engine.graphs, max_bytes=100_000, max_nesting=100)
        assert url not in checked.text and url in checked.from_graphs + checked.from_named
    assert listener.accepted == 0


def test_the_listener_would_see_a_service_call_that_skipped_the_checks(
    engine: EmbeddedEngine, listener: Listener
) -> None:
    """The control: without the safety checks, pyoxigraph does connect (so the test above
    proves the checks, not a deaf listener)."""
    query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/sparql> {{ ?s ?p ?o }} }}"
    with pytest.raises(QueryError):
        engine.run(QueryRequest(query, QueryForm.SELECT, "application/sparql-results+json"))
    assert listener.accepted >= 1
    with pytest.raises(QueryRefusedError):
        check(query, graphs=engine.graphs, max_bytes=100_000, max_nesting=100)
