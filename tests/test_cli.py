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
