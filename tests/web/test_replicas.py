"""Replicas behind a real load balancer: three `hrgraph serve` processes behind Debian's nginx,
configured by deploy/nginx.conf (the README's sample, read here with only its ports changed), and
a new release rolled out replica by replica while clients query through nginx.

Each replica has its own releases folder, as on its own host: a rollout must move one replica at a
time, and one shared `current` would move them all at once. A release is built once (`hrgraph
build`, here in `built`) and shipped to each replica as the README says: copied under a dot-name
(never taken for a release), renamed into place, then `current` renamed over. A replica runs with
the sources of the release it serves, so that its start finds that release up to date and builds
nothing.

Two ways to move a replica: `restart` stops it (SIGTERM: it stops listening, finishes what it has
under way; nginx sends the rest to the others), points it at the new release and starts it again
(what a code upgrade needs); `switch` only points it at the new release, which it picks up in
place. Either way no request may fail (no 5xx, no connection error: nginx retries what a stopped
replica refused) and each response must come wholly from one release: its body says the release
its `X-Hrgraph-Release` header names.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conftest import ROOT
from hrgraph.web.http import RELEASE_HEADER
from support import free_port, wait_until

NGINX = Path("/usr/sbin/nginx")
INSTALL_HINT = (
    "the replica test needs Debian's nginx: run `make nginx` (as root it runs `apt-get update && "
    "apt-get install -y --no-install-recommends nginx`)"
)
DEPLOY = ROOT / "deploy" / "nginx.conf"
#: The replicas of deploy/nginx.conf (its `server 127.0.0.1:800N` lines).
REPLICAS = 3
#: Client threads querying through nginx for the whole rollout (each at most one request under
#: way, so a replica never sees more than --max-client-queries at once from 127.0.0.1).
CLIENTS = 4
SHUTDOWN_TIMEOUT = 2
#: Bounds on a process starting or stopping (not patience: they take a few seconds).
BOUND = 60
#: Responses through nginx between two steps of the rollout, so that every state is loaded.
BETWEEN_STEPS = 25
#: What the new release changes, in Whitehorse's description.
OLD_TEXT = "(City of Whitehorse, type CY)"
NEW_TEXT = "(City of Whitehorse, type CY, second release)"
VERSION_QUERY = (
    "PREFIX dcat: <http://www.w3.org/ns/dcat#> "
    "SELECT ?v WHERE { ?d a dcat:Dataset ; dcat:version ?v }"
)
#: Which replica answered: nginx's $upstream_addr (several, comma-separated, after a retry).
UPSTREAM_HEADER = "X-Test-Upstream"


# --- the releases: built once, shipped to each replica ---------------------------------------


@dataclass(frozen=True)
class Built:
    staging: Path  # where `hrgraph build` wrote both releases
    old: str
    new: str
    old_sources: Path
    new_sources: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Two releases of two versions of the sources, built one after the other in one folder (the
    second continues the first's change feed), as a publisher's build host does."""
    from hrgraph.build.writer import build
    from hrgraph.config import load_settings

    root = tmp_path_factory.mktemp("replicas")
    old_sources, new_sources = root / "sources-old", root / "sources-new"
    for folder in ("ontology", "shapes", "data"):
        shutil.copytree(ROOT / folder, old_sources / folder)
    shutil.copytree(old_sources, new_sources)
    places = new_sources / "data" / "places.ttl"
    text = places.read_text()
    assert text.count(OLD_TEXT) == 1
    places.write_text(text.replace(OLD_TEXT, NEW_TEXT))
    staging = root / "build" / "releases"
    versions = []
    for sources in (old_sources, new_sources):
        flags = {"sources": str(sources), "releases": str(staging)}
        versions.append(build(load_settings(flags, environ={})).version)
    assert versions[0] != versions[1]
    return Built(staging, versions[0], versions[1], old_sources, new_sources)


def ship(release: Path, releases: Path) -> None:
    """Install a release folder as the README says: a copy under a dot-name, renamed into place."""
    incoming = releases / f".incoming-{release.name}"
    subprocess.run(["cp", "-a", str(release), str(incoming)], check=True)
    subprocess.run(["mv", "-T", str(incoming), str(releases / release.name)], check=True)


def point(releases: Path, version: str) -> None:
    """Point `current` at `version` as the README says: a new link renamed over the old one
    (atomic: a server never finds no `current`)."""
    subprocess.run(["ln", "-s", version, ".current-new"], cwd=releases, check=True)
    subprocess.run(["mv", "-T", ".current-new", "current"], cwd=releases, check=True)


# --- the processes ---------------------------------------------------------------------------


def accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def environment() -> dict[str, str]:
    """This process's environment without hrgraph's settings (the test gives its own)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("HRGRAPH_")}


class Process:
    """A process started in its own process group (its whole tree: forkserver, query processes,
    nginx's workers), its output in a file (a full pipe would block it)."""

    def __init__(self, command: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**environment(), **(env or {})},
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Stop it with `signum` and wait for it (its exit status)."""
        self.process.send_signal(signum)
        status = self.process.wait(BOUND)
        self.kill()  # whatever of its group is left
        return status

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(BOUND)


class Replica:
    """One `hrgraph serve` (one server process) on its own port and releases folder."""

    def __init__(self, index: int, folder: Path) -> None:
        self.index = index
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        self.releases = folder / f"replica-{index}" / "releases"
        self.releases.mkdir(parents=True)
        self.log = folder / f"replica-{index}.log"
        self.process: Process | None = None

    def start(self, sources: Path) -> None:
        command = [
            *(sys.executable, "-m", "hrgraph", "serve", "--port", str(self.port)),
            *("--workers", "1", "--sources", str(sources), "--releases", str(self.releases)),
        ]
        env = {"HRGRAPH_SHUTDOWN_TIMEOUT": str(SHUTDOWN_TIMEOUT)}
        self.process = Process(command, self.log, env)

    def wait_ready(self) -> None:
        """Until it answers a query (what a rollout script waits for before the next replica)."""
        assert self.process is not None

        def answers() -> bool:
            assert self.process is not None and self.process.alive(), self.log.read_text()
            if not accepts(self.port):
                return False
            response = httpx.get(f"{self.url}/sparql", params={"query": "ASK {}"}, timeout=30)
            return response.status_code == 200

        wait_until(answers, BOUND, what=f"replica {self.index} to answer", every=0.05)

    def stop(self) -> None:
        """SIGTERM: stop listening, finish the requests under way, exit 0."""
        assert self.process is not None
        status = self.process.stop(signal.SIGTERM)
        assert status == 0, f"replica {self.index} exited with {status}:\n{self.log.read_text()}"
        self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    def serves(self) -> str:
        """The release it answers from, asked directly (header and body must agree)."""
        response = httpx.get(f"{self.url}/sparql", params={"query": VERSION_QUERY}, timeout=30)
        assert response.status_code == 200, response.text
        version = response.headers[RELEASE_HEADER]
        assert release_of("version", response) == version
        return version


def nginx_conf(folder: Path, port: int, replicas: list[Replica]) -> Path:
    """deploy/nginx.conf with the replicas' ports and `listen` on `port`, inside a main file of
    the test's own: its prefix, pid, logs and temporary files under `folder`, in the foreground,
    and a header naming the replica that answered (for the checks, not for a deployment)."""
    text = DEPLOY.read_text()
    examples = re.findall(r"^\s*server 127\.0\.0\.1:(\d+) ", text, flags=re.MULTILINE)
    assert len(examples) == REPLICAS, f"{DEPLOY}: expected {REPLICAS} replicas, not {examples}"
    for example, replica in zip(examples, replicas, strict=True):
        text = text.replace(f"127.0.0.1:{example} ", f"127.0.0.1:{replica.port} ")
    assert text.count("listen 80;") == 1, f"{DEPLOY}: no `listen 80;`"
    text = text.replace("listen 80;", f"listen 127.0.0.1:{port};")
    (folder / "hrgraph.conf").write_text(text)
    temporary = folder / "temp"
    temporary.mkdir()
    paths = {
        name: temporary / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    }
    main = "\n".join(
        [
            "daemon off;",
            "worker_processes 1;",
            # As root nginx runs its workers as nobody, who may not enter the test's folders.
            "user root;" if os.geteuid() == 0 else "",
            f"pid {folder / 'nginx.pid'};",
            f"error_log {folder / 'error.log'} info;",
            "events { worker_connections 512; }",
            "http {",
            f"    access_log {folder / 'access.log'};",
            *(f"    {name}_temp_path {path};" for name, path in paths.items()),
            f"    add_header {UPSTREAM_HEADER} $upstream_addr always;",
            f"    include {folder / 'hrgraph.conf'};",
            "}",
            "",
        ]
    )
    conf = folder / "nginx.conf"
    conf.write_text(main)
    return conf


@contextlib.contextmanager
def nginx(folder: Path, replicas: list[Replica]) -> Iterator[str]:
    if not NGINX.exists():
        pytest.fail(f"{NGINX} not found: {INSTALL_HINT}", pytrace=False)
    port = free_port()
    conf = nginx_conf(folder, port, replicas)
    log = folder / "error.log"
    test = subprocess.run(
        [str(NGINX), "-t", "-p", str(folder), "-c", str(conf), "-e", str(log)],
        capture_output=True,
        text=True,
    )
    assert test.returncode == 0, test.stderr
    process = Process(
        [str(NGINX), "-p", str(folder), "-c", str(conf), "-e", str(log)], folder / "nginx.out"
    )
    try:
        wait_until(lambda: accepts(port) or not process.alive(), BOUND, what="nginx to listen")
        assert process.alive(), log.read_text()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()


# --- the load --------------------------------------------------------------------------------


def release_of(kind: str, response: httpx.Response) -> str:
    """The release a response's body comes from (not its header): "new"/"old" for the texts that
    differ, a version where the body names one."""
    if kind in ("version", "version-post"):
        bindings = response.json()["results"]["bindings"]
        assert len(bindings) == 1, response.text
        return str(bindings[0]["v"]["value"])
    if kind == "downloads":
        return str(response.json()["current"])
    body = response.text
    found = [name for name, text in (("old", OLD_TEXT), ("new", NEW_TEXT)) if text in body]
    assert len(found) == 1, f"{found}: {body[:300]}"
    return found[0]


#: (kind, method, path, query parameters or form)
REQUESTS: list[tuple[str, str, str, dict[str, str]]] = [
    ("version", "GET", "/sparql", {"query": VERSION_QUERY}),
    ("page", "GET", "/id/city/whitehorse", {"format": "html"}),
    ("version-post", "POST", "/sparql", {"query": VERSION_QUERY}),
    ("turtle", "GET", "/id/city/whitehorse.ttl", {}),
    ("downloads", "GET", "/downloads/", {"format": "json"}),
]


@dataclass
class Seen:
    started: float
    kind: str
    status: int = 0
    header: str = ""
    body: str = ""
    upstream: str = ""
    error: str = ""

    @property
    def answerer(self) -> str:
        """The replica that answered (the last one nginx tried)."""
        return self.upstream.rsplit(",", 1)[-1].strip()


class Load:
    """CLIENTS threads sending REQUESTS in turn through nginx until stopped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(CLIENTS)
        ]

    def _client(self, number: int) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as http:
            turn = number
            while not self._stop.is_set():
                kind, method, path, params = REQUESTS[turn % len(REQUESTS)]
                turn += 1
                seen = Seen(time.monotonic(), kind)
                try:
                    if method == "POST":
                        response = http.post(path, data=params)
                    else:
                        response = http.get(path, params=params)
                    seen.status = response.status_code
                    seen.header = response.headers.get(RELEASE_HEADER, "")
                    seen.upstream = response.headers.get(UPSTREAM_HEADER, "")
                    if response.status_code == 200:
                        seen.body = release_of(kind, response)
                    else:
                        seen.error = response.text[:300]
                except (httpx.HTTPError, AssertionError, ValueError) as error:
                    seen.error = f"{type(error).__name__}: {error}"
                with self._lock:
                    self.seen.append(seen)

    def count(self, which: Callable[[Seen], bool] = lambda _: True) -> int:
        with self._lock:
            return sum(map(which, self.seen))

    def wait_for(self, more: int, which: Callable[[Seen], bool] = lambda _: True) -> None:
        """Until `more` responses (that `which` picks) have come since now."""
        target = self.count(which) + more
        wait_until(lambda: self.count(which) >= target, BOUND, what=f"{more} more responses")

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(BOUND)


def answered_by(address: str, since: float) -> Callable[[Seen], bool]:
    """Picks the responses of requests sent after `since` that the replica at `address` answered."""
    return lambda seen: seen.started > since and seen.answerer == address


# --- the rollout -----------------------------------------------------------------------------


def restart(replica: Replica, built: Built) -> None:
    replica.stop()
    ship(built.staging / built.new, replica.releases)
    point(replica.releases, built.new)
    replica.start(built.new_sources)
    replica.wait_ready()


def switch(replica: Replica, built: Built) -> None:
    ship(built.staging / built.new, replica.releases)
    point(replica.releases, built.new)
    wait_until(lambda: replica.serves() == built.new, BOUND, what="the switch", every=0.05)


@pytest.mark.parametrize("move", [restart, switch], ids=["restart", "switch"])
def test_rollout_behind_nginx(
    built: Built, tmp_path: Path, move: Callable[[Replica, Built], None]
) -> None:
    replicas = [Replica(n, tmp_path) for n in range(REPLICAS)]
    moved: dict[str, tuple[float, float]] = {}  # replica address -> when its move began, ended
    try:
        for replica in replicas:
            ship(built.staging / built.old, replica.releases)
            point(replica.releases, built.old)
            replica.start(built.old_sources)
        for replica in replicas:
            replica.wait_ready()
            assert replica.serves() == built.old
        with nginx(tmp_path, replicas) as url, Load(url) as load:
            load.wait_for(BETWEEN_STEPS)
            for replica in replicas:
                began = time.monotonic()
                move(replica, built)
                ended = time.monotonic()
                moved[replica.address] = (began, ended)
                # Back in nginx's rotation (a stopped replica is left out for fail_timeout)
                # before the next one goes.
                load.wait_for(BETWEEN_STEPS, answered_by(replica.address, since=ended))
        after = {replica.index: replica.serves() for replica in replicas}
        logs = {replica.index: replica.log.read_text() for replica in replicas}
    finally:
        for replica in replicas:
            replica.kill()

    seen = load.seen
    failed = [s for s in seen if s.status != 200 or s.error]
    nginx_log = (tmp_path / "error.log").read_text()[-3000:]
    assert not failed, (
        f"{len(failed)} of {len(seen)} requests failed, first: {failed[:5]}; nginx:\n{nginx_log}"
    )
    # Every response wholly from one release: the body says what the header says.
    expected = {built.old: "old", built.new: "new"}
    for s in seen:
        assert s.header in expected, s
        assert s.body in (s.header, expected[s.header]), s
    # Both releases were served, and requests went on while each replica was being moved.
    assert {s.header for s in seen} == {built.old, built.new}
    for address, (began, ended) in moved.items():
        assert any(began <= s.started <= ended for s in seen), f"no request while {address} moved"
        # Once moved, a replica answers from the new release only.
        late = list(filter(answered_by(address, since=ended), seen))
        assert late and all(s.header == built.new for s in late), late[:5]
    assert after == dict.fromkeys(after, built.new)
    # A replica starts on the release it was given: it builds nothing.
    for index, log in logs.items():
        assert "written to" not in log, f"replica {index} built a release:\n{log}"
