"""The example queries of queries/ return rows on the shipped release, both as a workbench example
and as a canned URL with parameters (the catalogue itself: tests/engine/test_catalogue.py); a
browser gets each one's page, a form and the answer as a table (issue 11, item 7)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from bs4 import BeautifulSoup, Tag

from hrgraph.engine.catalogue import catalogue
from hrgraph.pages import workbench

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
    assert client.get(url, headers={"Accept": "application/json"}).json()["head"]["vars"]


@pytest.mark.parametrize("accept", [None, "*/*", "text/*", "text/plain, */*;q=0.5"])
def test_clients_that_name_no_result_type_get_csv(client: httpx.Client, accept: str | None) -> None:
    """curl (`*/*`), spreadsheets and scripts: CSV, as the README's examples say."""
    headers = {"Accept": accept} if accept else {}
    response = client.get("/queries/programs-by-city", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize("format", ["csv", "tsv", "json", "xml"])
def test_a_browser_asking_a_format_gets_it(client: httpx.Client, format: str) -> None:
    response = client.get(
        "/queries/programs-by-city", params={"format": format}, headers={"Accept": BROWSER}
    )
    assert response.status_code == 200
    assert not response.headers["content-type"].startswith("text/html")
    assert f'filename="programs-by-city.{format}"' in response.headers["content-disposition"]


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
    assert 'href="/queries/city-services?lang=fr"' in html.text  # its page, in French
    # the parameters are explained in the page's language too (issue 11, item 7)
    assert services["params"][0]["docs"] == {
        "en": "IRI of an hr:City",
        "fr": "IRI d'une hr:City (ville)",
    }
    assert "IRI d&#39;une hr:City (ville)" in html.text or "IRI d'une hr:City (ville)" in html.text
    assert "language of the labels" not in html.text and "par défaut" in html.text
    english = client.get("/queries/", headers={"Accept": BROWSER, "Accept-Language": "en"})
    assert "language of the labels: en or fr" in english.text


# --- the page of a canned query, for people (issue 11, item 7) --------------------------------


def page_of(client: httpx.Client, path: str, status: int = 200, **params: str) -> BeautifulSoup:
    response = client.get(path, params=params or None, headers={"Accept": BROWSER})
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return BeautifulSoup(response.text, "html.parser")


def unlabelled(page: BeautifulSoup) -> list[str]:
    """Form controls a screen reader cannot name (no <label for=>)."""
    return [
        str(control.get("name"))
        for control in page.find_all(["input", "select", "textarea"])
        if control.get("type") != "hidden"
        and not page.find("label", attrs={"for": control.get("id") or "-"})
    ]


def french_text(page: BeautifulSoup) -> str:
    """The text of <main> a French reader reads: no code, query or passage marked English."""
    main = BeautifulSoup(str(page.select_one("main")), "html.parser")
    for skipped in main.find_all(["code", "pre", "textarea", "datalist"]):
        skipped.decompose()
    for english in main.find_all(attrs={"lang": "en"}):
        english.decompose()
    return main.get_text(" ")


def table_of(page: BeautifulSoup) -> tuple[list[str], list[list[Tag]]]:
    table = page.select_one("#answer table")
    assert table is not None, "the answer has no table"
    columns = [th.get_text(strip=True) for th in table.select("thead th")]
    return columns, [row.find_all("td") for row in table.select("tbody tr")]


@pytest.mark.parametrize("name", NAMES)
def test_a_browser_gets_the_page_of_a_canned_query(client: httpx.Client, name: str) -> None:
    query = catalogue()[name]
    page = page_of(client, f"/queries/{name}")
    assert page.h1 is not None and page.h1.get_text(strip=True) == query.title["en"]
    assert query.description["en"] in page.get_text()
    form = page.find("form", id="canned-form")
    assert isinstance(form, Tag) and form["action"] == f"/queries/{name}"
    assert form["method"] == "get"
    assert [c["name"] for c in form.select(".wb-param input, .wb-param select")] == [
        p.name for p in query.params
    ]
    assert unlabelled(page) == []
    # as many rows as the CSV, whose columns it shows (a ?x beside its ?xLabel becomes a link)
    rows = csv_rows(client.get(f"/queries/{name}", params={"format": "csv"}))
    columns, cells = table_of(page)
    assert len(cells) == len(rows) - 1 > 0
    assert set(columns) <= set(rows[0])
    count = page.select_one("#answer .wb-count").get_text()
    assert count == workbench.count(len(cells), "en")
    for link in page.select("#answer td a"):
        assert link["href"].startswith("/id/") and not link.get_text().startswith("http")


def test_the_page_shows_labels_and_links_to_the_other_formats(client: httpx.Client) -> None:
    page = page_of(client, "/queries/city-services", city="victoria")
    assert page.find("input", attrs={"name": "city"})["value"] == "victoria"
    columns, cells = table_of(page)
    providers = {row[columns.index("provider")].get_text(strip=True) for row in cells}
    assert "SOLID peer outreach vehicle" in providers  # the label, linked to its page
    assert "providerLabel" not in columns
    csv_rows_of_link = []
    for format in ("csv", "tsv", "json", "xml"):
        link = page.find("a", id=f"format-{format}")
        query = parse_qs(urlsplit(link["href"]).query)
        assert query["format"] == [format] and query["city"] == ["victoria"]
        response = client.get(link["href"], headers={"Accept": BROWSER})
        assert response.status_code == 200 and "html" not in response.headers["content-type"]
        if format == "csv":
            csv_rows_of_link = csv_rows(response)
    assert {row[1] for row in csv_rows_of_link[1:]} == providers
    workbench_link = page.find("a", id="open-workbench")
    bound = parse_qs(urlsplit(workbench_link["href"]).query)["query"][0]
    assert "/id/city/victoria>" in bound and "#+" not in bound
    answer = client.get("/sparql", params={"query": bound}, headers={"Accept": JSON})
    assert len(answer.json()["results"]["bindings"]) == len(cells)


def test_the_form_reruns_with_new_values(client: httpx.Client) -> None:
    """What a browser sends when the form is submitted: its fields, by GET to its action."""
    page = page_of(client, "/queries/city-services")
    form = page.find("form", id="canned-form")
    fields = {c["name"]: c.get("value", "") for c in form.find_all("input") if c.get("name")}
    fields |= {"city": "halifax", "lang": "fr"}
    again = page_of(client, form["action"], **fields)
    assert again.find("html")["lang"] == "fr"
    assert (
        again.find("select", attrs={"name": "lang"}).find("option", selected=True)["value"] == "fr"
    )
    expected = csv_rows(
        client.get("/queries/city-services", params={"city": "halifax", "lang": "fr"})
    )
    columns, cells = table_of(again)
    shown = {row[columns.index("provider")].get_text(strip=True) for row in cells}
    assert shown == {row[1] for row in expected[1:]} and shown


def test_the_page_in_french(client: httpx.Client) -> None:
    query = catalogue()["programs-using-practice"]
    page = page_of(client, "/queries/programs-using-practice", lang="fr")
    assert page.find("html")["lang"] == "fr"
    assert page.h1.get_text(strip=True) == query.title["fr"]
    assert query.description["fr"] in page.get_text()
    assert (
        query.params[0].docs["fr"] in page.find("label", attrs={"for": "param-practice"}).get_text()
    )
    # the labels of the answer are French: the page's language is the query's `lang`
    french = csv_rows(client.get("/queries/programs-using-practice", params={"lang": "fr"}))
    _, cells = table_of(page)
    assert {row[1] for row in french[1:]} <= {c.get_text(strip=True) for row in cells for c in row}
    # no English interface text (the variables are code), French spacing before colons
    text = french_text(page)
    for english in ("Parameters", "Answer", "rows", "This answer as", "Open in the workbench"):
        assert english not in text
    assert not re.search(r"\w[:;?!](\s|$)", text), text
    assert page.find("a", id="format-csv")["href"].endswith("lang=fr&format=csv")
    assert page.find("a", hreflang="en")["href"] == "/queries/programs-using-practice?lang=en"
    # another language than the page's is marked: the English option
    assert page.find("option", attrs={"value": "en"})["lang"] == "en"
    assert page.find("option", attrs={"value": "fr"}).get("lang") is None


def test_cells_in_another_language_than_the_page_are_marked() -> None:
    query = catalogue()["city-services"]
    cells = [workbench.Cell("Hello", lang="en"), workbench.Cell("Bonjour", lang="fr-CA")]
    outcome = workbench.Outcome(["a", "b"], [cells], 1)
    html = workbench.render_canned(query, "fr", [], {}, query.text, outcome, {})
    english, french = BeautifulSoup(html, "html.parser").select("#answer td")
    assert english["lang"] == "en" and french.get("lang") is None


@pytest.mark.parametrize(
    ("params", "lang", "expected"),
    [
        ({"city": "atlantis"}, "en", "city=atlantis is not a value this release holds"),
        ({"city": "atlantis"}, "fr", "city=atlantis n'est pas une valeur de cette version"),
        ({"lang": "de"}, "en", "use one of: en, fr"),
        ({"town": "whitehorse"}, "en", "it takes: city, lang"),
        ({"town": "whitehorse"}, "fr", "elle prend\u00a0: city, lang"),
    ],
)
def test_a_bad_parameter_on_the_page_is_a_400_with_the_form(
    client: httpx.Client, params: dict[str, str], lang: str, expected: str
) -> None:
    page = page_of(
        client, "/queries/city-services", 400, **params, **({"lang": lang} if lang == "fr" else {})
    )
    assert page.find("html")["lang"] == lang
    message = page.select_one("#canned-error .wb-message").get_text()
    assert expected in message and "\n" not in message.strip()
    if params.get("city"):  # the choices it names are the cities the release holds
        assert "whitehorse" in message and "victoria" in message
        assert page.find("input", attrs={"name": "city"})["value"] == params["city"]
    assert page.find("form", id="canned-form") and unlabelled(page) == []
    assert page.select_one("#answer") is None


def test_a_repeated_parameter_on_the_page(client: httpx.Client) -> None:
    response = client.get(
        "/queries/city-services?city=victoria&city=whitehorse&lang=fr", headers={"Accept": BROWSER}
    )
    assert response.status_code == 400
    assert (
        "Le paramètre city est donné plus d'une fois."
        in BeautifulSoup(response.text, "html.parser").select_one("#canned-error").get_text()
    )


def test_the_page_is_cached_per_release_and_language(client: httpx.Client) -> None:
    first = client.get("/queries/city-needs", headers={"Accept": BROWSER})
    french = client.get("/queries/city-needs?lang=fr", headers={"Accept": BROWSER})
    assert first.headers["etag"] != french.headers["etag"]
    assert "Accept" in first.headers["vary"] and first.headers["content-language"] == "en"
    again = client.get(
        "/queries/city-needs", headers={"Accept": BROWSER, "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


def test_format_html_gives_the_page_to_any_client(client: httpx.Client) -> None:
    response = client.get("/queries/city-needs", params={"format": "html"})
    assert response.headers["content-type"].startswith("text/html")
    assert BeautifulSoup(response.text, "html.parser").select_one("#answer table")


@pytest.mark.parametrize(
    ("n", "en", "fr"),
    [(0, "0 rows", "0\u00a0ligne"), (1, "1 row", "1\u00a0ligne"), (2, "2 rows", "2\u00a0lignes")],
)
def test_row_counts_have_plurals(n: int, en: str, fr: str) -> None:
    assert workbench.count(n, "en") == en and workbench.count(n, "fr") == fr


def test_the_french_listing_links_to_the_pages(client: httpx.Client) -> None:
    page = page_of(client, "/queries/", lang="fr")
    entries = page.select("#queries .wb-example")
    assert [e["data-name"] for e in entries] == NAMES
    for entry in entries:
        query = catalogue()[entry["data-name"]]
        title = entry.find("h2").find("a")
        assert title.get_text(strip=True) == query.title["fr"]
        assert title["href"] == f"/queries/{query.name}?lang=fr"
        assert query.description["fr"] in entry.get_text()
        formats = {a.get_text(): a["href"] for a in entry.find_all("a")[1:]}
        assert set(formats) == {"CSV", "TSV", "JSON", "XML"}
        assert "lang=fr" in formats["CSV"]
    french = page_of(client, entries[0].find("h2").find("a")["href"])
    assert french.find("html")["lang"] == "fr"
