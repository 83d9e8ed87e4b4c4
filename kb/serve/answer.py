"""Answering one query on an open pyoxigraph store: SERVICE refused, the dataset, the negotiated format, the size cap.

It runs inside a worker process (kb/serve/pool.py) and never raises for a query: every outcome is a Reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ResultTooLarge
from ..media import CONTENT_TYPES, GRAPH_TYPES, RESULTS_TYPES
from ..namespaces import PREFIXES
from .config import MB
from .negotiate import choose_format


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, content type and body."""

    status: int
    content_type: str
    body: bytes


def text_reply(status: int, message: str) -> Reply:
    """A plain-text answer of one message."""
    return Reply(status, "text/plain; charset=utf-8", (message.rstrip("\n") + "\n").encode("utf-8"))


def clip(value: object, limit: int = 300) -> str:
    """The text of `value`, cut at `limit` characters (what a client is told never grows without bound)."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


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


# ---------------------------------------------------------------- one query


class _CappedSink:
    """A write-only buffer that refuses to grow past `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise ResultTooLarge
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


@dataclass(frozen=True)
class QueryJob:
    """One query to run: its text, the acceptable media types, the dataset to query and the values to bind
    (name, value as written: a date, a number, prefix:name, <iri> or text, as for kb query --param)."""

    query: str
    accept: tuple[str, ...]
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    bindings: tuple[tuple[str, str], ...] = ()


def _bound(store: Any, job: QueryJob) -> str | Reply:
    """The job's text with its bindings in, or a 400 naming a value that names nothing in the store
    ("no such measure … did you mean …")."""
    from ..errors import QueryError
    from ..query import bind_params, check_terms, parse_term

    if not job.bindings:
        return job.query
    values = dict(job.bindings)
    try:
        check_terms(store, values)
        return bind_params(job.query, {name: parse_term(value) for name, value in values.items()})
    except QueryError as error:
        return text_reply(400, str(error))
    except ValueError as exc:  # a term pyoxigraph cannot build (e.g. an IRI with spaces)
        return text_reply(400, f"a parameter value is not a valid RDF term: {clip(exc)}")


def memory_message(limit: int | None) -> str:
    """What a client is told when its query ran into the memory ceiling."""
    size = f"{limit / MB:g} MB" if limit else "the available memory"
    return f"the query was stopped: it needed more memory than its limit of {size}; narrow it or add a LIMIT"


def _failed(exc: BaseException, job: QueryJob, allow_service: bool) -> Reply:
    if allow_service and mentions_service(job.query):
        # What went wrong may quote the remote endpoint's answer: never pass that on.
        return text_reply(400, "the query failed (a SERVICE call may have failed; the remote answer is not shown)")
    return text_reply(400, f"the query could not be evaluated: {clip(exc)}")


def _fast_result(store: Any, job: QueryJob, folder: Path | None, max_bytes: int) -> Any:
    """The solutions of the job by kb query's fast paths (kept answers, final ORDER BY in Python), replayed by
    pyoxigraph from a VALUES block so that it writes them exactly as it writes a store's; None when no fast path
    applies (a dataset chosen by the client, SERVICE, a CONSTRUCT, a blank node in a row …) or anything fails there (the
    store then runs the query and says what went wrong, as before)."""
    import pyoxigraph as ox

    from ..query.run import fast_answer

    if job.default_graphs or job.named_graphs or mentions_service(job.query):
        return None  # a dataset of the client's own; a SERVICE call is made once, by the store
    try:
        result = fast_answer(store, job.query, dict(job.bindings), folder, budget=max_bytes)
        if result is None or result.kind != "select" or not result.variables:
            return None
        if any(isinstance(term, ox.BlankNode) for row in result.rows for term in row):
            return None  # a VALUES block cannot hold a blank node
        names = " ".join("?" + name for name in result.variables)
        rows = " ".join("(" + " ".join("UNDEF" if t is None else str(t) for t in row) + ")" for row in result.rows)
        return ox.Store().query(f"SELECT {names} WHERE {{ VALUES ({names}) {{ {rows} }} }}")
    except MemoryError:
        raise
    except Exception:
        return None


def answer_query(
    store: Any,
    job: QueryJob,
    max_bytes: int,
    allow_service: bool = False,
    max_memory: int | None = None,
    folder: Path | None = None,
) -> Reply:
    """Run one query on a pyoxigraph store and serialise the result as negotiated; never raises for a query.

    `folder` is the snapshot folder the store reads: the answers the build kept there are used (kb/query/run.py)."""
    import pyoxigraph as ox

    text = _bound(store, job)
    if isinstance(text, Reply):
        return text
    if not allow_service:
        refusal = service_refusal(text)
        if refusal:
            return text_reply(400, refusal)
    options: dict[str, Any] = {"prefixes": PREFIXES}
    try:
        if job.default_graphs:
            options["default_graph"] = [ox.NamedNode(iri) for iri in job.default_graphs]
        else:
            options["use_default_graph_as_union"] = True  # the protocol leaves it to us: every graph
        if job.named_graphs:
            options["named_graphs"] = [ox.NamedNode(iri) for iri in job.named_graphs]
    except ValueError as exc:
        return text_reply(400, f"a graph IRI is not valid: {clip(exc)}")
    for node in (*options.get("default_graph", []), *options.get("named_graphs", [])):
        if not store.contains_named_graph(node):
            return text_reply(400, f"there is no graph <{clip(node.value)}> in the store")
    try:
        result = _fast_result(store, job, folder, max_bytes) or store.query(text, **options)
        graph = isinstance(result, ox.QueryTriples)
        name = choose_format(list(job.accept), graph)
        if name is None:
            offered = ", ".join(sorted(set(GRAPH_TYPES if graph else RESULTS_TYPES)))
            return text_reply(406, f"cannot answer in {', '.join(job.accept)}; this result can be sent as: {offered}")
        fmt = getattr(ox.RdfFormat if graph else ox.QueryResultsFormat, name)
        sink = _CappedSink(max_bytes)
        result.serialize(sink, fmt)
        return Reply(200, CONTENT_TYPES[name], b"".join(sink.parts))
    except SyntaxError as exc:
        return text_reply(400, f"SPARQL syntax error: {clip(exc)}")
    except ResultTooLarge:
        return text_reply(
            422, f"the result is larger than the limit of {max_bytes} bytes: add a LIMIT or narrow the query"
        )
    except MemoryError:
        return text_reply(503, memory_message(max_memory))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # also pyo3's PanicException, which is no Exception
        return _failed(exc, job, allow_service)
