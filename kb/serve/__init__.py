"""A read-only SPARQL 1.1 Protocol endpoint over the persistent store.

Queries run in a small pool of worker processes (pool.py), each with the store opened read-only; a query that
outlives the time limit has its worker killed and replaced. A worker refuses SPARQL SERVICE and serialises the
result, as negotiated (negotiate.py), into a sink that stops at the size limit (answer.py). HTTP is served by
waitress (server.py) over the WSGI application (app.py), whose query page (page.py) is a jinja2 template
(templates/) with a vendored editor (static/). Under /id/ the app hands over to resources.py: each thing's IRI
dereferenced to its page, Turtle or JSON-LD. Modules depend one way: config, negotiate ← answer ← pool, page,
resources ← app ← server.
"""

from __future__ import annotations

from .answer import QueryJob, Reply, answer_query, mentions_service, service_refusal
from .app import CORS_HEADERS, QUERY_PATHS, SparqlApp
from .config import MAX_QUERY_CHARS, MAX_REQUEST_BYTES, ServeConfig
from .negotiate import FORMAT_NAMES, accepted_types, choose_format
from .page import query_page, read_request
from .pool import WorkerPool
from .server import RunningServer, create_server

__all__ = [
    "CORS_HEADERS",
    "FORMAT_NAMES",
    "MAX_QUERY_CHARS",
    "MAX_REQUEST_BYTES",
    "QUERY_PATHS",
    "QueryJob",
    "Reply",
    "RunningServer",
    "ServeConfig",
    "SparqlApp",
    "WorkerPool",
    "accepted_types",
    "answer_query",
    "choose_format",
    "create_server",
    "mentions_service",
    "query_page",
    "read_request",
    "service_refusal",
]
