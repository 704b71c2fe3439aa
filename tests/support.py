"""Helpers several test modules share (tests/ is on the path of every test module)."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

#: IRIs of the shipped release, and a query every engine answers, shared by the engine tests.
PLACES = "https://w3id.org/hrgraph/graph/data/places"
PROGRAMS = "https://w3id.org/hrgraph/graph/data/programs"
WHITEHORSE = "https://w3id.org/hrgraph/id/city/whitehorse"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts (and closes them)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.accepted += 1  # counted before closing: the client's error comes after this
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


#: Every triple three times over: never finishes on the shipped data.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15);
    0 once the process is gone (so that a wait on it is not ended by an error)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return int(fields[11]) + int(fields[12])


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_until(
    condition: Callable[[], bool], patience: float = 120.0, what: str = "", every: float = 0.02
) -> None:
    """Poll `condition` every `every` seconds until it holds. The default `patience` only keeps a
    broken run from hanging (it is never reached when all is well, so it is not a timing
    assertion); a test that bounds how long something takes passes its bound."""
    give_up = time.monotonic() + patience
    while not condition():
        assert time.monotonic() < give_up, f"gave up waiting for {what or condition}"
        threading.Event().wait(every)


def busy_worker(before: dict[int, int]) -> int:
    """The worker that starts burning CPU (at least 0.2 s of it) after `before` was measured."""
    busy: list[int] = []

    def burning() -> bool:
        busy.extend(p for p, t in before.items() if not gone(p) and cpu_ticks(p) - t >= 20)
        return bool(busy)

    wait_until(burning)
    return busy[0]


#: Sorting the cross product of all triples: memory grows with it (2.2 GB in 3 s unbounded).
HUNGRY = "SELECT * WHERE { ?s ?p ?o . ?a ?b ?c } ORDER BY ?o ?c"


@contextlib.contextmanager
def sources_read_once() -> Iterator[None]:
    """Inside the block, builds parse and validate each sources folder once: a later build of the
    same unchanged sources (another version, for a fixture that needs several releases) reuses
    the parsed sources and the report, and writes its release as any build does."""
    from hrgraph.build import writer

    parsed: dict[tuple[object, ...], Any] = {}
    reports: dict[int, Any] = {}
    load, check = writer.load_sources, writer.validate

    def load_once(settings: Any, *args: Any) -> Any:
        key = (writer.fingerprint(writer.source_paths(settings)), *args)  # names and bytes
        if key not in parsed:
            parsed[key] = load(settings, *args)
        return parsed[key]

    def check_once(sources: Any, *built: Any) -> Any:
        if id(sources) not in reports:
            reports[id(sources)] = check(sources, *built)
        return reports[id(sources)]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writer, "load_sources", load_once)
        patch.setattr(writer, "validate", check_once)
        yield


# --- SHACL fixtures (tests/test_shapes.py, tests/build/test_feed_shapes.py) ----------------------

#: An invalid fixture's expected results: invalid.<case>.ttl -> invalid.<case>.expected.ttl.
EXPECTED_SUFFIX = ".expected.ttl"


def expected_path(fixture: Path) -> Path:
    """invalid.<case>.ttl -> invalid.<case>.expected.ttl"""
    return fixture.with_name(fixture.name.removesuffix(".ttl") + EXPECTED_SUFFIX)


#: The SHACL parameters that make a constraint (a node shape carrying one directly needs its own
#: sh:message).
SH_PARAMETERS = tuple(
    "http://www.w3.org/ns/shacl#" + name
    for name in [
        "class",
        "datatype",
        "nodeKind",
        "minCount",
        "maxCount",
        "minInclusive",
        "maxInclusive",
        "minExclusive",
        "maxExclusive",
        "minLength",
        "maxLength",
        "pattern",
        "languageIn",
        "uniqueLang",
        "equals",
        "disjoint",
        "lessThan",
        "lessThanOrEquals",
        "not",
        "and",
        "or",
        "xone",
        "node",
        "qualifiedValueShape",
        "closed",
        "hasValue",
        "in",
    ]
)


# --- real remote SPARQL servers (tests/engine/test_remote.py, test_virtuoso.py, -------------------
# --- test_portability.py): each started on free loopback ports and killed whatever happens ------


def oxigraph_binary() -> str:
    import shutil
    import sys

    beside = Path(sys.executable).parent / "oxigraph"
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    assert found, "the Oxigraph server is missing: pip install the `oxigraph` package"
    return found


def wait_answering(url: str, process: Any, what: str, patience: float = 120.0) -> None:
    """Until `url` answers HTTP at all; fails if `process` (a Popen) exits first."""
    import httpx

    give_up = time.monotonic() + patience
    while True:
        assert process.poll() is None, f"{what} exited at start"
        assert time.monotonic() < give_up, f"{what} did not answer at {url}"
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            threading.Event().wait(0.05)


@contextlib.contextmanager
def killed_at_end(process: Any) -> Iterator[None]:
    try:
        yield
    finally:
        process.kill()
        process.wait()


@contextlib.contextmanager
def oxigraph_server(location: Path, timeout_s: str) -> Iterator[str]:
    """A real Oxigraph server over `location`, its own query time limit `timeout_s`; its URL."""
    import subprocess

    port = free_port()
    command = [oxigraph_binary(), "serve", "--location", str(location)]
    command += ["--bind", f"127.0.0.1:{port}", "--timeout-s", timeout_s]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    with killed_at_end(process):
        wait_answering(url, process, "the Oxigraph server")
        yield url


VIRTUOSO = Path("/usr/bin/virtuoso-t")
ISQL = Path("/usr/bin/isql-vt")
VIRTUOSO_HINT = (
    "the Virtuoso tests need Debian's virtuoso-opensource: run `make virtuoso` (as root it runs "
    "`apt-get update && apt-get install -y --no-install-recommends virtuoso-opensource`)"
)
#: Virtuoso's shipped limits (its virtuoso.ini), which the portability matrix runs under.
VIRTUOSO_ROWS, VIRTUOSO_SECONDS, VIRTUOSO_COST = 10_000, 60, 400


class Virtuoso:
    """A private Virtuoso: its folder (database, virtuoso.ini, load/ for the bulk loader)."""

    def __init__(self, folder: Path, http_port: int, sql_port: int) -> None:
        self.folder = folder
        self.url = f"http://127.0.0.1:{http_port}"
        self.endpoint = f"{self.url}/sparql"
        self.sql_port = sql_port
        self.load_dir = folder / "load"

    def isql(self, statements: str) -> str:
        """Run SQL through isql-vt as dba (the fresh database's default password); its output."""
        import subprocess

        done = subprocess.run(
            [str(ISQL), f"127.0.0.1:{self.sql_port}", "dba", "dba", f"exec={statements}"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0 and "*** Error" not in done.stdout + done.stderr, done
        return done.stdout

    def bulk_load(self, nquads: Path) -> None:
        """Load one N-Quads file with the bulk loader (its graphs kept; quads of no graph would
        go to an unused graph) and check that nothing failed."""
        name = nquads.name
        self.isql(
            f"ld_dir('{self.load_dir}', '{name}', 'urn:hrgraph:unused'); rdf_loader_run(); "
            "checkpoint;"
        )
        failed = self.isql(
            "select count(*) from DB.DBA.load_list where ll_state <> 2 or ll_error is not null;"
        )
        assert "\n0\n" in failed.replace(" ", ""), failed


def virtuoso_ini(
    folder: Path, http_port: int, sql_port: int, rows: int, seconds: int, cost: int
) -> str:
    return f"""[Database]
DatabaseFile = {folder}/virtuoso.db
ErrorLogFile = {folder}/virtuoso.log
LockFile = {folder}/virtuoso.lck
TransactionFile = {folder}/virtuoso.trx
xa_persistent_file = {folder}/virtuoso.pxa
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {folder}/virtuoso-temp.db
TransactionFile = {folder}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DirsAllowed = ., {folder}/load
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
CheckpointInterval = 0
ThreadsPerQuery = 1
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {folder}
ServerThreads = 4
MaxClientConnections = 4
[SPARQL]
ResultSetMaxRows = {rows}
MaxQueryCostEstimationTime = {cost}
MaxQueryExecutionTime = {seconds}
"""


@contextlib.contextmanager
def virtuoso_server(
    folder: Path,
    rows: int = VIRTUOSO_ROWS,
    seconds: int = VIRTUOSO_SECONDS,
    cost: int = VIRTUOSO_COST,
) -> Iterator[Virtuoso]:
    """A private Virtuoso with a fresh database in `folder`, under these [SPARQL] limits
    (ResultSetMaxRows, MaxQueryExecutionTime, MaxQueryCostEstimationTime)."""
    import subprocess

    assert VIRTUOSO.exists() and ISQL.exists(), VIRTUOSO_HINT
    http_port, sql_port = free_port(), free_port()
    (folder / "load").mkdir(parents=True)
    ini = folder / "virtuoso.ini"
    ini.write_text(virtuoso_ini(folder, http_port, sql_port, rows, seconds, cost))
    command = [str(VIRTUOSO), "+foreground", "+configfile", str(ini)]
    log = (folder / "stdout.log").open("wb")
    process = subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    server = Virtuoso(folder, http_port, sql_port)
    with log, killed_at_end(process):
        wait_answering(server.endpoint, process, "Virtuoso")
        yield server
