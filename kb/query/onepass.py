"""Named *-violation queries that the store answers slowly at scale, with their rows computed in one pass in Python.

`sibling-announcement-mismatch-violation` compares every pair of quotes of a source with CONTAINS: quadratic per
source (over ten minutes at 10k synthetic measures). `ROWS[name](store)` gives the query's rows, each a dict of
variable → term, in the query's order; the .rq file stays the named query and the reference
(tests/cli/test_validate_onepass.py compares both on planted faults). `kb validate` uses them (kb/validate/onepass.py),
and so do `kb query` and `kb serve` for exactly the catalogue's text without parameters (`answered`).
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

import pyoxigraph as ox

from ..namespaces import PREFIXES
from .catalogue import get_named_query
from .run import QueryResult, select

Rows = list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]

_CQ = PREFIXES["cq"]
_SEPARATOR = "\x00"  # between the quotes of one source, in the text each quote is looked for in


def _short(text: str, pattern: str, prefix: str) -> str:
    return re.sub(pattern, prefix, text, count=1)


def sibling_announcement_mismatch(
    store: ox.Store, measure_quotes: Iterable[tuple[str, str, str]] | None = None
) -> Rows:
    """Measures from one sentence (one quote equal to or inside another's, same source) where the measure lacks a
    cq:announcedAt its sibling has: sibling-announcement-mismatch-violation.rq, without its pair-by-pair join.

    Per source, every quote is looked for (str.find) in the source's quotes joined into one text: each hit is a
    quote that contains it. `measure_quotes`: (measure IRI, source, quote) of every measure's quote and source when
    already read (kb/evidence.py's Quotes), else they are read here."""
    quotes: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # source → quote → measures
    for measure, source, quote in _measure_quotes(store) if measure_quotes is None else measure_quotes:
        quotes[source][quote].add(measure)
    events: dict[str, set[str]] = defaultdict(set)
    query = (
        "SELECT ?m ?event WHERE { { SELECT ?m WHERE { ?m a cq:Measure } } "
        "{ SELECT ?m ?event WHERE { ?m cq:announcedAt ?event } } }"
    )
    for row in select(store.query(query, prefixes={"cq": _CQ}, use_default_graph_as_union=True)):
        events[row["m"].value].add(row["event"].value)
    found: set[tuple[str, str, str, str]] = set()  # (subject, source, sibling, event)
    for source, by_quote in quotes.items():
        texts = [q for q in by_quote if _SEPARATOR not in q]
        if len(texts) != len(by_quote):  # pragma: no cover - a quote with a NUL: compare every pair
            pairs = [(a, b) for a in by_quote for b in by_quote if a in b or b in a]
        else:
            joined = _SEPARATOR.join(texts)
            starts = []
            offset = 0
            for text in texts:
                starts.append(offset)
                offset += len(text) + 1
            pairs = []
            for quote in texts:
                at = joined.find(quote)
                while at != -1:
                    pairs.append((quote, texts[bisect.bisect_right(starts, at) - 1]))
                    at = joined.find(quote, at + 1)
        for inner, outer in pairs:
            for ours, theirs in ((inner, outer), (outer, inner)):
                for subject in by_quote[ours]:
                    for sibling in by_quote[theirs]:
                        if subject == sibling:
                            continue
                        for event in events.get(sibling, ()):
                            if event not in events.get(subject, ()):
                                found.add((subject, source, sibling, event))
    rows: Rows = []
    prop = ox.NamedNode(_CQ + "announcedAt")
    for subject, source, sibling, event in sorted(found):
        message = (
            f"shares a sentence of {_short(source, '^.*/source/', 'src:')} with "
            f"{_short(sibling, '^.*/measure/', 'measure:')}, announced at "
            f"{_short(event, '^.*/announcement/', 'ann:')}, but is not announced there"
        )
        rows.append({"subject": ox.NamedNode(subject), "property": prop, "message": ox.Literal(message)})
    return _distinct(rows)


def _measure_quotes(store: ox.Store) -> list[tuple[str, str, str]]:
    # each pattern its own sub-SELECT: the store joins three scans by hashing, not a lookup per measure (3x at 100k)
    query = (
        "SELECT ?m ?src ?quote WHERE { { SELECT ?m WHERE { ?m a cq:Measure } } "
        "{ SELECT ?m ?src WHERE { ?m cq:source ?src } } { SELECT ?m ?quote WHERE { ?m cq:quote ?quote } } }"
    )
    return [
        (row["m"].value, row["src"].value, row["quote"].value)
        for row in select(store.query(query, prefixes={"cq": _CQ}, use_default_graph_as_union=True))
        # a blank node's id differs from one query to the next; none is a measure in the facts
        if isinstance(row["m"], ox.NamedNode)
    ]


def _distinct(rows: Rows) -> Rows:
    seen: dict[tuple[object, ...], dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]] = {}
    for row in rows:
        seen.setdefault(tuple(sorted(row.items())), row)
    return sorted(seen.values(), key=lambda r: (r["subject"].value, r["message"].value))


class RowsOf(Protocol):
    """A ROWS function: the store, and the measures' quotes when already read."""

    def __call__(self, store: ox.Store, measure_quotes: Iterable[tuple[str, str, str]] | None = None) -> Rows: ...


ROWS: dict[str, RowsOf] = {
    "sibling-announcement-mismatch-violation": sibling_announcement_mismatch,
}


def answered(
    store: ox.Store, text: str, measure_quotes: Iterable[tuple[str, str, str]] | None = None
) -> QueryResult | None:
    """The rows of a named query of ROWS when `text` is exactly its catalogue text, else None (`measure_quotes`: see
    sibling_announcement_mismatch)."""
    for name, rows_of in ROWS.items():
        query = get_named_query(name)
        if text == query.text:
            projection = re.search(r"^SELECT\s+(?:DISTINCT\s+)?((?:\?\w+\s+)+)WHERE", text, re.MULTILINE)
            if projection is None:  # pragma: no cover - the catalogue's text of a ROWS query projects variables
                return None
            variables = re.findall(r"\?(\w+)", projection.group(1))
            rows = rows_of(store, measure_quotes)
            return QueryResult("select", variables=variables, rows=[[row.get(v) for v in variables] for row in rows])
    return None
