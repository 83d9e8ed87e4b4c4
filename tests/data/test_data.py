"""Data-integrity tests over the real knowledge base: each loops over every record and names the file:line of each
failing subject (through the store's location index) with the subject."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from samples import MEASURE, add_fact, located

from kb.project import Project
from kb.query import run_query
from kb.store import open_store
from kb.validate import Report, validate_files


@pytest.fixture(scope="module")
def report(project: Project) -> Report:
    return validate_files(project)


@pytest.fixture(scope="module")
def store(project: Project) -> ox.Store:
    return open_store(project)


def test_knowledge_base_has_no_violations(report: Report) -> None:
    problems = [
        f"{f.file}:{f.line} {f.subject} {f.property} {f.message}" for f in report.findings if f.severity == "violation"
    ]
    assert problems == []


def test_every_quote_is_verbatim_in_its_source(report: Report) -> None:
    bad = [f"{f.file}:{f.line} {f.subject}: {f.message} ({f.hint})" for f in report.findings if f.check == "evidence"]
    assert bad == []


def test_every_measure_has_both_labels_category_place_source_and_quote(project: Project, store: ox.Store) -> None:
    query = """
    SELECT ?m ?missing WHERE {
      ?m a cq:Measure .
      VALUES ?missing { "label@zh" "label@en" "category" "place" "source" "quote" "strength" }
      FILTER(
        (?missing = "label@zh" && !EXISTS { ?m rdfs:label ?l FILTER(LANGMATCHES(LANG(?l), "zh")) }) ||
        (?missing = "label@en" && !EXISTS { ?m rdfs:label ?l FILTER(LANGMATCHES(LANG(?l), "en")) }) ||
        (?missing = "category" && !EXISTS { ?m cq:category ?x }) ||
        (?missing = "place" && !EXISTS { ?m cq:appliesTo ?x }) ||
        (?missing = "source" && !EXISTS { ?m cq:source ?x }) ||
        (?missing = "quote" && !EXISTS { ?m cq:quote ?x }) ||
        (?missing = "strength" && !EXISTS { ?m cq:strength ?x })
      )
    }"""
    assert located(project, run_query(store, query)) == []


def test_every_statistic_and_document_has_source_and_quote(project: Project, store: ox.Store) -> None:
    query = """
    SELECT ?s WHERE {
      ?s a ?k . VALUES ?k { cq:Observation cq:PolicyDocument cq:Discrepancy }
      FILTER(!EXISTS { ?s cq:source ?x } || !EXISTS { ?s cq:quote ?q })
    }"""
    assert located(project, run_query(store, query)) == []


def test_every_announcement_has_a_date_and_evidence(project: Project, store: ox.Store) -> None:
    query = """
    SELECT ?a WHERE {
      ?a a/rdfs:subClassOf* cq:Announcement .
      FILTER(!EXISTS { ?a cq:date ?d } || !EXISTS { ?a cq:source ?s } || !EXISTS { ?a cq:quote ?q })
    }"""
    assert located(project, run_query(store, query)) == []


def test_dates_are_never_invented(project: Project, store: ox.Store) -> None:
    """A date value always comes with a kind other than NotStated, and NotStated never has a value."""
    query = """
    SELECT ?m ?p WHERE {
      VALUES (?p ?k) {
        (cq:announced cq:announcedKind) (cq:inForceFrom cq:inForceFromKind) (cq:inForceUntil cq:inForceUntilKind)
      }
      ?m a cq:Measure .
      OPTIONAL { ?m ?k ?kind }
      FILTER(!BOUND(?kind)
             || (?kind = cq:NotStated && EXISTS { ?m ?p ?v })
             || (?kind != cq:NotStated && NOT EXISTS { ?m ?p ?v }))
    }"""
    assert located(project, run_query(store, query)) == []


def test_reference_places_are_kept_apart_and_say_where_they_come_from(project: Project, store: ox.Store) -> None:
    query = """
    SELECT ?place WHERE {
      GRAPH <https://w3id.org/cq-covid/graph/facts/reference/places> { ?place a ?type }
      FILTER NOT EXISTS { ?place cq:basis ?basis }
    }"""
    assert located(project, run_query(store, query)) == []


def test_every_article_has_a_source_file(project: Project, store: ox.Store) -> None:
    """Each registered source has its text, and each text in facts/sources/ is registered (however many)."""
    rows = run_query(store, "SELECT ?file WHERE { ?s a cq:Source ; cq:fileName ?file }").records()
    registered = sorted(str(row["file"]) for row in rows)
    texts = sorted(path.name for path in project.sources_dir.glob("*.txt"))
    assert registered and registered == texts


def test_a_failing_record_is_named_with_its_file_and_line(mini_project: Project) -> None:
    """The data tests' reports place a planted fault: a measure without a quote, at its file and line."""
    add_fact(
        mini_project,
        MEASURE.replace('    cq:quote "中心城区各区将实行一天一次的区域核酸检测" .', "    ."),
        "noquote.ttl",
    )
    store = open_store(mini_project)
    query = 'SELECT ?m ?missing WHERE { ?m a cq:Measure FILTER(!EXISTS { ?m cq:quote ?q }) BIND("quote" AS ?missing) }'
    lines = located(mini_project, run_query(store, query))
    assert len(lines) == 1 and lines[0].startswith("facts/noquote.ttl:") and "measure:test-measure | quote" in lines[0]
    assert int(lines[0].split(":")[1].split()[0]) > 1
