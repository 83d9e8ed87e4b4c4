"""A read-only SPARQL 1.1 Protocol endpoint over the persistent store.

Queries run in a small pool of worker processes, each with the store opened read-only. A query that
outlives the time limit has its worker killed (the only way to really stop a running pyoxigraph query)
and a fresh worker takes its place, so the server keeps answering. Each worker has a ceiling on its
address space (RLIMIT_AS), runs queries on a thread with a large stack (deeply nested queries would
overflow the default one), refuses SPARQL SERVICE and, on Linux, cannot open network sockets at all
(seccomp). Before each query a worker checks whether `kb build` swapped in a new store and reopens it.
Results are serialised by pyoxigraph inside the worker into a sink that stops at the size limit. HTTP
is served by waitress, a production WSGI server; this module is only the WSGI application and the pool.
"""

from __future__ import annotations

import contextlib
import html
import json
import multiprocessing
import os
import platform
import queue
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from .errors import KbError, UsageError
from .namespaces import PREFIXES
from .store import Snapshot, pin_snapshot, store_generation

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
# Longest query text: with QUERY_STACK_BYTES, every nesting form tried (braces, parentheses, UNION,
# OPTIONAL, BIND, paths, subqueries…) up to this length is evaluated without overflowing the stack.
MAX_QUERY_CHARS = 100_000
QUERY_STACK_BYTES = 512 * 2**20
MB = 1_000_000
# Only the query endpoint is open to other origins: never with credentials, never echoing the Origin.
CORS_HEADERS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
    ("Access-Control-Allow-Headers", "Content-Type, Accept"),
]
QUERY_PATHS = ("/sparql", "/query")


@dataclass(frozen=True)
class ServeConfig:
    """How the endpoint runs: the store folder, limits and pool size."""

    store_path: Path
    timeout: float = 10.0
    max_result_bytes: int = 50 * MB
    workers: int = 2
    threads: int = 8
    union_default_graph: bool = True
    # Address space a worker may add to its idle size while it answers a query; None: no ceiling.
    max_memory_bytes: int | None = 1024 * MB
    # SPARQL SERVICE makes this host send requests elsewhere: refused unless explicitly allowed.
    allow_service: bool = False
    # Open connections waitress keeps (idle and half-open ones included) and how long an idle one may stay.
    connection_limit: int = 1000
    channel_timeout: float = 30.0


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


def _short(value: object, limit: int = 300) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


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


# ---------------------------------------------------------------- SERVICE: no outbound requests

_SERVICE_WORD = re.compile("service", re.IGNORECASE)
_UCHAR = re.compile(r"\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})")
SERVICE_REFUSED = (
    "SERVICE is refused: this endpoint never sends requests to other endpoints "
    "(its operator can allow it with kb serve --allow-service)"
)


def _expand_uchars(text: str) -> str:
    def expand(match: re.Match[str]) -> str:
        try:
            return chr(int(match.group(1) or match.group(2), 16))
        except (ValueError, OverflowError):
            return match.group(0)

    return _UCHAR.sub(expand, text)


def _parsed_has_service(query: str) -> bool | None:
    """Whether the SPARQL parse tree holds a SERVICE pattern; None when rdflib cannot parse the query."""
    from rdflib.plugins.sparql.parser import Query
    from rdflib.plugins.sparql.parserutils import CompValue

    try:
        # The grammar itself, without parseQuery's \\u pre-expansion that pyoxigraph does not do.
        tree = Query.parse_string(query, parse_all=True)
    except Exception:
        return None
    stack: list[Any] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                return True
            stack.extend(node.values())
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)) or type(node).__name__ == "ParseResults":
            stack.extend(node)
    return False


def mentions_service(query: str) -> bool:
    """Whether the letters "service" occur anywhere in the query, \\u escapes expanded or not."""
    return bool(_SERVICE_WORD.search(query) or _SERVICE_WORD.search(_expand_uchars(query)))


def service_refusal(query: str) -> str | None:
    """Why the query is refused for (possibly) calling SERVICE, or None when it makes no SERVICE call.

    The query is parsed with rdflib's SPARQL grammar, so a "SERVICE" inside a string, an IRI, a
    comment or a name is no call; a query that mentions the word but cannot be parsed is refused.
    """
    if not mentions_service(query):
        return None
    found = _parsed_has_service(query)
    if found is False:
        return None
    if found:
        return SERVICE_REFUSED
    return (
        f"{SERVICE_REFUSED}; this query mentions SERVICE in a form that could not be checked "
        "(it is not valid SPARQL 1.1 or uses syntax beyond it)"
    )


def _deny_network() -> bool:
    """Forbid this process to open IPv4 and IPv6 sockets (a seccomp filter); False where unavailable."""
    import ctypes
    import struct

    arches = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198)}  # audit arch, socket() number
    if sys.platform != "linux" or platform.machine() not in arches:
        return False
    arch, socket_nr = arches[platform.machine()]
    load, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, deny = 0x7FFF0000, 0x00050000 | 13  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EACCES

    def op(code: int, jt: int, jf: int, k: int) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)

    program = b"".join(
        [
            op(load, 0, 0, 4),  # 0: the syscall's architecture
            op(jeq, 1, 0, arch),  # 1: ours → 3
            op(ret, 0, 0, deny),  # 2: another ABI: refuse
            op(load, 0, 0, 0),  # 3: the syscall number
            op(jge, 5, 0, 0x40000000),  # 4: x32 ABI → 10
            op(jeq, 0, 3, socket_nr),  # 5: socket() → 6, else → 9
            op(load, 0, 0, 16),  # 6: its address family
            op(jeq, 2, 0, 2),  # 7: AF_INET → 10
            op(jeq, 1, 0, 10),  # 8: AF_INET6 → 10
            op(ret, 0, 0, allow),  # 9
            op(ret, 0, 0, deny),  # 10
        ]
    )

    class _Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    buffer = ctypes.create_string_buffer(program)
    fprog = _Program(len(program) // 8, ctypes.addressof(buffer))
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        # PR_SET_NO_NEW_PRIVS, then PR_SET_SECCOMP with SECCOMP_MODE_FILTER
        if libc.prctl(38, 1, 0, 0, 0) != 0:
            return False
        return bool(libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) == 0)
    except (OSError, AttributeError):
        return False


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


def _memory_message(limit: int | None) -> str:
    size = f"{limit / MB:g} MB" if limit else "the available memory"
    return f"the query was stopped: it needed more memory than its limit of {size}; narrow it or add a LIMIT"


def _failed(exc: BaseException, job: QueryJob, allow_service: bool) -> Reply:
    if allow_service and mentions_service(job.query):
        # What went wrong may quote the remote endpoint's answer: never pass that on.
        return _text(400, "the query failed (a SERVICE call may have failed; the remote answer is not shown)")
    return _text(400, f"the query could not be evaluated: {_short(exc)}")


def answer_query(
    store: Any,
    job: QueryJob,
    max_bytes: int,
    union_default_graph: bool = True,
    allow_service: bool = False,
    max_memory: int | None = None,
) -> Reply:
    """Run one query on a pyoxigraph store and serialise the result as negotiated; never raises for a query."""
    import pyoxigraph as ox

    if not allow_service:
        refusal = service_refusal(job.query)
        if refusal:
            return _text(400, refusal)
    options: dict[str, Any] = {"prefixes": PREFIXES}
    try:
        if job.default_graphs:
            options["default_graph"] = [ox.NamedNode(iri) for iri in job.default_graphs]
        else:
            options["use_default_graph_as_union"] = union_default_graph
        if job.named_graphs:
            options["named_graphs"] = [ox.NamedNode(iri) for iri in job.named_graphs]
    except ValueError as exc:
        return _text(400, f"a graph IRI is not valid: {_short(exc)}")
    for node in (*options.get("default_graph", []), *options.get("named_graphs", [])):
        if not store.contains_named_graph(node):
            return _text(400, f"there is no graph <{_short(node.value)}> in the store")
    try:
        result = store.query(job.query, **options)
        graph = isinstance(result, ox.QueryTriples)
        name = choose_format(list(job.accept), graph)
        if name is None:
            offered = ", ".join(sorted(set(GRAPH_TYPES if graph else RESULTS_TYPES)))
            return _text(406, f"cannot answer in {', '.join(job.accept)}; this result can be sent as: {offered}")
        fmt = getattr(ox.RdfFormat if graph else ox.QueryResultsFormat, name)
        sink = _CappedSink(max_bytes)
        result.serialize(sink, fmt)
        return Reply(200, _CONTENT_TYPE[name], b"".join(sink.parts))
    except SyntaxError as exc:
        return _text(400, f"SPARQL syntax error: {_short(exc)}")
    except _ResultTooLarge:
        return _text(422, f"the result is larger than the limit of {max_bytes} bytes: add a LIMIT or narrow the query")
    except MemoryError:
        return _text(503, _memory_message(max_memory))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # also pyo3's PanicException, which is no Exception
        return _failed(exc, job, allow_service)


def _address_space() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _set_memory_ceiling(extra: int | None) -> None:
    """Cap the address space at its current size plus `extra` bytes (Linux); None lifts the cap."""
    try:
        import resource
    except ImportError:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    size = _address_space() if extra is not None else None
    if size is None or extra is None:
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        return
    limit = size + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


class _Engine:
    """The worker's store, reopened when a build has swapped in a new one."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.store: Any = None
        self.generation: tuple[int, int, int] | None = None
        self.snapshot: Snapshot | None = None

    def refresh(self) -> str | None:
        """Make the open store the current one; a message when there is none to open."""
        import pyoxigraph as ox

        path = self.config.store_path
        generation = store_generation(path)
        for _ in range(40):  # a build swapping folders leaves the path empty for an instant
            if generation is not None:
                break
            time.sleep(0.05)
            generation = store_generation(path)
        if generation is None:
            return f"there is no store at {path} (a build may be replacing it); try again"
        if generation == self.generation:
            return None
        _set_memory_ceiling(None)  # a second store must fit while opening
        self.store = self.generation = None  # close the old store first
        if self.snapshot is not None:
            self.snapshot.release()  # a later build may now remove the old folder
            self.snapshot = None
        problem = "it changed while opening"
        for _ in range(5):
            try:
                # Pinned (a shared lock on the folder): a build never removes the folder this worker reads.
                snapshot = pin_snapshot(path)
                store = ox.Store.read_only(str(snapshot.path))
            except Exception as exc:
                problem = _short(exc)
                time.sleep(0.1)
                generation = store_generation(path)
                continue
            after = store_generation(path)
            if after == generation:
                self.store, self.generation, self.snapshot = store, generation, snapshot
                _set_memory_ceiling(self.config.max_memory_bytes)
                return None
            snapshot.release()
            generation = after
        return f"the store at {path} could not be opened: {problem}"

    def answer(self, job: QueryJob) -> Reply:
        problem = self.refresh()
        if problem:
            return _text(503, problem)
        config = self.config
        return answer_query(
            self.store,
            job,
            config.max_result_bytes,
            config.union_default_graph,
            config.allow_service,
            config.max_memory_bytes,
        )


def _worker_loop(conn: Connection, config: ServeConfig, network_blocked: bool) -> None:
    engine = _Engine(config)
    problem = engine.refresh()
    conn.send(("failed", problem) if problem else ("ready", network_blocked))
    if problem:
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = engine.answer(job)
        except MemoryError:
            reply = _text(503, _memory_message(config.max_memory_bytes))
        except Exception as exc:
            reply = _text(500, f"the query worker failed: {_short(exc)}")
        conn.send(reply)


def _worker_main(conn: Connection, config: ServeConfig) -> None:
    """A worker process: receive jobs, send back Replies, until the pipe closes."""
    # Ctrl-C reaches the whole process group; the server stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a stopped worker writes no core file
    except (ImportError, ValueError, OSError):
        pass
    network_blocked = False if config.allow_service else _deny_network()
    with contextlib.suppress(ValueError, RuntimeError):
        threading.stack_size(QUERY_STACK_BYTES)
    thread = threading.Thread(target=_worker_loop, args=(conn, config, network_blocked), name="kb-query")
    thread.start()
    thread.join()


class _Worker:
    def __init__(self, config: ServeConfig) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, config), daemon=True)
        self.network_blocked = False
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            # Started with Ctrl-C ignored, the child cannot be interrupted while it boots.
            self.process.start()
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)
        child.close()
        try:
            message = self.conn.recv() if self.conn.poll(60) else ("failed", "it did not start within 60 s")
        except (EOFError, OSError):
            message = ("failed", "it stopped while starting")
        if message[0] != "ready":
            self.kill()
            raise UsageError(
                f"a query worker could not open the store at {config.store_path}: {message[1]}", hint="run kb build"
            )
        self.network_blocked = bool(message[1])

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class WorkerPool:
    """Worker processes that run queries; one that overruns a limit or dies is replaced."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._spawning = threading.Lock()
        self.network_blocked = False
        try:
            for _ in range(max(1, config.workers)):
                self._add()
        except BaseException:
            self.close()  # also on Ctrl-C while starting: no worker is left behind
            raise
        self.network_blocked = all(worker.network_blocked for worker in self._all)

    def _add(self) -> None:
        worker = _Worker(self.config)
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def _top_up(self) -> None:
        # One thread at a time replaces missing workers; the others go on to wait for an idle one.
        if not self._spawning.acquire(blocking=False):
            return
        try:
            while len(self._all) < max(1, self.config.workers):
                self._add()
        except KbError:
            pass
        finally:
            self._spawning.release()

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)

    def pids(self) -> list[int]:
        """The process ids of the live workers."""
        with self._lock:
            return [worker.pid for worker in self._all if worker.pid is not None]

    def _died(self, worker: _Worker) -> Reply:
        worker.process.join(5)
        code = worker.process.exitcode
        self._discard(worker)
        self._top_up()
        if code == -signal.SIGABRT and self.config.max_memory_bytes:
            # pyoxigraph aborts the process when an allocation fails under the ceiling
            return _text(503, _memory_message(self.config.max_memory_bytes))
        if code in (-signal.SIGSEGV, -getattr(signal, "SIGBUS", signal.SIGSEGV)):
            return _text(400, "the query crashed the query engine (it may be nested too deeply): simplify it")
        return _text(500, "the query worker stopped unexpectedly; the query was not answered")

    def run(self, job: QueryJob) -> Reply:
        """Run a job on an idle worker within the time limit."""
        limit = self.config.timeout
        self._top_up()
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
        except (EOFError, OSError):
            return self._died(worker)
        self._discard(worker)
        self._top_up()
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


def _check_graph_iris(name: str, values: list[str]) -> Reply | None:
    import pyoxigraph as ox

    for value in values:
        try:
            ox.NamedNode(value)
        except ValueError as exc:
            return _text(400, f"{name} {_short(value, 200)!r} is not an absolute IRI: {_short(exc)}")
    return None


class SparqlApp:
    """The WSGI application: /sparql (also /query), / (query page), /health."""

    def __init__(self, config: ServeConfig, pool: WorkerPool) -> None:
        self.config = config
        self.pool = pool
        self.page = query_page(config)
        self._counted: tuple[tuple[int, int, int] | None, int] = (None, 0)
        self._count_lock = threading.Lock()

    def triples(self) -> int:
        """How many quads the current store holds (counted once per store generation)."""
        import pyoxigraph as ox

        with self._count_lock:
            generation = store_generation(self.config.store_path)
            if generation is not None and generation != self._counted[0]:
                with contextlib.suppress(OSError):
                    self._counted = (generation, len(ox.Store.read_only(str(self.config.store_path))))
            return self._counted[1]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        reply = self.handle(environ)
        headers = [
            ("Content-Type", reply.content_type),
            ("Content-Length", str(len(reply.body))),
            ("X-Content-Type-Options", "nosniff"),
        ]
        method = environ.get("REQUEST_METHOD", "GET")
        if (environ.get("PATH_INFO") or "/") in QUERY_PATHS and method in ("GET", "HEAD", "POST", "OPTIONS"):
            headers.extend(CORS_HEADERS)
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
            body = json.dumps(
                {
                    "status": "ok",
                    "triples": self.triples(),
                    "workers": self.config.workers,
                    "service": "allowed" if self.config.allow_service else "refused",
                    "worker_network": "blocked" if self.pool.network_blocked else "not blocked",
                }
            )
            return self._only_get(method) or Reply(200, "application/json", body.encode("utf-8"))
        if path in QUERY_PATHS:
            return self._sparql(method, environ)
        return _text(404, f"no such page: {_short(path, 200)} (the endpoint is /sparql; the query page is /)")

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
                    f"cannot read a {_short(content_type, 100)} body: send application/sparql-query or a query= form",
                )
        elif method not in ("GET", "HEAD"):
            return _text(405, f"{method} is not allowed: use GET or POST")
        if "update" in params:
            return _text(403, "this endpoint is read-only: SPARQL UPDATE is refused")
        queries = params.get("query", [])
        if len(queries) != 1 or not queries[0].strip():
            return _text(400, "give one query: ?query=…, a query= form field or an application/sparql-query body")
        if len(queries[0]) > MAX_QUERY_CHARS:
            return _text(400, f"the query is longer than {MAX_QUERY_CHARS} characters")
        default_graphs = params.get("default-graph-uri", [])
        named_graphs = params.get("named-graph-uri", [])
        bad = _check_graph_iris("default-graph-uri", default_graphs) or _check_graph_iris(
            "named-graph-uri", named_graphs
        )
        if bad:
            return bad
        formats = params.get("format", [])
        job = QueryJob(
            query=queries[0],
            accept=tuple(accepted_types(environ.get("HTTP_ACCEPT"), formats[-1] if formats else None)),
            default_graphs=tuple(default_graphs),
            named_graphs=tuple(named_graphs),
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
        """Serve until Ctrl-C (SIGINT) or SIGTERM; further signals are ignored while close() runs."""
        main = threading.current_thread() is threading.main_thread()
        if main:
            signal.signal(signal.SIGTERM, _interrupt)
        try:
            self.server.run()  # waitress returns when interrupted
        except KeyboardInterrupt:
            pass
        finally:
            if main:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)

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


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _raise_open_file_limit(wanted: int) -> None:
    """Let the process hold `wanted` open files (each connection is one), up to the hard limit."""
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def create_server(config: ServeConfig, host: str = "127.0.0.1", port: int = 8000) -> RunningServer:
    """Start the worker pool and bind the HTTP server (port 0 picks a free port)."""
    import waitress.server

    if store_generation(config.store_path) is None:
        raise UsageError(f"no store at {config.store_path}", hint="run kb build first")
    _raise_open_file_limit(config.connection_limit + 256)
    pool = WorkerPool(config)
    app = SparqlApp(config, pool)
    app.triples()
    try:
        server = waitress.server.create_server(
            app,
            host=host,
            port=port,
            threads=config.threads,
            ident="kb-serve",
            clear_untrusted_proxy_headers=True,
            # poll() instead of select(): select cannot watch more than 1024 sockets
            asyncore_use_poll=True,
            connection_limit=config.connection_limit,
            channel_timeout=config.channel_timeout,
            cleanup_interval=5,
            backlog=2048,
            max_request_body_size=MAX_REQUEST_BYTES,
        )
    except OSError as exc:
        pool.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", hint="choose another --port, or stop what uses it"
        ) from None
    return RunningServer(server, pool, host)
