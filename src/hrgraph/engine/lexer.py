"""A small SPARQL lexer for the safety gate: tokens with line, column and nesting depth, so that
keywords inside strings, IRIs, comments, variables (`?service`) and prefixed names (`ex:load`)
are never mistaken for the real thing. It errs towards refusing: pyoxigraph's parser matches
keywords without word boundaries (`SERVICESILENT<http://x/>{}` and `FROMNAMED<g>` run), so words
glued from keywords are split the way such a parser would read them. Also the prologue (BASE and
PREFIX declarations), which both the gate and the remote engine read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urljoin

from hrgraph.config import mention
from hrgraph.errors import QuerySyntaxError


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


UPDATE_KEYWORDS = frozenset(_words("INSERT DELETE LOAD CLEAR DROP CREATE ADD MOVE COPY WITH"))

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
                raise too_deep(max_nesting, line, column)
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


def has_escapes(query: str) -> bool:
    return _UCHAR.search(query) is not None


def decode_escapes(query: str) -> str:
    """\\uXXXX and \\UXXXXXXXX decoded everywhere, as SPARQL 1.1 section 19.2 allows."""

    def decode(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group()

    return _UCHAR.sub(decode, query)


def prologue(tokens: list[Token]) -> tuple[str, dict[str, str]]:
    """The BASE in force and the PREFIX declarations (relative IRIs resolved against it)."""
    declared: dict[str, str] = {}
    base = ""
    for index, token in enumerate(tokens):
        following = tokens[index + 1 : index + 3]
        if is_keyword(token, "BASE") and following and following[0].kind is Kind.IRI:
            base = resolve(following[0].text[1:-1], base)
        elif is_keyword(token, "PREFIX") and len(following) == 2:
            name, iri = following
            if name.kind is Kind.PNAME and iri.kind is Kind.IRI:
                declared[name.text.split(":", 1)[0]] = resolve(iri.text[1:-1], base)
    return base, declared


def is_keyword(token: Token, keyword: str) -> bool:
    return token.kind is Kind.WORD and token.text.upper() == keyword


def resolve(iri: str, base: str) -> str:
    return urljoin(base, iri) if base else iri


def too_deep(limit: int, line: int, column: int) -> QuerySyntaxError:
    error = QuerySyntaxError(
        f"the query nests {{ ( [ more than {limit} levels deep ({mention('max_nesting')})",
        line,
        column,
    )
    error.setting = "max_nesting"
    return error
