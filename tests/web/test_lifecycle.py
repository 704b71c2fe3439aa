"""The process lifecycle of `hrgraph serve`, on real processes: what SIGKILL, SIGTERM and a server
process that cannot start leave behind (nothing), and how long they take (bounded).

Every process a test starts carries a unique tag in its environment, inherited by the whole tree
(server processes, forkservers, query processes), so that the processes left over are found in
/proc even once they have been reparented, and are all killed at the end of the test.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import ROOT
from hrgraph.config import Settings
from support import RUNAWAY, cpu_ticks, free_port, wait_until

TAG = "HRGRAPH_LIFECYCLE_TEST_TAG"  # not a setting: load_settings ignores it
SHUTDOWN_TIMEOUT = 2
#: How long a process of the tree may take to start or to be seen exiting (bounds, not patience).
BOUND = 30
#: How often a wait looks again (each look at the tree reads every process's environment).
POLL = 0.05


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def tagged(tag: str) -> set[int]:
    """The live processes whose environment carries `tag`."""
    marker = f"{TAG}={tag}".encode()
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in environ and alive(int(entry.name)):
            found.add(int(entry.name))
    return found


class Launched:
    """A process tree started with a tag, and its stderr read as it comes (a full pipe would
    block the server's logging)."""

    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self.tag = uuid.uuid4().hex
        environment = {**os.environ, **(env or {}), TAG: self.tag}
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=environment
        )
        self.lines: list[str] = []
        self._seen: set[int] = set()
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:  # ends once every process holding the pipe is gone
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    @property
    def log(self) -> str:
        with self._changed:
            return "".join(self.lines)

    def count(self, text: str) -> int:
        with self._changed:
            return sum(text in line for line in self.lines)

    def wait_for(self, text: str, count: int = 1, timeout: float = 60) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self.count(text) >= count, timeout)
        assert self.count(text) >= count, f"no {count}x {text!r} in:\n{self.log}"

    def pids(self, text: str) -> list[int]:
        """The pids uvicorn names in its lines "<text> [pid]"."""
        with self._changed:
            return [
                int(line.rsplit("[", 1)[1].split("]")[0]) for line in self.lines if text in line
            ]

    def left(self) -> set[int]:
        """The live processes of the tree: tagged now, or seen tagged before (an exiting process
        has lost its environment before it is a zombie)."""
        self._seen |= tagged(self.tag)
        return {pid for pid in self._seen if alive(pid)}

    def all_lines(self) -> list[str]:
        """Every line, once the last process holding the pipe has exited."""
        self._reader.join(10)
        assert not self._reader.is_alive(), "some process still holds stderr"
        return list(self.lines)

    def kill_all(self) -> None:
        for pid in {self.process.pid} | self.left():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(30)
        self._reader.join(30)
        assert self.process.stderr is not None
        self.process.stderr.close()


@contextlib.contextmanager
def launched(command: list[str], env: dict[str, str] | None = None) -> Iterator[Launched]:
    tree = Launched(command, env)
    try:
        yield tree
    finally:
        tree.kill_all()  # on failure too: leave nothing running


def serve_command(settings: Settings, port: int, *flags: str) -> list[str]:
    """`hrgraph serve` over the session's release."""
    return [
        *(sys.executable, "-m", "hrgraph", "serve", "--port", str(port)),
        *("--sources", str(ROOT), "--releases", str(settings.releases), *flags),
    ]


@contextlib.contextmanager
def serve(
    settings: Settings, port: int, *flags: str, workers: int = 1
) -> Iterator[tuple[Launched, str]]:
    """`hrgraph serve`, ready (every server process has started, the port accepts)."""
    command = serve_command(settings, port, "--workers", str(workers), *flags)
    env = {"HRGRAPH_SHUTDOWN_TIMEOUT": str(SHUTDOWN_TIMEOUT)}
    with launched(command, env) as server:
        server.wait_for("Application startup complete", count=workers)
        # uvicorn says so before it listens: wait for the socket too.
        wait_until(
            lambda: accepts(port), BOUND, what=f"port {port} to accept connections", every=POLL
        )
        yield server, f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def running_query(server: Launched, url: str) -> Iterator[list[int]]:
    """A runaway query under way (some process of the tree is burning CPU on it); yields the
    status it got once the block ends (none: the connection was dropped)."""
    before = {pid: cpu_ticks(pid) for pid in server.left()}
    status: list[int] = []

    def ask() -> None:
        with contextlib.suppress(httpx.HTTPError):
            answer = httpx.post(f"{url}/sparql", data={"query": RUNAWAY}, timeout=120)
            status.append(answer.status_code)

    client = threading.Thread(target=ask, daemon=True)
    client.start()
    wait_until(
        lambda: any(cpu_ticks(pid) - before.get(pid, 0) >= 30 for pid in server.left()),
        BOUND,
        what="a query process busy on the query",
        every=POLL,
    )
    yield status
    client.join(30)
    assert not client.is_alive(), "the client is still waiting for an answer"


@pytest.mark.parametrize("workers", [1, 2])
def test_a_killed_server_leaves_nothing_behind(served_settings: Settings, workers: int) -> None:
    """SIGKILL of the top process, mid-query: every other process of the tree exits within
    seconds (with two workers: server processes restarted by SIGHUP too, whose PDEATHSIG is tied
    to the supervisor's thread that restarted them), and the port can be served again."""
    port = free_port()
    with serve(served_settings, port, "--query-timeout", "60", workers=workers) as (server, url):
        if workers > 1:
            server.process.send_signal(signal.SIGHUP)  # a rolling restart of the server processes
            server.wait_for("Application startup complete", count=2 * workers)
            server.wait_for("Finished server process", count=workers)
        servers = server.pids("Started server process")[-workers:]
        with running_query(server, url):
            tree = server.left()
            assert set(servers) < tree
            server.process.kill()
            server.process.wait(10)
            wait_until(
                lambda: not server.left(),
                BOUND,
                what="every process of the tree to exit",
                every=POLL,
            )
        assert not any(alive(pid) for pid in tree)
    with serve(served_settings, port) as (_, url):
        assert httpx.get(f"{url}/sparql", params={"query": "ASK {}"}).status_code == 200


def native_libraries(pid: int) -> str:
    """The shared objects mapped in a process (an imported extension module maps its own)."""
    return Path(f"/proc/{pid}/maps").read_text()


def test_the_supervisor_holds_neither_the_application_nor_the_builder(
    served_settings: Settings,
) -> None:
    """With `--workers 2` the top process supervises only: the release was prepared in a process
    of its own and the application is imported in the server processes, so the supervisor maps
    neither pyoxigraph (engine, builder) nor pydantic_core (FastAPI), which they do map."""
    with serve(served_settings, free_port(), workers=2) as (server, url):
        assert httpx.get(f"{url}/sparql", params={"query": "ASK {}"}).status_code == 200
        servers = server.pids("Started server process")
        assert len(servers) == 2
        top = native_libraries(server.process.pid)
        assert "httptools" in top  # the probe sees the supervisor's extension modules
        assert "pyoxigraph" not in top and "pydantic_core" not in top
        for pid in servers:
            assert "pyoxigraph" in native_libraries(pid)
            assert "pydantic_core" in native_libraries(pid)


@pytest.mark.parametrize(
    ("workers", "stop"), [(1, signal.SIGTERM), (2, signal.SIGTERM), (1, signal.SIGINT)]
)
def test_a_stop_signal_ends_a_running_query_after_the_shutdown_timeout(
    served_settings: Settings, workers: int, stop: signal.Signals
) -> None:
    """SIGTERM (or SIGINT, Ctrl-C) with a query that would run for 60 s: the requests get
    `shutdown_timeout`, then the query is stopped and the whole tree is gone, with exit code 0."""
    with serve(served_settings, free_port(), "--query-timeout", "60", workers=workers) as (
        server,
        url,
    ):
        with running_query(server, url) as status:
            tree = server.left()
            start = time.monotonic()
            server.process.send_signal(stop)
            code = server.process.wait(SHUTDOWN_TIMEOUT + 15)  # the query's limit is 60 s
            waited = time.monotonic() - start
            wait_until(lambda: not server.left(), 10, what="the processes to exit", every=POLL)
        assert code == 0, server.log
        assert waited >= SHUTDOWN_TIMEOUT  # the requests under way did get their time
        assert not any(alive(pid) for pid in tree)
        # The query was stopped at the end of the drain, and its request told so (not cut off).
        assert status == [503], server.log
        assert "Traceback" not in server.log


def test_server_processes_that_cannot_start_end_the_server(served_settings: Settings) -> None:
    """Every server process fails while opening the release (here: the Graph Store it must be
    loaded into refuses connections): the server exits 1 with one error line per process and one
    for the server, no traceback, instead of restarting them forever while nothing listens."""
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    command = serve_command(
        served_settings,
        free_port(),
        *("--workers", "2", "--remote-endpoint", f"{closed}/query"),
        *("--remote-store", f"{closed}/store"),
    )
    with launched(command) as server:
        assert server.process.wait(60) == 1, server.log
        wait_until(lambda: not server.left(), 10, what="the processes to exit", every=POLL)
        errors = [line for line in server.all_lines() if line.startswith("error: ")]
        assert 1 <= len(errors) - 1 <= 2, server.log
        assert "cannot load the release" in errors[0]
        assert "before it could serve" in errors[-1]
        assert "Traceback" not in server.log


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_one_error_line(served_settings: Settings, workers: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = serve_command(served_settings, port, "--workers", workers)
        with launched(command) as server:
            assert server.process.wait(60) == 1, server.log
            lines = server.all_lines()
    assert lines[-1] == f"error: the server could not start on 127.0.0.1:{port}\n"
    assert "address already in use" in server.log.lower()
    assert "Traceback" not in server.log


CRASHING = """
import os, signal, sys

import uvicorn

from hrgraph.web.supervisor import Supervisor


def crash():
    os.kill(os.getpid(), signal.SIGKILL)  # dies while starting, without a word (a segfault)


if __name__ == "__main__":
    config = uvicorn.Config("crashing:crash", factory=True, workers=2, port=int(sys.argv[1]))
    supervisor = Supervisor(config, sockets=[config.bind_socket()])
    supervisor.run()
    print(supervisor.failure, file=sys.stderr, flush=True)
    sys.exit(1 if supervisor.failure else 0)
"""


def test_a_server_process_that_crashes_while_starting_ends_the_server(tmp_path: Path) -> None:
    """Not only uvicorn's "failed to start" exit code: any death before serving stops the
    supervisor (plain uvicorn would start the process again, forever)."""
    script = tmp_path / "crashing.py"
    script.write_text(CRASHING)
    with launched([sys.executable, str(script), str(free_port())]) as supervisor:
        assert supervisor.process.wait(60) == 1, supervisor.log
        wait_until(lambda: not supervisor.left(), 10, what="the processes to exit", every=POLL)
        assert "exited with code -9 before it could serve" in supervisor.log


ORPHAN = """
import multiprocessing, os, sys, time
from pathlib import Path


def child(folder):
    parent = multiprocessing.parent_process()
    while os.getppid() == parent.pid:  # the supervisor dies before the child sets PDEATHSIG
        time.sleep(0.01)
    from hrgraph.web.supervisor import die_with_supervisor

    Path(folder, "orphaned").touch()
    die_with_supervisor()
    Path(folder, "survived").touch()


if __name__ == "__main__":
    multiprocessing.get_context("spawn").Process(target=child, args=(sys.argv[1],)).start()
    os._exit(0)
"""


def test_a_server_process_whose_supervisor_is_already_gone_exits(tmp_path: Path) -> None:
    """The race PR_SET_PDEATHSIG leaves: a supervisor that died before the prctl sends no signal,
    so the child checks its parent once the prctl is set."""
    script = tmp_path / "orphan.py"
    script.write_text(ORPHAN)
    with launched([sys.executable, str(script), str(tmp_path)]) as tree:
        assert tree.process.wait(30) == 0
        wait_until(
            lambda: (tmp_path / "orphaned").exists(),
            BOUND,
            what="the child to be orphaned",
            every=POLL,
        )
        wait_until(lambda: not tree.left(), BOUND, what="the orphaned child to exit", every=POLL)
        assert not (tmp_path / "survived").exists()
