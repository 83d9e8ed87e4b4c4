"""A read-only SPARQL 1.1 Protocol endpoint over the persistent store.

Queries run in a small pool of worker processes, each with the store opened read-only. A query that
outlives the time limit has its worker killed (the only way to really stop a running pyoxigraph query)
and a fresh worker takes its place, so the server keeps answering. Results are serialised by
pyoxigraph inside the worker into a sink that stops at the size limit. HTTP is served by waitress,
a production WSGI server; this module is only the WSGI application and the pool.
"""

from __future__ import annotations

import html
import json
import multiprocessing
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from .errors import UsageError
from .namespaces import PREFIXES

# Media types the endpoint can answer with, and the short names `format=` accepts.
RESULTS_TYPES = {
    "application/sparql-results+json": "JSON",
    "application/json": "JSON",
    "application/sparql-results+xml": "XML",
    "application/xml": "XML",
    "text/xml": "XML",
    "text/csv": "CSV",
    "text/tab-separated-values": "TSV",
}
GRAPH_TYPES = {
    "text/turtle": "TURTLE",
    "application/n-triples": "N_TRIPLES",
    "text/plain": "N_TRIPLES",
    "application/ld+json": "JSON_LD",
    "application/json": "JSON_LD",
}
FORMAT_NAMES = {
    "json": ["application/sparql-results+json", "application/ld+json"],
    "xml": ["application/sparql-results+xml"],
    "csv": ["text/csv"],
    "tsv": ["text/tab-separated-values"],
    "turtle": ["text/turtle"],
    "ttl": ["text/turtle"],
    "ntriples": ["application/n-triples"],
    "nt": ["application/n-triples"],
    "jsonld": ["application/ld+json"],
    "json-ld": ["application/ld+json"],
}
# What each format is sent as (the first media type naming it).
_CONTENT_TYPE = {
    "JSON": "application/sparql-results+json",
    "XML": "application/sparql-results+xml",
    "CSV": "text/csv; charset=utf-8",
    "TSV": "text/tab-separated-values; charset=utf-8",
    "TURTLE": "text/turtle; charset=utf-8",
    "N_TRIPLES": "application/n-triples",
    "JSON_LD": "application/ld+json",
}
MAX_REQUEST_BYTES = 1_000_000
CORS_HEADERS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
    ("Access-Control-Allow-Headers", "Content-Type, Accept"),
]


@dataclass(frozen=True)
class ServeConfig:
    """How the endpoint runs: the store folder, limits and pool size."""

    store_path: Path
    timeout: float = 10.0
    max_result_bytes: int = 50_000_000
    workers: int = 2
    threads: int = 8
    union_default_graph: bool = True


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, content type and body."""

    status: int
    content_type: str
    body: bytes


_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _text(status: int, message: str) -> Reply:
    return Reply(status, "text/plain; charset=utf-8", (message.rstrip("\n") + "\n").encode("utf-8"))


# ---------------------------------------------------------------- content negotiation


def accepted_types(accept: str | None, format_override: str | None) -> list[str]:
    """Media types the client takes, best first; '*/*' stands for the endpoint's defaults."""
    if format_override:
        name = format_override.strip().lower()
        if name in FORMAT_NAMES:
            return FORMAT_NAMES[name]
        return [name.split(";")[0].strip()]
    if not accept:
        return ["*/*"]
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        quality = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            ranked.append((-quality, index, media))
    return [media for _, _, media in sorted(ranked)]


def choose_format(types: list[str], graph: bool) -> str | None:
    """The pyoxigraph format name for the first acceptable type, or None when none fits."""
    table = GRAPH_TYPES if graph else RESULTS_TYPES
    for media in types:
        if media in table:
            return table[media]
        if media in ("*/*", "application/*", "text/*"):
            if media == "text/*":
                return "TURTLE" if graph else "CSV"
            return "TURTLE" if graph else "JSON"
    return None


# ---------------------------------------------------------------- the worker process


class _ResultTooLarge(Exception):
    pass


class _CappedSink:
    """A write-only buffer that refuses to grow past `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise _ResultTooLarge
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


@dataclass(frozen=True)
class QueryJob:
    """One query to run: its text, the acceptable media types and the dataset to query."""

    query: str
    accept: tuple[str, ...]
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


def answer_query(store: Any, job: QueryJob, max_bytes: int, union_default_graph: bool = True) -> Reply:
    """Run one query on a pyoxigraph store and serialise the result as negotiated."""
    import pyoxigraph as ox

    options: dict[str, Any] = {"prefixes": PREFIXES}
    if job.default_graphs:
        options["default_graph"] = [ox.NamedNode(iri) for iri in job.default_graphs]
    else:
        options["use_default_graph_as_union"] = union_default_graph
    if job.named_graphs:
        options["named_graphs"] = [ox.NamedNode(iri) for iri in job.named_graphs]
    try:
        result = store.query(job.query, **options)
    except SyntaxError as exc:
        return _text(400, f"SPARQL syntax error: {exc}")
    except (OSError, ValueError) as exc:
        return _text(400, f"query failed: {exc}")
    graph = isinstance(result, ox.QueryTriples)
    name = choose_format(list(job.accept), graph)
    if name is None:
        offered = ", ".join(sorted(set(GRAPH_TYPES if graph else RESULTS_TYPES)))
        return _text(406, f"cannot answer in {', '.join(job.accept)}; this result can be sent as: {offered}")
    fmt = getattr(ox.RdfFormat if graph else ox.QueryResultsFormat, name)
    sink = _CappedSink(max_bytes)
    try:
        result.serialize(sink, fmt)
    except _ResultTooLarge:
        return _text(422, f"the result is larger than the limit of {max_bytes} bytes: add a LIMIT or narrow the query")
    except OSError as exc:
        return _text(500, f"query failed while reading results: {exc}")
    return Reply(200, _CONTENT_TYPE[name], b"".join(sink.parts))


def _worker_main(conn: Connection, store_path: str, max_bytes: int, union_default_graph: bool) -> None:
    """Loop of a worker process: receive a job, send back a Reply, until the pipe closes."""
    import pyoxigraph as ox

    store = ox.Store.read_only(store_path)
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(answer_query(store, job, max_bytes, union_default_graph))


class _Worker:
    def __init__(self, config: ServeConfig) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main,
            args=(child, str(config.store_path), config.max_result_bytes, config.union_default_graph),
            daemon=True,
        )
        self.process.start()
        child.close()
        try:
            ready = self.conn.poll(60) and self.conn.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.kill()
            raise UsageError(f"a query worker could not open the store at {config.store_path}", hint="run kb build")

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class WorkerPool:
    """Worker processes that run queries; one that overruns the time limit is killed and replaced."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        for _ in range(max(1, config.workers)):
            self._add()

    def _add(self) -> None:
        worker = _Worker(self.config)
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)

    def run(self, job: QueryJob) -> Reply:
        """Run a job on an idle worker within the time limit."""
        limit = self.config.timeout
        try:
            worker = self._idle.get(timeout=limit)
        except queue.Empty:
            return _text(503, f"all query workers are busy; try again (waited {limit:g} s)")
        try:
            worker.conn.send(job)
            if worker.conn.poll(limit):
                reply: Reply = worker.conn.recv()
                self._idle.put(worker)
                return reply
        except (EOFError, OSError, BrokenPipeError):
            self._discard(worker)
            self._add()
            return _text(500, "the query worker stopped unexpectedly; the query was not answered")
        self._discard(worker)
        self._add()
        return _text(503, f"the query was stopped after the time limit of {limit:g} s: narrow it or add a LIMIT")

    def close(self) -> None:
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.kill()


# ---------------------------------------------------------------- the WSGI application

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>SPARQL — Chongqing COVID-19 measures</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:1.5em;max-width:70em}
textarea{width:100%;height:16em;font:13px monospace}
table{border-collapse:collapse;margin-top:1em;font-size:13px}
td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top;text-align:left}
#status{margin-left:1em;color:#555}
pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap}
</style></head><body>
<h1>SPARQL endpoint</h1>
<p>Read-only SPARQL 1.1 Protocol endpoint at <code>/sparql</code> (GET or POST). The project prefixes
(cq:, measure:, place:, rdfs:, xsd: …) are pre-bound and the default graph is the union of all graphs.
Limits: __TIMEOUT__ s per query, __MAXBYTES__ bytes per result.</p>
<form id="form" method="post" action="sparql">
<label>Example (a named query): <select id="examples"><option value="">—</option>__OPTIONS__</select></label>
<p><textarea id="query" name="query">SELECT ?measure ?label WHERE {
  ?measure a cq:Measure ; rdfs:label ?label
} LIMIT 20</textarea></p>
<label>Format <select id="format" name="format"><option value="json">table (JSON)</option><option>xml</option>
<option>csv</option><option>tsv</option><option>turtle</option><option>ntriples</option><option>jsonld</option></select></label>
<button type="submit">Run</button><span id="status"></span>
</form>
<div id="out"></div>
<script id="named" type="application/json">__NAMED__</script>
<script>
const named = JSON.parse(document.getElementById("named").textContent);
const byId = id => document.getElementById(id);
const q = byId("query"), out = byId("out"), st = byId("status");
byId("examples").addEventListener("change", e => { if (e.target.value) q.value = named[e.target.value]; });
function cell(t) { if (!t) return ""; return t.value + (t["xml:lang"] ? "@" + t["xml:lang"] : ""); }
document.getElementById("form").addEventListener("submit", async e => {
  e.preventDefault();
  const fmt = document.getElementById("format").value;
  st.textContent = "running…"; out.textContent = "";
  try {
    const r = await fetch("sparql", {method: "POST", body: new URLSearchParams({query: q.value, format: fmt})});
    const body = await r.text();
    st.textContent = r.status + " " + (r.headers.get("content-type") || "");
    const type = r.headers.get("content-type") || "";
    if (r.ok && type.startsWith("application/sparql-results+json")) {
      const data = JSON.parse(body);
      if ("boolean" in data) { out.textContent = String(data.boolean); return; }
      const table = document.createElement("table"), head = table.insertRow();
      for (const v of data.head.vars) {
        const th = document.createElement("th"); th.textContent = v; head.appendChild(th);
      }
      for (const b of data.results.bindings) {
        const row = table.insertRow();
        for (const v of data.head.vars) row.insertCell().textContent = cell(b[v]);
      }
      out.appendChild(table);
      st.textContent += " — " + data.results.bindings.length + " rows";
    } else { const pre = document.createElement("pre"); pre.textContent = body; out.appendChild(pre); }
  } catch (err) { st.textContent = "request failed: " + err; }
});
</script>
</body></html>
"""


def query_page(config: ServeConfig) -> bytes:
    """The self-contained HTML query form, with the named queries as examples."""
    from .query import named_queries

    queries = named_queries()
    options = "".join(
        f'<option value="{html.escape(q.name)}" title="{html.escape(q.description)}">{html.escape(q.name)}</option>'
        for q in queries.values()
    )
    named = json.dumps({q.name: q.text for q in queries.values()}, ensure_ascii=False).replace("</", "<\\/")
    page = (
        _PAGE.replace("__OPTIONS__", options)
        .replace("__NAMED__", named)
        .replace("__TIMEOUT__", f"{config.timeout:g}")
        .replace("__MAXBYTES__", str(config.max_result_bytes))
    )
    return page.encode("utf-8")


StartResponse = Callable[..., Any]


class SparqlApp:
    """The WSGI application: /sparql (also /query), / (query page), /health."""

    def __init__(self, config: ServeConfig, pool: WorkerPool, triples: int) -> None:
        self.config = config
        self.pool = pool
        self.triples = triples
        self.page = query_page(config)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        reply = self.handle(environ)
        headers = [("Content-Type", reply.content_type), ("Content-Length", str(len(reply.body))), *CORS_HEADERS]
        if reply.status == 405:
            headers.append(("Allow", "GET, POST, OPTIONS"))
        if reply.status == 503:
            headers.append(("Retry-After", "1"))
        start_response(f"{reply.status} {_REASONS.get(reply.status, '')}".rstrip(), headers)
        return [reply.body]

    def handle(self, environ: dict[str, Any]) -> Reply:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/") or "/"
        if method == "OPTIONS":
            return Reply(204, "text/plain", b"")
        if path in ("/", "/index.html"):
            return self._only_get(method) or Reply(200, "text/html; charset=utf-8", self.page)
        if path == "/health":
            body = json.dumps({"status": "ok", "triples": self.triples, "workers": self.config.workers})
            return self._only_get(method) or Reply(200, "application/json", body.encode("utf-8"))
        if path in ("/sparql", "/query"):
            return self._sparql(method, environ)
        return _text(404, f"no such page: {path} (the endpoint is /sparql; the query page is /)")

    @staticmethod
    def _only_get(method: str) -> Reply | None:
        return None if method in ("GET", "HEAD") else _text(405, f"{method} is not allowed here")

    def _sparql(self, method: str, environ: dict[str, Any]) -> Reply:
        params = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if method == "POST":
            content_type = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return _text(400, "bad Content-Length")
            if length > MAX_REQUEST_BYTES:
                return _text(413, f"the request body is larger than {MAX_REQUEST_BYTES} bytes")
            body = environ["wsgi.input"].read(length) if length else b""
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                return _text(400, "the request body is not UTF-8")
            if content_type == "application/sparql-update":
                return _text(403, "this endpoint is read-only: SPARQL UPDATE is refused")
            if content_type == "application/sparql-query":
                params.setdefault("query", []).append(text)
            elif content_type in ("application/x-www-form-urlencoded", ""):
                for key, values in parse_qs(text, keep_blank_values=True).items():
                    params.setdefault(key, []).extend(values)
            else:
                return _text(
                    415,
                    f"cannot read a {content_type} body: send application/sparql-query or a query= form",
                )
        elif method not in ("GET", "HEAD"):
            return _text(405, f"{method} is not allowed: use GET or POST")
        if "update" in params:
            return _text(403, "this endpoint is read-only: SPARQL UPDATE is refused")
        queries = params.get("query", [])
        if len(queries) != 1 or not queries[0].strip():
            return _text(400, "give one query: ?query=…, a query= form field or an application/sparql-query body")
        formats = params.get("format", [])
        job = QueryJob(
            query=queries[0],
            accept=tuple(accepted_types(environ.get("HTTP_ACCEPT"), formats[-1] if formats else None)),
            default_graphs=tuple(params.get("default-graph-uri", [])),
            named_graphs=tuple(params.get("named-graph-uri", [])),
        )
        return self.pool.run(job)


# ---------------------------------------------------------------- running it


class RunningServer:
    """A started endpoint: its address, and close() to stop it and its workers."""

    def __init__(self, server: Any, pool: WorkerPool, host: str) -> None:
        self.server = server
        self.pool = pool
        self.host = host
        self.port = int(server.effective_port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def serve_forever(self) -> None:
        self.server.run()

    def start_in_thread(self) -> RunningServer:
        self._thread = threading.Thread(target=self.server.run, name="kb-serve", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self.server.task_dispatcher.shutdown()
        self.server.close()
        if self._thread is not None:
            self._thread.join(5)
        self.pool.close()


def create_server(config: ServeConfig, host: str = "127.0.0.1", port: int = 8000) -> RunningServer:
    """Start the worker pool and bind the HTTP server (port 0 picks a free port)."""
    import pyoxigraph as ox
    import waitress.server

    if not (config.store_path / "index.json").exists() and not any(config.store_path.glob("*")):
        raise UsageError(f"no store at {config.store_path}", hint="run kb build first")
    triples = len(ox.Store.read_only(str(config.store_path)))
    pool = WorkerPool(config)
    app = SparqlApp(config, pool, triples)
    try:
        server = waitress.server.create_server(
            app, host=host, port=port, threads=config.threads, ident="kb-serve", clear_untrusted_proxy_headers=True
        )
    except OSError as exc:
        pool.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", hint="choose another --port, or stop what uses it"
        ) from None
    return RunningServer(server, pool, host)
