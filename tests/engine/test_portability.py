"""The portability matrix (README "Remote engines"): the same application over the embedded
engine, a real Oxigraph server and a real Virtuoso (each started here on loopback, the release
loaded into it) gives the same answers: every example query of queries/*.rq, one page of every
kind, and the W3C protocol cases.

Answers are compared as sets of rows, term by term. What engines may legitimately write
differently is normalised here, and only that: blank node labels (each engine names them its own
way: compared as "a blank node"), the lexical form of numbers (compared by value: engines may
write a decimal or double with other digits), and the order of the values a GROUP_CONCAT joins,
which SPARQL leaves to the engine (compared as a set of the parts)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import warnings
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from hrgraph.config import Settings, load_settings
from hrgraph.engine.catalogue import catalogue
from hrgraph.engine.remote import load_release, write_named_graphs
from hrgraph.kinds import KINDS, class_iris
from support import Virtuoso, oxigraph_server, virtuoso_server

ROOT = Path(__file__).resolve().parents[2]
ENGINES = ("embedded", "oxigraph", "virtuoso")
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMBERS = {f"{XSD}{name}" for name in ("integer", "decimal", "double", "float")}
ONTOLOGY = "https://w3id.org/hrgraph/ontology#"


def w3c_cases() -> ModuleType:
    """tests/web/test_w3c_protocol.py, for its manifest reader and checks (not its tests)."""
    path = ROOT / "tests" / "web" / "test_w3c_protocol.py"
    spec = importlib.util.spec_from_file_location("w3c_protocol_cases", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


W3C = w3c_cases()


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory, shipped_release: Path) -> Iterator[Virtuoso]:
    """Virtuoso under its shipped limits, holding the release (and the W3C data, other graphs)."""
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as server:
        write_named_graphs(shipped_release, server.load_dir / "release.nq")
        server.bulk_load(server.load_dir / "release.nq")
        yield server


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory, shipped_release: Path) -> Iterator[str]:
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph"), "30") as url:
        load_release(shipped_release, f"{url}/store")
        yield f"{url}/query"


def app_client(settings: Settings) -> Any:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient
    from hrgraph.web.app import create_app

    return TestClient(create_app(settings), base_url="http://testserver", follow_redirects=False)


def remote_settings(releases: Path, endpoint: str) -> Settings:
    flags = {"sources": str(ROOT), "releases": str(releases), "remote_endpoint": endpoint}
    return load_settings(flags, environ={})


@pytest.fixture(scope="module")
def clients(
    client: httpx.Client, served_settings: Settings, oxigraph: str, virtuoso: Virtuoso
) -> Iterator[dict[str, httpx.Client]]:
    remote = {
        name: app_client(remote_settings(served_settings.releases, endpoint))
        for name, endpoint in (("oxigraph", oxigraph), ("virtuoso", virtuoso.endpoint))
    }
    for each in remote.values():
        each.__enter__()
    try:
        yield {"embedded": client, **remote}
    finally:
        for each in remote.values():
            each.__exit__(None, None, None)


_CONCAT = re.compile(
    r"GROUP_CONCAT\s*\([^;]*;\s*SEPARATOR\s*=\s*\"([^\"]*)\"\s*\)\s*AS\s*\?(\w+)", re.I
)


def concatenated(query: str) -> dict[str, str]:
    """The variables a GROUP_CONCAT binds in `query`, and their separators."""
    return {variable: separator for separator, variable in _CONCAT.findall(query)}


def term(value: dict[str, str], separator: str | None = None) -> tuple[str, ...]:
    kind = value["type"]
    if kind == "bnode":
        return ("bnode",)
    if kind == "uri":
        return ("uri", value["value"])
    datatype = value.get("datatype", "")
    if separator is not None:
        return ("concatenated", *sorted(value["value"].split(separator)))
    if datatype in NUMBERS:
        try:
            return ("number", str(Decimal(value["value"]).normalize()))
        except InvalidOperation:
            pass
    return ("literal", value["value"], datatype, value.get("xml:lang", ""))


def answer_rows(
    body: bytes, concat: dict[str, str] | None = None
) -> set[tuple[tuple[str, tuple[str, ...]], ...]]:
    result = json.loads(body)
    concat = concat or {}
    return {
        tuple(sorted((name, term(value, concat.get(name))) for name, value in row.items()))
        for row in result["results"]["bindings"]
    }


# Every example query.


@pytest.mark.parametrize("name", sorted(catalogue()))
def test_example_queries_answer_the_same(clients: dict[str, httpx.Client], name: str) -> None:
    answers = {}
    for engine, http in clients.items():
        response = http.get(f"/queries/{name}", params={"format": "json"})
        assert response.status_code == 200, f"{engine}: {response.text}"
        answers[engine] = answer_rows(response.content, concatenated(catalogue()[name].text))
    assert answers["embedded"], f"{name} has no rows: nothing compared"
    assert answers["oxigraph"] == answers["embedded"]
    assert answers["virtuoso"] == answers["embedded"]


# One page of every kind.


def one_instance(http: httpx.Client, classes: tuple[str, ...], base: str) -> str:
    """The first resource of these classes with a page here (under the base IRI)."""
    values = " ".join(f"<{iri}>" for iri in classes)
    query = (
        f"SELECT ?s WHERE {{ VALUES ?c {{ {values} }} ?s a ?c "
        f'FILTER(STRSTARTS(STR(?s), "{base}")) }} ORDER BY ?s LIMIT 1'
    )
    found = http.get("/sparql", params={"query": query}, headers={"Accept": "application/json"})
    rows = found.json()["results"]["bindings"]
    assert rows, f"no instance of {classes}"
    iri: str = rows[0]["s"]["value"]
    return iri


@pytest.mark.parametrize("kind", KINDS, ids=[kind.name for kind in KINDS])
def test_a_page_of_every_kind_is_the_same(
    clients: dict[str, httpx.Client], served_settings: Settings, kind: Any
) -> None:
    iri = one_instance(clients["embedded"], class_iris(kind, ONTOLOGY), served_settings.base_iri)
    path = "/" + iri.removeprefix(served_settings.base_iri)
    pages = {}
    for engine, http in clients.items():
        response = http.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 200, f"{engine}: {path}: {response.text[:300]}"
        pages[engine] = response.text
    assert iri in pages["embedded"]
    assert pages["oxigraph"] == pages["embedded"]
    assert pages["virtuoso"] == pages["embedded"]


# The W3C protocol cases, with the server's engine on each remote.


@pytest.fixture(scope="module")
def w3c_clients(
    tmp_path_factory: pytest.TempPathFactory, virtuoso: Virtuoso
) -> Iterator[dict[str, httpx.Client]]:
    releases = tmp_path_factory.mktemp("w3c") / "releases"
    W3C.write_release(releases / "w3c-1")
    os.symlink("w3c-1", releases / "current")
    write_named_graphs(releases / "w3c-1", virtuoso.load_dir / "w3c.nq")
    virtuoso.bulk_load(virtuoso.load_dir / "w3c.nq")
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph-w3c"), "30") as url:
        load_release(releases / "w3c-1", f"{url}/store")
        made = {
            "oxigraph": app_client(
                load_settings(
                    {"releases": str(releases), "remote_endpoint": f"{url}/query"}, environ={}
                )
            ),
            "virtuoso": app_client(
                load_settings(
                    {"releases": str(releases), "remote_endpoint": virtuoso.endpoint}, environ={}
                )
            ),
        }
        for each in made.values():
            each.__enter__()
        try:
            yield made
        finally:
            for each in made.values():
                each.__exit__(None, None, None)


@pytest.mark.skipif(not W3C.TESTS, reason="../shared/w3c is not beside the checkout")
@pytest.mark.parametrize("engine", ["oxigraph", "virtuoso"])
def test_w3c_protocol_cases(w3c_clients: dict[str, httpx.Client], engine: str) -> None:
    graph = W3C.manifest()
    http = w3c_clients[engine]
    failures = []
    for name, test in W3C.TESTS:
        steps = W3C.requests_of(graph, test)
        try:
            if name.startswith(("update_", "bad_update")):
                before = W3C.count_triples(http)
                response = http.request(**W3C.build_request(graph, steps[0]))
                assert 400 <= response.status_code < 500, response.text
                assert W3C.count_triples(http) == before
                continue
            for step in steps:
                response = http.request(**W3C.build_request(graph, step))
                W3C.check_response(graph, graph.value(step, W3C.HT.resp), response)
        except AssertionError as error:
            failures.append(f"{name}: {str(error)[:200]}")
    assert len(W3C.TESTS) == 34
    assert not failures, "\n".join(failures)


def test_an_answer_is_read_as_a_whole(clients: dict[str, httpx.Client]) -> None:
    """The same query as CSV from each engine: bytes for bytes (an order SPARQL defines)."""
    query = "SELECT ?c ?l WHERE { ?c a hr:City ; rdfs:label ?l } ORDER BY ?c STR(?l) LANG(?l)"
    bodies = {
        engine: http.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"}).content
        for engine, http in clients.items()
    }
    assert bodies["embedded"].count(b"\n") > 2
    assert bodies["oxigraph"] == bodies["embedded"] == bodies["virtuoso"]


def test_the_gate_stands_in_front_of_virtuoso(clients: dict[str, httpx.Client]) -> None:
    """Through the whole application: a SQL built-in is refused before Virtuoso sees it, and an
    answer Virtuoso cuts at its 10,000 rows is a 422 where the embedded engine answers whole."""
    virtuoso, embedded = clients["virtuoso"], clients["embedded"]
    json_accept = {"Accept": "application/sparql-results+json"}
    sql = "SELECT (<bif:sprintf>('%d', 42) AS ?x) {}"
    refused = virtuoso.get("/sparql", params={"query": sql}, headers=json_accept)
    assert refused.status_code == 400 and refused.json()["error"] == "query-refused"
    every = "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
    whole = embedded.get("/sparql", params={"query": every}, headers={"Accept": "text/csv"})
    assert whole.status_code == 200 and whole.content.count(b"\n") > 10_001
    cut = virtuoso.get("/sparql", params={"query": every}, headers={"Accept": "text/csv"})
    assert cut.status_code == 422, cut.text
    assert "10,000 rows" in cut.text
