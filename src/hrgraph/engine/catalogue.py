"""The catalogue of canned queries: the example queries of `queries/*.rq`, read once, and their
parameters bound safely from what a URL gives.

A query file starts with comment lines that describe it:

    # title@en: ...            # title@fr: ...
    # description@en: ...      # description@fr: ...
    # param: city (IRI of an hr:City, default https://w3id.org/hrgraph/id/city/whitehorse)
    # param: lang (language of the labels: en or fr, default en)

and binds each parameter's default in its text with a one-value block, `VALUES ?city { city:x }`,
so that the file runs as it is. A value from a URL is checked against what the release holds (an
IRI must name an instance of the class; a language must be one offered) and then replaces the
value inside that block, found with the safety lexer: user text is never pasted into a query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hrgraph.config import CANONICAL_BASE, default_sources
from hrgraph.engine.lexer import Kind, scan
from hrgraph.engine.publisher import Release
from hrgraph.engine.queries import bindings, run_json
from hrgraph.errors import BadRequestError, NotFoundError

LANGUAGES = ("en", "fr")

_HEADER = re.compile(r"#\s*(title|description)@(en|fr):\s*(.+)")
_PARAM = re.compile(r"#\s*param:\s*(\w+)\s*\((.+),\s*default\s+(\S+)\)\s*")
_CLASS = re.compile(r"IRI of an? (\w+:\w+)")


@dataclass(frozen=True)
class Param:
    """A parameter of a canned query: an IRI of a class (`cls`) or a language (`cls` empty)."""

    name: str
    doc: str
    default: str
    cls: str = ""

    @property
    def is_language(self) -> bool:
        return not self.cls


@dataclass(frozen=True)
class CannedQuery:
    name: str
    text: str
    title: Mapping[str, str]
    description: Mapping[str, str]
    params: tuple[Param, ...]

    def url(self) -> str:
        return f"/queries/{self.name}"


def queries_folder() -> Path:
    """queries/ of the checkout, or its copy embedded in the wheel next to the default sources."""
    return default_sources() / "queries"


@cache
def catalogue(folder: Path | None = None) -> dict[str, CannedQuery]:
    """Every canned query by name (the file name without .rq), in file-name order."""
    paths = sorted((folder or queries_folder()).glob("*.rq"))
    return {path.stem: parse(path.stem, path.read_text(encoding="utf-8")) for path in paths}


def parse(name: str, text: str) -> CannedQuery:
    """Read a query file's header (the comment lines before the query)."""
    texts: dict[tuple[str, str], str] = {}
    params: list[Param] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if header := _HEADER.fullmatch(line.strip()):
            texts[(header.group(1), header.group(2))] = header.group(3).strip()
        elif param := _PARAM.fullmatch(line.strip()):
            cls = _CLASS.search(param.group(2))
            params.append(
                Param(param.group(1), param.group(2), param.group(3), cls.group(1) if cls else "")
            )
    title = {lang: texts.get(("title", lang), "") for lang in LANGUAGES}
    description = {lang: texts.get(("description", lang), "") for lang in LANGUAGES}
    return CannedQuery(name, text, title, description, tuple(params))


def lookup(name: str) -> CannedQuery:
    found = catalogue().get(name)
    if found is None:
        raise NotFoundError(
            f"there is no canned query {name!r}; available: {', '.join(catalogue())} "
            "(listed at /queries/)"
        )
    return found


# --- binding parameters ----------------------------------------------------------------


def bind(query: CannedQuery, terms: Mapping[str, str]) -> str:
    """The query text with each parameter's VALUES block holding `terms[name]` (SPARQL terms
    built by `resolve`, never raw user text)."""
    text = query.text
    for name, term in terms.items():
        start, end = values_block(text, name)
        text = f"{text[:start]} {term} {text[end:]}"
    return text


def values_block(text: str, variable: str) -> tuple[int, int]:
    """Offsets just inside the braces of `VALUES ?variable { ... }` (one variable, one value)."""
    starts = _line_starts(text)
    tokens = list(scan(text))
    for index in range(len(tokens) - 3):
        word, var, brace = tokens[index : index + 3]
        if word[1].upper() == "VALUES" and var[1][1:] == variable and brace[1] == "{":
            close = next(t for t in tokens[index + 3 :] if t[1] == "}")
            return _offset(starts, brace) + 1, _offset(starts, close)
    raise LookupError(f"no 'VALUES ?{variable} {{ ... }}' block binds the parameter {variable}")


def _line_starts(text: str) -> list[int]:
    return [0] + [index + 1 for index, char in enumerate(text) if char == "\n"]


def _offset(starts: Sequence[int], token: tuple[Kind, str, int, int]) -> int:
    return starts[token[2] - 1] + token[3] - 1


def resolve(release: Release, query: CannedQuery, given: Mapping[str, str]) -> dict[str, str]:
    """The SPARQL term of every parameter given in the URL; 400 for an unknown or bad one."""
    known = {param.name: param for param in query.params}
    terms = {}
    for name, value in given.items():
        param = known.get(name)
        if param is None:
            takes = ", ".join(known) or "no parameters"
            raise BadRequestError(
                f"{query.name} has no parameter {name!r}; it takes: {takes} (and format=)"
            )
        terms[name] = _term(release, param, value)
    return terms


def _term(release: Release, param: Param, value: str) -> str:
    if param.is_language:
        if value.strip().lower() not in LANGUAGES:
            raise BadRequestError(f"{param.name}={value!r}: use one of {', '.join(LANGUAGES)}")
        return f'"{value.strip().lower()}"'
    members = instances(release, param.cls)
    iri = _candidate(release.base_iri, param, value.strip())
    if iri not in members:
        names = ", ".join(sorted(member.rsplit("/", 1)[-1] for member in members))
        raise BadRequestError(
            f"{param.name}={value!r} is not an {param.cls} of this release; use a name, "
            f"{_namespace_prefix(param)}:name or the full IRI, one of: {names}"
        )
    return f"<{iri}>"


def _candidate(base: str, param: Param, value: str) -> str:
    """The IRI a value means: a full IRI, `city:whitehorse` or a bare `whitehorse`."""
    namespace = base + param.default.removeprefix(CANONICAL_BASE).rsplit("/", 1)[0] + "/"
    prefix = _namespace_prefix(param)
    if value.startswith(f"{prefix}:"):
        return namespace + value.split(":", 1)[1]
    if value.startswith(CANONICAL_BASE):
        return base + value.removeprefix(CANONICAL_BASE)
    return value if "/" in value or ":" in value else namespace + value


def _namespace_prefix(param: Param) -> str:
    return param.default.removeprefix(CANONICAL_BASE).split("/")[1]


def instances(release: Release, cls: str) -> frozenset[str]:
    """Every IRI of class `cls` (a prefixed name), once per release."""

    def compute() -> frozenset[str]:
        rows = bindings(run_json(release, f"SELECT ?x WHERE {{ ?x a {cls} }}"))
        return frozenset(row["x"]["value"] for row in rows if row["x"]["type"] == "uri")

    return release.memo(f"instances {cls}", compute)
