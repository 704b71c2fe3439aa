"""The builder's side of the change feed (src/hrgraph/build/feed.py): the gate it runs on the
documents a release changes. The feed across real builds is tested in tests/web/test_feed.py."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from hrgraph import feed
from hrgraph.build.feed import _validate
from hrgraph.errors import ReleaseError

BASE = "https://example.org/hr/"


def member(version: str, path: str, kind: str, time: str) -> list[ox.Quad]:
    iri = ox.NamedNode(feed.member_iri(BASE, version, path))
    quads = [
        ox.Quad(iri, feed.TYPE, ox.NamedNode(kind)),
        ox.Quad(iri, feed.OBJECT, ox.NamedNode(BASE + path)),
        ox.Quad(iri, feed.PUBLISHED, ox.Literal(time, datatype=feed.DATETIME)),
    ]
    if kind != feed.DELETE:
        label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
        quads.append(ox.Quad(ox.NamedNode(BASE + path), label, ox.Literal(path), iri))
    return quads


def feed_of(work: Path, pages: list[tuple[str, str, list[ox.Quad]]]) -> list[feed.Page]:
    (work / feed.FOLDER).mkdir(parents=True)
    listed = []
    for version, time, quads in pages:
        ox.serialize(
            quads, output=str(work / feed.members_file(version)), format=ox.RdfFormat.N_QUADS
        )
        listed.append(feed.Page(version, time, sum(q.predicate == feed.OBJECT for q in quads)))
    feed.write_pages(work, listed)
    return listed


T1, T2, T3 = "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"


def test_a_good_feed_passes_the_gate(tmp_path: Path) -> None:
    pages = feed_of(
        tmp_path,
        [
            ("1", T1, member("1", "id/a", feed.CREATE, T1) + member("1", "id/b", feed.CREATE, T1)),
            ("2", T2, member("2", "id/a", feed.UPDATE, T2)),
            ("3", T3, member("3", "id/a", feed.DELETE, T3) + member("3", "id/c", feed.CREATE, T3)),
        ],
    )
    _validate(tmp_path, BASE, pages, "3")  # raises on a violation


def test_the_gate_sees_the_history_of_older_pages(tmp_path: Path) -> None:
    """Page 1 is neither re-checked nor linked as members, but its history counts: page 3
    updating a resource page 1 never created is refused, and the message says it is a bug."""
    pages = feed_of(
        tmp_path,
        [
            ("1", T1, member("1", "id/a", feed.CREATE, T1)),
            ("2", T2, member("2", "id/b", feed.CREATE, T2)),
            ("3", T3, member("3", "id/a", feed.DELETE, T3) + member("3", "id/z", feed.UPDATE, T3)),
        ],
    )
    with pytest.raises(
        ReleaseError, match=r"does not conform to its LDES shapes .* bug of hrgraph"
    ):
        _validate(tmp_path, BASE, pages, "3")


def test_the_gate_refuses_a_page_out_of_time(tmp_path: Path) -> None:
    pages = feed_of(
        tmp_path,
        [
            ("1", T1, member("1", "id/a", feed.CREATE, T1)),
            ("2", T2, member("2", "id/a", feed.UPDATE, T3)),  # not at its page's time
        ],
    )
    with pytest.raises(ReleaseError, match="does not conform"):
        _validate(tmp_path, BASE, pages, "2")
