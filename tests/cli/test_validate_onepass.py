"""The *-violation checks computed in one pass (kb/validate/onepass.py) give the rows of their query, which stays
the reference: on planted faults and on the shipped knowledge base."""

from __future__ import annotations

import pyoxigraph as ox
from samples import PREFIXES

from kb import store as kb_store
from kb.loader import Dataset, parse_turtle
from kb.project import Project
from kb.query import run_query
from kb.validate.checks import CHECKS_DIR
from kb.validate.onepass import ROWS

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
    result = run_query(store, (CHECKS_DIR / f"{name}.rq").read_text("utf-8"))
    return _rows([dict(zip(result.variables, row, strict=True)) for row in result.rows])


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
