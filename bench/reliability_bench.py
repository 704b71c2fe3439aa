"""Reliability benchmark: a soak of the public endpoint, and the attacks it must withstand.

    python bench/reliability_bench.py [--code DIR] [--label before|after|NAME] [--duration 600]
                                      [--only soak,a,b,c,d,e,f,g] [--memory-cap-gib 6] [--render]

`hrgraph serve` runs as a real subprocess, with its default settings, on a free loopback port,
over a release of the shipped data (`--sources`, default this checkout) built by the measured code
into a temporary folder. `--code DIR` measures another checkout of the code: its `src/` goes first
on the server's PYTHONPATH (same venv, same dependencies), so `--code /tmp/hrgraph-before --label
before` measures an older commit (`git worktree add /tmp/hrgraph-before <commit>`). Every part
gets a fresh server:

- soak: 32 clients for --duration seconds of a mixed workload (cached and distinct lookups, an
  aggregate, resource pages in HTML and Turtle, the downloads listing and a download, the query
  workbench, ~1% expensive queries), with the server tree's memory, processes and file
  descriptors sampled every 10 s;
- (a) a query whose memory grows without bound; (b) a cheap query while 4 expensive ones hold the
  query workers; (c) distinct GETs with 60 KB query strings (memory, access log bytes); (d) 200
  slowloris connections; (e) a 50 MB header section; (f) 20 connections each sending 20 MB of
  unfinished headers; (g) SIGTERM during a long query, and SIGKILL of the parent.

Every client connects from its own loopback address (127.0.x.y, all of 127/8 reaches the loopback
interface), so the server sees distinct clients where a real one would. Every loop is bounded in
time and count; a server whose process tree passes --memory-cap-gib of RSS is killed by the
benchmark, and that is recorded as the figure. Everything started is stopped at the end, on
errors, Ctrl-C and SIGTERM too.

Results are kept as JSON: bench/results/reliability-<label>.json for the labels `before` and
`after`, which are rendered side by side (with after/before ratios) into BENCHMARKS.md between
<!-- bench:reliability:start --> and <!-- bench:reliability:end -->; any other label (e.g. `smoke`)
goes to bench/out/reliability/ and its table is printed, BENCHMARKS.md untouched. `--only` runs
some parts again into the label's results of the same commit; `--render` measures nothing and
renders the saved results again.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from build_bench import machine, update_section  # noqa: E402
from http_bench import AGGREGATE, free_port  # noqa: E402  (the HTTP benchmark's aggregate)

PYTHON = ROOT / ".venv" / "bin" / "python"
RESULTS = HERE / "results"
SCRATCH = HERE / "out" / "reliability"
RENDERED = ("before", "after")
PARTS = ("soak", "a", "b", "c", "d", "e", "f", "g", "h")

JSON = "application/sparql-results+json"
HTML = "text/html"
TURTLE = "text/turtle"
MIB = 1024 * 1024
BASE = "https://w3id.org/hrgraph/"

PREFIXES = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
LOOKUP = PREFIXES + "SELECT ?label WHERE { <" + BASE + "id/city/%s> rdfs:label ?label }"
#: A lookup whose answer is new on every request (the bound literal changes).
DISTINCT_LOOKUP = (
    PREFIXES + "SELECT ?label ?tag WHERE { <" + BASE + 'id/city/%s> rdfs:label ?label BIND("%s" '
    "AS ?tag) }"
)
#: The soak's expensive query: a join of every typed subject with every triple (~0.4 s alone).
SOAK_EXPENSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a a ?c . ?d ?e ?f }"
#: (a) Every pair of triples, sorted: the engine must hold all of them in memory.
HUNGRY = "SELECT * WHERE { ?s ?p ?o . ?a ?b ?c } ORDER BY ?o ?c"
#: (b), (g) Constant memory, runs for ever (every triple of triples): CPU until the time limit.
LONG = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
CHEAP = "ASK {}"

#: Soak workload: (kind, weight in percent of requests).
WORKLOAD: tuple[tuple[str, int], ...] = (
    ("lookup, cached", 33),
    ("lookup, distinct", 16),
    ("aggregate, distinct", 5),
    ("page HTML", 17),
    ("page Turtle", 10),
    ("downloads listing", 5),
    ("download", 3),
    ("workbench HTML", 10),
    ("expensive", 1),
)

STOP = threading.Event()


class BenchError(Exception):
    """The benchmark cannot go on (the release could not be built, a server did not start)."""


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- processes, memory, sockets ----------------------------------------------------------


def session_pids(sid: int) -> list[int]:
    """Live processes of a session (the server was started in its own): unlike the process
    tree, this still finds the workers once their parent is gone."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
            pids.append(int(entry))
    return pids


PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / MIB


def rss_fast(pids: list[int]) -> tuple[float, float]:
    """(total RSS, largest process's RSS) in MiB, from statm (cheap enough to poll)."""
    total = largest = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_MIB
            total += rss
            largest = max(largest, rss)
    return total, largest


@dataclass
class Sample:
    """The server's whole process tree at one moment (MiB; processes; open descriptors)."""

    t: float
    rss: float
    pss: float
    processes: int
    fds: int
    largest: float


def sample_session(sid: int, t: float = 0.0) -> Sample:
    rss = pss = largest = 0.0
    fds = 0
    pids = session_pids(sid)
    for pid in pids:
        with contextlib.suppress(OSError, ValueError):
            mine = 0.0
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    mine = int(line.split()[1]) / 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) / 1024
            rss += mine
            largest = max(largest, mine)
            fds += len(os.listdir(f"/proc/{pid}/fd"))
    return Sample(round(t, 1), rss, pss, len(pids), fds, largest)


def tcp_entries(port: int) -> list[tuple[int, int, int]]:
    """(remote port, state, inode) of the IPv4 sockets whose local port is `port`."""
    found = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(name).read_text().splitlines()[1:]:
                parts = line.split()
                local, remote, state, inode = parts[1], parts[2], parts[3], parts[9]
                if int(local.rsplit(":", 1)[1], 16) == port:
                    found.append((int(remote.rsplit(":", 1)[1], 16), int(state, 16), int(inode)))
    return found


LISTEN, ESTABLISHED = 0x0A, 0x01


def socket_owners(pids: list[int]) -> dict[int, list[int]]:
    """inode -> the processes that hold a descriptor on that socket."""
    owners: dict[int, list[int]] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        owners.setdefault(int(target[8:-1]), []).append(pid)
    return owners


# --- the server --------------------------------------------------------------------------


@dataclass
class Context:
    code: Path
    sources: Path
    work: Path
    releases: Path
    env: dict[str, str]
    cap_mib: float
    salt: str = field(default_factory=lambda: f"{random.randrange(1 << 30):x}")
    cities: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    download: str = ""


class Server:
    """`hrgraph serve` in its own session, stdout (the access log) and stderr to files."""

    def __init__(
        self, ctx: Context, name: str, port: int | None = None, workers: int | None = None
    ) -> None:
        self.ctx, self.name = ctx, name
        self.port = port or free_port()
        self.workers = workers
        self.out = ctx.work / "logs" / f"{name}.out"
        self.err = ctx.work / "logs" / f"{name}.err"
        self.process: subprocess.Popen[bytes] | None = None
        self.sid = 0
        self.peak_rss = self.peak_largest = 0.0
        self.killed: str | None = None  # why the benchmark killed it (the memory cap)
        self.started = 0.0
        self._files: list[IO[bytes]] = []

    def argv(self) -> list[str]:
        argv = [str(PYTHON), "-m", "hrgraph", "serve", "--sources", str(self.ctx.sources)]
        argv += ["--releases", str(self.ctx.releases), "--host", "127.0.0.1"]
        argv += ["--port", str(self.port)]
        if self.workers is not None:
            argv += ["--workers", str(self.workers)]
        return argv

    def start(self) -> Server:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._files = [self.out.open("wb"), self.err.open("wb")]
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            self.argv(),
            stdout=self._files[0],
            stderr=self._files[1],
            stdin=subprocess.DEVNULL,
            env=self.ctx.env,
            cwd=self.ctx.work,
            start_new_session=True,
        )
        self.sid = self.process.pid
        RUNNING.append(self)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pids(self) -> list[int]:
        return session_pids(self.sid) if self.sid else []

    def sample(self, t: float = 0.0) -> Sample:
        return sample_session(self.sid, t)

    def reset_peak(self) -> None:
        self.peak_rss, self.peak_largest = rss_fast(self.pids())

    def observe(self) -> None:
        """Called by the guard: keep the peak, and kill the server past the memory cap."""
        total, largest = rss_fast(self.pids())
        self.peak_rss, self.peak_largest = (
            max(self.peak_rss, total),
            max(self.peak_largest, largest),
        )
        if total > self.ctx.cap_mib and self.killed is None:
            self.killed = (
                f"killed by the benchmark at {self.ctx.cap_mib / 1024:g} GiB ({total:,.0f} MiB RSS)"
            )
            log(f"{self.name}: {self.killed}")
            self.kill_all()

    def log_bytes(self) -> int:
        return sum(p.stat().st_size for p in (self.out, self.err) if p.exists())

    def log_tail(self, lines: int = 15) -> str:
        text = ""
        for path in (self.err, self.out):
            with contextlib.suppress(OSError), path.open("rb") as handle:
                handle.seek(max(0, path.stat().st_size - 8192))
                text += handle.read().decode(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, limit: float = 120) -> float:
        """Poll until the server answers a lookup; seconds since start."""
        deadline = time.monotonic() + limit
        path = query_path(LOOKUP % "whitehorse")
        while time.monotonic() < deadline and not STOP.is_set():
            if not self.alive():
                raise BenchError(f"{self.name} exited at start:\n{self.log_tail()}")
            if fetch(self.port, path, timeout=30).status == "200":
                return time.monotonic() - self.started
            time.sleep(0.1)
        raise BenchError(f"{self.name} gave no answer in {limit:.0f} s:\n{self.log_tail()}")

    def kill_all(self) -> None:
        """SIGKILL to the server's group and to every process left in its session."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.sid, signal.SIGKILL)
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM to the group, SIGKILL after 15 s; then whatever is left of the session."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.sid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(15)
        self.kill_all()
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.1)
        for handle in self._files:
            handle.close()
        self._files = []
        for path in (self.out, self.err):  # (c) writes gigabytes of access log: keep a tail
            with contextlib.suppress(OSError):
                if path.stat().st_size > 16 * MIB:
                    with path.open("rb") as handle:
                        handle.seek(-MIB, os.SEEK_END)
                        tail = handle.read()
                    path.write_bytes(b"[... truncated by the benchmark ...]\n" + tail)
        if self in RUNNING:
            RUNNING.remove(self)


RUNNING: list[Server] = []


class Guard(threading.Thread):
    """Polls every running server's process tree: keeps its peak RSS, enforces the cap."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.interval = 0.1
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.interval):
            for server in list(RUNNING):
                with contextlib.suppress(Exception):
                    server.observe()

    def stop(self) -> None:
        self._done.set()
        self.join(5)


@contextlib.contextmanager
def serving(ctx: Context, name: str, workers: int | None = None) -> Iterator[Server]:
    server = Server(ctx, name, workers=workers).start()
    try:
        server.wait_ready()
        wait_accepting(server)
        server.reset_peak()
        yield server
    finally:
        server.stop()


# --- HTTP --------------------------------------------------------------------------------


def query_path(query: str) -> str:
    return f"/sparql?query={quote(query, safe='')}"


@dataclass
class Outcome:
    status: str  # "200", or what went wrong: "timeout", "reset", "closed", "refused", ...
    seconds: float
    body: bytes = b""


def failure(error: BaseException) -> str:
    if isinstance(error, http.client.RemoteDisconnected | httpx.RemoteProtocolError):
        return "closed"  # (RemoteDisconnected is a ConnectionResetError)
    if isinstance(error, TimeoutError | httpx.TimeoutException):
        return "timeout"
    if isinstance(error, ConnectionRefusedError | httpx.ConnectError):
        return "refused"
    if isinstance(error, ConnectionResetError | BrokenPipeError | httpx.ReadError):
        return "reset"
    return type(error).__name__


def fetch(
    port: int,
    path: str,
    *,
    accept: str = JSON,
    source: str = "127.0.0.1",
    timeout: float = 60,
    connection: http.client.HTTPConnection | None = None,
) -> Outcome:
    """One GET on a fresh connection (or on `connection`), the body read whole."""
    conn = connection or http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout, source_address=(source, 0)
    )
    began = time.monotonic()
    try:
        conn.request("GET", path, headers={"Accept": accept})
        response = conn.getresponse()
        body = response.read()
        return Outcome(str(response.status), time.monotonic() - began, body)
    except (OSError, http.client.HTTPException) as error:
        return Outcome(failure(error), time.monotonic() - began)
    finally:
        conn.close()


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def ok(status: str) -> bool:
    return status[:1] in ("2", "3")


# --- the release and what the workload requests -------------------------------------------


def build_release(ctx: Context) -> float:
    log(f"building the release of {ctx.sources} with the code of {ctx.code} ...")
    began = time.monotonic()
    done = subprocess.run(
        [str(PYTHON), "-m", "hrgraph", "build", "--sources", str(ctx.sources), "--releases",
         str(ctx.releases)],
        capture_output=True, text=True, env=ctx.env, cwd=ctx.work, timeout=900,
    )  # fmt: skip
    if done.returncode != 0:
        raise BenchError(f"hrgraph build failed:\n{done.stdout}{done.stderr}")
    return time.monotonic() - began


def discover(ctx: Context, server: Server) -> None:
    """Resource pages (from the sitemap), the cities, and the current release's download."""
    sitemap = fetch(server.port, "/sitemap.xml", accept="application/xml")
    paths = re.findall(rb"<loc>https?://[^/<]+(/[^<]*)</loc>", sitemap.body)
    ctx.pages = sorted({p.decode() for p in paths if p.startswith(b"/id/")})
    ctx.cities = sorted({p.rsplit("/", 1)[1] for p in ctx.pages if p.startswith("/id/city/")})
    listing = fetch(server.port, "/downloads/?format=json")
    current = json.loads(listing.body)["current"] if listing.status == "200" else ""
    ctx.download = f"/downloads/{current}/hrgraph.nt.gz"
    if not ctx.pages or not ctx.cities or not current:
        raise BenchError(
            f"could not list the pages ({sitemap.status}) or downloads ({listing.status})"
        )


def soak_request(ctx: Context, kind: str, rng: random.Random, tag: str) -> tuple[str, str]:
    """(path, Accept) of one request of `kind`; `tag` makes distinct requests distinct."""
    if kind == "lookup, cached":
        return query_path(LOOKUP % rng.choice(ctx.cities)), JSON
    if kind == "lookup, distinct":
        return query_path(DISTINCT_LOOKUP % (rng.choice(ctx.cities), tag)), JSON
    if kind == "aggregate, distinct":
        return query_path(f"{AGGREGATE}\n# {tag}"), JSON
    if kind == "page HTML":
        return rng.choice(ctx.pages), HTML
    if kind == "page Turtle":
        return rng.choice(ctx.pages), TURTLE
    if kind == "downloads listing":
        return "/downloads/", HTML
    if kind == "download":
        return ctx.download, "*/*"
    if kind == "workbench HTML":
        return "/sparql", HTML
    if kind == "expensive":
        return query_path(f"{SOAK_EXPENSIVE}\n# {tag}"), JSON
    raise ValueError(kind)


# --- soak --------------------------------------------------------------------------------


@dataclass
class ClientLog:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[tuple[str, str]] = field(default_factory=Counter)


def soak_client(ctx: Context, port: int, index: int, deadline: float, record: ClientLog) -> None:
    rng = random.Random(f"{ctx.salt}-{index}")
    kinds = [k for k, _ in WORKLOAD]
    weights = [w for _, w in WORKLOAD]
    transport = httpx.HTTPTransport(local_address=f"127.0.1.{index + 1}")
    limits = httpx.Limits(max_connections=1, keepalive_expiry=2.0)
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}", transport=transport, timeout=60, limits=limits
    ) as client:
        n = 0
        while time.monotonic() < deadline and not STOP.is_set():
            n += 1
            kind = rng.choices(kinds, weights)[0]
            path, accept = soak_request(ctx, kind, rng, f"{ctx.salt}-{index}-{n}")
            began = time.monotonic()
            try:
                status = str(client.get(path, headers={"Accept": accept}).status_code)
            except httpx.HTTPError as error:
                status = failure(error)
                time.sleep(0.05)  # a refused or dropped connection is not retried in a spin
            record.latencies.setdefault(kind, []).append(time.monotonic() - began)
            record.statuses[kind, status] += 1


def least_squares_slope(points: list[tuple[float, float]]) -> float | None:
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return None if den == 0 else sum((x - mx) * (y - my) for x, y in points) / den


def expensive_alone(server: Server, ctx: Context) -> float | None:
    """The soak's expensive query alone: best of 3 distinct requests, seconds."""
    times = []
    for n in range(3):
        done = fetch(server.port, query_path(f"{SOAK_EXPENSIVE}\n# alone {ctx.salt} {n}"))
        if done.status == "200":
            times.append(done.seconds)
    return min(times) if times else None


def run_soak(ctx: Context, duration: float, clients: int, guard: Guard) -> dict[str, Any]:
    with serving(ctx, "soak") as server:
        discover(ctx, server)
        alone = expensive_alone(server, ctx)
        log(f"soak: {clients} clients for {duration:g} s (expensive query alone: {alone} s) ...")
        guard.interval = 0.5
        records = [ClientLog() for _ in range(clients)]
        began = time.monotonic()
        deadline = began + duration
        threads = [
            threading.Thread(
                target=soak_client, args=(ctx, server.port, i, deadline, records[i]), daemon=True
            )
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        samples = [server.sample(0.0)]
        while time.monotonic() < deadline and not STOP.is_set() and server.alive():
            time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))
            samples.append(server.sample(time.monotonic() - began))
            last = samples[-1]
            log(
                f"soak: t={last.t:.0f} s RSS {last.rss:,.0f} MiB PSS {last.pss:,.0f} MiB "
                f"processes {last.processes} fds {last.fds}"
            )
        for thread in threads:
            thread.join(max(1.0, deadline + 70 - time.monotonic()))
        elapsed = time.monotonic() - began
        guard.interval = 0.1
        alive = server.alive()
        killed = server.killed
    latencies: dict[str, list[float]] = {}
    statuses: Counter[tuple[str, str]] = Counter()
    for record in records:
        for kind, values in record.latencies.items():
            latencies.setdefault(kind, []).extend(values)
        statuses.update(record.statuses)
    kinds = {}
    for kind, _ in WORKLOAD:
        values = latencies.get(kind, [])
        kinds[kind] = {
            "requests": len(values),
            "p50_ms": ms(percentile(values, 50)),
            "p99_ms": ms(percentile(values, 99)),
            "statuses": {s: n for (k, s), n in sorted(statuses.items()) if k == kind},
        }
    errors: Counter[str] = Counter()
    for (_, status), n in statuses.items():
        if not ok(status):
            errors[status] += n
    half = [s for s in samples if s.t >= duration / 2 - 0.5]
    growth: dict[str, float | None] = {}
    for name in ("rss", "pss"):
        points = [(s.t / 60, getattr(s, name)) for s in half]
        slope = least_squares_slope(points)
        growth[name] = getattr(half[-1], name) - getattr(half[0], name) if len(half) > 1 else None
        growth[f"{name}_per_min"] = slope
    total = sum(statuses.values())
    return {
        "duration": round(elapsed, 1),
        "clients": clients,
        "requests": total,
        "rate": total / elapsed if elapsed else 0.0,
        "expensive_alone_ms": ms(alone),
        "kinds": kinds,
        "errors": dict(errors.most_common()),
        "samples": [asdict(s) for s in samples],
        "growth": growth,
        "alive_at_end": alive,
        "killed": killed,
    }


# --- attacks -----------------------------------------------------------------------------


def run_in_thread(target: Callable[[], Outcome]) -> tuple[threading.Thread, list[Outcome]]:
    box: list[Outcome] = []
    thread = threading.Thread(target=lambda: box.append(target()), daemon=True)
    thread.start()
    return thread, box


def attack_hungry(ctx: Context) -> dict[str, Any]:
    """(a) The memory-hungry query: peak RSS of the tree while it runs, and what it answers."""
    with serving(ctx, "a-hungry") as server:
        before = server.sample()
        log("(a) memory-hungry query ...")
        thread, box = run_in_thread(
            lambda: fetch(server.port, query_path(HUNGRY), source="127.0.8.1", timeout=120)
        )
        thread.join(130)
        outcome = box[0] if box else Outcome("no answer in 130 s", 130.0)
        time.sleep(2)
        after = server.sample() if server.alive() else None
        answers = server.alive() and fetch(server.port, query_path(CHEAP)).status == "200"
        return {
            "status": outcome.status,
            "seconds": round(outcome.seconds, 2),
            "message": outcome.body[:300].decode(errors="replace"),
            "rss_before": before.rss,
            "largest_before": before.largest,
            "peak_rss": server.peak_rss,
            "peak_largest": server.peak_largest,
            "rss_after": after.rss if after else None,
            "killed": server.killed,
            "answers_after": answers,
        }


def server_processes(server: Server) -> list[int]:
    """The processes that accept connections: hold the listening socket (not the supervisor,
    which holds it too when there are several)."""
    pids = server.pids()
    listening = {inode for _, state, inode in tcp_entries(server.port) if state == LISTEN}
    owners = socket_owners(pids)
    holders = sorted({pid for inode in listening for pid in owners.get(inode, [])})
    if len(holders) > 1 and server.pid in holders:
        holders.remove(server.pid)
    return holders


def connection_owners(server: Server, ports: list[int], limit: float = 3.0) -> dict[int, int]:
    """client port -> the server process that accepted that connection."""
    deadline = time.monotonic() + limit
    found: dict[int, int] = {}
    while time.monotonic() < deadline:
        entries = {remote: inode for remote, _, inode in tcp_entries(server.port) if inode}
        owners = socket_owners(server.pids())
        for port in ports:
            inode = entries.get(port)
            if inode and owners.get(inode):
                found[port] = owners[inode][0]
        if len(found) == len(ports):
            break
        time.sleep(0.05)
    return found


def open_connection(
    server: Server, source: str, timeout: float = 120
) -> tuple[socket.socket, int | None]:
    """A new connection, and the server process that accepted it (None: none did in 3 s)."""
    sock = socket.create_connection(
        ("127.0.0.1", server.port), timeout=timeout, source_address=(source, 0)
    )
    port = sock.getsockname()[1]
    return sock, connection_owners(server, [port]).get(port)


def wait_accepting(server: Server, limit: float = 60) -> None:
    """Until every server process has accepted a connection. With several, the first answer
    comes from whichever started first; another may still be starting its application (and
    accepts nothing until it has)."""
    processes = set(server_processes(server) or [server.pid])
    seen: set[int] = set()
    deadline = time.monotonic() + limit
    while not processes <= seen and time.monotonic() < deadline and not STOP.is_set():
        sock, owner = open_connection(server, "127.0.0.1", timeout=10)
        sock.close()
        if owner is not None:
            seen.add(owner)
        time.sleep(0.05)
    if not processes <= seen:
        log(f"{server.name}: {len(processes - seen)} server process(es) accepted nothing")


def balanced_connections(
    server: Server, count: int, source: str, attempts: int = 200
) -> tuple[list[socket.socket], list[int]]:
    """`count` connections spread evenly over the server processes, and the number each got.
    The kernel hands a new connection to whichever process accepts first: one that lands on a
    process that has its share already is closed, and another is made."""
    processes = server_processes(server) or [server.pid]
    most = math.ceil(count / len(processes))
    kept: list[socket.socket] = []
    per: Counter[int] = Counter()
    for _ in range(attempts):
        if len(kept) == count or STOP.is_set():
            break
        sock, owner = open_connection(server, source)
        if owner is not None and per[owner] < most:
            kept.append(sock)
            per[owner] += 1
        else:
            sock.close()
    while len(kept) < count:  # could not balance: take what comes
        sock, owner = open_connection(server, source)
        kept.append(sock)
        per[owner or 0] += 1
    split = sorted((per.get(p, 0) for p in processes), reverse=True)
    return kept, split


def on_socket(sock: socket.socket, port: int, path: str, timeout: float) -> Callable[[], Outcome]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    sock.settimeout(timeout)
    conn.sock = sock
    return lambda: fetch(port, path, connection=conn)


def attack_starvation(ctx: Context) -> dict[str, Any]:
    """(b) 4 expensive queries hold the query workers; cheap queries from other clients (one
    every 0.5 s for 20 s, each from its own address) measure the wait."""
    with serving(ctx, "b-starvation") as server:
        log("(b) starvation: 4 expensive queries, then cheap ones ...")
        socks, split = balanced_connections(server, 4, "127.0.0.2")
        expensive = [
            run_in_thread(on_socket(s, server.port, query_path(f"{LONG}\n# {ctx.salt} {i}"), 90))
            for i, s in enumerate(socks)
        ]
        time.sleep(1.0)
        cheap = []
        for i in range(40):
            if STOP.is_set():
                break
            path = query_path(f"{CHEAP}\n# {ctx.salt} {i}")
            cheap.append(
                run_in_thread(partial(fetch, server.port, path, source=f"127.0.2.{i + 1}"))
            )
            time.sleep(0.5)
        deadline = time.monotonic() + 90
        for thread, _ in cheap + expensive:
            thread.join(max(0.1, deadline - time.monotonic()))
        cheap_outcomes = [box[0] for _, box in cheap if box]
        expensive_outcomes = [box[0] for _, box in expensive if box]
        seconds = [o.seconds for o in cheap_outcomes]
        return {
            "split": split,
            "expensive_statuses": dict(Counter(o.status for o in expensive_outcomes)),
            "expensive_seconds": [round(o.seconds, 1) for o in expensive_outcomes],
            "cheap_sent": len(cheap),
            "cheap_statuses": dict(Counter(o.status for o in cheap_outcomes)),
            "cheap_p50_ms": ms(percentile(seconds, 50)),
            "cheap_p99_ms": ms(percentile(seconds, 99)),
            "cheap_max_ms": ms(max(seconds) if seconds else None),
            "killed": server.killed,
        }


class KeepAlive:
    """GETs on one keep-alive connection from `source` (http.client: far less client CPU than
    httpx for 60 KB URLs). A request that fails on a reused connection before any answer (the
    server closed it while idle) is sent once more on a new one, as browsers do."""

    def __init__(self, port: int, source: str, timeout: float = 60) -> None:
        self.port, self.source, self.timeout = port, source, timeout
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str, accept: str = JSON) -> str:
        for attempt in range(2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.timeout, source_address=(self.source, 0)
                )
            try:
                self.conn.request("GET", path, headers={"Accept": accept})
                response = self.conn.getresponse()
                response.read()
                if response.will_close:
                    self.close()
                return str(response.status)
            except (OSError, http.client.HTTPException) as error:
                self.close()
                stale = isinstance(error, http.client.RemoteDisconnected | BrokenPipeError)
                if not (reused and stale and attempt == 0):
                    return failure(error)
        return "unreachable"

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def long_url_client(
    port: int,
    index: int,
    deadline: float,
    budget: list[int],
    statuses: Counter[str],
    size: int = 60_000,
) -> None:
    client = KeepAlive(port, f"127.0.3.{index + 1}")
    n = 0
    try:
        while time.monotonic() < deadline and not STOP.is_set() and budget[index] > 0:
            budget[index] -= 1
            n += 1
            path = query_path(f"{CHEAP}\n# {index}-{n}-{random.randrange(1 << 40):x} ")
            path += "x" * (size - len(path) + len("/sparql?"))  # `size` bytes of query string
            status = client.get(path)
            if not ok(status) and not status.isdigit():
                time.sleep(0.05)  # a refused or dropped connection is not retried in a spin
            statuses[status] += 1
    finally:
        client.close()


def attack_long_urls(
    ctx: Context, seconds: float, size: int = 60_000, part: str = "c"
) -> dict[str, Any]:
    """(c) Cheap GETs, each distinct, with 60 KB query strings, from 8 clients; (h) the same
    with 30 KB, under the default max_url_bytes, so that they reach the caches."""
    with serving(ctx, f"{part}-long-urls") as server:
        before = server.sample()
        logged = server.log_bytes()
        log(f"({part}) distinct GETs with {size // 1000} KB query strings for {seconds:g} s ...")
        clients, budget = 8, [12_500] * 8  # at most 100,000 requests
        statuses: list[Counter[str]] = [Counter() for _ in range(clients)]
        began = time.monotonic()
        deadline = began + seconds
        threads = [
            threading.Thread(
                target=long_url_client,
                args=(server.port, i, deadline, budget, statuses[i], size),
                daemon=True,
            )
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(1.0, deadline + 70 - time.monotonic()))
        elapsed = time.monotonic() - began
        alive = server.alive()
        after = server.sample() if alive else None
        written = server.log_bytes() - logged
        time.sleep(5)
        idle = server.sample() if server.alive() else None
        total: Counter[str] = Counter()
        for counter in statuses:
            total.update(counter)
        return {
            "seconds": round(elapsed, 1),
            "requests": sum(total.values()),
            "statuses": dict(total.most_common()),
            "rss_before": before.rss,
            "pss_before": before.pss,
            "rss_after": after.rss if after else None,
            "pss_after": after.pss if after else None,
            "rss_idle": idle.rss if idle else None,
            "peak_rss": server.peak_rss,
            "log_bytes": written,
            "killed": server.killed,
        }


def peek(sock: socket.socket) -> tuple[str, bytes]:
    """What the server did on a connection so far: "open" (nothing), "closed", "reset", or
    "answered" (with the bytes it sent)."""
    try:
        # select first: recv on a socket with a timeout would wait for data up to that timeout
        if not select.select([sock], [], [], 0)[0]:
            return "open", b""
        data = sock.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return "open", b""
    except (OSError, ValueError) as error:
        return failure(error), b""
    return ("answered", data) if data else ("closed", b"")


def status_line(data: bytes) -> str:
    match = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return match.group(1).decode() if match else "other"


def attack_slowloris(ctx: Context, count: int) -> dict[str, Any]:
    """(d) `count` connections that send a request head one header line every 5 s."""
    with serving(ctx, "d-slowloris") as server:
        log(f"(d) {count} slowloris connections for 30 s ...")
        before = server.sample()
        socks: list[socket.socket] = []
        refused = 0
        for _ in range(count):
            try:
                sock = socket.create_connection(
                    ("127.0.0.1", server.port), timeout=5, source_address=("127.0.4.1", 0)
                )
                sock.sendall(b"GET /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                socks.append(sock)
            except OSError:
                refused += 1
        began = time.monotonic()
        gone: dict[int, str] = {}  # index -> how the server ended it
        answered: Counter[str] = Counter()
        open_at: dict[str, int] = {}
        probe = Outcome("not sent", 0.0)
        peak_fds = before.fds
        for tick in range(1, 7):  # a line every 5 s, 30 s in all
            wait = began + 5 * tick - time.monotonic()
            if STOP.wait(max(0.0, wait)):
                break
            for i, sock in enumerate(socks):
                if i in gone:
                    continue
                state, data = peek(sock)
                if state == "open":
                    try:
                        sock.sendall(b"X-Slow-%d: %d\r\n" % (tick, i))
                        continue
                    except OSError as error:
                        state = failure(error)
                if state == "answered":
                    answered[status_line(data)] += 1
                gone[i] = state
            if tick % 2 == 0:
                open_at[f"{5 * tick}"] = len(socks) - len(gone)
            if tick == 3:
                probe = fetch(server.port, query_path(LOOKUP % "halifax"), timeout=20)
            peak_fds = max(peak_fds, server.sample().fds)
        for sock in socks:
            sock.close()
        return {
            "connections": count,
            "refused": refused,
            "open_at": open_at,
            "ended": dict(Counter(gone.values())),
            "answered": dict(answered),
            "probe_status": probe.status,
            "probe_ms": ms(probe.seconds),
            "fds_before": before.fds,
            "fds_peak": peak_fds,
            "killed": server.killed,
        }


def flood_headers(
    socks: list[socket.socket], total: int, chunk: bytes, limit: float
) -> tuple[list[int], list[str]]:
    """Send `total` bytes of header lines on each socket, round robin; per socket the bytes
    sent and what stopped it ("complete", "stalled" (no data taken for 10 s), "answered NNN",
    "closed", "reset")."""
    sent = [0] * len(socks)
    state = ["sending"] * len(socks)
    deadline = time.monotonic() + limit
    while "sending" in state and time.monotonic() < deadline and not STOP.is_set():
        for i, sock in enumerate(socks):
            if state[i] != "sending":
                continue
            seen, data = peek(sock)
            if seen != "open":
                state[i] = f"answered {status_line(data)}" if seen == "answered" else seen
                continue
            try:
                sock.sendall(chunk)
                sent[i] += len(chunk)
            except TimeoutError:
                state[i] = "stalled"
            except OSError as error:
                state[i] = failure(error)
            if sent[i] >= total:
                state[i] = "complete"
    return sent, [s if s != "sending" else "out of time" for s in state]


def header_chunk(size: int) -> bytes:
    line = b"X-Pad-%05d: " + b"a" * 1000 + b"\r\n"
    lines = [line % i for i in range(size // len(line % 0))]
    return b"".join(lines)


def attack_header_bomb(ctx: Context) -> dict[str, Any]:
    """(e) One request whose header section is 50 MB."""
    with serving(ctx, "e-header-bomb") as server:
        log("(e) a 50 MB header section ...")
        before = server.sample()
        sock = socket.create_connection(
            ("127.0.0.1", server.port), timeout=10, source_address=("127.0.5.1", 0)
        )
        try:
            sock.sendall(b"GET /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            began = time.monotonic()
            sent, states = flood_headers([sock], 50 * MIB, header_chunk(64 * 1024), 90)
            outcome = states[0]
            if outcome == "complete":
                try:
                    sock.sendall(b"\r\n")
                    sock.settimeout(30)
                    data = sock.recv(65536)
                    outcome = f"all sent; answered {status_line(data)}" if data else "all; closed"
                except OSError as error:
                    outcome = f"all sent; then {failure(error)}"
            seconds = time.monotonic() - began
        finally:
            sock.close()
        time.sleep(1)
        return {
            "sent_bytes": sent[0],
            "outcome": outcome,
            "seconds": round(seconds, 1),
            "rss_before": before.rss,
            "peak_rss": server.peak_rss,
            "killed": server.killed,
            "answers_after": server.alive()
            and fetch(server.port, query_path(CHEAP)).status == "200",
        }


def attack_header_hold(ctx: Context) -> dict[str, Any]:
    """(f) 20 connections, each sending ~20 MB of headers and never finishing them."""
    with serving(ctx, "f-header-hold") as server:
        log("(f) 20 connections with 20 MB of unfinished headers each ...")
        before = server.sample()
        socks = [
            socket.create_connection(
                ("127.0.0.1", server.port), timeout=10, source_address=(f"127.0.6.{i + 1}", 0)
            )
            for i in range(20)
        ]
        try:
            for sock in socks:
                sock.sendall(b"GET /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            sent, states = flood_headers(socks, 20 * MIB, header_chunk(256 * 1024), 120)
            STOP.wait(5)  # held open, unfinished
            held = server.sample() if server.alive() else None
            ended = sum(1 for s in socks if peek(s)[0] != "open")
        finally:
            for sock in socks:
                sock.close()
        time.sleep(3)
        after = server.sample() if server.alive() else None
        return {
            "connections": len(socks),
            "sent_bytes": sum(sent),
            "states": dict(Counter(states)),
            "closed_by_server": ended,
            "rss_before": before.rss,
            "pss_before": before.pss,
            "rss_held": held.rss if held else None,
            "pss_held": held.pss if held else None,
            "peak_rss": server.peak_rss,
            "rss_after_close": after.rss if after else None,
            "killed": server.killed,
        }


def attack_lifecycle(ctx: Context) -> dict[str, Any]:
    """(g) SIGTERM while a long query runs; SIGKILL of the parent of `--workers 2`."""
    result: dict[str, Any] = {}
    log("(g) SIGTERM during a long query ...")
    server = Server(ctx, "g-sigterm").start()
    try:
        server.wait_ready()
        wait_accepting(server)
        thread, box = run_in_thread(
            lambda: fetch(server.port, query_path(LONG), source="127.0.7.1", timeout=90)
        )
        time.sleep(1.5)
        began = time.monotonic()
        os.kill(server.pid, signal.SIGTERM)
        assert server.process is not None
        try:
            server.process.wait(60)
            exited: float | None = time.monotonic() - began
        except subprocess.TimeoutExpired:
            exited = None
        time.sleep(1)
        remaining = len(server.pids())
        thread.join(5)
        result["sigterm"] = {
            "seconds": round(exited, 2) if exited is not None else None,
            "query": box[0].status if box else "no answer",
            "left": remaining,
        }
    finally:
        server.stop()

    log("(g) SIGKILL of the parent, --workers 2 ...")
    server = Server(ctx, "g-sigkill", workers=2).start()
    restart: Server | None = None
    try:
        server.wait_ready()
        wait_accepting(server)
        os.kill(server.pid, signal.SIGKILL)
        assert server.process is not None
        server.process.wait(10)
        time.sleep(5)
        left = server.pids()
        listening = any(state == LISTEN for _, state, _ in tcp_entries(server.port))
        old = fetch(server.port, query_path(CHEAP), timeout=5).status
        restart = Server(ctx, "g-restart", port=server.port, workers=2).start()
        outcome = restart_outcome(restart)
        result["sigkill"] = {
            "left": len(left),
            "listening": listening,
            "old_answers": old,
            "restart": outcome,
        }
    finally:
        server.stop()
        if restart is not None:
            restart.stop()
    return result


def restart_outcome(server: Server, limit: float = 30) -> str:
    """Whether the new server serves its port: "ok" once an answer comes from one of its own
    processes; otherwise why not (its exit and the error it logged)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not STOP.is_set():
        if not server.alive():
            errors = [x for x in server.log_tail(30).splitlines() if "error" in x.lower()]
            return f"failed: exited {server.process.returncode if server.process else '?'}" + (
                f" ({errors[-1].strip()[:160]})" if errors else ""
            )
        try:
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        except OSError:
            time.sleep(0.2)
            continue
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.sock = sock
        mine = False
        try:
            port = sock.getsockname()[1]
            conn.request("GET", query_path(CHEAP), headers={"Accept": JSON})
            response = conn.getresponse()
            response.read()
            owner = connection_owners(server, [port], limit=0.5)
            mine = response.status == 200 and owner.get(port) in server.pids()
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        if mine:
            return "ok"
        time.sleep(0.2)
    return "failed: no answer from the new server's processes in 30 s"


# --- results and the report --------------------------------------------------------------


def git(code: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(code), *args], capture_output=True, text=True)
    return done.stdout.strip()


def code_state(code: Path) -> dict[str, str | bool]:
    return {
        "dir": str(code),
        "commit": git(code, "rev-parse", "--short", "HEAD") or "unknown",
        "describe": git(code, "describe", "--always", "--dirty") or "unknown",
        "subject": textwrap.shorten(git(code, "log", "-1", "--format=%s"), 90, placeholder=" …"),
        "dirty": bool(git(code, "status", "--porcelain", "--", "src")),
    }


def result_path(label: str) -> Path:
    return (RESULTS if label in RENDERED else SCRATCH) / f"reliability-{label}.json"


def load_results(label: str) -> dict[str, Any] | None:
    path = result_path(label)
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def save_results(label: str, data: dict[str, Any]) -> None:
    path = result_path(label)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")


@dataclass
class Cell:
    text: str
    value: float | None = None
    at_least: bool = False  # the value is a lower bound (the benchmark killed the server)


def mib(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def counts(statuses: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v:,}" for k, v in statuses.items()) or "none"


def killed_text(part: dict[str, Any]) -> str:
    return re.sub(r", \d+ s after start", "", str(part.get("killed") or ""))


def killed_or(part: dict[str, Any], text: str) -> str:
    return f"{text}; **{killed_text(part)}**" if part.get("killed") else text


#: (part, key, title, whether after/before means something: lower is better)
ROWS: tuple[tuple[str, str, str, bool], ...] = (
    ("soak", "rate", "requests (req/s)", False),
    ("soak", "errors", "errors (non-2xx/3xx, socket errors), by status", False),
    *(("soak", f"kind:{k}", f"{k} ({w}%): requests; p50 / p99 ms", True) for k, w in WORKLOAD),
    ("soak", "memory", "tree RSS MiB at start → end (PSS)", False),
    ("soak", "growth", "memory growth over the last half, RSS MiB (MiB/min)", True),
    ("soak", "growth_pss", "memory growth over the last half, PSS MiB (MiB/min)", True),
    ("soak", "processes", "processes at start → end; open fds start → end (max)", False),
    ("a", "status", "(a) what the query got, after s", False),
    ("a", "peak", "(a) peak tree RSS MiB (largest process); idle before it", True),
    ("a", "after", "(a) server answers afterwards; tree RSS MiB 2 s after", False),
    ("b", "split", "(b) expensive queries per server process; their statuses", False),
    ("b", "cheap", "(b) cheap query p50 / p99 / max ms", True),
    ("b", "cheap_status", "(b) cheap query statuses", False),
    ("c", "requests", "(c) requests sent in s; statuses", False),
    ("c", "memory", "(c) tree RSS MiB before → after (5 s idle after; peak)", False),
    ("c", "added", "(c) memory added, RSS MiB (PSS); per request", True),
    ("c", "log", "(c) access and error log written, MiB; per request", True),
    ("d", "open", "(d) connections still open at 10 / 20 / 30 s", True),
    ("d", "ended", "(d) how the server ended the others; what it answered", False),
    ("d", "probe", "(d) a lookup during the attack: status, ms", False),
    ("d", "fds", "(d) server tree open fds before → peak", False),
    ("e", "outcome", "(e) what happened; MiB the client could send", False),
    ("e", "added", "(e) memory added, RSS MiB (peak)", True),
    ("f", "added", "(f) memory added while held, RSS MiB (PSS; peak)", True),
    ("f", "states", "(f) MiB sent in all; per connection", False),
    ("g", "sigterm", "(g) SIGTERM during a long query: s to exit", True),
    ("g", "sigterm_more", "(g) SIGTERM: the long query got; processes left", False),
    ("g", "sigkill", "(g) SIGKILL of the parent: processes left after 5 s", True),
    ("g", "sigkill_more", "(g) SIGKILL: port still held; restart on the same port", False),
    ("h", "requests", "(h) requests sent in s; statuses", False),
    ("h", "memory", "(h) tree RSS MiB before → after (5 s idle after; peak)", False),
    ("h", "added", "(h) memory added, RSS MiB (PSS); per request", True),
    ("h", "log", "(h) access and error log written, MiB; per request", True),
)


def cell(part: str, key: str, data: dict[str, Any]) -> Cell:
    p = data.get(part)
    if not p:
        return Cell("not measured")
    if part == "soak":
        if key == "rate":
            return Cell(f"{p['requests']:,} in {p['duration']:.0f} s: {p['rate']:,.0f}/s")
        if key == "errors":
            errors = sum(p["errors"].values())
            text = f"{errors:,} ({100 * errors / max(1, p['requests']):.2f}%)"
            return Cell(killed_or(p, text + (f": {counts(p['errors'])}" if errors else "")))
        if key.startswith("kind:"):
            k = p["kinds"][key[5:]]
            bad = {s: n for s, n in k["statuses"].items() if not ok(s)}
            text = f"{k['requests']:,}; {num(k['p50_ms'])} / {num(k['p99_ms'])}"
            return Cell(text + (f" ({counts(bad)})" if bad else ""), k["p99_ms"])
        first, last = p["samples"][0], p["samples"][-1]
        if key == "memory":
            return Cell(
                f"{mib(first['rss'])} → {mib(last['rss'])} ({mib(first['pss'])} → "
                f"{mib(last['pss'])})"
            )
        if key in ("growth", "growth_pss"):
            name = "rss" if key == "growth" else "pss"
            grown, slope = p["growth"][name], p["growth"][f"{name}_per_min"]
            return Cell(f"{num(grown, 0)} ({num(slope, 2)})", slope)
        if key == "processes":
            peak = max(s["fds"] for s in p["samples"])
            return Cell(
                f"{first['processes']} → {last['processes']}; {first['fds']} → {last['fds']} "
                f"({peak})"
            )
    if part == "a":
        if key == "status":
            if p["killed"]:
                return Cell(
                    f"no answer: **{killed_text(p)}** {p['seconds']:.1f} s into the query "
                    f"(client saw: {p['status']})"
                )
            return Cell(f"{p['status']} after {p['seconds']:.1f} s")
        if key == "peak":
            return Cell(
                f"{mib(p['peak_rss'])} ({mib(p['peak_largest'])}); idle {mib(p['rss_before'])} "
                f"({mib(p['largest_before'])})",
                p["peak_rss"],
                at_least=bool(p["killed"]),
            )
        if key == "after":
            return Cell(f"{'yes' if p['answers_after'] else 'no'}; {mib(p['rss_after'])}")
    if part == "b":
        if key == "split":
            return Cell(
                " + ".join(map(str, p["split"]))
                + f"; {counts(p['expensive_statuses'])} after "
                + ", ".join(f"{s:g}" for s in p["expensive_seconds"])
                + " s"
            )
        if key == "cheap":
            return Cell(
                killed_or(
                    p,
                    f"{num(p['cheap_p50_ms'])} / {num(p['cheap_p99_ms'])} / "
                    f"{num(p['cheap_max_ms'])}",
                ),
                p["cheap_p99_ms"],
            )
        if key == "cheap_status":
            return Cell(f"{counts(p['cheap_statuses'])} (of {p['cheap_sent']})")
    if part in ("c", "h"):
        if key == "requests":
            return Cell(f"{p['requests']:,} in {p['seconds']:.0f} s; {counts(p['statuses'])}")
        if key == "memory":
            return Cell(
                killed_or(
                    p,
                    f"{mib(p['rss_before'])} → {mib(p['rss_after'])} ({mib(p['rss_idle'])}; "
                    f"{mib(p['peak_rss'])})",
                )
            )
        requests = max(1, p["requests"])
        if key == "added":
            if p["rss_after"] is None:
                added = p["peak_rss"] - p["rss_before"]
                return Cell(f"≥ {mib(added)} (peak)")
            added = p["rss_after"] - p["rss_before"]
            pss = p["pss_after"] - p["pss_before"]
            per = max(added, 0.0) * 1024 / requests
            return Cell(f"{mib(added)} ({mib(pss)}); {per:,.1f} KiB per request", per)
        if key == "log":
            per = p["log_bytes"] / 1024 / requests
            return Cell(f"{p['log_bytes'] / MIB:,.1f}; {per:,.1f} KiB per request", per)
    if part == "d":
        if key == "open":
            at = p["open_at"]
            text = " / ".join(str(at.get(t, "—")) for t in ("10", "20", "30"))
            return Cell(f"{text} of {p['connections']}", float(at.get("30", 0)))
        if key == "ended":
            return Cell(f"{counts(p['ended'])}; {counts(p['answered'])}")
        if key == "probe":
            return Cell(f"{p['probe_status']}, {num(p['probe_ms'])}")
        if key == "fds":
            return Cell(f"{p['fds_before']} → {p['fds_peak']}")
    if part == "e":
        if key == "outcome":
            return Cell(killed_or(p, f"{p['outcome']}; {p['sent_bytes'] / MIB:,.1f}"))
        if key == "added":
            added = p["peak_rss"] - p["rss_before"]
            return Cell(f"{mib(added)} ({mib(p['peak_rss'])})", max(added, 0.0))
    if part == "f":
        if key == "added":
            if p["rss_held"] is None:
                return Cell(killed_or(p, f"≥ {mib(p['peak_rss'] - p['rss_before'])}"))
            added = p["rss_held"] - p["rss_before"]
            return Cell(
                f"{mib(added)} ({mib(p['pss_held'] - p['pss_before'])}; "
                f"{mib(p['peak_rss'] - p['rss_before'])})",
                max(added, 0.0),
            )
        if key == "states":
            return Cell(
                f"{p['sent_bytes'] / MIB:,.0f}; {counts(p['states'])}; "
                f"closed by the server: {p['closed_by_server']}"
            )
    if part == "g":
        term, kill = p.get("sigterm", {}), p.get("sigkill", {})
        if key == "sigterm" and term:
            s = term["seconds"]
            return Cell("> 60 (killed)" if s is None else f"{s:.1f}", 60.0 if s is None else s)
        if key == "sigterm_more" and term:
            return Cell(f"{term['query']}; {term['left']}")
        if key == "sigkill" and kill:
            return Cell(str(kill["left"]), float(kill["left"]))
        if key == "sigkill_more" and kill:
            held = "yes" if kill["listening"] else "no"
            return Cell(f"{held} (old processes answer: {kill['old_answers']}); {kill['restart']}")
    return Cell("not measured")


def ratio(before: Cell, after: Cell) -> str:
    if before.value is None or after.value is None:
        return ""
    if before.value == 0:
        return "" if after.value == 0 else "(was 0)"
    value = after.value / before.value
    shown = "0x" if value == 0 else f"{value:.2f}x" if value >= 0.1 else f"{value:.2g}x"
    if before.at_least and not after.at_least:
        return f"≤ {shown}"
    if after.at_least and not before.at_least:
        return f"≥ {shown}"
    return "" if after.at_least else shown


def run_line(label: str, data: dict[str, Any]) -> str:
    code = data["code"]
    soak = data.get("soak")
    soak_text = f"soak {soak['duration']:.0f} s" if soak else "no soak"
    dirty = " with uncommitted changes in src/" if code["dirty"] else ""
    reruns = "".join(
        f"; part(s) {r['parts']} measured again {r['date']} (load average then {r['load_start']})"
        for r in data.get("reruns", [])
    )
    return (
        f"- **{label}**: run {data['date']} by `bench/reliability_bench.py` on the code of "
        f"`{code['describe']}`{dirty} ({code['subject']}); {soak_text}; load average "
        f"(1, 5, 15 min) at the start {data['load_start']}, at the end {data.get('load_end')}"
        f"{reruns}; machine: {data['machine']}."
    )


def render(runs: dict[str, dict[str, Any]]) -> str:
    labels = list(runs)
    lines = [
        "## Reliability: a soak, and attacks on the public endpoint",
        "",
        *[run_line(label, data) for label, data in runs.items()],
        "",
        "Run by `make bench-reliability` (`bench/reliability_bench.py`; `--code DIR --label "
        "before` measures another checkout's `src/` with the same venv). Each part gets a fresh "
        "`hrgraph serve` with the default settings of the code measured (only `--sources`, "
        "`--releases`, `--host` and `--port` are given, and `--workers 2` in (g); one server "
        "process per core by default) on a free loopback port, over a release of the shipped "
        "data built by the measured code. Clients are threads in the benchmark's "
        "process, each connecting from its own loopback address (127.0.x.y), so that per-client "
        "limits see distinct clients. Memory is RSS summed over the server's whole process tree "
        "(its session: server processes, forkservers, query processes, resource tracker; pages "
        "shared by forked processes are counted in each), PSS in brackets "
        "(`/proc/<pid>/smaps_rollup`, shared pages split). A server whose tree passes "
        f"{runs[labels[0]]['cap_gib']:g} GiB RSS is killed by the benchmark, so that the "
        "machine stays usable; that is then the figure.",
        "",
    ]
    head = "| measurement | " + " | ".join(
        f"{label} (`{runs[label]['code']['commit']}`)" for label in labels
    )
    rule = "|---|" + "---|" * len(labels)
    both = "before" in runs and "after" in runs
    if both:
        head, rule = head + " | after / before", rule + "---|"
    soak = next((d["soak"] for d in runs.values() if d.get("soak")), None)
    for part_title, parts in (("Soak", ("soak",)), ("Attacks", PARTS[1:])):
        lines += [f"### {part_title}", ""]
        if part_title == "Soak" and soak:
            lines += [
                f"{soak['clients']} clients, closed loop (each sends its next request when its "
                "answer is in), keep-alive connections (httpx), 60 s client timeout; each "
                "request's kind drawn by the weights below. Latencies include the client's own "
                "time on the shared cores. Growth: the tree's memory from the half-way sample to "
                "the last, and the least-squares slope over those samples (one every 10 s).",
                "",
            ]
        lines += [head + " |", rule]
        for part, key, title, compare in ROWS:
            if part not in parts:
                continue
            cells = [cell(part, key, runs[label]) for label in labels]
            row = f"| {title} | " + " | ".join(c.text for c in cells)
            if both:
                shown = ratio(cells[labels.index("before")], cells[labels.index("after")])
                row += " | " + (shown if compare else "")
            lines.append(row + " |")
        lines.append("")
    if both:
        lines += [
            "Ratios (after over before, lower is better) are of the figure a row is about: p99 "
            "for latencies, the slope for growth, per request for (c), connections open at 30 s "
            "for (d); ≤ where the benchmark killed the before server, so that its true figure "
            "is larger.",
            "",
        ]
    alone = [
        f"{label} {d['soak']['expensive_alone_ms']} ms"
        for label, d in runs.items()
        if d.get("soak") and d["soak"].get("expensive_alone_ms") is not None
    ]
    lines += [
        "### What each part does",
        "",
        "- Soak workload: the lookup `" + (LOOKUP % "<city>").replace("\n", " ") + "` over the "
        "cities, cached (identical requests) and distinct (a `BIND` of a literal that changes on "
        "every request); the aggregate of the HTTP benchmark with a distinct comment; resource "
        "pages from the sitemap (`/id/...`, HTML and Turtle); `/downloads/`; the release's "
        "`hrgraph.nt.gz`; the workbench (`/sparql`, HTML); and the expensive `"
        + SOAK_EXPENSIVE
        + "` with a distinct comment (alone: "
        + (", ".join(alone) or "not measured")
        + ").",
        f"- (a) `{HUNGRY}` (every pair of triples, sorted), 120 s client timeout; the tree is "
        "polled every 0.1 s.",
        "- (b) 4 connections, made until each server process holds 2 (a connection that "
        f"lands on a process that has its share is closed), send `{LONG}`; "
        "1 s later, 40 cheap `ASK {}` queries (each distinct, on its own connection from its "
        "own address), one every 0.5 s.",
        "- (c) 8 clients send distinct `ASK {}` queries padded with a comment to 60,000 bytes of "
        "query string, for 60 s (at most 100,000 requests); the log is the growth of the "
        "server's stdout and stderr files.",
        "- (d) 200 connections (one address) send `GET /sparql HTTP/1.1`, a Host line, then one "
        "header line every 5 s; counted open when the server has neither closed nor answered.",
        "- (e) one connection sends a request head with 50 MiB of 1 KB header lines (64 KiB at "
        "a time, 10 s send timeout), then the blank line.",
        "- (f) 20 connections (one address each) send 20 MiB of header lines each, round robin "
        "in 256 KiB writes, never the blank line; held 5 s; memory sampled then.",
        f"- (g) SIGTERM to `hrgraph serve` 1.5 s into `{LONG}`; time until it exits (60 s at "
        "most). Then `hrgraph serve --workers 2`, SIGKILL to its parent, processes of its "
        "session left after 5 s, and a new `--workers 2` server on the same port: ok when a "
        "process of the new server answers.",
        "- (h) as (c) with 30,000 bytes of query string: under the default `max_url_bytes`, so "
        "the requests are answered and reach the answer caches, whose bound (keys counted) is "
        "what the memory figure tests.",
        "",
    ]
    return "\n".join(lines)


def write_report(out: Path, label: str) -> str:
    if label in RENDERED:
        runs = {name: data for name in RENDERED if (data := load_results(name)) is not None}
        text = render(runs)
        update_section(out, "reliability", text)
        return text
    data = load_results(label)
    return render({label: data}) if data else ""


# --- main --------------------------------------------------------------------------------


def environment(code: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRGRAPH_")}
    env["PYTHONPATH"] = os.pathsep.join(
        x for x in (str(code / "src"), os.environ.get("PYTHONPATH", "")) if x
    )
    return env


def check_code(ctx: Context) -> None:
    """The server must import the package from --code, not from this checkout."""
    done = subprocess.run(
        [str(PYTHON), "-c", "import hrgraph; print(hrgraph.__file__)"],
        capture_output=True, text=True, env=ctx.env, cwd=ctx.work,
    )  # fmt: skip
    where = Path(done.stdout.strip()).resolve()
    if not where.is_relative_to((ctx.code / "src").resolve()):
        raise BenchError(f"the server would import hrgraph from {where}, not {ctx.code}/src")


@contextlib.contextmanager
def stopping() -> Iterator[None]:
    """Every server is stopped at the end, on errors, Ctrl-C and SIGTERM too."""

    def terminate(signum: int, _: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        STOP.set()
        for server in list(RUNNING):
            server.stop()
        signal.signal(signal.SIGTERM, previous)


def loadavg() -> str:
    return ", ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose src/ is served")
    parser.add_argument("--sources", type=Path, default=ROOT, help="data (ontology/ shapes/ data/)")
    parser.add_argument("--label", default="after", help="before | after | any other name")
    parser.add_argument("--duration", type=float, default=600, help="soak seconds")
    parser.add_argument("--clients", type=int, default=32, help="soak clients")
    parser.add_argument("--flood-seconds", type=float, default=60, help="(c) seconds")
    parser.add_argument("--slowloris", type=int, default=200, help="(d) connections")
    parser.add_argument("--memory-cap-gib", type=float, default=6, help="kill the server above")
    parser.add_argument("--only", default=",".join(PARTS), help="parts to run: soak,a,...,g")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--render", action="store_true", help="measure nothing: render the label's saved results"
    )
    args = parser.parse_args()
    if args.render:
        print(write_report(args.out, args.label))
        return
    only = [p.strip() for p in args.only.split(",") if p.strip()]
    if unknown := set(only) - set(PARTS):
        parser.error(f"unknown parts: {', '.join(sorted(unknown))} (choose from {PARTS})")
    code, sources = args.code.resolve(), args.sources.resolve()
    if not (code / "src" / "hrgraph").is_dir():
        parser.error(f"{code} has no src/hrgraph")

    work = Path(tempfile.mkdtemp(prefix="hrgraph-reliability-"))
    ctx = Context(code, sources, work, work / "releases", environment(code),
                  args.memory_cap_gib * 1024)  # fmt: skip
    state = code_state(code)
    previous = load_results(args.label)
    subset = set(only) != set(PARTS)
    data: dict[str, Any] = (
        previous if subset and previous and previous["code"]["commit"] == state["commit"] else {}
    )
    now = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    if data:  # some parts again, into the results of the same code
        data.setdefault("reruns", []).append(
            {"parts": ",".join(only), "date": now, "load_start": loadavg()}
        )
    else:
        data.update(
            label=args.label,
            date=now,
            machine=f"{machine()}; uvicorn {version('uvicorn')}, httptools "
            f"{version('httptools')}, uvloop {version('uvloop')}",
            code=state,
            cap_gib=args.memory_cap_gib,
            load_start=loadavg(),
        )
    guard = Guard()
    started = time.monotonic()
    try:
        with stopping():
            guard.start()
            check_code(ctx)
            data["build_seconds"] = round(build_release(ctx), 1)
            steps: dict[str, Callable[[], dict[str, Any]]] = {
                "soak": lambda: run_soak(ctx, args.duration, args.clients, guard),
                "a": lambda: attack_hungry(ctx),
                "b": lambda: attack_starvation(ctx),
                "c": lambda: attack_long_urls(ctx, args.flood_seconds),
                "d": lambda: attack_slowloris(ctx, args.slowloris),
                "e": lambda: attack_header_bomb(ctx),
                "f": lambda: attack_header_hold(ctx),
                "g": lambda: attack_lifecycle(ctx),
                "h": lambda: attack_long_urls(ctx, args.flood_seconds, 30_000, "h"),
            }
            if "soak" not in only:  # the attacks need no pages, but keep one code path
                with serving(ctx, "discover") as server:
                    discover(ctx, server)
            for part in PARTS:
                if part in only and not STOP.is_set():
                    data[part] = steps[part]()
                    log(f"{part}: {json.dumps(data[part])[:600]}")
                    data["load_end"] = loadavg()
                    save_results(args.label, data)
    except BenchError as error:
        log(f"benchmark failed: {error}")
        sys.exit(1)
    finally:
        with contextlib.suppress(Exception):
            guard.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    text = write_report(args.out, args.label)
    print(text)
    where = args.out if args.label in RENDERED else "not written to BENCHMARKS.md"
    took = time.monotonic() - started
    log(f"results in {result_path(args.label)} ({where}); done in {took:.0f} s")


if __name__ == "__main__":
    main()
