"""The SPARQL endpoint of `kb serve`: protocol, negotiation, read-only, limits, CORS, page, health."""

from __future__ import annotations

import csv
import io
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from bench.synth import generate
from kb.cli import main
from kb.project import Project
from kb.query import named_queries, run_query
from kb.serve import RunningServer, ServeConfig, create_server
from kb.store import build

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s a cq:Measure }"
PATHOLOGICAL = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = generate(tmp_path_factory.mktemp("serve") / "kb", measures=40, per_file=20)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_STATE_DIR", str(root / ".kb"))
        build(Project(root))
    return root / ".kb" / "store"


def _start(store_path: Path, **limits: float) -> RunningServer:
    config = ServeConfig(store_path, workers=1, threads=4, **limits)  # type: ignore[arg-type]
    return create_server(config, port=0).start_in_thread()


@pytest.fixture(scope="module")
def server(store_path: Path) -> Iterator[RunningServer]:
    running = _start(store_path)
    yield running
    running.close()


def fetch(url: str, method: str = "GET", data: bytes | None = None, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def sparql(server: RunningServer, query: str, **params: str) -> str:
    return server.url + "sparql?" + urllib.parse.urlencode({"query": query, **params})


def local_count(store_path: Path) -> str:
    return run_query(ox.Store.read_only(str(store_path)), COUNT).rows[0][0].value  # type: ignore[union-attr]


def test_get_and_post_give_the_same_answer(server: RunningServer, store_path: Path) -> None:
    expected = local_count(store_path)
    answers = [
        fetch(sparql(server, COUNT)),
        fetch(
            server.url + "sparql",
            "POST",
            urllib.parse.urlencode({"query": COUNT}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),
        fetch(server.url + "sparql", "POST", COUNT.encode(), {"Content-Type": "application/sparql-query"}),
    ]
    for status, headers, body in answers:
        assert status == 200, body
        assert headers["Content-Type"].startswith("application/sparql-results+json")
        assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == expected == "40"


@pytest.mark.parametrize(
    ("accept", "fmt", "content_type"),
    [
        ("application/sparql-results+xml", None, "application/sparql-results+xml"),
        ("text/csv", None, "text/csv"),
        ("text/tab-separated-values", None, "text/tab-separated-values"),
        ("text/csv;q=0.5, application/sparql-results+xml", None, "application/sparql-results+xml"),
        ("application/sparql-results+xml", "csv", "text/csv"),
    ],
)
def test_select_negotiation(server: RunningServer, accept: str, fmt: str | None, content_type: str) -> None:
    status, headers, body = fetch(sparql(server, COUNT, **({"format": fmt} if fmt else {})), headers={"Accept": accept})
    assert status == 200, body
    assert headers["Content-Type"].startswith(content_type)
    text = body.decode()
    if "xml" in content_type:
        literal = ET.fromstring(text).find(".//{http://www.w3.org/2005/sparql-results#}literal")
        assert literal is not None and literal.text == "40"
    elif content_type == "text/csv":
        assert list(csv.reader(io.StringIO(text))) == [["n"], ["40"]]
    else:
        # TSV may write an integer in its short Turtle form
        assert text.splitlines()[:2] in (["?n", "40"], ["?n", '"40"^^<http://www.w3.org/2001/XMLSchema#integer>'])


@pytest.mark.parametrize(
    ("accept", "fmt", "rdf_format"),
    [
        ("text/turtle", None, ox.RdfFormat.TURTLE),
        ("application/n-triples", None, ox.RdfFormat.N_TRIPLES),
        ("application/ld+json", None, ox.RdfFormat.JSON_LD),
        ("text/turtle", "jsonld", ox.RdfFormat.JSON_LD),
    ],
)
def test_construct_negotiation(
    server: RunningServer, store_path: Path, accept: str, fmt: str | None, rdf_format: ox.RdfFormat
) -> None:
    import rdflib
    from rdflib.compare import isomorphic

    query = "CONSTRUCT { ?m rdfs:label ?l } WHERE { ?m a cq:Measure ; rdfs:label ?l }"
    status, headers, body = fetch(sparql(server, query, **({"format": fmt} if fmt else {})), headers={"Accept": accept})
    assert status == 200, body
    assert headers["Content-Type"].startswith(rdf_format.media_type)
    got = rdflib.Graph().parse(
        data=ox.serialize(ox.parse(body, format=rdf_format), format=ox.RdfFormat.N_TRIPLES), format="nt"
    )
    local = run_query(ox.Store.read_only(str(store_path)), query)
    expected = rdflib.Graph().parse(data=ox.serialize(local.triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    assert len(got) == 80
    assert isomorphic(got, expected)


def test_ask(server: RunningServer) -> None:
    status, _, body = fetch(sparql(server, "ASK { ?m a cq:Measure }"))
    assert status == 200, body
    assert json.loads(body)["boolean"] is True


@pytest.mark.parametrize(
    ("method", "url_suffix", "data", "headers", "status"),
    [
        (
            "POST",
            "sparql",
            b"INSERT DATA { <http://a> <http://b> <http://c> }",
            {"Content-Type": "application/sparql-update"},
            403,
        ),
        (
            "POST",
            "sparql",
            b"update=INSERT+DATA+%7B%3Chttp%3A%2F%2Fa%3E+%3Chttp%3A%2F%2Fb%3E+%3Chttp%3A%2F%2Fc%3E%7D",
            {"Content-Type": "application/x-www-form-urlencoded"},
            403,
        ),
        (
            "GET",
            "sparql?" + urllib.parse.urlencode({"query": "INSERT DATA { <http://a> <http://b> <http://c> }"}),
            None,
            {},
            400,
        ),
        ("GET", "sparql?" + urllib.parse.urlencode({"query": "SELECT WHERE {"}), None, {}, 400),
        ("GET", "sparql", None, {}, 400),
        ("GET", "sparql?" + urllib.parse.urlencode({"query": COUNT}), None, {"Accept": "image/png"}, 406),
        ("POST", "sparql", b"<q/>", {"Content-Type": "application/xml"}, 415),
        ("DELETE", "sparql", None, {}, 405),
        ("GET", "nowhere", None, {}, 404),
    ],
)
def test_refusals(
    server: RunningServer,
    store_path: Path,
    method: str,
    url_suffix: str,
    data: bytes | None,
    headers: dict[str, str],
    status: int,
) -> None:
    got, response_headers, body = fetch(server.url + url_suffix, method, data, headers)
    assert got == status, body
    assert response_headers["Access-Control-Allow-Origin"] == "*"
    assert local_count(store_path) == "40"


def test_cors_preflight(server: RunningServer) -> None:
    status, headers, _ = fetch(
        server.url + "sparql",
        "OPTIONS",
        headers={"Origin": "http://example.org", "Access-Control-Request-Method": "POST"},
    )
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in headers["Access-Control-Allow-Methods"]


def test_health(server: RunningServer, store_path: Path) -> None:
    status, _, body = fetch(server.url + "health")
    assert status == 200
    data = json.loads(body)
    assert data["status"] == "ok"
    assert data["triples"] == len(ox.Store.read_only(str(store_path)))


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.options: list[str] = []
        self.external: list[str] = []
        self.forms = 0
        self.in_examples = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "option" and values.get("value") and self.in_examples:
            self.options.append(values["value"] or "")
        if tag == "form":
            self.forms += 1
        if tag == "select":
            self.in_examples = values.get("id") == "examples"
        for key in ("src", "href"):
            if (values.get(key) or "").startswith(("http:", "https:", "//")):
                self.external.append(values[key] or "")


def test_query_page_is_self_contained(server: RunningServer) -> None:
    status, headers, body = fetch(server.url)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    parser = _PageParser()
    parser.feed(body.decode())
    assert parser.forms == 1
    assert parser.external == []
    assert set(parser.options) == set(named_queries())


def test_time_limit_stops_a_query_and_the_server_answers_on(store_path: Path) -> None:
    running = _start(store_path, timeout=1.0)
    try:
        status, _, body = fetch(sparql(running, PATHOLOGICAL))
        assert status == 503, body
        assert b"time limit" in body
        status, _, body = fetch(sparql(running, COUNT))
        assert status == 200, body
        assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == "40"
    finally:
        running.close()


def test_result_size_limit(store_path: Path) -> None:
    running = _start(store_path, max_result_bytes=2000)
    try:
        status, _, body = fetch(sparql(running, "SELECT * WHERE { ?s ?p ?o }"))
        assert status == 422, body
        assert b"larger than the limit" in body
        status, _, body = fetch(sparql(running, COUNT))
        assert status == 200, body
    finally:
        running.close()


def test_serve_command_on_a_busy_port(mini_project: Project, runner: CliRunner) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(main, ["--root", str(mini_project.root), "serve", "--port", str(port), "--workers", "1"])
    assert result.exit_code == 2, result.output
    assert "cannot listen on" in result.output
    assert "Traceback" not in result.output


def test_serve_help_names_every_option(runner: CliRunner) -> None:
    result = runner.invoke(main, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--host", "--port", "--timeout", "--max-result-mb", "--workers", "--threads"):
        assert option in result.output
