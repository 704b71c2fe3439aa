"""Faults at rest: checksums of the store, `hrgraph verify`, damaged releases never switched to
or served, a read-only releases folder served as it is, and a failed build (full disk, no
permission, any error while writing) that leaves `serve` on the last good release."""

from __future__ import annotations

import errno
import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from conftest import ROOT, copy_releases, serve_in_thread
from hrgraph import integrity
from hrgraph.build.writer import build, current_release, prepare_release, switch_current
from hrgraph.config import Settings
from hrgraph.engine.interface import QueryAnswer, QueryRequest
from hrgraph.engine.publisher import Publisher
from hrgraph.errors import DamagedReleaseError, ReleaseError
from hrgraph.web.http import RELEASE_HEADER
from support import free_port, sources_read_once

HRGRAPH = [sys.executable, "-m", "hrgraph"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HRGRAPH, *args], capture_output=True, text=True, timeout=600, check=False
    )


def largest_store_file(release: Path) -> Path:
    return max((release / "store").glob("*.sst"), key=lambda p: p.stat().st_size)


def corrupt(path: Path) -> None:
    """Flip bytes in the middle of a file, keeping its size (what bit rot looks like)."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Releases 1.0.0 and 2.0.0 of the shipped sources (current: 2.0.0), built once (the sources
    read and validated once for both): tests copy."""
    from hrgraph.config import load_settings

    releases = tmp_path_factory.mktemp("integrity") / "releases"
    settings = load_settings({"sources": str(ROOT), "releases": str(releases)}, environ={})
    with sources_read_once():
        build(settings.with_(version="1.0.0"))
        build(settings.with_(version="2.0.0"))
    return releases


@pytest.fixture
def releases(two_releases: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "releases"
    shutil.copytree(two_releases, copy, symlinks=True)
    return copy


@pytest.fixture
def settings(releases: Path, make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(releases=str(releases))


class FakeEngine:
    """Stands in for the query engine where only opening and switching matter."""

    graphs: frozenset[str] = frozenset()

    def __init__(self, release: Path, settings: Settings) -> None:
        self.version = release.name
        self.closed = False

    def run(self, request: QueryRequest) -> QueryAnswer:
        raise AssertionError("not queried")

    def close(self) -> None:
        self.closed = True


# --- checksums of the store and `hrgraph verify` ---------------------------------------------


def test_store_is_covered_and_opening_it_read_only_writes_nothing(releases: Path) -> None:
    release = releases / "2.0.0"
    listed = integrity.read_sums(release / "store" / "SHA256SUMS")
    on_disk = {p.name for p in (release / "store").iterdir()} - {"SHA256SUMS"}
    assert set(listed) == on_disk and len(on_disk) > 5
    assert not any(
        name.startswith("store/") for name in integrity.read_sums(release / "SHA256SUMS")
    )
    before = {
        p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in (release / "store").iterdir()
    }
    store = ox.Store.read_only(str(release / "store"))
    solutions = store.query("SELECT * WHERE { ?s ?p ?o } LIMIT 10")
    assert isinstance(solutions, ox.QuerySolutions) and len(list(solutions)) == 10
    del store
    after = {
        p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in (release / "store").iterdir()
    }
    assert after == before
    assert integrity.verify(release).intact


def test_verify_exits_0_on_an_intact_release(releases: Path) -> None:
    done = run("verify", "--releases", str(releases))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("release 2.0.0 is intact")


def test_verify_exits_1_naming_the_corrupted_store_file(releases: Path) -> None:
    bad = largest_store_file(releases / "2.0.0")
    corrupt(bad)
    done = run("verify", "--releases", str(releases))
    assert done.returncode == 1
    assert done.stdout == f"damaged: store/{bad.name}: does not match its checksum\n"
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(
        "error: release 2.0.0 is damaged"
    )
    assert run("verify", "1.0.0", "--releases", str(releases)).returncode == 0


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda r: (r / "store" / "000999.log").write_bytes(b"replayed"), "store/000999.log"),
        (lambda r: (r / "hrgraph.ttl").unlink(), "hrgraph.ttl: missing"),
        (lambda r: (r / "store" / "SHA256SUMS").unlink(), "store/SHA256SUMS: missing"),
        (lambda r: (r / "SHA256SUMS").write_text("garbage\n"), "SHA256SUMS: line 1"),
        (lambda r: (r / "release.json").write_text("{}"), "release.json: does not match"),
    ],
)
def test_verify_reports_each_kind_of_damage(
    releases: Path, damage: Callable[[Path], object], named: str
) -> None:
    damage(releases / "2.0.0")
    done = run("verify", "2.0.0", "--releases", str(releases))
    assert done.returncode == 1, done.stdout + done.stderr
    assert named in done.stdout
    assert "Traceback" not in done.stderr


def test_verify_exits_2_when_it_cannot_run(tmp_path: Path, releases: Path) -> None:
    for version in ("nope", "../2.0.0", ".lock"):
        done = run("verify", version, "--releases", str(releases))
        assert done.returncode == 2, version
        assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    done = run("verify", "--releases", str(tmp_path / "none"))
    assert done.returncode == 2 and "no current release" in done.stderr


# --- a damaged release is never up to date, switched to or served ----------------------------


def test_build_rebuilds_a_damaged_release_instead_of_calling_it_up_to_date(
    make_settings: Callable[..., Settings], served_settings: Settings
) -> None:
    settings = make_settings()
    copy_releases(served_settings, settings.releases)  # a release of these sources
    first = build(settings)  # up to date
    corrupt(largest_store_file(first.path))
    lines: list[str] = []
    again = build(settings, echo=lines.append)
    assert again.built and again.version == first.version
    assert not any("up to date" in line for line in lines)
    (warning,) = [line for line in lines if line.startswith("warning:")]
    assert "is damaged" in warning and ".damaged-" in warning
    (aside,) = settings.releases.glob(f".damaged-{first.version}-*")
    assert not integrity.verify(aside).intact
    assert current_release(settings.releases) == again.path
    assert integrity.verify(again.path).intact


def test_a_corrupt_release_is_not_switched_to(
    settings: Settings, releases: Path, caplog: pytest.LogCaptureFixture
) -> None:
    switch_current(releases, "1.0.0")
    publisher = Publisher(settings, FakeEngine)
    corrupt(largest_store_file(releases / "2.0.0"))
    switch_current(releases, "2.0.0")
    with caplog.at_level(logging.ERROR, logger="hrgraph.engine.publisher"):
        publisher.refresh()
        publisher.refresh()  # tried once, not on every request
    assert publisher.current.version == "1.0.0"
    (record,) = caplog.records
    message = record.getMessage()
    assert "not switching to release 2.0.0" in message and "still serving 1.0.0" in message
    assert "\n" not in message and record.exc_info is None
    publisher.close()


def test_a_server_started_on_a_corrupt_current_serves_the_previous_good_release(
    settings: Settings, releases: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from hrgraph.web.app import create_app

    corrupt(largest_store_file(releases / "2.0.0"))
    with caplog.at_level(logging.ERROR, logger="hrgraph.engine.publisher"):
        app = create_app(settings)
    (record,) = [r for r in caplog.records if r.name == "hrgraph.engine.publisher"]
    assert "current release 2.0.0 cannot be served" in record.getMessage()
    assert "serving 1.0.0" in record.getMessage()
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        answer = http.get("/sparql", params={"query": "ASK { ?s a hr:City }"})
        assert answer.status_code == 200 and answer.json()["boolean"] is True
        assert answer.headers[RELEASE_HEADER] == "1.0.0"


def test_a_running_server_picks_up_a_damaged_current_once_it_is_rebuilt(
    settings: Settings, releases: Path
) -> None:
    from hrgraph.web.app import create_app

    corrupt(largest_store_file(releases / "2.0.0"))
    app = create_app(settings)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        ask = {"query": "ASK {}"}
        assert http.get("/sparql", params=ask).headers[RELEASE_HEADER] == "1.0.0"
        rebuilt = build(settings.with_(version="2.0.0"))  # moves the damaged one aside
        assert rebuilt.built
        assert http.get("/sparql", params=ask).headers[RELEASE_HEADER] == "2.0.0"
    assert len(list(releases.glob(".damaged-2.0.0-*"))) == 1


def test_with_no_release_that_verifies_the_server_does_not_start(
    settings: Settings, releases: Path
) -> None:
    for version in ("1.0.0", "2.0.0"):
        (releases / version / "hrgraph.ttl").write_text("damaged")
    with pytest.raises(ReleaseError, match=r"no release in .* can be served") as caught:
        Publisher(settings, FakeEngine)
    assert "2.0.0" in str(caught.value) and "\n" not in str(caught.value)


def test_open_release_verifies_before_starting_the_engine(settings: Settings) -> None:
    from hrgraph.engine.publisher import open_release

    started: list[Path] = []

    def engine(path: Path, s: Settings) -> FakeEngine:
        started.append(path)
        return FakeEngine(path, s)

    corrupt(largest_store_file(settings.releases / "1.0.0"))
    with pytest.raises(DamagedReleaseError, match="store/"):
        open_release(settings.releases / "1.0.0", settings, engine)
    assert started == []


# --- a build that cannot write leaves serve on the last good release --------------------------


@pytest.mark.parametrize(
    "failure",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        PermissionError(errno.EACCES, "Permission denied"),
        RuntimeError("IO error: No space left on device"),  # how pyoxigraph reports it
    ],
    ids=["ENOSPC", "EACCES", "store-error"],
)
def test_a_build_that_cannot_write_leaves_serve_on_the_last_good_release(
    sources: Path,
    make_settings: Callable[..., Settings],
    served_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
) -> None:
    from hrgraph.build import writer as release_module
    from hrgraph.web.app import create_app

    settings = make_settings(sources)
    copy_releases(served_settings, settings.releases)  # a release of these sources
    good = build(settings)  # up to date
    assert current_release(settings.releases) == good.path
    pages = sources / "data" / "pages.ttl"
    pages.write_text(pages.read_text() + "\n# edited\n")

    def full_disk(work: Path, *args: object) -> None:
        (work / "partial.ttl").write_bytes(b"half")
        raise failure

    monkeypatch.setattr(release_module, "_write", full_disk)
    lines: list[str] = []
    prepare_release(settings, lines.append)
    (warning,) = [line for line in lines if line.startswith("warning:")]
    assert f"serving the current release {good.version}" in warning
    assert str(failure.args[-1]) in warning
    assert current_release(settings.releases) == good.path
    assert sorted(p.name for p in settings.releases.iterdir()) == sorted(
        [".lock", "current", good.version]
    )
    with serve_in_thread(create_app(settings)) as url:
        answer = httpx.get(f"{url}/sparql", params={"query": "ASK {}"}, timeout=60)
    assert answer.headers[RELEASE_HEADER] == good.version


def test_with_no_good_release_a_failed_build_stops_serve(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hrgraph.build import writer as release_module

    def full_disk(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(release_module, "_write", full_disk)
    with pytest.raises(OSError, match="No space left"):
        prepare_release(make_settings(), lambda _: None)


# --- the command line: one line, an exit code, never a traceback -----------------------------

PATCHED_MAIN = """
import errno, sys
import hrgraph.build.writer as writer
def fail(*args, **kwargs):
    raise {error}
setattr(writer, {target!r}, fail)
from hrgraph.cli import main
main(sys.argv[1:])
"""


def run_patched(target: str, error: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`hrgraph ARGS` in a fresh interpreter, with one function the writer calls failing."""
    code = PATCHED_MAIN.format(target=target, error=error)
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize(
    ("target", "error", "code", "message"),
    [
        ("_write", "OSError(errno.ENOSPC, 'No space left on device')", 2, "No space left"),
        ("_write", "RuntimeError('IO error: disk full')", 2, "cannot write release"),
        ("load_sources", "ZeroDivisionError('oops')", 3, "internal error: ZeroDivisionError"),
    ],
)
def test_build_failures_are_one_line_with_an_exit_code(
    tmp_path: Path, target: str, error: str, code: int, message: str
) -> None:
    releases = tmp_path / "releases"
    done = run_patched(target, error, "build", "--sources", str(ROOT), "--releases", str(releases))
    assert done.returncode == code, done.stderr
    (last,) = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert message in last and done.stderr.endswith(last + "\n")
    assert "Traceback" not in done.stderr
    assert not list(releases.glob(".build-*"))
    if code == 3:
        assert last.endswith("(please report)")


def test_an_unwritable_releases_folder_is_one_line_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    for command in ("build", "serve"):
        done = run(command, "--sources", str(ROOT), "--releases", str(blocker / "releases"))
        assert done.returncode == 2, done.stderr
        assert done.stderr.splitlines()[-1].startswith("error: ")
        assert "Not a directory" in done.stderr or "File exists" in done.stderr
        assert "Traceback" not in done.stderr


# --- a read-only releases folder (a read-only bind mount in a private mount namespace) --------

RO_SCRIPT = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
UNSHARE_VARIANTS = (
    ["unshare", "--mount", "--propagation", "private"],
    ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"],
)


def read_only_prefix(probe: Path) -> list[str] | None:
    """A command prefix that runs a command with `folder` mounted read-only for it alone (a
    private mount namespace: nothing outside the command sees the mount), or None."""
    if shutil.which("unshare") is None:
        return None
    probe.mkdir(exist_ok=True)
    for variant in UNSHARE_VARIANTS:
        done = subprocess.run(
            [*variant, "sh", "-c", RO_SCRIPT, str(probe), "touch", str(probe / "x")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if "Read-only file system" in done.stderr and not (probe / "x").exists():
            return variant
    return None


def read_only(prefix: list[str], folder: Path, *command: str) -> list[str]:
    return [*prefix, "sh", "-c", RO_SCRIPT, str(folder), *command]


@pytest.fixture
def ro_prefix(tmp_path: Path) -> list[str]:
    prefix = read_only_prefix(tmp_path / "probe")
    if prefix is None:
        pytest.skip("cannot mount a read-only bind mount here (unshare/mount not permitted)")
    return prefix


@contextmanager
def serving(command: list[str], **environ: str) -> Iterator[tuple[str, list[str]]]:
    """Run `command` (a `serve` on a port) until the block ends: its URL and stderr lines."""
    port = command[command.index("--port") + 1]
    lines: queue.Queue[str | None] = queue.Queue()
    log: list[str] = []
    environ = {**os.environ, **environ}
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=environ) as process:

        def read() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        try:
            ready = False
            while not ready and (line := lines.get(timeout=120)) is not None:
                log.append(line)
                ready = "Uvicorn running on" in line  # printed once the socket is bound
            assert ready, "".join(log)
            yield f"http://127.0.0.1:{port}", log
        finally:
            process.terminate()
            process.wait(60)


def listing(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def test_a_read_only_releases_folder_is_served_with_a_warning(
    ro_prefix: list[str], releases: Path
) -> None:
    before = listing(releases)
    version = os.readlink(releases / "current")
    # the same sources and version as the current release: up to date, no lock or write needed
    settings = ["--sources", str(ROOT), "--releases", str(releases)]
    flags = [*settings, "--workers", "1", "--port", str(free_port())]
    serve = read_only(ro_prefix, releases, *HRGRAPH, "serve", *flags)
    with serving(serve, HRGRAPH_VERSION="2.0.0") as (url, log):
        answer = httpx.get(f"{url}/sparql", params={"query": "ASK { ?s a hr:City }"}, timeout=60)
        assert answer.json()["boolean"] is True
        assert answer.headers[RELEASE_HEADER] == version
    warnings = [line for line in log if line.startswith("warning:")]
    assert len(warnings) == 1 and "is read-only" in warnings[0], log
    assert not any("Traceback" in line for line in log)
    done = subprocess.run(
        read_only(ro_prefix, releases, *HRGRAPH, "build", *settings, "--version", "2.0.0"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0 and "is up to date" in done.stderr, done.stderr
    assert listing(releases) == before


def test_a_read_only_folder_with_changed_sources_serves_the_current_release(
    ro_prefix: list[str], releases: Path, sources: Path
) -> None:
    pages = sources / "data" / "pages.ttl"
    pages.write_text(pages.read_text() + "\n# edited\n")
    flags = ["--sources", str(sources), "--releases", str(releases)]
    done = subprocess.run(
        read_only(ro_prefix, releases, *HRGRAPH, "build", *flags),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].endswith("Read-only file system"), done.stderr
    assert "Traceback" not in done.stderr
    command = [*HRGRAPH, "serve", *flags, "--workers", "1", "--port", str(free_port())]
    with serving(read_only(ro_prefix, releases, *command)) as (url, log):
        answer = httpx.get(f"{url}/sparql", params={"query": "ASK {}"}, timeout=60)
        assert answer.headers[RELEASE_HEADER] == "2.0.0"
    (warning,) = [line for line in log if line.startswith("warning:")]
    assert "Read-only file system" in warning and "serving the current release 2.0.0" in warning
