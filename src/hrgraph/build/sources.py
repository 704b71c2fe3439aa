"""Read the sources (ontology/, shapes/, data/) into quads, one named graph per file.

Parsing uses pyoxigraph: it is fast and reports syntax errors as file:line:column. Blank nodes are
relabelled in the order the parser meets them, so that the same files always give the same quads
(and byte-identical dumps). Each subject's defining line is indexed for error reports.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from hrgraph.config import CANONICAL_BASE, Settings, mention
from hrgraph.errors import SourceError

ROLES = ("ontology", "shapes", "data")
GRAPH_BASE = CANONICAL_BASE + "graph/"

_SUBJECT_AT_LINE_START = re.compile(r"^(<[^>\s]*>|[A-Za-z][\w.-]*:(?:[\w.-]|\\.)*)")


@dataclass(frozen=True)
class Location:
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class SourceFile:
    path: Path
    role: str
    graph: ox.NamedNode
    prefixes: dict[str, str]
    quads: tuple[ox.Quad, ...]

    @property
    def name(self) -> str:
        return f"{self.role}/{self.path.name}"


@dataclass
class Sources:
    """All source files, parsed; `definitions` maps a subject IRI to where its blocks start."""

    files: list[SourceFile]
    definitions: dict[str, list[Location]] = field(default_factory=dict)

    def quads(self, roles: Sequence[str] = ROLES) -> Iterator[ox.Quad]:
        for source in self.files:
            if source.role in roles:
                yield from source.quads

    def count(self, roles: Sequence[str] = ROLES) -> int:
        return sum(len(f.quads) for f in self.files if f.role in roles)

    @property
    def prefixes(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for source in self.files:
            for prefix, namespace in source.prefixes.items():
                merged.setdefault(prefix, namespace)
        return merged

    def locate(self, iri: str) -> Location | None:
        places = self.definitions.get(iri)
        return places[0] if places else None


def source_paths(settings: Settings) -> list[tuple[str, Path]]:
    """Every source file by role, in a stable order; a missing folder is an error."""
    found: list[tuple[str, Path]] = []
    for role in ROLES:
        folder = settings.sources / role
        if not folder.is_dir():
            raise SourceError(
                folder,
                f"the {role} folder is missing; set the sources ({mention('sources')}) to a "
                "folder that holds ontology/, shapes/ and data/",
            )
        files = sorted(folder.glob("*.ttl"))
        if not files:
            raise SourceError(folder, f"no .ttl files in the {role} folder")
        found.extend((role, path) for path in files)
    return found


def load_sources(settings: Settings, data_paths: Sequence[Path] = ()) -> Sources:
    """Parse the sources. With `data_paths`, those files replace the data/ folder."""
    paths = source_paths(settings)
    if data_paths:
        paths = [(role, p) for role, p in paths if role != "data"]
        paths += [("data", Path(p)) for p in data_paths]
    files = [parse_file(path, role, index) for index, (role, path) in enumerate(paths)]
    sources = Sources(files)
    for source in files:
        index_definitions(source, sources.definitions)
    return sources


def parse_file(path: Path, role: str, index: int) -> SourceFile:
    graph = ox.NamedNode(f"{GRAPH_BASE}{role}/{path.stem}")
    if not path.is_file():
        raise SourceError(path, "no such file")
    try:
        parser = ox.parse(path=path, format=ox.RdfFormat.TURTLE)
        quads = tuple(relabel(parser, graph, f"f{index}b"))
    except SyntaxError as error:
        message = str(error).split(" (", 1)[0] if error.lineno else str(error)
        raise SourceError(path, _plain(message), error.lineno, error.offset) from None
    except (OSError, ValueError) as error:
        raise SourceError(path, f"cannot be read: {error}") from None
    return SourceFile(path, role, graph, dict(parser.prefixes), quads)


def _plain(message: str) -> str:
    # "Parser error at line 3 between columns 3 and 6: The prefix q: ..." -> the reason only
    return message.split(": ", 1)[1] if message.startswith("Parser error at") else message


def relabel(
    quads: Iterable[ox.Quad], graph: ox.NamedNode | ox.DefaultGraph, prefix: str
) -> Iterator[ox.Quad]:
    """The quads in `graph`, their blank nodes renamed `<prefix><n>` (kept apart from other
    files' or members' blank nodes when merged)."""
    labels: dict[str, ox.BlankNode] = {}

    def stable(term: ox.BlankNode) -> ox.BlankNode:
        label = labels.get(term.value)
        if label is None:
            label = labels[term.value] = ox.BlankNode(f"{prefix}{len(labels)}")
        return label

    for quad in quads:
        s, o = quad.subject, quad.object
        if isinstance(s, ox.BlankNode):
            s = stable(s)
        if isinstance(o, ox.BlankNode):
            o = stable(o)
        yield ox.Quad(s, quad.predicate, o, graph)


def rebase(quads: Iterable[ox.Quad], base: str, old: str = CANONICAL_BASE) -> Iterator[ox.Quad]:
    """Rewrite IRIs under `old` to `base`: the sources always use the canonical base, and a
    release's change feed is carried to a release under another base."""
    if base == old:
        yield from quads
        return
    for q in quads:
        yield ox.Quad(
            _rebase_term(q.subject, base, old),
            _rebase_term(q.predicate, base, old),
            _rebase_term(q.object, base, old),
            _rebase_term(q.graph_name, base, old),
        )


def _rebase_term(term: Any, base: str, old: str) -> Any:
    # IRIs, and plain literals that spell an IRI under the base (vann:preferredNamespaceUri).
    if isinstance(term, ox.NamedNode) and term.value.startswith(old):
        return ox.NamedNode(base + term.value[len(old) :])
    if isinstance(term, ox.Literal) and term.language is None and term.value.startswith(old):
        return ox.Literal(base + term.value[len(old) :], datatype=term.datatype)
    return term


def index_definitions(source: SourceFile, definitions: dict[str, list[Location]]) -> None:
    """Record the line where each subject block starts (a subject written at column 0)."""
    prefixes = source.prefixes
    with source.path.open(encoding="utf-8", errors="replace") as text:
        for number, line in enumerate(text, start=1):
            match = _SUBJECT_AT_LINE_START.match(line)
            if not match or line.startswith(("@", "PREFIX", "BASE", "prefix", "base")):
                continue
            iri = _expand(match.group(1), prefixes)
            if iri is not None:
                definitions.setdefault(iri, []).append(Location(source.path, number))


def _expand(token: str, prefixes: dict[str, str]) -> str | None:
    if token.startswith("<"):
        return token[1:-1]
    prefix, _, local = token.partition(":")
    namespace = prefixes.get(prefix)
    return None if namespace is None else namespace + local.replace("\\", "")


def fingerprint(paths: Sequence[tuple[str, Path]], *extra: str) -> str:
    """SHA-256 over the source files' names and bytes plus `extra` (settings that shape output).

    Read from the bytes, not the parsed graph, so that an up-to-date release is recognised
    without parsing anything.
    """
    digest = hashlib.sha256()
    for role, path in paths:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise SourceError(path, f"cannot be read: {error}") from None
        digest.update(f"{role}/{path.name}".encode() + b"\0" + data + b"\0")
    for item in extra:
        digest.update(item.encode() + b"\0")
    return digest.hexdigest()
