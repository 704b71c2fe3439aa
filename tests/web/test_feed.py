"""The change feed (LDES) over HTTP: three releases built here (an addition, edits, removals), read
back by a small LDES client that follows the TREE relations as the specification says; replaying
from the start rebuilds the latest release, and a client that starts from a time gets only what
changed after it. Also the representations, caching and errors of /feed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS

from conftest import ROOT, copy_releases
from hrgraph import changes, feed
from hrgraph.build.writer import build
from hrgraph.config import Settings, load_settings
from hrgraph.errors import NotFoundError, ReleaseError
from hrgraph.release import current_release

BASE = "https://w3id.org/hrgraph/"
STREAM = BASE + "feed#stream"
TRIG = {"Accept": "application/trig"}
KEPT = "milestone:abitibi-harm-reduction-approach-1985"
ADDED = "milestone:feed-test-added"
BLOCK = f"""
{ADDED} a hr:Milestone ;
    rdfs:label "{{label}}"@en , "Ajouté pour le test du flux"@fr ;
    dct:date "1985"^^xsd:gYear ;
    hr:about organization:agence-sante-abitibi-temiscamingue ;
    hr:city city:rouyn-noranda ;
    dct:source page:chrn-133 .
"""


@dataclass(frozen=True)
class History:
    settings: Settings
    releases: list[Path]  # oldest first


def edit(milestones: Path, old: str, new: str) -> None:
    text = milestones.read_text()
    assert old in text
    milestones.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def history(served_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> History:
    """Release 1 is the session's (the shipped sources); release 2 adds a milestone and edits
    another's label; release 3 removes the edited one and edits the added one."""
    root = tmp_path_factory.mktemp("feed")
    sources = root / "sources"
    for folder in ("ontology", "shapes", "data"):
        shutil.copytree(ROOT / folder, sources / folder)
    copy_releases(served_settings, root / "releases")
    settings = load_settings(
        {"sources": str(sources), "releases": str(root / "releases"), "query_workers": "1"},
        environ={},
    )
    first = current_release(settings.releases)
    assert first is not None
    milestones = sources / "data" / "milestones.ttl"
    milestones.write_text(milestones.read_text() + BLOCK.format(label="Added for the feed test"))
    edit(milestones, "1985: harm reduction approach", "1985: a harm reduction approach")
    second = build(settings)
    start = milestones.read_text().index(f"{KEPT} a hr:Milestone")
    end = milestones.read_text().index(" .\n", start) + 3
    edit(milestones, milestones.read_text()[start:end], "")
    edit(milestones, "Added for the feed test", "Added for the feed test, edited")
    third = build(settings)
    assert second.built and third.built
    return History(settings, [first, second.path, third.path])


@pytest.fixture(scope="module")
def feed_client(history: History) -> Iterator[httpx.Client]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient
    from hrgraph.web.app import create_app

    with TestClient(create_app(history.settings), base_url="http://testserver") as http:
        yield http


# --- a small LDES client (https://w3id.org/ldes/specification, ordered ascending mode) --------


@dataclass(frozen=True)
class Member:
    iri: str
    kind: str  # Create, Update or Delete
    resource: str
    published: str
    triples: tuple[ox.Triple, ...]


def fetch(client: httpx.Client, iri: str, seen: list[str]) -> list[ox.Quad]:
    assert iri.startswith(BASE)
    answer = client.get("/" + iri[len(BASE) :], headers=TRIG)
    assert answer.status_code == 200, answer.text
    seen.append(iri)
    return list(ox.parse(answer.content, format=ox.RdfFormat.TRIG))


def objects(quads: list[ox.Quad], subject: object, predicate: str) -> list[Any]:
    """The objects of `subject predicate ?o` in the default graph."""
    return [
        q.object
        for q in quads
        if q.subject == subject
        and q.predicate.value == predicate
        and q.graph_name == ox.DefaultGraph()
    ]


def synchronize(client: httpx.Client, since: str | None = None) -> tuple[list[Member], list[str]]:
    """The members published after `since` (all without), in order, and the pages fetched. The
    root node is found by `?stream tree:view <>`; a page is skipped when a relation to it says
    that its members are all at or before `since` (relations to one node combine with AND)."""
    seen: list[str] = []
    root = fetch(client, feed.root_iri(BASE), seen)
    (stream,) = [q.subject for q in root if q.predicate.value == feed.TREE + "view"]
    assert stream == ox.NamedNode(STREAM)
    assert objects(root, stream, feed.LDES + "timestampPath") == [feed.PUBLISHED]
    nodes: dict[str, list[tuple[str, str]]] = {}
    for relation in objects(root, ox.NamedNode(feed.root_iri(BASE)), feed.TREE + "relation"):
        (node,) = objects(root, relation, feed.TREE + "node")
        (kind,) = objects(root, relation, feed.RDF_TYPE)
        (value,) = objects(root, relation, feed.TREE + "value")
        assert isinstance(node, ox.NamedNode) and isinstance(value, ox.Literal)
        nodes.setdefault(node.value, []).append((str(kind.value).rpartition("#")[2], value.value))
    members = []
    for node, bounds in nodes.items():
        upper = [v for kind, v in bounds if kind in ("LessThanOrEqualToRelation",)]
        if since is not None and upper and min(upper) <= since:
            continue
        quads = fetch(client, node, seen)
        for member in objects(quads, stream, feed.TREE + "member"):
            (kind,) = objects(quads, member, feed.RDF_TYPE)
            (resource,) = objects(quads, member, feed.AS + "object")
            (time,) = objects(quads, member, feed.AS + "published")
            payload = tuple(q.triple for q in quads if q.graph_name == member)
            found = Member(
                member.value, kind.value.rpartition("#")[2], resource.value, time.value, payload
            )
            if since is None or found.published > since:
                members.append(found)
    return sorted(members, key=lambda m: (m.published, m.iri)), seen


State = dict[str, tuple[ox.Triple, ...]]


def replay(members: list[Member], state: State | None = None) -> State:
    """Each resource's description after the members: an upsert, or a removal for a Delete."""
    state = dict(state or {})
    for member in members:
        if member.kind == "Delete":
            assert not member.triples, "a tombstone carries no description"
            del state[member.resource]
        else:
            assert member.triples, f"{member.iri} has no description"
            state[member.resource] = member.triples
    return state


def descriptions(state: State) -> changes.Descriptions:
    return changes.describe([t for triples in state.values() for t in triples], BASE)


# --- the feed across three releases ----------------------------------------------------------


def test_every_release_holds_the_whole_feed(history: History) -> None:
    """Each release's feed is the one before it and one page more; a page closed in an older
    release is carried byte for byte."""
    versions = [r.name for r in history.releases]
    for count, release in enumerate(history.releases, start=1):
        assert [p.version for p in feed.read_pages(release)] == versions[:count]
    for older, newer in zip(history.releases, history.releases[1:], strict=False):
        for page in feed.read_pages(older):
            name = feed.members_file(page.version)
            assert (older / name).read_bytes() == (newer / name).read_bytes(), name
    times = [p.published for p in feed.read_pages(history.releases[-1])]
    assert times == sorted(times) and len(set(times)) == 3


def test_pages_say_what_each_release_did(history: History) -> None:
    """The pages agree with the release notes: release 2 creates one milestone and updates one,
    release 3 deletes the updated one and updates the created one."""
    pages = feed.read_pages(history.releases[-1])
    kinds = []
    for page in pages[1:]:
        quads = feed.read_members(history.releases[-1], page.version)
        kinds.append(
            sorted(
                (q.object.value.rpartition("#")[2], str(q.subject.value).rpartition("#")[2])
                for q in quads
                if q.predicate == feed.TYPE and q.graph_name == ox.DefaultGraph()
            )
        )
    kept, added = (f"id/milestone/{name.split(':')[1]}" for name in (KEPT, ADDED))
    assert kinds == [[("Create", added), ("Update", kept)], [("Delete", kept), ("Update", added)]]
    notes = changes.diff(*history.releases[1:])
    assert (notes.removed, [c.path for c in notes.changed]) == ((kept,), [added])


def test_replaying_the_feed_rebuilds_the_latest_release(
    history: History, feed_client: httpx.Client
) -> None:
    members, seen = synchronize(feed_client)
    assert len(seen) == 4  # the root and the three pages
    assert members[0].kind == "Create" and len(members) > 400
    assert descriptions(replay(members)) == changes.descriptions(history.releases[-1])


def test_a_client_from_a_time_gets_only_what_changed_after_it(
    history: History, feed_client: httpx.Client
) -> None:
    """From the second release's time: only the third page is fetched, its members emitted, and
    the state a client had after the second release becomes the latest release."""
    pages = feed.read_pages(history.releases[-1])
    everything, _ = synchronize(feed_client)
    before = replay([m for m in everything if m.published <= pages[1].published])
    assert descriptions(before) == changes.descriptions(history.releases[1])
    later, seen = synchronize(feed_client, since=pages[1].published)
    assert seen == [feed.root_iri(BASE), feed.page_iri(BASE, pages[2].version)]
    assert {(m.kind, m.resource) for m in later} == {
        ("Delete", BASE + "id/milestone/" + KEPT.split(":")[1]),
        ("Update", BASE + "id/milestone/" + ADDED.split(":")[1]),
    }
    assert descriptions(replay(later, before)) == changes.descriptions(history.releases[-1])
    nothing, seen = synchronize(feed_client, since=pages[2].published)
    assert nothing == [] and seen == [feed.root_iri(BASE)]


def test_closed_pages_are_immutable_and_the_newest_is_not(
    history: History, feed_client: httpx.Client
) -> None:
    pages = feed.read_pages(history.releases[-1])
    for index, page in enumerate(pages):
        answer = feed_client.get(f"/feed/{page.version}", headers=TRIG)
        quads = list(ox.parse(answer.content, format=ox.RdfFormat.TRIG))
        node = ox.NamedNode(feed.page_iri(BASE, page.version))
        flag = objects(quads, node, feed.LDES + "immutable")
        following = [
            objects(quads, r, feed.TREE + "node")
            for r in objects(quads, node, feed.TREE + "relation")
        ]
        if index < len(pages) - 1:
            assert "immutable" in answer.headers["cache-control"]
            assert [f.value for f in flag] == ["true"]
            assert following == [[ox.NamedNode(feed.page_iri(BASE, pages[index + 1].version))]]
        else:
            assert answer.headers["cache-control"] == "public, max-age=60"
            assert flag == [] and following == []
    root = feed_client.get("/feed", headers=TRIG)
    assert "immutable" not in root.headers["cache-control"]


def test_the_feed_continues_under_a_new_base_iri(
    history: History, tmp_path: Path, served_settings: Settings
) -> None:
    """A release published under another base rebases the pages it carries."""
    other = "https://example.org/hr/"
    shutil.copytree(history.settings.releases, tmp_path / "releases", symlinks=True)
    settings = load_settings(
        {
            "sources": str(history.settings.sources),
            "releases": str(tmp_path / "releases"),
            "base_iri": other,
        },
        environ={},
    )
    moved = build(settings)
    pages = feed.read_pages(moved.path)
    assert len(pages) == 4
    first = feed.read_members(moved.path, pages[0].version)
    terms = (t for q in first for t in (q.subject, q.object, q.graph_name))
    iris = {t.value for t in terms if isinstance(t, ox.NamedNode)}
    assert not any(iri.startswith(BASE) for iri in iris)
    assert any(iri.startswith(other + "feed/") for iri in iris)
    assert pages[3].members == 0  # the same resources, by path


# --- representations, caching, errors (the session's release: one open page) ---------------


def test_the_three_representations_say_the_same(client: httpx.Client) -> None:
    parsed = {}
    for media, fmt in feed.FORMATS.items():
        answer = client.get("/feed", headers={"Accept": media})
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith(media)
        assert answer.headers["vary"].startswith("Accept")
        parsed[media] = ox.Dataset(ox.parse(answer.content, format=fmt))
    trig, quads, jsonld = parsed.values()
    assert len(trig) == len(quads) == len(jsonld) > 10
    assert set(map(str, trig)) == set(map(str, quads))  # no blank node labels differ there


def test_format_parameter_and_trig_charset(client: httpx.Client) -> None:
    for name, media in (("trig", "application/trig"), ("nq", "application/n-quads")):
        answer = client.get("/feed", params={"format": name})
        assert answer.headers["content-type"] == f"{media}; charset=utf-8"


def test_turtle_is_not_acceptable_and_says_why(client: httpx.Client) -> None:
    answer = client.get("/feed", headers={"Accept": "text/turtle"})
    assert answer.status_code == 406
    assert "named graph" in answer.text and "application/trig" in answer.text


def test_conditional_requests_and_head(client: httpx.Client, shipped_release: Path) -> None:
    (page,) = feed.read_pages(shipped_release)
    url = f"/feed/{page.version}"
    first = client.get(url, headers=TRIG)
    again = client.get(url, headers={**TRIG, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    head = client.head(url, headers=TRIG)
    assert head.status_code == 200 and head.headers["etag"] == first.headers["etag"]
    other = client.get(url, headers={"Accept": "application/n-quads"})
    assert other.headers["etag"] != first.headers["etag"]


def test_an_unknown_page_is_404(client: httpx.Client) -> None:
    answer = client.get("/feed/0.0.0", headers={"Accept": "application/json"})
    assert answer.status_code == 404 and "no page '0.0.0'" in answer.json()["message"]


def test_a_release_without_a_feed_says_so(tmp_path: Path) -> None:
    (tmp_path / "1.0").mkdir()
    with pytest.raises(NotFoundError, match="has no change feed"):
        feed.read_pages(tmp_path / "1.0")
    (tmp_path / "1.0" / "feed").mkdir()
    (tmp_path / "1.0" / feed.PAGES).write_text(json.dumps({"pages": [{"version": 1}]}))
    with pytest.raises(ReleaseError, match="cannot be read"):
        feed.read_pages(tmp_path / "1.0")


def test_the_dcat_description_points_at_the_feed(shipped_release: Path) -> None:
    graph = Graph().parse(shipped_release / "description.ttl")
    service = URIRef(BASE + "feed-service")
    assert graph.value(service, DCAT.endpointURL) == URIRef(BASE + "feed")
    assert graph.value(service, DCTERMS.conformsTo) == URIRef(feed.LDES_SPECIFICATION)
    assert (URIRef(BASE + "catalog"), DCAT.service, service) in graph
    (distribution,) = graph.subjects(DCAT.accessService, service)
    assert (URIRef(BASE + "dataset"), DCAT.distribution, distribution) in graph
    assert graph.value(distribution, DCAT.accessURL) == URIRef(BASE + "feed")


# --- a real LDES client (the TREE community group's, from npm: `make clients`) ---------------

LDES_CLIENT = ROOT / "tests" / "clients" / "node_modules" / ".bin" / "ldes-client"


@pytest.fixture(scope="module")
def served_at_its_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A release whose base IRI is the address a real server listens on, so that a client
    dereferences the feed's own IRIs: its URL and the release."""
    import uvicorn

    from conftest import ThreadServer
    from hrgraph.web.app import create_app
    from support import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    settings = load_settings(
        {
            "sources": str(ROOT),
            "releases": str(tmp_path_factory.mktemp("based") / "releases"),
            "base_iri": url,
            "query_workers": "1",
        },
        environ={},
    )
    release = build(settings).path
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = ThreadServer(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert server.ready.wait(60) and server.started
        yield url, release
    finally:
        server.should_exit = True
        thread.join(60)


#: ldes-client 0.3.0 prints numbers and booleans in Turtle's short form (`49.8844`, `true`),
#: which N-Quads spells `"49.8844"^^xsd:decimal`, `"true"^^xsd:boolean`: the same terms, written
#: as N-Quads requires.
NUMBER = re.compile(rb"> (-?[0-9]+)(\.[0-9]+)?(?= <[^>]*> \.$)", re.MULTILINE)
BOOLEAN = re.compile(rb"> (true|false)(?= <[^>]*> \.$)", re.MULTILINE)


def strict_numbers(text: bytes) -> bytes:
    def typed(match: re.Match[bytes]) -> bytes:
        kind = b"decimal" if match.group(2) else b"integer"
        number = match.group(1) + (match.group(2) or b"")
        return b'> "' + number + b'"^^<http://www.w3.org/2001/XMLSchema#' + kind + b">"

    text = BOOLEAN.sub(rb'> "\1"^^<http://www.w3.org/2001/XMLSchema#boolean>', text)
    return NUMBER.sub(typed, text)


def test_a_real_ldes_client_replays_the_release(served_at_its_base: tuple[str, Path]) -> None:
    """ldes-client 0.3.0, in ascending order: every member it emits is a version of a resource
    of the release, and their descriptions are the release's."""
    assert LDES_CLIENT.exists(), "run `make clients` (make test does)"
    url, release = served_at_its_base
    done = subprocess.run(
        [str(LDES_CLIENT), "--ordered", "ascending", url + "feed"],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    quads = list(ox.parse(strict_numbers(done.stdout), format=ox.RdfFormat.N_QUADS))
    created = {
        q.subject: q.object.value
        for q in quads
        if q.predicate == feed.OBJECT and q.graph_name == ox.DefaultGraph()
    }
    assert len(created) == feed.read_pages(release)[0].members > 400
    described = [q.triple for q in quads if q.graph_name in created]
    assert changes.describe(described, url) == changes.descriptions(release)
