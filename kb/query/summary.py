"""Answers of the summary queries, computed once by the build and kept in the store's snapshot folder.

The counts by class, source, category, strength, month, place and date kind aggregate the whole knowledge base: on
a large store each takes a scan of every measure, however few rows it returns. The build runs them on the store it
has just written (`write_summary`, the last step before publishing) and keeps their rows in `summary.json` beside
the database, keyed by the digest of the query's text. `run_query` answers a query whose text and parameters (none)
are exactly such a text from that file (`summarised`, by way of kb/query/run.py's
`kept_answer`): a published folder never changes, so the rows are the ones
the same SPARQL gives on that store. Any other text, a store opened some other way, or a folder without the file
(a store built before this existed) runs on the store as usual.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox

from ..fsio import write_atomic
from .catalogue import get_named_query
from .run import QueryResult, run_query

SUMMARY = "summary.json"
FORMAT = 1
# Parameterless named queries of at most a few hundred rows that aggregate (or, for measures-without-issuer, look
# through) the whole knowledge base: each scans every measure, however few rows it returns.
SUMMARISED = (
    "counts-by-class",
    "counts-by-source",
    "date-kinds",
    "measures-by-category",
    "measures-by-month",
    "measures-by-strength",
    "measures-per-place",
    "measures-without-issuer",
    # a check that scans every link triple (161 ms at 1M measures on the store, ~0 from here): the build's own
    # run costs that once; `kb validate` on the snapshot reads the same rows
    "self-change-violation",
)

Term = ox.NamedNode | ox.BlankNode | ox.Literal | None


def digest(text: str) -> str:
    """The key of a query text in the summary."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def encode_term(term: Term) -> list[str] | None:
    """A term as JSON (`[kind, value, language or datatype]`, None when unbound): the cells of summary.json and
    checked.json."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return ["iri", term.value]
    if isinstance(term, ox.BlankNode):
        return ["blank", term.value]
    if term.language:
        return ["lang", term.value, term.language]
    return ["typed", term.value, term.datatype.value]


def decode_term(cell: list[str] | None) -> Term:
    """The term `encode_term` wrote."""
    if cell is None:
        return None
    kind, value = cell[0], cell[1]
    if kind == "iri":
        return ox.NamedNode(value)
    if kind == "blank":
        return ox.BlankNode(value)
    if kind == "lang":
        return ox.Literal(value, language=cell[2])
    return ox.Literal(value, datatype=ox.NamedNode(cell[2]))


def write_summary(store: ox.Store, folder: Path) -> None:
    """Run the summary queries on the store just built and keep their answers in `folder`/summary.json."""
    answers = {}
    for name in SUMMARISED:
        text = get_named_query(name).text
        result = run_query(store, text)
        rows = [[encode_term(term) for term in row] for row in result.rows]
        answers[digest(text)] = {"name": name, "variables": result.variables, "rows": rows}
    write_atomic(folder / SUMMARY, json.dumps({"format": FORMAT, "answers": answers}, ensure_ascii=False))
    from .announced import write_announced_index  # the announcement days, sorted (kb/query/announced.py)

    write_announced_index(store, folder)


_LOADED: dict[str, dict] = {}  # summary.json per snapshot folder (a published folder never changes)
_LOADED_LOCK = threading.Lock()


def _answers(folder: Path) -> dict:
    key = str(folder)
    with _LOADED_LOCK:
        if key not in _LOADED:
            try:
                data = json.loads((folder / SUMMARY).read_text("utf-8"))
            except (OSError, ValueError):
                data = {}
            ok = isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("answers"), dict)
            _LOADED[key] = data["answers"] if ok else {}
        return _LOADED[key]


def summarised(folder: Path, text: str) -> QueryResult | None:
    """The answer kept by the build for exactly this query text in this snapshot folder, or None."""
    entry = _answers(folder).get(digest(text))
    if not isinstance(entry, dict):
        return None
    rows = [[decode_term(cell) for cell in row] for row in entry["rows"]]
    return QueryResult("select", variables=list(entry["variables"]), rows=rows)


T = TypeVar("T")


def read_once(
    loaded: dict[str, T | None], lock: threading.Lock, folder: Path, read: Callable[[Path], T | None]
) -> T | None:
    """What `read` gives for a snapshot folder, read once per folder and kept in `loaded` (a published folder never
    changes); folders a later build removed are let go, since kb serve lives through many builds."""
    key = str(folder)
    with lock:
        if key not in loaded:
            for gone in [known for known in loaded if not Path(known).exists()]:
                del loaded[gone]
            loaded[key] = read(folder)
        return loaded[key]
