"""Replay of whole answers: an identical GET is answered from memory before any routing.

Answers are stable for a release (that is what their ETags say), so the bytes a GET produced can
be sent again, headers and all, to the next identical GET for the same release: no query check,
no negotiation, no thread hop. Only 200 answers carrying the release header are kept, keyed by
the release version and everything the answer can vary on; conditional and range requests go
through the application as usual. A release switch empties the memory. Nothing here blocks the
event loop: a moved `current` is left to the handlers (in worker threads) to open.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hrgraph.engine.lru import SizedLRU, footprint
from hrgraph.engine.publisher import Publisher
from hrgraph.web.http import RELEASE_HEADER

#: Paths whose GET answers are replayed (the SPARQL endpoint, resource pages, canned queries).
PREFIXES = ("/sparql", "/id/", "/queries/")
#: Requests with these headers are answered by the application (304s, ranges, credentials).
BYPASS = {b"if-none-match", b"if-modified-since", b"range", b"authorization", b"cookie"}
#: What an answer can vary on.
VARY = (b"accept", b"accept-encoding", b"accept-language")
LARGEST = 512 * 1024
CAPACITY = 32 * 1024 * 1024


@dataclass(frozen=True)
class Recorded:
    headers: list[tuple[bytes, bytes]]
    body: bytes


class ReplayCache:
    def __init__(self, app: ASGIApp, publisher: Publisher, capacity: int = CAPACITY) -> None:
        self.app = app
        self.publisher = publisher
        self._items: SizedLRU[tuple[object, ...], Recorded] = SizedLRU(
            capacity, lambda recorded: len(recorded.body) + footprint(recorded.headers), LARGEST
        )
        self._version = ""
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self._key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        recorded = self._get(key)
        if recorded is not None:
            await self._replay(scope, send, recorded)
            return
        if scope["method"] == "GET":  # a HEAD answer has no body to keep
            send = self._recorder(key, send)
        await self.app(scope, receive, send)

    def _key(self, scope: Scope) -> tuple[object, ...] | None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return None
        if not scope["path"].startswith(PREFIXES):
            return None
        headers = dict(scope["headers"])
        if BYPASS & headers.keys():
            return None
        if self.publisher.moved():
            # A new release: the application opens it (off the event loop, in the thread of
            # a handler: opening verifies and starts an engine) and answers from it.
            return None
        version = self.publisher.current.version
        varies = tuple(headers.get(name, b"") for name in VARY)
        return (version, scope["path"], scope["query_string"], b"origin" in headers, *varies)

    def _get(self, key: tuple[object, ...]) -> Recorded | None:
        return self._items.get(key)

    def _put(self, key: tuple[object, ...], recorded: Recorded) -> None:
        with self._lock:
            if key[0] != self._version:  # a new release: the old answers are of no use
                self._items.clear()
                self._version = str(key[0])
        self._items.put(key, recorded)

    async def _replay(self, scope: Scope, send: Send, recorded: Recorded) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": recorded.headers})
        body = b"" if scope["method"] == "HEAD" else recorded.body
        await send({"type": "http.response.body", "body": body})

    def _recorder(self, key: tuple[object, ...], send: Send) -> Send:
        """Pass the answer on, keeping a copy of a whole, small, 200 GET answer of this release."""
        recorder = _Recorder(str(key[0]).encode())

        async def recording(message: Message) -> None:
            recorded = recorder.see(message)
            if recorded is not None:
                self._put(key, recorded)
            await send(message)

        return recording


class _Recorder:
    def __init__(self, version: bytes) -> None:
        self.version = version
        self.keep = False
        self.headers: list[tuple[bytes, bytes]] = []
        self.parts: list[bytes] = []
        self.size = 0

    def see(self, message: Message) -> Recorded | None:
        """The answer to keep, once its last part has been seen."""
        if message["type"] == "http.response.start":
            self.headers = list(message.get("headers", []))
            names = dict(self.headers)
            self.keep = (
                message["status"] == 200
                and names.get(RELEASE_HEADER.lower().encode()) == self.version
                and b"etag" in names
            )
        elif message["type"] == "http.response.body" and self.keep:
            body: bytes = message.get("body", b"")
            self.parts.append(body)
            self.size += len(body)
            if self.size > LARGEST:
                self.keep = False
            elif not message.get("more_body", False):
                return Recorded(self.headers, b"".join(self.parts))
        return None
