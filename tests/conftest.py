from __future__ import annotations

import contextlib
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from hrgraph.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A writable copy of the shipped sources (ontology/, shapes/, data/)."""
    target = tmp_path / "sources"
    for folder in ("ontology", "shapes", "data"):
        shutil.copytree(ROOT / folder, target / folder)
    return target


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(sources: Path = ROOT, **flags: str) -> Settings:
        return load_settings(
            {"sources": str(sources), "releases": str(tmp_path / "releases"), **flags},
            environ={},
        )

    return make


# --- a real HTTP server (uvicorn on a free loopback port, in a thread) ---------------------


class ThreadServer(uvicorn.Server):
    """uvicorn in a thread (it installs no signal handlers off the main thread), with an event
    set once it listens, so the tests wait on that rather than sleeping."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self.ready.set()

    @property
    def url(self) -> str:
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"


@contextlib.contextmanager
def serve_server(app: Any, **options: Any) -> Iterator[ThreadServer]:
    """Serve `app` on 127.0.0.1 (a port the system picks) until the block ends, with these
    uvicorn options; yields the running server."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", **options
    )
    server = ThreadServer(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert server.ready.wait(60), "the server did not start"
        assert server.started, "the server failed to start"
        yield server
    finally:
        server.should_exit = True
        thread.join(60)


@contextlib.contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 until the block ends; yields its URL."""
    with serve_server(app) as server:
        yield server.url


@pytest.fixture(scope="session")
def served_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings over a release of the shipped sources, built once per session."""
    from hrgraph.build.writer import build

    releases = tmp_path_factory.mktemp("served") / "releases"
    settings = load_settings(
        {"sources": str(ROOT), "releases": str(releases), "query_workers": "2"}, environ={}
    )
    build(settings)
    return settings


@pytest.fixture(scope="session")
def live_url(served_settings: Settings) -> Iterator[str]:
    """The URL of a real server (uvicorn + create_app) over the session's release."""
    from hrgraph.web.app import create_app

    with serve_in_thread(create_app(served_settings)) as url:
        yield url


@pytest.fixture(scope="session")
def client(live_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_url, timeout=60) as http:
        yield http
