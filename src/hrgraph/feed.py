"""The change feed: a Linked Data Event Stream (LDES, https://w3id.org/ldes/specification, on
TREE, https://w3id.org/tree/specification) across releases, as a release holds it and as it is
served. The builder writes it (`build.feed`), the server serves it (`web.feed`); both render it
with this module, so the gate validates what clients get.

Every release holds the whole feed up to itself, so pruning old releases loses no history:

    feed/pages.json       the pages, oldest first: version, time published, number of members
    feed/<version>.nq     the members of that release's page (N-Quads)

A page is one release. It has a member for each resource (IRI under `<base>id/`) the release adds
(as:Create), changes (as:Update) or removes (as:Delete, a tombstone with no description), named
`<base>feed/<version>#<path>`, with as:object the resource (the stream's ldes:versionOfPath) and
as:published the release's time (its ldes:timestampPath); the resource's description at that
version is the named graph of the member's IRI. Served documents:

    <base>feed            the root node: the stream's context and, for each page, the time of
                          all its members (a tree:GreaterThanOrEqualToRelation and a
                          tree:LessThanOrEqualToRelation), so a client that has read up to a time
                          fetches only the pages after it
    <base>feed/<version>  a page: its members and, once a newer page exists, a
                          tree:GreaterThanRelation to it and `ldes:immutable true` (closed)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox

from hrgraph.errors import NotFoundError, ReleaseError
from hrgraph.vocab import DCT, RDF_TYPE, XSD

LDES = "https://w3id.org/ldes#"
TREE = "https://w3id.org/tree#"
AS = "https://www.w3.org/ns/activitystreams#"
LDES_SPECIFICATION = "https://w3id.org/ldes/specification"
FOLDER = "feed"
PAGES = f"{FOLDER}/pages.json"
#: The representations of a feed document (they all hold named graphs), the server's first.
FORMATS = {
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}
PREFIXES = {"ldes": LDES, "tree": TREE, "as": AS, "dct": DCT, "xsd": XSD}
CREATE, UPDATE, DELETE = AS + "Create", AS + "Update", AS + "Delete"
TITLE = {
    "en": "hrgraph change feed: every resource each release adds, changes or removes",
    "fr": "Flux des changements de hrgraph : chaque ressource qu'une version ajoute, modifie ou "
    "retire",
}

TYPE = ox.NamedNode(RDF_TYPE)
PUBLISHED = ox.NamedNode(AS + "published")
OBJECT = ox.NamedNode(AS + "object")
MEMBER = ox.NamedNode(TREE + "member")
DATETIME = ox.NamedNode(XSD + "dateTime")
NODE = ox.NamedNode(TREE + "Node")


@dataclass(frozen=True)
class Page:
    version: str
    published: str  # an xsd:dateTime in UTC, e.g. 2026-12-03T23:00:00Z
    members: int


def root_iri(base: str) -> str:
    return base + FOLDER


def stream_iri(base: str) -> str:
    return base + FOLDER + "#stream"


def page_iri(base: str, version: str) -> str:
    return f"{base}{FOLDER}/{version}"  # versions are letters, digits and . - _ + (config)


def member_iri(base: str, version: str, path: str) -> str:
    return page_iri(base, version) + "#" + quote(path, safe="/")


def members_file(version: str) -> str:
    return f"{FOLDER}/{version}.nq"


def read_pages(release: Path) -> list[Page]:
    """The pages of the feed `release` holds; NotFoundError if it holds none (a release built
    before the feed existed), ReleaseError if its list cannot be read."""
    path = release / PAGES
    try:
        listed = json.loads(path.read_text())["pages"]
        return [Page(str(p["version"]), str(p["published"]), int(p["members"])) for p in listed]
    except FileNotFoundError:
        raise NotFoundError(
            f"release {release.name} has no change feed (it was built before hrgraph had one); "
            "build a new release to start it"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ReleaseError(f"{path}: cannot be read ({error})") from None


def write_pages(release: Path, pages: list[Page]) -> None:
    text = json.dumps({"pages": [asdict(p) for p in pages]}, indent=2) + "\n"
    (release / PAGES).write_text(text)


def read_members(release: Path, version: str) -> list[ox.Quad]:
    path = release / members_file(version)
    try:
        return list(ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))
    except (OSError, SyntaxError) as error:
        raise ReleaseError(f"{path}: cannot be read ({error})") from None


def index_of(pages: list[Page], version: str) -> int:
    for index, page in enumerate(pages):
        if page.version == version:
            return index
    raise NotFoundError(f"the change feed has no page {version!r}; its pages are listed at /feed")


def closed(pages: list[Page], index: int) -> bool:
    """A page is closed (immutable) once a newer page exists: nothing is added to it again."""
    return index < len(pages) - 1


def _context(base: str) -> list[ox.Quad]:
    stream = ox.NamedNode(stream_iri(base))

    def iri(predicate: str, value: str) -> ox.Quad:
        return ox.Quad(stream, ox.NamedNode(predicate), ox.NamedNode(value))

    return [
        iri(RDF_TYPE, LDES + "EventStream"),
        iri(LDES + "timestampPath", AS + "published"),
        iri(LDES + "versionOfPath", AS + "object"),
        iri(LDES + "versionCreateObject", CREATE),
        iri(LDES + "versionUpdateObject", UPDATE),
        iri(LDES + "versionDeleteObject", DELETE),
        iri(DCT + "conformsTo", LDES_SPECIFICATION),
        iri(DCT + "isPartOf", base + "dataset"),
        *(
            ox.Quad(stream, ox.NamedNode(DCT + "title"), ox.Literal(text, language=lang))
            for lang, text in TITLE.items()
        ),
    ]


def _relation(node: ox.NamedNode, label: str, kind: str, value: str, target: str) -> list[ox.Quad]:
    relation = ox.BlankNode(label)
    return [
        ox.Quad(node, ox.NamedNode(TREE + "relation"), relation),
        ox.Quad(relation, TYPE, ox.NamedNode(TREE + kind)),
        ox.Quad(relation, ox.NamedNode(TREE + "path"), PUBLISHED),
        ox.Quad(relation, ox.NamedNode(TREE + "value"), ox.Literal(value, datatype=DATETIME)),
        ox.Quad(relation, ox.NamedNode(TREE + "node"), ox.NamedNode(target)),
    ]


def root(base: str, pages: list[Page]) -> list[ox.Quad]:
    """The root node: the context, and the time of each page's members."""
    node = ox.NamedNode(root_iri(base))
    quads = [
        *_context(base),
        ox.Quad(ox.NamedNode(stream_iri(base)), ox.NamedNode(TREE + "view"), node),
        ox.Quad(node, TYPE, ox.NamedNode(TREE + "Node")),
    ]
    for index, page in enumerate(pages):
        target, time = page_iri(base, page.version), page.published
        quads += _relation(node, f"from{index}", "GreaterThanOrEqualToRelation", time, target)
        quads += _relation(node, f"until{index}", "LessThanOrEqualToRelation", time, target)
    return quads


def page(base: str, pages: list[Page], index: int, members: list[ox.Quad]) -> list[ox.Quad]:
    """A page: the context, its members (with their descriptions) and, once closed, the
    relation to the next page."""
    node = ox.NamedNode(page_iri(base, pages[index].version))
    stream = ox.NamedNode(stream_iri(base))
    quads = [*_context(base), ox.Quad(node, TYPE, ox.NamedNode(TREE + "Node"))]
    quads += [
        ox.Quad(stream, MEMBER, q.subject)
        for q in members
        if q.graph_name == ox.DefaultGraph() and q.predicate == OBJECT
    ]
    if closed(pages, index):
        true = ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean"))
        quads.append(ox.Quad(node, ox.NamedNode(LDES + "immutable"), true))
        target = page_iri(base, pages[index + 1].version)
        quads += _relation(
            node, f"next{index}", "GreaterThanRelation", pages[index].published, target
        )
    return quads + members


def serialize(quads: list[ox.Quad], media: str, base: str) -> bytes:
    prefixes = {**PREFIXES, "hr": base + "ontology#", "id": base + "id/"}
    fmt = FORMATS[media]
    data = ox.serialize(
        quads, format=fmt, prefixes=None if fmt == ox.RdfFormat.N_QUADS else prefixes
    )
    assert data is not None  # no output file given: the bytes are returned
    return bytes(data)
