"""Dereferenceable IRIs: `kb serve` answers /id/… by content negotiation over HTTP on 127.0.0.1 (303 to the page,
Turtle or JSON-LD), and `kb site` writes the same pages, checked in headless Chromium (content, links, axe-core,
no network request)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from playwright.sync_api import Page, Route
from samples import SAMPLE_TTL, axe_core, copy_knowledge_base

from kb.cli import main
from kb.release.revision import Checkout
from kb.serve import RunningServer, ServeConfig, create_server
from kb.store import open_store, store_link

CHROMIUM = Path("/usr/bin/chromium")
MEASURE = "/id/measure/t-daily-testing"


# the URLs each open page requested (the page fixture records them through its route)
_REQUESTS: dict[int, list[str]] = {}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Checkout:
    """A copy of the shared facts with the timeline samples; its build folder inside it."""
    project = Checkout(copy_knowledge_base(tmp_path_factory.mktemp("res") / "kb", {"article-900.ttl": SAMPLE_TTL}))
    open_store(project)
    return project


@pytest.fixture(scope="module")
def server(project: Checkout) -> Iterator[RunningServer]:
    config = ServeConfig(store_link(project), workers=1, threads=4, sources_dir=project.sources_dir)
    running = create_server(config, port=0).start_in_thread()
    yield running
    running.close()


def _get(server: RunningServer, path: str, accept: str | None = None, method: str = "GET") -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request(method, path, headers={"Accept": accept} if accept else {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), body


@pytest.mark.parametrize(
    ("accept", "document"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", ".html"),  # a browser
        ("text/turtle", ".ttl"),
        ("application/ld+json", ".jsonld"),
        ("application/json;q=0.5, text/turtle;q=0.9", ".ttl"),
        (None, ".html"),
    ],
)
def test_the_iri_redirects_to_the_document_the_client_accepts(
    server: RunningServer, accept: str, document: str
) -> None:
    status, headers, _ = _get(server, MEASURE, accept)
    assert status == 303
    assert headers["Location"] == MEASURE + document
    assert headers["Vary"] == "Accept"


def test_the_documents_hold_the_same_description(server: RunningServer) -> None:
    status, headers, turtle = _get(server, MEASURE + ".ttl")
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    status, headers, jsonld = _get(server, MEASURE + ".jsonld")
    assert status == 200 and headers["Content-Type"] == "application/ld+json"
    from rdflib import Graph
    from rdflib.compare import isomorphic

    from_turtle = Graph().parse(data=turtle.decode("utf-8"), format="turtle")
    from_jsonld = Graph().parse(data=jsonld.decode("utf-8"), format="json-ld")
    assert isomorphic(from_turtle, from_jsonld)
    triples = list(ox.parse(turtle, format=ox.RdfFormat.TURTLE))
    labels = {t.object.value for t in triples if t.predicate.value.endswith("#label")}
    assert labels == {"中心城区各区实行一天一次的区域核酸检测", "one area PCR test a day in the central districts"}
    assert any(t.predicate.value.endswith("#quantityKind") for t in triples)  # the parameter's blank node too
    assert any(t.predicate.value.endswith("#effectiveUntil") for t in triples)  # and the derived period


def test_the_page_answers_in_html(server: RunningServer) -> None:
    status, headers, body = _get(server, MEASURE + ".html")
    page = body.decode("utf-8")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<mark>中心城区各区将实行一天一次的区域核酸检测</mark>" in page
    assert 'href="/id/announcement/t-press-136"' in page and 'href="/id/measure/t-daily-testing.ttl"' in page


@pytest.mark.parametrize(
    ("path", "accept", "method", "status"),
    [
        ("/id/measure/no-such-measure", None, "GET", 404),
        ("/id/measure/no-such-measure.ttl", None, "GET", 404),
        ("/id/measure/../place/shapingba", None, "GET", 404),
        ("/idx", None, "GET", 404),
        (MEASURE, "image/png", "GET", 406),
        (MEASURE, None, "POST", 405),
    ],
)
def test_what_is_not_there_or_not_allowed(
    server: RunningServer, path: str, accept: str | None, method: str, status: int
) -> None:
    assert _get(server, path, accept, method)[0] == status


def test_the_index_lists_every_thing_and_the_endpoint_still_answers(server: RunningServer) -> None:
    status, _, body = _get(server, "/id/")
    assert status == 200 and 'href="/id/measure/t-daily-testing"' in body.decode("utf-8")
    status, _, body = _get(server, "/sparql?query=ASK%7B%7D", "application/sparql-results+json")
    assert status == 200 and json.loads(body)["boolean"] is True


# ---------------------------------------------------------------- the static site in a real browser


@pytest.fixture(scope="module")
def site(project: Checkout, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site") / "site"
    result = CliRunner().invoke(main, ["--root", str(project.root), "site", "-o", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def page(site: Path) -> Iterator[Page]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` to install Chromium for the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        context = browser.new_context()
        requests: list[str] = []

        def route(request: Route) -> None:
            requests.append(request.request.url)
            if request.request.url.startswith("file://"):
                request.continue_()
            else:
                request.abort()

        context.route("**/*", route)
        opened = context.new_page()
        _REQUESTS[id(opened)] = requests
        yield opened
        browser.close()


AXE_RUN = (
    "async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(v => v.id + ': ' + v.help)"
)


def test_the_static_page_shows_the_thing_and_links_to_the_next(site: Path, page: Page) -> None:
    page.goto((site / "id" / "measure" / "t-daily-testing.html").as_uri())
    assert page.inner_text("h1").startswith("one area PCR test a day in the central districts")
    assert page.inner_text("blockquote mark") == "中心城区各区将实行一天一次的区域核酸检测"
    assert "2022-11-09" in page.inner_text("main") and "date of the reporting event" in page.inner_text("main")
    assert page.inner_text("#status ~ dl").count("2022-11-") >= 2  # the status by day, derived
    page.click("text=136th press conference")
    assert page.url.endswith("/id/announcement/t-press-136.html")
    assert "136th press conference" in page.inner_text("h1")
    page.click("text=Turtle")
    assert page.url.endswith("/id/announcement/t-press-136.ttl")


@pytest.mark.parametrize("path", ["id/measure/t-daily-testing.html", "id/place/shapingba.html", "index.html"])
def test_axe_finds_no_violations_and_nothing_is_fetched(site: Path, page: Page, path: str) -> None:
    _REQUESTS[id(page)].clear()
    page.goto((site / path).as_uri())
    page.add_script_tag(path=str(axe_core()))
    assert page.evaluate(AXE_RUN) == []
    assert [url for url in _REQUESTS[id(page)] if not url.startswith("file://")] == []


def test_the_site_is_replaced_only_where_it_was_written_by_kb_site(
    site: Path, project: Checkout, tmp_path: Path
) -> None:
    again = CliRunner().invoke(main, ["--root", str(project.root), "site", "-o", str(site)])
    assert again.exit_code == 0, again.output
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep", "utf-8")
    refused = CliRunner().invoke(main, ["--root", str(project.root), "site", "-o", str(tmp_path / "mine")])
    assert refused.exit_code == 2 and "was not written by kb site" in refused.output
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]
