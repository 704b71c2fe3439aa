"""The command line as users run it: exit codes and messages (the installed console script)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bad_inputs import MALFORMED, PROGRAM_WITHOUT_SOURCE, UNDECLARED_PREFIX

HRGRAPH = [sys.executable, "-m", "hrgraph"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HRGRAPH, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_validate_shipped_sources_exits_0() -> None:
    done = run("validate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("conforms: 0 violation(s)")


def test_validate_violation_exits_1_with_file_and_line(sources: Path) -> None:
    (sources / "data" / "bad.ttl").write_text(PROGRAM_WITHOUT_SOURCE)
    done = run("validate", "--sources", str(sources))
    assert done.returncode == 1
    assert f"{sources / 'data' / 'bad.ttl'}:10" in done.stdout
    assert "program:test-unsourced" in done.stdout


@pytest.mark.parametrize(("text", "line"), [(MALFORMED, 12), (UNDECLARED_PREFIX, 10)])
def test_malformed_turtle_exits_2_with_file_line_column(
    sources: Path, text: str, line: int
) -> None:
    bad = sources / "data" / "bad.ttl"
    bad.write_text(text)
    done = run("validate", "--sources", str(sources))
    assert done.returncode == 2
    assert f"error: {bad}:{line}:" in done.stderr
    assert "Traceback" not in done.stderr


def test_validate_json_format_is_machine_readable(sources: Path) -> None:
    (sources / "data" / "bad.ttl").write_text(PROGRAM_WITHOUT_SOURCE)
    done = run("validate", "--sources", str(sources), "--format", "json")
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["conforms"] is False
    assert any(r["file"].endswith("bad.ttl") and r["line"] == 10 for r in data["results"])


def test_validate_given_paths_replace_the_data_folder(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    files = sorted(str(p) for p in (root / "data").glob("*.ttl"))
    assert files
    assert run("validate", *files).returncode == 0
    done = run("validate", str(tmp_path / "missing.ttl"))
    assert done.returncode == 2
    assert "missing.ttl: no such file" in done.stderr


def test_bad_setting_exits_2_naming_the_variable() -> None:
    done = run("build", env={"HRGRAPH_BASE_IRI": "nope"})
    assert done.returncode == 2
    assert "HRGRAPH_BASE_IRI='nope'" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_option_exits_2() -> None:
    done = run("validate", "--no-such-option")
    assert done.returncode == 2
    assert "No such option" in done.stderr


def test_build_refuses_violations_with_exit_1(sources: Path, tmp_path: Path) -> None:
    (sources / "data" / "bad.ttl").write_text(PROGRAM_WITHOUT_SOURCE)
    releases = tmp_path / "releases"
    done = run("build", "--sources", str(sources), "--releases", str(releases))
    assert done.returncode == 1
    assert "program:test-unsourced" in done.stderr
    assert "do not conform" in done.stderr
    assert not (releases / "current").exists()


def test_export_writes_every_named_graph_of_the_release(
    shipped_release: Path, tmp_path: Path
) -> None:
    import pyoxigraph as ox

    target = tmp_path / "release.nq"
    target.write_text("an older export\n")
    done = run("export", str(target), "--releases", str(shipped_release.parent))
    assert done.returncode == 0, done.stderr
    written = list(ox.parse(path=str(target), format=ox.RdfFormat.N_QUADS))
    store = ox.Store.read_only(str(shipped_release / "store"))
    named = {q for q in store if not isinstance(q.graph_name, ox.DefaultGraph)}
    assert set(written) == named and len(written) == len(named) > 10_000
    assert f"{len(named):,} quads written to {target}" in done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["release.nq"]  # no part file left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/folder/release.nq"], "error: /no/such/folder: no such folder"),
        (["{tmp}/release.nq", "no-such-version"], "error: no release 'no-such-version'"),
    ],
)
def test_export_that_cannot_run_exits_2(
    shipped_release: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    done = run("export", *argv, "--releases", str(shipped_release.parent))
    assert done.returncode == 2
    assert done.stderr.startswith(message), done.stderr
    assert not (tmp_path / "release.nq").exists()
