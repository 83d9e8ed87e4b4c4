"""A table of one row per thing of a class, answered from one scan per predicate joined in Python.

The shape (kb/queries/questions/measures.rq, export/measures-table.rq): a key sub-SELECT
`{ SELECT DISTINCT ?k WHERE { ?k a C } }`, then one `OPTIONAL { SELECT ?k (AGG AS ?v) WHERE { ?k P ?x } GROUP BY
?k }` per column, AGG being `SAMPLE(?x)`, `GROUP_CONCAT(DISTINCT STR(?x); separator="…")` or
`GROUP_CONCAT(DISTINCT ?x; separator="…")`, the pattern optionally followed by
`FILTER(LANGMATCHES(LANG(?x), "tag"))`; a projection of `?v` and `(COALESCE(?v, "") AS ?w)`; and a final ORDER BY.
Any other text is left to the store (`answered` gives None).

Each predicate is read once (`SELECT ?s ?o WHERE { ?s P ?o }`, in the store's own order), the cells are computed
as the store computes them, and the rows are sorted as `order.sort_rows` does. The answer is the store's exactly,
or None:
- SAMPLE's choice among several different values the engine does not define: a thing with two different values
  of a SAMPLE column gives None (the store answers). One value, seen once or in several graphs, is that value.
- GROUP_CONCAT(DISTINCT …) joins the distinct values in the order the engine meets them, which is the order of
  the same pattern's scan; tests/engines/test_query_columns.py compares the two on the shipped, a synthetic and a
  planted knowledge base (values in several graphs, language tags, missing values).
- The order is certain only where `sort_rows` / `sort_rows_in_memory` say so (else None).

Speed: the store joins the column sub-SELECTs at about 20 µs a row each; here each value costs the decoding of its
subject and object only (docs/benchmarks.md, "Queries (issue 18)": about 1.8× at 100k measures).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyoxigraph as ox

from ..namespaces import PREFIXES, expand
from .order import sort_rows, sort_rows_in_memory, split_order

Term = ox.NamedNode | ox.BlankNode | ox.Literal | None

_NAME = r"(?:<[^<>\s]+>|[A-Za-z][\w-]*:[\w-]+)"
_KEY = re.compile(rf"\{{\s*SELECT\s+DISTINCT\s+\?(\w+)\s+WHERE\s*\{{\s*\?(\w+)\s+a\s+({_NAME})\s*\}}\s*\}}", re.I)
_AGG = (
    r"(?P<agg>SAMPLE\(\s*\?(?P<sx>\w+)\s*\)"
    r"|GROUP_CONCAT\(\s*DISTINCT\s+(?P<str>STR\(\s*)?\?(?P<cx>\w+)\s*\)?\s*;\s*separator\s*=\s*\"(?P<sep>[^\"\\]*)\"\s*\))"
)
_COLUMN = re.compile(
    r"OPTIONAL\s*\{\s*SELECT\s+\?(?P<k1>\w+)\s+\(\s*" + _AGG + r"\s+AS\s+\?(?P<v>\w+)\s*\)\s*WHERE\s*\{\s*"
    rf"\?(?P<k2>\w+)\s+(?P<p>{_NAME})\s+\?(?P<x>\w+)\s*\.?\s*"
    r"(?:FILTER\s*\(\s*LANGMATCHES\s*\(\s*LANG\s*\(\s*\?(?P<lx>\w+)\s*\)\s*,\s*\"(?P<tag>[A-Za-z0-9-]+)\"\s*\)\s*\)\s*)?"
    r"\}\s*GROUP\s+BY\s+\?(?P<k3>\w+)\s*\}",
    re.I,
)
_PROJECTED = re.compile(r"\(\s*COALESCE\(\s*\?(\w+)\s*,\s*\"\"\s*\)\s+AS\s+\?(\w+)\s*\)|\?(\w+)", re.I)


@dataclass(frozen=True)
class Column:
    """One column sub-SELECT: its variable, predicate, aggregate ('sample', 'concat-str', 'concat'), separator and
    language range (or "")."""

    variable: str
    predicate: str
    aggregate: str
    separator: str
    language: str


@dataclass(frozen=True)
class Table:
    """A text of the shape this module answers: its key variable and class, columns, projection and order."""

    key: str
    cls: str
    columns: tuple[Column, ...]
    # Projected names, each with the variable it shows and whether an unbound cell shows as "" (COALESCE).
    projection: tuple[tuple[str, str, bool], ...]
    order: tuple[tuple[str, bool], ...]


def _iri(name: str) -> str | None:
    return expand(name)


def parse(text: str) -> Table | None:
    """The table a text asks for, or None when it is not exactly of this module's shape."""
    order = split_order(text)
    if order is None:
        return None
    match = re.fullmatch(r"\s*SELECT\s+(?!DISTINCT|REDUCED)(.*?)\s*WHERE\s*\{(.*)\}\s*", order.text, re.I | re.S)
    if match is None:
        return None
    head, body = match.groups()
    key = _KEY.match(body.lstrip())
    if key is None or key.group(1) != key.group(2):
        return None
    cls = _iri(key.group(3))
    rest = body.lstrip()[key.end() :]
    columns, position = [], 0
    for column in _COLUMN.finditer(rest):
        if rest[position : column.start()].strip():
            return None  # something else between the columns
        position = column.end()
        found = column.groupdict()
        x = found["sx"] or found["cx"]
        if {found["k1"], found["k2"], found["k3"]} != {key.group(1)} or x != found["x"]:
            return None
        if found["lx"] is not None and found["lx"] != x:
            return None
        predicate = _iri(found["p"])
        if predicate is None:
            return None
        aggregate = "sample" if found["sx"] else ("concat-str" if found["str"] else "concat")
        if found["str"] and not re.search(r"STR\(\s*\?\w+\s*\)\s*;", found["agg"], re.I):
            return None
        columns.append(Column(found["v"], predicate, aggregate, found["sep"] or "", found["tag"] or ""))
    if rest[position:].strip() or cls is None or not columns:
        return None
    names = {key.group(1)} | {c.variable for c in columns}
    projection = []
    for item in _PROJECTED.finditer(head):
        shown, alias, plain = item.groups()
        projection.append((alias, shown, True) if alias else (plain, plain, False))
    if _PROJECTED.sub("", head).strip() or any(shown not in names for _, shown, _ in projection):
        return None
    return Table(key.group(1), cls, tuple(columns), tuple(projection), order.keys)


def _langmatches(term: ox.NamedNode | ox.BlankNode | ox.Literal, tag: str) -> bool:
    """LANGMATCHES(LANG(term), tag) as SPARQL defines it for a basic language range (not "*")."""
    if not isinstance(term, ox.Literal) or not term.language:
        return False
    language, tag = term.language.lower(), tag.lower()
    return language == tag or language.startswith(tag + "-")


class _Ambiguous(Exception):
    """A SAMPLE column with two different values for one thing: which one the store takes is its own choice."""


def _sample(values: list[ox.NamedNode | ox.BlankNode | ox.Literal]) -> Term:
    if not values:
        return None
    first = values[0]
    if any(value != first for value in values[1:]):
        raise _Ambiguous
    return first


def _plain_text(value: ox.NamedNode | ox.Literal) -> bool:
    """A simple literal: what GROUP_CONCAT joins without STR into a simple literal (a language tag the engine may
    keep on the result, a number it may write another way: those are left to the store)."""
    return isinstance(value, ox.Literal) and value.datatype.value == PREFIXES["xsd"] + "string"


def _concat(values: list[ox.NamedNode | ox.BlankNode | ox.Literal], separator: str, text_only: bool) -> Term:
    """GROUP_CONCAT(DISTINCT …): the distinct values (their text, with STR; the terms, without) in the order met."""
    if not values:
        return None
    seen: dict[object, str] = {}
    for value in values:
        if isinstance(value, ox.BlankNode) or (not text_only and not _plain_text(value)):
            raise _Ambiguous  # STR of a blank node, or an IRI or a number joined as it is: left to the store
        seen.setdefault(value.value if text_only else value, value.value)
    return ox.Literal(separator.join(seen.values()))


def _scan(
    store: ox.Store, predicate: str, keys: set[object]
) -> dict[object, list[ox.NamedNode | ox.BlankNode | ox.Literal]]:
    """Each key's objects of `predicate`, in the order the store's scan of `?s P ?o` meets them."""
    found: dict[object, list[ox.NamedNode | ox.BlankNode | ox.Literal]] = {}
    solutions = store.query(f"SELECT ?s ?o WHERE {{ ?s <{predicate}> ?o }}", use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    for subject, value in solutions:
        if subject in keys:
            found.setdefault(subject, []).append(value)
    return found


def answer(store: ox.Store, table: Table) -> tuple[list[str], list[list[Term]]] | None:
    """The variables and rows of the table, as the store's SPARQL gives them, or None where that is not certain."""
    solutions = store.query(
        f"SELECT DISTINCT ?k WHERE {{ ?k a <{table.cls}> }}", prefixes=PREFIXES, use_default_graph_as_union=True
    )
    assert isinstance(solutions, ox.QuerySolutions)
    keys = [solution[0] for solution in solutions]
    wanted = set(keys)
    scans = {
        predicate: _scan(store, predicate, wanted) for predicate in dict.fromkeys(c.predicate for c in table.columns)
    }
    variables = [name for name, _, _ in table.projection]
    rows: list[list[Term]] = []
    try:
        for key in keys:
            computed: dict[str, Term] = {table.key: key}
            for column in table.columns:
                found = scans[column.predicate].get(key, [])
                if column.language:
                    found = [value for value in found if _langmatches(value, column.language)]
                if column.aggregate == "sample":
                    computed[column.variable] = _sample(found)
                else:
                    computed[column.variable] = _concat(found, column.separator, column.aggregate == "concat-str")
            rows.append(
                [
                    ox.Literal("") if computed[shown] is None and empty else computed[shown]
                    for _, shown, empty in table.projection
                ]
            )
    except _Ambiguous:
        return None
    if len(rows) > 1:
        ordered = sort_rows(variables, rows, table.order)
        if ordered is None:
            ordered = sort_rows_in_memory(variables, rows, table.order)
        if ordered is None:
            return None
        rows = ordered
    return variables, rows


def answered(store: ox.Store, text: str) -> tuple[list[str], list[list[Term]]] | None:
    """The store's answer to `text` from one scan per predicate, when the text has this module's shape (`parse`)
    and the answer is certain; else None."""
    table = parse(text)
    return None if table is None else answer(store, table)
