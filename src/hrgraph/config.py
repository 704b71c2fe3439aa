"""Settings: declared once here (name, default, help), read from flags and HRGRAPH_* variables at
the edge (the CLI), and passed down as one frozen object."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hrgraph.errors import ConfigError

#: The canonical base IRI the sources are written with (a w3id.org permanent identifier).
CANONICAL_BASE = "https://w3id.org/hrgraph/"

ENV_PREFIX = "HRGRAPH_"


def default_sources() -> Path:
    """The embedded default sources: inside the wheel, or the checkout in an editable install."""
    embedded = Path(str(files("hrgraph") / "_default"))
    if (embedded / "data").is_dir():
        return embedded
    return Path(__file__).resolve().parents[2]


def _path(value: str) -> Path:
    return Path(value).expanduser()


def _base_iri(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or not value.endswith("/"):
        raise ValueError("must be an absolute http(s) IRI ending with '/'")
    return value


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be a whole number of at least 1")
    return number


def _seconds(value: str) -> float:
    number = float(value)
    if not 0 < number <= 3600:
        raise ValueError("must be a number of seconds between 0 and 3600")
    return number


def _short_seconds(value: str) -> float:
    number = float(value)
    if not 0 < number <= 600:
        raise ValueError("must be a number of seconds between 0 and 600")
    return number


def _remote(value: str) -> str:
    if value and urlsplit(value).scheme not in ("http", "https"):
        raise ValueError("must be an http(s) URL of a SPARQL 1.1 Protocol query endpoint")
    return value


def _version(value: str) -> str:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_+")
    if (value and not set(value) <= allowed) or value.startswith(".") or value == "current":
        raise ValueError("use letters, digits and . - _ + only (for example 2026.11.0)")
    return value


@dataclass(frozen=True)
class Setting:
    name: str
    default: Callable[[], Any]
    help: str
    parse: Callable[[str], Any]

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting("sources", default_sources, "folder holding ontology/, shapes/ and data/", _path),
    Setting("releases", lambda: Path("releases"), "folder that holds the releases", _path),
    Setting("base_iri", lambda: CANONICAL_BASE, "base IRI the published resources use", _base_iri),
    Setting(
        "version",
        lambda: "",
        "release version (default: package version + source digest)",
        _version,
    ),
    Setting("host", lambda: "127.0.0.1", "address to serve on", str),
    Setting("port", lambda: 8000, "port to serve on", _positive_int),
    Setting(
        "workers",
        lambda: os.cpu_count() or 1,
        "server processes, each serving the same release (default: one per core)",
        _positive_int,
    ),
    Setting("query_workers", lambda: 2, "query processes per server process", _positive_int),
    Setting("query_timeout", lambda: 30.0, "time limit of one query, in seconds", _seconds),
    Setting(
        "max_result_bytes", lambda: 50_000_000, "largest query result, in bytes", _positive_int
    ),
    Setting(
        "max_query_bytes",
        lambda: 100_000,
        "largest query text or request body, in bytes",
        _positive_int,
    ),
    Setting("max_nesting", lambda: 100, "deepest nesting of { ( [ in a query", _positive_int),
    # Limits of the query engine: memory enforced by the kernel, fair admission.
    Setting(
        "query_memory_mib",
        lambda: 384,
        "memory limit of one query process, in MiB (enforced by the kernel: RLIMIT_DATA)",
        _positive_int,
    ),
    Setting(
        "short_query_timeout",
        lambda: 2.0,
        "time limit of a query in the short lane (one query process kept free for short "
        "queries while the others are busy), in seconds",
        _short_seconds,
    ),
    Setting(
        "max_queued_queries",
        lambda: 32,
        "queries that may wait for a query process, per server process (more: 503)",
        _positive_int,
    ),
    Setting(
        "queue_timeout",
        lambda: 10.0,
        "longest wait for a query process, in seconds (then 503 with Retry-After)",
        _short_seconds,
    ),
    Setting(
        "max_client_queries",
        lambda: 4,
        "queries one client address may run or queue at once, per server process (more: 429)",
        _positive_int,
    ),
    # Limits of the HTTP connections, enforced before the application sees a request.
    Setting(
        "max_url_bytes",
        lambda: 32_768,
        "longest request target (path and query string), in bytes (longer: 414)",
        _positive_int,
    ),
    Setting(
        "max_header_bytes",
        lambda: 32_768,
        "largest request header section, in bytes (larger: 431)",
        _positive_int,
    ),
    Setting(
        "header_timeout",
        lambda: 10.0,
        "time a client has to send a whole request head, and then its body, in seconds "
        "(then 408 and the connection is closed)",
        _short_seconds,
    ),
    Setting(
        "keepalive_timeout",
        lambda: 5.0,
        "time an idle keep-alive connection is kept open, in seconds",
        _short_seconds,
    ),
    Setting(
        "send_timeout",
        lambda: 60.0,
        "time a client may take no data while an answer is being sent, in seconds (then the "
        "connection is closed)",
        _short_seconds,
    ),
    Setting(
        "max_connections",
        lambda: 1000,
        "open connections per server process (more: 503)",
        _positive_int,
    ),
    Setting(
        "shutdown_timeout",
        lambda: 10.0,
        "time requests under way are given to finish on SIGTERM, in seconds (then queries "
        "are stopped)",
        _short_seconds,
    ),
    Setting(
        "remote_endpoint",
        lambda: "",
        "SPARQL 1.1 query endpoint to delegate queries to (empty: the embedded engine)",
        _remote,
    ),
    Setting(
        "remote_store",
        lambda: "",
        "Graph Store Protocol URL the release is loaded into before queries go to "
        "remote_endpoint, e.g. http://127.0.0.1:7878/store (empty: do not load)",
        _remote,
    ),
)


@dataclass(frozen=True)
class Settings:
    sources: Path
    releases: Path
    base_iri: str
    version: str
    host: str
    port: int
    workers: int
    query_workers: int
    query_timeout: float
    max_result_bytes: int
    max_query_bytes: int
    max_nesting: int
    query_memory_mib: int
    short_query_timeout: float
    max_queued_queries: int
    queue_timeout: float
    max_client_queries: int
    max_url_bytes: int
    max_header_bytes: int
    header_timeout: float
    keepalive_timeout: float
    send_timeout: float
    max_connections: int
    shutdown_timeout: float
    remote_endpoint: str
    remote_store: str

    @property
    def ontology_dir(self) -> Path:
        return self.sources / "ontology"

    @property
    def shapes_dir(self) -> Path:
        return self.sources / "shapes"

    @property
    def data_dir(self) -> Path:
        return self.sources / "data"

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def mention(name: str) -> str:
    """How messages name a setting: its variable and its flag (HRGRAPH_X / --x)."""
    setting = next(s for s in SETTINGS if s.name == name)
    return f"{setting.env} / {setting.flag}"


def load_settings(
    flags: Mapping[str, str | None] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from flags (highest), then HRGRAPH_* variables, then defaults."""
    flags = flags or {}
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw, origin = flags.get(setting.name), setting.flag
        if raw is None:
            raw, origin = environ.get(setting.env), setting.env
        if raw is None:
            values[setting.name] = setting.default()
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as error:
            raise ConfigError(f"{origin}={raw!r}: {error}") from None
    assert {f.name for f in fields(Settings)} == set(values)
    return Settings(**values)
