"""The replay of whole answers in front of the application (src/hrgraph/web/replay.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from hrgraph.web.replay import LARGEST, ReplayCache


@dataclass
class Current:
    version: str = "v1"


@dataclass
class FakePublisher:
    current: Current = field(default_factory=Current)
    link_moved: bool = False

    def moved(self) -> bool:
        return self.link_moved


class Inner:
    """An application that counts its calls and answers with the release header."""

    def __init__(self, publisher: FakePublisher, status: int = 200, size: int = 10) -> None:
        self.publisher, self.status, self.size, self.calls = publisher, status, size, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        headers = [
            (b"etag", b'W/"x"'),
            (b"x-hrgraph-release", self.publisher.current.version.encode()),
        ]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        body = b"" if scope["method"] == "HEAD" else b"a" * self.size
        await send({"type": "http.response.body", "body": body})


def call(
    app: Any,
    method: str = "GET",
    path: str = "/sparql",
    query: bytes = b"query=ASK%7B%7D",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> tuple[int, dict[bytes, bytes], bytes]:
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": headers or [(b"accept", b"application/json")],
    }
    asyncio.run(app(scope, receive, send))
    start = messages[0]
    body = b"".join(m.get("body", b"") for m in messages[1:])
    return start["status"], dict(start["headers"]), body


def make(**inner: Any) -> tuple[ReplayCache, Inner, FakePublisher]:
    publisher = FakePublisher()
    app = Inner(publisher, **inner)
    return ReplayCache(app, publisher), app, publisher  # type: ignore[arg-type]


def test_an_identical_get_is_replayed_without_the_application() -> None:
    replay, inner, _ = make()
    first, second = call(replay), call(replay)
    assert first == second
    assert inner.calls == 1


def test_head_is_answered_from_a_recorded_get_without_a_body() -> None:
    replay, inner, _ = make()
    status, headers, body = call(replay)
    assert body
    assert call(replay, "HEAD") == (status, headers, b"")
    assert inner.calls == 1


def test_a_head_is_never_recorded_as_the_answer_to_a_get() -> None:
    replay, inner, _ = make()
    call(replay, "HEAD")
    assert call(replay)[2] == b"a" * 10
    assert inner.calls == 2


def test_conditional_range_and_varying_requests_reach_the_application() -> None:
    replay, inner, _ = make()
    call(replay)
    call(replay, headers=[(b"accept", b"application/json"), (b"if-none-match", b'W/"x"')])
    call(replay, headers=[(b"accept", b"application/json"), (b"range", b"bytes=0-1")])
    call(replay, headers=[(b"accept", b"text/csv")])
    call(replay, query=b"query=ASK%7B%3Fs%3Fp%3Fo%7D")
    assert inner.calls == 5


def test_a_new_release_is_never_answered_with_the_old_one() -> None:
    replay, inner, publisher = make()
    call(replay)
    publisher.current.version = "v2"
    _, headers, _ = call(replay)
    assert headers[b"x-hrgraph-release"] == b"v2"
    assert inner.calls == 2


def test_a_moved_current_goes_to_the_application_which_opens_it() -> None:
    """The replay never opens a release itself (that blocks): it passes the request on."""
    replay, inner, publisher = make()
    call(replay)
    publisher.link_moved = True
    call(replay)
    assert inner.calls == 2


def test_errors_and_large_answers_are_not_recorded() -> None:
    for inner_settings in ({"status": 400}, {"size": LARGEST + 1}):
        replay, inner, _ = make(**inner_settings)
        call(replay)
        call(replay)
        assert inner.calls == 2


def test_other_paths_are_not_replayed() -> None:
    replay, inner, _ = make()
    call(replay, path="/downloads/")
    call(replay, path="/downloads/")
    assert inner.calls == 2
