"""The limits of the query engine at the HTTP level, through a real server: each failure has its
true status (503 with Retry-After for what is not the client's fault, 4xx for what is) and one
error shape, in JSON, HTML and text."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup

from conftest import serve_in_thread
from hrgraph.config import Settings
from hrgraph.engine.embedded import GENERAL, EmbeddedEngine
from hrgraph.pages import i18n
from hrgraph.web.app import create_app
from support import HUNGRY, RUNAWAY, busy_worker, cpu_ticks, gone, wait_until

FORMATS = {
    "json": "application/sparql-results+json",
    "html": "text/html",
    "text": "text/csv",
}
CHEAP = "SELECT (COUNT(*) AS ?n) WHERE { ?s a hr:City }"


@contextlib.contextmanager
def limited(settings: Settings, **limits: Any) -> Iterator[tuple[httpx.Client, EmbeddedEngine]]:
    """A real server over the session's release with these limits; yields a client and the
    server's engine (to find and kill its query processes)."""
    app = create_app(settings.with_(**limits))
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=120) as http:
        engine = app.state.publisher.current.engine
        assert isinstance(engine, EmbeddedEngine)
        yield http, engine


def ask(http: httpx.Client, query: str, fmt: str = "json") -> httpx.Response:
    return http.get("/sparql", params={"query": query}, headers={"Accept": FORMATS[fmt]})


def post(http: httpx.Client, query: str, fmt: str) -> httpx.Response:
    """A query too long for a URL, by POST (a browser's Accept also takes JSON results)."""
    accept = FORMATS[fmt] + (", application/sparql-results+json;q=0.9" if fmt == "html" else "")
    headers = {"Accept": accept, "Content-Type": "application/sparql-query"}
    return http.post("/sparql", content=query.encode(), headers=headers)


def assert_error(
    response: httpx.Response, fmt: str, status: int, code: str, setting: str | None
) -> None:
    """The one error shape: status, code, message and setting, in the format asked for."""
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    if status in (429, 503):
        assert int(response.headers["retry-after"]) > 0
    else:
        assert "retry-after" not in response.headers
    if fmt == "json":
        body = response.json()
        assert set(body) == {"error", "message", "status", "line", "column", "setting"}
        assert (body["error"], body["status"], body["setting"]) == (code, status, setting)
        message = body["message"]
    elif fmt == "html":
        assert response.headers["content-type"].startswith("text/html")
        page = BeautifulSoup(response.text, "html.parser")
        title, _ = i18n.error_text(status, "en")
        assert page.h1 is not None and page.h1.get_text() == title
        assert page.find("code", string=f"{status} {code}") is not None
        message = page.get_text()
        if setting:
            assert page.find("code", string=setting) is not None
    else:
        assert response.headers["content-type"].startswith("text/plain")
        line = response.text
        assert line.startswith(f"{status} {code}: ") and line.count("\n") == 1
        message = line
    if setting:
        assert (
            f"HRGRAPH_{setting.upper()}" in message and f"--{setting.replace('_', '-')}" in message
        )


@pytest.fixture(scope="module")
def server(served_settings: Settings) -> Iterator[tuple[httpx.Client, EmbeddedEngine]]:
    # 2 s: HUNGRY must reach the memory limit before the timeout on a loaded 2-core machine
    # (at 1 s it timed out first there once the release grew its statement graph).
    limits = dict(
        query_workers=1,
        query_timeout=2.0,
        short_query_timeout=2.0,
        query_memory_mib=300,
        max_result_bytes=2000,
        max_nesting=100_000,
    )
    with limited(served_settings, **limits) as opened:
        yield opened


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_timeout_is_503_naming_the_setting(server: Any, fmt: str) -> None:
    http, _ = server
    assert_error(ask(http, RUNAWAY, fmt), fmt, 503, "query-timeout", "query_timeout")


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_result_cap_is_422(server: Any, fmt: str) -> None:
    http, _ = server
    response = ask(http, "SELECT * WHERE { ?s ?p ?o }", fmt)
    assert_error(response, fmt, 422, "result-too-large", "max_result_bytes")


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_memory_limit_is_422_and_the_worker_is_replaced(server: Any, fmt: str) -> None:
    http, engine = server
    before = engine.pids(GENERAL)
    response = ask(http, HUNGRY, fmt)
    assert_error(response, fmt, 422, "query-memory", "query_memory_mib")
    assert all(gone(pid) for pid in before)
    assert ask(http, CHEAP).json()["results"]["bindings"][0]["n"]["value"] == "9"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_query_that_kills_a_fresh_worker_again_is_the_clients_400(server: Any, fmt: str) -> None:
    http, _ = server
    deep = "SELECT * WHERE " + "{" * 20_000 + "}" * 20_000  # under max_nesting here: crashes
    response = post(http, deep, fmt)
    assert_error(response, fmt, 400, "engine-crash", None)
    assert "twice" in response.text
    assert ask(http, CHEAP).status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_worker_killed_from_outside_is_503(served_settings: Settings, fmt: str) -> None:
    limits = dict(query_workers=1, query_timeout=120.0, short_query_timeout=120.0)
    with limited(served_settings, **limits) as (http, engine), ThreadPoolExecutor(1) as pool:
        heavy = pool.submit(ask, http, RUNAWAY, fmt)
        for _ in range(2):  # the first death is retried on another worker; the second is not
            killed = busy_worker({pid: cpu_ticks(pid) for pid in engine.pids(GENERAL)})
            os.kill(killed, signal.SIGKILL)
            wait_until(lambda: replaced(engine, killed))
        assert_error(heavy.result(), fmt, 503, "worker-lost", None)
        assert "from outside" in heavy.result().text


def replaced(engine: EmbeddedEngine, killed: int) -> bool:
    """`killed` is gone and its replacement started (the retry runs there)."""
    return killed not in engine.pids() and bool(engine.pids(GENERAL))


def hold(http: httpx.Client, engine: EmbeddedEngine, count: int) -> Callable[[], None]:
    """Start `count` long queries and wait until that many query processes work on them."""
    before = {pid: cpu_ticks(pid) for pid in engine.pids()}  # startup costs CPU too
    pool = ThreadPoolExecutor(count)
    for _ in range(count):
        pool.submit(ask, http, RUNAWAY)

    def working() -> int:
        return sum(cpu_ticks(pid) - ticks >= 20 for pid, ticks in before.items() if not gone(pid))

    wait_until(lambda: working() >= count)
    return lambda: pool.shutdown(wait=False, cancel_futures=True)


def test_the_short_lane_answers_cheap_queries_while_long_ones_run(
    served_settings: Settings,
) -> None:
    limits = dict(query_workers=1, query_timeout=60.0, short_query_timeout=5.0)
    with limited(served_settings, **limits) as (http, engine):
        release = hold(http, engine, 1)
        answers = [ask(http, CHEAP) for _ in range(5)]
        assert [a.status_code for a in answers] == [200] * 5
        engine.close()
        release()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_full_queue_is_503_with_retry_after(served_settings: Settings, fmt: str) -> None:
    limits = dict(
        query_workers=1,
        query_timeout=60.0,
        short_query_timeout=60.0,
        max_queued_queries=1,
        max_client_queries=100,
    )
    with limited(served_settings, **limits) as (http, engine):
        release = hold(http, engine, 2)  # the general worker and the short lane
        with ThreadPoolExecutor(1) as pool:
            pool.submit(ask, http, RUNAWAY)
            wait_until(lambda: engine._waiting == 1)
            response = ask(http, CHEAP, fmt)
            assert_error(response, fmt, 503, "overloaded", "max_queued_queries")
            engine.close()  # ends the held queries (503 for them) before the server stops
        release()


@pytest.mark.parametrize("fmt", FORMATS)
def test_too_many_queries_from_one_client_is_429(served_settings: Settings, fmt: str) -> None:
    limits = dict(query_workers=1, query_timeout=60.0, max_client_queries=1)
    with limited(served_settings, **limits) as (http, engine):
        release = hold(http, engine, 1)
        response = ask(http, CHEAP, fmt)
        assert_error(response, fmt, 429, "too-many-queries", "max_client_queries")
        engine.close()
        release()
        # Pages that run no user query are not limited.
        assert http.get("/downloads/", params={"format": "json"}).status_code == 200
