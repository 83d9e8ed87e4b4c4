"""Named queries rewritten for speed give exactly the rows of their earlier text, and an ORDER BY done in Python
(kb/query/order.py) gives exactly the store's order.

tests/engines/rewritten-queries/ keeps the text each rewritten query had before (one file per query, named as in
the catalogue). Both texts run on the shipped knowledge base and on a synthetic one (bench/synth.py), with the same
parameters, and must give the same variables and the same rows, in the same order where the old text has an ORDER BY
(terms compared whole, so a GROUP_CONCAT joined in another order counts as a difference).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from samples import query_bindings

from bench.synth import generate
from kb.namespaces import PREFIXES
from kb.project import Project
from kb.query import QueryResult, bind_params, catalogue, parse_term, run_query
from kb.query.order import sort_rows, sort_rows_in_memory, split_order
from kb.query.run import fast_answer
from kb.store import open_store

REFERENCE = Path(__file__).resolve().parent / "rewritten-queries"
QUERIES = catalogue()
REWRITTEN = sorted(path.stem for path in REFERENCE.glob("*.rq"))


def _answer(store: ox.Store, text: str, params: dict[str, str]) -> tuple[list[str], list[list[str | None]]]:
    result = run_query(store, text, params)
    return result.variables, [[None if term is None else str(term) for term in row] for row in result.rows]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> ox.Store:
    """A synthetic knowledge base of 300 measures, built like the real one (derived periods included)."""
    folder = tmp_path_factory.mktemp("rewrites")
    root = generate(folder / "kb", measures=300, per_file=100)
    mp = pytest.MonkeyPatch()
    mp.setenv("KB_STATE_DIR", str(folder / "state"))
    try:
        return open_store(Project(root))
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def shipped(project: Project) -> ox.Store:
    return open_store(project)


def test_every_reference_names_a_query() -> None:
    assert REWRITTEN, "no reference texts found"
    unknown = [name for name in REWRITTEN if name not in QUERIES]
    assert not unknown, f"reference texts for queries the catalogue does not have: {unknown}"


@pytest.mark.parametrize("name", REWRITTEN)
@pytest.mark.parametrize("kb", ["shipped", "synthetic"])
def test_rewritten_query_gives_the_old_rows(name: str, kb: str, request: pytest.FixtureRequest) -> None:
    store = request.getfixturevalue(kb)
    query = QUERIES[name]
    old_text = (REFERENCE / f"{name}.rq").read_text("utf-8")
    assert old_text != query.text, f"{name}: the reference is the current text; nothing is compared"
    params = query_bindings(query)
    old_vars, old_rows = _answer(store, old_text, params)
    new_vars, new_rows = _answer(store, query.text, params)
    assert new_vars == old_vars
    assert len(new_rows) == len(old_rows)
    _same_rows(old_text, old_vars, old_rows, new_rows)


def _same_rows(
    old_text: str, variables: list[str], old_rows: list[list[str | None]], new_rows: list[list[str | None]]
) -> None:
    """The same rows, as many times each, in the same order as far as the old text's ORDER BY decides it (rows
    whose keys tie may come in either order: SPARQL leaves that to the engine's plan)."""
    assert Counter(map(tuple, new_rows)) == Counter(map(tuple, old_rows))
    order = split_order(old_text)
    if order is not None and all(name in variables for name, _ in order.keys):
        columns = [variables.index(name) for name, _ in order.keys]
        assert [[row[i] for i in columns] for row in new_rows] == [[row[i] for i in columns] for row in old_rows]
    elif re.search(r"\bORDER\s+BY\b", old_text, re.IGNORECASE):
        assert new_rows == old_rows


ORDERED = sorted(name for name, query in QUERIES.items() if split_order(query.text) is not None)


def _store_sorted(store: ox.Store, text: str, params: dict[str, str]) -> list[list[str | None]]:
    """The rows with the ORDER BY done by the store itself."""
    if params:
        text = bind_params(text, {name: parse_term(value) for name, value in params.items()})
    solutions = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    return [[None if s[v] is None else str(s[v]) for v in solutions.variables] for s in solutions]


@pytest.mark.parametrize("name", ORDERED)
@pytest.mark.parametrize("kb", ["shipped", "synthetic"])
def test_order_done_in_python_is_the_stores(name: str, kb: str, request: pytest.FixtureRequest) -> None:
    store = request.getfixturevalue(kb)
    query = QUERIES[name]
    params = query_bindings(query)
    assert _answer(store, query.text, params)[1] == _store_sorted(store, query.text, params)


def test_the_big_tables_are_sorted_in_python(synthetic: ox.Store) -> None:
    """`measures` takes the Python path on the synthetic KB, not the fallback to the store's ORDER BY."""
    order = split_order(QUERIES["measures"].text)
    assert order is not None
    result = run_query(synthetic, order.text)
    assert len(result.rows) == 300
    assert sort_rows(result.variables, result.rows, order.keys) is not None


Values = dict[str, ox.NamedNode | ox.BlankNode | ox.Literal | None]


def _planted(values: Values) -> ox.Store:
    """An in-memory store: a thing <urn:s:NAME> per value, with <urn:v> VALUE when the value is not None."""
    store = ox.Store()
    for name, value in values.items():
        thing = ox.NamedNode(f"urn:s:{name}")
        store.add(ox.Quad(thing, ox.NamedNode("urn:a"), ox.NamedNode("urn:Thing")))
        if value is not None:
            store.add(ox.Quad(thing, ox.NamedNode("urn:v"), value))
    return store


def _typed(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(PREFIXES["xsd"] + datatype))


PLANTED: dict[str, Values] = {
    "dates": {
        "a": _typed("2022-11-10", "date"),
        "b": _typed("2020-01-31", "date"),
        "c": None,
        "d": _typed("2022-11-09", "date"),
    },
    "numbers": {"a": _typed("10", "integer"), "b": _typed("9.5", "decimal"), "c": _typed("-2", "integer"), "d": None},
    "texts and IRIs": {"a": ox.Literal("b"), "b": ox.NamedNode("urn:z"), "c": ox.Literal("B"), "d": ox.Literal("中文")},
}
SORTED = "SELECT ?s ?v WHERE { ?s <urn:a> <urn:Thing> OPTIONAL { ?s <urn:v> ?v } } ORDER BY {keys}"


@pytest.mark.parametrize("keys", ["?v ?s", "DESC(?v) ?s", "?v DESC(?s)"])
@pytest.mark.parametrize("case", sorted(PLANTED))
def test_planted_values_sort_as_in_the_store(case: str, keys: str) -> None:
    store = _planted(PLANTED[case])
    text = SORTED.replace("{keys}", keys)
    order = split_order(text)
    assert order is not None
    unsorted = run_query(store, order.text)
    assert sort_rows(unsorted.variables, unsorted.rows, order.keys) is not None  # the Python path is taken
    assert _answer(store, text, {})[1] == _store_sorted(store, text, {})


UNCERTAIN: dict[str, tuple[str, Values]] = {
    "a tie between different rows": ("?v", {"a": ox.Literal("x"), "b": ox.Literal("x")}),
    "texts with a language": ("?v ?s", {"a": ox.Literal("x", language="en"), "b": ox.Literal("y", language="zh")}),
    "a text and a date": ("?v ?s", {"a": ox.Literal("x"), "b": _typed("2022-01-01", "date")}),
    "a blank node": ("?v ?s", {"a": ox.BlankNode("b1"), "b": ox.Literal("y")}),
    "a date with a time zone": ("?v ?s", {"a": _typed("2022-01-01Z", "date"), "b": _typed("2022-01-02", "date")}),
}


def _unsorted(keys: str, values: Values) -> tuple[ox.Store, str, tuple[tuple[str, bool], ...], QueryResult]:
    """The planted store, the sorting text, its keys and its rows as the store gives them without the ORDER BY."""
    store = _planted(values)
    text = SORTED.replace("{keys}", keys)
    order = split_order(text)
    assert order is not None
    return store, text, order.keys, run_query(store, order.text)


@pytest.mark.parametrize("case", sorted(UNCERTAIN))
def test_an_uncertain_order_is_left_to_the_store(case: str) -> None:
    store, text, keys, unsorted = _unsorted(*UNCERTAIN[case])
    assert sort_rows(unsorted.variables, unsorted.rows, keys) is None
    assert _answer(store, text, {})[1] == _store_sorted(store, text, {})


def test_only_a_final_order_by_is_split() -> None:
    assert split_order("SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 3") is None
    assert split_order("SELECT ?s WHERE { { SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s } }") is None
    assert split_order("SELECT ?s WHERE { ?s ?p ?o } ORDER BY STR(?s)") is None
    order = split_order("SELECT ?s WHERE { ?s ?p ?o }\n# a comment\nORDER BY DESC(?s) ?p")
    assert order is not None
    assert order.keys == (("s", True), ("p", False))


# Rewritten questions with parameters, with more values than the samples: optional parameters left out, narrow
# ranges, other days and places (the rows must be the old text's for each).
MORE_PARAMS: dict[str, list[dict[str, str]]] = {
    "measures-in-force-on-day": [
        {"day": day, "place": place, **extra}
        for day in ("2020-02-10", "2021-06-01", "2022-11-20")
        for place in ("place:shapingba", "place:chongqing")
        for extra in ({}, {"include_unknown": "true"}, {"include_unknown": "no"})
    ],
    "changes-between": [
        {"from": start, "to": end, **extra}
        for start, end in (("2020-01-01", "2022-12-31"), ("2022-11-01", "2022-12-31"), ("2021-01-01", "2021-01-01"))
        for extra in ({}, {"place": "place:shapingba"})
    ],
    "district-measures-compared": [
        {"first": first, "second": second}
        for first, second in (
            ("place:dadukou", "place:qijiang"),
            ("place:shapingba", "place:shapingba"),
            ("place:chongqing", "place:yuzhong"),
            ("place:central-urban-districts", "place:beibei"),
        )
    ],
    "measures-announced-between": [
        {"from": start, "to": end}
        for start, end in (("2020-01-01", "2022-12-31"), ("2022-11-01", "2022-12-31"), ("2022-12-31", "2020-01-01"))
    ],
}


@pytest.mark.parametrize("name", sorted(MORE_PARAMS))
@pytest.mark.parametrize("kb", ["shipped", "synthetic"])
def test_rewritten_questions_give_the_old_rows_for_many_values(
    name: str, kb: str, request: pytest.FixtureRequest
) -> None:
    store = request.getfixturevalue(kb)
    old_text = (REFERENCE / f"{name}.rq").read_text("utf-8")
    found = 0
    for params in MORE_PARAMS[name]:
        old = _answer(store, old_text, params)
        new = _answer(store, QUERIES[name].text, params)
        assert new[0] == old[0]
        _same_rows(old_text, old[0], old[1], new[1])
        found += len(new[1])
    assert found, f"{name}: no value gave a row; nothing was compared"


def test_a_dollar_parameter_is_put_in_as_its_value() -> None:
    text = 'SELECT ?x WHERE { { SELECT ?x WHERE { ?x <urn:p> ?d FILTER(?d >= $day && ?d != "$day") } } }'
    bound = bind_params(text, {"day": parse_term("2022-11-20")})
    assert '?d >= "2022-11-20"^^<http://www.w3.org/2001/XMLSchema#date>' in bound
    assert '"$day"' in bound  # not inside a string
    assert "$day" in bind_params(text, {"other": parse_term("1")}).replace('"$day"', "")  # unbound: a variable
    store = ox.Store()
    for day in ("2022-11-19", "2022-11-20", "2022-11-21"):
        store.add(ox.Quad(ox.NamedNode(f"urn:{day}"), ox.NamedNode("urn:p"), parse_term(day)))
    rows = run_query(store, text, {"day": "2022-11-20"}).rows
    assert sorted(str(row[0]) for row in rows) == ["<urn:2022-11-20>", "<urn:2022-11-21>"]


IN_MEMORY: dict[str, tuple[str, Values]] = {
    "texts with a language": ("?v ?s", {"a": ox.Literal("x", language="en"), "b": ox.Literal("w", language="zh")}),
    "a text and a date": ("DESC(?v) ?s", {"a": ox.Literal("x"), "b": _typed("2022-01-01", "date"), "c": None}),
    "a date with a time zone": ("?v ?s", {"a": _typed("2022-01-01Z", "date"), "b": _typed("2022-01-02", "date")}),
    "numbers of two kinds": ("?v", {"a": _typed("2", "integer"), "b": _typed("1.5", "double")}),
}
NOT_IN_MEMORY: dict[str, tuple[str, Values]] = {
    "a tie between different rows": ("?v", {"a": ox.Literal("x"), "b": ox.Literal("x")}),
    "a tie of one text in two languages": ("?v", {"a": ox.Literal("x", language="en"), "b": ox.Literal("x")}),
    "a tie of one number of two kinds": ("?v", {"a": _typed("1", "integer"), "b": _typed("1.0", "decimal")}),
    "a blank node": ("?v ?s", {"a": ox.BlankNode("b1"), "b": ox.Literal("y")}),
}


@pytest.mark.parametrize("case", sorted(IN_MEMORY))
def test_what_python_cannot_order_oxigraph_orders_in_memory_as_the_store(case: str) -> None:
    store, text, keys, unsorted = _unsorted(*IN_MEMORY[case])
    assert sort_rows(unsorted.variables, unsorted.rows, keys) is None
    in_memory = sort_rows_in_memory(unsorted.variables, unsorted.rows, keys)
    assert in_memory is not None
    assert [[None if t is None else str(t) for t in row] for row in in_memory] == _store_sorted(store, text, {})


@pytest.mark.parametrize("case", sorted(NOT_IN_MEMORY))
def test_an_order_uncertain_in_memory_too_is_left_to_the_store(case: str) -> None:
    _, _, keys, unsorted = _unsorted(*NOT_IN_MEMORY[case])
    assert sort_rows_in_memory(unsorted.variables, unsorted.rows, keys) is None


@pytest.mark.parametrize("count", [0, 1])
def test_a_result_of_at_most_one_row_is_not_sorted_again_on_the_store(count: int) -> None:
    """Ordered by a variable it does not project: neither sort can tell the order of two rows, but none or one row
    needs no order, so the query is not run a second time with its ORDER BY."""
    store = _planted({name: ox.Literal(name) for name in "ab"[:count]})
    text = "SELECT ?s WHERE { ?s <urn:a> <urn:Thing> OPTIONAL { ?s <urn:v> ?v } } ORDER BY ?v"
    fast = fast_answer(store, text)
    assert fast is not None and len(fast.rows) == count
    two = _planted({"a": ox.Literal("a"), "b": ox.Literal("b")})
    assert fast_answer(two, text) is None  # two rows: the store orders them


PLANTED_LINKS = """
@prefix cq: <{cq}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix ex: <urn:ex:> .
ex:m1 a cq:Measure ; cq:implements ex:doc, ex:both, ex:untyped, ex:other ; rdfs:label "one"@en ;
    cq:appliesTo ex:p1, ex:p2 .
ex:m2 a cq:Measure ; cq:implements ex:m1 .
ex:note cq:implements ex:doc .
ex:doc a cq:PolicyDocument .
ex:both a cq:PolicyDocument, cq:Measure .
ex:other a cq:Announcement .
"""


def test_local_implementations_gives_the_old_rows_on_planted_links() -> None:
    """The synthetic KB has no implements links: planted ones of every kind (to a document, to a measure, to a thing
    of both types, to an untyped or other-typed thing, from a thing that is not a measure; several places)."""
    store = ox.Store()
    store.load(PLANTED_LINKS.replace("{cq}", PREFIXES["cq"]).encode(), format=ox.RdfFormat.TURTLE)
    old_text = (REFERENCE / "local-implementations.rq").read_text("utf-8")
    old = _answer(store, old_text, {})
    new = _answer(store, QUERIES["local-implementations"].text, {})
    assert new[0] == old[0]
    assert len(new[1]) == len(old[1]) == 7, old[1]  # m1: doc and both (two types) in two places; m2: m1
    _same_rows(old_text, old[0], old[1], new[1])
