"""Limits of the HTTP connections, enforced before the application sees a request.

uvicorn's httptools protocol buffers a request head of any size for as long as the client likes,
and waits forever for a client that stops reading an answer. `LimitedHttpToolsProtocol` adds:

- 414 when the request target passes `max_url_bytes`, counted as its pieces arrive;
- 431 when the header names and values pass `max_header_bytes` (an unfinished head is also
  bounded on the raw bytes it holds, since httptools buffers a header until it ends);
- 408 and close when the request head has not arrived within `header_timeout` (a connection that
  sent nothing is closed silently);
- close when the client has taken no data for `send_timeout` while an answer is being written;
- 503 past `max_connections` open connections.

uvicorn spawns its worker processes with a pickled config, so the class is module level and
reads its limits from `configure` (called by `uvicorn_options`) or, in a process where that was
not called, once from the HRGRAPH_* environment the server sets for its workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import struct
from typing import Any, Literal

import httptools
from uvicorn._types import ASGI3Application
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.server import ServerState

from hrgraph.config import Settings, load_settings, mention
from hrgraph.errors import UnavailableError

#: Longest request target an access-log line shows; the rest is replaced by a marker.
LOGGED_TARGET_CHARS = 500

_settings: Settings | None = None


def configure(settings: Settings) -> None:
    """Set the limits of the connections this process accepts from now on."""
    global _settings
    _settings = settings
    _cap_access_log()


def limits() -> Settings:
    """This process's limits: `configure`'s, else (a spawned worker) the HRGRAPH_* environment."""
    if _settings is None:
        configure(load_settings(environ=os.environ))
    assert _settings is not None
    return _settings


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for uvicorn.run / uvicorn.Config that enforce the connection limits."""
    configure(settings)
    return {
        "http": LimitedHttpToolsProtocol,
        # uvicorn answers a bare 503 once connections >= limit; the protocol answers first, with
        # a message, once they pass max_connections, so this is only the backstop.
        "limit_concurrency": settings.max_connections + 1,
        "timeout_keep_alive": math.ceil(settings.keepalive_timeout),
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }


class CappedRequestLine(logging.Filter):
    """Shortens the request target of uvicorn's access-log lines (a long query string would
    otherwise be logged in full by every request that sends it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (*args[:2], capped(args[2]), *args[3:])
        return True


def capped(target: str, limit: int = LOGGED_TARGET_CHARS) -> str:
    # A marker that the cap leaves alone, so that capping twice changes nothing.
    if len(target) <= limit or target.endswith(" bytes]"):
        return target
    return f"{target[:limit]}...[+{len(target) - limit} bytes]"


def _cap_access_log() -> None:
    # On the logger rather than a handler, so that every handler (and a test's) sees short lines;
    # dictConfig keeps a logger's filters, so this survives uvicorn configuring its logging.
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, CappedRequestLine) for f in access.filters):
        access.addFilter(CappedRequestLine())


class Refusal(Exception):
    """A request refused before the application: raised in a parser callback to stop parsing."""

    def __init__(self, status: int, message: str, *headers: tuple[bytes, bytes]) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


Phase = Literal["idle", "head", "body"]


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with limits on the request head and on slow clients."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits()
        self.phase: Phase = "idle"
        self.refused = False
        self.begun = 0  # requests begun during the current feed of the parser
        self.url_bytes = 0
        self.header_bytes = 0  # names and values of the headers the parser has delivered
        self.head_bytes = 0  # raw bytes of an unfinished head, which the parser may be holding
        self.head_timer: asyncio.TimerHandle | None = None
        self.send_timer: asyncio.TimerHandle | None = None
        self.send_mark = 0
        self.running: RequestResponseCycle | None = None

    # --- the connection ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.arm_head_timer()  # the first request head must arrive within header_timeout

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self.head_timer, self.send_timer):
            if timer is not None:
                timer.cancel()
        # uvicorn tells only the newest request's cycle; with pipelined requests, the one still
        # answering would write to the closed transport (an error under uvloop).
        if self.running is not None and not self.running.response_complete:
            self.running.disconnected = True
            self.running.message_event.set()
        super().connection_lost(exc)

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        self.running = cycle
        super()._start_asgi_task(cycle, app)

    def data_received(self, data: bytes) -> None:
        if self.refused or self.transport.is_closing():
            return  # refused or timed out: nothing more of it is read
        self._unset_keepalive_if_required()
        before, self.begun = self.phase, 0
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, Refusal):
                self.refuse(error.__context__)
            else:
                self.invalid()
            return
        except httptools.HttpParserError:
            self.invalid()
            return
        except httptools.HttpParserUpgrade:
            self.upgrade()
            return
        self.count_head(before, len(data))

    def invalid(self) -> None:
        message = "Invalid HTTP request received."  # uvicorn's own answer to a parser error
        self.logger.warning(message)
        self.send_400_response(message)

    def upgrade(self) -> None:
        if self._should_upgrade():
            self.handle_websocket_upgrade()
        else:
            self._unsupported_upgrade_warning()

    # --- the request head -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.phase, self.begun = "head", self.begun + 1
        self.url_bytes = self.header_bytes = self.head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self.url_bytes += len(url)
        over = self.url_bytes - self.limits.max_url_bytes
        if over > 0:
            self.url += url[: len(url) - over]  # only what the limit allows, for the log line
            raise self.too_long()
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_bytes += len(name) + len(value)
        if self.header_bytes > self.limits.max_header_bytes:
            raise self.too_large()
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.phase = "body"
        self.cancel_head_timer()
        if len(self.connections) > self.limits.max_connections:
            raise self.too_many()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.phase = "idle"
        super().on_message_complete()

    def count_head(self, before: Phase, size: int) -> None:
        """Bound what an unfinished head holds: httptools keeps a header until it ends, so a
        single endless header never reaches `on_header`."""
        if self.phase != "head":
            return
        # A feed whose bytes all belong to this head; when it began after another request in
        # the same feed, its share is unknown and counting starts with the next feed.
        if (before, self.begun) in (("head", 0), ("idle", 1)):
            self.head_bytes += size
        # The raw header section also holds separators: twice the limit leaves room for them.
        if self.head_bytes - self.url_bytes > 2 * self.limits.max_header_bytes + 1024:
            self.refuse(self.too_large())
        elif self.head_timer is None:
            self.arm_head_timer()  # a later request on this connection: time its head too

    def arm_head_timer(self) -> None:
        self.head_timer = self.loop.call_later(self.limits.header_timeout, self.head_timed_out)

    def cancel_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def head_timed_out(self) -> None:
        self.head_timer = None
        if self.flow.read_paused:
            self.arm_head_timer()  # uvicorn stopped reading (pipelining): not the client's delay
        elif self.phase == "head":
            self.refuse(self.too_slow())
        elif not self.transport.is_closing():
            self.transport.close()  # nothing of a request came: nobody to answer

    # --- refusals ---------------------------------------------------------------------------

    def too_long(self) -> Refusal:
        limit = self.limits.max_url_bytes
        return Refusal(
            414,
            f"The request target (path and query string) is longer than {limit} bytes, the "
            f"limit ({mention('max_url_bytes')}); send long queries by POST, in the body.",
        )

    def too_large(self) -> Refusal:
        limit = self.limits.max_header_bytes
        return Refusal(
            431,
            f"The request header section is larger than {limit} bytes, the limit "
            f"({mention('max_header_bytes')}); send fewer or shorter headers (cookies included).",
        )

    def too_slow(self) -> Refusal:
        limit = self.limits.header_timeout
        return Refusal(
            408,
            f"The request line and headers did not arrive within {limit:g} s, the limit "
            f"({mention('header_timeout')}); send the whole request head at once.",
        )

    def too_many(self) -> Refusal:
        limit, retry = self.limits.max_connections, UnavailableError.retry_after
        return Refusal(
            503,
            f"The server already holds {limit} connections, the limit per server process "
            f"({mention('max_connections')}); retry in {retry} s.",
            (b"retry-after", str(retry).encode()),
        )

    def refuse(self, refusal: Refusal) -> None:
        """Answer `refusal` and close; the rest of the request is never read."""
        self.refused = True
        self.cancel_head_timer()
        self.log_refusal(refusal.status)
        if self.cycle is not None and not self.cycle.response_complete:
            # An answer (to an earlier pipelined request, or to this one's trailers) is under
            # way: end the connection after it rather than write this one into it.
            self.cycle.keep_alive = False
            self.flow.pause_reading()
            return
        body = (refusal.message + "\n").encode()
        headers = [
            *self.server_state.default_headers,
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            *refusal.headers,
        ]
        head = b"".join(b"%s: %s\r\n" % header for header in headers)
        self.transport.write(STATUS_LINE[refusal.status] + head + b"\r\n" + body)
        self.transport.close()

    def log_refusal(self, status: int) -> None:
        if not self.access_log:
            return
        client = "{}:{}".format(*self.client) if self.client else "-"
        target = self.url.decode("latin-1") if self.url_bytes else "-"
        method = self.parser.get_method().decode("ascii", "replace") if self.url_bytes else "-"
        self.access_logger.info('%s - "%s %s HTTP/%s" %d', client, method, target, "1.1", status)

    # --- answers the client does not take ---------------------------------------------------

    def pause_writing(self) -> None:
        super().pause_writing()
        self.watch_sending()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.send_timer is not None:
            self.send_timer.cancel()
            self.send_timer = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The end of an answer can sit in the transport's buffer without pausing it; a close
        # (keep-alive timeout, Connection: close) would then wait for the client forever.
        if self.transport.get_write_buffer_size():
            self.watch_sending()

    def watch_sending(self) -> None:
        if self.send_timer is None:
            self.send_mark = self.transport.get_write_buffer_size()
            self.send_timer = self.loop.call_later(self.limits.send_timeout, self.send_timed_out)

    def send_timed_out(self) -> None:
        self.send_timer = None
        left = self.transport.get_write_buffer_size()
        if self.flow.write_paused or left >= self.send_mark > 0:
            self.drop()  # still paused, or not one byte of the rest taken
        elif left:
            self.watch_sending()  # the client is taking the rest: give it another period

    def drop(self) -> None:
        """Close at once: a close would wait to flush what the client does not take. A reset
        (SO_LINGER 0) also frees the kernel's buffers at once instead of retrying for minutes."""
        sock = self.transport.get_extra_info("socket")
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()
