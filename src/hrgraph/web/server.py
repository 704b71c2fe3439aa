"""Running the server: uvicorn over `create_app(settings)` (the command line has built the release).

With several worker processes uvicorn imports the application itself in each process, so the
settings travel to them as HRGRAPH_* variables (the same ones a user sets) and each process builds
its app with `app_from_environment`.

The process lifecycle (tests/web/test_lifecycle.py):

- SIGTERM or SIGINT: uvicorn stops listening and gives the requests under way
  `shutdown_timeout` seconds; then the query processes are killed (`stop_queries_at_shutdown`),
  so a request thread still waiting on one answers 503 at once (anyio's worker threads are not
  daemons: the interpreter would wait for them up to the query's time limit), one second before
  uvicorn cancels what is left. The lifespan's end (`Publisher.stop`) kills them in any case.
  The process then exits with code 0.
- The supervisor of `--workers N` dies, even by SIGKILL: the kernel sends each server process
  SIGTERM (PR_SET_PDEATHSIG), which shuts down as above; its query processes follow their
  forkserver (see embedded.py).
- A server process that dies before it has served ends the whole server with exit code 1, instead
  of uvicorn restarting it forever while nothing listens.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import multiprocessing
import os
import signal
import socket
import sys
import threading
from collections.abc import AsyncIterator, Callable
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from hrgraph.config import SETTINGS, Settings, load_settings
from hrgraph.engine.publisher import Publisher
from hrgraph.errors import ServerStartError, failure_message
from hrgraph.web import connections
from hrgraph.web.app import create_app

Echo = Callable[[str], None]

log = logging.getLogger("uvicorn.error")

_PR_SET_PDEATHSIG = 1
#: How long the supervisor waits for a starting server process to answer "am I serving?" (each
#: 0.5 s turn of its loop).
_STARTUP_PING = 0.5


def environment(settings: Settings) -> dict[str, str]:
    return {s.env: str(getattr(settings, s.name)) for s in SETTINGS}


def app_from_environment() -> FastAPI:
    """The app of one server process of `--workers N` (uvicorn calls this in each child)."""
    die_with_supervisor()
    try:
        app = create_app(load_settings(environ=os.environ))
    except Exception as error:
        # One line (as the command line prints its errors), then uvicorn's "failed to start".
        sys.stderr.write(f"error: {failure_message(error)}\n")
        sys.exit(STARTUP_FAILURE)
    return stop_queries_at_shutdown(app)


def die_with_supervisor() -> None:
    """Have the kernel send this server process SIGTERM when its supervisor dies, by any signal.

    PDEATHSIG fires when the *thread* that forked this process ends. uvicorn 0.54's Multiprocess
    (and `Supervisor` below) starts and restarts every child on the main thread: in `run()`, in
    `keep_subprocess_alive()` and in the signal handlers that `run()` calls from its loop (the
    real handlers only queue the signal). The main thread ends only with the process.
    """
    parent = multiprocessing.parent_process()
    if parent is None:  # not started by multiprocessing: there is no supervisor
        return
    try:
        failed = ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (AttributeError, OSError):  # not Linux: no prctl
        failed = -1
    if failed:
        log.warning("this server process will outlive a supervisor killed by SIGKILL (no prctl)")
    if os.getppid() != parent.pid:  # it died before the prctl: no signal will come
        sys.exit(1)


def stop_queries_at_shutdown(app: FastAPI) -> FastAPI:
    """`app`, whose queries are stopped when the drain of a stop signal ends (the app's own
    lifespan stops them at the end in any case: `Publisher.stop`)."""
    publisher: Publisher = app.state.publisher
    lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def stopping(app: FastAPI) -> AsyncIterator[Any]:
        async with lifespan(app) as state:
            stop_queries_when_the_drain_ends(publisher)
            yield state

    app.router.lifespan_context = stopping
    return app


def stop_queries_when_the_drain_ends(publisher: Publisher) -> None:
    """On SIGTERM or SIGINT, stop the queries once `shutdown_timeout` has passed: the requests
    waiting on them then answer 503 (worker-lost, with Retry-After) within the second uvicorn
    gives beyond it, instead of being cancelled into a 500. Chained before uvicorn's own handlers,
    which are installed (with signal.signal, on the main thread) before the app starts."""
    timer = threading.Timer(publisher.settings.shutdown_timeout, publisher.stop)
    timer.daemon = True
    for signum in (signal.SIGTERM, signal.SIGINT):
        uvicorns = signal.getsignal(signum)

        def chained(sig: int, frame: FrameType | None, uvicorns: Any = uvicorns) -> None:
            if timer.ident is None:  # the first stop signal
                timer.start()
            if callable(uvicorns):
                uvicorns(sig, frame)

        try:
            signal.signal(signum, chained)
        except ValueError:  # not the main thread (a server run in a thread, as in tests)
            return


def serve(settings: Settings, echo: Echo) -> None:
    """Serve `releases/current` (the command line builds it first: build.writer.prepare_release)."""
    address = f"{settings.host}:{settings.port}"
    echo(f"serving on http://{address}/ (SPARQL endpoint: /sparql)")
    try:
        if settings.workers == 1:
            serve_in_process(settings)
        else:
            supervise(settings)
    except SystemExit as done:
        # uvicorn's own exit when it cannot start (the port is taken: its error is above).
        if done.code != STARTUP_FAILURE:
            raise
        raise ServerStartError(f"the server could not start on {address}") from None


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        # uvicorn wants whole seconds. The queries are stopped at shutdown_timeout (see
        # stop_queries_when_the_drain_ends); the extra second lets their requests answer 503.
        "timeout_graceful_shutdown": math.ceil(settings.shutdown_timeout) + 1,
        **connections.uvicorn_options(settings),
    }


def serve_in_process(settings: Settings) -> None:
    """One server process: uvicorn serves in this one."""
    app = stop_queries_at_shutdown(create_app(settings))
    # After its graceful shutdown uvicorn raises again the signal that stopped it; SIGTERM's
    # default action would then kill the process (exit status -15) instead of exit code 0.
    signal.signal(signal.SIGTERM, _exit_normally)
    uvicorn.run(app, **uvicorn_options(settings))


def _exit_normally(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def supervise(settings: Settings) -> None:
    """`--workers N`: what `uvicorn.run(..., workers=N)` does, with `Supervisor`."""
    os.environ.update(environment(settings))
    config = uvicorn.Config(
        "hrgraph.web.server:app_from_environment",
        factory=True,
        workers=settings.workers,
        **uvicorn_options(settings),
    )
    supervisor = Supervisor(config, sockets=[config.bind_socket()])
    supervisor.run()
    if supervisor.failure:
        raise ServerStartError(f"{supervisor.failure}; the server is stopped")


class Supervisor(Multiprocess):
    """uvicorn's supervisor, except that a server process that dies before it has served ends
    the server (uvicorn 0.54 restarts it forever unless it exits with STARTUP_FAILURE, and even
    then exits 0). One that dies after it has served is replaced, as uvicorn does."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.failure = ""
        self._serving: set[Process] = set()

    def keep_subprocess_alive(self) -> None:
        self._serving.intersection_update(self.processes)  # SIGHUP replaces them all
        for index, process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            if process in self._serving:
                if not process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                    self._replace(index)
            elif process.exitcode is not None:
                self.failure = (
                    f"server process {process.pid} exited with code {process.exitcode} before "
                    "it could serve"
                )
                self.should_exit.set()
            elif process.is_ready(timeout=_STARTUP_PING):
                self._serving.add(process)

    def _replace(self, index: int) -> None:
        process = self.processes[index]
        process.kill()  # hung, or dead already
        process.join()
        log.info("Child process [%s] died", process.pid)
        fresh = Process(self.config, self.sockets)
        fresh.start()
        self.processes[index] = fresh
