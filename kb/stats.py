"""A summary of the knowledge base: what it holds, per source article, category and month."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from .query import QueryResult, get_named_query, run_query


@dataclass
class Stats:
    """Named tables of counts."""

    tables: dict[str, QueryResult]


STAT_QUERIES = {
    "by class": "counts-by-class",
    "by source article": "counts-by-source",
    "measures by category": "measures-by-category",
    "measures by month announced": "measures-by-month",
    "measures by strength": "measures-by-strength",
}


def compute_stats(store: ox.Store) -> Stats:
    """Run each summary query."""
    return Stats({title: run_query(store, get_named_query(name).text) for title, name in STAT_QUERIES.items()})
