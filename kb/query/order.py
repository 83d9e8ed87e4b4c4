"""A query's final ORDER BY done in Python: the on-disk store decodes both terms of every comparison it sorts by
(an IRI or a long text is a database read), so sorting 10k rows there costs about as much as finding them.

Only when the result is the same as the store's: the ORDER BY ends the query (no LIMIT or OFFSET after it) and
sorts by projected variables, every key column holds only unbound cells, IRIs and literals of one kind that
compare by a plain key (simple strings, integers and decimals by value, dates written YYYY-MM-DD), and rows
whose keys tie are the same row. Otherwise `sort_rows` answers None; `sort_rows_in_memory` then lets oxigraph sort
the rows on an empty in-memory store, and only where that is not certain either does the caller run the query with
its ORDER BY on the store.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import pyoxigraph as ox

from ..namespaces import PREFIXES

_XSD = PREFIXES["xsd"]
_KEY = r"(?:(?:ASC|DESC)\s*\(\s*\?\w+\s*\)|\?\w+)"
_ORDER = re.compile(rf"\bORDER\s+BY((?:\s*{_KEY})+)\s*$", re.IGNORECASE)
_ONE_KEY = re.compile(r"(ASC|DESC)?\s*\(?\s*\?(\w+)", re.IGNORECASE)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")

Term = ox.NamedNode | ox.BlankNode | ox.Literal | None


@dataclass(frozen=True)
class Order:
    """A query's text without its final ORDER BY, and the keys it sorted by: (variable, descending)."""

    text: str
    keys: tuple[tuple[str, bool], ...]


def split_order(text: str) -> Order | None:
    """The query without its final `ORDER BY ?a DESC(?b) …` clause, or None when it has no such clause."""
    code = "\n".join("" if line.lstrip().startswith("#") else line for line in text.splitlines())
    match = _ORDER.search(code)
    if match is None or code[: match.start()].rstrip()[-1:] != "}":
        return None
    keys = tuple((name, (way or "").upper() == "DESC") for way, name in _ONE_KEY.findall(match.group(1)))
    return Order(code[: match.start()], keys)


def _kind(term: Term) -> str | None:
    """What a cell sorts as: 'unbound', 'iri', 'string', 'number', 'date'; None when no plain key is exact."""
    if term is None:
        return "unbound"
    if isinstance(term, ox.NamedNode):
        return "iri"
    if isinstance(term, ox.BlankNode) or term.language:
        return None
    datatype = term.datatype.value
    if datatype == _XSD + "string":
        return "string"
    if datatype in (_XSD + "integer", _XSD + "decimal") and _NUMBER.fullmatch(term.value):
        return "number"  # compared by value, integers and decimals alike
    if datatype == _XSD + "date" and _DATE.fullmatch(term.value):
        return "date"
    return None


def _column_key(column: list[Term]) -> list[tuple[int, object]] | None:
    """A sort key per cell of one column (unbound before IRIs before literals), or None when not exact."""
    kinds = [_kind(term) for term in column]
    literal_kinds = set(kinds) - {"unbound", "iri"}
    if None in literal_kinds or len(literal_kinds) > 1:
        return None
    keys: list[tuple[int, object]] = []
    for term, kind in zip(column, kinds, strict=True):
        if term is None:
            keys.append((0, 0))
        elif kind == "iri":
            keys.append((1, term.value))
        else:
            keys.append((2, Decimal(term.value) if kind == "number" else term.value))
    return keys


def sort_rows(
    variables: Sequence[str], rows: list[list[Term]], keys: Sequence[tuple[str, bool]]
) -> list[list[Term]] | None:
    """`rows` in the order the store's ORDER BY `keys` would give them, or None when that order is not certain."""
    if any(name not in variables for name, _ in keys):
        return None
    columns = []
    for name, descending in keys:
        index = variables.index(name)
        column_keys = _column_key([row[index] for row in rows])
        if column_keys is None:
            return None
        columns.append((column_keys, descending))
    order = list(range(len(rows)))
    for column_keys, descending in reversed(columns):  # stable sorts, last key first
        order.sort(key=column_keys.__getitem__, reverse=descending)
    for before, after in zip(order, order[1:], strict=False):
        tied = all(column_keys[before] == column_keys[after] for column_keys, _ in columns)
        if tied and [str(t) for t in rows[before]] != [str(t) for t in rows[after]]:
            return None  # the store may put these two either way round
    return [rows[i] for i in order]


_NUMERIC = {_XSD + name for name in ("integer", "decimal", "double", "float")}


def _tie_key(term: Term) -> object:
    """What two keys that oxigraph may count as equal share: the text, or the value of a number."""
    if term is None:
        return None
    if isinstance(term, ox.Literal) and term.datatype.value in _NUMERIC:
        try:
            return float(term.value)
        except ValueError:
            return term.value
    return term.value


def sort_rows_in_memory(
    variables: Sequence[str], rows: list[list[Term]], keys: Sequence[tuple[str, bool]]
) -> list[list[Term]] | None:
    """`rows` sorted by oxigraph itself on an empty in-memory store (a VALUES block of them with the same ORDER BY),
    where `sort_rows` cannot tell the order (a text with a language tag, a typed literal of another kind): the same
    comparisons as the on-disk store's, without reading a term from the database. None when the order is not
    certain that way either: a blank node (no VALUES can hold one), or two different rows whose keys have the same
    text in every column (oxigraph may put them either way round, by the plan it made)."""
    if any(name not in variables for name, _ in keys) or not rows:
        return None
    indexes = [variables.index(name) for name, _ in keys]
    seen: dict[tuple[object, ...], list[Term]] = {}
    for row in rows:
        if any(isinstance(term, ox.BlankNode) for term in row):
            return None
        tie = tuple(_tie_key(row[i]) for i in indexes)
        if tie in seen and [str(t) for t in seen[tie]] != [str(t) for t in row]:
            return None
        seen[tie] = row
    names = " ".join("?" + name for name in variables)
    block = " ".join("(" + " ".join("UNDEF" if t is None else str(t) for t in row) + ")" for row in rows)
    order = " ".join(f"DESC(?{name})" if descending else f"?{name}" for name, descending in keys)
    solutions = ox.Store().query(f"SELECT {names} WHERE {{ VALUES ({names}) {{ {block} }} }} ORDER BY {order}")
    if not isinstance(solutions, ox.QuerySolutions):
        return None
    return [[solution[name] for name in variables] for solution in solutions]
