"""The query workbench at /sparql (for browsers), its labels endpoint, and the asset fetcher."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from bs4 import BeautifulSoup, Tag

from hrgraph.config import Settings
from hrgraph.engine.prefixes import prefixes_for
from hrgraph.pages import canada, workbench

ROOT = Path(__file__).resolve().parents[2]
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSON = "application/sparql-results+json"
EXAMPLES = sorted((ROOT / "queries").glob("*.rq"))


def soup_of(response: httpx.Response) -> BeautifulSoup:
    assert response.headers["content-type"].startswith("text/html")
    return BeautifulSoup(response.text, "html.parser")


def get_page(client: httpx.Client, **params: str) -> BeautifulSoup:
    response = client.get("/sparql", params=params, headers={"Accept": BROWSER})
    assert response.status_code == 200, response.text
    return soup_of(response)


def test_browser_gets_the_workbench(client: httpx.Client) -> None:
    page = get_page(client)
    textarea = page.find("textarea", id="query")
    assert isinstance(textarea, Tag) and textarea["name"] == "query"
    assert page.find("label", attrs={"for": "query"})
    form = page.find("form", id="workbench-form")
    assert isinstance(form, Tag) and form["action"] == "/sparql" and form["method"] == "get"
    select = page.find("select", id="format")
    assert isinstance(select, Tag) and select["name"] == "format"
    assert page.find("label", attrs={"for": "format"})
    options = {o["value"] for o in select.find_all("option")}
    assert {"html", "csv", "tsv", "json"} <= options
    assert page.find(id="run") and page.find(id="results") and page.find(id="error")


def test_gallery_has_every_example_in_both_languages(client: httpx.Client) -> None:
    page = get_page(client)
    entries = page.select("#gallery .wb-example")
    assert [e["data-name"] for e in entries] == [p.stem for p in EXAMPLES]
    for entry in entries:
        english = entry.find("h3", attrs={"lang": "en"})
        french = entry.find(class_="wb-title-other", attrs={"lang": "fr"})
        assert english and english.get_text(strip=True)
        assert french and french.get_text(strip=True)
        canned = entry.find("a", class_="wb-canned")
        assert canned and canned["href"].startswith(f"/queries/{entry['data-name']}")
        assert entry.find("pre", class_="wb-example-query").get_text().strip()


def test_french(client: httpx.Client) -> None:
    by_param = get_page(client, lang="fr")
    assert by_param.find("html")["lang"] == "fr"
    assert "Atelier de requêtes SPARQL" in by_param.find("h1").get_text()
    by_header = client.get("/sparql", headers={"Accept": BROWSER, "Accept-Language": "fr-CA"})
    assert "Atelier" in soup_of(by_header).find("h1").get_text()
    first = by_param.select_one("#gallery .wb-example h3")
    assert first["lang"] == "fr"


def test_every_asset_is_same_origin(client: httpx.Client) -> None:
    page = get_page(client)
    for tag in page.find_all(src=True) + page.find_all(href=True):
        url = tag.get("src") or tag.get("href")
        parts = urlsplit(url)
        assert not parts.netloc and parts.scheme in ("", "mailto"), url
    for tag in page.find_all(["script", "link"]):
        url = tag.get("src") or tag.get("href")
        if url:
            assert client.get(url).status_code == 200, url


def test_without_the_vendored_editor_the_page_is_a_plain_form(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbench, "vendor_available", lambda: False)
    page = get_page(client)
    scripts = [s.get("src", "") for s in page.find_all("script")]
    assert "/static/workbench.js" in scripts
    assert not any("codemirror" in src for src in scripts)
    monkeypatch.setattr(workbench, "vendor_available", lambda: True)
    scripts = [s.get("src", "") for s in get_page(client).find_all("script")]
    assert "/static/vendor/codemirror/mode/sparql/sparql.js" in scripts


def test_page_config_carries_the_predeclared_prefixes(client: httpx.Client) -> None:
    config = json.loads(get_page(client).find(id="workbench-config").get_text())
    assert config["prefixes"]["city"] == "https://w3id.org/hrgraph/id/city/"
    assert config["base"] == "https://w3id.org/hrgraph/"


def submit(client: httpx.Client, page: BeautifulSoup, query: str) -> httpx.Response:
    """What a browser without JavaScript sends: the form's fields, by GET to its action."""
    form = page.find("form", id="workbench-form")
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}
    selected = form.find("select").find("option", selected=True)
    fields |= {"query": query, "format": selected["value"]}
    return client.get(form["action"], params=fields, headers={"Accept": BROWSER})


def test_form_round_trip_renders_a_table(client: httpx.Client) -> None:
    page = get_page(client)
    example = (ROOT / "queries" / "city-coordinates.rq").read_text(encoding="utf-8")
    response = submit(client, page, example)
    assert response.status_code == 200
    result = soup_of(response)
    results = result.find(id="results")
    assert results["data-state"] == "done"
    headers = [th.get_text() for th in results.select("thead th")]
    assert headers[:5] == ["city", "cityLabel", "provinceLabel", "lat", "long"]
    rows = results.select("tbody tr")
    assert len(rows) == 9
    links = results.select("tbody a")
    assert links and all(a["href"].startswith("/id/") for a in links)
    assert "Whitehorse" in [a.get_text() for a in links]  # a label, not the IRI
    assert result.find("textarea", id="query").get_text() == example  # the query is kept
    assert not result.find(id="map").has_attr("hidden")  # coordinates: drawn on the map
    assert len(result.select("#map-points circle")) == 9
    csv_link = result.find("a", id="download-csv")
    download = client.get(csv_link["href"])
    assert download.headers["content-type"].startswith("text/csv")
    assert download.text.splitlines()[0].startswith("city,cityLabel")


def drawn_markers(svg: Tag) -> list[canada.Marker]:
    """The server-drawn points of the results map: per point, maybe a leader line, a circle and
    its label, in that order."""
    found, leader = [], None
    for node in svg.select_one("#map-points").find_all(["line", "circle", "text"]):
        if node.name == "line":
            leader = (float(node["x2"]), float(node["y2"]))
        elif node.name == "circle":
            dot = (float(node["cx"]), float(node["cy"]))
        else:
            found.append(
                canada.Marker(
                    "", node.get_text(), *dot, float(node["x"]), float(node["y"]),
                    str(node["text-anchor"]), leader,
                )
            )  # fmt: skip
            leader = None
    return found


#: Runs workbench.js's projection and label placement (not the rest of the script) under Node.
NODE_HARNESS = """
const src = require("fs").readFileSync(process.argv[1], "utf8");
const input = JSON.parse(process.argv[2]);
const cut = (a, b) => src.slice(src.indexOf(a), src.indexOf(b));
const api = new Function("config", "mapBox",
  cut("  function project(lon, lat)", "  function coordinateColumns") +
  cut("  // Label placement", "  function svgElement") +
  "return { project: project, placeLabels: placeLabels, round1: round1 };")(
  { map: input.map },
  { querySelector: () => ({ viewBox: { baseVal: { width: 1000, height: input.height } } }) });
const dots = input.points.map(([label, lat, lon]) => {
  const p = api.project(lon, lat);
  return { x: api.round1(p[0]), y: api.round1(p[1]), label: label };
});
console.log(JSON.stringify(api.placeLabels(dots)));
"""


def test_results_map_labels_are_clear_on_server_and_in_the_script(client: httpx.Client) -> None:
    """The nine cities on the results map: the server's labels (for pages without JavaScript)
    stay inside the viewBox, off the dots and each other; workbench.js places them the same."""
    page = get_page(client)
    example = (ROOT / "queries" / "city-coordinates.rq").read_text(encoding="utf-8")
    result = soup_of(submit(client, page, example))
    svg = result.select_one("#map svg")
    height = float(str(svg["viewbox"]).split()[3])  # html.parser lowercases names
    drawn = drawn_markers(svg)
    assert len(drawn) == 9
    assert canada.collisions(drawn, height) == []
    node = shutil.which("node")
    if node is None:
        pytest.skip("no Node.js to run workbench.js's placement")
    config = json.loads(page.find(id="workbench-config").get_text())
    # What the script gets after a run: the JSON results.
    response = client.get("/sparql", params={"query": example}, headers={"Accept": JSON})
    points = [
        [row["cityLabel"]["value"], float(row["lat"]["value"]), float(row["long"]["value"])]
        for row in response.json()["results"]["bindings"]
    ]
    script = ROOT / "src" / "hrgraph" / "static" / "workbench.js"
    argument = json.dumps({"map": config["map"], "height": height, "points": points})
    output = subprocess.run(
        [node, "-e", NODE_HARNESS, str(script), argument],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    placed = [
        canada.Marker(
            "", m["label"], m["x"], m["y"], m["labelX"], m["labelY"], m["anchor"],
            tuple(m["leader"]) if m["leader"] else None,
        )
        for m in json.loads(output)
    ]  # fmt: skip
    assert placed == drawn


def test_ask_and_construct_from_the_form(client: httpx.Client) -> None:
    page = get_page(client)
    ask = soup_of(submit(client, page, "ASK { ?s a hr:City }"))
    assert "true" in ask.find(class_="wb-boolean").get_text()
    graph = soup_of(submit(client, page, "CONSTRUCT WHERE { city:whitehorse a ?t }"))
    assert "ontology#City" in graph.find(class_="wb-graph").get_text()


def test_form_error_shows_line_and_column(client: httpx.Client) -> None:
    response = submit(client, get_page(client), "SELECT * WHERE {\n  ?s ?p \n}")
    assert response.status_code == 400
    page = soup_of(response)
    error = page.find(id="error")
    assert not error.has_attr("hidden")
    assert "line 3, column" in error.find(class_="wb-position").get_text()
    assert page.find(id="results")["data-state"] == "error"
    assert "?s ?p" in page.find("textarea", id="query").get_text()


def test_form_shows_the_limit_that_applied(client: httpx.Client) -> None:
    deep = "SELECT * WHERE " + "{" * 150 + "}" * 150
    page = soup_of(submit(client, get_page(client), deep))
    assert "max_nesting" in page.find(id="error").get_text()


def test_machine_clients_get_protocol_answers(client: httpx.Client) -> None:
    description = client.get("/sparql")
    assert description.headers["content-type"].startswith("text/turtle")
    query = {"query": "SELECT ?s WHERE { ?s a hr:City } LIMIT 1"}
    for accept in (None, "*/*", JSON, "application/json"):
        headers = {"Accept": accept} if accept else {}
        answer = client.get("/sparql", params=query, headers=headers)
        assert answer.headers["content-type"].startswith(JSON), accept
    csv = client.get("/sparql", params={**query, "format": "csv"}, headers={"Accept": BROWSER})
    assert csv.headers["content-type"].startswith("text/csv")


def test_workbench_varies_on_accept(client: httpx.Client) -> None:
    response = client.get("/sparql", headers={"Accept": BROWSER})
    assert "Accept" in response.headers["vary"]


def test_labels_endpoint(client: httpx.Client) -> None:
    iris = ["https://w3id.org/hrgraph/id/city/quebec", "https://example.org/elsewhere"]
    english = client.post("/sparql/labels", json={"iris": iris, "lang": "en"}).json()
    french = client.post("/sparql/labels", json={"iris": iris, "lang": "fr"}).json()
    assert english["labels"] == {iris[0]: "Québec City"}
    assert french["labels"] == {iris[0]: "Québec"}
    bad = client.post("/sparql/labels", content=b"nope", headers={"Accept": "application/json"})
    assert bad.status_code == 400
    sneaky = client.post("/sparql/labels", json={"iris": ["https://w3id.org/hrgraph/x> } ?s"]})
    assert sneaky.json()["labels"] == {}


# --- scripts/fetch_assets.py -----------------------------------------------------------------


def fetcher() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_assets", ROOT / "scripts/fetch_assets.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def lock_entry(url: str, sri: str) -> dict[str, object]:
    return {
        "name": "codemirror",
        "version": "5.0.0",
        "tarball": url,
        "integrity": sri,
        "target": "vendor/codemirror",
        "files": ["lib/codemirror.js", "mode/sparql/sparql.js"],
    }


FILES = {"lib/codemirror.js": b"// cm", "mode/sparql/sparql.js": b"// sparql", "other.js": b"x"}


def test_fetch_assets_installs_verified_files(tmp_path: Path) -> None:
    data = tarball(FILES)
    (tmp_path / "cm.tgz").write_bytes(data)
    module = fetcher()
    module.install(lock_entry((tmp_path / "cm.tgz").as_uri(), integrity(data)), tmp_path)
    target = tmp_path / "vendor/codemirror"
    assert (target / "mode/sparql/sparql.js").read_bytes() == b"// sparql"
    assert not (target / "other.js").exists()  # only the listed files


def test_fetch_assets_refuses_a_tampered_tarball(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    genuine = tarball(FILES)
    tampered = tarball({**FILES, "lib/codemirror.js": b"alert('owned')"})
    (tmp_path / "cm.tgz").write_bytes(tampered)
    lock = tmp_path / "assets.lock"
    entry = lock_entry((tmp_path / "cm.tgz").as_uri(), integrity(genuine))
    lock.write_text(json.dumps({"packages": [entry]}))
    module = fetcher()
    assert module.main(["--lock", str(lock), "--root", str(tmp_path)]) == 1
    assert "does not match the lock file's hash" in capsys.readouterr().err
    assert not (tmp_path / "vendor").exists()  # nothing extracted


def test_fetch_assets_refuses_plain_http_and_missing_files(tmp_path: Path) -> None:
    module = fetcher()
    with pytest.raises(module.AssetError, match="only https"):
        module.download("http://registry.npmjs.org/codemirror/-/codemirror-5.0.0.tgz")
    data = tarball({"lib/codemirror.js": b"x"})
    (tmp_path / "cm.tgz").write_bytes(data)
    with pytest.raises(module.AssetError, match="not a file in the tarball"):
        module.install(lock_entry((tmp_path / "cm.tgz").as_uri(), integrity(data)), tmp_path)


def test_the_lock_pins_codemirror_5_from_npm() -> None:
    lock = json.loads((ROOT / "web/assets.lock").read_text())
    (entry,) = lock["packages"]
    assert entry["name"] == "codemirror" and entry["version"].startswith("5.65.")
    assert entry["tarball"] == (
        f"https://registry.npmjs.org/codemirror/-/codemirror-{entry['version']}.tgz"
    )
    assert entry["integrity"].startswith("sha512-")
    assert {"mode/sparql/sparql.js", "addon/hint/show-hint.js"} <= set(entry["files"])


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_workbench_lists_every_predeclared_prefix(
    client: httpx.Client, served_settings: Settings, lang: str
) -> None:
    """Every prefix the gate predeclares for the release, with its namespace (issue 10)."""
    page = BeautifulSoup(
        client.get("/sparql", params={"lang": lang}, headers={"Accept": "text/html"}).text,
        "html.parser",
    )
    rows = page.select("#prefixes tbody tr")
    listed = {r.select("code")[0].text.rstrip(":"): r.select("code")[1].text for r in rows}
    assert listed == prefixes_for(served_settings.base_iri)
    summary = page.select_one("#prefixes summary").text
    assert str(len(listed)) in summary
    assert ("Préfixes" in summary) == (lang == "fr")


# --- issue 11, item 9: the results as people read them ---------------------------------------


def run_form(client: httpx.Client, query: str, lang: str = "en") -> BeautifulSoup:
    page = get_page(client, lang=lang)
    response = submit(client, page, query)
    assert response.status_code == 200, response.text[:300]
    return soup_of(response)


def column_cells(page: BeautifulSoup, column: str) -> list[Tag]:
    headers = [th.get_text() for th in page.select("#results thead th")]
    return [row.find_all("td")[headers.index(column)] for row in page.select("#results tbody tr")]


def test_scroll_areas_are_focusable_and_named(client: httpx.Client) -> None:
    example = (ROOT / "queries" / "city-coordinates.rq").read_text(encoding="utf-8")
    page = run_form(client, example)
    areas = page.select(".wb-table")
    assert len(areas) == 2  # the prefixes and the results
    names = [area.get("aria-label") for area in areas]
    assert all(area.get("tabindex") == "0" and area.get("role") == "region" for area in areas)
    assert all(names) and len(set(names)) == len(names)
    assert page.select_one("#results .wb-table table tbody tr")


def test_a_single_language_column_shows_no_tags(client: httpx.Client) -> None:
    page = run_form(
        client,
        "SELECT ?city ?name ?lat WHERE { ?city a hr:City ; rdfs:label ?name ; geo:lat ?lat "
        'FILTER(LANG(?name) = "en") }',
        "fr",
    )
    names = column_cells(page, "name")
    assert len(names) == 9
    assert not any(cell.find(class_="note") for cell in names)  # no "@en" on every cell
    assert all(cell["lang"] == "en" for cell in names)  # English on a French page: marked
    latitudes = column_cells(page, "lat")
    assert all(
        cell.get("title") == "xsd:decimal" and not cell.find(class_="note") for cell in latitudes
    )


def test_a_column_that_mixes_languages_shows_its_tags(client: httpx.Client) -> None:
    page = run_form(
        client, "SELECT ?name WHERE { city:quebec rdfs:label ?name } ORDER BY LANG(?name)"
    )
    notes = [cell.find(class_="note").get_text() for cell in column_cells(page, "name")]
    assert notes == ["@en", "@fr"]
    french = column_cells(page, "name")[1]
    assert french["lang"] == "fr"


def test_other_datatypes_say_what_they_are(client: httpx.Client) -> None:
    page = run_form(
        client,
        'SELECT ?n ?d ?s WHERE { VALUES (?n ?d ?s) { (42 "P1D"^^xsd:duration "text") } }',
    )
    (number,), (duration,), (text,) = (column_cells(page, c) for c in ("n", "d", "s"))
    assert number.get_text() == "42" and number["title"] == "xsd:integer"
    assert duration.find(class_="note").get_text() == "xsd:duration"
    assert text.get_text() == "text" and not text.get("title")


@pytest.mark.parametrize(
    ("lang", "one", "two"), [("en", "1 row", "2 rows"), ("fr", "1\u00a0ligne", "2\u00a0lignes")]
)
def test_row_counts_in_both_languages(client: httpx.Client, lang: str, one: str, two: str) -> None:
    for limit, expected in ((1, one), (2, two)):
        page = run_form(client, f"SELECT ?c WHERE {{ ?c a hr:City }} LIMIT {limit}", lang)
        assert page.select_one(".wb-count").get_text() == expected


def test_map_points_are_links_with_names(client: httpx.Client) -> None:
    example = (ROOT / "queries" / "city-coordinates.rq").read_text(encoding="utf-8")
    page = run_form(client, example)
    links = page.select("#map-links a.wb-point-link")
    expected = {row["cityLabel"] for row in csv_of(client, example)}
    assert {a.get_text(strip=True) for a in links} == expected and len(links) == 9
    assert all(a["href"].startswith("/id/city/") for a in links)
    assert all(re.fullmatch(r"left: [\d.]+%; top: [\d.]+%", a["style"]) for a in links)
    # without an IRI of ours in its row, a point leads to its row in the table
    bare = run_form(
        client, "SELECT ?lat ?long WHERE { city:halifax geo:lat ?lat ; geo:long ?long }"
    )
    (point,) = bare.select("#map-links a.wb-point-link")
    assert point["href"] == "#result-row-1" and bare.find("tr", id="result-row-1")


def csv_of(client: httpx.Client, query: str) -> list[dict[str, str]]:
    import csv

    response = client.get("/sparql", params={"query": query, "format": "csv"})
    return list(csv.DictReader(io.StringIO(response.text)))


def test_the_share_link_is_the_query_in_the_editor_after_an_error(client: httpx.Client) -> None:
    bad = "SELECT * WHERE {\n  ?s ?p \n}"
    response = submit(client, get_page(client, lang="fr"), bad)
    assert response.status_code == 400
    share = soup_of(response).find("a", id="share")
    assert not share.has_attr("hidden")
    assert parse_qs(urlsplit(share["href"]).query)["query"] == [bad]
    assert parse_qs(urlsplit(share["href"]).query)["lang"] == ["fr"]


def test_every_search_landmark_is_named(client: httpx.Client) -> None:
    for lang in ("en", "fr"):
        page = get_page(client, lang=lang)
        names = [form.get("aria-label") for form in page.select("[role=search]")]
        assert names and all(names) and len(set(names)) == len(names)


def test_the_gallery_links_to_the_pages_of_the_queries(client: httpx.Client) -> None:
    page = get_page(client, lang="fr")
    for entry in page.select("#gallery .wb-example"):
        link = entry.find("a", class_="wb-canned")
        assert link["href"] == f"/queries/{entry['data-name']}?lang=fr"
        assert link.get_text() == "Page de cette requête"
