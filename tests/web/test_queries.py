"""The example queries of queries/ return rows on the shipped release, both as a workbench example
and as a canned URL with parameters (the catalogue itself: tests/engine/test_catalogue.py)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "queries").glob("*.rq"))
NAMES = [path.stem for path in FILES]
JSON = "application/sparql-results+json"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def csv_rows(response: httpx.Response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.text)))


@pytest.mark.parametrize("name", NAMES)
def test_example_returns_rows(client: httpx.Client, name: str) -> None:
    text = (ROOT / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    answer = client.post("/sparql", data={"query": text}, headers={"Accept": JSON})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body.get("boolean") is True or body["results"]["bindings"], f"{name}: no rows"


@pytest.mark.parametrize("name", NAMES)
def test_canned_url_returns_csv(client: httpx.Client, name: str) -> None:
    response = client.get(f"/queries/{name}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = csv_rows(response)
    assert rows[0] and all(rows[0]), "a header row of variable names"
    assert len(rows) >= 2, f"{name}: no rows"
    assert f'filename="{name}.csv"' in response.headers["content-disposition"]


def test_canned_formats(client: httpx.Client) -> None:
    url = "/queries/programs-by-city"
    by_format = client.get(url, params={"format": "json"})
    assert by_format.headers["content-type"].startswith(JSON)
    assert by_format.json()["results"]["bindings"]
    tsv = client.get(url, headers={"Accept": "text/tab-separated-values"})
    assert tsv.headers["content-type"].startswith("text/tab-separated-values")
    xml = client.get(url, params={"format": "xml"})
    assert xml.headers["content-type"].startswith("application/sparql-results+xml")
    # A browser's Accept (HTML, application/xml, */*) names no result type: CSV.
    clicked = client.get(url, headers={"Accept": BROWSER})
    assert clicked.headers["content-type"].startswith("text/csv")
    assert client.get(url, headers={"Accept": "application/json"}).json()["head"]["vars"]


def test_canned_answers_are_cached_and_conditional(client: httpx.Client) -> None:
    first = client.get("/queries/city-coordinates")
    again = client.get(
        "/queries/city-coordinates", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


def test_labels_not_iris(client: httpx.Client) -> None:
    rows = csv_rows(client.get("/queries/city-coordinates"))
    header = rows[0]
    labels = {row[header.index("cityLabel")] for row in rows[1:]}
    assert {"Whitehorse", "St. John's", "Halifax"} <= labels


@pytest.mark.parametrize(
    "value",
    [
        "victoria",
        "city:victoria",
        "https://w3id.org/hrgraph/id/city/victoria",
    ],
)
def test_city_parameter(client: httpx.Client, value: str) -> None:
    rows = csv_rows(client.get("/queries/city-services", params={"city": value}))
    providers = {row[1] for row in rows[1:]}
    assert "SOLID peer outreach vehicle" in providers
    assert not any("Blood Ties" in provider for provider in providers)  # not the default city


def test_default_parameter_is_the_documented_one(client: httpx.Client) -> None:
    rows = csv_rows(client.get("/queries/city-services"))
    assert any("Blood Ties" in row[1] for row in rows[1:])  # Whitehorse


def test_practice_and_language_parameters(client: httpx.Client) -> None:
    rows = csv_rows(
        client.get(
            "/queries/programs-using-practice", params={"practice": "needle-exchange", "lang": "fr"}
        )
    )
    labels = {row[1] for row in rows[1:]}
    assert "Site fixe de Mainline" in labels
    assert "Trousses d'utilisation sécuritaire du crack de Blood Ties" not in labels


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"city": "atlantis"}, "city='atlantis' is not an hr:City"),
        ({"city": "practice:needle-exchange"}, "whitehorse"),  # the message lists the cities
        ({"city": "whitehorse> } ?s ?p ?o . { <x"}, "is not an hr:City"),
        ({"city": 'x" } UNION { ?s ?p ?o'}, "is not an hr:City"),
        ({"town": "whitehorse"}, "it takes: city, lang"),
        ({"lang": "de"}, "use one of en, fr"),
        ({"format": "pdf"}, "format='pdf'"),
    ],
)
def test_bad_parameters(client: httpx.Client, params: dict[str, str], expected: str) -> None:
    response = client.get("/queries/city-services", params=params, headers={"Accept": JSON})
    assert response.status_code in (400, 406), response.text
    assert expected in response.json()["message"]


def test_repeated_parameter(client: httpx.Client) -> None:
    response = client.get("/queries/city-services?city=victoria&city=whitehorse")
    assert response.status_code == 400
    assert "more than once" in response.text


def test_unknown_query_lists_the_available_ones(client: httpx.Client) -> None:
    response = client.get("/queries/nope", headers={"Accept": JSON})
    assert response.status_code == 404
    assert all(name in response.json()["message"] for name in NAMES)


def test_listing(client: httpx.Client) -> None:
    listed = client.get("/queries/", headers={"Accept": "application/json"}).json()["queries"]
    assert [q["name"] for q in listed] == NAMES
    services = next(q for q in listed if q["name"] == "city-services")
    assert [p["name"] for p in services["params"]] == ["city", "lang"]
    assert services["params"][0]["default"] == "https://w3id.org/hrgraph/id/city/whitehorse"
    html = client.get("/queries/", headers={"Accept": BROWSER, "Accept-Language": "fr"})
    assert html.headers["content-type"].startswith("text/html")
    assert "Services offerts dans une ville" in html.text
    assert 'href="/queries/city-services"' in html.text
    # the parameters are explained in the page's language too (issue 11, item 7)
    assert services["params"][0]["docs"] == {
        "en": "IRI of an hr:City",
        "fr": "IRI d'une hr:City (ville)",
    }
    assert "IRI d&#39;une hr:City (ville)" in html.text or "IRI d'une hr:City (ville)" in html.text
    assert "language of the labels" not in html.text and "par défaut" in html.text
    english = client.get("/queries/", headers={"Accept": BROWSER, "Accept-Language": "en"})
    assert "language of the labels: en or fr" in english.text
