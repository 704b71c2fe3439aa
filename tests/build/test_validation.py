from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable

import pytest
from rdflib import Graph
from rdflib.namespace import SH

from bad_inputs import OUTSIDE_BASE, PROGRAM_WITHOUT_SOURCE, WRONG_DATATYPE
from conftest import ROOT
from hrgraph.build.sources import load_sources
from hrgraph.build.validation import (
    HRSH,
    Report,
    render_json,
    render_text,
    render_turtle,
    validate,
)
from hrgraph.build.writer import BuildResult
from hrgraph.config import Settings, load_settings

ID = "https://w3id.org/hrgraph/id/"
DCT_SOURCE = "http://purl.org/dc/terms/source"


@pytest.fixture(scope="module")
def report_for(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Report]:
    """The report on a copy of the shipped sources with `text` added as data/`name`; each is
    validated once per module (several tests read the same report)."""
    reports: dict[tuple[str, str], Report] = {}

    def report(name: str, text: str) -> Report:
        if (name, text) not in reports:
            sources = tmp_path_factory.mktemp("sources")
            for folder in ("ontology", "shapes", "data"):
                shutil.copytree(ROOT / folder, sources / folder)
            (sources / "data" / name).write_text(text, encoding="utf-8")
            settings = load_settings({"sources": str(sources)}, environ={})
            reports[name, text] = validate(load_sources(settings))
        return reports[name, text]

    return report


def violations(report: Report) -> set[tuple[str, str | None, str]]:
    return {
        (r.focus, r.path, r.constraint.rsplit("#", 1)[-1])
        for r in report.results
        if r.severity == "Violation"
    }


@pytest.fixture(scope="module")
def shipped(served_build: tuple[Settings, BuildResult]) -> Report:
    """The report on the shipped sources (the session's build made it)."""
    report = served_build[1].report
    assert report is not None
    return report


def test_shipped_sources_conform(shipped: Report) -> None:
    assert shipped.conforms, render_text(shipped)


def test_shipped_sources_have_no_warnings(shipped: Report) -> None:
    assert shipped.count("Warning") == 0, render_text(shipped)


def test_program_without_source_names_focus_path_and_line(
    report_for: Callable[[str, str], Report],
) -> None:
    report = report_for("bad.ttl", PROGRAM_WITHOUT_SOURCE)
    focus = ID + "program/test-unsourced"
    assert (focus, DCT_SOURCE, "MinCountConstraintComponent") in violations(report)
    result = next(r for r in report.results if r.focus == focus and r.path == DCT_SOURCE)
    assert result.location is not None
    assert (result.location.path.name, result.location.line) == ("bad.ttl", 10)
    assert result.messages.keys() >= {"en", "fr"}


def test_wrong_datatype_is_a_violation(report_for: Callable[[str, str], Report]) -> None:
    report = report_for("bad.ttl", WRONG_DATATYPE)
    # hr:value takes xsd:decimal or xsd:integer, so the datatype check is an sh:or.
    assert (
        ID + "figure/test-not-a-number",
        "https://w3id.org/hrgraph/ontology#value",
        "OrConstraintComponent",
    ) in violations(report)


def test_subject_outside_the_base_is_a_violation(report_for: Callable[[str, str], Report]) -> None:
    report = report_for("bad.ttl", OUTSIDE_BASE)
    assert ("http://example.org/elsewhere", None, "UnderBaseConstraintComponent") in violations(
        report
    )


def test_two_resources_with_one_slug_are_reported_with_both_places(
    report_for: Callable[[str, str], Report],
) -> None:
    pages = (ROOT / "data" / "pages.ttl").read_text()
    block = pages[pages.index("page:chrn-18 a") : pages.index("page:chrn-19 a")]
    header = pages[: pages.index("page:chrn-18 a")]
    report = report_for("again.ttl", header + block)
    focus = ID + "page/chrn-18"
    assert (focus, None, "DefinedOnceConstraintComponent") in violations(report)
    result = next(r for r in report.results if r.focus == focus and r.path is None)
    assert "again.ttl" in result.message() or "pages.ttl" in result.message()


def test_text_report_has_severity_location_focus_and_message(
    report_for: Callable[[str, str], Report],
) -> None:
    text = render_text(report_for("bad.ttl", PROGRAM_WITHOUT_SOURCE))
    assert re.search(
        r"^Violation\s+\S*bad\.ttl:10\s+program:test-unsourced\s+dct:source$", text, re.M
    ), text
    assert "does not conform: " in text.splitlines()[-1]


def test_french_messages_on_request(report_for: Callable[[str, str], Report]) -> None:
    report = report_for("bad.ttl", PROGRAM_WITHOUT_SOURCE)
    assert render_text(report, "fr") != render_text(report, "en")


def test_json_and_turtle_reports_carry_the_same_results(
    report_for: Callable[[str, str], Report],
) -> None:
    report = report_for("bad.ttl", OUTSIDE_BASE)
    data = json.loads(render_json(report))
    assert data["conforms"] is False
    assert (
        data["violations"]
        == report.count("Violation")
        == len([r for r in data["results"] if r["severity"] == "Violation"])
    )
    graph = Graph().parse(data=render_turtle(report), format="turtle")
    constraints = {str(o) for o in graph.objects(None, SH.sourceConstraintComponent)}
    assert str(HRSH.UnderBaseConstraintComponent) in constraints
    assert len(list(graph.subjects(SH.resultSeverity, SH.Violation))) == data["violations"]
