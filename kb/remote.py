"""An external SPARQL store: push the knowledge base (Graph Store Protocol) and query it (SPARQL Protocol).

HTTP goes through the standard library's urllib; result documents are parsed by pyoxigraph, so a remote
answer becomes the same QueryResult a local query gives and every output format works on it.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox

from .errors import RemoteError
from .media import GRAPH_TYPES, READ_GRAPHS, READ_RESULTS, RESULTS_TYPES
from .namespaces import sparql_prologue
from .query import QueryResult, bind_params, parse_term

DEFAULT_TIMEOUT = 60.0
_ACCEPT = (
    "application/sparql-results+json, application/sparql-results+xml;q=0.9,"
    " application/n-triples;q=0.8, text/turtle;q=0.7"
)
_RESULT_FORMATS = {media: name for media, name in RESULTS_TYPES.items() if name in READ_RESULTS}
_GRAPH_FORMATS = {media: name for media, name in GRAPH_TYPES.items() if name in READ_GRAPHS}
PushProgress = Callable[[str, int, int, int], None]


@dataclass
class PushResult:
    """What a push sent: how many graphs and triples."""

    graphs: int
    triples: int


def _send(request: urllib.request.Request, timeout: float) -> tuple[str, bytes]:
    """Send a request; (content type, body) of a 2xx answer, else a RemoteError."""
    url = request.full_url.split("?")[0]
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace").strip()[:500]
        hint = "check the endpoint URL" if exc.code in (404, 405) else None
        if exc.code in (401, 403):
            hint = "the server refused the request: check that it accepts writes/queries from here"
        raise RemoteError(
            f"{url} answered HTTP {exc.code} {exc.reason}" + (f": {detail}" if detail else ""), hint=hint
        ) from None
    except urllib.error.URLError as exc:
        raise RemoteError(
            f"cannot reach {url}: {exc.reason}", hint="is the SPARQL server running, and is the URL right?"
        ) from None
    except (TimeoutError, OSError) as exc:
        hint = "the server may be busy; try a larger --timeout"
        raise RemoteError(f"no answer from {url}: {exc}", hint=hint) from None


def _check_url(endpoint: str) -> None:
    parts = urllib.parse.urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RemoteError(f"'{endpoint}' is not an http(s) URL", hint="e.g. http://127.0.0.1:7878/query")


def query_remote(
    endpoint: str, text: str, params: dict[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT
) -> QueryResult:
    """Run a query on a SPARQL 1.1 Protocol endpoint, with the project prefixes declared."""
    _check_url(endpoint)
    if params:
        text = bind_params(text, {k: parse_term(v) for k, v in params.items()})
    body = urllib.parse.urlencode({"query": sparql_prologue() + text}).encode("utf-8")
    request = urllib.request.Request(
        endpoint,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": _ACCEPT},
    )
    content_type, data = _send(request, timeout)
    return parse_response(content_type, data, endpoint)


def parse_response(content_type: str, data: bytes, endpoint: str = "the endpoint") -> QueryResult:
    """A SPARQL results document (or RDF for CONSTRUCT/DESCRIBE) as a QueryResult."""
    media = content_type.split(";")[0].strip().lower()
    try:
        if media in _RESULT_FORMATS:
            result = ox.parse_query_results(data, format=getattr(ox.QueryResultsFormat, _RESULT_FORMATS[media]))
            if isinstance(result, ox.QueryBoolean):
                return QueryResult("ask", boolean=bool(result))
            variables = [v.value for v in result.variables]
            rows = [[solution[v] for v in result.variables] for solution in result]
            return QueryResult("select", variables=variables, rows=rows)
        if media in _GRAPH_FORMATS:
            triples = list(ox.parse(data, format=getattr(ox.RdfFormat, _GRAPH_FORMATS[media])))
            return QueryResult("graph", triples=[ox.Triple(t.subject, t.predicate, t.object) for t in triples])
    except SyntaxError as exc:
        raise RemoteError(f"{endpoint} sent a {media} document that does not parse: {exc}") from None
    raise RemoteError(
        f"{endpoint} answered with {media or 'no content type'}, not SPARQL results",
        hint="is the URL the server's query endpoint (e.g. …/query or …/sparql)?",
    )


def graph_store_url(endpoint: str, graph: str) -> str:
    """The Graph Store Protocol URL of one named graph (indirect identification: ?graph=IRI)."""
    separator = "&" if "?" in endpoint else "?"
    return f"{endpoint}{separator}{urllib.parse.urlencode({'graph': graph})}"


def push_store(
    store: ox.Store, endpoint: str, progress: PushProgress | None = None, timeout: float = DEFAULT_TIMEOUT
) -> PushResult:
    """Replace each named graph of the store in the remote store with HTTP PUT (Graph Store Protocol)."""
    _check_url(endpoint)
    graphs = sorted((g for g in store.named_graphs() if isinstance(g, ox.NamedNode)), key=lambda g: g.value)
    total = 0
    for index, graph in enumerate(graphs, start=1):
        quads = store.quads_for_pattern(None, None, None, graph)
        triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
        data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        request = urllib.request.Request(
            graph_store_url(endpoint, graph.value),
            data=data,
            method="PUT",
            headers={"Content-Type": "application/n-triples"},
        )
        _send(request, timeout)
        total += len(triples)
        if progress:
            progress(graph.value, len(triples), index, len(graphs))
    return PushResult(len(graphs), total)
