"""Switching `current` to a new release while clients hammer the server drops no request, and
every response comes wholly from one release."""

from __future__ import annotations

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from conftest import ROOT, serve_in_thread
from hrgraph.build.writer import build, switch_current
from hrgraph.config import load_settings
from hrgraph.web.http import RELEASE_HEADER

REQUESTS = [
    ("/sparql", {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}),
    ("/id/city/whitehorse.ttl", {}),
    ("/id/city/whitehorse", {"format": "html"}),
    ("/sparql", {}),
]
CLIENTS = 6
PER_CLIENT = 40


def test_switch_under_load(tmp_path: Path) -> None:
    from hrgraph.web.app import create_app

    releases = tmp_path / "releases"
    # The clients all come from 127.0.0.1: allow each of them its query.
    flags = {"sources": str(ROOT), "releases": str(releases), "max_client_queries": str(CLIENTS)}
    settings = load_settings(flags, environ={})
    build(settings.with_(version="1.0.0"))
    build(settings.with_(version="2.0.0"))
    switch_current(releases, "1.0.0")
    halfway = threading.Event()
    done = 0
    lock = threading.Lock()

    def hammer(http: httpx.Client, worker: int) -> list[tuple[str, str, str]]:
        nonlocal done
        seen = []
        for i in range(PER_CLIENT):
            path, params = REQUESTS[(worker + i) % len(REQUESTS)]
            response = http.get(path, params=params)
            assert response.status_code == 200, response.text
            seen.append(
                (path + str(params), response.headers["etag"], response.headers[RELEASE_HEADER])
            )
            with lock:
                done += 1
                if done == CLIENTS * PER_CLIENT // 3:
                    halfway.set()
        return seen

    with (
        serve_in_thread(create_app(settings)) as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        with ThreadPoolExecutor(CLIENTS + 1) as pool:
            futures = [pool.submit(hammer, http, n) for n in range(CLIENTS)]
            assert halfway.wait(120)
            switch_current(releases, "2.0.0")
            results = [row for future in futures for row in future.result()]
        final = http.get("/sparql", params={"query": "ASK {}"})
    assert final.headers[RELEASE_HEADER] == "2.0.0"
    assert len(results) == CLIENTS * PER_CLIENT
    versions_by_etag: dict[str, set[str]] = defaultdict(set)
    for _, etag, version in results:
        versions_by_etag[etag].add(version)
    assert all(len(v) == 1 for v in versions_by_etag.values())
    assert {version for _, _, version in results} == {"1.0.0", "2.0.0"}
    # The same request has one ETag per release: answers are named by their release.
    per_request: dict[str, set[str]] = defaultdict(set)
    for request, etag, _ in results:
        per_request[request].add(etag)
    assert all(len(etags) <= 2 for etags in per_request.values())
