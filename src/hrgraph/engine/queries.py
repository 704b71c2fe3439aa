"""Running a query of the server's own or a user's through the one safety-checked path: check it
(`safety.check`), fix its dataset and base, name its answer, and take the answer from the release's
cache or from the engine. The HTTP layer adds negotiation and conditional requests; the pages use
`run_json` for the SELECTs behind them."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from hrgraph.engine import safety
from hrgraph.engine.interface import QueryAnswer, QueryForm, QueryRequest
from hrgraph.engine.publisher import Release
from hrgraph.errors import QuerySyntaxError

JSON_RESULTS = "application/sparql-results+json"


#: A graph name no store has: stands for "an empty graph" in a protocol dataset.
EMPTY_GRAPH = "urn:hrgraph:empty-graph"


@dataclass(frozen=True)
class Prepared:
    """A checked, negotiated query: everything needed to answer it or to answer 304."""

    request: QueryRequest
    etag: str


def prepare(
    release: Release,
    text: str,
    media_for: Callable[[QueryForm], str],
    default_graphs: Sequence[str] = (),
    named_graphs: Sequence[str] = (),
) -> Prepared:
    """Check the query (safety), choose the result format (`media_for` its form: the HTTP layer
    negotiates it) and name the answer (its ETag, also its key in the release's answer cache).

    A dataset given by the protocol (default-graph-uri / named-graph-uri) replaces the query's
    FROM / FROM NAMED, as the SPARQL 1.1 Protocol says. Either way a graph the store does not
    have is an empty graph (see _known): the same answer for the same dataset, however named.
    """
    checked = safety.check(
        text,
        graphs=release.graphs,
        max_bytes=release.settings.max_query_bytes,
        max_nesting=release.settings.max_nesting,
        prefixes=release.prefixes,
    )
    media = media_for(checked.form)
    if not default_graphs and not named_graphs:
        default_graphs, named_graphs = checked.from_graphs, checked.from_named
    default = _known(default_graphs, release.graphs)
    named = _known(named_graphs, release.graphs)
    based = base_declaration(release.base_iri) + checked.text
    query = QueryRequest(based, checked.form, media, default, named)
    return Prepared(query, etag_of(release.version, "query", text, media, *default, "|", *named))


def base_declaration(base: str) -> str:
    """Relative IRIs in a query resolve against the release's base IRI (the protocol leaves the
    base to the service). Declared on the query's first line, so line numbers stay the user's; a
    query's own BASE comes later and wins."""
    return f"BASE <{base}> "


def _known(names: Sequence[str], graphs: frozenset[str]) -> tuple[str, ...]:
    """Dataset graph names (protocol or FROM), keeping only the store's own: a graph the store
    does not have is an empty graph (the W3C protocol tests name such a graph and expect an
    answer), and is never passed on, so no engine is ever tempted to fetch it. When none is
    left, EMPTY_GRAPH stands for the empty dataset part (an empty tuple would mean "all")."""
    kept = tuple(dict.fromkeys(name for name in names if name in graphs))
    return kept or ((EMPTY_GRAPH,) if names else ())


def execute(release: Release, prepared: Prepared) -> QueryAnswer:
    """Run a prepared query, or take its answer from the release's cache."""
    answer = release.cache.get(prepared.etag)
    if answer is None:
        try:
            answer = release.engine.run(prepared.request)
        except QuerySyntaxError as error:
            raise _in_user_text(error, len(base_declaration(release.base_iri))) from None
        release.cache.put(prepared.etag, answer)
    return answer


_LOCATED = re.compile(r"syntax error at line \d+, column \d+: (.*)", re.DOTALL)


def _in_user_text(error: QuerySyntaxError, shift: int) -> QuerySyntaxError:
    """The error's column in the user's text (the engine saw the BASE declaration before it)."""
    if error.line != 1 or error.column is None:
        return error
    match = _LOCATED.fullmatch(str(error))
    reason = match.group(1) if match else str(error)
    return QuerySyntaxError(reason, 1, max(1, error.column - shift))


def run_json(release: Release, text: str) -> dict[str, object]:
    """Run a SELECT of the server's own (labels, lists) and return the SPARQL JSON results."""
    prepared = prepare(release, text, lambda _: JSON_RESULTS)
    result: dict[str, object] = json.loads(execute(release, prepared).body)
    return result


def bindings(result: Mapping[str, object]) -> list[dict[str, dict[str, str]]]:
    rows = result.get("results", {})
    assert isinstance(rows, dict)
    found: list[dict[str, dict[str, str]]] = rows.get("bindings", [])
    return found


def etag_of(*parts: str) -> str:
    """A weak ETag: gzip may re-encode the bytes, the meaning stays the same (RFC 9110 8.8.1)."""
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]
    return f'W/"{digest}"'
