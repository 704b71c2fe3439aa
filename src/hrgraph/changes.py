"""What changed between two releases: the resources (IRIs under `<base>id/`) one release adds,
removes or changes, and for a change the properties whose values differ. Read from each release's
N-Triples dump, so it needs no engine; `hrgraph diff`, /downloads/<version>/changes and the
change feed the builder writes (`build.feed`) use it, so the three always agree.

Resources are compared by their path under each release's base IRI, so two releases published
under different bases compare as they should; a blank node is compared by what it holds (all the
way down), not by its label, which differs between dumps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from hrgraph.errors import ReleaseError
from hrgraph.release import read_manifest, release_folders
from hrgraph.vocab import DCT, RDF_TYPE, XSD

DUMP = "hrgraph.nt"

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Node = ox.NamedNode | ox.BlankNode

#: path under the base -> predicate (by its path when under the base) -> the values, as
#: comparable strings
Descriptions = dict[str, dict[str, frozenset[str]]]


@dataclass(frozen=True)
class Changed:
    path: str
    properties: tuple[str, ...]


@dataclass(frozen=True)
class Changes:
    old: str | None  # None: the first release, so everything is added
    new: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[Changed, ...]


def diff(old: Path | None, new: Path) -> Changes:
    before = descriptions(old) if old is not None else {}
    base = str(read_manifest(new).get("base_iri", ""))
    name = old.name if old is not None else None
    return compare(before, descriptions(new), name, new.name, base)


def compare(
    before: Descriptions, after: Descriptions, old: str | None, new: str, base: str
) -> Changes:
    """The changes from `before` to `after`; the properties named under `base` (the new
    release's)."""
    changed = [
        Changed(path, tuple(_expand(p, base) for p in _differing(before[path], after[path])))
        for path in sorted(before.keys() & after.keys())
        if before[path] != after[path]
    ]
    return Changes(
        old,
        new,
        tuple(sorted(after.keys() - before.keys())),
        tuple(sorted(before.keys() - after.keys())),
        tuple(changed),
    )


def previous(releases: Path, version: str) -> tuple[Path | None, Path]:
    """The release before `version` (by issue date, then build time; None for the first), and
    `version`'s own folder; ReleaseError when there is no such release."""
    ordered = release_folders(releases)
    names = [folder.name for folder in ordered]
    if version not in names:
        raise ReleaseError(f"no release {version!r} in {releases}")
    index = names.index(version)
    return (ordered[index - 1] if index else None), ordered[index]


def _key(iri: str, base: str) -> str:
    """An IRI under the base by its path ("~ontology#city"): the same term under another base."""
    return "~" + iri[len(base) :] if iri.startswith(base) else iri


def _expand(key: str, base: str) -> str:
    return base + key[1:] if key.startswith("~") else key


def _differing(old: dict[str, frozenset[str]], new: dict[str, frozenset[str]]) -> tuple[str, ...]:
    return tuple(sorted(p for p in old.keys() | new.keys() if old.get(p) != new.get(p)))


@lru_cache(maxsize=16)
def descriptions(release: Path) -> Descriptions:
    """Every resource of a release (releases are immutable: read once per process)."""
    base = str(read_manifest(release).get("base_iri", ""))
    return describe(read_dump(release / DUMP), base)


def read_dump(dump: Path) -> list[ox.Triple]:
    try:
        return [q.triple for q in ox.parse(path=str(dump), format=ox.RdfFormat.N_TRIPLES)]
    except (OSError, SyntaxError) as error:
        raise ReleaseError(f"{dump}: cannot be read ({error})") from None


def statements(triples: Iterable[ox.Triple], base: str) -> dict[str, list[ox.Triple]]:
    """Each resource's own triples (its path under `base` -> the triples whose subject it is,
    with those of the blank nodes they lead to, all the way down): what a page of the change
    feed carries for it."""
    by_subject: dict[Node, list[ox.Triple]] = defaultdict(list)
    for triple in triples:
        if not isinstance(triple.subject, ox.Triple):
            by_subject[triple.subject].append(triple)
    prefix = base + "id/"
    found = {}
    for subject in by_subject:
        if isinstance(subject, ox.NamedNode) and subject.value.startswith(prefix):
            found[subject.value[len(base) :]] = _closure(subject, by_subject)
    return found


def _closure(subject: ox.NamedNode, by_subject: dict[Node, list[ox.Triple]]) -> list[ox.Triple]:
    found: list[ox.Triple] = []
    todo: list[Node] = [subject]
    seen: set[Node] = set()
    while todo:
        node = todo.pop()
        for triple in by_subject.get(node, ()):
            found.append(triple)
            if isinstance(triple.object, ox.BlankNode) and triple.object not in seen:
                seen.add(triple.object)
                todo.append(triple.object)
    return found


def describe(triples: Iterable[ox.Triple], base: str) -> Descriptions:
    """The resources of `triples` in comparable form (see `Descriptions`)."""
    nested: dict[str, list[tuple[str, Term]]] = defaultdict(list)
    listed = list(triples)
    for s, p, o in listed:
        if isinstance(s, ox.BlankNode):
            nested[s.value].append((p.value, o))
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    prefix = base + "id/"
    for s, p, o in listed:
        if isinstance(s, ox.NamedNode) and s.value.startswith(prefix):
            found[s.value[len(base) :]][_key(p.value, base)].add(
                _value(o, base, nested, frozenset())
            )
    return {path: {p: frozenset(v) for p, v in props.items()} for path, props in found.items()}


def _value(
    term: Term, base: str, nested: dict[str, list[tuple[str, Term]]], seen: frozenset[str]
) -> str:
    """A term as a comparable string: an IRI under the base by its path (the same resource under
    another base), a blank node by what it holds (a cycle of blank nodes ends in "[...]")."""
    if isinstance(term, ox.NamedNode) and term.value.startswith(base):
        return "<" + _key(term.value, base) + ">"
    if not isinstance(term, ox.BlankNode):
        return str(term)
    if term.value in seen:
        return "[...]"
    inner = seen | {term.value}
    content = sorted(
        f"<{_key(p, base)}> {_value(o, base, nested, inner)}" for p, o in nested[term.value]
    )
    return "[" + " ; ".join(content) + "]"


def to_lines(changes: Changes) -> list[str]:
    """One line per resource: `+ path` added, `- path` removed, `~ path: properties` changed."""
    return [
        *(f"+ {path}" for path in changes.added),
        *(f"- {path}" for path in changes.removed),
        *(f"~ {c.path}: {' '.join(c.properties)}" for c in changes.changed),
    ]


def to_json(changes: Changes, base: str) -> dict[str, object]:
    return {
        "from": changes.old,
        "to": changes.new,
        "added": [base + path for path in changes.added],
        "removed": [base + path for path in changes.removed],
        "changed": [
            {"iri": base + c.path, "properties": list(c.properties)} for c in changes.changed
        ],
    }


AS = "https://www.w3.org/ns/activitystreams#"
TYPE = ox.NamedNode(RDF_TYPE)
REFERENCES = ox.NamedNode(DCT + "references")


def to_turtle(changes: Changes, base: str) -> bytes:
    """The changes as an ActivityStreams 2.0 collection: one as:Add, as:Remove or as:Update per
    resource (as:object), an update naming the properties that changed (dct:references)."""
    collection = ox.BlankNode("changes")
    since = f" since {changes.old}" if changes.old else " (the first release)"
    depuis = f" depuis {changes.old}" if changes.old else " (la première publication)"
    name = ox.NamedNode(AS + "name")
    english = ox.Literal(f"Changes of release {changes.new}{since}", language="en")
    french = ox.Literal(f"Changements de la publication {changes.new}{depuis}", language="fr")
    triples = [
        ox.Triple(collection, TYPE, ox.NamedNode(AS + "Collection")),
        ox.Triple(collection, name, english),
        ox.Triple(collection, name, french),
    ]
    kinds = [
        *((path, "Add", ()) for path in changes.added),
        *((path, "Remove", ()) for path in changes.removed),
        *((c.path, "Update", c.properties) for c in changes.changed),
    ]
    for index, (path, kind, properties) in enumerate(kinds):
        item = ox.BlankNode(f"c{index}")
        triples += [
            ox.Triple(collection, ox.NamedNode(AS + "items"), item),
            ox.Triple(item, TYPE, ox.NamedNode(AS + kind)),
            ox.Triple(item, ox.NamedNode(AS + "object"), ox.NamedNode(base + path)),
            *(
                ox.Triple(item, ox.NamedNode(DCT + "references"), ox.NamedNode(p))
                for p in properties
            ),
        ]
    triples.append(
        ox.Triple(
            collection,
            ox.NamedNode(AS + "totalItems"),
            ox.Literal(str(len(kinds)), datatype=ox.NamedNode(XSD + "integer")),
        )
    )
    prefixes = {"as": AS, "dct": DCT}
    data = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes)
    assert data is not None  # no output file given: the bytes are returned
    return bytes(data)
