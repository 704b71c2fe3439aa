from __future__ import annotations

import gzip
import hashlib
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.compare import to_isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF

from bad_inputs import MALFORMED, OUTSIDE_BASE, PROGRAM_WITHOUT_SOURCE, WRONG_DATATYPE
from conftest import SOURCE_DATE_EPOCH, copy_releases
from hrgraph.build.derived import closure, with_statements
from hrgraph.build.sources import load_sources
from hrgraph.build.validation import to_rdflib
from hrgraph.build.writer import BuildResult, build, current_release
from hrgraph.config import Settings, load_settings
from hrgraph.errors import NonConformingError, ReleaseError, SourceError

ROOT = Path(__file__).resolve().parents[2]
SPDX = "http://spdx.org/rdf/terms#"
IANA = "https://www.iana.org/assignments/media-types/"


@pytest.fixture(scope="module")
def release(shipped_release: Path) -> Path:
    """The release of the shipped sources (the session's: these tests only read it)."""
    return shipped_release


@pytest.fixture(scope="module")
def source_graph() -> Graph:
    """The sources as the builder publishes them: with the statement graph and the closure it
    derives (build.derived)."""
    sources = with_statements(load_sources(load_settings({"sources": str(ROOT)}, environ={})))
    return to_rdflib([*sources.quads(), *closure(sources)])


@dataclass(frozen=True)
class Canonical:
    """A graph up to the names of its blank nodes: its triples without blank nodes, and the
    rdflib canonical digest (what `rdflib.compare.isomorphic` compares) of each part that blank
    nodes connect, counted. Two graphs have equal Canonicals exactly when they are isomorphic: a
    renaming of blank nodes keeps every other triple as it is and maps each connected part onto
    an isomorphic one; and isomorphic parts, paired off, give such a renaming. Digesting the small
    parts one by one is much cheaper than digesting the whole graph (5 s here)."""

    ground: frozenset[tuple[object, object, object]]
    blank: Counter[str]


def canonical(graph: Graph) -> Canonical:
    ground, blank = set(), []
    for triple in graph:
        if any(isinstance(t, BNode) for t in triple):
            blank.append(triple)
        else:
            ground.add(triple)
    parent: dict[BNode, BNode] = {}

    def root(node: BNode) -> BNode:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for triple in blank:
        first, *others = (t for t in triple if isinstance(t, BNode))
        for other in others:
            parent[root(other)] = root(first)
    parts: dict[BNode, Graph] = {}
    for triple in blank:
        node = next(t for t in triple if isinstance(t, BNode))
        parts.setdefault(root(node), Graph()).add(triple)
    digests = Counter(str(to_isomorphic(part).graph_digest()) for part in parts.values())
    return Canonical(frozenset(ground), digests)


@pytest.fixture(scope="module")
def expected(source_graph: Graph) -> Canonical:
    """The sources, parsed once, as every dump must give them back."""
    found = canonical(source_graph)
    assert found.blank, "the sources have blank nodes: the comparison must rename them"
    return found


@pytest.fixture
def good(
    sources: Path,
    make_settings: Callable[..., Settings],
    served_settings: Settings,
) -> tuple[Settings, BuildResult]:
    """Settings over a writable copy of the shipped sources whose releases folder already has a
    good current release of them (a copy of the session's: `build` calls it up to date)."""
    settings = make_settings(sources)
    copy_releases(served_settings, settings.releases)
    result = build(settings)
    assert not result.built and current_release(settings.releases) == result.path
    return settings, result


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "store" not in p.parts
    }


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("hrgraph.ttl", "turtle"),
        ("hrgraph.jsonld", "json-ld"),
        ("hrgraph.nt", "nt"),
        ("hrgraph.nt.gz", "nt"),
        ("hrgraph.rdf", "xml"),
    ],
)
def test_dumps_parse_back_with_rdflib_to_the_sources(
    release: Path, expected: Canonical, name: str, fmt: str
) -> None:
    data = (release / name).read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    assert canonical(Graph().parse(data=data, format=fmt)) == expected


def test_trig_has_one_named_graph_per_source_file_and_built_graph(
    release: Path, expected: Canonical
) -> None:
    quads = list(ox.parse(path=release / "hrgraph.trig", format=ox.RdfFormat.TRIG))
    names = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
    per_file = {
        f"https://w3id.org/hrgraph/graph/{role}/{p.stem}"
        for role in ("ontology", "shapes", "data")
        for p in (ROOT / role).glob("*.ttl")
        if (role, p.name) != ("data", "statements.ttl")  # its nodes are in graph/statements
    }
    built = {"https://w3id.org/hrgraph/graph/statements", "https://w3id.org/hrgraph/graph/inferred"}
    assert names == per_file | built
    assert all(isinstance(q.graph_name, ox.NamedNode) for q in quads)
    assert canonical(to_rdflib(quads)) == expected


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("hrgraph.ttl", ox.RdfFormat.TURTLE),
        ("hrgraph.jsonld", ox.RdfFormat.JSON_LD),
        ("hrgraph.trig", ox.RdfFormat.TRIG),
        ("hrgraph.nt", ox.RdfFormat.N_TRIPLES),
        ("hrgraph.rdf", ox.RdfFormat.RDF_XML),
    ],
)
def test_dumps_parse_back_with_pyoxigraph(
    release: Path, expected: Canonical, name: str, fmt: ox.RdfFormat
) -> None:
    quads = list(ox.parse(path=release / name, format=fmt))
    assert canonical(to_rdflib(quads)) == expected


def test_checksums_match_every_file(release: Path) -> None:
    listed = {}
    for line in (release / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    files = {
        p.relative_to(release).as_posix()
        for p in release.rglob("*")
        if p.is_file() and "store" not in p.parts
    } - {"SHA256SUMS"}
    assert set(listed) == files
    for name, digest in listed.items():
        assert hashlib.sha256((release / name).read_bytes()).hexdigest() == digest, name


def test_dcat_describes_each_file_with_size_type_and_checksum(release: Path) -> None:
    graph = Graph().parse(release / "description.ttl")
    # every file, and the SPARQL endpoint and the change feed (distributions without a download;
    # the feed's files are what /feed serves, described by its distribution)
    distributions = {
        d for d in graph.subjects(RDF.type, DCAT.Distribution) if graph.value(d, DCAT.downloadURL)
    }
    services = set(graph.subjects(RDF.type, DCAT.Distribution)) - distributions
    assert {str(graph.value(d, DCAT.accessURL)) for d in services} == {
        "https://w3id.org/hrgraph/sparql",
        "https://w3id.org/hrgraph/feed",
    }
    described = {
        p.relative_to(release).as_posix()
        for p in release.rglob("*")
        if p.is_file() and "store" not in p.parts and "feed" not in p.parts
    } - {"SHA256SUMS", "description.ttl", "release.json"}
    assert len(distributions) == len(described)
    for dist in distributions:
        url = str(graph.value(dist, DCAT.downloadURL))
        name = url.split(f"/downloads/{release.name}/", 1)[1]
        data = (release / name).read_bytes()
        assert int(graph.value(dist, DCAT.byteSize)) == len(data)
        checksum = graph.value(dist, URIRef(SPDX + "checksum"))
        value = graph.value(checksum, URIRef(SPDX + "checksumValue"))
        assert str(value) == hashlib.sha256(data).hexdigest()
        assert graph.value(dist, DCAT.mediaType) is not None
    titles = {
        t.language
        for t in graph.objects(
            URIRef("https://w3id.org/hrgraph/dataset"), URIRef("http://purl.org/dc/terms/title")
        )
    }
    assert titles == {"en", "fr"}


DUMP_TYPES = {
    "hrgraph.ttl": "text/turtle",
    "hrgraph.nt": "application/n-triples",
    "hrgraph.nt.gz": "application/n-triples",
    "hrgraph.jsonld": "application/ld+json",
    "hrgraph.rdf": "application/rdf+xml",
    "hrgraph.trig": "application/trig",
}


def distributions(release: Path) -> dict[str, URIRef]:
    """File name -> its DCAT distribution in description.ttl."""
    graph = Graph().parse(release / "description.ttl")
    return {
        str(graph.value(d, DCAT.downloadURL)).rpartition(f"/{release.name}/")[2]: URIRef(d)
        for d in graph.subjects(RDF.type, DCAT.Distribution)
    }


def test_every_dump_is_listed_checksummed_and_described(release: Path) -> None:
    """The plain N-Triples and the RDF/XML too: each in SHA256SUMS and in the DCAT with its type."""
    graph = Graph().parse(release / "description.ttl")
    sums = (release / "SHA256SUMS").read_text()
    described = distributions(release)
    for name, media in DUMP_TYPES.items():
        assert f"  {name}\n" in sums, name
        types = {str(t) for t in graph.objects(described[name], DCAT.mediaType)}
        assert types == {IANA + media}, name
    assert (release / "hrgraph.rdf").read_bytes().startswith(b"<?xml")
    assert not (release / "hrgraph.nt").read_bytes().startswith(b"\x1f\x8b")  # not gzipped


def test_table_titles_are_english_and_french(release: Path) -> None:
    """Each table named in each language ("Tableau : programs (CSV)" was half English)."""
    graph = Graph().parse(release / "description.ttl")
    for name, dist in distributions(release).items():
        if not name.startswith("csv/"):
            continue
        stem = name.removeprefix("csv/").removesuffix(".csv")
        titles = {t.language: str(t) for t in graph.objects(dist, DCTERMS.title)}
        assert titles == {"en": TITLES[stem]["en"], "fr": TITLES[stem]["fr"]}, name


TITLES = {
    "programs": {"en": "Table of programs (CSV)", "fr": "Tableau des programmes (CSV)"},
    "organizations": {"en": "Table of organizations (CSV)", "fr": "Tableau des organismes (CSV)"},
    "cities": {"en": "Table of cities (CSV)", "fr": "Tableau des villes (CSV)"},
    "practices": {"en": "Table of practices (CSV)", "fr": "Tableau des pratiques (CSV)"},
    "lessons": {"en": "Table of lessons (CSV)", "fr": "Tableau des leçons (CSV)"},
    "challenges": {"en": "Table of challenges (CSV)", "fr": "Tableau des défis (CSV)"},
    "findings": {
        "en": "Table of findings and needs (CSV)",
        "fr": "Tableau des constats et besoins (CSV)",
    },
    "milestones": {"en": "Table of milestones (CSV)", "fr": "Tableau des jalons (CSV)"},
    "figures": {"en": "Table of figures (CSV)", "fr": "Tableau des données chiffrées (CSV)"},
    "documents": {
        "en": "Table of source documents (CSV)",
        "fr": "Tableau des documents sources (CSV)",
    },
}


def test_store_opens_read_only_and_answers(release: Path) -> None:
    store = ox.Store.read_only(str(release / "store"))
    ask = "ASK { GRAPH ?g { <https://w3id.org/hrgraph/id/city/whitehorse> a ?type } }"
    assert store.query(ask)
    with pytest.raises(RuntimeError, match="read-write"):
        store.add(
            ox.Quad(
                ox.NamedNode("http://x/s"), ox.NamedNode("http://x/p"), ox.NamedNode("http://x/o")
            )
        )


def test_csv_has_a_row_per_program_with_labels(release: Path, source_graph: Graph) -> None:
    lines = (release / "csv" / "programs.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert header[:4] == ["iri", "rdf:type", "rdfs:label@en", "rdfs:label@fr"]
    programs = set(
        source_graph.subjects(RDF.type, URIRef("https://w3id.org/hrgraph/ontology#Program"))
    )
    assert len(lines) - 1 == len(programs) > 0


def test_same_sources_give_byte_identical_releases(
    served_build: tuple[Settings, BuildResult],
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two builds in two folders (the first is the session's), with the same SOURCE_DATE_EPOCH."""
    _, first = served_build
    monkeypatch.setenv("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
    second = build(make_settings(releases=str(tmp_path / "b")))
    assert second.built
    assert first.version == second.version
    assert tree(first.path) == tree(second.path)


def test_unchanged_sources_are_not_rebuilt(served_build: tuple[Settings, BuildResult]) -> None:
    settings, first = served_build  # built by the session
    again = build(settings)
    assert first.built and not again.built
    assert again.path == first.path
    assert "parse" in first.timings and "parse" not in again.timings  # recognised unparsed


def test_changed_sources_give_a_new_release_and_move_current(
    sources: Path, good: tuple[Settings, BuildResult]
) -> None:
    settings, first = good
    pages = sources / "data" / "pages.ttl"
    pages.write_text(pages.read_text() + "\n# edited\n")
    second = build(settings)
    assert second.version != first.version
    assert current_release(settings.releases) == second.path
    assert first.path.is_dir()


def test_existing_version_with_other_content_is_refused(
    sources: Path, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(sources, version="2026.1")
    build(settings)
    pages = sources / "data" / "pages.ttl"
    pages.write_text(pages.read_text() + "\n# edited\n")
    with pytest.raises(ReleaseError, match="immutable"):
        build(settings)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (MALFORMED, SourceError),
        (PROGRAM_WITHOUT_SOURCE, NonConformingError),
        (WRONG_DATATYPE, NonConformingError),
        (OUTSIDE_BASE, NonConformingError),
    ],
)
def test_bad_input_leaves_the_current_release_exactly_as_it_was(
    sources: Path, good: tuple[Settings, BuildResult], text: str, error: type[Exception]
) -> None:
    settings, current = good
    before = tree(current.path)
    (sources / "data" / "bad.ttl").write_text(text)
    with pytest.raises(error):
        build(settings)
    assert current_release(settings.releases) == current.path
    assert tree(current.path) == before
    assert sorted(p.name for p in settings.releases.iterdir()) == sorted(
        [".lock", "current", current.version]
    )


def test_base_iri_is_applied_to_every_dump(make_settings: Callable[..., Settings]) -> None:
    result = build(make_settings(base_iri="http://localhost:8000/"))
    for name, fmt in (("hrgraph.ttl", ox.RdfFormat.TURTLE), ("hrgraph.trig", ox.RdfFormat.TRIG)):
        quads = list(ox.parse(path=result.path / name, format=fmt))
        terms = [t for q in quads for t in (q.subject, q.predicate, q.object, q.graph_name)]
        iris = {t.value for t in terms if isinstance(t, ox.NamedNode)}
        assert not {i for i in iris if i.startswith("https://w3id.org/hrgraph/")}, name
        assert "http://localhost:8000/id/city/whitehorse" in iris
        namespace = [
            t.value for t in terms if isinstance(t, ox.Literal) and t.value.endswith("/ontology#")
        ]
        assert namespace and set(namespace) == {"http://localhost:8000/ontology#"}


#: `hrgraph ARGS` that SIGKILLs itself on the Nth call of MODULE:FUNCTION, before that call runs:
#: a real SIGKILL at a known point of the build (no `finally`, no cleanup runs).
KILLED_AT = """
import importlib, os, signal, sys
from hrgraph.cli import main

where, nth = sys.argv[1], int(sys.argv[2])
module_name, name = where.split(":")
module = importlib.import_module(module_name)
original = getattr(module, name)
calls = 0

def killed(*args, **kwargs):
    global calls
    calls += 1
    if calls == nth:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(*args, **kwargs)

setattr(module, name, killed)
main(sys.argv[3:])
"""

#: One kill in each phase of writer.build, in order, and whether a half-written build folder is
#: left behind by it.
KILL_POINTS = [
    ("hrgraph.build.writer:load_sources", 1, False),  # the lock is held, nothing read yet
    ("hrgraph.build.writer:validate", 1, False),  # sources parsed, validation under way
    ("hrgraph.build.writer:_write_file", 3, True),  # writing dumps: two of them are written
    ("hrgraph.integrity:write_sums", 2, True),  # store loaded, its own checksums not written
    ("hrgraph.build.writer:_fsync_tree", 1, True),  # every file written, none synced or renamed
]


def test_killed_build_never_leaves_a_half_written_release(
    sources: Path, tmp_path: Path, served_settings: Settings
) -> None:
    """SIGKILL real builds at every phase of the writer: `current` stays the old, whole release.

    writer.build takes the lock, parses, validates, writes the dumps, tables and descriptions into
    a `.build-*` folder, loads the store, writes the checksums, fsyncs, renames the folder into
    place and only then switches `current`. A build is killed once in each of those phases
    (KILL_POINTS) and once between the rename and the switch, each time by a real SIGKILL at a
    known point rather than after a guessed delay (delays of 0.3 to 3 s on 40,000 generated
    triples all fell before the first file was written: validation alone takes longer). Between
    them these kills leave every state a dying build can leave on disk: nothing, a half-written
    build folder, and a whole release that is not current yet. After each, `current` is the old
    release and verifies, and every renamed release is complete; the next build finishes and
    removes what the killed ones left."""
    releases = tmp_path / "releases"
    copy_releases(served_settings, releases)  # a release of these sources: the old one
    old = current_release(releases)
    assert old is not None
    build_args = ["build", "--sources", str(sources), "--releases", str(releases)]
    pages = sources / "data" / "pages.ttl"
    pages.write_text(pages.read_text() + "\n# a new release\n")

    def killed_at(where: str, nth: int) -> None:
        done = subprocess.run(
            [sys.executable, "-c", KILLED_AT, where, str(nth), *build_args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == -signal.SIGKILL, f"not killed at {where}: {done.stderr}"
        assert_whole(releases)
        for version in releases.glob("[!.]*"):  # a renamed release is always complete
            assert (version / "SHA256SUMS").is_file() and (version / "release.json").is_file()

    def finished() -> Path:
        done = subprocess.run(
            [sys.executable, "-m", "hrgraph", *build_args], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert_whole(releases)
        assert not list(releases.glob(".build-*"))
        current = current_release(releases)
        assert current is not None
        return current

    for where, nth, leaves_a_folder in KILL_POINTS:
        killed_at(where, nth)
        assert current_release(releases) == old, where
        assert bool(list(releases.glob(".build-*"))) == leaves_a_folder, where
    new = finished()
    assert new != old

    pages.write_text(pages.read_text() + "\n# another release\n")
    killed_at("hrgraph.build.writer:switch_current", 1)  # renamed into place, not current yet
    assert current_release(releases) == new
    assert not list(releases.glob(".build-*"))
    assert finished() not in (old, new)


def assert_whole(releases: Path) -> None:
    current = releases / "current"
    assert current.is_dir()
    for line in (current / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((current / name).read_bytes()).hexdigest() == digest
