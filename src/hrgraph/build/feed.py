"""The change feed of a new release (the layout and the served documents: `hrgraph.feed`).

The feed continues the one of the release served before it (`current`, or else the newest other
release): its pages are copied (rebased if the base IRI changed) and one page is added with what
this release adds, changes and removes against that release, compared as the release notes
compare (`hrgraph.changes`). A release with no feed to continue (the first, one built before
hrgraph had a feed, one that does not verify) starts the feed: its page creates every resource,
so replaying the feed from its start always rebuilds the latest release.

Before the release is written, every feed document is validated against the LDES shapes of
`build/shapes/ldes.ttl` (pySHACL, as the data is): a Violation refuses the release.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from hrgraph import changes, feed, integrity
from hrgraph.build.sources import rebase, relabel
from hrgraph.build.validation import validate_feed
from hrgraph.errors import HrgraphError, ReleaseError
from hrgraph.release import current_release, read_manifest, release_folders

TIME = "%Y-%m-%dT%H:%M:%SZ"


def predecessor(releases: Path, version: str) -> Path | None:
    """The release whose feed the new release `version` continues."""
    current = current_release(releases)
    if current is not None and current.name != version:
        return current
    others = [p for p in release_folders(releases) if p.name != version]
    return others[-1] if others else None


def write(
    work: Path,
    before: Path | None,
    base: str,
    version: str,
    triples: list[ox.Triple],
    moment: datetime,
    echo: Callable[[str], None],
) -> feed.Page:
    """Write the feed of the release being built in `work` (its triples, under `base`) on top of
    the feed of `before`, validate it, and return the new page."""
    (work / feed.FOLDER).mkdir()
    pages = _continued(work, before, base, echo)
    old = changes.descriptions(before) if pages and before is not None else {}
    found = changes.compare(old, changes.describe(triples, base), None, version, base)
    published = _after(moment, pages[-1].published if pages else None)
    members = _members(base, version, published, found, changes.statements(triples, base))
    new = feed.Page(version, published, len(found.added) + len(found.changed) + len(found.removed))
    pages.append(new)
    ox.serialize(
        members, output=str(work / feed.members_file(version)), format=ox.RdfFormat.N_QUADS
    )
    feed.write_pages(work, pages)
    _validate(work, base, pages, version)
    return new


def _continued(
    work: Path, before: Path | None, base: str, echo: Callable[[str], None]
) -> list[feed.Page]:
    """The pages of `before`'s feed, copied into `work`; none when there is none to continue."""
    if before is None:
        return []
    try:
        pages = feed.read_pages(before)
        old_base = str(read_manifest(before)["base_iri"])
        found = integrity.verify(before)
        if not found.intact:
            raise ReleaseError("; ".join(found.problems[:3]))
    except HrgraphError as error:
        echo(f"warning: the change feed starts again with this release ({before.name}: {error})")
        return []
    for page in pages:
        name = feed.members_file(page.version)
        if old_base == base:
            shutil.copyfile(before / name, work / name)
        else:
            quads = rebase(feed.read_members(before, page.version), base, old_base)
            ox.serialize(quads, output=str(work / name), format=ox.RdfFormat.N_QUADS)
    return pages


def _after(moment: datetime, last: str | None) -> str:
    """The new page's time: the build's, or one second after the last page's when that is not
    earlier (an LDES never adds a member earlier than one it has published)."""
    moment = moment.astimezone(UTC).replace(microsecond=0)
    if last is not None:
        previous = datetime.strptime(last, TIME).replace(tzinfo=UTC)
        moment = max(moment, previous + timedelta(seconds=1))
    return moment.strftime(TIME)


def _members(
    base: str,
    version: str,
    published: str,
    found: changes.Changes,
    statements: dict[str, list[ox.Triple]],
) -> list[ox.Quad]:
    time = ox.Literal(published, datatype=feed.DATETIME)
    kinds = [
        *((path, feed.CREATE) for path in found.added),
        *((c.path, feed.UPDATE) for c in found.changed),
        *((path, feed.DELETE) for path in found.removed),
    ]
    quads: list[ox.Quad] = []
    for number, (path, kind) in enumerate(sorted(kinds)):
        member = ox.NamedNode(feed.member_iri(base, version, path))
        quads += [
            ox.Quad(member, feed.TYPE, ox.NamedNode(kind)),
            ox.Quad(member, feed.OBJECT, ox.NamedNode(base + path)),
            ox.Quad(member, feed.PUBLISHED, time),
        ]
        if kind != feed.DELETE:
            # blank nodes renamed apart from the other members'
            triples = (ox.Quad(t.subject, t.predicate, t.object) for t in statements[path])
            quads += relabel(triples, member, f"m{number}b")
    return quads


def _validate(work: Path, base: str, pages: list[feed.Page], version: str) -> None:
    """What this release changes in the feed, against the LDES shapes: the root, its page, and
    the node of the page it closes (its new relation and flag), merged (default graphs; blank
    nodes kept apart per document, as a client parsing each keeps them). The older members are
    byte-for-byte those an earlier build validated (and verified since); what the checks need of
    them is that their pages are nodes and the history of the resources this page touches,
    without `tree:member` links, so that only this release's members are checked again and the
    gate's cost follows the size of the release's changes, not of the whole feed."""
    last = len(pages) - 1
    members = feed.read_members(work, version)
    documents = [feed.root(base, pages), feed.page(base, pages, last, members)]
    touched = {q.object for q in members if q.predicate == feed.OBJECT}
    context: list[ox.Quad] = []
    for index, page in enumerate(pages[:last]):
        older = feed.read_members(work, page.version)
        if index == last - 1:  # the page this release closes: its node and relation anew
            versions = {m.subject for m in older}
            context += [
                q
                for q in feed.page(base, pages, index, older)
                if q.predicate != feed.MEMBER
                and q.graph_name == ox.DefaultGraph()
                and q.subject not in versions
            ]
        else:
            context.append(
                ox.Quad(ox.NamedNode(feed.page_iri(base, page.version)), feed.TYPE, feed.NODE)
            )
        context += _history(older, touched)
    merged = [
        q
        for number, document in enumerate([*documents, context])
        for q in relabel(
            (q for q in document if q.graph_name == ox.DefaultGraph()),
            ox.DefaultGraph(),
            f"d{number}b",
        )
    ]
    report = validate_feed(merged)
    if not report.conforms:
        first = report.results[0]
        raise ReleaseError(
            f"the change feed of release {version} does not conform to its LDES shapes "
            f"({report.count('Violation')} violation(s); first: {first.focus}: "
            f"{first.message()}); this is a bug of hrgraph: please report it"
        )


def _history(members: list[ox.Quad], touched: set[Any]) -> list[ox.Quad]:
    """The metadata of the members that are versions of the `touched` resources."""
    default = [q for q in members if q.graph_name == ox.DefaultGraph()]
    versions = {q.subject for q in default if q.predicate == feed.OBJECT and q.object in touched}
    return [q for q in default if q.subject in versions]
