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
