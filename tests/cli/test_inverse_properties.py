"""Fact files use the forward properties only: a link stated with an inverse (cq:contains, cq:endedBy …) is
invisible to the queries, which follow cq:within, cq:ends … (kb/queries/checks/inverse-property-violation.rq)."""

from __future__ import annotations

import pyoxigraph as ox
from samples import PREFIXES

from kb.project import Project
from kb.query import run_query
from kb.store import open_store
from kb.validate import validate_files

# line 18 holds the inverse statement (the prefixes take lines 1-13, the subject is on line 15)
AREA = (
    PREFIXES
    + """
place:test-two-districts
    a cq:Area ;
    rdfs:label "两区"@zh, "two districts"@en ;
    cq:contains place:shapingba, place:jiulongpo ;
    cq:within place:central-urban-districts .
"""
)


def test_an_inverse_property_in_a_fact_file_is_a_violation_at_its_line(mini_project: Project) -> None:
    path = mini_project.facts_dir / "area.ttl"
    path.write_text(AREA, encoding="utf-8")
    found = [f for f in validate_files(mini_project, [path]).findings if f.check == "inverse-property-violation"]
    assert [(f.file, f.line, f.severity, f.subject, f.property) for f in found] == [
        ("facts/area.ttl", 18, "violation", "place:test-two-districts", "cq:contains")
    ] * 2
    assert {f.message for f in found} == {
        "cq:contains is the inverse of cq:within: write jiulongpo cq:within test-two-districts instead",
        "cq:contains is the inverse of cq:within: write shapingba cq:within test-two-districts instead",
    }
    assert found[0].message_zh and "cq:within" in found[0].hint


def test_the_forward_link_passes(mini_project: Project) -> None:
    path = mini_project.facts_dir / "area.ttl"
    path.write_text(AREA.replace("    cq:contains place:shapingba, place:jiulongpo ;\n", ""), encoding="utf-8")
    assert [f for f in validate_files(mini_project, [path]).findings if f.check == "inverse-property-violation"] == []


def test_the_four_district_group_of_article_001_contains_its_districts(project: Project) -> None:
    """Its links were cq:contains, which place-hierarchy does not follow: the group showed no district."""
    from kb.query import get_named_query

    store: ox.Store = open_store(project)
    rows = run_query(
        store,
        get_named_query("place-hierarchy").text,
        {"place": "place:jiulongpo-yuzhong-jiangbei-yubei"},
    ).records()
    contained = {str(r["other"]).rsplit("/", 1)[1] for r in rows if r["relation"] == "contains"}
    assert {"jiangbei", "jiulongpo", "yubei", "yuzhong"} <= contained


def test_the_check_knows_every_inverse_the_ontology_declares(project: Project) -> None:
    import re

    from kb.loader import load_file
    from kb.namespaces import PREFIXES, shorten
    from kb.query import QUERY_DIR

    declared = {
        (shorten(str(t.subject.value)), shorten(str(t.object.value)))  # type: ignore[union-attr]
        for path in project.ontology_files()
        for t in load_file(path).triples
        if t.predicate.value == PREFIXES["owl"] + "inverseOf"
    }
    text = (QUERY_DIR / "checks" / "inverse-property-violation.rq").read_text("utf-8")
    assert set(re.findall(r"\((cq:\w+) (cq:\w+)\)", text)) == declared
