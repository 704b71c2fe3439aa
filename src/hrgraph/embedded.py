"""The embedded engine: a pool of worker processes, each with the release's store open read-only.

Why processes: pyoxigraph cannot cancel a query from Python (a runaway query in a thread burns a
core until it ends) and it crashes its whole process on some deeply nested queries. A worker
process can be SIGKILLed when its query runs past the time limit, which really frees the CPU, and
its death costs one query an error, never the server. Workers are forked from a forkserver (a
clean single-threaded process), never from the threaded server process.
"""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import multiprocessing.forkserver
import os
import queue
import re
import signal
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from hrgraph.config import Settings
from hrgraph.engine import QueryAnswer, QueryRequest, media_types, result_too_large
from hrgraph.errors import (
    EngineCrashError,
    NotAcceptableError,
    QueryError,
    QuerySyntaxError,
    QueryTimeoutError,
    ReleaseError,
    ResultTooLargeError,
)
from hrgraph.release import STORE, read_manifest
from hrgraph.safety import prefixes_for

_CONTEXT = multiprocessing.get_context("forkserver")
# Workers forked from a forkserver that has already imported pyoxigraph start in milliseconds,
# so a killed worker is replaced at once.
_CONTEXT.set_forkserver_preload(["hrgraph.embedded"])

_SYNTAX = re.compile(r"^error at (\d+):(\d+): (.*)$", re.DOTALL)
_GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }"
_PR_SET_PDEATHSIG = 1
_UNCAPPED = 1 << 40

#: What the parent sends: query, media type, default graphs, named graphs, result cap.
Job = tuple[str, str, tuple[str, ...], tuple[str, ...], int]
#: What a worker answers: ("ok", body) | ("too_large",) | ("syntax", message) | ("error", message)
Reply = tuple[Any, ...]


class EmbeddedEngine:
    """Runs checked queries in `settings.query_workers` processes over `release/store`."""

    def __init__(self, release: Path, settings: Settings) -> None:
        self._version = str(read_manifest(release)["version"])
        self._store = str(release / STORE)
        self._prefixes = prefixes_for(settings.base_iri)
        self._timeout = settings.query_timeout
        self._cap = settings.max_result_bytes
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(settings.query_workers):
            self._idle.put(self._start())
        self._graphs = self._list_graphs()

    @property
    def version(self) -> str:
        return self._version

    @property
    def graphs(self) -> frozenset[str]:
        """The named graphs of the store (one per source file, plus the release's own)."""
        return self._graphs

    def pids(self) -> tuple[int, ...]:
        """The worker processes' ids (for tests and diagnostics)."""
        with self._lock:
            return tuple(sorted(w.pid for w in self._workers))

    def run(self, request: QueryRequest) -> QueryAnswer:
        if self._closed:
            raise EngineCrashError(
                "this release's query engine has been closed (a newer release is being served); "
                "send the query again"
            )
        if request.media_type not in media_types(request.form):
            raise NotAcceptableError(
                f"{request.form.value} results are not available as {request.media_type}; "
                f"choose one of {', '.join(media_types(request.form))}"
            )
        job: Job = (
            request.query,
            request.media_type,
            request.default_graphs,
            request.named_graphs,
            self._cap,
        )
        return QueryAnswer(request.media_type, self._run(job))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            worker.stop()

    def __enter__(self) -> EmbeddedEngine:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self, job: Job) -> bytes:
        deadline = time.monotonic() + self._timeout
        worker = self._acquire(deadline)
        try:
            reply = self._exchange(worker, job, deadline)
        except BaseException:  # timed out, died, or interrupted mid-exchange: never reuse it
            self._replace(worker)
            raise
        self._release(worker)
        return self._unpack(reply)

    def _acquire(self, deadline: float) -> _Worker:
        while True:
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise self._timeout_error(busy=True) from None
            if worker.alive:
                return worker
            self._replace(worker)  # died while idle (killed from outside): not this query's fault

    def _exchange(self, worker: _Worker, job: Job, deadline: float) -> Reply:
        try:
            worker.connection.send(job)
            if not worker.connection.poll(max(0.0, deadline - time.monotonic())):
                raise self._timeout_error(busy=False)
            reply: Reply = worker.connection.recv()
        except (EOFError, OSError):
            raise self._crash_error(worker) from None
        return reply

    def _unpack(self, reply: Reply) -> bytes:
        if reply[0] == "ok":
            body: bytes = reply[1]
            return body
        if reply[0] == "too_large":
            raise result_too_large(self._cap)
        if reply[0] == "syntax":
            raise syntax_error(reply[1])
        raise QueryError(reply[1])

    def _start(self) -> _Worker:
        worker = _Worker(self._store, self._prefixes)
        with self._lock:
            self._workers.add(worker)
        return worker

    def _release(self, worker: _Worker) -> None:
        if self._closed:
            worker.stop()
        else:
            self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        """Kill `worker` (this is what frees the CPU of a runaway query) and start another."""
        worker.stop()
        with self._lock:
            self._workers.discard(worker)
            if self._closed:
                return
        self._idle.put(self._start())

    def _list_graphs(self) -> frozenset[str]:
        # Not under the result cap: the graph list is the engine's own need, not a user's query.
        job: Job = (_GRAPHS, "application/sparql-results+json", (), (), _UNCAPPED)
        try:
            body = json.loads(self._run(job))
        except QueryError as error:
            self.close()
            raise ReleaseError(f"{self._store}: cannot query the release store ({error})") from None
        return frozenset(row["g"]["value"] for row in body["results"]["bindings"])

    def _timeout_error(self, *, busy: bool) -> QueryTimeoutError:
        if busy:
            message = (
                f"every query worker stayed busy for the {self._timeout:g} s limit "
                "(HRGRAPH_QUERY_TIMEOUT / --query-timeout; more workers: HRGRAPH_QUERY_WORKERS "
                "/ --query-workers); try again later"
            )
        else:
            message = (
                f"the query ran past the {self._timeout:g} s limit "
                "(HRGRAPH_QUERY_TIMEOUT / --query-timeout) and was stopped"
            )
        error = QueryTimeoutError(message)
        error.setting = "query_timeout"
        return error

    def _crash_error(self, worker: _Worker) -> EngineCrashError:
        worker.stop()
        code = worker.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return EngineCrashError(
            f"the query engine process died on this query ({how}); nothing else was affected. "
            "Very deeply nested queries do this: simplify the query"
        )


def syntax_error(message: str, lines_added: int = 0) -> QuerySyntaxError:
    """pyoxigraph's "error at 3:2: expected …" as a QuerySyntaxError with line and column, placed
    in the user's text when `lines_added` lines were put before it."""
    match = _SYNTAX.match(message)
    if match is None:
        return QuerySyntaxError(message)
    line = max(1, int(match.group(1)) - lines_added)
    return QuerySyntaxError(match.group(3), line, int(match.group(2)))


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, store: str, prefixes: dict[str, str]) -> None:
        self.connection, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(
            target=serve, args=(store, prefixes, child), name="hrgraph-query", daemon=True
        )
        self.process.start()
        child.close()  # the worker holds the only other end: its death reads as EOF here

    @property
    def pid(self) -> int:
        assert self.process.pid is not None  # started in __init__
        return self.process.pid

    @property
    def alive(self) -> bool:
        """An idle worker has nothing to say: anything readable is the EOF of its death (seen
        here before the forkserver has reaped it)."""
        try:
            return self.process.is_alive() and not self.connection.poll(0)
        except OSError:
            return False

    @property
    def exitcode(self) -> int | None:
        return self.process.exitcode

    def stop(self) -> None:
        """SIGKILL (a query cannot be interrupted any other way) and reap."""
        if self.process.exitcode is None:
            self.process.kill()
        self.process.join()
        self.connection.close()


# The worker side.


def serve(store_path: str, prefixes: dict[str, str], connection: Connection) -> None:
    """Worker main loop: open the store once, then answer jobs until the pipe closes."""
    _detach()
    try:
        store: ox.Store | None = ox.Store.read_only(store_path)
        failure = ""
    except OSError as error:
        store, failure = None, f"cannot open the store: {error}"
    for job in _jobs(connection):
        reply = answer(store, job, prefixes) if store is not None else ("error", failure)
        connection.send(reply)


def _jobs(connection: Connection) -> Iterator[Job]:
    while True:
        try:
            job: Job | None = connection.recv()
        except EOFError:
            return  # the server has gone: so does the worker
        if job is None:
            return
        yield job


def _detach() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the server stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The forkserver gives each child its keep-alive pipe end, so a worker holding it keeps the
    # forkserver alive after the server has died. Closed here, the forkserver exits with the
    # server (even one killed by SIGKILL), and the kernel then kills the worker (PDEATHSIG),
    # instead of letting a runaway query run on with nobody waiting for it.
    with contextlib.suppress(AttributeError, OSError, TypeError):
        server = getattr(multiprocessing.forkserver, "_forkserver")  # noqa: B009
        os.close(server._forkserver_alive_fd)
        server._forkserver_alive_fd = None
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the forkserver was already gone before PDEATHSIG was set
        os._exit(1)


def answer(store: ox.Store, job: Job, prefixes: dict[str, str]) -> Reply:
    query, media_type, default_graphs, named_graphs, cap = job
    output = CappedBuffer(cap)
    try:
        results = store.query(query, prefixes=prefixes, **dataset(default_graphs, named_graphs))
        serialize(results, media_type, output)
    except ResultTooLargeError:
        return ("too_large",)
    except SyntaxError as error:
        return ("syntax", str(error))
    except Exception as error:  # anything else pyoxigraph raises: the worker lives on
        return ("error", f"the query could not be evaluated: {error}")
    return ("ok", output.getvalue())


def dataset(default_graphs: tuple[str, ...], named_graphs: tuple[str, ...]) -> dict[str, Any]:
    """pyoxigraph's dataset arguments. With no graphs given, the store's default graph, which the
    release builder fills with the merge of all graphs (faster than use_default_graph_as_union);
    naming graphs (FROM, FROM NAMED or the protocol's graph parameters) defines the whole
    dataset, as in SPARQL 1.1 section 13.2: what is not named is not in it."""
    if not default_graphs and not named_graphs:
        return {}
    return {
        "default_graph": [ox.NamedNode(iri) for iri in default_graphs],
        "named_graphs": [ox.NamedNode(iri) for iri in named_graphs],
    }


def serialize(results: Any, media_type: str, output: CappedBuffer) -> None:
    if isinstance(results, ox.QueryTriples):
        results.serialize(output, format=ox.RdfFormat.from_media_type(media_type))
    else:
        results.serialize(output, format=ox.QueryResultsFormat.from_media_type(media_type))


class CappedBuffer(io.BytesIO):
    """A buffer that refuses to grow past `cap` bytes. pyoxigraph evaluates lazily while it
    serializes, so refusing a write also stops the query."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap

    def write(self, data: Any) -> int:
        if self.tell() + memoryview(data).nbytes > self.cap:
            raise ResultTooLargeError(f"over {self.cap} bytes")
        return super().write(data)
