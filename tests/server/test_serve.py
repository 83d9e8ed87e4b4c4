"""The SPARQL endpoint of `kb serve`: protocol, negotiation, read-only, limits, CORS, page, health, hardening."""

from __future__ import annotations

import csv
import http.server
import io
import json
import os
import platform
import queue
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from typing import TypedDict, Unpack

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from samples import ROOT, kb_imports

from bench.synth import generate
from kb.cli import main
from kb.project import Project
from kb.query import NamedQuery, named_queries, run_query
from kb.serve import MAX_QUERY_CHARS, RunningServer, ServeConfig, create_server, query_page, service_refusal
from kb.store import build

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s a cq:Measure }"
# Where the workers run under a seccomp filter that forbids network sockets.
SANDBOXED = sys.platform == "linux" and platform.machine() in ("x86_64", "aarch64")
PATHOLOGICAL = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = generate(tmp_path_factory.mktemp("serve") / "kb", measures=40, per_file=20)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_STATE_DIR", str(root / ".kb"))
        build(Project(root))
    return root / ".kb" / "store"


class Limits(TypedDict, total=False):
    """The fields of ServeConfig that tests change."""

    timeout: float
    max_result_bytes: int
    max_memory_bytes: int | None
    allow_service: bool


def _start(store_path: Path, **limits: Unpack[Limits]) -> RunningServer:
    config = ServeConfig(store_path, workers=1, threads=4, **limits)
    return create_server(config, port=0).start_in_thread()


@pytest.fixture(scope="module")
def server(store_path: Path) -> Iterator[RunningServer]:
    running = _start(store_path)
    yield running
    running.close()


def fetch(
    url: str,
    method: str = "GET",
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def sparql(server: RunningServer, query: str, **params: str) -> str:
    return server.url + "sparql?" + urllib.parse.urlencode({"query": query, **params})


def local_count(store_path: Path) -> str:
    count = run_query(ox.Store.read_only(str(store_path)), COUNT).rows[0][0]
    assert isinstance(count, ox.Literal)
    return count.value


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
    # CORS only on the query endpoint's GET/POST answers (refusals included, so a page can read why)
    query_answer = url_suffix.startswith("sparql") and method in ("GET", "POST")
    assert response_headers["Access-Control-Allow-Origin"] == ("*" if query_answer else None)
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
    assert data["service"] == "refused"
    assert data["worker_network"] == ("blocked" if SANDBOXED else "not blocked")


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


def test_query_page_escapes_names_descriptions_and_query_texts() -> None:
    name = 'x"><b>bold</b>'
    description = 'say "hi" <script>alert(1)</script>'
    hostile = NamedQuery(name, Path("x.rq"), description, (), "ASK {} # </script><script>alert(2)")
    page = query_page(ServeConfig(Path("/nowhere"), timeout=2.5, max_result_bytes=1234), [hostile]).decode()
    assert "<script>alert" not in page and "<b>" not in page
    assert "Limits: 2.5 s per query, 1234 bytes per result." in page
    parser = _PageParser()
    parser.feed(page)
    assert parser.options == [name]
    # The query texts sit in a JSON script block that no text can close.
    block = re.search(r'<script id="named" type="application/json">(.*?)</script>', page, re.DOTALL)
    assert block is not None
    assert json.loads(block.group(1)) == {name: hostile.text}


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
    for option in (
        "--host",
        "--port",
        "--timeout",
        "--max-result-mb",
        "--workers",
        "--threads",
        "--max-memory-mb",
        "--max-connections",
        "--allow-service",
    ):
        assert option in result.output


# ---------------------------------------------------------------- hardening: no outbound requests


def _post_query(server: RunningServer, query: str, timeout: float = 60) -> tuple[int, Message, bytes]:
    return fetch(
        server.url + "sparql", "POST", query.encode(), {"Content-Type": "application/sparql-query"}, timeout=timeout
    )


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A local port that tells whether anything connected to it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock


def _contacted(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0.2)
    return bool(readable)


SERVICE_QUERIES = {
    "iri": "SELECT * WHERE { SERVICE <{remote}> { ?s ?p ?o } }",
    "lowercase": "select * where { service <{remote}> { ?s ?p ?o } }",
    "silent-mixed-case": "SELECT * WHERE { SeRvIcE SILENT <{remote}> { ?s ?p ?o } }",
    "variable": "SELECT * WHERE { VALUES ?e { <{remote}> } SERVICE ?e { ?s ?p ?o } }",
    "unbound-variable": "SELECT * WHERE { SERVICE ?unbound { ?s ?p ?o } }",
    "in-subquery": "SELECT * WHERE { { SELECT ?s WHERE { OPTIONAL { SERVICE <{remote}> { ?s ?p ?o } } } } }",
    "ask-exists": "ASK { FILTER EXISTS { SERVICE <{remote}> { ?s ?p ?o } } }",
    "construct-minus": "CONSTRUCT { ?s ?p ?o } WHERE { {} UNION { MINUS { SERVICE <{remote}> { ?s ?p ?o } } } }",
    "comment-inside": "SELECT * WHERE { SERVICE # a comment\n <{remote}> { ?s ?p ?o } }",
    # `<2)SERVICE…#>` looks like an IRI to a naive tokenizer; SPARQL reads `<` and a comment
    "iri-lookalike": "SELECT * WHERE { VALUES ?v { <{remote}> } FILTER(1<2)SERVICE SILENT?v#>\n{ ?s ?p ?o } }",
    "prefixed-name": "PREFIX remote: <{remote}> SELECT * WHERE { SERVICE remote:sparql { ?s ?p ?o } }",
    # not parseable as SPARQL 1.1 (RDF-star) but mentions SERVICE: refused rather than guessed
    "unparsed": "SELECT * WHERE { SERVICE <{remote}> { <<?s ?p ?o>> ?q ?r } }",
}
ANSWERED_QUERIES = {
    "string": 'SELECT (COUNT(*) AS ?n) WHERE { ?s a cq:Measure FILTER(?s != "SERVICE <http://x/> { }") }',
    "long-string": "SELECT (COUNT(*) AS ?n) WHERE { ?s a cq:Measure FILTER(?s != '''a\nSERVICE <http://x/> {}''') }",
    "iri": "SELECT (COUNT(*) AS ?n) WHERE { ?s a cq:Measure FILTER(?s != <http://example.org/SERVICE>) }",
    "comment": "SELECT (COUNT(*) AS ?n) WHERE { ?s a cq:Measure } # SERVICE <http://x/> { }",
    "names": "SELECT (COUNT(?service) AS ?n) WHERE { ?service a cq:Measure OPTIONAL { ?service cq:service ?o } }",
}


@pytest.mark.parametrize("query", SERVICE_QUERIES.values(), ids=SERVICE_QUERIES)
def test_service_refusal_finds_every_form(query: str) -> None:
    assert service_refusal(query.replace("{remote}", "http://127.0.0.1:9/sparql")) is not None


@pytest.mark.parametrize("query", ANSWERED_QUERIES.values(), ids=ANSWERED_QUERIES)
def test_service_refusal_ignores_strings_iris_comments_and_names(query: str) -> None:
    assert service_refusal(query) is None


@pytest.mark.parametrize("query", SERVICE_QUERIES.values(), ids=SERVICE_QUERIES)
def test_service_is_refused_and_nothing_is_contacted(
    server: RunningServer, listener: socket.socket, query: str
) -> None:
    remote = f"http://127.0.0.1:{listener.getsockname()[1]}/sparql"
    pids = server.pool.pids()
    status, _, body = _post_query(server, query.replace("{remote}", remote))
    assert status == 400, body
    assert b"SERVICE is refused" in body
    assert b"--allow-service" in body
    assert not _contacted(listener)
    assert server.pool.pids() == pids


@pytest.mark.parametrize("query", ANSWERED_QUERIES.values(), ids=ANSWERED_QUERIES)
def test_the_word_service_in_strings_iris_and_names_is_answered(server: RunningServer, query: str) -> None:
    status, _, body = _post_query(server, query)
    assert status == 200, body
    assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == "40"


@pytest.mark.skipif(not SANDBOXED, reason="the worker's network filter (seccomp) is for Linux on x86_64/aarch64")
def test_a_worker_cannot_open_a_network_socket_even_past_the_check(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    code = f"""
import socket
import pyoxigraph as ox
from kb.serve.pool import _deny_network
assert _deny_network()
socket.socketpair()  # the pipe to the server is a Unix socket: still allowed
try:
    list(ox.Store().query("SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"))
except OSError as exc:
    print("refused:", exc)
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=5)
except PermissionError:
    print("refused: socket")
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("refused") == 2, result.stdout
    assert not _contacted(listener)


class _Remote(http.server.BaseHTTPRequestHandler):
    """A stand-in remote SPARQL endpoint: answers one row, or fails with a body that must not leak."""

    fail = False

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if _Remote.fail:
            status, body, kind = 500, b"REMOTE-SECRET-TEXT", "text/plain"
        else:
            row = {"x": {"type": "literal", "value": "from-remote"}}
            body = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": [row]}}).encode()
            status, kind = 200, "application/sparql-results+json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


def test_allow_service_is_an_opt_in_that_never_echoes_the_remote_error(store_path: Path) -> None:
    remote = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Remote)
    threading.Thread(target=remote.serve_forever, daemon=True).start()
    running = _start(store_path, allow_service=True)
    try:
        query = f"SELECT ?x WHERE {{ SERVICE <http://127.0.0.1:{remote.server_port}/sparql> {{ ?x ?y ?z }} }}"
        _Remote.fail = False
        status, _, body = _post_query(running, query)
        assert status == 200, body
        assert b"from-remote" in body
        _Remote.fail = True
        pids = running.pool.pids()
        status, _, body = _post_query(running, query)
        assert status == 400, body
        assert b"REMOTE-SECRET" not in body
        assert b"remote answer is not shown" in body
        status, _, body = _post_query(running, "SELECT * WHERE { SERVICE ?unbound { ?s ?p ?o } }")
        assert status == 400, body
        assert running.pool.pids() == pids
        _, _, health = fetch(running.url + "health")
        assert json.loads(health)["service"] == "allowed"
    finally:
        _Remote.fail = False
        running.close()
        remote.shutdown()
        remote.server_close()


# ---------------------------------------------------------------- hardening: CORS


@pytest.mark.parametrize(
    ("path", "method", "cors"),
    [
        ("sparql?" + urllib.parse.urlencode({"query": COUNT}), "GET", True),
        ("query?" + urllib.parse.urlencode({"query": COUNT}), "POST", True),
        ("sparql", "OPTIONS", True),
        ("", "GET", False),
        ("health", "GET", False),
        ("nowhere", "GET", False),
        ("sparql", "DELETE", False),
    ],
)
def test_cors_star_only_on_query_answers_never_credentials_or_the_origin(
    server: RunningServer, path: str, method: str, cors: bool
) -> None:
    origin = "http://evil.example"
    headers = {"Origin": origin, "Cookie": "session=1", "Access-Control-Request-Method": "POST"}
    data = b"" if method == "POST" else None
    _, response_headers, _ = fetch(server.url + path, method, data, headers)
    assert response_headers["Access-Control-Allow-Origin"] == ("*" if cors else None)
    assert response_headers["Access-Control-Allow-Credentials"] is None
    assert origin not in str(response_headers)
    assert response_headers["X-Content-Type-Options"] == "nosniff"


# ---------------------------------------------------------------- hardening: bad input gets 400, not a dead worker


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("default-graph-uri", "not an iri", b"not an absolute IRI"),
        ("default-graph-uri", "", b"not an absolute IRI"),
        ("named-graph-uri", "http://a b/", b"not an absolute IRI"),
        ("default-graph-uri", "<https://w3id.org/cq-covid/graph/x>", b"not an absolute IRI"),
        ("default-graph-uri", "http://example.org/no-such-graph", b"no graph <http://example.org/no-such-graph>"),
        ("named-graph-uri", "urn:no-such-graph", b"no graph <urn:no-such-graph>"),
    ],
)
def test_bad_graph_parameters_get_400_and_keep_the_worker(
    server: RunningServer, param: str, value: str, message: bytes
) -> None:
    pids = server.pool.pids()
    status, _, body = fetch(sparql(server, COUNT, **{param: value}))
    assert status == 400, body
    assert message in body
    assert server.pool.pids() == pids


def test_a_known_default_graph_is_queried(server: RunningServer, store_path: Path) -> None:
    graph = next(g.value for g in ox.Store.read_only(str(store_path)).named_graphs() if "/synth/article" in g.value)
    status, _, body = fetch(sparql(server, COUNT, **{"default-graph-uri": graph}))
    assert status == 200, body
    assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == "20"


@pytest.mark.parametrize(
    ("query", "status", "answer"),
    [
        # nested deeper than a default 8 MB stack allows: answered on the workers' large stack
        ("SELECT (COUNT(*) AS ?n) WHERE " + "{" * 20_000 + "}" * 20_000, 200, b'"value":"1"'),
        ("SELECT (COUNT(*) AS ?n) WHERE { FILTER(" + "(" * 20_000 + "true" + ")" * 20_000 + ") }", 200, b'"1"'),
        ("SELECT * WHERE { " + "?s ?p ?o . " * (MAX_QUERY_CHARS // 11) + "}", 400, b"longer than"),
        ("SELECT * WHERE { SERVICE ?var { ?s ?p ?o } }", 400, b"SERVICE is refused"),
    ],
    ids=["deep-braces", "deep-parentheses", "too-long", "service-variable"],
)
def test_queries_that_crashed_a_worker_are_answered_or_refused(
    server: RunningServer, query: str, status: int, answer: bytes
) -> None:
    pids = server.pool.pids()
    got, _, body = _post_query(server, query)
    assert got == status, body[:500]
    assert answer in body
    assert server.pool.pids() == pids


# ---------------------------------------------------------------- hardening: bounded resources

# Doubles a 1 kB string 20 times: 1 GB, reached in well under a second.
MEMORY_HOG = (
    'SELECT (STRLEN(?a20) AS ?n) WHERE { BIND("'
    + "x" * 1024
    + '" AS ?a0) '
    + " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(20))
    + " }"
)


@pytest.mark.skipif(sys.platform != "linux", reason="the memory ceiling (RLIMIT_AS) is enforced on Linux")
def test_memory_ceiling_stops_a_query_and_the_server_answers_on(store_path: Path) -> None:
    running = _start(store_path, max_memory_bytes=256_000_000)
    try:
        status, headers, body = _post_query(running, MEMORY_HOG)
        assert status == 503, body
        assert b"more memory than its limit of 256 MB" in body
        assert headers["Retry-After"] == "1"
        status, _, body = fetch(sparql(running, COUNT))
        assert status == 200, body
        assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == "40"
    finally:
        running.close()


def _still_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def test_500_idle_and_half_open_connections_do_not_starve_other_clients(store_path: Path) -> None:
    """SLOW ON PURPOSE (~20 s): 500 connections are held open while another client queries."""
    running = _start(store_path)
    held: list[socket.socket] = []
    try:
        for index in range(500):
            sock = socket.create_connection(("127.0.0.1", running.port), timeout=10)
            if index % 2:
                sock.sendall(b"GET /sparql?query=SELECT HTTP/1.1\r\nHost: x\r\n")  # headers never end
            held.append(sock)
        deadline = time.monotonic() + 20
        answered = 0
        for _ in range(10):
            status, _, body = fetch(sparql(running, COUNT), timeout=15)
            assert status == 200, body
            answered += 1
            time.sleep(max(0.0, min(2.0, deadline - time.monotonic())))
        assert answered == 10
        assert sum(_still_open(sock) for sock in held) == 500
    finally:
        for sock in held:
            sock.close()
        running.close()


# ---------------------------------------------------------------- hardening: a rebuilt store is served at once

ADDED_MEASURE = """@prefix cq: <https://w3id.org/cq-covid/def#> .
<https://w3id.org/cq-covid/id/measure/added-by-the-rebuild-test> a cq:Measure .
"""


def test_a_rebuilt_store_is_served_without_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = generate(tmp_path / "kb", measures=4, per_file=4)
    monkeypatch.setenv("KB_STATE_DIR", str(root / ".kb"))
    build(Project(root))
    config = ServeConfig(root / ".kb" / "store", workers=2, threads=4)
    running = create_server(config, port=0).start_in_thread()
    try:
        for _ in range(4):  # both workers answer
            _, _, body = fetch(sparql(running, COUNT))
            assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == "4"
        _, _, before = fetch(running.url + "health")
        (root / "facts" / "added.ttl").write_text(ADDED_MEASURE, encoding="utf-8")
        assert build(Project(root)).rebuilt
        answers = []
        for _ in range(6):
            status, _, body = fetch(sparql(running, COUNT))
            assert status == 200, body
            answers.append(json.loads(body)["results"]["bindings"][0]["n"]["value"])
        assert answers == ["5"] * 6
        _, _, after = fetch(running.url + "health")
        # one curated triple more, and the derived period of the new measure (its basis "no date known")
        assert json.loads(after)["triples"] > json.loads(before)["triples"]
    finally:
        running.close()


# ---------------------------------------------------------------- hardening: Ctrl-C


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# Started as a terminal starts it, and with SIGINT ignored as a background job or some test runners leave it
# (a child inherits an ignored signal across exec): Ctrl-C stops it either way.
IGNORING_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])"
)


@pytest.mark.skipif(sys.platform != "linux", reason="reads worker processes from /proc")
@pytest.mark.parametrize("sigint", ["default", "ignored"])
def test_ctrl_c_stops_the_server_and_its_workers_without_a_traceback(store_path: Path, sigint: str) -> None:
    root = store_path.parent.parent
    # PYTHONFAULTHANDLER: if the server does not stop, SIGABRT makes it print every thread's stack (below)
    env = {**os.environ, "KB_STATE_DIR": str(root / ".kb"), "PYTHONFAULTHANDLER": "1"}
    command = [sys.executable, "-m", "kb", "--root", str(root), "serve", "--port", "0", "--workers", "2"]
    if sigint == "ignored":
        command = [sys.executable, "-c", IGNORING_SIGINT, *command]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    lines: queue.Queue[str] = queue.Queue()
    pipe = process.stderr
    assert pipe is not None

    def read_lines() -> None:
        for line in pipe:
            lines.put(line)

    reader = threading.Thread(target=read_lines, daemon=True)
    reader.start()
    try:
        first = lines.get(timeout=60)
        found = re.search(r"serving (http://\S+/) ", first)
        assert found, first
        status, _, body = fetch(found.group(1) + "sparql?" + urllib.parse.urlencode({"query": COUNT}))
        assert status == 200, body
        workers = _children(process.pid)
        assert len(workers) >= 2
        os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            process.wait(10)
            reader.join(10)
            stacks = "".join(lines.get() for _ in range(lines.qsize()))
            pytest.fail(f"kb serve still ran 30 s after Ctrl-C; its threads when stopped:\n{first}{stacks}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    reader.join(10)
    stderr = first + "".join(lines.get() for _ in range(lines.qsize()))
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert stderr.rstrip().endswith("stopped"), stderr
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


def test_serve_never_imports_timeline_validate_or_export() -> None:
    imports = kb_imports(ROOT / "kb" / "serve")
    assert "kb.store" in imports or "kb.query" in imports  # the resolution sees the package's own imports
    assert sorted(name for name in imports if name.startswith(("kb.timeline", "kb.validate", "kb.export"))) == []
