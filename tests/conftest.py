from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn

# The real Chromium of the browser tests (tests/browsing.py): one per test process.
from browsing import browser, chromium  # noqa: F401
from hrgraph.config import Settings, load_settings

if TYPE_CHECKING:
    from hrgraph.build.writer import BuildResult

ROOT = Path(__file__).resolve().parents[1]


# --- running in two processes (pytest-xdist: `-n 2` in pyproject.toml) -----------------------

#: Files that time things or watch CPU use (time limits, shutdown and connection timeouts, busy
#: query processes): they run in one process, one after the other, so that two of them never
#: fight over the two cores.
TIMING = {
    "engine/test_embedded.py",
    "engine/test_release_switch.py",
    "engine/test_remote.py",
    "engine/test_virtuoso.py",
    "web/test_connections.py",
    "web/test_event_loop.py",
    "web/test_lifecycle.py",
    "web/test_limits.py",
    "web/test_replicas.py",
}
#: Large files of independent tests on the session's fixtures alone: spread test by test.
SPREAD = {"test_shapes.py", "pages/test_pages.py", "web/test_linked_data.py"}


def work_unit(nodeid: str) -> str:
    """What runs in one process: the TIMING files together, each test of a SPREAD file alone,
    and each other file whole (so that its module fixtures, releases and servers, are made
    once)."""
    name = nodeid.split("::", 1)[0].removeprefix("tests/")
    if name in TIMING:
        return "timing"
    return nodeid if name in SPREAD else name


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's scheduling by scope (largest units first), with work_unit as the scope."""
    if config.getvalue("dist") != "load":  # another --dist was asked for
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByWorkUnit(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return ByWorkUnit(config, log)


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


#: SOURCE_DATE_EPOCH of the session's release (its issue date), so that it can be built again
#: byte for byte (tests/build/test_writer.py).
SOURCE_DATE_EPOCH = "1700000000"


@pytest.fixture(scope="session")
def served_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, BuildResult]:
    """A release of the shipped sources, built once per session: its settings and the result."""
    from hrgraph.build.writer import build

    releases = tmp_path_factory.mktemp("served") / "releases"
    settings = load_settings(
        {"sources": str(ROOT), "releases": str(releases), "query_workers": "2"}, environ={}
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        result = build(settings)
    assert result.built
    return settings, result


@pytest.fixture(scope="session")
def served_settings(served_build: tuple[Settings, BuildResult]) -> Settings:
    """Settings over the session's release of the shipped sources."""
    return served_build[0]


@pytest.fixture(scope="session")
def shipped_release(served_settings: Settings) -> Path:
    """The session's release of the shipped sources (read it, never change it: servers use it)."""
    from hrgraph.release import current_release

    release = current_release(served_settings.releases)
    assert release is not None
    return release


def copy_releases(served_settings: Settings, to: Path) -> None:
    """A copy of the session's releases folder (its release, `current`, the lock) at `to`: a
    "good current release" of the shipped sources for a test to damage or build over, without a
    build of its own (`build` over a copy of the shipped sources calls it up to date)."""
    shutil.copytree(served_settings.releases, to, symlinks=True)


@pytest.fixture(scope="session")
def live_url(served_settings: Settings) -> Iterator[str]:
    """The URL of a real server (uvicorn + create_app) over the session's release, for what needs
    a socket: what uvicorn does (its headers, chunked transfer, Content-Length on the wire, limits
    per client address), raw request targets, real clients."""
    from hrgraph.web.app import create_app

    with serve_in_thread(create_app(served_settings)) as url:
        yield url


@pytest.fixture(scope="session")
def live_client(live_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_url, timeout=60) as http:
        yield http


#: Where the in-process client sends its requests (nothing listens there: no socket is used).
IN_PROCESS_URL = "http://testserver"


@pytest.fixture(scope="session")
def client(served_settings: Settings) -> Iterator[httpx.Client]:
    """The application over the session's release, called in this process without a socket:
    starlette's TestClient, an httpx.Client whose transport calls the ASGI application. The
    lifespan runs once for the session (its end stops the query processes). Redirects are not
    followed, as by httpx.Client; an error the application does not handle is raised here."""
    with warnings.catch_warnings():
        # starlette 1.10 prefers httpx2; with httpx the TestClient is an httpx.Client.
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient
    from hrgraph.web.app import create_app

    app = create_app(served_settings)
    with TestClient(app, base_url=IN_PROCESS_URL, follow_redirects=False) as http:
        yield http
