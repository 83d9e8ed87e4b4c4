"""Data-integrity tests over the real knowledge base: each loops over every record and names file and subject."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

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


def test_every_measure_has_both_labels_category_place_source_and_quote(store: ox.Store) -> None:
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
    assert run_query(store, query).records() == []


def test_every_statistic_and_document_has_source_and_quote(store: ox.Store) -> None:
    query = """
    SELECT ?s WHERE {
      ?s a ?k . VALUES ?k { cq:Observation cq:PolicyDocument cq:Discrepancy }
      FILTER(!EXISTS { ?s cq:source ?x } || !EXISTS { ?s cq:quote ?q })
    }"""
    assert run_query(store, query).records() == []


def test_every_announcement_has_a_date_and_evidence(store: ox.Store) -> None:
    query = """
    SELECT ?a WHERE {
      ?a a/rdfs:subClassOf* cq:Announcement .
      FILTER(!EXISTS { ?a cq:date ?d } || !EXISTS { ?a cq:source ?s } || !EXISTS { ?a cq:quote ?q })
    }"""
    assert run_query(store, query).records() == []


def test_dates_are_never_invented(store: ox.Store) -> None:
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
    assert run_query(store, query).records() == []


def test_reference_places_are_kept_apart_and_say_where_they_come_from(store: ox.Store) -> None:
    query = """
    SELECT ?place WHERE {
      GRAPH <https://w3id.org/cq-covid/graph/facts/reference/places> { ?place a ?type }
      FILTER NOT EXISTS { ?place cq:basis ?basis }
    }"""
    assert run_query(store, query).records() == []


def test_every_article_has_a_source_file(project: Project, store: ox.Store) -> None:
    """Each registered source has its text, and each text in facts/sources/ is registered (however many)."""
    rows = run_query(store, "SELECT ?file WHERE { ?s a cq:Source ; cq:fileName ?file }").records()
    registered = sorted(str(row["file"]) for row in rows)
    texts = sorted(path.name for path in project.sources_dir.glob("*.txt"))
    assert registered and registered == texts
