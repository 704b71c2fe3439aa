"""What changed between two releases (src/hrgraph/changes.py), `hrgraph diff`, and the
release notes at /downloads/<version>/changes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from rdflib import Graph

from hrgraph.changes import diff, previous, to_json, to_turtle
from hrgraph.cli import main
from hrgraph.config import Settings
from hrgraph.errors import ReleaseError

BASE = "https://w3id.org/hrgraph/"
OTHER = "https://example.org/hr/"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
NOTE = "<http://www.w3.org/2004/02/skos/core#note>"
CITY = "<https://w3id.org/hrgraph/ontology#city>"

OLD = f"""<{BASE}id/city/a> {LABEL} "A" .
<{BASE}id/program/p> {LABEL} "P" .
<{BASE}id/program/p> {CITY} <{BASE}id/city/a> .
<{BASE}id/program/p> {NOTE} _:x1 .
_:x1 {LABEL} "inner" .
<{BASE}id/lesson/gone> {LABEL} "Gone" .
<{BASE}ontology#city> {LABEL} "not a resource under id/" .
"""
NEW = f"""<{OTHER}id/city/a> {LABEL} "A" .
<{OTHER}id/program/p> {LABEL} "P, renamed" .
<{OTHER}id/program/p> <{OTHER}ontology#city> <{OTHER}id/city/a> .
<{OTHER}id/program/p> {NOTE} _:other-label .
_:other-label {LABEL} "inner" .
<{OTHER}id/lesson/new> {LABEL} "New" .
"""


def release(root: Path, version: str, base: str, triples: str, issued: str) -> Path:
    folder = root / version
    folder.mkdir(parents=True)
    manifest = {"version": version, "base_iri": base, "issued": issued}
    (folder / "release.json").write_text(json.dumps(manifest))
    (folder / "hrgraph.nt").write_text(triples)
    return folder


@pytest.fixture
def two(tmp_path: Path) -> tuple[Path, Path]:
    old = release(tmp_path, "1.0.0", BASE, OLD, "2026-01-01")
    return old, release(tmp_path, "2.0.0", OTHER, NEW, "2026-02-01")


def test_added_removed_and_changed_resources(two: tuple[Path, Path]) -> None:
    """Compared by path under each base (the ontology's terms too); a relabelled blank node is
    no change."""
    found = diff(*two)
    assert (found.old, found.new) == ("1.0.0", "2.0.0")
    assert found.added == ("id/lesson/new",)
    assert found.removed == ("id/lesson/gone",)
    assert [(c.path, c.properties) for c in found.changed] == [
        ("id/program/p", ("http://www.w3.org/2000/01/rdf-schema#label",))
    ]


def test_the_first_release_adds_everything(two: tuple[Path, Path]) -> None:
    found = diff(None, two[0])
    assert found.old is None
    assert found.added == ("id/city/a", "id/lesson/gone", "id/program/p")
    assert found.removed == found.changed == ()


def test_previous_is_by_issue_date(two: tuple[Path, Path], tmp_path: Path) -> None:
    assert previous(tmp_path, "2.0.0") == two
    assert previous(tmp_path, "1.0.0") == (None, two[0])
    with pytest.raises(ReleaseError, match="no release '9'"):
        previous(tmp_path, "9")


def test_json_and_turtle_say_the_same(two: tuple[Path, Path]) -> None:
    found = diff(*two)
    data = to_json(found, OTHER)
    assert data["added"] == [OTHER + "id/lesson/new"]
    assert data["changed"] == [{"iri": OTHER + "id/program/p", "properties": [LABEL.strip("<>")]}]
    graph = Graph().parse(data=to_turtle(found, OTHER), format="turtle")
    rows = graph.query(
        """PREFIX as: <https://www.w3.org/ns/activitystreams#>
        SELECT ?kind ?object WHERE { ?c as:items ?i . ?i a ?kind ; as:object ?object }"""
    )
    assert {(str(k).rpartition("#")[2], str(o)) for k, o in rows} == {
        ("Add", OTHER + "id/lesson/new"),
        ("Remove", OTHER + "id/lesson/gone"),
        ("Update", OTHER + "id/program/p"),
    }


def test_hrgraph_diff(
    two: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["diff", "1.0.0", "2.0.0", "--releases", str(tmp_path)])  # returns: exit status 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "+ id/lesson/new",
        "- id/lesson/gone",
        "~ id/program/p: http://www.w3.org/2000/01/rdf-schema#label",
    ]
    assert "1 added, 1 removed, 1 changed" in err


def test_hrgraph_diff_of_an_unknown_release_is_one_line(
    two: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["diff", "1.0.0", "nope", "--releases", str(tmp_path)])
    assert done.value.code == 2
    assert capsys.readouterr().err.strip().startswith("error: no release 'nope'")


def test_release_notes_over_http(client: httpx.Client, served_settings: Settings) -> None:
    (version,) = [p.name for p in served_settings.releases.iterdir() if p.name[0].isdigit()]
    url = f"/downloads/{version}/changes"
    data = client.get(url, headers={"Accept": "application/json"}).json()
    assert data["from"] is None and len(data["added"]) > 300
    assert BASE + "id/city/whitehorse" in data["added"]
    turtle = client.get(url, params={"format": "ttl"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert len(Graph().parse(data=turtle.text, format="turtle")) > 600
    english, french = (client.get(url, params={"lang": lang}) for lang in ("en", "fr"))
    assert "The first release" in english.text and 'href="/id/city/whitehorse"' in english.text
    assert "La première version" in french.text
    again = client.get(
        url, params={"lang": "en"}, headers={"If-None-Match": english.headers["etag"]}
    )
    assert again.status_code == 304
    missing = client.get("/downloads/0.0.0/changes", headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.json()["error"] == "not-found"
