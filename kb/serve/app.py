"""The WSGI application: /sparql (also /query), the query page and its files, /health; CORS, HTTP errors, limits."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from ..store import store_generation
from .answer import QueryJob, Reply, clip, text_reply
from .config import MAX_QUERY_CHARS, MAX_REQUEST_BYTES, ServeConfig
from .negotiate import accepted_types
from .page import Request, query_page, read_request, static_files
from .pool import WorkerPool
from .resources import ResourceApp, serves

StartResponse = Callable[..., Any]
# Only the query endpoint is open to other origins: never with credentials, never echoing the Origin.
CORS_HEADERS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
    ("Access-Control-Allow-Headers", "Content-Type, Accept"),
]
QUERY_PATHS = ("/sparql", "/query")

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


def _check_graph_iris(name: str, values: list[str]) -> Reply | None:
    import pyoxigraph as ox

    for value in values:
        try:
            ox.NamedNode(value)
        except ValueError as exc:
            return text_reply(400, f"{name} {clip(value, 200)!r} is not an absolute IRI: {clip(exc)}")
    return None


class SparqlApp:
    """The WSGI application: /sparql (also /query), / (query page), /health."""

    def __init__(self, config: ServeConfig, pool: WorkerPool) -> None:
        self.config = config
        self.pool = pool
        self.page = query_page(config)
        self.resources = ResourceApp(config)  # /id/…: the things' IRIs, dereferenced
        self.static = static_files()
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
        if serves(environ.get("PATH_INFO") or ""):
            return self.resources(environ, start_response)
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
        if path in self.static:
            return self._only_get(method) or self.static[path]
        return text_reply(404, f"no such page: {clip(path, 200)} (the endpoint is /sparql; the query page is /)")

    @staticmethod
    def _only_get(method: str) -> Reply | None:
        return None if method in ("GET", "HEAD") else text_reply(405, f"{method} is not allowed here")

    def _sparql(self, method: str, environ: dict[str, Any]) -> Reply:
        params = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if method == "POST":
            content_type = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return text_reply(400, "bad Content-Length")
            if length > MAX_REQUEST_BYTES:
                return text_reply(413, f"the request body is larger than {MAX_REQUEST_BYTES} bytes")
            body = environ["wsgi.input"].read(length) if length else b""
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                return text_reply(400, "the request body is not UTF-8")
            if content_type == "application/sparql-update":
                return text_reply(403, "this endpoint is read-only: SPARQL UPDATE is refused")
            if content_type == "application/sparql-query":
                params.setdefault("query", []).append(text)
            elif content_type in ("application/x-www-form-urlencoded", ""):
                for key, values in parse_qs(text, keep_blank_values=True).items():
                    params.setdefault(key, []).extend(values)
            else:
                return text_reply(
                    415,
                    f"cannot read a {clip(content_type, 100)} body: send application/sparql-query or a query= form",
                )
        elif method not in ("GET", "HEAD"):
            return text_reply(405, f"{method} is not allowed: use GET or POST")
        if "update" in params:
            return text_reply(403, "this endpoint is read-only: SPARQL UPDATE is refused")
        request = read_request(params)
        if not isinstance(request, Request):
            return request
        if len(request.text) > MAX_QUERY_CHARS:
            return text_reply(400, f"the query is longer than {MAX_QUERY_CHARS} characters")
        default_graphs = params.get("default-graph-uri", [])
        named_graphs = params.get("named-graph-uri", [])
        bad = _check_graph_iris("default-graph-uri", default_graphs) or _check_graph_iris(
            "named-graph-uri", named_graphs
        )
        if bad:
            return bad
        formats = params.get("format", [])
        job = QueryJob(
            query=request.text,
            accept=tuple(accepted_types(environ.get("HTTP_ACCEPT"), formats[-1] if formats else None)),
            default_graphs=tuple(default_graphs),
            named_graphs=tuple(named_graphs),
            bindings=request.bindings,
        )
        return self.pool.run(job)
