"""The safety checks every query passes before an engine sees it."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrgraph.engine.interface import QueryForm
from hrgraph.engine.lexer import KEYWORDS, Kind, lex, scan, split_keywords
from hrgraph.engine.prefixes import PREFIXES, prefixes_for
from hrgraph.engine.remote import declare_prefixes
from hrgraph.engine.safety import CheckedQuery, check, refuse_update
from hrgraph.errors import (
    QueryError,
    QueryRefusedError,
    QuerySyntaxError,
    QueryTooLargeError,
    UnknownPrefixError,
    UpdateRefusedError,
)
from support import Listener

PLACES = "https://w3id.org/hrgraph/graph/data/places"
PROGRAMS = "https://w3id.org/hrgraph/graph/data/programs"
GRAPHS = frozenset({PLACES, PROGRAMS})
OUTSIDE = "http://127.0.0.1:8999/sparql"


def checked(query: str, max_bytes: int = 100_000, max_nesting: int = 100) -> CheckedQuery:
    return check(query, graphs=GRAPHS, max_bytes=max_bytes, max_nesting=max_nesting)


# Size.


def test_a_query_over_the_byte_limit_is_refused_with_413() -> None:
    query = "SELECT * WHERE { ?s ?p 'é' }"  # 'é' is two bytes: the limit counts bytes
    with pytest.raises(QueryTooLargeError) as caught:
        checked(query, max_bytes=len(query))
    assert caught.value.status == 413
    assert caught.value.setting == "max_query_bytes"
    assert "HRGRAPH_MAX_QUERY_BYTES" in str(caught.value)
    assert checked(query, max_bytes=len(query.encode())).form is QueryForm.SELECT


# Read-only.

UPDATES = [
    "INSERT DATA { <http://x/s> <http://x/p> <http://x/o> }",
    "DELETE WHERE { ?s ?p ?o }",
    "delete { ?s ?p ?o } insert { ?s ?p 1 } where { ?s ?p ?o }",
    "CLEAR ALL",
    "DROP GRAPH <http://x/g>",
    "CREATE GRAPH <http://x/g>",
    "ADD DEFAULT TO <http://x/g>",
    "MOVE <http://x/a> TO <http://x/b>",
    "COPY <http://x/a> TO <http://x/b>",
    "WITH <http://x/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "PREFIX ex: <http://x/>\nINSERT DATA { ex:s ex:p ex:o }",
    "INSERTDATA{<http://x/s> <http://x/p> <http://x/o>}",  # glued: oxigraph reads INSERT DATA
    "SELECT * WHERE { ?s ?p ?o } ; DROP ALL",
]


@pytest.mark.parametrize("update", UPDATES)
def test_updates_are_refused_as_read_only(update: str) -> None:
    with pytest.raises(UpdateRefusedError, match="read-only") as caught:
        checked(update)
    assert caught.value.status == 403


@pytest.mark.parametrize(
    "load", [f"LOAD <{OUTSIDE}>", f"LOAD SILENT <{OUTSIDE}> INTO GRAPH <http://x/g>"]
)
def test_load_is_refused_as_an_outbound_request(load: str) -> None:
    with pytest.raises(QueryRefusedError, match="no outbound requests") as caught:
        checked(load)
    assert caught.value.status == 400


def test_update_requests_are_refused() -> None:
    with pytest.raises(UpdateRefusedError, match="read-only"):
        refuse_update()


# No outbound requests.

SERVICES = [
    f"SELECT * WHERE {{ SERVICE <{OUTSIDE}> {{ ?s ?p ?o }} }}",
    f"select * where {{ service silent <{OUTSIDE}> {{ ?s ?p ?o }} }}",
    f"SELECT * WHERE {{ SERVICESILENT<{OUTSIDE}>{{ ?s ?p ?o }} }}",
    f"SELECT * WHERE {{ ?s ?p ?o .SERVICE<{OUTSIDE}>{{}} }}",
    "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE ?endpoint { ?s ?p ?o } } }",
    f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{OUTSIDE}> {{ ?s ?p ?o }} }} }} }}",
    f"ASK {{ FILTER EXISTS {{ SERVICE <{OUTSIDE}> {{ }} }} }}",
    # A scannerless parser reads `SERVICE:x` as SERVICE followed by the prefixed name `:x`.
    f"PREFIX : <{OUTSIDE}/> SELECT * WHERE {{ SERVICE:x {{ ?s ?p ?o }} }}",
    # SPARQL allows \\u escapes anywhere; a conforming engine decodes them before parsing.
    f"SELECT * WHERE {{ \\u0053ERVICE <{OUTSIDE}> {{ ?s ?p ?o }} }}",
    f'SELECT * WHERE {{ ?s ?p "a\\u0022 . SERVICE <{OUTSIDE}> {{ }} ?s ?p \\u0022" }}',
]


@pytest.mark.parametrize("query", SERVICES)
def test_service_is_refused_anywhere(query: str) -> None:
    with pytest.raises(QueryRefusedError, match="no outbound requests") as caught:
        checked(query)
    assert caught.value.status == 400


FROM_CLAUSE = re.compile(r"FROM\s*(NAMED)?\s*(<[^>]*>|[\w-]*:\w+)", re.IGNORECASE)


def blanked(query: str) -> str:
    return FROM_CLAUSE.sub(lambda m: " " * len(m.group()), query)


FROM_OUTSIDE = [
    (f"SELECT * FROM <{OUTSIDE}> WHERE {{ ?s ?p ?o }}", (OUTSIDE,), ()),
    (f"SELECT * FROM NAMED <{OUTSIDE}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", (), (OUTSIDE,)),
    (f"SELECT * FROMNAMED<{OUTSIDE}> WHERE {{ ?s ?p ?o }}", (), (OUTSIDE,)),
    (f"SELECT * FROM <{PLACES}> FROM <{OUTSIDE}> WHERE {{ ?s ?p ?o }}", (PLACES, OUTSIDE), ()),
    (f"PREFIX ex: <{OUTSIDE}/> SELECT * FROM ex:g WHERE {{ ?s ?p ?o }}", (OUTSIDE + "/g",), ()),
    (f"PREFIX : <{OUTSIDE}/> SELECT * FROM:g WHERE {{ ?s ?p ?o }}", (OUTSIDE + "/g",), ()),
    # relative, no BASE: not the graph
    ("SELECT * FROM <graph/data/places> WHERE { ?s ?p ?o }", ("graph/data/places",), ()),
    (f"BASE <{OUTSIDE}/> SELECT * FROM <places>\nWHERE {{ ?s ?p ?o }}", (OUTSIDE + "/places",), ()),
]


@pytest.mark.parametrize(("query", "default", "named"), FROM_OUTSIDE)
def test_from_outside_the_store_never_reaches_an_engine(
    query: str, default: tuple[str, ...], named: tuple[str, ...]
) -> None:
    """The dataset is kept (an unknown graph is an empty graph: engine.queries) and every FROM
    is blanked out of the text the engine gets, lines and columns unchanged."""
    result = checked(query)
    assert (result.from_graphs, result.from_named) == (default, named)
    assert result.text == blanked(query)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM ?g WHERE { ?s ?p ?o }",
        f"SELECT * FROM <{PLACES}\\u002F..> WHERE {{ ?s ?p ?o }}",
        f"SELECT * \\u0046ROM <{OUTSIDE}> WHERE {{ ?s ?p ?o }}",
    ],
)
def test_from_without_an_iri_or_hidden_by_escapes_is_refused(query: str) -> None:
    """An escaped FROM would stay in the text an engine decodes: it must name a store graph."""
    with pytest.raises(QueryRefusedError, match="no outbound requests"):
        checked(query)


@pytest.mark.parametrize(
    ("query", "default", "named"),
    [
        (f"SELECT * FROM <{PLACES}> WHERE {{ ?s ?p ?o }}", (PLACES,), ()),
        (
            f"SELECT * FROM <{PLACES}> FROM NAMED <{PROGRAMS}> WHERE {{ ?s ?p ?o }}",
            (PLACES,),
            (PROGRAMS,),
        ),
        (
            "PREFIX g: <https://w3id.org/hrgraph/graph/data/>\n"
            "SELECT * FROM g:places FROM NAMED g:programs WHERE { ?s ?p ?o }",
            (PLACES,),
            (PROGRAMS,),
        ),
        ("BASE <https://w3id.org/hrgraph/graph/>\nASK FROM <data/places> {}", (PLACES,), ()),
        (f"CONSTRUCT {{ ?s ?p ?o }} FROM <{PLACES}> WHERE {{ ?s ?p ?o }}", (PLACES,), ()),
        ("SELECT * WHERE { ?s ?p ?o }", (), ()),
    ],
)
def test_from_naming_a_store_graph_is_allowed(
    query: str, default: tuple[str, ...], named: tuple[str, ...]
) -> None:
    result = checked(query)
    assert (result.from_graphs, result.from_named) == (default, named)
    assert result.text == blanked(query)  # the dataset travels beside the text


# Keywords where they are not keywords.

HARMLESS = [
    'SELECT * WHERE { ?s ?p "SERVICE <http://x/> { } INSERT DATA LOAD" }',
    "SELECT * WHERE { ?s ?p 'FROM <http://x/> DROP ALL' }",
    'SELECT * WHERE { ?s ?p """a "quoted" SERVICE\nCLEAR ALL""" }',
    "SELECT * WHERE { ?s ?p '''it's LOAD <http://x/>''' }",
    "SELECT * WHERE { ?s ?p 'it\\'s SERVICE' }",
    "SELECT * WHERE { ?s <http://x/SERVICE#INSERT> ?o }",
    "# SERVICE <http://x/> { }\nSELECT * WHERE { ?s ?p ?o } # FROM <http://x/>",
    "SELECT ?service ?load $insert WHERE { ?service ?load $insert }",
    "SELECT * WHERE { ?s hr:service ?o ; hr:load ?x ; hr:from ?y ; hr:insert ?z }",
    "SELECT * WHERE { ?s ?p 'x'@en-service }",
    "SELECT * WHERE { _:service ?p ?o }",
    "SELECT * WHERE { ?a ?p ?b FILTER(?a < ?b && ?b > ?a || ?a<?b) }",
    "SELECT * WHERE { ?s ?p ?o FILTER(?o<3) } ORDER BY DESC(?o) LIMIT 10",
    "DESCRIBE <https://w3id.org/hrgraph/id/city/whitehorse>",
    "SELECT ?name WHERE { ?s <http://xmlns.com/foaf/0.1/name> ?name } GROUP BY ?name",
]


@pytest.mark.parametrize("query", HARMLESS)
def test_keywords_in_strings_iris_comments_and_names_are_not_refused(query: str) -> None:
    checked(query)


# Nesting.


def test_nesting_up_to_the_limit_is_allowed_and_beyond_refused() -> None:
    def nested(depth: int) -> str:
        return "SELECT * WHERE " + "{" * depth + " ?s ?p ?o " + "}" * depth

    checked(nested(5), max_nesting=5)
    with pytest.raises(QuerySyntaxError, match="HRGRAPH_MAX_NESTING") as caught:
        checked(nested(6), max_nesting=5)
    assert caught.value.setting == "max_nesting"
    assert (caught.value.line, caught.value.column) == (1, 21)


def test_brackets_and_parentheses_count_towards_nesting() -> None:
    with pytest.raises(QuerySyntaxError, match="nests"):
        checked("SELECT * WHERE { ?s ?p [ ?q ( ( 1 ) ) ] }", max_nesting=3)
    checked("SELECT * WHERE { ?s ?p [ ?q ( ( 1 ) ) ] }", max_nesting=4)


def test_the_crashing_depth_is_refused_before_any_engine() -> None:
    query = "SELECT * WHERE " + "{" * 20_000 + "}" * 20_000
    with pytest.raises(QuerySyntaxError, match="nests"):
        checked(query)


# Prefixes.


def test_unknown_prefix_gives_line_and_column() -> None:
    query = "PREFIX ex: <http://example.org/>\nSELECT * WHERE {\n  ?s ex:p foo:bar }"
    with pytest.raises(UnknownPrefixError) as caught:
        checked(query)
    error = caught.value
    assert (error.prefix, error.line, error.column) == ("foo", 3, 11)
    assert "PREFIX foo:" in str(error)
    assert error.status == 400


def test_empty_prefix_must_be_declared() -> None:
    with pytest.raises(UnknownPrefixError, match="':'"):
        checked("SELECT * WHERE { ?s :p ?o }")
    checked("PREFIX : <http://x/> SELECT * WHERE { ?s :p ?o }")


def test_predeclared_prefixes_need_no_declaration() -> None:
    names = " ".join(f"{name}:x" for name in PREFIXES)
    checked(f"SELECT * WHERE {{ VALUES ?v {{ {names} }} }}")
    expected = {"rdf", "rdfs", "owl", "xsd", "skos", "dct", "schema", "org", "prov", "geo"}
    assert expected | {"sh", "void", "dcat", "foaf", "hr", "program", "fund"} <= PREFIXES.keys()
    assert PREFIXES["hr"] == "https://w3id.org/hrgraph/ontology#"
    assert PREFIXES["city"] == "https://w3id.org/hrgraph/id/city/"


def test_prefixes_follow_the_base_iri() -> None:
    local = prefixes_for("http://localhost:8000/")
    assert local["practice"] == "http://localhost:8000/id/practice/"
    assert local["rdf"] == PREFIXES["rdf"]


def test_declare_prefixes_adds_one_line_with_the_used_undeclared_ones() -> None:
    query = "PREFIX hr: <http://other/>\nSELECT * WHERE { ?s hr:p city:x ; a skos:Concept }"
    text, added = declare_prefixes(query, PREFIXES)
    assert added == 1
    first, rest = text.split("\n", 1)
    assert rest == query
    assert first == (f"PREFIX city: <{PREFIXES['city']}> PREFIX skos: <{PREFIXES['skos']}>")
    assert declare_prefixes("ASK {}", PREFIXES) == ("ASK {}", 0)


# Forms and syntax.


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", QueryForm.SELECT),
        ("PREFIX ex: <http://x/> BASE <http://y/> ask { }", QueryForm.ASK),
        ("CONSTRUCT { ?s ?p ?o } WHERE { { SELECT * WHERE { ?s ?p ?o } } }", QueryForm.CONSTRUCT),
        ("CONSTRUCT WHERE { ?s ?p ?o }", QueryForm.CONSTRUCT),
        ("DESCRIBE ?s WHERE { ?s ?p ?o }", QueryForm.DESCRIBE),
    ],
)
def test_the_query_form_is_found(query: str, form: QueryForm) -> None:
    assert checked(query).form is form


@pytest.mark.parametrize("query", ["", "   # nothing\n", "PREFIX ex: <http://x/>", "{ ?s ?p ?o }"])
def test_no_query_form_is_a_syntax_error(query: str) -> None:
    with pytest.raises(QuerySyntaxError, match="SELECT, ASK, CONSTRUCT or DESCRIBE"):
        checked(query)


def test_an_unclosed_string_is_a_syntax_error_with_its_place() -> None:
    with pytest.raises(QuerySyntaxError, match="not closed") as caught:
        checked("SELECT *\nWHERE { ?s ?p 'open }")
    assert (caught.value.line, caught.value.column) == (2, 15)


# Properties of the lexer.

IRI_CHARS = st.characters(
    min_codepoint=0x21, exclude_characters='<>"{}|^`\\', exclude_categories=("Cs",)
)
TEXT = st.characters(exclude_categories=("Cs",))


@given(st.text(TEXT, max_size=200))
def test_any_text_gives_a_query_error_or_a_checked_query(text: str) -> None:
    with contextlib.suppress(QueryError):
        checked(text)


FRAGMENTS = st.sampled_from(
    [
        *"{}()[]<>'\"\\#.;,:\n\t ",
        *[
            "SELECT",
            "ASK",
            "CONSTRUCT",
            "SERVICE",
            "service",
            "FROM",
            "NAMED",
            "INSERT",
            "LOAD",
            "WHERE",
            "PREFIX",
            "BASE",
        ],
        *[
            "<http://x/>",
            "'''",
            '"""',
            "\\u0053",
            "?s",
            "$o",
            "hr:",
            "ex:",
            "_:b",
            "@en",
            "1",
            "a",
            "SILENT",
        ],
        f"<{PLACES}>",
    ]
)


@given(st.lists(FRAGMENTS, max_size=40).map("".join))
def test_any_mix_of_sparql_fragments_gives_a_query_error_or_a_checked_query(text: str) -> None:
    try:
        result = checked(text)
    except QueryError:
        return
    assert not set(result.from_graphs + result.from_named) - GRAPHS


@given(st.text(TEXT, max_size=200))
def test_every_token_is_where_the_scanner_says(text: str) -> None:
    lines = text.split("\n")
    try:
        for _, token, line, column in scan(text):
            assert lines[line - 1][column - 1 :].startswith(token.split("\n")[0])
    except QuerySyntaxError:
        pass


@given(st.text(TEXT.filter(lambda c: c not in '"\\\n\r'), max_size=100))
def test_any_short_string_content_is_one_string(content: str) -> None:
    assert checked(f'SELECT * WHERE {{ ?s ?p "{content}" }}').form is QueryForm.SELECT


@given(st.text(TEXT.filter(lambda c: c not in "'\\"), max_size=100))
def test_any_long_string_content_is_one_string(content: str) -> None:
    query = f"SELECT * WHERE {{ ?s ?p '''{content}''' }}"
    if content.endswith("'"):
        return  # ''' then a quote closes early, as the grammar says
    assert checked(query).form is QueryForm.SELECT


@given(st.text(TEXT.filter(lambda c: c not in "\n\r"), max_size=100))
def test_any_comment_is_ignored(content: str) -> None:
    assert checked(f"SELECT * WHERE {{ ?s ?p ?o }} #{content}\n").form is QueryForm.SELECT


@given(st.text(IRI_CHARS, max_size=100))
def test_any_iri_is_one_token(content: str) -> None:
    tokens = lex(f"<{content}>", max_nesting=1)
    assert [(t.kind, t.text) for t in tokens] == [(Kind.IRI, f"<{content}>")]


@given(
    st.sampled_from(["SERVICE", "service", "Service", "sErViCe"]),
    st.sampled_from(["", " SILENT", "SILENT", " silent"]),
    st.sampled_from(["", " ", "\n", "\t", " # comment\n"]),
)
def test_service_is_refused_however_written(keyword: str, silent: str, space: str) -> None:
    query = f"SELECT * WHERE {{ ?s ?p ?o .{space}{keyword}{silent}{space}<{OUTSIDE}> {{ }} }}"
    with pytest.raises(QueryRefusedError):
        checked(query)


@given(st.lists(st.sampled_from(sorted(KEYWORDS)), min_size=1, max_size=5))
def test_glued_keywords_split_back_into_keywords(parts: list[str]) -> None:
    split = split_keywords("".join(parts).lower())
    assert "".join(split) == "".join(parts)
    assert set(split) <= KEYWORDS
    assert len(split) <= len(parts)


@given(
    st.text("{([", max_size=30).map(
        lambda opens: opens + opens[::-1].translate(str.maketrans("{([", "})]"))
    ),
    st.integers(1, 30),
)
def test_nesting_is_refused_exactly_past_the_limit(brackets: str, limit: int) -> None:
    depth = len(brackets) // 2
    try:
        lex(brackets, max_nesting=limit)
    except QuerySyntaxError:
        assert depth > limit
    else:
        assert depth <= limit


# Differential: whatever passes the checks makes pyoxigraph connect nowhere.


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    opened = Listener()
    yield opened
    opened.close()


def evaluate(query: str) -> None:
    """Run `query` in-process on an empty store, as far as it goes."""
    try:
        results = ox.Store().query(query, prefixes=PREFIXES, use_default_graph_as_union=True)
        if not isinstance(results, ox.QueryBoolean):
            list(results)
    except Exception:  # syntax and evaluation errors: what matters is the listener
        return


def test_the_differential_harness_sees_a_service_call() -> None:
    control = Listener()
    try:
        evaluate(f"SELECT * WHERE {{ SERVICE <{control.url}> {{ ?s ?p ?o }} }}")
    finally:
        control.close()
    assert control.accepted >= 1


@given(
    st.sampled_from(["", "PREFIX : <URL/>\n", "PREFIX SERVICE: <URL/>\n", "BASE <URL>\n"]),
    st.sampled_from(["", "?s ?p ?o .", "{}", "OPTIONAL "]),
    st.sampled_from(["SERVICE", "service", "sErViCe", "\\u0053ERVICE", "SERV\\u0049CE"]),
    st.sampled_from(["", " SILENT", "SILENT", "silent", " \\u0053ILENT"]),
    st.sampled_from(["", " ", "\n", "\t", "#c\n", "\r\n"]),
    st.sampled_from(["<URL>", ":x", "<>", "<x>", "?v"]),
)
def test_nothing_that_passes_the_checks_makes_pyoxigraph_connect(
    listener: Listener, prefix: str, before: str, keyword: str, silent: str, space: str, target: str
) -> None:
    query = (
        f"{prefix}SELECT * WHERE {{ {before}{space}{keyword}{silent}{space}{target}{space}{{ }} }}"
    )
    query = query.replace("URL", listener.url)
    try:
        checked(query)
    except QueryError:
        return
    evaluate(query)
    assert listener.accepted == 0, query
