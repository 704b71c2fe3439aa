"""The remote engine: delegates checked queries to a SPARQL 1.1 Protocol server (Oxigraph server,
Apache Jena Fuseki, Virtuoso, GraphDB), under the same time limit and result cap.

A remote answer is never passed on unchecked: the Oxigraph server answers a timed-out or failed
query with HTTP 200 and a truncated body. So the engine asks for self-delimiting formats only
(SPARQL results in JSON or XML, graphs in JSON-LD or RDF/XML), parses the whole body (a cut body
does not parse), and writes the answer in the media type the client asked for itself.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox

from hrgraph.config import Settings, mention
from hrgraph.engine.embedded import CappedBuffer, serialize, syntax_error
from hrgraph.engine.interface import (
    QueryAnswer,
    QueryRequest,
    check_format,
    query_timeout,
    result_too_large,
)
from hrgraph.engine.lexer import Kind, lex, prologue
from hrgraph.engine.prefixes import prefixes_for
from hrgraph.errors import (
    BadGatewayError,
    ConfigError,
    QueryError,
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
_MESSAGE_CHARS = 500  # of a remote error body, quoted in ours


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
        deadline = time.monotonic() + self._timeout
        media_type, body = self._fetch(request, deadline)
        return QueryAnswer(request.media_type, self._rewrite(request, media_type, body))

    def close(self) -> None:
        self._client.close()

    def _fetch(self, request: QueryRequest, deadline: float) -> tuple[str, bytes]:
        accept = GRAPH_ACCEPT if request.form.returns_graph else RESULTS_ACCEPT
        query, added = declare_prefixes(request.query, self._prefixes)
        try:
            with self._client.stream(
                "POST",
                self._endpoint,
                params=self._dataset(request),
                content=query.encode("utf-8"),
                headers={"Content-Type": "application/sparql-query", "Accept": accept},
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
        return media_type, body

    def _dataset(self, request: QueryRequest) -> httpx.QueryParams:
        """Protocol graph parameters; with none given, every graph of the release (so that the
        default graph is their union, as in the embedded engine, and nothing else is seen)."""
        default, named = request.default_graphs, request.named_graphs
        if not default and not named:
            default = named = tuple(sorted(self._graphs))
        return httpx.QueryParams(
            {"default-graph-uri": list(default), "named-graph-uri": list(named)}
        )

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

    def _rewrite(self, request: QueryRequest, media_type: str, body: bytes) -> bytes:
        """Parse the remote's body in full (a truncated body fails here) and write it anew."""
        output = CappedBuffer(self._cap)
        try:
            rewrite(body, media_type, request, output)
        except ResultTooLargeError:
            raise result_too_large(self._cap) from None
        except (SyntaxError, ValueError) as error:
            raise BadGatewayError(
                "the remote SPARQL endpoint sent an incomplete or broken answer (as the Oxigraph "
                f"server does when a query fails or times out on it): {error}"
            ) from None
        return output.getvalue()


def rewrite(body: bytes, media_type: str, request: QueryRequest, output: CappedBuffer) -> None:
    """Parse `body` (`media_type`) to its end and write it to `output` as `request.media_type`.
    Raises SyntaxError for a body that does not parse, ValueError for an unchecked format."""
    if request.form.returns_graph:
        quads = ox.parse(body, format=_checkable(CHECKABLE_GRAPHS, media_type))
        triples = (quad.triple for quad in quads)
        ox.serialize(triples, output, format=ox.RdfFormat.from_media_type(request.media_type))
    else:
        results = ox.parse_query_results(body, format=_checkable(CHECKABLE_RESULTS, media_type))
        serialize(results, request.media_type, output)


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
    declare, for engines that do not know them (remote ones); and the lines added (0 or 1)."""
    tokens = lex(query, max_nesting=len(query) + 1)
    _, declared = prologue(tokens)
    used = {t.text.split(":", 1)[0] for t in tokens if t.kind is Kind.PNAME}
    missing = sorted(name for name in used - declared.keys() if name in prefixes)
    if not missing:
        return query, 0
    line = " ".join(f"PREFIX {name}: <{prefixes[name]}>" for name in missing)
    return f"{line}\n{query}", 1
