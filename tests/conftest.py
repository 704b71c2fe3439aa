from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from hrgraph.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A writable copy of the shipped sources (ontology/, shapes/, data/)."""
    target = tmp_path / "sources"
    for folder in ("ontology", "shapes", "data"):
        shutil.copytree(ROOT / folder, target / folder)
    return target


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(sources: Path = ROOT, **flags: str) -> Settings:
        return load_settings(
            {"sources": str(sources), "releases": str(tmp_path / "releases"), **flags},
            environ={},
        )

    return make
