"""What changed between two releases: the resources (IRIs under `<base>id/`) one release adds,
removes or changes, and for a change the properties whose values differ. Read from each release's
N-Triples dump, so it needs no engine; `hrgraph diff` and /downloads/<version>/changes use it.

Resources are compared by their path under each release's base IRI, so two releases published
under different bases compare as they should; a blank node is compared by what it holds (one
level, as the resource pages show it), not by its label, which differs between dumps.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from hrgraph.errors import ReleaseError
from hrgraph.release import read_manifest, release_folders
from hrgraph.vocab import DCT, RDF_TYPE, XSD

DUMP = "hrgraph.nt"

#: path under the base -> predicate -> the values, as comparable strings
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
    after = descriptions(new)
    changed = [
        Changed(path, _differing(before[path], after[path]))
        for path in sorted(before.keys() & after.keys())
        if before[path] != after[path]
    ]
    return Changes(
        old.name if old is not None else None,
        new.name,
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


def _differing(old: dict[str, frozenset[str]], new: dict[str, frozenset[str]]) -> tuple[str, ...]:
    return tuple(sorted(p for p in old.keys() | new.keys() if old.get(p) != new.get(p)))


@lru_cache(maxsize=16)
def descriptions(release: Path) -> Descriptions:
    """Every resource of a release (releases are immutable: read once per process)."""
    base = str(read_manifest(release).get("base_iri", ""))
    dump = release / DUMP
    try:
        triples = [q.triple for q in ox.parse(path=str(dump), format=ox.RdfFormat.N_TRIPLES)]
    except (OSError, SyntaxError) as error:
        raise ReleaseError(f"{dump}: cannot be read ({error})") from None
    nested: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for s, p, o in triples:
        if isinstance(s, ox.BlankNode):
            nested[s.value].append((p.value, _flat(o, base)))
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    prefix = base + "id/"
    for s, p, o in triples:
        if isinstance(s, ox.NamedNode) and s.value.startswith(prefix):
            value = _blank(nested[o.value]) if isinstance(o, ox.BlankNode) else _flat(o, base)
            found[s.value[len(base) :]][p.value].add(value)
    return {path: {p: frozenset(v) for p, v in props.items()} for path, props in found.items()}


def _flat(term: object, base: str) -> str:
    if isinstance(term, ox.NamedNode) and term.value.startswith(base):
        return "<~" + term.value[len(base) :] + ">"  # the same resource under another base
    return "[]" if isinstance(term, ox.BlankNode) else str(term)


def _blank(content: list[tuple[str, str]]) -> str:
    return "[" + " ; ".join(f"<{p}> {o}" for p, o in sorted(content)) + "]"


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
