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
