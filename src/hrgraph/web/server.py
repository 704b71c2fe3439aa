"""A server process: uvicorn over `create_app(settings)` (the command line has built the release).

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
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE

from hrgraph.config import Settings, load_settings
from hrgraph.engine.publisher import Publisher
from hrgraph.errors import failure_message
from hrgraph.web.app import create_app
from hrgraph.web.supervisor import die_with_supervisor, uvicorn_options


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


def serve_in_process(settings: Settings) -> None:
    """One server process: uvicorn serves in this one."""
    app = stop_queries_at_shutdown(create_app(settings))
    # After its graceful shutdown uvicorn raises again the signal that stopped it; SIGTERM's
    # default action would then kill the process (exit status -15) instead of exit code 0.
    signal.signal(signal.SIGTERM, _exit_normally)
    uvicorn.run(app, **uvicorn_options(settings))


def _exit_normally(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
