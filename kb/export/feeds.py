"""The export's own SPARQL feeds (kb/queries/export/*.rq), read by path: no user question is an export's contract."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from ..query import QueryResult, load_query, run_query

QUERY_DIR = Path(__file__).resolve().parent.parent / "queries" / "export"


def feed(store: ox.Store, name: str) -> QueryResult:
    """The rows of the feed kb/queries/export/<name>.rq over the store."""
    return run_query(store, load_query(QUERY_DIR / f"{name}.rq").text)
