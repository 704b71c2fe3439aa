"""The wheel carries the embedded default sources (ontology/, shapes/, data/, queries/)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_embeds_ontology_shapes_and_data(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheels = list(tmp_path.glob("hrgraph-*.whl"))
    assert len(wheels) == 1
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    for folder, pattern in (
        ("ontology", "*.ttl"),
        ("shapes", "*.ttl"),
        ("data", "*.ttl"),
        ("queries", "*.rq"),
    ):
        expected = {f"hrgraph/_default/{folder}/{p.name}" for p in (ROOT / folder).glob(pattern)}
        assert expected, folder
        assert expected <= names, expected - names
    assert "hrgraph/py.typed" in names
