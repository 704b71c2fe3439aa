from __future__ import annotations

import gzip
import hashlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF

from bad_inputs import MALFORMED, OUTSIDE_BASE, PROGRAM_WITHOUT_SOURCE, WRONG_DATATYPE
from hrgraph.build.sources import load_sources
from hrgraph.build.validation import to_rdflib
from hrgraph.build.writer import build, current_release
from hrgraph.config import Settings
from hrgraph.errors import NonConformingError, ReleaseError, SourceError

ROOT = Path(__file__).resolve().parents[2]
SPDX = "http://spdx.org/rdf/terms#"
IANA = "https://www.iana.org/assignments/media-types/"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hrgraph.config import load_settings

    releases = tmp_path_factory.mktemp("module") / "releases"
    settings = load_settings({"sources": str(ROOT), "releases": str(releases)}, environ={})
    result = build(settings)
    assert result.built
    return result.path


@pytest.fixture(scope="module")
def source_graph() -> Graph:
    from hrgraph.config import load_settings

    return to_rdflib(load_sources(load_settings({"sources": str(ROOT)}, environ={})).quads())


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
    release: Path, source_graph: Graph, name: str, fmt: str
) -> None:
    data = (release / name).read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    assert isomorphic(Graph().parse(data=data, format=fmt), source_graph)


def test_trig_has_one_named_graph_per_source_file(release: Path, source_graph: Graph) -> None:
    quads = list(ox.parse(path=release / "hrgraph.trig", format=ox.RdfFormat.TRIG))
    names = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
    expected = {
        f"https://w3id.org/hrgraph/graph/{role}/{p.stem}"
        for role in ("ontology", "shapes", "data")
        for p in (ROOT / role).glob("*.ttl")
    }
    assert names == expected
    assert all(isinstance(q.graph_name, ox.NamedNode) for q in quads)
    assert isomorphic(to_rdflib(quads), source_graph)


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
    release: Path, source_graph: Graph, name: str, fmt: ox.RdfFormat
) -> None:
    quads = list(ox.parse(path=release / name, format=fmt))
    assert isomorphic(to_rdflib(quads), source_graph)


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
    # every file, and the SPARQL endpoint (a distribution without a download)
    distributions = {
        d for d in graph.subjects(RDF.type, DCAT.Distribution) if graph.value(d, DCAT.downloadURL)
    }
    (endpoint,) = set(graph.subjects(RDF.type, DCAT.Distribution)) - distributions
    assert graph.value(endpoint, DCAT.accessURL) == URIRef("https://w3id.org/hrgraph/sparql")
    described = {
        p.relative_to(release).as_posix()
        for p in release.rglob("*")
        if p.is_file() and "store" not in p.parts
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
    tmp_path: Path, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = build(make_settings(releases=str(tmp_path / "a")))
    second = build(make_settings(releases=str(tmp_path / "b")))
    assert first.version == second.version
    assert tree(first.path) == tree(second.path)


def test_unchanged_sources_are_not_rebuilt(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    first = build(settings)
    again = build(settings)
    assert first.built and not again.built
    assert again.path == first.path
    assert "parse" in first.timings and "parse" not in again.timings  # recognised unparsed


def test_changed_sources_give_a_new_release_and_move_current(
    sources: Path, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(sources)
    first = build(settings)
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
    sources: Path, make_settings: Callable[..., Settings], text: str, error: type[Exception]
) -> None:
    settings = make_settings(sources)
    good = build(settings)
    before = tree(good.path)
    (sources / "data" / "bad.ttl").write_text(text)
    with pytest.raises(error):
        build(settings)
    assert current_release(settings.releases) == good.path
    assert tree(good.path) == before
    assert sorted(p.name for p in settings.releases.iterdir()) == sorted(
        [".lock", "current", good.version]
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


def test_killed_build_never_leaves_a_half_written_release(tmp_path: Path) -> None:
    """SIGKILL real builds at many moments: `current` stays the old, whole release."""
    generated = tmp_path / "generated"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "generate.py"),
            "--triples",
            "40000",
            "--out",
            str(generated),
        ],
        check=True,
        capture_output=True,
    )
    releases = tmp_path / "releases"
    command = [
        sys.executable,
        "-m",
        "hrgraph",
        "build",
        "--sources",
        str(generated),
        "--releases",
        str(releases),
    ]
    subprocess.run(command, check=True, capture_output=True)
    old = current_release(releases)
    assert old is not None
    edited = next((generated / "data").glob("*.ttl"))
    edited.write_text(edited.read_text() + "\n# a new release\n")
    killed = 0
    for delay in (0.3, 0.6, 0.9, 1.2, 1.5, 1.8, 2.1, 2.4, 2.7, 3.0):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait()
        assert_whole(releases)
        for version in releases.glob("[!.]*"):  # a renamed release is always complete
            assert (version / "SHA256SUMS").is_file() and (version / "release.json").is_file()
        if process.returncode == 0:
            break
        assert current_release(releases) == old
    assert killed >= 3, "the build finished too fast to be killed: raise --triples"
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert_whole(releases)
    assert current_release(releases) not in (None, old)
    assert not list(releases.glob(".build-*"))


def assert_whole(releases: Path) -> None:
    current = releases / "current"
    assert current.is_dir()
    for line in (current / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((current / name).read_bytes()).hexdigest() == digest
