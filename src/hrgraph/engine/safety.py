"""The one place every query passes before any engine: size, read-only, no outbound requests,
nesting depth, declared prefixes, and the query form.

The checks work on tokens from a small SPARQL lexer, so that keywords inside strings, IRIs,
comments, variables (`?service`) and prefixed names (`ex:load`) are never mistaken for the real
thing. The lexer errs towards refusing: pyoxigraph's parser matches keywords without word
boundaries (`SERVICESILENT<http://x/>{}` and `FROMNAMED<g>` run), so words glued from keywords are
split the way such a parser would read them, and any bare word containing SERVICE is refused.
SPARQL also allows \\u escapes anywhere (a conforming remote engine decodes them before parsing),
so a query with escapes is checked once more after decoding them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn

from hrgraph.config import mention
from hrgraph.engine.interface import QueryForm
from hrgraph.engine.lexer import (
    UPDATE_KEYWORDS,
    Kind,
    Token,
    decode_escapes,
    has_escapes,
    is_keyword,
    lex,
    prologue,
    resolve,
)
from hrgraph.engine.prefixes import PREFIXES
from hrgraph.errors import (
    QueryRefusedError,
    QuerySyntaxError,
    QueryTooLargeError,
    UnknownPrefixError,
    UpdateRefusedError,
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FORMS = {form.value: form for form in QueryForm}


@dataclass(frozen=True)
class CheckedQuery:
    text: str
    form: QueryForm
    from_graphs: tuple[str, ...]
    from_named: tuple[str, ...]


# The SPARQL 1.1 grammar's terminals (section 19.8), as regular expressions.

_PLX_ESCAPE = re.compile(r"\\(.)")


def check(
    query: str,
    *,
    graphs: frozenset[str],
    max_bytes: int,
    max_nesting: int,
    prefixes: Mapping[str, str] = PREFIXES,
) -> CheckedQuery:
    """Refuse anything an engine must not see; return the query with its form and dataset."""
    size = len(query.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise too_large(f"the query ({size:,} bytes)", max_bytes)
    tokens = lex(query, max_nesting)
    _refuse(tokens)
    if has_escapes(query):
        _refuse_decoded(decode_escapes(query), graphs, max_nesting, prefixes)
    base, declared = prologue(tokens)
    _check_prefixes(tokens, declared, prefixes)
    form = query_form(tokens)
    clauses = dataset_clauses(tokens, {**prefixes, **declared}, base)
    from_graphs = tuple(iri for iri, named, _ in clauses if not named)
    from_named = tuple(iri for iri, named, _ in clauses if named)
    # The dataset travels beside the query (the engines get it as the protocol's), so the text
    # keeps no FROM: an IRI the store lacks is an empty graph and never reaches an engine.
    return CheckedQuery(
        _blanked(query, [span for *_, span in clauses]), form, from_graphs, from_named
    )


def refuse_update() -> NoReturn:
    """For update requests (`update=`, application/sparql-update): always refused."""
    raise UpdateRefusedError(
        "SPARQL Update is refused: this endpoint is read-only. "
        "Download the release files to work on a copy of the data."
    )


# The lexer.


# The checks.


def _refuse(tokens: list[Token]) -> None:
    for token in tokens:
        if token.kind is not Kind.WORD:
            continue
        word = token.text.upper()
        if token.depth == 0 and word == "LOAD":
            # An update, but above all a fetch: the issue asks for a 400 like SERVICE.
            raise QueryRefusedError(
                f"no outbound requests: LOAD (line {token.line}, column {token.column}) is "
                "refused; this endpoint is read-only and only queries its own data"
            )
        if token.depth == 0 and word in UPDATE_KEYWORDS:
            raise UpdateRefusedError(
                f"{word} at line {token.line}, column {token.column} is SPARQL Update: this "
                "endpoint is read-only and runs queries only (SELECT, ASK, CONSTRUCT, DESCRIBE)"
            )
        if "SERVICE" in word:
            raise QueryRefusedError(
                f"no outbound requests: SERVICE (line {token.line}, column {token.column}) is "
                "refused; this endpoint only queries its own data"
            )


def _refuse_decoded(
    decoded: str, graphs: frozenset[str], max_nesting: int, prefixes: Mapping[str, str]
) -> None:
    try:
        tokens = lex(decoded, max_nesting)
    except QuerySyntaxError:
        return  # an engine that decodes escapes cannot parse this either: nothing would run
    _refuse(tokens)
    base, declared = prologue(tokens)
    # A FROM written with escapes is seen only here, and stays in the text an engine decodes:
    # it must name one of the store's graphs.
    for iri, _, _ in dataset_clauses(tokens, {**prefixes, **declared}, base):
        if iri not in graphs:
            raise _outside(iri)


def _check_prefixes(
    tokens: list[Token], declared: Mapping[str, str], prefixes: Mapping[str, str]
) -> None:
    for index, token in enumerate(tokens):
        if token.kind is not Kind.PNAME or (index and is_keyword(tokens[index - 1], "PREFIX")):
            continue
        name = token.text.split(":", 1)[0]
        if name not in declared and name not in prefixes:
            raise UnknownPrefixError(name, token.line, token.column)


Span = tuple[Token, Token]


def dataset_clauses(
    tokens: list[Token], prefixes: Mapping[str, str], base: str
) -> list[tuple[str, bool, Span]]:
    """Each FROM and FROM NAMED: its IRI, whether NAMED, and its first and last tokens."""
    found = []
    for index, token in enumerate(tokens):
        if not is_keyword(token, "FROM"):
            continue
        following = tokens[index + 1 : index + 3]
        is_named = bool(following) and is_keyword(following[0], "NAMED")
        target = following[1:2] if is_named else following[:1]
        iri = _graph_iri(target[0], prefixes, base) if target else None
        if iri is None:
            raise QueryRefusedError(
                f"no outbound requests: FROM at line {token.line}, column {token.column} must be "
                "followed by the IRI of a graph"
            )
        found.append((iri, is_named, (token, target[0])))
    return found


def _blanked(text: str, spans: list[Span]) -> str:
    """`text` with each span's characters replaced by spaces (lines and columns stay)."""
    if not spans:
        return text
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    chars = list(text)
    for first, last in spans:
        begin = starts[first.line - 1] + first.column - 1
        end = starts[last.line - 1] + last.column - 1 + len(last.text)
        chars[begin:end] = [c if c == "\n" else " " for c in chars[begin:end]]
    return "".join(chars)


def _graph_iri(token: Token, prefixes: Mapping[str, str], base: str) -> str | None:
    if token.kind is Kind.IRI:
        return resolve(token.text[1:-1], base)
    if token.kind is Kind.PNAME:
        name, local = token.text.split(":", 1)
        namespace = prefixes.get(name)
        if namespace is not None:
            return resolve(namespace + _PLX_ESCAPE.sub(r"\1", local), base)
    return None


def form_of(text: str) -> QueryForm:
    """The form of a query known to be safe (a canned one), without the other checks."""
    return query_form(lex(text, max_nesting=len(text) + 1))


def query_form(tokens: list[Token]) -> QueryForm:
    for token in tokens:
        if token.depth == 0 and token.kind is Kind.WORD and token.text.upper() in FORMS:
            return FORMS[token.text.upper()]
    raise QuerySyntaxError(
        "not a query: a SPARQL query is a SELECT, ASK, CONSTRUCT or DESCRIBE (after any PREFIX "
        "and BASE declarations)"
    )


# Errors, with the setting that controls each limit.


def too_large(what: str, limit: int) -> QueryTooLargeError:
    """The query text or a request body is over max_query_bytes (the HTTP layer uses it too)."""
    error = QueryTooLargeError(
        f"{what} is over the {limit:,}-byte limit of the setting max_query_bytes "
        f"({mention('max_query_bytes')})"
    )
    error.setting = "max_query_bytes"
    return error


def _outside(iri: str) -> QueryRefusedError:
    return QueryRefusedError(
        f"no outbound requests: <{iri}> is not a graph of this store; FROM and FROM NAMED may "
        "only name the store's own graphs (listed in the service description)"
    )
