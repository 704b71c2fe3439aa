"""Accept parsing and format choice: examples from RFC 9110 plus hypothesis properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrgraph.errors import NotAcceptableError
from hrgraph.web.negotiation import FORMATS, choose, parse_accept, quality

RESULTS = (
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
)
TYPES = st.sampled_from([*RESULTS, "text/turtle", "application/ld+json", "text/html"])
Q = st.sampled_from(["", ";q=0", ";q=0.1", ";q=0.5", ";q=1", ";q=0.999", ";q=2", ";q=x"])
RANGE = st.one_of(
    st.tuples(TYPES, Q).map("".join),
    st.tuples(st.sampled_from(["text/*", "application/*", "*/*"]), Q).map("".join),
)
ACCEPT = st.lists(RANGE, max_size=6).map(", ".join)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/sparql-results+json"),
        ("", "application/sparql-results+json"),
        ("text/csv", "text/csv"),
        ("text/*;q=0.5, text/tab-separated-values", "text/tab-separated-values"),
        ("text/*, text/csv;q=0", "text/tab-separated-values"),
        ("*/*;q=0.1, application/xml", "application/sparql-results+xml"),
        ("application/json;q=0.2, text/csv;q=0.3", "text/csv"),
        ("TEXT/CSV", "text/csv"),
        ("garbage, text/csv", "text/csv"),
    ],
)
def test_examples(accept: str | None, expected: str) -> None:
    assert choose(accept, RESULTS) == expected


def test_nothing_fits() -> None:
    with pytest.raises(NotAcceptableError, match="available"):
        choose("image/png", RESULTS)
    with pytest.raises(NotAcceptableError, match="format='png'"):
        choose(None, RESULTS, "png")


def test_format_overrides_accept() -> None:
    assert choose("text/csv", RESULTS, "json") == "application/sparql-results+json"
    assert choose(None, ("text/turtle", "application/ld+json"), "json") == "application/ld+json"
    for name, types in FORMATS.items():
        assert choose(None, types, name) == types[0]


@given(ACCEPT)
def test_choice_is_available_and_best(accept: str) -> None:
    ranges = parse_accept(accept)
    try:
        chosen = choose(accept, RESULTS)
    except NotAcceptableError:
        assert all(quality(ranges, media) == 0 for media in RESULTS)
        return
    assert chosen in RESULTS
    assert quality(ranges, chosen) > 0
    assert all(quality(ranges, media) <= quality(ranges, chosen) for media in RESULTS)


@given(ACCEPT, st.permutations(RESULTS))
def test_ties_go_to_the_server_order(accept: str, order: list[str]) -> None:
    ranges = parse_accept(accept)
    try:
        chosen = choose(accept, order)
    except NotAcceptableError:
        return
    best = max(quality(ranges, media) for media in order)
    assert chosen == next(media for media in order if quality(ranges, media) == best)


@given(st.text(max_size=100))
def test_any_header_parses(header: str) -> None:
    for media_range in parse_accept(header):
        assert 0 <= media_range.q <= 1


@given(TYPES, st.sampled_from(["0.3", "0.7", "1"]))
def test_exact_beats_wildcard(media: str, q: str) -> None:
    ranges = parse_accept(f"*/*;q=0.01, {media};q={q}")
    assert quality(ranges, media) == float(q)


GRAPHS = (
    "text/turtle",
    "application/n-triples",
    "application/ld+json",
    "application/rdf+xml",
    "application/trig",
)
#: What SPARQLWrapper 2.0.0 sends for a CONSTRUCT: its format name, then (for JSON-LD and RDF/XML)
#: a second format= with its Accept header's media types, comma-separated; and that Accept header.
SPARQLWRAPPER = [
    ("turtle", "application/turtle,text/turtle", "text/turtle"),
    (
        "n3",
        "application/turtle,text/turtle,text/rdf+n3,application/n-triples,application/n3,text/n3",
        "text/turtle",
    ),
    (
        "application/ld+json,application/x-json+ld",
        "application/ld+json,application/x-json+ld",
        "application/ld+json",
    ),
    ("json-ld", "application/ld+json,application/x-json+ld", "application/ld+json"),
    ("rdf+xml", "application/rdf+xml", "application/rdf+xml"),
    ("xml", "application/rdf+xml", "application/rdf+xml"),
    ("json", "*/*", "application/ld+json"),
    ("rdf", "*/*", "application/rdf+xml"),
]


@pytest.mark.parametrize(("format", "accept", "expected"), SPARQLWRAPPER)
def test_sparqlwrapper_constructs(format: str, accept: str, expected: str) -> None:
    assert choose(accept, GRAPHS, format) == expected


@pytest.mark.parametrize(
    ("format", "available", "expected"),
    [
        ("json-ld", GRAPHS, "application/ld+json"),
        ("n3", GRAPHS, "text/turtle"),
        ("rdf+xml", GRAPHS, "application/rdf+xml"),
        ("ntriples", GRAPHS, "application/n-triples"),
        ("n-triples", GRAPHS, "application/n-triples"),
        ("nt", GRAPHS, "application/n-triples"),
        ("trig", GRAPHS, "application/trig"),
        ("xml", RESULTS, "application/sparql-results+xml"),
        ("srx", RESULTS, "application/sparql-results+xml"),
        ("srj", RESULTS, "application/sparql-results+json"),
        ("json", RESULTS, "application/sparql-results+json"),
        ("csv", RESULTS, "text/csv"),
        ("tsv", RESULTS, "text/tab-separated-values"),
        ("text/tab-separated-values", RESULTS, "text/tab-separated-values"),
        ("application/json", RESULTS, "application/sparql-results+json"),
        (" Turtle ", GRAPHS, "text/turtle"),
    ],
)
def test_format_aliases(format: str, available: tuple[str, ...], expected: str) -> None:
    assert choose(None, available, format) == expected


@pytest.mark.parametrize(
    ("accept", "format", "available", "expected"),
    [
        ("text/turtle", "n3-but-not-really", GRAPHS, "text/turtle"),
        ("application/ld+json", "csv", GRAPHS, "application/ld+json"),  # csv: not offered
        ("text/csv", "turtle", RESULTS, "text/csv"),
        ("text/*;q=0.5, text/tab-separated-values", "png", RESULTS, "text/tab-separated-values"),
        ("application/xml, */*;q=0.1", "pdf", GRAPHS, "application/rdf+xml"),
    ],
)
def test_a_good_accept_wins_over_a_format_not_offered(
    accept: str, format: str, available: tuple[str, ...], expected: str
) -> None:
    assert choose(accept, available, format) == expected


@pytest.mark.parametrize("accept", [None, "", "*/*", "image/png", "text/turtle;q=0, */*"])
def test_406_when_neither_fits(accept: str | None) -> None:
    """`*/*` (or no Accept) names no type: a format= that fits nothing is an error, not ignored."""
    with pytest.raises(NotAcceptableError, match="format='csv'"):
        choose(accept, GRAPHS, "csv")
