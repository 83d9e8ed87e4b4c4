"""Regression tests for the standards fixes of issue 17 that need no Java (the harness proves them against the
reference engines: tests/test_conformance.py): deterministic queries, OWL 2 DL declarations, distinct
strengths and date kinds, the alignments, and OWL 2 RL reasoning with owlrl where it is installed.
"""

from __future__ import annotations

import re
from collections import Counter

import pyoxigraph as ox
import pytest

from kb.loader import load_file
from kb.namespaces import PREFIXES, shorten
from kb.project import Project
from kb.query import catalogue, run_query, select
from kb.store import open_store

QUERIES = catalogue()


def _params(name: str) -> dict[str, str]:
    """The harness's example values (the one choice of parameters for both engines: conformance/sparql.py)."""
    from conformance.sparql import parameters

    return parameters(QUERIES[name])


@pytest.fixture(scope="module")
def store(project: Project) -> ox.Store:
    return open_store(project)


def _order_keys(text: str) -> list[str] | None:
    """The variables of the outermost ORDER BY, or None where a key is an expression (not checked here)."""
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    match = re.search(r"\bORDER\s+BY\b(.*?)(?:\bLIMIT\b|\bOFFSET\b|$)", code, re.IGNORECASE | re.DOTALL)
    if match is None or code[: match.start()].count("{") != code[: match.start()].count("}"):
        return None
    keys = []
    for token in re.findall(r"(?:ASC|DESC)\s*\(\s*\?(\w+)\s*\)|\?(\w+)|(\S+)", match.group(1), re.IGNORECASE):
        if token[2]:
            return None
        keys.append(token[0] or token[1])
    return keys


ORDERED = sorted(name for name, query in QUERIES.items() if _order_keys(query.text))


def test_the_tie_check_sees_the_queries_it_must() -> None:
    assert {"change-links", "measure-parameters", "measures-no-end-stated", "relaxations"} <= set(ORDERED)


@pytest.mark.parametrize("name", ORDERED)
def test_order_by_leaves_no_tie(name: str, store: ox.Store) -> None:
    """Two rows equal on every ORDER BY key but different elsewhere come in an order of the engine's choosing
    (SPARQL 1.1 §15.1): every ordered query breaks its ties on the shipped knowledge base."""
    keys = _order_keys(QUERIES[name].text)
    assert keys is not None
    result = run_query(store, QUERIES[name].text, _params(name))
    if result.kind != "select":
        return
    position = {v: i for i, v in enumerate(result.variables)}
    rows_by_key: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    for row in result.rows:
        key = tuple(str(row[position[k]]) for k in keys if k in position)
        rows_by_key.setdefault(key, set()).add(tuple(map(str, row)))
    ties = {key: rows for key, rows in rows_by_key.items() if len(rows) > 1}
    assert not ties, f"{len(ties)} ties, e.g. {next(iter(ties.items()))}"


SAMPLED = sorted(name for name, query in QUERIES.items() if "SAMPLE(" in query.text.upper().replace(" ", ""))


def test_the_sample_check_sees_timeline_measures() -> None:
    assert "timeline-measures" in SAMPLED


@pytest.mark.parametrize("name", SAMPLED)
def test_aggregates_pick_the_same_value_on_every_engine(name: str, store: ox.Store) -> None:
    """SAMPLE may return any value of its group (§18.5.1): where a query samples, the groups of the shipped
    knowledge base have one value each (MIN and MAX agree), so any engine gives the same answer (timeline-measures
    sampled one of a measure's two announcements before)."""
    text = QUERIES[name].text
    low = run_query(store, re.sub(r"\bSAMPLE\s*\(", "MIN(", text, flags=re.IGNORECASE), _params(name))
    high = run_query(store, re.sub(r"\bSAMPLE\s*\(", "MAX(", text, flags=re.IGNORECASE), _params(name))
    assert Counter(map(tuple, map(lambda r: map(str, r), low.rows))) == Counter(
        map(tuple, map(lambda r: map(str, r), high.rows))
    )


def test_timeline_places_has_no_duplicate_rows_when_a_triple_is_in_two_graphs(store: ox.Store) -> None:
    """pyoxigraph's union default graph repeats a triple held by two graphs (an RDF graph is a set: SPARQL 1.1
    §13); an inference graph beside the facts repeats the types and containment links, so the feed is DISTINCT."""
    copy = ox.Store()
    copy.extend(store.quads_for_pattern(None, None, None, None))
    within = ox.NamedNode(PREFIXES["cq"] + "within")
    rdf_type = ox.NamedNode(PREFIXES["rdf"] + "type")
    again = ox.NamedNode("https://w3id.org/cq-covid/graph/derived/inferences")
    for quad in list(copy.quads_for_pattern(None, within, None, None)) + list(
        copy.quads_for_pattern(None, rdf_type, ox.NamedNode(PREFIXES["cq"] + "District"), None)
    ):
        copy.add(ox.Quad(quad.subject, quad.predicate, quad.object, again))
    rows = [tuple(map(str, row)) for row in run_query(copy, QUERIES["timeline-places"].text).rows]
    assert rows and len(rows) == len(set(rows))


# ---------------------------------------------------------------- the ontology

# the reserved vocabulary; XML Schema's datatypes but xsd:date are in the OWL 2 datatype map (Structural
# Specification §4), xsd:date is not and must be declared
BUILT_IN = tuple(PREFIXES[p] for p in ("rdf", "rdfs", "owl"))
XSD_DATE = PREFIXES["xsd"] + "date"
OWN = tuple(PREFIXES[p] for p in ("cq", "cat", "tg", "qk", "stat")) + (
    "https://w3id.org/cq-covid/def/",
    "https://w3id.org/cq-covid/def",
)


def _ontology(project: Project) -> list[ox.Triple]:
    return [t for path in project.ontology_files() for t in load_file(path).triples]


def test_every_external_term_the_ontology_uses_is_declared(project: Project) -> None:
    """OWL 2 DL needs a declaration of every entity (Structural Specification §5.8); an undeclared term is also
    guessed two ways by a parser, which is illegal punning. Terms in axioms and as types must be declared."""
    triples = _ontology(project)
    declared = {
        t.subject.value
        for t in triples
        if t.predicate.value == PREFIXES["rdf"] + "type" and isinstance(t.subject, ox.NamedNode)
    }
    axiom = {PREFIXES["rdfs"] + n for n in ("subClassOf", "subPropertyOf", "domain", "range")} | {
        PREFIXES["owl"] + "inverseOf"
    }
    used = set()
    for t in triples:
        if t.predicate.value in axiom | {PREFIXES["rdf"] + "type"} and isinstance(t.object, ox.NamedNode):
            used.add(t.object.value)
        if not t.predicate.value.startswith(BUILT_IN) and not t.predicate.value.startswith(OWN):
            used.add(t.predicate.value)
    outside = [i for i in used if not i.startswith(BUILT_IN + OWN + (PREFIXES["xsd"],)) or i == XSD_DATE]
    undeclared = sorted(shorten(i) for i in outside if i not in declared)
    assert undeclared == [], "declare them in ontology/external.ttl"


def test_external_declarations_import_no_axiom(project: Project) -> None:
    """ontology/external.ttl only declares: no domain, range or hierarchy of other vocabularies comes in."""
    triples = load_file(project.ontology_dir / "external.ttl").triples
    assert {t.predicate.value for t in triples} == {PREFIXES["rdf"] + "type"}


@pytest.mark.parametrize(("scheme", "kind"), [("Strengths", "Strength"), ("DateKinds", "DateKind")])
def test_the_concepts_of_a_functional_scheme_are_all_different(project: Project, scheme: str, kind: str) -> None:
    """cq:strength and the date-kind properties are functional: without owl:AllDifferent a measure given two
    strengths makes an OWL reasoner conclude cq:Mandatory owl:sameAs cq:Advisory instead of an inconsistency."""
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in _ontology(project))
    members = {
        r["c"].value
        for r in select(
            store.query(f"SELECT ?c WHERE {{ ?c a cq:{kind} ; skos:inScheme cq:{scheme} }}", prefixes=PREFIXES)
        )
    }
    groups: dict[str, set[str]] = {}
    query = "SELECT ?x ?m WHERE { ?x a owl:AllDifferent ; owl:members/rdf:rest*/rdf:first ?m }"
    for row in select(store.query(query, prefixes=PREFIXES)):
        groups.setdefault(str(row["x"]), set()).add(row["m"].value)
    assert len(members) >= 5
    assert members in groups.values()


def test_no_alignment_types_things_as_what_they_are_not(project: Project) -> None:
    """cq:PolicyDocument is not an eli:LegalResource (the sources cite instructions and a congress's spirit as
    documents), cq:Observation not a qb:Observation (no qb:dataSet): neither, directly or through a superclass."""
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in _ontology(project))
    for unwanted in (
        "http://data.europa.eu/eli/ontology#LegalResource",
        "http://purl.org/linked-data/cube#Observation",
    ):
        rows = list(select(store.query(f"SELECT ?c WHERE {{ ?c rdfs:subClassOf+ <{unwanted}> }}", prefixes=PREFIXES)))
        assert rows == [], unwanted


# ---------------------------------------------------------------- OWL 2 RL (owlrl, where installed)


def test_two_strengths_are_an_rl_inconsistency_because_the_strengths_are_all_different(project: Project) -> None:
    pytest.importorskip("owlrl", reason="owlrl (pip install owlrl, or make conformance-tools) is not installed")
    from conformance import owl
    from conformance.faults import TWO_STRENGTHS
    from conformance.shacl import fault_triples

    fault = _ontology(project) + fault_triples(TWO_STRENGTHS)
    assert owl.inconsistencies(owl.rl_closure(fault))
    old = owl.rl_closure(owl.without_all_different(fault))
    assert owl.inconsistencies(old) == []
    import rdflib

    mandatory, advisory = (rdflib.URIRef(PREFIXES["cq"] + n) for n in ("Mandatory", "Advisory"))
    assert (mandatory, rdflib.OWL.sameAs, advisory) in old


def test_rl_reasoning_types_no_document_as_a_legal_resource(project: Project) -> None:
    pytest.importorskip("owlrl", reason="owlrl (pip install owlrl, or make conformance-tools) is not installed")
    from conformance import owl

    documents = [t for t in load_file(project.facts_dir / "documents.ttl").triples]
    documents += [t for t in load_file(project.facts_dir / "article-003.ttl").triples if "document" in str(t.subject)]
    triples = _ontology(project) + documents
    unwanted = owl.unwanted_types(triples, owl.rl_closure(triples))
    assert [u for u in unwanted if u.startswith("doc:") or "LegalResource" in u] == []
