"""The remote engine: delegates checked queries to a SPARQL 1.1 Protocol server (Oxigraph server,
Apache Jena Fuseki, Virtuoso, GraphDB), under the same time limit and result cap.

A remote answer is never passed on unchecked: the Oxigraph server answers a timed-out or failed
query with HTTP 200 and a truncated body. So the engine asks for self-delimiting formats only
(SPARQL results in JSON or XML, graphs in JSON-LD or RDF/XML), parses the whole body (a cut body
does not parse), and writes the answer in the media type the client asked for itself.

Virtuoso sends whole bodies that are still partial answers, flagged only in its headers or not at
all, and runs SQL built-ins and pragmas from the query text. Its quirks (`Virtuoso`, found from
the `Server` header of a first `ASK {}`) are refused here: an anytime-query answer
(`X-SQL-State`), a result cut at its `ResultSetMaxRows` (`X-SPARQL-MaxRows` for SELECT, no header
for graphs: the engine reads the cap once and refuses a graph of that many triples), its cost
estimate over `MaxQueryCostEstimationTime`, and queries naming `bif:` or `sql:` functions or a
`DEFINE` pragma (the Sponger's `input:grab-*` would fetch from the web).
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
import pyoxigraph as ox

from hrgraph.config import Settings, mention
from hrgraph.engine.embedded import CappedBuffer, serialize, syntax_error
from hrgraph.engine.interface import (
    QueryAnswer,
    QueryForm,
    QueryRequest,
    check_format,
    query_timeout,
    result_too_large,
)
from hrgraph.engine.lexer import Kind, decode_escapes, has_escapes, is_keyword, lex, prologue
from hrgraph.engine.prefixes import prefixes_for
from hrgraph.errors import (
    BadGatewayError,
    ConfigError,
    QueryError,
    QueryRefusedError,
    QueryTimeoutError,
    ReleaseError,
    ResultTooLargeError,
)
from hrgraph.release import STORE, read_manifest

#: What the engine accepts from the remote, per kind of query: only formats whose end is marked.
RESULTS_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
GRAPH_ACCEPT = "application/ld+json, application/rdf+xml;q=0.9"
CHECKABLE_RESULTS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
}
CHECKABLE_GRAPHS = {
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
T = TypeVar("T")
_MESSAGE_CHARS = 500  # of a remote error body, quoted in ours


@dataclass(frozen=True)
class Server:
    """What the engine must know of the remote: Virtuoso or not, and then its row cap (0: none)."""

    virtuoso: bool = False
    max_rows: int = 0


#: Virtuoso's SQL built-ins (`bif:`) and stored procedures (`sql:`), callable from SPARQL.
_SQL_SCHEMES = ("bif:", "sql:")
#: Virtuoso's partial-answer headers: anytime queries, and SELECT results cut at ResultSetMaxRows.
SQL_STATE, MAX_ROWS = "x-sql-state", "x-sparql-maxrows"
_TIMED_OUT = re.compile(r"\bS1T00\b.*timed out", re.IGNORECASE)
_COST = re.compile(r"estimated execution time .* exceeds the limit", re.IGNORECASE)
#: Virtuoso writes blank nodes in SPARQL results as `nodeID://b1`, not a blank node label.
_VIRTUOSO_BNODES = (
    (re.compile(rb'("type": "bnode", "value": ")nodeID://'), rb"\1"),
    (re.compile(rb"<bnode>nodeID://"), rb"<bnode>"),
)
_ASK_VARIABLE, _JSON_RESULTS = "__ASK_RETVAL", "application/sparql-results+json"
_CAP_QUERY = (
    "SELECT (bif:cfg_item_value(bif:virtuoso_ini_path(), 'SPARQL', 'ResultSetMaxRows') AS ?cap) {}"
)
#: Virtuoso's own default ResultSetMaxRows (its shipped virtuoso.ini), if the cap cannot be read.
VIRTUOSO_DEFAULT_ROWS = 10_000


class RemoteEngine:
    """Sends checked queries to `settings.remote_endpoint`, confined to the release's graphs.

    With `store_url` (a Graph Store Protocol dataset endpoint, the `remote_store` setting), the
    release is loaded into the remote first, replacing what it held."""

    def __init__(
        self,
        release: Path,
        settings: Settings,
        store_url: str = "",
        client: httpx.Client | None = None,
    ) -> None:
        if not settings.remote_endpoint:
            raise ConfigError(f"no remote endpoint is set ({mention('remote_endpoint')})")
        self._version = str(read_manifest(release)["version"])
        self._graphs = read_graphs(release)
        self._endpoint = settings.remote_endpoint
        self._timeout = settings.query_timeout
        self._cap = settings.max_result_bytes
        self._prefixes = prefixes_for(settings.base_iri)
        self._client = client or httpx.Client(timeout=httpx.Timeout(settings.query_timeout))
        self._server: Server | None = None
        if store_url:
            load_release(release, store_url)

    @property
    def version(self) -> str:
        return self._version

    @property
    def graphs(self) -> frozenset[str]:
        return self._graphs

    def run(self, request: QueryRequest) -> QueryAnswer:
        check_format(request)
        refuse_server_extensions(request.query)
        deadline = time.monotonic() + self._timeout
        server = self.server(deadline)
        media_type, body = self._fetch(request, server, deadline)
        return QueryAnswer(request.media_type, self._rewrite(request, server, media_type, body))

    def close(self) -> None:
        self._client.close()

    def server(self, deadline: float) -> Server:
        """The remote's kind (and Virtuoso's row cap), asked once."""
        if self._server is None:
            ask = QueryRequest("ASK {}", QueryForm.ASK, "application/sparql-results+json")
            response = self._post(ask, ask.query, Server(), deadline)[2]
            self._server = Server()
            if response.headers.get("server", "").startswith("Virtuoso/"):
                self._server = Server(True, self._virtuoso_cap(deadline))
        return self._server

    def _virtuoso_cap(self, deadline: float) -> int:
        probe = QueryRequest(_CAP_QUERY, QueryForm.SELECT, "application/sparql-results+json")
        try:
            media_type, body, _ = self._post(probe, _CAP_QUERY, Server(True), deadline)
            results = ox.parse_query_results(body, format=_checkable(CHECKABLE_RESULTS, media_type))
            values = [row["cap"] for row in results]  # type: ignore[union-attr]
            return int(values[0].value)
        except (QueryError, SyntaxError, ValueError, IndexError, TypeError, KeyError):
            return VIRTUOSO_DEFAULT_ROWS

    def _fetch(self, request: QueryRequest, server: Server, deadline: float) -> tuple[str, bytes]:
        query, added = declare_prefixes(request.query, self._prefixes)
        media_type, body, response = self._post(request, query, server, deadline, added)
        refuse_partial(response.headers, self._endpoint)
        return media_type, body

    def _post(
        self,
        request: QueryRequest,
        query: str,
        server: Server,
        deadline: float,
        added: int = 0,
    ) -> tuple[str, bytes, httpx.Response]:
        """POST the query as a form (Virtuoso 7.2 never answers a direct application/sparql-query
        POST); the body read whole, the media type, and the response for its headers."""
        try:
            with self._client.stream(
                "POST",
                self._endpoint,
                data={"query": query, **self._dataset(request), **self._limit(server)},
                headers={"Accept": accept_for(request.form, server)},
            ) as response:
                body = self._read(response, deadline)
                media_type = response.headers.get("content-type", "").split(";")[0].strip()
                if not response.is_success:
                    raise remote_error(response.status_code, body, added)
        except httpx.TimeoutException:
            raise query_timeout(self._timeout) from None
        except httpx.HTTPError as error:
            raise BadGatewayError(
                f"the remote SPARQL endpoint {self._endpoint} could not be reached: {error}"
            ) from None
        return media_type, body, response

    def _limit(self, server: Server) -> dict[str, str]:
        """Virtuoso stops a query when asked (`timeout`, in milliseconds: its anytime query, whose
        partial answer is refused). Asked at half our limit, as it overruns by about a second and
        its flagged answer must come before our own limit cuts the connection."""
        return {"timeout": str(max(1000, int(self._timeout * 500)))} if server.virtuoso else {}

    def _dataset(self, request: QueryRequest) -> dict[str, list[str]]:
        """Protocol graph parameters; with none given, every graph of the release (so that the
        default graph is their union, as in the embedded engine, and nothing else is seen)."""
        default, named = request.default_graphs, request.named_graphs
        if not default and not named:
            default = named = tuple(sorted(self._graphs))
        return {"default-graph-uri": list(default), "named-graph-uri": list(named)}

    def _read(self, response: httpx.Response, deadline: float) -> bytes:
        """The whole body, stopping (never truncating) past the cap or the time limit."""
        parts: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self._cap:
                raise result_too_large(self._cap)
            if time.monotonic() > deadline:
                raise query_timeout(self._timeout)
            parts.append(chunk)
        return b"".join(parts)

    def _rewrite(
        self, request: QueryRequest, server: Server, media_type: str, body: bytes
    ) -> bytes:
        """Parse the remote's body in full (a truncated body fails here) and write it anew."""
        output = CappedBuffer(self._cap)
        try:
            if server.virtuoso:
                body, media_type = virtuoso_body(body, media_type, request.form)
            triples = rewrite(body, media_type, request, output)
        except ResultTooLargeError:
            raise result_too_large(self._cap) from None
        except (SyntaxError, ValueError) as error:
            raise BadGatewayError(
                "the remote SPARQL endpoint sent an incomplete or broken answer (as the Oxigraph "
                f"server does when a query fails or times out on it): {error}"
            ) from None
        if server.max_rows and triples >= server.max_rows:
            raise rows_cut(server.max_rows, self._endpoint)
        return output.getvalue()


def rewrite(body: bytes, media_type: str, request: QueryRequest, output: CappedBuffer) -> int:
    """Parse `body` (`media_type`) to its end and write it to `output` as `request.media_type`;
    the number of triples of a graph (0 for query results). Raises SyntaxError for a body that
    does not parse, ValueError for an unchecked format."""
    if request.form.returns_graph:
        quads = ox.parse(body, format=_checkable(CHECKABLE_GRAPHS, media_type))
        counted = _Counted(quad.triple for quad in quads)
        ox.serialize(counted, output, format=ox.RdfFormat.from_media_type(request.media_type))
        return counted.count
    results = ox.parse_query_results(body, format=_checkable(CHECKABLE_RESULTS, media_type))
    serialize(results, request.media_type, output)
    return 0


class _Counted(Generic[T]):
    """An iterable (of triples, of quads) that counts what it gave."""

    def __init__(self, items: Iterable[T]) -> None:
        self._items = items
        self.count = 0

    def __iter__(self) -> Iterator[T]:
        for item in self._items:
            self.count += 1
            yield item


def accept_for(form: QueryForm, server: Server) -> str:
    """Virtuoso's JSON-LD names blank nodes in a way no parser takes: RDF/XML from it."""
    if not form.returns_graph:
        return RESULTS_ACCEPT
    return "application/rdf+xml" if server.virtuoso else GRAPH_ACCEPT


def virtuoso_body(body: bytes, media_type: str, form: QueryForm) -> tuple[bytes, str]:
    """Virtuoso's answer made standard: its `nodeID://b1` blank nodes in SPARQL results as
    labels (`b1`; the patterns cannot occur inside a literal, whose quotes and `<` would be
    escaped), and its ASK answer, one `__ASK_RETVAL` row (1) or none, as a boolean."""
    if form.returns_graph:
        return body, media_type
    if b"nodeID://" in body:  # one scan of an answer without blank nodes, not two
        for pattern, replacement in _VIRTUOSO_BNODES:
            body = pattern.sub(replacement, body)
    if form is not QueryForm.ASK:
        return body, media_type
    results = ox.parse_query_results(body, format=_checkable(CHECKABLE_RESULTS, media_type))
    if not isinstance(results, ox.QuerySolutions) or [v.value for v in results.variables] != [
        _ASK_VARIABLE
    ]:
        return body, media_type
    answer = any(row[_ASK_VARIABLE] is not None for row in results)
    return b'{"head":{},"boolean":%s}' % (b"true" if answer else b"false"), _JSON_RESULTS


def refuse_partial(headers: httpx.Headers, endpoint: str) -> None:
    """A 200 that Virtuoso flags as partial: an anytime query stopped at its time limit
    (`X-SQL-State: S1TAT`, and any other state), or SELECT rows cut at ResultSetMaxRows."""
    if SQL_STATE in headers:
        state, message = headers[SQL_STATE], headers.get("x-sql-message", "")
        text = (
            f"the remote SPARQL endpoint {endpoint} stopped the query at its own time limit and "
            f"sent a partial answer (SQL state {state}: {message[:_MESSAGE_CHARS]}); "
            "it is refused, not passed on"
        )
        raise QueryTimeoutError(text) if state == "S1TAT" else BadGatewayError(text)
    if MAX_ROWS in headers:
        raise rows_cut(int(headers[MAX_ROWS]) if headers[MAX_ROWS].isdigit() else 0, endpoint)


def rows_cut(rows: int, endpoint: str) -> ResultTooLargeError:
    return ResultTooLargeError(
        f"the remote SPARQL endpoint {endpoint} cut the answer at its limit of {rows:,} rows "
        "(Virtuoso's ResultSetMaxRows); add a LIMIT or narrow the query, or download the "
        "release files"
    )


def refuse_server_extensions(query: str) -> None:
    """Refuse what a remote server would run beyond SPARQL: Virtuoso's SQL functions (an IRI in
    `bif:` or `sql:`, or a name with those prefixes, which Virtuoso reserves) and its
    `DEFINE` pragmas (the Sponger fetches from the web on `input:grab-all`)."""
    text = decode_escapes(query) if has_escapes(query) else query
    for token in lex(text, max_nesting=len(text) + 1):
        if is_keyword(token, "DEFINE"):
            raise _refused("the DEFINE pragma", token.line, token.column)
        if token.kind is Kind.IRI and token.text[1:].lower().startswith(_SQL_SCHEMES):
            raise _refused(token.text, token.line, token.column)
        name = token.text.split(":", 1)[0].lower()
        if token.kind is Kind.PNAME and f"{name}:" in _SQL_SCHEMES:
            raise _refused(token.text, token.line, token.column)


def _refused(what: str, line: int, column: int) -> QueryRefusedError:
    return QueryRefusedError(
        f"{what} (line {line}, column {column}) is refused: SQL functions and server pragmas "
        "are not SPARQL, and this endpoint runs standard queries only"
    )


def _checkable(formats: dict[str, Any], media_type: str) -> Any:
    if media_type not in formats:
        raise ValueError(f"{media_type or 'no media type'} is not a format hrgraph can check")
    return formats[media_type]


def remote_error(status: int, body: bytes, lines_added: int = 0) -> QueryError:
    """The remote's refusal as a QueryError; a 400 is a syntax error, placed in the user's text
    (`lines_added` lines of prefix declarations were put before it)."""
    message = body.decode("utf-8", "replace").strip()[:_MESSAGE_CHARS]
    if status == 400:
        return syntax_error(message, lines_added)
    text = f"the remote SPARQL endpoint answered HTTP {status}: {message}"
    if _TIMED_OUT.search(message):  # Virtuoso's MaxQueryExecutionTime, when it has no rows yet
        return QueryTimeoutError(f"{text} (the query ran past its time limit)")
    if _COST.search(message):  # Virtuoso's MaxQueryCostEstimationTime: it refused to start
        return QueryTimeoutError(f"{text} (its estimate of the query's run time is over its limit)")
    return BadGatewayError(text) if status >= 500 else QueryError(text)


def read_graphs(release: Path) -> frozenset[str]:
    """The named graphs of the release's store."""
    try:
        store = ox.Store.read_only(str(release / STORE))
    except OSError as error:
        raise ReleaseError(f"{release}: cannot open the release store ({error})") from None
    return frozenset(
        graph.value for graph in store.named_graphs() if isinstance(graph, ox.NamedNode)
    )


def write_named_graphs(release: Path, target: Path) -> int:
    """The release's named graphs as one N-Quads file (the default graph, their merge, left out:
    the engine queries the named graphs), for a server's bulk loader (Virtuoso's `ld_dir`);
    the number of quads. Written aside and renamed: `target` is whole or as it was."""
    store = ox.Store.read_only(str(release / STORE))
    quads = _Counted(q for q in store if not isinstance(q.graph_name, ox.DefaultGraph))
    part = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with part.open("wb") as handle:
            ox.serialize(quads, handle, format=ox.RdfFormat.N_QUADS)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return quads.count


def load_release(release: Path, store_url: str, timeout: float = 600.0) -> None:
    """Replace the remote dataset with the release: PUT its N-Quads to a Graph Store Protocol
    dataset endpoint (the Oxigraph server's `/store`; Fuseki's `/<dataset>`). One document, so
    blank nodes keep their identity across graphs, and PUT, so loading twice does not duplicate
    them."""
    with tempfile.TemporaryFile() as dump:
        ox.Store.read_only(str(release / STORE)).dump(dump, format=ox.RdfFormat.N_QUADS)
        dump.seek(0)
        try:
            response = httpx.put(
                store_url,
                content=_chunks(dump),
                headers={"Content-Type": "application/n-quads"},
                timeout=httpx.Timeout(timeout, connect=10.0),
            )
        except httpx.HTTPError as error:
            raise ReleaseError(f"cannot load the release into {store_url}: {error}") from None
    if not response.is_success:
        raise ReleaseError(
            f"cannot load the release into {store_url}: HTTP {response.status_code} "
            f"{response.text[:_MESSAGE_CHARS]}"
        )


def _chunks(handle: Any, size: int = 1 << 20) -> Iterator[bytes]:
    while chunk := handle.read(size):
        yield chunk


def declare_prefixes(query: str, prefixes: Mapping[str, str]) -> tuple[str, int]:
    """The query with a first line declaring the predeclared prefixes it uses but does not
    declare, for engines that do not know them (remote ones); and the lines added (0 or 1). A
    query that starts with a BASE on its first line (the server's) gets them after it."""
    tokens = lex(query, max_nesting=len(query) + 1)
    _, declared = prologue(tokens)
    used = {t.text.split(":", 1)[0] for t in tokens if t.kind is Kind.PNAME}
    missing = sorted(name for name in used - declared.keys() if name in prefixes)
    if not missing:
        return query, 0
    line = " ".join(f"PREFIX {name}: <{prefixes[name]}>" for name in missing)
    if (
        len(tokens) > 1
        and is_keyword(tokens[0], "BASE")
        and tokens[1].kind is Kind.IRI
        and tokens[1].line == 1
    ):  # after a BASE on the first line (Virtuoso takes no BASE after a PREFIX)
        end = tokens[1].column - 1 + len(tokens[1].text)
        return f"{query[:end]} {line}{query[end:]}", 0
    return f"{line}\n{query}", 1
