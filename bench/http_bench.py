"""HTTP benchmark: hrgraph's endpoint and pages against rdflib-endpoint and the Oxigraph server.

    python bench/http_bench.py [--duration 10] [--triples 400000] [--out BENCHMARKS.md]
                               [--workers 1] [--no-synthetic] [--no-references]

Three servers, each started by this script on a free loopback port and stopped at the end (even on
errors), serve the same data one after the other: hrgraph (`hrgraph serve` on a release built from
the sources), rdflib-endpoint (in its own venv, bench/.peers/, fed the release's N-Triples) and the
Oxigraph server (`oxigraph serve-read-only` on a store loaded from the same N-Triples). wrk (2
threads, loopback) measures (a) a small lookup query at 16 connections, (b) an aggregate query at 8
connections and (c) hrgraph's resource pages (the peers have none), on the shipped data and on
synthetic data (bench/generate.py); plus each server's memory and its time from start to first
answer. Reference runs (bench/http_ceiling.py, hrgraph variants) measure what the Python layers
cost alone. Goals (issue 3): (a) hrgraph >= 4x rdflib-endpoint's throughput and >= 0.5x the
Oxigraph server's; (b) hrgraph's aggregate latency within 1.5x of the Oxigraph server's; no
errors under load. Results go to BENCHMARKS.md between <!-- bench:http:start --> and
<!-- bench:http:end -->.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from build_bench import machine, update_section  # noqa: E402
from generate import write  # noqa: E402

OUT = HERE / "out" / "http"
BIN = ROOT / ".venv" / "bin"
PEERS = HERE / ".peers"
RDFLIB_ENDPOINT = PEERS / "rdflib-endpoint"
#: The version the baseline (shared/reference/performance-baseline.md) measured.
RDFLIB_ENDPOINT_PINS = ["rdflib-endpoint[cli]==0.6.3", "rdflib==7.6.0"]
THREADS = 2
#: wrk's connections all come from 127.0.0.1, one client address to hrgraph, whose per-client
#: limit (`--max-client-queries`, 4 by default) would answer most of them 429: this measures many
#: clients, so the limit is raised to the most connections a measurement opens.
ONE_CLIENT = 16
JSON = "application/sparql-results+json"
HTML = "text/html"
TURTLE = "text/turtle"
PAGES_CYCLED = 20_000

LOOKUP = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?label WHERE { <https://w3id.org/hrgraph/id/city/%s> rdfs:label ?label }"""

AGGREGATE = """PREFIX hr: <https://w3id.org/hrgraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?city ?name (COUNT(DISTINCT ?program) AS ?programs)
       (COUNT(DISTINCT ?organization) AS ?organizations)
WHERE {
  ?program a hr:Program ;
    hr:city ?city .
  OPTIONAL { ?program hr:operatedBy ?organization }
  ?city rdfs:label ?name .
  FILTER(LANG(?name) = "en")
}
GROUP BY ?city ?name
ORDER BY DESC(?programs) ?name"""

# One wrk script for every run. Arguments: mode ("same" or "unique"), a salt, then the request
# paths (cycled). "unique" appends a SPARQL comment that differs on every request, so that no
# server can answer from a cache (hrgraph caches answers per release; rdflib-endpoint caches
# parsed queries); the salt keeps one run's requests distinct from another's.
LUA = r"""
local requests, unique, salt, counter = {}, false, "", 0
local paths = {}
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
end
function init(args)
  unique = args[1] == "unique"
  salt = args[2]
  for i = 3, #args do
    paths[#paths + 1] = args[i]
    requests[#requests + 1] = wrk.format(nil, args[i])
  end
end
function request()
  counter = counter + 1
  local i = (counter - 1) % #paths + 1
  if unique then
    return wrk.format(nil, paths[i] .. "%0A%23" .. salt .. "-" .. tid .. "-" .. counter)
  end
  return requests[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_JSON {\"requests\": %.0f, \"duration_us\": %.0f, \"bytes\": %.0f, \"connect\": %.0f, " ..
    "\"read\": %.0f, \"write\": %.0f, \"status\": %.0f, \"timeout\": %.0f, \"p50_us\": %.0f, " ..
    "\"p90_us\": %.0f, \"p99_us\": %.0f, \"mean_us\": %.1f, \"max_us\": %.0f}\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
"""


class BenchError(Exception):
    """The benchmark cannot go on (a server did not start, a check failed)."""


# --- servers -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def children_of() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    return children


def process_tree(root: int) -> list[int]:
    children, found, todo = children_of(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def memory_mib(root: int) -> tuple[float, float, int]:
    """(RSS, PSS, processes) of a process and all its descendants, in MiB. RSS (VmRSS) counts
    pages shared between processes (forked workers) once per process; PSS splits them."""
    rss = pss = 0
    pids = process_tree(root)
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, StopIteration):
            status = Path(f"/proc/{pid}/status").read_text()
            rss += int(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1])
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            pss += int(next(x for x in rollup.splitlines() if x.startswith("Pss:")).split()[1])
    return rss / 1024, pss / 1024, len(pids)


@dataclass
class Server:
    """A server process in its own session (so that it and its children are stopped together)."""

    name: str
    argv: list[str]
    port: int
    endpoints: list[str]  # candidate paths of the SPARQL endpoint, the first that answers wins
    log: Path
    env: dict[str, str] | None = None
    endpoint: str = ""
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    _log: IO[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log.open("wb")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            self.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
            cwd=ROOT,
            start_new_session=True,
        )
        RUNNING.append(self)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL after 10 s (rdflib-endpoint ignores
        SIGTERM while it evaluates), then SIGKILL to whatever of the group is left."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(10)
        time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
        if self in RUNNING:
            RUNNING.remove(self)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


RUNNING: list[Server] = []


def get(port: int, path: str, accept: str, timeout: float = 300) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Accept": accept})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def query_path(endpoint: str, query: str) -> str:
    return f"{endpoint}?query={quote(query, safe='')}"


def wait_first_answer(server: Server, lookup: str, limit: float = 600) -> float:
    """Poll (no fixed sleep) until the server answers the lookup query; seconds since start."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not server.alive():
            raise BenchError(f"{server.name} exited at start:\n{server.log_tail()}")
        for endpoint in server.endpoints:
            try:
                status, body = get(server.port, query_path(endpoint, lookup), JSON, timeout=60)
            except OSError:
                break  # not listening yet
            if status == 200 and b'"bindings"' in body:
                server.endpoint = endpoint
                return time.perf_counter() - server.started
        time.sleep(0.02)
    raise BenchError(f"{server.name} gave no answer in {limit:.0f} s:\n{server.log_tail()}")


# --- wrk ---------------------------------------------------------------------------------


@dataclass
class Run:
    """One wrk measurement."""

    label: str
    connections: int
    mode: str
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)  # from the server's access log
    excerpt: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def wrk(
    port: int, paths: list[str], accept: str, connections: int, duration: float, mode: str
) -> dict[str, float]:
    script = OUT / "bench.lua"
    if not script.exists() or script.read_text() != LUA:
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(LUA)
    salt = f"{random.randrange(1 << 30):x}"
    argv = [
        "wrk",
        f"-t{THREADS}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--timeout",
        "60s",
        "-H",
        f"Accept: {accept}",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
        "--",
        mode,
        salt,
        *paths,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 120)
    for line in done.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            result: dict[str, float] = json.loads(line.removeprefix("WRK_JSON "))
            return result
    raise BenchError(f"wrk gave no result (exit {done.returncode}):\n{done.stdout}{done.stderr}")


class Sampler:
    """Samples the memory of a process tree while a measurement runs; keeps the largest."""

    def __init__(self, pid: int) -> None:
        self.pid, self.rss, self.pss = pid, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.5)

    def sample(self) -> None:
        rss, pss, _ = memory_mib(self.pid)
        self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


_ACCESS = re.compile(r'"(GET [^"]*) HTTP/1\.[01]" (\d{3})')


def log_statuses(server: Server, offset: int) -> tuple[Counter[str], str]:
    """Status codes in the server's access log (uvicorn's) since `offset`, and an excerpt of the
    first failures and of any traceback."""
    with server.log.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    statuses: Counter[str] = Counter()
    bad: list[str] = []
    for line in text.splitlines():
        match = _ACCESS.search(line)
        if match:
            statuses[match.group(2)] += 1
            if not match.group(2).startswith("2") and len(bad) < 3:
                bad.append(line[:400])
        elif ("Traceback" in line or "ERROR" in line or "Error" in line) and len(bad) < 8:
            bad.append(line[:400])
    return statuses, "\n".join(bad)


def settle(server: Server, lookup: str) -> None:
    """Wait until the server answers again (rdflib-endpoint works off its backlog of queued
    queries after wrk has stopped), so that one measurement does not slow the next."""
    status, _ = get(server.port, query_path(server.endpoint, lookup), JSON, timeout=600)
    if status != 200:
        raise BenchError(f"{server.name} answered {status} after a measurement")


def measure(
    server: Server,
    label: str,
    paths: list[str],
    accept: str,
    connections: int,
    mode: str,
    duration: float,
    lookup: str,
    sampler: Sampler,
    warmup: float = 1.0,
) -> Run:
    if warmup:
        wrk(server.port, paths, accept, connections, warmup, mode)
        settle(server, lookup)
    offset = server.log.stat().st_size
    result = wrk(server.port, paths, accept, connections, duration, mode)
    settle(server, lookup)
    statuses, excerpt = log_statuses(server, offset)
    errors = {
        k: int(result[k]) for k in ("status", "connect", "read", "write", "timeout") if result[k]
    }
    if not server.alive():
        errors["server died"] = 1
        excerpt += "\n" + server.log_tail()
    run = Run(
        label,
        connections,
        mode,
        int(result["requests"]),
        result["duration_us"] / 1e6,
        result["p50_us"] / 1e3,
        result["p99_us"] / 1e3,
        errors,
        {k: v for k, v in statuses.items() if not k.startswith("2")},
        excerpt,
    )
    sampler.sample()
    print(
        f"  {server.name:16} {label:28} c={connections:<3} {mode:6} {run.rate:9.1f} req/s "
        f"p50 {run.p50_ms:8.2f} ms p99 {run.p99_ms:8.2f} ms errors {errors or 0}",
        file=sys.stderr,
    )
    return run


# --- datasets ----------------------------------------------------------------------------


@dataclass
class Dataset:
    key: str
    title: str
    sources: Path
    city: str
    triples: int = 0
    release: Path = Path()
    ntriples: Path = Path()
    oxigraph_store: Path = Path()
    build_seconds: float = 0.0
    built: bool = False
    load_seconds: float = 0.0
    pages: list[str] = field(default_factory=list)

    @property
    def work(self) -> Path:
        return OUT / self.key

    @property
    def lookup(self) -> str:
        return LOOKUP % self.city


def prepare(dataset: Dataset) -> None:
    """Build the hrgraph release (a no-op when it is up to date), write its N-Triples for the
    peers, load the Oxigraph server's store, and list the resource pages to cycle through."""
    releases = dataset.work / "releases"
    print(f"{dataset.key}: hrgraph build ...", file=sys.stderr)
    start = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "hrgraph"), "build", "--sources", str(dataset.sources), "--releases",
         str(releases)],
        capture_output=True, text=True, env=clean_env(), cwd=ROOT,
    )  # fmt: skip
    dataset.build_seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise BenchError(f"hrgraph build failed:\n{done.stdout}{done.stderr}")
    dataset.built = "is up to date" not in done.stdout + done.stderr
    dataset.release = (releases / os.readlink(releases / "current")).resolve()
    dataset.ntriples = dataset.work / "hrgraph.nt"
    with gzip.open(dataset.release / "hrgraph.nt.gz", "rb") as src:
        data = src.read()
    dataset.ntriples.write_bytes(data)
    dataset.triples = sum(1 for line in data.splitlines() if line.strip())
    dataset.oxigraph_store = dataset.work / "oxigraph-store"
    shutil.rmtree(dataset.oxigraph_store, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(
        [str(BIN / "oxigraph"), "load", "--location", str(dataset.oxigraph_store), "--file",
         str(dataset.ntriples)],
        check=True, capture_output=True,
    )  # fmt: skip
    dataset.load_seconds = time.perf_counter() - start

    import pyoxigraph as ox

    manifest = json.loads((dataset.release / "release.json").read_text())
    base = str(manifest.get("base_iri", "https://w3id.org/hrgraph/"))
    store = ox.Store.read_only(str(dataset.release / "store"))
    solutions = store.query(
        "SELECT DISTINCT ?s WHERE { ?s a ?type }", use_default_graph_as_union=True
    )
    assert isinstance(solutions, ox.QuerySolutions)
    subjects = sorted(
        {
            row["s"].value
            for row in solutions
            if isinstance(row["s"], ox.NamedNode) and row["s"].value.startswith(base + "id/")
        }
    )
    random.Random(2008).shuffle(subjects)
    dataset.pages = ["/" + s.removeprefix(base) for s in subjects[:PAGES_CYCLED]]
    del store


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("HRGRAPH_")}


# --- the servers' runs -------------------------------------------------------------------


@dataclass
class ServerResult:
    name: str
    first_answer: float = 0.0
    rss_idle: float = 0.0
    pss_idle: float = 0.0
    processes: int = 0
    rss_peak: float = 0.0
    pss_peak: float = 0.0
    endpoint: str = ""
    runs: dict[str, Run] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    pages_ok: bool = False
    aggregate_alone_ms: float = 0.0


def rows_of(body: bytes) -> list[tuple[str, ...]]:
    """SPARQL JSON results as sorted tuples of values (to compare the servers' answers)."""
    result = json.loads(body)
    names = result["head"]["vars"]
    return sorted(
        tuple(row.get(n, {}).get("value", "") for n in names)
        for row in result["results"]["bindings"]
    )


def start_server(server: Server, dataset: Dataset, hrgraph: bool) -> ServerResult:
    """Start a server and wait for its first answer; check its answers (and pages), take its
    idle memory, and time the aggregate query alone (best of three distinct requests)."""
    result = ServerResult(server.name)
    print(f"{dataset.key}: starting {server.name} ...", file=sys.stderr)
    server.start()
    result.first_answer = wait_first_answer(server, dataset.lookup)
    result.endpoint = server.endpoint
    for name, query in (("lookup", dataset.lookup), ("aggregate", AGGREGATE)):
        status, body = get(server.port, query_path(server.endpoint, query), JSON)
        if status != 200:
            raise BenchError(f"{server.name}: {name} answered {status}: {body[:500]!r}")
        result.answers[name] = rows_of(body)
    result.pages_ok = hrgraph
    if hrgraph:
        for accept in (HTML, TURTLE):
            offset = server.log.stat().st_size
            status, body = get(server.port, page_path(dataset), accept)
            if status != 200:  # recorded, and the pages are not measured
                result.pages_ok = False
                _, excerpt = log_statuses(server, offset)
                result.failures.append(
                    f"GET {page_path(dataset)} (Accept: {accept}) answered {status}; "
                    f"the pages were not measured. Server log:\n{excerpt}"
                )
    result.rss_idle, result.pss_idle, result.processes = memory_mib(server.pid)
    alone = []
    for n in range(3):
        path = query_path(server.endpoint, f"{AGGREGATE}\n# alone {n} {random.random()}")
        began = time.perf_counter()
        status, _ = get(server.port, path, JSON)
        alone.append(time.perf_counter() - began)
    result.aggregate_alone_ms = min(alone) * 1000
    return result


#: (label, Accept, connections, mode, warm-up seconds, hrgraph only), in the order run.
PLAN = [
    ("lookup_same", JSON, 16, "same", 1.0, False),
    ("lookup_unique", JSON, 16, "unique", 1.0, False),
    ("page_html", HTML, 16, "same", 1.0, True),
    ("page_turtle", TURTLE, 16, "same", 1.0, True),
    ("pages_html", HTML, 16, "same", 0.0, True),
    ("aggregate_same", JSON, 8, "same", 0.0, True),
    ("aggregate_unique", JSON, 8, "unique", 0.0, False),
]


def paths_for(label: str, server: Server, dataset: Dataset) -> list[str]:
    if label.startswith("lookup"):
        return [query_path(server.endpoint, dataset.lookup)]
    if label.startswith("aggregate"):
        return [query_path(server.endpoint, AGGREGATE)]
    if label == "pages_html":
        return dataset.pages
    return [page_path(dataset)]


def page_path(dataset: Dataset) -> str:
    return f"/id/city/{dataset.city}"


def servers_for(dataset: Dataset, workers: int) -> list[tuple[Server, bool]]:
    logs = dataset.work / "logs"
    hr_port, ox_port, rdf_port = free_port(), free_port(), free_port()
    hrgraph = Server(
        "hrgraph",
        [str(BIN / "hrgraph"), "serve", "--sources", str(dataset.sources), "--releases",
         str(dataset.work / "releases"), "--host", "127.0.0.1", "--port", str(hr_port),
         "--workers", str(workers), "--max-client-queries", str(ONE_CLIENT)],
        hr_port, ["/sparql"], logs / "hrgraph.log", env=clean_env(),
    )  # fmt: skip
    oxigraph = Server(
        "Oxigraph server",
        [str(BIN / "oxigraph"), "serve-read-only", "--location", str(dataset.oxigraph_store),
         "--bind", f"127.0.0.1:{ox_port}"],
        ox_port, ["/query"], logs / "oxigraph.log",
    )  # fmt: skip
    rdflib = Server(
        "rdflib-endpoint",
        [str(RDFLIB_ENDPOINT / "bin" / "rdflib-endpoint"), "serve", str(dataset.ntriples),
         "--host", "127.0.0.1", "--port", str(rdf_port)],
        rdf_port, ["/sparql", "/"], logs / "rdflib-endpoint.log",
    )  # fmt: skip
    return [(hrgraph, True), (oxigraph, False), (rdflib, False)]


def run_dataset(dataset: Dataset, duration: float, workers: int) -> dict[str, ServerResult]:
    """The three servers run side by side (started one after the other); each measurement runs
    on each server in turn, so that other load on the machine hits the three alike."""
    prepare(dataset)
    print(
        f"{dataset.key}: {dataset.triples:,} triples, {len(dataset.pages):,} pages",
        file=sys.stderr,
    )
    servers = servers_for(dataset, workers)
    results: dict[str, ServerResult] = {}
    try:
        for server, hrgraph in servers:
            results[server.name] = start_server(server, dataset, hrgraph)
        with contextlib.ExitStack() as stack:
            samplers = {s.name: stack.enter_context(Sampler(s.pid)) for s, _ in servers}
            for label, accept, connections, mode, warmup, hrgraph_only in PLAN:
                for server, hrgraph in servers:
                    result = results[server.name]
                    if (hrgraph_only and not hrgraph) or (
                        label.startswith("page") and not result.pages_ok
                    ):
                        continue
                    result.runs[label] = measure(
                        server, label, paths_for(label, server, dataset), accept, connections,
                        mode, duration, dataset.lookup, samplers[server.name], warmup,
                    )  # fmt: skip
        for name, sampler in samplers.items():
            results[name].rss_peak, results[name].pss_peak = sampler.rss, sampler.pss
    finally:
        for server, _ in servers:
            server.stop()
    return results


# --- reference runs (what the Python layers cost alone; hrgraph variants) -----------------


def server_stack(python: Path) -> str:
    """The HTTP stack uvicorn picks in a venv: httptools and uvloop when both are installed."""
    probe = (
        "import importlib.util as u; print(all(u.find_spec(m) for m in ('httptools', 'uvloop')))"
    )
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    return "httptools, uvloop" if done.stdout.strip() == "True" else "h11, asyncio"


def references(dataset: Dataset) -> list[tuple[str, list[str], dict[str, str]]]:
    """(title, argv without host and port, extra environment) of each reference server."""
    uvicorn = ["-m", "uvicorn", "--app-dir", str(HERE)]
    python, peer_python = BIN / "python", RDFLIB_ENDPOINT / "bin" / "python"
    ours, theirs = server_stack(python), server_stack(peer_python)
    serve = [str(BIN / "hrgraph"), "serve", "--sources", str(dataset.sources), "--releases",
             str(dataset.work / "releases"), "--max-client-queries", str(ONE_CLIENT)]  # fmt: skip
    store = {"HTTP_CEILING_STORE": str(dataset.release / "store")}
    rows: list[tuple[str, list[str], dict[str, str]]] = [
        ("hrgraph `--workers 1`", [*serve, "--workers", "1"], {}),
        (f"uvicorn + raw ASGI app, constant answer (hrgraph's venv: {ours})",
         [str(python), *uvicorn, "http_ceiling:constant"], {}),
    ]  # fmt: skip
    if theirs != ours:
        rows.append(
            (f"uvicorn + raw ASGI app, constant answer (rdflib-endpoint's venv: {theirs})",
             [str(peer_python), *uvicorn, "http_ceiling:constant"], {}),
        )  # fmt: skip
    rows += [
        ("FastAPI `async def` route, constant answer",
         [str(python), *uvicorn, "--factory", "http_ceiling:fastapi_async"], {}),
        ("FastAPI `def` route (thread pool, as hrgraph's /sparql), constant answer",
         [str(python), *uvicorn, "--factory", "http_ceiling:fastapi_constant"], {}),
        ("FastAPI `def` route + hrgraph's GZip and CORS middleware, constant answer",
         [str(python), *uvicorn, "--factory", "http_ceiling:fastapi_middleware"], {}),
        ("Starlette `async` route running the lookup on pyoxigraph in process (no checks, "
         "no cache)",
         [str(python), *uvicorn, "--factory", "http_ceiling:oxigraph_route"], store),
        ("hrgraph `--workers 2`", [*serve, "--workers", "2"], {}),
    ]  # fmt: skip
    if ours != "httptools, uvloop" and theirs == "httptools, uvloop":
        standard = {"PYTHONPATH": str(uvicorn_standard())}
        rows += [
            ("hrgraph with httptools and uvloop (uvicorn[standard]'s extras, taken from the "
             "rdflib-endpoint venv by PYTHONPATH)", serve, standard),
            ("hrgraph `--workers 2` with httptools and uvloop", [*serve, "--workers", "2"],
             standard),
        ]  # fmt: skip
    return rows


def uvicorn_standard() -> Path:
    """A folder holding only httptools and uvloop (links into the rdflib-endpoint venv)."""
    folder = OUT / "uvicorn-standard"
    folder.mkdir(parents=True, exist_ok=True)
    packages = next((RDFLIB_ENDPOINT / "lib").glob("python3*/site-packages"))
    for name in ("httptools", "uvloop"):
        link = folder / name
        if not link.exists():
            link.symlink_to(packages / name)
    return folder


def run_references(dataset: Dataset, duration: float) -> list[tuple[str, Run]]:
    rows: list[tuple[str, Run]] = []
    for title, argv, extra in references(dataset):
        port = free_port()
        hrgraph = argv[0].endswith("hrgraph")
        server = Server(
            title.split(" (")[0],
            [*argv, "--host", "127.0.0.1", "--port", str(port)],
            port,
            ["/sparql"],
            dataset.work / "logs" / f"reference-{len(rows)}.log",
            env={**clean_env(), **extra},
        )
        print(f"reference: {title} ...", file=sys.stderr)
        server.start()
        try:
            wait_first_answer(server, dataset.lookup)
            lookup = query_path("/sparql", dataset.lookup)
            with Sampler(server.pid) as sampler:
                run = measure(
                    server, "lookup_same", [lookup], JSON, 16, "same", duration,
                    dataset.lookup, sampler,
                )  # fmt: skip
            if not hrgraph:
                run.statuses = {}  # these apps answer every path; only wrk's errors count
            rows.append((title, run))
        finally:
            server.stop()
    return rows


# --- the report --------------------------------------------------------------------------


SERVERS = ["hrgraph", "Oxigraph server", "rdflib-endpoint"]


def ms(value: float) -> str:
    return f"{value:,.1f}" if value >= 10 else f"{value:,.2f}"


def cell(run: Run | None, latency: bool = False) -> str:
    if run is None:
        return "—"
    if run.requests == 0:
        return f"no answer in {run.seconds:.0f} s" + (
            f" **{run.error_count} errors**" if run.error_count else ""
        )
    text = f"{run.rate:,.0f}" if run.rate >= 10 else f"{run.rate:,.2f}"
    if latency:
        text += f" (p50 {ms(run.p50_ms)}, p99 {ms(run.p99_ms)})"
    if run.error_count:
        text += f" **{run.error_count} errors**"
    return text


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "—"


def run_ratio(a: Run | None, b: Run | None) -> str:
    """a's throughput over b's; when b answered nothing, the bound that follows."""
    if a is None or b is None:
        return "—"
    if b.requests == 0:
        return f"> {a.rate * b.seconds:.0f}x" if b.seconds else "—"
    return ratio(a.rate, b.rate)


def dataset_section(dataset: Dataset, results: dict[str, ServerResult], workers: int) -> list[str]:
    hr, ox, rdf = (results.get(name) for name in SERVERS)
    assert hr is not None and ox is not None and rdf is not None

    def run(result: ServerResult, key: str) -> Run | None:
        return result.runs.get(key)

    lines = [
        f"### {dataset.title}: {dataset.triples:,} triples",
        "",
        "Requests per second (higher is better); latencies in ms (p50, p99); "
        "ratios are hrgraph's throughput over the peer's (in the one-at-a-time row, the "
        "peer's time over hrgraph's: above 1 means hrgraph is faster).",
        "",
        "| measurement | connections | hrgraph | Oxigraph server | rdflib-endpoint "
        "| hrgraph / Oxigraph | hrgraph / rdflib-endpoint |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = [
        ("(a) lookup, identical requests", "lookup_same", 16),
        ("(a) lookup, every request distinct (no cache)", "lookup_unique", 16),
        ("(b) aggregate, every request distinct (no cache)", "aggregate_unique", 8),
        ("(b) aggregate, identical requests", "aggregate_same", 8),
        (f"(c) page /id/city/{dataset.city}, HTML", "page_html", 16),
        (f"(c) page /id/city/{dataset.city}, Turtle", "page_turtle", 16),
        (f"(c) pages of {len(dataset.pages):,} resources in turn, HTML", "pages_html", 16),
    ]
    for title, key, connections in rows:
        a, b, c = run(hr, key), run(ox, key), run(rdf, key)
        show_latency = key.startswith("aggregate") or key.startswith("lookup")
        lines.append(
            f"| {title} | {connections} | {cell(a, show_latency)} | {cell(b, show_latency)} "
            f"| {cell(c, show_latency)} "
            f"| {run_ratio(a, b)} | {run_ratio(a, c)} |"
        )
        if key == "aggregate_unique":
            alone = [x.aggregate_alone_ms for x in (hr, ox, rdf)]
            lines.append(
                "| (b) aggregate, one request at a time (best of 3 distinct requests), ms | 1 | "
                + " | ".join(ms(x) for x in alone)
                + f" | {ratio(alone[1], alone[0])} | {ratio(alone[2], alone[0])} |"
            )
    errors = [sum(r.error_count for r in x.runs.values()) for x in (hr, ox, rdf)]
    lines += [
        "| errors under load (non-2xx responses + socket errors, all runs) | | "
        + " | ".join(f"{e:,}" for e in errors)
        + " | | |",
        "| memory idle, RSS MiB (PSS; processes) | | "
        + " | ".join(f"{x.rss_idle:,.0f} ({x.pss_idle:,.0f}; {x.processes})" for x in (hr, ox, rdf))
        + " | | |",
        "| memory peak under load, RSS MiB (PSS) | | "
        + " | ".join(f"{x.rss_peak:,.0f} ({x.pss_peak:,.0f})" for x in (hr, ox, rdf))
        + " | | |",
        "| start to first answer, s | | "
        + " | ".join(f"{x.first_answer:.2f}" for x in (hr, ox, rdf))
        + " | | |",
        f"| preparation before start, s | | {dataset.build_seconds:.1f} (`hrgraph build`"
        + ("" if dataset.built else ": release up to date")
        + f") | {dataset.load_seconds:.1f} (`oxigraph load`) | — (parses at start) | | |",
        "",
    ]
    same = [x.name for x in (ox, rdf) if x.answers != hr.answers]
    lines.append(
        "Answers checked before the load: the three servers return the same rows for both queries."
        if not same
        else f"**Answers differ** from hrgraph's on: {', '.join(same)}."
    )
    lines.append("")
    failures = [
        (name, key, r)
        for name, x in zip(SERVERS, (hr, ox, rdf), strict=True)
        for key, r in x.runs.items()
        if r.error_count or r.statuses
    ]
    for name, key, r in failures:
        lines.append(
            f"- {name}, `{key}`: wrk errors {r.errors}, statuses in the server log {r.statuses}"
        )
        if r.excerpt:
            lines += ["", "  ```", *("  " + x for x in r.excerpt.splitlines()[:12]), "  ```"]
    for x in (hr, ox, rdf):
        for failure in x.failures:
            head, _, log = failure.partition("\n")
            lines.append(f"- {x.name}: {head}")
            if log.strip():
                lines += ["", "  ```", *("  " + y for y in log.splitlines()[:12]), "  ```"]
    if failures or any(x.failures for x in (hr, ox, rdf)):
        lines.append("")
    lines += goals(hr, ox, rdf)
    return lines


def goals(hr: ServerResult, ox: ServerResult, rdf: ServerResult) -> list[str]:
    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines = ["| goal | measured | |", "|---|---|---|"]
    for key, what in (("lookup_same", "identical"), ("lookup_unique", "distinct")):
        a, b, c = hr.runs.get(key), ox.runs.get(key), rdf.runs.get(key)
        for peer, run, factor in (("rdflib-endpoint", c, 4.0), ("Oxigraph server", b, 0.5)):
            goal = f"| (a) lookup ({what} requests) ≥ {factor:g}x {peer} "
            if a is None or run is None or not a.requests or not run.requests:
                lines.append(goal + "| not measured (no answers) | — |")
            else:
                shown = f"{a.rate / run.rate:.{1 if factor >= 1 else 2}f}x"
                lines.append(goal + f"| {shown} | {verdict(a.rate >= factor * run.rate)} |")
    a, b = hr.runs.get("aggregate_unique"), ox.runs.get("aggregate_unique")
    for name in ("p50", "p99"):
        goal = f"| (b) aggregate latency {name} ≤ 1.5x Oxigraph server's (distinct requests) "
        if a is None or b is None or not a.requests or not b.requests:
            lines.append(goal + "| not measured (a server gave no answer in the run) | — |")
            continue
        mine, theirs = (a.p50_ms, b.p50_ms) if name == "p50" else (a.p99_ms, b.p99_ms)
        lines.append(
            goal + f"| {ms(mine)} ms vs {ms(theirs)} ms: {mine / theirs:.2f}x "
            f"| {verdict(mine <= 1.5 * theirs)} |"
        )
    errors = sum(r.error_count for r in hr.runs.values())
    statuses = Counter[str]()
    for r in hr.runs.values():
        statuses.update(r.statuses)
    lines.append(
        f"| no errors under load (hrgraph, {len(hr.runs)} runs) | {errors} errors"
        + (f", non-2xx in its log: {dict(statuses)}" if statuses else "")
        + f" | {verdict(errors == 0 and not statuses)} |"
    )
    lines.append("")
    return lines


def report(
    datasets: list[tuple[Dataset, dict[str, ServerResult]]],
    references: list[tuple[str, Run]],
    duration: float,
    reference_duration: float,
    workers: int,
    load: str,
    state: str,
) -> str:
    hr_endpoint = "/sparql"
    rdflib_endpoint = next(
        (r["rdflib-endpoint"].endpoint for _, r in datasets if "rdflib-endpoint" in r), "/"
    )
    lines = [
        "## HTTP: SPARQL endpoint and resource pages",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make bench-http` "
        f"(`bench/http_bench.py`) on: {machine()}; wrk {wrk_version()}, rdflib-endpoint "
        f"{peer_version()}, oxigraph server {oxigraph_version()}; hrgraph {state}. "
        f"Load average (1, 5, 15 min) at the start: {load}.",
        "",
        "The three servers run side by side, each started by the script on a free loopback "
        "port (one after the other, so that each one's time to its first answer is its own), "
        "and each measurement runs on each server in turn, so that other load on the machine "
        "hits the three alike. Each server runs "
        f"with its defaults: hrgraph `hrgraph serve` (`--workers {workers}`, 2 query worker "
        f"processes; `--max-client-queries {ONE_CLIENT}`, because wrk's connections all come "
        "from one address, which the default per-client limit of 4 would answer 429) on its "
        "release; rdflib-endpoint `rdflib-endpoint serve hrgraph.nt` (its own "
        f"venv, default rdflib store; its endpoint is `{rdflib_endpoint}`); the Oxigraph server "
        "`oxigraph serve-read-only` on a store loaded from the same `hrgraph.nt` (endpoint "
        f"`/query`). hrgraph's endpoint is `{hr_endpoint}`. Load: wrk, {THREADS} threads, "
        f"{duration:g} s per measurement (after a 1 s warm-up for the lookups and pages), "
        "GET with the URL-encoded query and `Accept: application/sparql-results+json`. "
        "wrk and the servers share the machine's cores. 'Identical requests' repeat one "
        "URL: hrgraph answers them from its per-release answer cache after the first "
        "(rdflib-endpoint caches the parsed query; Oxigraph caches nothing). 'Every request "
        "distinct' appends a different SPARQL comment (`#salt-thread-n`) to each request, so "
        "that no cache applies and every request is parsed and evaluated. wrk's latencies are "
        "measured with a closed loop (no coordinated-omission correction). Memory is VmRSS "
        "summed over the server's process tree (hrgraph: server, forkserver, query workers, "
        "resource tracker); PSS, in brackets, shares the pages the forked workers have in "
        "common instead of counting them once per process.",
        "",
    ]
    for dataset, results in datasets:
        lines += dataset_section(dataset, results, workers)
    if references:
        base = references[0][1]
        lines += [
            "### Reference runs: the Python layers alone, and hrgraph variants",
            "",
            "The shipped data's lookup, identical requests, 16 connections, "
            f"{reference_duration:g} s each, right after the shipped-data servers. The apps "
            "are in `bench/http_ceiling.py`; every server runs under uvicorn with its access "
            "log on, as hrgraph does. The ratio is the first row's throughput (hrgraph with its "
            "defaults, measured again here) over the row's.",
            "",
            "| server | req/s (p50, p99 ms) | hrgraph / this |",
            "|---|---|---|",
        ]
        for title, run in references:
            lines.append(f"| {title} | {cell(run, True)} | {ratio(base.rate, run.rate)} |")
        lines.append("")
    lines += [
        "### Queries",
        "",
        "(a) lookup (the city is `whitehorse` on the shipped data, `city-0` on the synthetic):",
        "",
        "```sparql",
        LOOKUP % "whitehorse",
        "```",
        "",
        "(b) aggregate (programs and their organizations per city):",
        "",
        "```sparql",
        AGGREGATE,
        "```",
        "",
        "(c) resource pages: `GET /id/city/<slug>` with `Accept: text/html` and with "
        "`Accept: text/turtle`, and the HTML pages of up to "
        f"{PAGES_CYCLED:,} resources of the dataset requested in turn (a resource's first "
        "request renders it; hrgraph caches it afterwards). rdflib-endpoint and the Oxigraph "
        "server have no resource pages: they cannot serve (c), so it is measured for hrgraph "
        "only.",
        "",
        "Not measured: POST queries, gzip (wrk sends no `Accept-Encoding`), CONSTRUCT results, "
        "large streamed results, concurrency above 16 connections, `--workers` above "
        f"{workers} for hrgraph (except the lookup in the reference runs), rdflib-endpoint "
        "with `--store Oxigraph`, the remote backend, "
        "a release switch under load, and long runs (each figure is one run of "
        f"{duration:g} s).",
        "",
    ]
    return "\n".join(lines)


def git_state() -> str:
    """The commit measured, and whether the working tree had uncommitted changes in src/."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "src"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return f"at {commit or 'unknown'}" + (" with uncommitted changes in src/" if dirty else "")


def wrk_version() -> str:
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    match = re.search(r"wrk (\S+)", done.stdout + done.stderr)
    return match.group(1) if match else "unknown"


def peer_version() -> str:
    done = subprocess.run(
        [str(RDFLIB_ENDPOINT / "bin" / "python"), "-c",
         "from importlib.metadata import version as v; "
         "print(v('rdflib-endpoint'), 'with rdflib', v('rdflib'))"],
        capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip() or "unknown"


def oxigraph_version() -> str:
    from importlib.metadata import version

    try:
        return version("oxigraph")
    except Exception:
        return "unknown"


# --- setup and main ----------------------------------------------------------------------


def check_tools() -> None:
    if shutil.which("wrk") is None:
        print(
            "wrk (the HTTP load tool) is not installed. Install it, then run again:\n"
            "  Debian/Ubuntu:  sudo apt-get install -y wrk\n"
            "  macOS:          brew install wrk",
            file=sys.stderr,
        )
        sys.exit(2)
    if not (BIN / "oxigraph").exists():
        print("the Oxigraph server is missing from .venv: run `make setup`", file=sys.stderr)
        sys.exit(2)
    if not (RDFLIB_ENDPOINT / "bin" / "rdflib-endpoint").exists():
        print(f"installing {' '.join(RDFLIB_ENDPOINT_PINS)} in {RDFLIB_ENDPOINT} ...")
        try:
            subprocess.run([sys.executable, "-m", "venv", str(RDFLIB_ENDPOINT)], check=True)
            subprocess.run(
                [str(RDFLIB_ENDPOINT / "bin" / "python"), "-m", "pip", "install", "--quiet",
                 "--disable-pip-version-check", *RDFLIB_ENDPOINT_PINS],
                check=True,
            )  # fmt: skip
        except subprocess.CalledProcessError as error:
            print(f"could not install rdflib-endpoint ({error})", file=sys.stderr)
            sys.exit(2)


@contextlib.contextmanager
def stopping_servers() -> Iterator[None]:
    """Every server is stopped at the end, on errors, Ctrl-C and SIGTERM too."""

    def terminate(signum: int, _: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        for server in list(RUNNING):
            server.stop()
        signal.signal(signal.SIGTERM, previous)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--triples", type=int, default=400_000, help="synthetic data size")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="hrgraph serve --workers (default: hrgraph's, one per core)",
    )
    parser.add_argument("--no-synthetic", action="store_true", help="shipped data only")
    parser.add_argument("--no-references", action="store_true", help="skip the reference runs")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    check_tools()
    load = ", ".join(Path("/proc/loadavg").read_text().split()[:3])
    state_at_start = git_state()
    started = time.perf_counter()
    datasets = [Dataset("shipped", "Shipped data (sources: the repository)", ROOT, "whitehorse")]
    if not args.no_synthetic:
        synthetic = OUT / "synthetic" / "sources"
        datasets.append(
            Dataset(
                "synthetic",
                f"Synthetic data (`bench/generate.py`, --triples {args.triples})",
                synthetic,
                "city-0",
            )
        )
    results: list[tuple[Dataset, dict[str, ServerResult]]] = []
    references: list[tuple[str, Run]] = []
    reference_duration = max(3.0, args.duration / 2)
    try:
        with stopping_servers():
            for dataset in datasets:
                if dataset.key == "synthetic":
                    print(f"generating {args.triples:,} synthetic triples ...", file=sys.stderr)
                    write(dataset.sources, args.triples)
                results.append((dataset, run_dataset(dataset, args.duration, args.workers)))
                if dataset.key == "shipped" and not args.no_references:
                    references = run_references(dataset, reference_duration)
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        sys.exit(1)
    load += "; at the end: " + ", ".join(Path("/proc/loadavg").read_text().split()[:3])
    state = git_state()
    if state != state_at_start:
        state = f"{state_at_start} at the start, {state} at the end"
    text = report(results, references, args.duration, reference_duration, args.workers, load, state)
    update_section(args.out, "http", text)
    print(text)
    print(f"done in {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
