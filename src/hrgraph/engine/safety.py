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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import NoReturn
from urllib.parse import urljoin

from hrgraph.config import CANONICAL_BASE, mention
from hrgraph.engine.interface import QueryForm
from hrgraph.errors import (
    QueryRefusedError,
    QuerySyntaxError,
    QueryTooLargeError,
    UnknownPrefixError,
    UpdateRefusedError,
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: Resource types, one prefix each (`program:` = <https://w3id.org/hrgraph/id/program/>).
RESOURCE_TYPES = _words(
    """city province organization program practice theme population lesson challenge finding
    milestone figure project consultation document page person scheme fund"""
)


def prefixes_for(base: str) -> dict[str, str]:
    """The predeclared prefixes for a release published under `base`."""
    common = {
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "owl": "http://www.w3.org/2002/07/owl#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "dct": "http://purl.org/dc/terms/",
        "schema": "https://schema.org/",
        "org": "http://www.w3.org/ns/org#",
        "prov": "http://www.w3.org/ns/prov#",
        "geo": "http://www.w3.org/2003/01/geo/wgs84_pos#",
        "sh": "http://www.w3.org/ns/shacl#",
        "void": "http://rdfs.org/ns/void#",
        "dcat": "http://www.w3.org/ns/dcat#",
        "foaf": "http://xmlns.com/foaf/0.1/",
        "hr": f"{base}ontology#",
    }
    return common | {kind: f"{base}id/{kind}/" for kind in RESOURCE_TYPES}


PREFIXES: dict[str, str] = prefixes_for(CANONICAL_BASE)

UPDATE_KEYWORDS = frozenset(_words("INSERT DELETE LOAD CLEAR DROP CREATE ADD MOVE COPY WITH"))
FORMS = {form.value: form for form in QueryForm}

#: Every SPARQL 1.1 (and SPARQL 1.2 / oxigraph) keyword and built-in name, used to split words
#: glued from keywords the way a scannerless parser reads them.
KEYWORDS = frozenset(
    _words(
        """BASE PREFIX SELECT CONSTRUCT DESCRIBE ASK DISTINCT REDUCED AS FROM NAMED WHERE GROUP BY
    HAVING ORDER ASC DESC LIMIT OFFSET VALUES UNDEF OPTIONAL GRAPH SERVICE SILENT BIND MINUS FILTER
    UNION NOT IN EXISTS A TRUE FALSE LATERAL LOAD INTO CLEAR DROP CREATE ADD MOVE COPY TO INSERT
    DELETE DATA WITH USING DEFAULT ALL STR LANG LANGMATCHES DATATYPE BOUND IRI URI BNODE RAND ABS
    CEIL FLOOR ROUND CONCAT STRLEN UCASE LCASE ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE
    STRAFTER YEAR MONTH DAY HOURS MINUTES SECONDS TIMEZONE TZ NOW UUID STRUUID MD5 SHA1 SHA256
    SHA384 SHA512 COALESCE IF STRLANG STRDT SAMETERM ISIRI ISURI ISBLANK ISLITERAL ISNUMERIC REGEX
    SUBSTR REPLACE COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR TRIPLE SUBJECT PREDICATE
    OBJECT ISTRIPLE LANGDIR HASLANG HASLANGDIR STRLANGDIR"""
    )
)
#: Keywords whose hidden presence would matter: a split is only made when one of them results.
GUARDED = UPDATE_KEYWORDS | {"SERVICE", "FROM", "NAMED"}
_LONGEST_KEYWORD = max(map(len, KEYWORDS))
_MAX_GLUED = 64  # no real chain of glued keywords is longer; longer words are left whole


class Kind(Enum):
    WORD = "word"
    PNAME = "prefixed name"
    IRI = "IRI"
    VAR = "variable"
    STRING = "string"
    BNODE = "blank node"
    LANGTAG = "language tag"
    NUMBER = "number"
    PUNCT = "punctuation"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str
    line: int
    column: int
    depth: int  # nesting of { ( [ around the token


@dataclass(frozen=True)
class CheckedQuery:
    text: str
    form: QueryForm
    from_graphs: tuple[str, ...]
    from_named: tuple[str, ...]


# The SPARQL 1.1 grammar's terminals (section 19.8), as regular expressions.
_BASE_CHARS = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_U_CHARS = _BASE_CHARS + "_"
_NAME_CHARS = _U_CHARS + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_PREFIX = f"[{_BASE_CHARS}](?:[{_NAME_CHARS}.]*[{_NAME_CHARS}])?"
_PN_LOCAL = (
    f"(?:[{_U_CHARS}:0-9]|{_PLX})(?:(?:[{_NAME_CHARS}.:]|{_PLX})*(?:[{_NAME_CHARS}:]|{_PLX}))?"
)
_VARNAME = f"[{_U_CHARS}0-9][{_U_CHARS}0-9\u00b7\u0300-\u036f\u203f-\u2040]*"

_TOKEN = re.compile(
    "|".join(
        (
            r"(?P<SPACE>[ \t\r\n]+)",
            r"(?P<COMMENT>#[^\r\n]*)",
            r"(?P<STRING>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''"
            r'|"""(?:(?:"|"")?(?:[^"\\]|\\.))*"""'
            r"|'(?:[^'\\\n\r]|\\[^\n\r])*'"
            r'|"(?:[^"\\\n\r]|\\[^\n\r])*")',
            r"(?P<UNTERMINATED>['\"])",
            r'(?P<IRI><[^<>"{}|^`\\\x00-\x20]*>)',
            f"(?P<VAR>[?$]{_VARNAME})",
            r"(?P<LANGTAG>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)",
            f"(?P<BNODE>_:[{_U_CHARS}0-9](?:[{_NAME_CHARS}.]*[{_NAME_CHARS}])?)",
            f"(?P<PNAME>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)",
            r"(?P<WORD>[A-Za-z_][A-Za-z0-9_]*)",
            r"(?P<NUMBER>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)",
            r"(?P<PUNCT>.)",
        )
    ),
    re.DOTALL,
)
_OPEN, _CLOSE = "{([", "})]"
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
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
    if _UCHAR.search(query):
        _refuse_decoded(decode_escapes(query), graphs, max_nesting, prefixes)
    base, declared = prologue(tokens)
    _check_prefixes(tokens, declared, prefixes)
    form = query_form(tokens)
    from_graphs, from_named = dataset_clauses(tokens, {**prefixes, **declared}, base, graphs)
    return CheckedQuery(query, form, from_graphs, from_named)


def refuse_update() -> NoReturn:
    """For update requests (`update=`, application/sparql-update): always refused."""
    raise UpdateRefusedError(
        "SPARQL Update is refused: this endpoint is read-only. "
        "Download the release files to work on a copy of the data."
    )


def declare_prefixes(query: str, prefixes: Mapping[str, str] = PREFIXES) -> tuple[str, int]:
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


# The lexer.


def lex(query: str, max_nesting: int) -> list[Token]:
    """The query's tokens (spaces and comments dropped); refuses nesting deeper than allowed."""
    tokens: list[Token] = []
    depth = 0
    for kind, text, line, column in scan(query):
        if kind is Kind.PUNCT and text in _CLOSE:
            depth = max(0, depth - 1)  # stray closers: stay at statement level, where checks apply
        tokens.extend(_split_glued(kind, text, line, column, depth))
        if kind is Kind.PUNCT and text in _OPEN:
            depth += 1
            if depth > max_nesting:
                raise _too_deep(max_nesting, line, column)
    return tokens


def scan(query: str) -> Iterator[tuple[Kind, str, int, int]]:
    """Raw tokens with 1-based line and column; spaces and comments are skipped."""
    position, line, line_start = 0, 1, 0
    while position < len(query):
        match = _TOKEN.match(query, position)
        assert match is not None and match.lastgroup is not None  # PUNCT matches any character
        group, text = match.lastgroup, match.group()
        column = position - line_start + 1
        if group == "UNTERMINATED":
            raise QuerySyntaxError("this string is not closed", line, column)
        if group not in ("SPACE", "COMMENT"):
            yield Kind[group], text, line, column
        newlines = text.count("\n")
        if newlines:
            line += newlines
            line_start = position + text.rindex("\n") + 1
        position = match.end()


def split_keywords(word: str) -> list[str]:
    """The shortest split of `word` into SPARQL keywords (upper case); [] when there is none."""
    upper = word.upper()
    if len(upper) > _MAX_GLUED:
        return []
    best: list[list[str] | None] = [None] * len(upper) + [[]]
    for start in range(len(upper) - 1, -1, -1):
        for end in range(start + 1, min(len(upper), start + _LONGEST_KEYWORD) + 1):
            rest = best[end]
            part = upper[start:end]
            if rest is not None and part in KEYWORDS:
                candidate = [part, *rest]
                current = best[start]
                if current is None or len(candidate) < len(current):
                    best[start] = candidate
    return best[0] or []


def _split_glued(kind: Kind, text: str, line: int, column: int, depth: int) -> list[Token]:
    """A word or prefix glued from keywords (`FROMNAMED`, `SERVICE:x`) as the parser reads it."""
    head, rest = text, ""
    if kind is Kind.PNAME:
        head, rest = text.split(":", 1)
        rest = ":" + rest
    parts = split_keywords(head) if kind in (Kind.WORD, Kind.PNAME) else []
    if not parts or (len(parts) == 1 and kind is Kind.WORD) or not GUARDED.intersection(parts):
        return [Token(kind, text, line, column, depth)]
    tokens, offset = [], 0
    for part in parts:
        tokens.append(Token(Kind.WORD, part, line, column + offset, depth))
        offset += len(part)
    if rest:
        tokens.append(Token(Kind.PNAME, rest, line, column + offset, depth))
    return tokens


def decode_escapes(query: str) -> str:
    """\\uXXXX and \\UXXXXXXXX decoded everywhere, as SPARQL 1.1 section 19.2 allows."""

    def decode(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group()

    return _UCHAR.sub(decode, query)


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
    dataset_clauses(tokens, {**prefixes, **declared}, base, graphs)


def prologue(tokens: list[Token]) -> tuple[str, dict[str, str]]:
    """The BASE in force and the PREFIX declarations (relative IRIs resolved against it)."""
    declared: dict[str, str] = {}
    base = ""
    for index, token in enumerate(tokens):
        following = tokens[index + 1 : index + 3]
        if _is_keyword(token, "BASE") and following and following[0].kind is Kind.IRI:
            base = _resolve(following[0].text[1:-1], base)
        elif _is_keyword(token, "PREFIX") and len(following) == 2:
            name, iri = following
            if name.kind is Kind.PNAME and iri.kind is Kind.IRI:
                declared[name.text.split(":", 1)[0]] = _resolve(iri.text[1:-1], base)
    return base, declared


def _check_prefixes(
    tokens: list[Token], declared: Mapping[str, str], prefixes: Mapping[str, str]
) -> None:
    for index, token in enumerate(tokens):
        if token.kind is not Kind.PNAME or (index and _is_keyword(tokens[index - 1], "PREFIX")):
            continue
        name = token.text.split(":", 1)[0]
        if name not in declared and name not in prefixes:
            raise UnknownPrefixError(name, token.line, token.column)


def dataset_clauses(
    tokens: list[Token], prefixes: Mapping[str, str], base: str, graphs: frozenset[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The IRIs of FROM and FROM NAMED; each must name a graph of the store."""
    default: list[str] = []
    named: list[str] = []
    for index, token in enumerate(tokens):
        if not _is_keyword(token, "FROM"):
            continue
        following = tokens[index + 1 : index + 3]
        is_named = bool(following) and _is_keyword(following[0], "NAMED")
        target = following[1:2] if is_named else following[:1]
        iri = _graph_iri(target[0], prefixes, base) if target else None
        if iri is None:
            raise QueryRefusedError(
                f"no outbound requests: FROM at line {token.line}, column {token.column} must be "
                "followed by the IRI of one of the store's graphs"
            )
        if iri not in graphs:
            raise _outside(iri)
        (named if is_named else default).append(iri)
    return tuple(default), tuple(named)


def _graph_iri(token: Token, prefixes: Mapping[str, str], base: str) -> str | None:
    if token.kind is Kind.IRI:
        return _resolve(token.text[1:-1], base)
    if token.kind is Kind.PNAME:
        name, local = token.text.split(":", 1)
        namespace = prefixes.get(name)
        if namespace is not None:
            return _resolve(namespace + _PLX_ESCAPE.sub(r"\1", local), base)
    return None


def _is_keyword(token: Token, keyword: str) -> bool:
    return token.kind is Kind.WORD and token.text.upper() == keyword


def query_form(tokens: list[Token]) -> QueryForm:
    for token in tokens:
        if token.depth == 0 and token.kind is Kind.WORD and token.text.upper() in FORMS:
            return FORMS[token.text.upper()]
    raise QuerySyntaxError(
        "not a query: a SPARQL query is a SELECT, ASK, CONSTRUCT or DESCRIBE (after any PREFIX "
        "and BASE declarations)"
    )


def _resolve(iri: str, base: str) -> str:
    return urljoin(base, iri) if base else iri


# Errors, with the setting that controls each limit.


def too_large(what: str, limit: int) -> QueryTooLargeError:
    """The query text or a request body is over max_query_bytes (the HTTP layer uses it too)."""
    error = QueryTooLargeError(
        f"{what} is over the {limit:,}-byte limit of the setting max_query_bytes "
        f"({mention('max_query_bytes')})"
    )
    error.setting = "max_query_bytes"
    return error


def _too_deep(limit: int, line: int, column: int) -> QuerySyntaxError:
    error = QuerySyntaxError(
        f"the query nests {{ ( [ more than {limit} levels deep ({mention('max_nesting')})",
        line,
        column,
    )
    error.setting = "max_nesting"
    return error


def _outside(iri: str) -> QueryRefusedError:
    return QueryRefusedError(
        f"no outbound requests: <{iri}> is not a graph of this store; FROM and FROM NAMED may "
        "only name the store's own graphs (listed in the service description)"
    )
