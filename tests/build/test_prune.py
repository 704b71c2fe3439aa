"""`hrgraph prune`: keeps the N newest releases and the current one, never removes a release a
running server holds (in this process or another), removes leftovers, and servers keep serving."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from conftest import ROOT, serve_in_thread
from hrgraph.build.prune import prune
from hrgraph.build.writer import build, build_lock, switch_current
from hrgraph.config import Settings, load_settings
from hrgraph.engine.interface import QueryAnswer, QueryRequest
from hrgraph.engine.publisher import Publisher
from hrgraph.web.http import RELEASE_HEADER
from support import sources_read_once

VERSIONS = ("1.0.0", "2.0.0", "3.0.0", "4.0.0")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four releases of the shipped sources, oldest 1.0.0 (built once, the sources read and
    validated once for the four; tests work on copies)."""
    releases = tmp_path_factory.mktemp("prune") / "releases"
    settings = load_settings({"sources": str(ROOT), "releases": str(releases)}, environ={})
    with sources_read_once():
        for version in VERSIONS:
            assert build(settings.with_(version=version)).built
    for age, version in enumerate(VERSIONS, start=1):
        # the same issue date: build time orders them (set here, so the order is certain)
        os.utime(releases / version / "release.json", (age * 1000, age * 1000))
    return releases


@pytest.fixture
def releases(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "releases"
    shutil.copytree(built, copy, symlinks=True)
    return copy


def present(releases: Path) -> set[str]:
    return {p.name for p in releases.iterdir()} - {".lock", "current"}


def run_prune(releases: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hrgraph", "prune", "--releases", str(releases), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


class FakeEngine:
    graphs: frozenset[str] = frozenset()

    def __init__(self, release: Path, settings: Settings) -> None:
        self.version = release.name

    def run(self, request: QueryRequest) -> QueryAnswer:
        raise AssertionError("not queried")

    def close(self) -> None:
        pass


def test_keeps_the_newest_and_never_the_current_one(releases: Path) -> None:
    switch_current(releases, "1.0.0")  # the oldest
    lines: list[str] = []
    result = prune(releases, keep=1, echo=lines.append)
    assert result.removed == ["2.0.0", "3.0.0"] and result.in_use == []
    assert lines == ["removed 2.0.0", "removed 3.0.0"]
    assert present(releases) == {"1.0.0", "4.0.0"}
    assert (releases / "current").resolve().name == "1.0.0"


def test_keep_n(releases: Path) -> None:
    done = run_prune(releases, "--keep", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["removed 1.0.0", "removed 2.0.0"]
    assert present(releases) == {"3.0.0", "4.0.0"}
    again = run_prune(releases, "--keep", "2")
    assert again.stdout.startswith("nothing to remove: 2 release(s)")


def test_a_release_held_by_a_publisher_is_kept_until_it_is_let_go(
    releases: Path, make_settings: Callable[..., Settings]
) -> None:
    switch_current(releases, "2.0.0")
    publisher = Publisher(make_settings(releases=str(releases)), FakeEngine)
    switch_current(releases, "4.0.0")  # not noticed yet: 2.0.0 is still served
    result = prune(releases, keep=1)
    assert result.removed == ["1.0.0", "3.0.0"] and result.in_use == ["2.0.0"]
    assert present(releases) == {"2.0.0", "4.0.0"}
    publisher.refresh()  # switches to 4.0.0 and closes 2.0.0 (no request holds it)
    assert publisher.current.version == "4.0.0"
    assert prune(releases, keep=1).removed == ["2.0.0"]
    publisher.close()
    assert present(releases) == {"4.0.0"}


def test_a_running_server_keeps_serving_and_holds_its_release_against_another_process(
    releases: Path, make_settings: Callable[..., Settings]
) -> None:
    from hrgraph.web.app import create_app

    switch_current(releases, "1.0.0")
    app = create_app(make_settings(releases=str(releases)))
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        ask = {"query": "ASK { ?s a hr:City }"}
        assert http.get("/sparql", params=ask).headers[RELEASE_HEADER] == "1.0.0"
        switch_current(releases, "4.0.0")  # the server notices on its next request
        done = run_prune(releases, "--keep", "1")
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            "kept 1.0.0: a running server is serving it",
            "removed 2.0.0",
            "removed 3.0.0",
        ]
        answer = http.get("/sparql", params=ask)
        assert answer.status_code == 200 and answer.json()["boolean"] is True
        assert answer.headers[RELEASE_HEADER] == "4.0.0"
        assert run_prune(releases, "--keep", "1").stdout == "removed 1.0.0\n"
        assert http.get("/sparql", params=ask).headers[RELEASE_HEADER] == "4.0.0"
        listing = http.get("/downloads/", params={"format": "json"}).json()
        assert [r["version"] for r in listing["releases"]] == ["4.0.0"]
        assert http.get("/downloads/4.0.0/hrgraph.ttl").status_code == 200
    assert present(releases) == {"4.0.0"}


def test_leftovers_of_dead_builds_prunes_and_damaged_releases_are_removed(
    releases: Path,
) -> None:
    for leftover in (".build-5.0.0-123", ".pruning-3.0.0-77", ".damaged-2.0.0-20260101T000000Z"):
        (releases / leftover / "store").mkdir(parents=True)
        (releases / leftover / "store" / "000001.sst").write_bytes(b"x")
    lines: list[str] = []
    prune(releases, keep=4, echo=lines.append)
    assert sorted(lines) == [
        "removed .build-5.0.0-123",
        "removed .damaged-2.0.0-20260101T000000Z",
        "removed .pruning-3.0.0-77",
    ]
    assert present(releases) == set(VERSIONS)


def test_prune_failures_are_one_line_with_exit_2(releases: Path, tmp_path: Path) -> None:
    bad_keep = run_prune(releases, "--keep", "0")
    assert bad_keep.returncode == 2 and "--keep" in bad_keep.stderr
    missing = run_prune(tmp_path / "none")
    assert missing.returncode == 2
    assert missing.stderr == f"error: no releases folder {tmp_path / 'none'}\n"
    with build_lock(releases):
        busy = run_prune(releases)
    assert busy.returncode == 2 and "another build or prune" in busy.stderr
    assert "Traceback" not in busy.stderr + missing.stderr + bad_keep.stderr
    assert present(releases) == set(VERSIONS)
