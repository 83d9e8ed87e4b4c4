"""Every named query gives the same rows on pyoxigraph (the fast engine) and on rdflib (the reference).

Run over the shared facts (mini project) plus a small synthetic knowledge base from bench/synth.py,
so real data shapes are covered: dates with kinds, parameters, change links, statistics.
Rows are compared as multisets of terms, and in order where the query has ORDER BY.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import cast

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.query import ResultRow
from rdflib.term import Node
from samples import canonical_term, query_bindings

from bench.synth import generate
from kb.namespaces import PREFIXES
from kb.project import Project
from kb.query import bind_params, catalogue, parse_term, run_query
from kb.store import load_project

# Known engine differences, each a reason: the test fails (strict xfail) once it is fixed.
RDFLIB_QUIRKS = {
    "ill-typed-literal-violation": "rdflib's SPARQL cannot cast to xsd:date (xsd:date(STR(?v)) is unbound), "
    "so it reports every valid date as ill-typed; pyoxigraph follows the spec",
    "export-coronanet": "rdflib raises NotBoundError for GROUP_CONCAT over an unbound ?change (no change link), "
    "where the spec leaves the cell empty (pyoxigraph does)",
    "measure-dates": "rdflib drops the VALUES row ('in force until') whose first OPTIONAL finds no value although "
    "the second binds its kind (SPARQL 1.1 §18.5 LeftJoin keeps it); pyoxigraph and Jena ARQ keep it (make "
    "conformance compares the two on the shipped KB)",
}
# The named queries and the export's own feeds (kb/queries/export/, here named export-<file>).
# every query of the project: questions, checks, summaries, and the feeds of the timeline and the exports
QUERIES = catalogue()


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> tuple[ox.Store, rdflib.Graph, rdflib.Dataset]:
    """The same synthetic knowledge base in a pyoxigraph store and in an rdflib dataset."""
    root = generate(tmp_path_factory.mktemp("parity") / "kb", measures=60, per_file=30)
    dataset = load_project(Project(root))
    store = dataset.to_store()
    # Queries without a GRAPH clause run on one rdflib graph of every file's triples (the union of
    # the graphs; rdflib's union Dataset gives the same answers many times slower); the others on the Dataset.
    graph = rdflib.Graph().parse(data=dataset.to_ntriples(), format="nt")
    graphs = rdflib.Dataset(default_union=True)
    for parsed in dataset.files:
        graphs.graph(rdflib.URIRef(parsed.graph)).parse(data=parsed.text, format="turtle")
    return store, graph, graphs


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(reason=RDFLIB_QUIRKS[name], strict=True))
        if name in RDFLIB_QUIRKS
        else name
        for name in sorted(QUERIES)
    ],
)
def test_named_query_same_on_both_engines(name: str, engines: tuple[ox.Store, rdflib.Graph, rdflib.Dataset]) -> None:
    store, union, dataset = engines
    query = QUERIES[name]
    params = query_bindings(query)
    fast = run_query(store, query.text, params)
    text = bind_params(query.text, {k: parse_term(v) for k, v in params.items()}) if params else query.text
    graphs = dataset if re.search(r"\bGRAPH\b", text) else union
    reference = graphs.query(text, initNs=PREFIXES)
    if fast.kind == "ask":
        assert fast.boolean == reference.askAnswer
        return
    if fast.kind == "graph":
        expected = rdflib.Graph()
        for triple in reference:  # a CONSTRUCT's result iterates over triples
            expected.add(cast(tuple[Node, Node, Node], triple))
        got = rdflib.Graph().parse(
            data=(ox.serialize(fast.triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode(), format="nt"
        )
        assert rdflib.compare.isomorphic(got, expected)
        return
    variables = reference.vars
    assert variables is not None
    assert fast.variables == [str(v) for v in variables]
    fast_rows = [tuple(canonical_term(t) for t in row) for row in fast.rows]
    ref_rows = [tuple(canonical_term(row[v]) for v in variables) for row in cast(Iterable[ResultRow], reference)]
    if re.search(r"\bORDER\s+BY\b", query.text, re.IGNORECASE):
        assert fast_rows == ref_rows
    else:
        assert Counter(fast_rows) == Counter(ref_rows)


def test_parity_covers_real_shapes(engines: tuple[ox.Store, rdflib.Graph, rdflib.Dataset]) -> None:
    """The data the parity runs over has measures, parameters, change links and statistics."""
    store = engines[0]
    counts = run_query(
        store,
        "SELECT (COUNT(DISTINCT ?m) AS ?ms) (COUNT(DISTINCT ?p) AS ?ps) (COUNT(DISTINCT ?c) AS ?cs)"
        " (COUNT(DISTINCT ?o) AS ?os)"
        " WHERE { { ?m a cq:Measure } UNION { ?x cq:parameter ?p } UNION { ?c cq:relaxes|cq:tightens|cq:replaces ?y }"
        " UNION { ?o a cq:Observation } }",
    ).records()[0]
    assert int(str(counts["ms"])) == 60
    assert all(int(str(value)) > 0 for value in counts.values()), counts


def test_rdflib_date_quirk_is_guarded(tmp_path: Path) -> None:
    """rdflib says xsd:date < "a string" is true (a type error by the spec); pyoxigraph does not.

    A regression guard: named queries must compare dates with dates only (see DESIGN.md, Engines).
    """
    data = '<http://a> <http://p> "2022-11-10"^^<http://www.w3.org/2001/XMLSchema#date> .\n'
    query = 'ASK { ?s ?p ?d FILTER(?d < "not a date") }'
    store = ox.Store()
    store.load(data.encode(), format=ox.RdfFormat.N_TRIPLES)
    assert bool(store.query(query)) is False
    graph = rdflib.Graph().parse(data=data, format="nt")
    quirk = graph.query(query).askAnswer
    if quirk:
        for named in QUERIES.values():
            assert not re.search(r'\?\w+\s*[<>]=?\s*"', named.text), f"{named.name} compares a value with a string"
