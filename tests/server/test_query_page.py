"""The query page of `kb serve` (issue 15): the questions with a field per parameter, refusals of missing
parameters and unknown names (HTTP 400), compact names in results, downloads, a phone screen, no other host.

The browser tests drive Debian's /usr/bin/chromium through Playwright at 1440×900 and 390×844 and save a
screenshot of each under test-artifacts/. They run on the real knowledge base, so the questions' own
examples answer.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from samples import ROOT, chromium

from kb.project import Project
from kb.query import named_queries
from kb.serve import RunningServer, ServeConfig, create_server
from kb.store import open_store, store_link

STATIC = ROOT / "kb" / "serve" / "static"
ARTIFACTS = ROOT / "test-artifacts"
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def server(project: Project) -> Iterator[RunningServer]:
    open_store(project)  # builds the real knowledge base into the test state folder
    running = create_server(ServeConfig(store_link(project), workers=1, threads=4), port=0).start_in_thread()
    yield running
    running.close()


def post(server: RunningServer, fields: list[tuple[str, str]]) -> tuple[int, str]:
    request = urllib.request.Request(
        server.url + "sparql",
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


# ---------------------------------------------------------------- the protocol: names, bindings, refusals


def test_a_question_run_by_name_without_its_parameter_is_refused(server: RunningServer) -> None:
    status, body = post(server, [("name", "measure-history")])
    assert status == 400
    assert "query 'measure-history' needs the parameter measure" in body
    assert "$measure=measure:central-daily-area-testing" in body


def test_a_question_text_without_its_parameter_is_refused(server: RunningServer) -> None:
    # The 774-row answer of issue 15: the text of a question sent unbound. Its header declares ?day and ?place.
    status, body = post(server, [("query", named_queries()["measures-in-force-on-day"].text)])
    assert status == 400
    assert "needs the parameters day" in body and "place" in body
    assert "$day=2022-11-20 $place=place:shapingba" in body


def test_a_question_with_its_parameters_answers(server: RunningServer) -> None:
    fields = [("$day", "2022-11-20"), ("$place", "place:shapingba")]
    status, body = post(server, [("name", "measures-in-force-on-day"), *fields, ("$include_unknown", "")])
    assert status == 200, body
    rows = json.loads(body)["results"]["bindings"]
    assert rows and {row["status"]["value"] for row in rows} <= {"in force", "presumed in force"}
    as_text = post(server, [("query", named_queries()["measures-in-force-on-day"].text), *fields])
    assert as_text[0] == 200 and len(json.loads(as_text[1])["results"]["bindings"]) == len(rows)


def test_bindings_apply_to_any_text(server: RunningServer) -> None:
    query = "SELECT ?label WHERE { ?place rdfs:label ?label FILTER(LANG(?label) = 'en') }"
    status, body = post(server, [("query", query), ("$place", "place:beibei"), ("format", "csv")])
    assert status == 200, body
    assert list(csv.reader(io.StringIO(body))) == [["label"], ["Beibei District"]]


def test_a_value_is_bound_as_one_term_never_as_sparql(server: RunningServer) -> None:
    hostile = 'x" } UNION { ?measure ?p ?o } # '
    status, body = post(server, [("name", "search"), ("$text", hostile)])
    assert status == 200, body
    assert json.loads(body)["results"]["bindings"] == []
    status, body = post(server, [("name", "search"), ("$text", "核酸")])
    assert status == 200 and json.loads(body)["results"]["bindings"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            [("name", "measure-history"), ("$measure", "measure:central-daily-area-testin")],
            ["no such measure measure:central-daily-area-testin", "did you mean measure:central-daily-area-testing"],
        ),
        (
            [("name", "measures-in-place"), ("$place", "place:shapingb")],
            ["no such place place:shapingb", "did you mean place:shapingba"],
        ),
        ([("name", "measure-histroy")], ["there is no question named 'measure-histroy'", "measure-history"]),
        ([("name", "timeline-measures")], ["there is no question named 'timeline-measures'"]),  # no feed
        ([("name", "measure-history"), ("$nosuch", "1")], ["has no parameter 'nosuch'", "it takes: measure"]),
        ([("name", "measures"), ("query", "ASK {}")], ["give one query"]),
        ([("name", "measure-dates"), ("$measure", "<not an iri>")], ["is not a valid IRI"]),
        (
            [("name", "measures-in-force-on-day"), ("$place", "place:shapingba"), ("$day", '2022-11-20"} ; DROP')],
            ["parameter day is given '2022-11-20\"} ; DROP', which is not a calendar date", "$day=2022-11-20"],
        ),
        (
            [
                ("query", named_queries()["measures-in-force-on-day"].text),
                ("$place", "shapingba"),
                ("$day", "2022-11-20"),
            ],
            ["parameter place is given 'shapingba', which is not a name written prefix:name", "$place=place:shapingba"],
        ),
    ],
)
def test_refusals_name_the_problem(server: RunningServer, fields: list[tuple[str, str]], expected: list[str]) -> None:
    status, body = post(server, fields)
    assert status == 400, body
    for text in expected:
        assert text in body


# ---------------------------------------------------------------- the page as served


def test_the_page_offers_the_questions_only_each_with_its_parameters(server: RunningServer) -> None:
    with urllib.request.urlopen(server.url, timeout=30) as response:
        page = response.read().decode()
    questions = named_queries()
    options = re.findall(r'<option value="([^"]+)" title=', page)
    assert options == list(questions)
    block = re.search(r'<script id="param-fields" type="application/json">(.*?)</script>', page, re.DOTALL)
    assert block is not None
    fields = json.loads(block.group(1))
    assert fields["measure-history"] == [
        {
            "name": "measure",
            "description": "the measure, e.g. measure:central-daily-area-testing",
            "required": True,
            "example": "measure:central-daily-area-testing",
        }
    ]
    assert all(len(fields[name]) == len(query.params) for name, query in questions.items())
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", page)


def _vendored_mismatches(folder: Path) -> list[str]:
    """Files under `folder` whose SHA-256 is not the one its README lists, and listed files that are missing."""
    listed = dict(re.findall(r"^\| `([^`]+)` \| `([0-9a-f]{64})` \|$", (folder / "README.md").read_text("utf-8"), re.M))
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != "README.md"}
    wrong = [name for name in sorted(present) if name not in listed]
    for name, digest in listed.items():
        path = folder / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            wrong.append(name)
    return wrong


def test_the_vendored_editor_is_unchanged_and_licensed(tmp_path: Path) -> None:
    assert _vendored_mismatches(STATIC) == []
    assert "MIT License" in (STATIC / "codemirror-5.65.21" / "LICENSE").read_text("utf-8")
    # a planted edit is caught
    copy = tmp_path / "static"
    shutil.copytree(STATIC, copy)
    target = copy / "codemirror-5.65.21" / "sparql.js"
    target.write_bytes(target.read_bytes() + b"\n")
    assert _vendored_mismatches(copy) == ["codemirror-5.65.21/sparql.js"]


def test_the_editor_files_are_served_and_nothing_else(server: RunningServer) -> None:
    for name, kind in (("codemirror.js", "text/javascript"), ("codemirror.css", "text/css"), ("LICENSE", "text/plain")):
        with urllib.request.urlopen(f"{server.url}static/codemirror-5.65.21/{name}", timeout=30) as response:
            assert response.headers["Content-Type"].startswith(kind)
            assert response.read() == (STATIC / "codemirror-5.65.21" / name).read_bytes()
    for path in ("static/README.md", "static/codemirror-5.65.21/../README.md", "static/../app.py", "static/"):
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(server.url + path, timeout=30)
        assert caught.value.code == 404


# ---------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from chromium()


def _open(browser, server: RunningServer, size: str, requests: list[str], **options):
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True, **options)
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.goto(server.url)
    return context, page


def _run(page) -> None:
    page.click("button[type=submit]")
    page.wait_for_function("document.getElementById('status').textContent.match(/^\\d{3} /)")


def _no_horizontal_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate("document.body.scrollWidth") <= width


@pytest.mark.parametrize("size", SIZES)
def test_a_question_with_its_fields_refusals_and_results(browser, server: RunningServer, size: str) -> None:
    requests: list[str] = []
    context, page = _open(browser, server, size, requests)
    width = SIZES[size][0]
    # the editor highlights SPARQL
    assert page.locator(".CodeMirror .cm-keyword", has_text="SELECT").count() >= 1
    page.select_option("#examples", "measures-in-force-on-day")
    assert "Measures in force on day D in place P" in page.inner_text("#about")
    # a field per declared parameter: required ones hold their example, optional ones show it
    assert page.input_value("#param-day") == "2022-11-20"
    assert page.input_value("#param-place") == "place:shapingba"
    assert page.input_value("#param-include_unknown") == ""
    assert page.get_attribute("#param-include_unknown", "placeholder") == "e.g. true"
    assert page.locator("#fields label").all_inner_texts() == [
        "day required",
        "place required",
        "include_unknown optional",
    ]
    shown = page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()")
    assert shown == named_queries()["measures-in-force-on-day"].text
    _run(page)
    assert page.inner_text("#status").startswith("200 OK — ")
    assert page.locator("#downloads").is_visible()
    cells = page.locator("#out td").all_inner_texts()
    assert cells and "measure:central-daily-area-testing" in cells and "place:central-urban-districts" in cells
    assert not [c for c in cells if "https://w3id.org/cq-covid/" in c or "@en" in c]
    assert page.locator("#out td .lang", has_text="en").count() >= 1  # the language as a small tag
    _no_horizontal_scroll(page, width)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"query-page-{size}.png"), full_page=True)
    # a required parameter left empty: the server's refusal is shown, naming it and its example
    page.fill("#param-day", "")
    _run(page)
    assert page.inner_text("#status").startswith("400")
    refusal = page.inner_text("#out .error")
    assert "query 'measures-in-force-on-day' needs the parameter day" in refusal and "2022-11-20" in refusal
    assert page.locator("#out table").count() == 0 and page.locator("#downloads").is_hidden()
    # a mistyped name
    page.fill("#param-day", "2022-11-20")
    page.fill("#param-place", "place:shapingb")
    _run(page)
    assert "no such place place:shapingb" in page.inner_text("#out .error")
    assert "did you mean place:shapingba" in page.inner_text("#out .error")
    _no_horizontal_scroll(page, width)
    page.screenshot(path=str(ARTIFACTS / f"query-page-refusal-{size}.png"), full_page=True)
    context.close()
    # offline: every request went to the endpoint itself
    assert requests and [url for url in requests if not url.startswith(server.url)] == []


@pytest.mark.parametrize("size", SIZES)
def test_downloads_and_a_wide_result_on_the_page(browser, server: RunningServer, size: str) -> None:
    requests: list[str] = []
    context, page = _open(browser, server, size, requests)
    page.select_option("#examples", "measures")  # 19 columns, quotes in Chinese
    assert page.locator("#params").is_hidden()
    _run(page)
    rows = page.locator("#out tbody tr").count()
    assert rows > 200
    # IRIs the query joins into one text are shown with their prefixes too; the downloads keep them whole
    categories = page.locator("#out td[data-label=category]").all_inner_texts()
    assert "cat:gatherings | cat:movement" in categories
    assert not [c for c in page.locator("#out td").all_inner_texts() if "https://w3id.org/cq-covid/" in c]
    _no_horizontal_scroll(page, SIZES[size][0])
    with page.expect_download() as info:
        page.click("#download-csv")
    download = info.value
    assert download.suggested_filename == "measures.csv"
    table = list(csv.reader(io.StringIO(Path(download.path()).read_text("utf-8"))))
    assert table[0][:3] == ["measure", "label_zh", "label_en"] and len(table) == rows + 1
    assert table[1][0].startswith("https://w3id.org/cq-covid/id/measure/")  # downloads keep full IRIs
    with page.expect_download() as info:
        page.click("#download-json")
    data = json.loads(Path(info.value.path()).read_text("utf-8"))
    assert len(data["results"]["bindings"]) == rows
    context.close()
    assert [url for url in requests if not url.startswith(server.url)] == []


def test_without_javascript_the_form_still_posts_the_query_and_gets_the_result(browser, server: RunningServer) -> None:
    requests: list[str] = []
    context, page = _open(browser, server, "phone", requests, java_script_enabled=False)
    assert page.locator("textarea#query").is_visible()
    page.select_option("#format", "csv")
    with page.expect_download() as info:  # the browser saves a result it does not display
        page.click("button[type=submit]")
    table = list(csv.reader(io.StringIO(Path(info.value.path()).read_text("utf-8"))))
    assert table[0] == ["measure", "label"] and len(table) == 21
    context.close()
    assert [url for url in requests if not url.startswith(server.url)] == []
