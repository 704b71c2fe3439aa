"""The catalogue of canned queries: the example queries of `queries/*.rq`, read once, and their
parameters bound safely from what a URL gives.

A query file runs as it is in any SPARQL client: its header is grlc's (`#+` lines, a YAML
subset: each value a JSON string), then full PREFIX lines, then the query:

    #+ summary: "..."             #+ summary_fr: "..."
    #+ description: "..."         #+ description_fr: "..."
    #+ endpoint: https://w3id.org/hrgraph/sparql
    #+ method: GET
    #+ defaults:
    #+   - city: "https://w3id.org/hrgraph/id/city/whitehorse"
    #+ params:
    #+   - city: "IRI of an hr:City"
    #+ params_fr:
    #+   - city: "IRI d'une hr:City (ville)"

and binds each parameter's default in its text with a one-value block, `VALUES ?city { city:x }`.
A value from a URL is checked against what the release holds (an IRI must name an instance of
the class; a language must be one offered) and then replaces the value inside that block, found
with the safety lexer: user text is never pasted into a query. The PREFIX lines name the
canonical base; a release under another base gets them rebased (`bind`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from hrgraph.config import CANONICAL_BASE, default_sources
from hrgraph.engine.lexer import Kind, scan
from hrgraph.engine.publisher import Release
from hrgraph.engine.queries import bindings, run_json
from hrgraph.errors import BadRequestError, NotFoundError

LANGUAGES = ("en", "fr")

_DECORATOR = re.compile(r"#\+ ?(\w+):\s*(.*)")
_ITEM = re.compile(r"#\+\s+-\s*(\w+):\s*(.+)")
_CLASS = re.compile(r"IRI of an? (\w+:\w+)")


@dataclass(frozen=True)
class Param:
    """A parameter of a canned query: an IRI of a class (`cls`) or a language (`cls` empty);
    `docs` says what it is, by language (`doc`: in English)."""

    name: str
    doc: str
    default: str
    cls: str = ""
    docs: Mapping[str, str] = field(default_factory=dict)

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
    """Read a query file's grlc header (the `#+` lines before the query)."""
    header = decorators(text)
    title = {"en": _text(header, "summary"), "fr": _text(header, "summary_fr")}
    description = {"en": _text(header, "description"), "fr": _text(header, "description_fr")}
    defaults, french = _items(header, "defaults"), _items(header, "params_fr")
    params = []
    for param, doc in _items(header, "params").items():
        cls = _CLASS.search(doc)
        docs = {"en": doc, "fr": french.get(param, doc)}
        default = defaults.get(param, "")
        params.append(Param(param, doc, default, cls.group(1) if cls else "", docs))
    return CannedQuery(name, text, title, description, tuple(params))


def decorators(text: str) -> dict[str, str | list[tuple[str, str]]]:
    """grlc's `#+ key: value` lines; a key without a value holds the `#+   - name: value`
    items that follow it. Values written as JSON strings are decoded."""
    found: dict[str, str | list[tuple[str, str]]] = {}
    key = ""
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if (item := _ITEM.fullmatch(line.rstrip())) and isinstance(found.get(key), list):
            found[key].append((item.group(1), _decode(item.group(2))))  # type: ignore[union-attr]
        elif decorator := _DECORATOR.fullmatch(line.rstrip()):
            key, value = decorator.group(1), decorator.group(2).strip()
            found[key] = _decode(value) if value else []
    return found


def _decode(value: str) -> str:
    return str(json.loads(value)) if value.startswith('"') else value


def _text(header: Mapping[str, object], key: str) -> str:
    value = header.get(key, "")
    return value if isinstance(value, str) else ""


def _items(header: Mapping[str, object], key: str) -> dict[str, str]:
    value = header.get(key, [])
    return dict(value) if isinstance(value, list) else {}


def lookup(name: str) -> CannedQuery:
    found = catalogue().get(name)
    if found is None:
        raise NotFoundError(
            f"there is no canned query {name!r}; available: {', '.join(catalogue())} "
            "(listed at /queries/)"
        )
    return found


# --- binding parameters ----------------------------------------------------------------


def bind(query: CannedQuery, terms: Mapping[str, str], base: str = CANONICAL_BASE) -> str:
    """The query text for a release under `base`, with each parameter's VALUES block holding
    `terms[name]` (SPARQL terms built by `resolve`, never raw user text)."""
    text = rebased(query.text, base)
    for name, term in terms.items():
        start, end = values_block(text, name)
        text = f"{text[:start]} {term} {text[end:]}"
    return text


def rebased(text: str, base: str) -> str:
    """`text` with the IRIs its PREFIX declarations give under the canonical base moved to
    `base`, so that a file written for the canonical release runs on any release."""
    if base == CANONICAL_BASE:
        return text
    starts = _line_starts(text)
    tokens = list(scan(text))
    edits = [
        (_offset(starts, iri), len(iri[1]))
        for word, _, iri in zip(tokens, tokens[1:], tokens[2:], strict=False)
        if word[1].upper() == "PREFIX" and iri[0] is Kind.IRI
        and iri[1].startswith("<" + CANONICAL_BASE)
    ]  # fmt: skip
    for start, length in reversed(edits):
        iri = text[start + 1 + len(CANONICAL_BASE) : start + length - 1]
        text = f"{text[:start]}<{base}{iri}>{text[start + length :]}"
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
