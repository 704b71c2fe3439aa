"""Nothing blocks the event loop: while a new release is being opened (verified, its engine
started, or uploaded to a remote store), the server keeps answering from the old one."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from conftest import ROOT, serve_in_thread
from hrgraph.build.writer import build, switch_current
from hrgraph.config import Settings, load_settings
from hrgraph.engine.publisher import Engine
from hrgraph.web.app import create_app, open_engine
from hrgraph.web.http import RELEASE_HEADER


def test_the_loop_answers_while_a_new_release_opens(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    settings = load_settings({"sources": str(ROOT), "releases": str(releases)}, environ={})
    build(settings.with_(version="1.0.0"))
    build(settings.with_(version="2.0.0"))
    switch_current(releases, "1.0.0")
    opening, may_open = threading.Event(), threading.Event()

    def slow_to_open(path: Path, settings: Settings) -> Engine:
        """Release 2.0.0 opens only when the test says so (as a slow upload would)."""
        if path.name == "2.0.0":
            opening.set()
            assert may_open.wait(60), "the test never let the release open"
        return open_engine(path, settings)

    with (
        serve_in_thread(create_app(settings, slow_to_open)) as url,
        httpx.Client(base_url=url, timeout=20) as http,
        ThreadPoolExecutor(1) as pool,
    ):
        ask = {"query": "ASK {}"}
        assert http.get("/sparql", params=ask).headers[RELEASE_HEADER] == "1.0.0"
        switch_current(releases, "2.0.0")
        try:
            # The request that notices the switch opens 2.0.0 (and waits in slow_to_open)...
            first = pool.submit(http.get, "/sparql", params={"query": "ASK { ?s ?p ?o }"})
            assert opening.wait(20), "no request started opening the new release"
            # ...while the same server answers others at once, from the old release. Were the
            # opening on the event loop, this request would not be read until it ended.
            during = http.get("/sparql", params=ask)
            assert during.status_code == 200
            assert during.headers[RELEASE_HEADER] == "1.0.0"
            assert not first.done()
        finally:
            may_open.set()
        assert first.result().headers[RELEASE_HEADER] == "2.0.0"
        assert http.get("/sparql", params=ask).headers[RELEASE_HEADER] == "2.0.0"
