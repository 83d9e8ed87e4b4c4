"""The ontology: every term labelled and explained in both languages, every term used in facts declared."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kb.loader import load_file
from kb.namespaces import PREFIXES, RDF_TYPE, STANDARD_NAMESPACES, shorten
from kb.project import Project
from kb.query import select

LOCAL = tuple(PREFIXES[p] for p in ("cq", "cat", "tg", "qk", "stat"))
DECLARING_TYPES = {
    PREFIXES["owl"] + "Class",
    PREFIXES["owl"] + "ObjectProperty",
    PREFIXES["owl"] + "DatatypeProperty",
    PREFIXES["owl"] + "Ontology",
    PREFIXES["skos"] + "ConceptScheme",
    PREFIXES["skos"] + "Concept",
}


def _store(paths: list[Path]) -> ox.Store:
    """The triples of the files in the default graph of an in-memory store."""
    store = ox.Store()
    for path in paths:
        store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in load_file(path).triples)
    return store


def _select(store: ox.Store, query: str) -> ox.QuerySolutions:
    return select(store.query(query, prefixes=PREFIXES))


@pytest.fixture(scope="module")
def ontology(project: Project) -> ox.Store:
    return _store(project.ontology_files())


def _declared(store: ox.Store) -> set[str]:
    types = " ".join(f"<{t}>" for t in DECLARING_TYPES)
    query = f"SELECT DISTINCT ?t WHERE {{ ?t a ?k . ?k rdfs:subClassOf* ?d . VALUES ?d {{ {types} }} }}"
    return {row["t"].value for row in _select(store, query)}


def test_every_class_and_property_has_labels_and_comments_in_both_languages(ontology: ox.Store) -> None:
    query = """
    SELECT ?term ?lang WHERE {
      ?term a ?kind . VALUES ?kind { owl:Class owl:ObjectProperty owl:DatatypeProperty }
      FILTER(STRSTARTS(STR(?term), STR(cq:)))
      VALUES ?lang { "en" "zh" }
      FILTER NOT EXISTS { ?term rdfs:label ?l . FILTER(LANG(?l) = ?lang) }
    }"""
    missing_label = [f"{shorten(r['term'].value)} @{r['lang'].value}" for r in _select(ontology, query)]
    assert missing_label == []
    missing_comment = [
        f"{shorten(r['term'].value)} @{r['lang'].value}"
        for r in _select(ontology, query.replace("rdfs:label", "rdfs:comment"))
    ]
    assert missing_comment == []


def test_every_concept_has_labels_in_both_languages_and_a_scheme(ontology: ox.Store) -> None:
    query = """
    SELECT ?concept WHERE {
      ?concept a/rdfs:subClassOf* skos:Concept .
      FILTER(!EXISTS { ?concept skos:inScheme ?s }
          || !EXISTS { ?concept skos:prefLabel ?en FILTER(LANG(?en) = "en") }
          || !EXISTS { ?concept skos:prefLabel ?zh FILTER(LANG(?zh) = "zh") })
    }"""
    assert [shorten(r["concept"].value) for r in _select(ontology, query)] == []


def test_every_term_used_in_facts_is_declared_or_standard(project: Project, ontology: ox.Store) -> None:
    declared = _declared(ontology)
    undeclared = set()
    for path in project.fact_files():
        for triple in load_file(path).triples:
            used = [triple.predicate.value]
            is_type = triple.predicate.value == RDF_TYPE
            obj = triple.object
            if is_type or (isinstance(obj, ox.NamedNode) and obj.value.startswith(LOCAL)):
                used.append(str(obj) if isinstance(obj, ox.Triple) else obj.value)
            for iri in used:
                if iri in declared:
                    continue
                if iri.startswith(STANDARD_NAMESPACES) and not iri.startswith(LOCAL):
                    continue
                undeclared.add(f"{project.relative(path)}: {shorten(iri)}")
    assert sorted(undeclared) == []


def test_every_change_link_has_an_inverse(ontology: ox.Store) -> None:
    links = ["relaxes", "tightens", "replaces", "restates", "implements", "changes", "cites", "within"]
    for link in links:
        rows = list(_select(ontology, f"SELECT ?inv WHERE {{ ?inv owl:inverseOf cq:{link} }}"))
        assert rows, f"cq:{link} has no declared inverse"


def test_shapes_target_every_core_class(project: Project) -> None:
    shapes = _store([project.shapes_file])
    targets = {r["c"].value for r in _select(shapes, "SELECT ?c WHERE { ?s sh:targetClass ?c }")}
    core = [
        "Measure",
        "PolicyDocument",
        "Announcement",
        "Agent",
        "Place",
        "Observation",
        "Source",
        "Discrepancy",
        "Parameter",
    ]
    assert {PREFIXES["cq"] + c for c in core} <= targets


def test_ontology_parses_with_rdflib_as_owl(project: Project) -> None:
    import rdflib

    graph = rdflib.Graph()
    for path in project.ontology_files():
        graph.parse(path, format="turtle")
    ontologies = list(graph.subjects(rdflib.RDF.type, rdflib.OWL.Ontology))
    assert len(ontologies) == 1


def test_categories_strengths_and_date_kinds_are_defined_in_both_languages(ontology: ox.Store) -> None:
    query = """
    SELECT ?concept ?lang WHERE {
      ?concept skos:inScheme ?scheme . VALUES ?scheme { cq:MeasureCategories cq:Strengths cq:DateKinds }
      VALUES ?lang { "en" "zh" }
      FILTER NOT EXISTS { ?concept skos:definition ?d . FILTER(LANG(?d) = ?lang) }
    }"""
    missing = [f"{shorten(r['concept'].value)} @{r['lang'].value}" for r in _select(ontology, query)]
    assert missing == []
