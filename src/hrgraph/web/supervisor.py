"""The supervisor of `--workers N`: uvicorn's, over server processes that each import the
application (web.server's `app_from_environment`); this process never imports it.

It holds only uvicorn and the settings (its memory is the interpreter's and uvicorn's), because
it outlives nothing and serves nothing: the application, the engine and their memory are in the
server processes. The process lifecycle is described in web.server.
"""

from __future__ import annotations

import ctypes
import logging
import math
import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from hrgraph.config import SETTINGS, Settings
from hrgraph.errors import ServerStartError
from hrgraph.web import connections

Echo = Callable[[str], None]

log = logging.getLogger("uvicorn.error")

_PR_SET_PDEATHSIG = 1
#: How long the supervisor waits for a starting server process to answer "am I serving?" (each
#: 0.5 s turn of its loop).
_STARTUP_PING = 0.5


def serve(settings: Settings, run: Callable[[Settings], None], echo: Echo) -> None:
    """Serve `releases/current` with `run`: `supervise`, or web.server's `serve_in_process` for
    one server process (the command line has built the release, in a process of its own)."""
    address = f"{settings.host}:{settings.port}"
    echo(f"serving on http://{address}/ (SPARQL endpoint: /sparql)")
    try:
        run(settings)
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


def environment(settings: Settings) -> dict[str, str]:
    return {s.env: str(getattr(settings, s.name)) for s in SETTINGS}


def die_with_supervisor() -> None:
    """Have the kernel send this process SIGTERM when its supervisor dies, by any signal.

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
