"""Build an immutable release: parse, validate (a Violation refuses the release), then write
`releases/<version>/` in a temporary folder, rename it into place and switch `current` atomically,
so that a build killed at any moment never leaves a half-written release that could be served.
The release carries the change feed up to itself (`build.feed`), continued from the release
served before it.

A release that exists, verifies against its checksums and is current is "up to date" without
taking the build lock or writing anything, so a read-only releases folder is served as it is. A
damaged one is moved aside (`.damaged-<version>-<time>`) and built again; it is never switched to.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from hrgraph import __version__, integrity
from hrgraph.build import feed, search_index
from hrgraph.build.derived import closure, with_statements
from hrgraph.build.description import PREFIXES as DESCRIPTION_PREFIXES
from hrgraph.build.description import FileEntry, describe
from hrgraph.build.dictionary import files as dictionary_files
from hrgraph.build.sources import (
    GRAPH_BASE,
    Sources,
    fingerprint,
    load_sources,
    rebase,
    source_paths,
)
from hrgraph.build.tables import tables
from hrgraph.build.tables import title as table_title
from hrgraph.build.validation import FEED_SHAPES, Report, Result, validate
from hrgraph.config import CANONICAL_BASE, Settings, mention
from hrgraph.errors import HrgraphError, NonConformingError, ReleaseError, failure_message
from hrgraph.release import (
    BUILDING,
    CURRENT,
    DAMAGED,
    MANIFEST,
    PRUNING,
    RELEASE_FORMAT,
    STORE,
    build_lock,
    current_release,
    fsync_dir,
    intact_release,
    read_manifest,
    switch_current,
    writable,
)
from hrgraph.vocab import RDF_TYPE, SH

DESCRIPTION_GRAPH = ox.NamedNode(GRAPH_BASE + "release/description")
REPORT_GRAPH = ox.NamedNode(GRAPH_BASE + "release/shacl-report")

#: name, pyoxigraph format, media type, gzip?, title
DUMPS: tuple[tuple[str, ox.RdfFormat, str, bool, dict[str, str]], ...] = (
    (
        "hrgraph.ttl",
        ox.RdfFormat.TURTLE,
        "text/turtle",
        False,
        {"en": "The whole graph (Turtle)", "fr": "Le graphe complet (Turtle)"},
    ),
    (
        # Uncompressed too: RDF clients read it from its URL, which they cannot do with the .gz.
        "hrgraph.nt",
        ox.RdfFormat.N_TRIPLES,
        "application/n-triples",
        False,
        {"en": "The whole graph (N-Triples)", "fr": "Le graphe complet (N-Triples)"},
    ),
    (
        "hrgraph.nt.gz",
        ox.RdfFormat.N_TRIPLES,
        "application/n-triples",
        True,
        {"en": "The whole graph (N-Triples, gzip)", "fr": "Le graphe complet (N-Triples, gzip)"},
    ),
    (
        "hrgraph.jsonld",
        ox.RdfFormat.JSON_LD,
        "application/ld+json",
        False,
        {"en": "The whole graph (JSON-LD)", "fr": "Le graphe complet (JSON-LD)"},
    ),
    (
        "hrgraph.rdf",
        ox.RdfFormat.RDF_XML,
        "application/rdf+xml",
        False,
        {"en": "The whole graph (RDF/XML)", "fr": "Le graphe complet (RDF/XML)"},
    ),
    (
        "hrgraph.trig",
        ox.RdfFormat.TRIG,
        "application/trig",
        False,
        {
            "en": "One named graph per source file (TriG)",
            "fr": "Un graphe nommé par fichier source (TriG)",
        },
    ),
)

Echo = Callable[[str], None]


@dataclass
class BuildResult:
    version: str
    path: Path
    built: bool
    report: Report | None = None
    timings: dict[str, float] = field(default_factory=dict)


class Steps:
    """Times each step and says when it starts and ends (the build's progress display)."""

    def __init__(self, echo: Echo) -> None:
        self.echo = echo
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str, what: str) -> Iterator[None]:
        self.echo(f"{what} ...")
        start = time.perf_counter()
        yield
        elapsed = time.perf_counter() - start
        self.timings[name] = self.timings.get(name, 0.0) + elapsed
        self.echo(f"{what}: done in {elapsed:.2f} s")


def build(settings: Settings, echo: Echo = lambda _: None) -> BuildResult:
    steps = Steps(echo)
    paths = [*source_paths(settings), ("builder", FEED_SHAPES)]
    digest = fingerprint(paths, settings.base_iri, __version__, RELEASE_FORMAT)
    version = settings.version or f"{__version__}+{digest[:10]}"
    releases, target = settings.releases, settings.releases / version
    # Up to date reads only: no lock, no write (a read-only releases folder is served as is).
    if _points_at(releases, version) and _reusable(target, digest, echo=None):
        echo(f"release {version} is up to date")
        return BuildResult(version, target, built=False, timings=steps.timings)
    releases.mkdir(parents=True, exist_ok=True)
    with build_lock(releases):
        if _reusable(target, digest, echo):
            switch_current(releases, version)
            echo(f"release {version} is up to date")
            return BuildResult(version, target, built=False, timings=steps.timings)
        with steps("parse", "reading sources"):
            sources = load_sources(settings)
        with steps("validate", f"validating {sources.count()} triples against the shapes"):
            built = with_statements(sources)  # derived once: checked here, published below
            report = validate(sources, built)
        if not report.conforms:
            raise NonConformingError(report)
        sources = built
        _remove_stale(releases)
        _write_release(target, sources, report, settings, digest, steps)
        switch_current(releases, version, replace=True)  # servers notice a rebuilt version too
    echo(f"release {version} written to {target}")
    return BuildResult(version, target, built=True, report=report, timings=steps.timings)


def _write_release(
    target: Path, sources: Sources, report: Report, settings: Settings, digest: str, steps: Steps
) -> None:
    """Write the release in a temporary folder and rename it to `target`; nothing is left behind
    when that fails. An error other than OSError while writing (pyoxigraph reports a full disk
    as RuntimeError) is a ReleaseError."""
    work = target.parent / f"{BUILDING}{target.name}-{os.getpid()}"
    try:
        work.mkdir()
        _write(work, sources, report, settings, target.name, digest, steps)
        _fsync_tree(work)
        os.rename(work, target)
    except BaseException as error:
        shutil.rmtree(work, ignore_errors=True)
        if isinstance(error, OSError | HrgraphError) or not isinstance(error, Exception):
            raise
        raise ReleaseError(
            f"cannot write release {target.name} in {target.parent}: "
            f"{type(error).__name__}: {error}"
        ) from error


def _reusable(target: Path, digest: str, echo: Echo | None) -> bool:
    """Whether `target` exists, comes from these sources and verifies. A damaged one is moved
    aside when `echo` is given (under the lock), so that it is built again."""
    if not target.is_dir():
        return False
    _check_same(target, digest)
    found = integrity.verify(target)
    if found.intact:
        return True
    if echo is not None:
        _set_aside(target, list(found.problems), echo)
    return False


def _set_aside(target: Path, problems: list[str], echo: Echo) -> None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    aside = target.parent / f"{DAMAGED}{target.name}-{stamp}"
    os.rename(target, aside)
    more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
    echo(
        f"warning: release {target.name} is damaged ({problems[0]}{more}); "
        f"moved aside to {aside.name} and built again"
    )


def _points_at(releases: Path, version: str) -> bool:
    try:
        return os.readlink(releases / CURRENT) == version
    except OSError:
        return False


def _write(
    work: Path,
    sources: Sources,
    report: Report,
    settings: Settings,
    version: str,
    digest: str,
    steps: Steps,
) -> None:
    base = settings.base_iri
    prefixes = {p: _rebase_iri(ns, base) for p, ns in sorted(sources.prefixes.items()) if p}
    with steps("serialize", "writing dumps, tables and descriptions"):
        quads = sorted(rebase([*sources.quads(), *closure(sources)], base), key=_order)
        moment = _moment()
        entries = [
            _dump(work, name, fmt, media, gz, title, quads, prefixes)
            for name, fmt, media, gz, title in DUMPS
        ]
        entries += _tables(work, quads, prefixes)
        entries += [_write_file(work, *f) for f in dictionary_files(quads, prefixes, version)]
        index = search_index.search_index(quads, base)
        entries.append(
            _write_file(work, search_index.FILE, search_index.MEDIA_TYPE, index, search_index.TITLE)
        )
        report_quads = report_to_quads(report.results, base)
        entries.append(
            _write_file(
                work,
                "shacl-report.ttl",
                "text/turtle",
                _turtle(report_quads, prefixes),
                {"en": "SHACL validation report", "fr": "Rapport de validation SHACL"},
            )
        )
        issued = moment.date().isoformat()
        description = describe(
            base, version, issued, entries, quads, DESCRIPTION_GRAPH, report=report_quads
        )
        (work / "description.ttl").write_bytes(
            _turtle(sorted(description, key=_order), {**prefixes, **DESCRIPTION_PREFIXES})
        )
        manifest = {
            "version": version,
            "fingerprint": digest,
            "base_iri": base,
            "issued": issued,
            "triples": len(quads),
            "hrgraph": __version__,
            "format": RELEASE_FORMAT,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    with steps("feed", "writing and validating the change feed"):
        before = feed.predecessor(settings.releases, version)
        triples = [q.triple for q in quads]
        page = feed.write(work, before, base, version, triples, moment, steps.echo)
        steps.echo(f"change feed: {page.members} member(s) published at {page.published}")
    integrity.write_sums(work, skip=STORE)
    with steps("store", "loading the query store"):
        # Loading serialized N-Quads is pyoxigraph's fastest path (no Python objects per quad).
        # The default graph also holds the merged triples: querying it is several times faster
        # than use_default_graph_as_union, which must deduplicate across graphs at query time.
        store = ox.Store(str(work / STORE))
        everything = [*quads, *description, *report_quads]
        store.bulk_load(
            input=_serialize(everything, ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS
        )
        store.bulk_load(
            input=_serialize((q.triple for q in everything), ox.RdfFormat.N_TRIPLES),
            format=ox.RdfFormat.N_TRIPLES,
        )
        store.flush()
        del store
        integrity.write_sums(work / STORE)  # its bytes differ per build: a list of its own


def _rebase_iri(iri: str, base: str) -> str:
    return base + iri[len(CANONICAL_BASE) :] if iri.startswith(CANONICAL_BASE) else iri


def _order(quad: ox.Quad) -> tuple[str, str, bool, str, str]:
    predicate = quad.predicate.value
    return (
        str(quad.graph_name),
        str(quad.subject),
        predicate != RDF_TYPE,
        predicate,
        str(quad.object),
    )


def _serialize(
    items: Iterable[ox.Quad] | Iterable[ox.Triple],
    fmt: ox.RdfFormat,
    prefixes: dict[str, str] | None = None,
) -> bytes:
    data = ox.serialize(items, format=fmt, prefixes=prefixes)
    assert data is not None  # no output file given: pyoxigraph returns the bytes
    return data


def _turtle(quads: Iterable[ox.Quad], prefixes: dict[str, str]) -> bytes:
    return _serialize((q.triple for q in quads), ox.RdfFormat.TURTLE, prefixes)


def _dump(
    work: Path,
    name: str,
    fmt: ox.RdfFormat,
    media: str,
    gz: bool,
    title: dict[str, str],
    quads: list[ox.Quad],
    prefixes: dict[str, str],
) -> FileEntry:
    if fmt == ox.RdfFormat.TRIG:
        data = _serialize(quads, fmt, prefixes)
    else:
        data = _serialize(
            (q.triple for q in quads), fmt, None if fmt == ox.RdfFormat.N_TRIPLES else prefixes
        )
    if gz:
        data = gzip.compress(data, compresslevel=6, mtime=0)
    return _write_file(work, name, media, data, title)


def _tables(work: Path, quads: list[ox.Quad], prefixes: dict[str, str]) -> list[FileEntry]:
    (work / "csv").mkdir()
    return [
        _write_file(
            work,
            f"csv/{stem}.csv",
            "text/csv",
            text.encode(),
            table_title(stem),
        )
        for stem, text in tables(quads, prefixes).items()
    ]


def _write_file(work: Path, name: str, media: str, data: bytes, title: dict[str, str]) -> FileEntry:
    (work / name).write_bytes(data)
    return FileEntry(name, media, len(data), hashlib.sha256(data).hexdigest(), title)


def report_to_quads(results: list[Result], base: str) -> list[ox.Quad]:
    """The validation report as SHACL RDF with stable blank-node labels (deterministic)."""
    g = REPORT_GRAPH
    report = ox.BlankNode("report")
    conforms = not any(r.severity == "Violation" for r in results)
    quads = [
        ox.Quad(report, ox.NamedNode(RDF_TYPE), ox.NamedNode(SH + "ValidationReport"), g),
        ox.Quad(
            report,
            ox.NamedNode(SH + "conforms"),
            ox.Literal(
                str(conforms).lower(),
                datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"),
            ),
            g,
        ),
    ]
    for index, r in enumerate(results):
        node = ox.BlankNode(f"result{index}")
        focus = (
            ox.NamedNode(_rebase_iri(r.focus, base))
            if "://" in r.focus
            else ox.BlankNode(f"focus{index}")
        )
        quads += [
            ox.Quad(report, ox.NamedNode(SH + "result"), node, g),
            ox.Quad(node, ox.NamedNode(RDF_TYPE), ox.NamedNode(SH + "ValidationResult"), g),
            ox.Quad(node, ox.NamedNode(SH + "resultSeverity"), ox.NamedNode(SH + r.severity), g),
            ox.Quad(node, ox.NamedNode(SH + "focusNode"), focus, g),
            ox.Quad(
                node, ox.NamedNode(SH + "sourceConstraintComponent"), ox.NamedNode(r.constraint), g
            ),
        ]
        if r.path:
            quads.append(ox.Quad(node, ox.NamedNode(SH + "resultPath"), ox.NamedNode(r.path), g))
        for lang, text in sorted(r.messages.items()):
            quads.append(
                ox.Quad(
                    node, ox.NamedNode(SH + "resultMessage"), ox.Literal(text, language=lang), g
                )
            )
    return quads


def _moment() -> datetime:
    # SOURCE_DATE_EPOCH (reproducible-builds.org) makes the description and the feed
    # byte-identical too.
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(folder)


def _check_same(target: Path, digest: str) -> None:
    try:
        fingerprint = read_manifest(target).get("fingerprint")
    except ReleaseError:
        return  # unreadable: damaged, which the checksums say
    if fingerprint != digest:
        raise ReleaseError(
            f"release {target.name} already exists and was built from other sources; releases "
            f"are immutable: choose a new version ({mention('version')})"
        )


def _remove_stale(releases: Path) -> None:
    # Called under the lock: any leftover build or prune folder belongs to one that died.
    for prefix in (BUILDING, PRUNING):
        for leftover in releases.glob(prefix + "*"):
            shutil.rmtree(leftover, ignore_errors=True)


def prepare_release(settings: Settings, echo: Echo) -> None:
    """Build the release when the sources changed (a no-op when up to date, which writes nothing).

    If the sources cannot be released (a Violation, a syntax error) or the release cannot be
    written (a full disk, a read-only folder, any error while writing) but a good release exists
    (current, or else the newest that verifies), the server keeps serving that last good release
    and says so in one line; with none it stops with the error. A read-only releases folder is
    served as it is, with a one-line warning.
    """
    try:
        build(settings, echo=echo)
    except Exception as error:
        good = intact_release(settings.releases)
        if good is None:
            raise
        reason = failure_message(error)
        current = current_release(settings.releases)
        which = "current" if current is not None and current == good else "last good"
        echo(f"warning: not rebuilt ({reason}); serving the {which} release {good.name}")
        return
    if not writable(settings.releases):
        echo(
            f"warning: {settings.releases} is read-only: serving its current release as it is "
            "(no new release can be built there)"
        )
