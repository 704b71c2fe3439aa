"""The HTTP connection limits (connections.py) against a real uvicorn server, with raw sockets:
what a client sends and when, byte for byte, is the point of these tests."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import pickle
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conftest import ThreadServer, serve_server
from hrgraph.config import Settings
from hrgraph.web import connections
from hrgraph.web.app import create_app
from hrgraph.web.connections import LimitedHttpToolsProtocol, capped, uvicorn_options

HOST = "127.0.0.1"
ASK = "/sparql?query=ASK%7B%7D"


@dataclass(frozen=True)
class Served:
    server: ThreadServer
    settings: Settings

    @property
    def url(self) -> str:
        return self.server.url

    def release_file(self, name: str) -> tuple[str, bytes]:
        """A file of the current release: its download URL and its content."""
        release = (self.settings.releases / "current").resolve()
        return f"/downloads/{release.name}/{name}", (release / name).read_bytes()


@contextlib.contextmanager
def limited_server(settings: Settings) -> Iterator[Served]:
    """uvicorn over the app with the connection limits of `settings`, on a free loopback port."""
    previous = connections.limits()  # the limits are per process: restored for other servers
    try:
        with serve_server(create_app(settings), **uvicorn_options(settings)) as server:
            yield Served(server, settings)
    finally:
        connections.configure(previous)


@pytest.fixture(scope="module")
def limited(served_settings: Settings) -> Iterator[Served]:
    # Short timeouts; a long keep-alive, so that it never explains a closed connection here.
    settings = served_settings.with_(header_timeout=2.0, send_timeout=1.0, keepalive_timeout=30.0)
    with limited_server(settings) as served:
        yield served


def connect(served: Served, timeout: float = 10, rcvbuf: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:  # before connecting, so that the window the server sees is small from the start
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.connect(served.server.servers[0].sockets[0].getsockname()[:2])
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes (EOF or reset); the socket timeout bounds the wait."""
    chunks = []
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def parse(raw: bytes) -> tuple[int, dict[str, str], str]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body.decode()


def exchange(served: Served, request: bytes) -> tuple[int, dict[str, str], str]:
    with connect(served) as sock:
        sock.sendall(request)
        return parse(read_all(sock))


def get(target: str, *headers: str) -> bytes:
    lines = [f"GET {target} HTTP/1.1", f"Host: {HOST}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def assert_refusal(answer: tuple[int, dict[str, str], str], status: int, *words: str) -> None:
    got, headers, body = answer
    assert got == status, body
    assert headers["connection"] == "close"
    assert headers["content-type"].startswith("text/plain")
    assert body.count("\n") == 1 and body.endswith("\n"), "one line"
    for word in words:
        assert word in body


# --- the request target ---------------------------------------------------------------------


def test_a_request_target_over_max_url_bytes_gets_414_naming_the_limit(
    limited: Served,
) -> None:
    limit = limited.settings.max_url_bytes
    base = "/?pad="
    at_limit = base + "a" * (limit - len(base))
    assert exchange(limited, get(at_limit, "Connection: close"))[0] == 200
    answer = exchange(limited, get(at_limit + "a"))
    assert_refusal(answer, 414, str(limit), "HRGRAPH_MAX_URL_BYTES / --max-url-bytes", "POST")


# --- the header section ---------------------------------------------------------------------


def test_a_header_section_over_max_header_bytes_gets_431(limited: Served) -> None:
    limit = limited.settings.max_header_bytes
    # What counts is names and values: Host, Connection and X-Pad, whose value fills the rest.
    pad = "a" * (limit - len("Host" + HOST + "Connection" + "close" + "X-Pad"))
    assert exchange(limited, get("/", "Connection: close", f"X-Pad: {pad}"))[0] == 200
    answer = exchange(limited, get("/", "Connection: close", f"X-Pad: {pad}a"))
    assert_refusal(answer, 431, str(limit), "HRGRAPH_MAX_HEADER_BYTES / --max-header-bytes")


def test_a_huge_unfinished_header_is_refused_before_it_is_read(limited: Served) -> None:
    limit = limited.settings.max_header_bytes
    total, piece = 2 << 20, b"a" * 65536
    # Past what an unfinished head may hold, yet within the kernel's buffers: the server cannot
    # refuse (and reset) before this send is done.
    first = 2 * limit + 4096
    with connect(limited) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * first)
        # The header never ends, so any answer means the server refused it part way.
        assert select.select([sock], [], [], 10)[0], "no answer to an endless header"
        assert_refusal(parse(read_all(sock)), 431, str(limit))
        with pytest.raises(OSError):  # closed: the rest of the 2 MB is not taken
            for _ in range((total - first) // len(piece)):
                sock.sendall(piece)


# --- the time a request head may take -------------------------------------------------------


def drip(socks: list[socket.socket], deadline: float) -> list[bytes]:
    """Send one header byte every 0.5 s on each socket until the server closes it; returns
    what each received."""
    received = {sock: b"" for sock in socks}
    open_ = set(socks)
    next_drip = time.monotonic()
    while open_ and time.monotonic() < deadline:
        readable, _, _ = select.select(list(open_), [], [], max(0.0, next_drip - time.monotonic()))
        for sock in readable:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            received[sock] += data
            if not data:
                open_.discard(sock)
        if time.monotonic() >= next_drip:
            next_drip += 0.5
            for sock in open_ - set(readable):
                with contextlib.suppress(OSError):  # closed meanwhile: its EOF comes next
                    sock.send(b"a")
    assert not open_, f"{len(open_)} slow connections still open"
    return list(received.values())


def test_slowloris_connections_are_closed_with_408_while_others_are_served(
    limited: Served,
) -> None:
    timeout = limited.settings.header_timeout
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(connect(limited)) for _ in range(50)]
        for sock in socks:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        with httpx.Client(base_url=limited.url, timeout=30) as http:
            assert http.get("/sparql", params={"query": "ASK {}"}).status_code == 200
        answers = drip(socks, deadline=time.monotonic() + timeout + 10)
    assert len(answers) == 50
    for answer in answers:
        assert_refusal(parse(answer), 408, "HRGRAPH_HEADER_TIMEOUT / --header-timeout")


def test_an_unfinished_head_gets_408_after_header_timeout(limited: Served) -> None:
    timeout = limited.settings.header_timeout
    with connect(limited, timeout=timeout + 10) as sock:
        sock.sendall(b"GET /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert_refusal(parse(read_all(sock)), 408, f"{timeout:g} s")


def test_a_later_request_head_on_a_kept_alive_connection_is_timed_too(
    limited: Served,
) -> None:
    timeout = limited.settings.header_timeout
    target, content = limited.release_file("SHA256SUMS")
    with connect(limited, timeout=timeout + 10) as sock:
        sock.sendall(get(target))
        first = b""
        while not first.endswith(b"\r\n\r\n" + content):  # bounded by the socket timeout
            data = sock.recv(65536)
            assert data, "closed after the first answer"
            first += data
        assert first.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert_refusal(parse(read_all(sock)), 408)


def test_a_body_that_trickles_in_gets_408_after_header_timeout(limited: Served) -> None:
    """A slow body (slowloris after the head) would hold its connection for ever."""
    timeout = limited.settings.header_timeout
    head = (
        f"POST /sparql HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/sparql-query\r\n"
        "Content-Length: 1000\r\n\r\nASK"
    )
    with connect(limited, timeout=timeout + 10) as sock:
        sock.sendall(head.encode())
        answer = b""
        for _ in range(int(timeout / 0.25) + 40):  # one byte every 0.25 s, bounded
            readable, _, _ = select.select([sock], [], [], 0.25)
            if readable:
                answer = sock.recv(65536)
                break
            sock.sendall(b" ")
    status, _, body = parse(answer)
    assert status == 408, body
    assert "HRGRAPH_HEADER_TIMEOUT" in body
    assert exchange(limited, get(ASK, "Connection: close"))[0] == 200  # others are served


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(
    limited: Served,
) -> None:
    timeout = limited.settings.header_timeout
    with connect(limited, timeout=timeout + 10) as sock:
        assert read_all(sock) == b""


# --- a client that does not take its answer -------------------------------------------------


def kernel_send_buffer_max() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    except (OSError, IndexError, ValueError):
        return 16 << 20


def test_a_client_that_reads_nothing_is_dropped_after_send_timeout(limited: Served) -> None:
    timeout = limited.settings.send_timeout
    target, content = limited.release_file("hrgraph.ttl")
    # One download fits in the kernel's socket buffers (megabytes on loopback) and never stalls
    # the server; pipelined copies of it, more than those buffers hold, do.
    copies = min(200, math.ceil((kernel_send_buffer_max() + (2 << 20)) / len(content)))
    with connect(limited, rcvbuf=4096) as sock:
        sock.sendall(get(target) * copies)
        with httpx.Client(base_url=limited.url, timeout=30) as http:
            assert http.get(target).content == content
        poll = select.poll()
        poll.register(sock, select.POLLRDHUP)  # the peer closed or reset, whatever is unread
        assert poll.poll((timeout + 15) * 1000), "a stalled download kept its connection"
        received = len(read_all(sock))
    assert 0 < received < copies * len(content)


# --- the number of connections --------------------------------------------------------------


def test_connections_past_max_connections_get_503_until_some_close(
    served_settings: Settings,
) -> None:
    settings = served_settings.with_(max_connections=3, header_timeout=30.0)
    with limited_server(settings) as served, contextlib.ExitStack() as stack:
        held = [stack.enter_context(connect(served)) for _ in range(3)]
        answer = exchange(served, get(ASK))
        assert_refusal(answer, 503, "3 connections", "HRGRAPH_MAX_CONNECTIONS / --max-connections")
        assert answer[1]["retry-after"] == "2"
        held[0].sendall(get(ASK, "Connection: close"))  # the cap holds this one: served
        assert parse(read_all(held[0]))[0] == 200
        # held[0] is closed (by the server, so it has counted it): a new one is served
        assert exchange(served, get(ASK, "Connection: close"))[0] == 200


# --- the access log -------------------------------------------------------------------------


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def access_log() -> Iterator[list[str]]:
    logger = logging.getLogger("uvicorn.access")
    handler, level = Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_access_log_lines_of_long_targets_are_capped(limited: Served) -> None:
    query = "ASK {}\n#" + "x" * 20_000
    long_url = "/?pad=" + "a" * limited.settings.max_url_bytes
    with access_log() as lines:
        with httpx.Client(base_url=limited.url, timeout=30) as http:
            assert http.get("/sparql", params={"query": query}).status_code == 200
        assert exchange(limited, get(long_url))[0] == 414
    assert len(lines) == 2, lines
    for line, status in zip(lines, ("200", "414"), strict=True):
        assert line.endswith(status) and len(line) < 700
        match = re.search(r"\.\.\.\[\+(\d+) bytes\]", line)
        assert match and int(match.group(1)) > 19_000


def test_capping_a_target_twice_changes_nothing() -> None:
    assert capped("/short") == "/short"
    once = capped("/" + "a" * 2000)
    assert once.endswith("...[+1501 bytes]") and capped(once) == once


# --- what stays the same --------------------------------------------------------------------


def test_requests_under_every_limit_are_served(limited: Served) -> None:
    limits = limited.settings
    with httpx.Client(base_url=limited.url, timeout=30) as http:  # one connection
        assert http.get("/").status_code == 200
        assert http.get("/sparql", params={"query": "ASK {}"}).json()["boolean"] is True
        assert http.post("/sparql", data={"query": "ASK {}"}).json()["boolean"] is True
        big = "ASK {}\n#" + "x" * 90_000  # a body beyond a socket read, after a small head
        posted = http.post(
            "/sparql", content=big, headers={"content-type": "application/sparql-query"}
        )
        assert posted.json()["boolean"] is True
        headers = {"accept": "text/turtle", "x-pad": "a" * (limits.max_header_bytes // 2)}
        assert http.get("/id/city/whitehorse", headers=headers).status_code == 200


def test_pipelined_requests_are_all_answered(limited: Served) -> None:
    with connect(limited) as sock:
        sock.sendall(get(ASK) * 3 + get(ASK, "Connection: close"))
        assert read_all(sock).count(b"HTTP/1.1 200 OK\r\n") == 4


# --- wiring ---------------------------------------------------------------------------------


def test_uvicorn_options_configure_this_process() -> None:
    previous = connections.limits()
    settings = previous.with_(keepalive_timeout=2.5, max_connections=7)
    try:
        options = uvicorn_options(settings)
        assert connections.limits() is settings
    finally:
        connections.configure(previous)
    assert options["http"] is LimitedHttpToolsProtocol
    assert pickle.loads(pickle.dumps(options["http"])) is LimitedHttpToolsProtocol
    assert options["timeout_keep_alive"] == 3
    assert options["limit_concurrency"] == 8  # uvicorn refuses at >=, the protocol past 7
    assert "timeout_graceful_shutdown" not in options


def test_a_worker_process_reads_its_limits_from_the_environment() -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HRGRAPH_")}
    environ |= {"HRGRAPH_MAX_URL_BYTES": "1234", "HRGRAPH_SEND_TIMEOUT": "7.5"}
    code = (
        "from hrgraph.web.connections import limits\n"
        "print(limits().max_url_bytes, limits().send_timeout)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.split() == ["1234", "7.5"]
