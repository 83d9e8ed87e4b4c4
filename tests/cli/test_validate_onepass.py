"""The *-violation checks computed in one pass (kb/validate/onepass.py) give the rows of their query, which stays
the reference: on planted faults and on the shipped knowledge base."""

from __future__ import annotations

import pyoxigraph as ox
import samples
from samples import PREFIXES

from kb import store as kb_store
from kb.loader import Dataset, load_file, parse_turtle
from kb.namespaces import PREFIXES as NAMESPACES
from kb.project import Project
from kb.query import get_named_query, run_query
from kb.query.onepass import answered
from kb.validate.checks import CHECKS_DIR
from kb.validate.onepass import (
    ROWS,
    curated_graphs_only,
    duplicate_candidates,
    duplicate_conflict,
    ill_typed_from_objects,
)
from kb.validate.places import IndexedFiles
from kb.validate.prefilter import GraphObjects

# Siblings of one sentence: equal quotes, a quote inside another, the same quote in another source, a sibling
# announced at two events, one announced where its sibling is (no row), a measure announced nowhere.
_SIBLINGS = (
    PREFIXES
    + "@prefix ann: <https://w3id.org/cq-covid/id/announcement/> .\n"
    + """
measure:a a cq:Measure ; cq:source src:article-001 ; cq:quote "全市实行一天一检" ; cq:announcedAt ann:one .
measure:b a cq:Measure ; cq:source src:article-001 ; cq:quote "全市实行一天一检" .
measure:c a cq:Measure ; cq:source src:article-001 ; cq:quote "一天一检" ; cq:announcedAt ann:one, ann:two .
measure:d a cq:Measure ; cq:source src:article-002 ; cq:quote "全市实行一天一检" .
measure:e a cq:Measure ; cq:source src:article-001 ; cq:quote "实行一天一检" ; cq:announcedAt ann:one .
measure:f a cq:Measure ; cq:source src:article-001, src:article-002 ; cq:quote "另一句话", "全市实行一天" .
measure:g a cq:Document ; cq:source src:article-001 ; cq:quote "一天一检" ; cq:announcedAt ann:three .
"""
)


def _rows(rows: list[dict[str, object]]) -> list[tuple[str, ...]]:
    return sorted(tuple(str(row[name]) for name in ("subject", "property", "message")) for row in rows)


def _query_rows(store: ox.Store, name: str) -> list[tuple[str, ...]]:
    """The query's own rows, by the store's SPARQL (run_query would answer the catalogue's text in one pass)."""
    text = (CHECKS_DIR / f"{name}.rq").read_text("utf-8")
    solutions = store.query(text, prefixes=NAMESPACES, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    names = [v.value for v in solutions.variables]
    return _rows([dict(zip(names, solution, strict=True)) for solution in solutions])


def test_kb_query_answers_the_one_pass_checks_with_their_querys_rows() -> None:
    """`kb query` / `kb serve` take the one-pass rows for exactly the catalogue's text (kb/query/onepass.py)."""
    store = Dataset([parse_turtle(_SIBLINGS.encode(), "facts/siblings.ttl")]).to_store()
    for name in ROWS:
        query = get_named_query(name)
        assert answered(store, query.text) is not None  # the fast path is taken
        assert answered(store, query.text + " ") is None  # only for the catalogue's text
        result = run_query(store, query.text)
        rows = [dict(zip(result.variables, row, strict=True)) for row in result.rows]
        assert _rows(rows) == _query_rows(store, name)  # type: ignore[arg-type]
        assert [str(r["subject"]) for r in rows] == sorted(str(r["subject"]) for r in rows)  # ORDER BY ?subject


def test_one_pass_checks_give_their_querys_rows_on_planted_faults() -> None:
    store = Dataset([parse_turtle(_SIBLINGS.encode(), "facts/siblings.ttl")]).to_store()
    for name, rows in ROWS.items():
        expected = _query_rows(store, name)
        assert len(expected) >= 4, expected
        assert _rows(rows(store)) == expected  # type: ignore[arg-type]


def test_one_pass_checks_give_their_querys_rows_on_the_shipped_knowledge_base(project: Project) -> None:
    store = kb_store.open_store(project)
    for name, rows in ROWS.items():
        assert _rows(rows(store)) == _query_rows(store, name)  # type: ignore[arg-type]


# Conflicts between files: a different single value (a date, a term, a label in one language), a statement added
# to a thing another file types (a place, a blank node: the query's message is then unbound), the same value
# restated (no row), a label in another language (added, not a conflict), and a statement about a status span
# the build derives (the derived graph types it).
_OTHER_FILE = (
    PREFIXES
    + """
measure:test-measure cq:announced "2022-11-08"^^xsd:date ; cq:strength cq:Advisory ;
    rdfs:label "testing every day"@en, "dépistage"@fr ; cq:category cat:testing ;
    cq:parameter [ a cq:Parameter ; cq:value 3 ] .
<https://w3id.org/cq-covid/id/span/test-measure/1> rdfs:label "a span" .
"""
)


def test_duplicate_conflict_from_the_index_gives_the_querys_rows(mini_project: Project) -> None:
    (mini_project.facts_dir / "base.ttl").write_text(samples.MEASURE, encoding="utf-8")
    (mini_project.facts_dir / "other.ttl").write_text(_OTHER_FILE, encoding="utf-8")
    store = kb_store.open_store(mini_project)
    index = kb_store.read_index(mini_project)
    shared = IndexedFiles(store, [], index, lambda name: load_file(mini_project.root / name)).shared_subjects()
    rows = duplicate_conflict(store, duplicate_candidates(store, shared))
    result = run_query(store, (CHECKS_DIR / "duplicate-conflict-violation.rq").read_text("utf-8"))
    names = ("subject", "property", "message", "message_zh", "graph")
    records = [dict(zip(result.variables, row, strict=True)) for row in result.rows]
    expected = sorted(tuple(str(r[n]) if r.get(n) is not None else "" for n in names) for r in records)
    assert sorted(tuple(str(r[n]) if n in r else "" for n in names) for r in rows) == expected
    messages = [row[2] for row in expected]
    assert len(expected) >= 6, expected
    assert any("2022-11-09 there" in m for m in messages) and any("def#Mandatory there" in m for m in messages)
    assert any("adds label a span to a thing derived/periods.ttl" in m for m in messages), messages
    assert "" in messages  # the blank node's statement


_XSD_INT = "http://www.w3.org/2001/XMLSchema#integer"


def _all_rows(store: ox.Store, text: str) -> list[tuple[str, ...]]:
    result = run_query(store, text)
    return sorted(tuple(str(term) for term in row) for row in result.rows)


def test_ill_typed_literals_outside_the_derived_graph_are_all_of_them(mini_project: Project) -> None:
    bad = samples.MEASURE.replace('"2022-11-09"^^xsd:date', '"2022-13-45"^^xsd:date').replace(
        "cq:quote", 'cq:parameter [ a cq:Parameter ; cq:value "many"^^xsd:decimal ] ;\n    cq:quote'
    )
    (mini_project.facts_dir / "bad.ttl").write_text(bad, encoding="utf-8")
    store = kb_store.open_store(mini_project)
    text = (CHECKS_DIR / "ill-typed-literal-violation.rq").read_text("utf-8")
    restricted = curated_graphs_only(text, store)
    assert restricted != text and "derived/periods" not in restricted
    expected = _all_rows(store, text)
    assert len(expected) == 2, expected
    assert _all_rows(store, restricted) == expected
    # a triple in the default graph: every triple is read
    memory = ox.Store()
    memory.add(ox.Quad(ox.NamedNode("urn:x"), ox.NamedNode("urn:p"), ox.Literal("x", datatype=ox.NamedNode(_XSD_INT))))
    assert curated_graphs_only(text, memory) == text and len(_all_rows(memory, text)) == 1


def test_ill_typed_literals_found_from_the_distinct_objects_are_the_querys_rows(mini_project: Project) -> None:
    # an ill-typed literal of every datatype the query names, one used twice, beside valid ones of each
    bad = samples.MEASURE.replace('"2022-11-09"^^xsd:date', '"2022-13-45"^^xsd:date').replace(
        "cq:quote",
        'cq:parameter [ a cq:Parameter ; cq:value "many"^^xsd:decimal ; cq:count "2.5"^^xsd:integer ;'
        ' cq:rate "x1"^^xsd:double ; cq:flag "yes"^^xsd:boolean ; cq:at "2022-11-09T25:00:00"^^xsd:dateTime ;'
        ' cq:other "many"^^xsd:decimal, 3, 2.5, 1e3, true, "2022-11-09T10:00:00"^^xsd:dateTime ] ;\n    cq:quote',
    )
    (mini_project.facts_dir / "bad.ttl").write_text(bad, encoding="utf-8")
    store = kb_store.open_store(mini_project)
    text = (CHECKS_DIR / "ill-typed-literal-violation.rq").read_text("utf-8")
    expected = _all_rows(store, text)
    assert len(expected) == 7, expected
    narrowed = ill_typed_from_objects(text, store, GraphObjects(store).pairs)
    assert narrowed and _all_rows(store, narrowed) == expected
    # nothing ill-typed: no query at all; a lexical form that would need escaping: the query as it was
    good = [("urn:g", ox.Literal("3", datatype=ox.NamedNode(_XSD_INT)))]
    assert ill_typed_from_objects(text, store, good) == ""
    quoted = [("urn:g", ox.Literal('3"', datatype=ox.NamedNode(_XSD_INT)))]
    assert ill_typed_from_objects(text, store, quoted) is None
