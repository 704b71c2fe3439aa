"""The query engine seam: one small interface with two implementations, embedded (worker
processes over the release's read-only pyoxigraph store) and remote (any SPARQL 1.1 Protocol
server). The HTTP layer talks to this interface only, never to pyoxigraph directly.

Every query passes the safety checks (`safety.check`) before any engine sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from hrgraph.config import mention
from hrgraph.errors import NotAcceptableError, QueryTimeoutError, ResultTooLargeError


class QueryForm(Enum):
    SELECT = "SELECT"
    ASK = "ASK"
    CONSTRUCT = "CONSTRUCT"
    DESCRIBE = "DESCRIBE"

    @property
    def returns_graph(self) -> bool:
        return self in (QueryForm.CONSTRUCT, QueryForm.DESCRIBE)


@dataclass(frozen=True)
class QueryRequest:
    """A checked query, ready to run.

    `default_graphs` / `named_graphs` are the protocol's default-graph-uri / named-graph-uri (or
    the query's FROM / FROM NAMED); empty means the default: the union of all graphs as the default
    graph, and every named graph. `media_type` is the result format chosen by negotiation.
    """

    query: str
    form: QueryForm
    media_type: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryAnswer:
    media_type: str
    body: bytes


class QueryEngine(Protocol):
    """Runs checked queries against one release, within the time limit and result-size cap.

    `run` raises QueryTimeoutError, ResultTooLargeError, QuerySyntaxError or EngineCrashError
    (see errors.py); it never returns a truncated answer.
    """

    @property
    def version(self) -> str: ...

    def run(self, request: QueryRequest) -> QueryAnswer: ...

    def close(self) -> None: ...


#: Result media types every engine can produce, per kind of query (first = default).
RESULT_TYPES: tuple[str, ...] = (
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
)
BOOLEAN_TYPES: tuple[str, ...] = (
    "application/sparql-results+json",
    "application/sparql-results+xml",
)
GRAPH_TYPES: tuple[str, ...] = (
    "text/turtle",
    "application/n-triples",
    "application/ld+json",
    "application/rdf+xml",
    "application/trig",
)


def media_types(form: QueryForm) -> tuple[str, ...]:
    if form is QueryForm.SELECT:
        return RESULT_TYPES
    if form is QueryForm.ASK:
        return BOOLEAN_TYPES
    return GRAPH_TYPES


def check_format(request: QueryRequest) -> None:
    """What every engine raises for a result format its query form has not (406)."""
    choices = media_types(request.form)
    if request.media_type not in choices:
        raise NotAcceptableError(
            f"{request.form.value} results are not available as {request.media_type}; "
            f"choose one of {', '.join(choices)}"
        )


def query_timeout(seconds: float) -> QueryTimeoutError:
    """What every engine raises past query_timeout (the query is stopped)."""
    error = QueryTimeoutError(
        f"the query ran past the {seconds:g} s limit ({mention('query_timeout')}) and was stopped"
    )
    error.setting = "query_timeout"
    return error


def result_too_large(cap: int) -> ResultTooLargeError:
    """What every engine raises past max_result_bytes (never a truncated answer)."""
    error = ResultTooLargeError(
        f"the result is larger than the {cap:,}-byte cap ({mention('max_result_bytes')}); add a "
        "LIMIT or select fewer variables, or download the release files"
    )
    error.setting = "max_result_bytes"
    return error
