from __future__ import annotations

from pathlib import Path

import pytest

from hrgraph.config import CANONICAL_BASE, SETTINGS, default_sources, load_settings
from hrgraph.errors import ConfigError


def test_defaults_without_flags_or_environment() -> None:
    settings = load_settings({}, environ={})
    assert settings.base_iri == CANONICAL_BASE
    assert settings.releases == Path("releases")
    assert settings.version == ""
    assert (settings.sources / "data").is_dir()


def test_environment_overrides_default_and_flag_overrides_environment() -> None:
    env = {"HRGRAPH_BASE_IRI": "http://env.example/", "HRGRAPH_RELEASES": "/tmp/r"}
    settings = load_settings({"base_iri": "http://flag.example/"}, environ=env)
    assert settings.base_iri == "http://flag.example/"
    assert settings.releases == Path("/tmp/r")


@pytest.mark.parametrize(
    ("name", "value", "origin"),
    [
        ("base_iri", "ftp://x/", "--base-iri"),
        ("base_iri", "https://example.org/no-slash", "--base-iri"),
        ("version", "../escape", "--version"),
        ("version", "current", "--version"),
    ],
)
def test_bad_flag_names_the_flag_and_the_value(name: str, value: str, origin: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({name: value}, environ={})
    assert origin in str(caught.value)
    assert repr(value) in str(caught.value)


def test_bad_environment_variable_is_named() -> None:
    with pytest.raises(ConfigError, match="HRGRAPH_BASE_IRI"):
        load_settings({}, environ={"HRGRAPH_BASE_IRI": "not an iri"})


def test_every_setting_has_help_and_an_hrgraph_variable() -> None:
    for setting in SETTINGS:
        assert setting.help
        assert setting.env == "HRGRAPH_" + setting.name.upper()


def test_default_sources_hold_the_three_folders() -> None:
    root = default_sources()
    assert all((root / folder).is_dir() for folder in ("ontology", "shapes", "data"))
