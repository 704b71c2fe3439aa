"""The embedded engine: a pool of worker processes, each with the release's store open read-only.

Why processes: pyoxigraph cannot cancel a query from Python (a runaway query in a thread burns a
core until it ends) and it crashes its whole process on some deeply nested queries. A worker
process can be SIGKILLed when its query runs past the time limit, which really frees the CPU, and
its death costs one query an error, never the server. Workers are forked from a forkserver (a
clean single-threaded process), never from the threaded server process.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import multiprocessing
import multiprocessing.forkserver
import os
import re
import resource
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox

from hrgraph.config import Settings, mention
from hrgraph.engine.interface import (
    QueryAnswer,
    QueryRequest,
    check_format,
    query_timeout,
    result_too_large,
)
from hrgraph.engine.prefixes import prefixes_for
from hrgraph.errors import (
    EngineCrashError,
    OverloadedError,
    QueryError,
    QueryMemoryError,
    QuerySyntaxError,
    ReleaseError,
    ResultTooLargeError,
    WorkerLostError,
)
from hrgraph.release import STORE, read_manifest

_CONTEXT = multiprocessing.get_context("forkserver")
# Workers forked from a forkserver that has already imported this module (and pyoxigraph) start
# in milliseconds, so a killed worker is replaced at once. By __name__: the forkserver ignores a
# name it cannot import, silently (tests/test_layers.py checks what it has loaded).
_CONTEXT.set_forkserver_preload([__name__])

_SYNTAX = re.compile(r"^error at (\d+):(\d+): (.*)$", re.DOTALL)
_GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }"
_PR_SET_PDEATHSIG = 1
_UNCAPPED = 1 << 40
_MIB = 1024 * 1024
#: The lanes: general workers take any query; the short lane's worker, one, takes a query only
#: when every general worker is busy, and gives it `short_query_timeout`.
GENERAL, SHORT = "general", "short"
E = TypeVar("E", bound=QueryError)

#: What the parent sends: query, media type, default graphs, named graphs, result cap.
Job = tuple[str, str, tuple[str, ...], tuple[str, ...], int]
#: What a worker answers: ("ok", body) | ("too_large",) | ("syntax", message) | ("memory",)
#: | ("error", message)
Reply = tuple[Any, ...]


class EmbeddedEngine:
    """Runs checked queries in `settings.query_workers` processes over `release/store`, plus one
    process kept for the short lane.

    Admission: a query takes an idle general worker; when all are busy it may take the short
    lane, where it must finish within `short_query_timeout` (so a few expensive queries cannot
    make a cheap one wait); otherwise it waits, at most `queue_timeout`, in a queue of at most
    `max_queued_queries`. Each worker runs under a kernel memory limit (RLIMIT_DATA).
    """

    def __init__(self, release: Path, settings: Settings) -> None:
        self._version = str(read_manifest(release)["version"])
        self._store = str(release / STORE)
        self._prefixes = prefixes_for(settings.base_iri)
        self._settings = settings
        self._timeout = settings.query_timeout
        self._cap = settings.max_result_bytes
        self._memory = settings.query_memory_mib * _MIB
        self._available = threading.Condition()
        self._idle: dict[str, list[_Worker]] = {GENERAL: [], SHORT: []}
        self._waiting = 0
        self._workers: set[_Worker] = set()
        self._closed = False
        for lane in [GENERAL] * settings.query_workers + [SHORT]:
            self._idle[lane].append(self._start(lane))
        self._graphs = self._list_graphs()

    @property
    def version(self) -> str:
        return self._version

    @property
    def graphs(self) -> frozenset[str]:
        """The named graphs of the store (one per source file, plus the release's own)."""
        return self._graphs

    def pids(self, lane: str | None = None) -> tuple[int, ...]:
        """The worker processes' ids, of one lane or all (for tests and diagnostics)."""
        with self._available:
            return tuple(sorted(w.pid for w in self._workers if lane in (None, w.lane)))

    def run(self, request: QueryRequest) -> QueryAnswer:
        check_format(request)
        job: Job = (
            request.query,
            request.media_type,
            request.default_graphs,
            request.named_graphs,
            self._cap,
        )
        return QueryAnswer(request.media_type, self._run(job))

    def close(self) -> None:
        with self._available:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
            self._available.notify_all()
        for worker in workers:
            worker.stop()

    def __enter__(self) -> EmbeddedEngine:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self, job: Job) -> bytes:
        """Run `job`; a worker that dies on it is replaced and the job tried once more on
        another, so that only a query that kills a healthy worker twice is blamed for it."""
        deadline = time.monotonic() + self._timeout
        for attempt in (1, 2):
            worker = self._acquire(deadline)
            limit = deadline
            if worker.lane == SHORT:
                limit = min(deadline, time.monotonic() + self._settings.short_query_timeout)
            try:
                reply = self._exchange(worker, job, limit)
            except _Died as died:
                self._replace(worker)
                if died.out_of_memory:
                    raise self._memory_error() from None
                if attempt == 1 and not self._closed:
                    continue
                raise self._death_error(died.exitcode) from None
            except _Expired:
                self._replace(worker)
                raise self._expired_error(short=limit < deadline) from None
            except BaseException:  # interrupted mid-exchange: never reuse the worker
                self._replace(worker)
                raise
            if reply[0] == "memory":  # a MemoryError in Python code: the worker may be damaged
                self._replace(worker)
                raise self._memory_error()
            self._release(worker)
            return self._unpack(reply)
        raise AssertionError("unreachable")  # pragma: no cover

    def _acquire(self, deadline: float) -> _Worker:
        until = min(deadline, time.monotonic() + self._settings.queue_timeout)
        while True:
            worker = self._take(until)
            if worker.alive:
                return worker
            # Died while idle (killed from outside): not this query's fault. Others may have
            # gone with it (a kill of the process group): replace every dead idle worker.
            self._replace(worker)
            self._replace_dead_idle()

    def _take(self, until: float) -> _Worker:
        """An idle worker (general first, then the short lane), waiting in the bounded queue."""
        with self._available:
            worker = self._idle_worker()
            if worker is not None:
                return worker
            if self._waiting >= self._settings.max_queued_queries:
                raise self._overloaded_error(full=True)
            self._waiting += 1
            try:
                while (worker := self._idle_worker()) is None:
                    remaining = until - time.monotonic()
                    if remaining <= 0:
                        raise self._overloaded_error(full=False)
                    self._available.wait(remaining)
            finally:
                self._waiting -= 1
            return worker

    def _replace_dead_idle(self) -> None:
        with self._available:
            dead = [w for lane in self._idle.values() for w in lane if not w.alive]
            for lane in self._idle.values():
                lane[:] = [w for w in lane if w not in dead]
        for worker in dead:
            self._replace(worker)

    def _idle_worker(self) -> _Worker | None:
        if self._closed:
            raise _shutting_down()
        for lane in (GENERAL, SHORT):
            if self._idle[lane]:
                return self._idle[lane].pop(0)  # oldest first: a dead one is found soon
        return None

    def _exchange(self, worker: _Worker, job: Job, limit: float) -> Reply:
        try:
            worker.connection.send(job)
            if not worker.connection.poll(max(0.0, limit - time.monotonic())):
                raise _Expired
            reply: Reply = worker.connection.recv()
        except (EOFError, OSError):
            worker.stop()
            raise _Died(worker.exitcode, worker.out_of_memory()) from None
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

    def _start(self, lane: str) -> _Worker:
        worker = _Worker(self._store, self._prefixes, lane, self._memory)
        with self._available:
            self._workers.add(worker)
        return worker

    def _release(self, worker: _Worker) -> None:
        with self._available:
            if not self._closed:
                self._idle[worker.lane].append(worker)
                self._available.notify()
                return
        worker.stop()

    def _replace(self, worker: _Worker) -> None:
        """Kill `worker` (this is what frees the CPU of a runaway query) and start another."""
        worker.stop()
        with self._available:
            self._workers.discard(worker)
            if self._closed:
                return
        fresh = self._start(worker.lane)
        with self._available:
            self._idle[fresh.lane].append(fresh)
            self._available.notify()

    def _list_graphs(self) -> frozenset[str]:
        # Not under the result cap: the graph list is the engine's own need, not a user's query.
        job: Job = (_GRAPHS, "application/sparql-results+json", (), (), _UNCAPPED)
        try:
            body = json.loads(self._run(job))
        except QueryError as error:
            self.close()
            raise ReleaseError(f"{self._store}: cannot query the release store ({error})") from None
        return frozenset(row["g"]["value"] for row in body["results"]["bindings"])

    def _expired_error(self, *, short: bool) -> QueryError:
        if short:
            return _limited(
                OverloadedError,
                "every query process was busy with long queries, and the short lane answers "
                f"only queries that finish within {self._settings.short_query_timeout:g} s "
                f"({mention('short_query_timeout')}); try again later",
                "short_query_timeout",
            )
        return query_timeout(self._timeout)

    def _overloaded_error(self, *, full: bool) -> OverloadedError:
        if full:
            why = (
                f"{self._settings.max_queued_queries} queries are already waiting "
                f"({mention('max_queued_queries')})"
            )
            setting = "max_queued_queries"
        else:
            why = (
                f"no query process became free within {self._settings.queue_timeout:g} s "
                f"({mention('queue_timeout')})"
            )
            setting = "queue_timeout"
        return _limited(OverloadedError, f"the server is busy: {why}; try again later", setting)

    def _memory_error(self) -> QueryMemoryError:
        return _limited(
            QueryMemoryError,
            f"the query needed more than the {self._settings.query_memory_mib:,} MiB a query "
            f"process may use ({mention('query_memory_mib')}) and was stopped; add a LIMIT, "
            "avoid ORDER BY or DISTINCT over very large results and cross products, or download "
            "the release files",
            "query_memory_mib",
        )

    def _death_error(self, exitcode: int | None) -> QueryError:
        how = (
            f"signal {-exitcode}"
            if exitcode is not None and exitcode < 0
            else f"exit code {exitcode}"
        )
        if self._closed:
            return _shutting_down()
        if exitcode is not None and -exitcode in _STOPPED_FROM_OUTSIDE:
            return WorkerLostError(
                f"the query process was stopped from outside ({how}), not because of this "
                "query; send it again"
            )
        return EngineCrashError(
            f"the query engine process died on this query twice ({how}); nothing else was "
            "affected. Very deeply nested queries do this: simplify the query"
        )


_STOPPED_FROM_OUTSIDE = {signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


def _limited(kind: type[E], message: str, setting: str) -> E:
    error = kind(message)
    error.setting = setting
    return error


def _shutting_down() -> WorkerLostError:
    return WorkerLostError(
        "this release's query engine has stopped (the server is shutting down or now serves "
        "a newer release); send the query again"
    )


class _Died(Exception):
    """The worker died during an exchange."""

    def __init__(self, exitcode: int | None, out_of_memory: bool) -> None:
        self.exitcode = exitcode
        self.out_of_memory = out_of_memory


class _Expired(Exception):
    """The worker did not answer within the time it was given."""


def syntax_error(message: str, lines_added: int = 0) -> QuerySyntaxError:
    """pyoxigraph's "error at 3:2: expected …" as a QuerySyntaxError with line and column, placed
    in the user's text when `lines_added` lines were put before it."""
    match = _SYNTAX.match(message)
    if match is None:
        return QuerySyntaxError(message)
    line = max(1, int(match.group(1)) - lines_added)
    return QuerySyntaxError(match.group(3), line, int(match.group(2)))


class _Worker:
    """One worker process, the parent's end of its pipe, and the file its stderr goes to (where
    the Rust runtime says why it aborted: "memory allocation of N bytes failed")."""

    def __init__(self, store: str, prefixes: dict[str, str], lane: str, memory: int) -> None:
        self.lane = lane
        self.stderr = _stderr_file()
        self.connection, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(
            target=serve,
            args=(store, prefixes, child, memory, self.stderr),
            name=f"hrgraph-query-{lane}",
            daemon=True,
        )
        self.process.start()
        child.close()  # the worker holds the only other end: its death reads as EOF here
        self._last_words = b""
        self._stopping = threading.Lock()
        self._stopped = False

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

    def out_of_memory(self) -> bool:
        """Whether the (stopped) worker died of its memory limit."""
        return any(sign in self._last_words for sign in _OUT_OF_MEMORY)

    def stop(self) -> None:
        """SIGKILL (a query cannot be interrupted any other way), reap, keep the last words.
        Once only, whoever calls first: the thread running a query and `close()` may both call
        it, and closing the pipe twice could close a descriptor reused meanwhile."""
        with self._stopping:
            if self._stopped:
                return
            self._stopped = True
            if self.process.exitcode is None:
                self.process.kill()
            self.process.join()
            self.connection.close()
            if self.stderr:
                self._last_words = _tail(self.stderr)
                with contextlib.suppress(OSError):
                    os.unlink(self.stderr)
                self.stderr = ""


_OUT_OF_MEMORY = (b"memory allocation of", b"MemoryError", b"std::bad_alloc")


def _stderr_file() -> str:
    """A private file for a worker's stderr; "" (stderr inherited) where none can be made."""
    try:
        fd, path = tempfile.mkstemp(prefix="hrgraph-query-", suffix=".log")
    except OSError:
        return ""
    os.close(fd)
    return path


def _tail(path: str, size: int = 4096) -> bytes:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - size))
            return handle.read()
    except OSError:
        return b""


# The worker side.


def serve(
    store_path: str, prefixes: dict[str, str], connection: Connection, memory: int, stderr: str
) -> None:
    """Worker main loop: limit memory, open the store once, answer jobs until the pipe closes."""
    _detach()
    _redirect_stderr(stderr)
    # RLIMIT_DATA bounds the heap and private mappings (what a query grows), not the store's
    # read-only file mappings; past it an allocation fails and the worker aborts, alone.
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    try:
        store: ox.Store | None = ox.Store.read_only(store_path)
        failure = ""
    except Exception as error:  # OSError, or RuntimeError("Corruption: ...") from RocksDB
        store, failure = None, f"cannot open the store: {error}"
    for job in _jobs(connection):
        reply = answer(store, job, prefixes) if store is not None else ("error", failure)
        connection.send(reply)


def _redirect_stderr(path: str) -> None:
    if not path:
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.dup2(fd, 2)
        os.close(fd)


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
    except MemoryError:
        return ("memory",)
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
